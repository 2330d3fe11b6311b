"""Side-by-side comparison of two texts, Chinese-aware. Pure: no Django imports.

Paragraphs (lines) are aligned first; within a changed paragraph the words are compared, Chinese
cut into words by jieba (rjieba), ASCII words and every punctuation mark kept as tokens; a
replaced word is refined to characters when the two spellings share most of them, so
"基层" → "农村基层" shows only "农村" as inserted. Nothing is lost: joining a side's segments
paragraph by paragraph gives back that side's text exactly. Deterministic.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

import rjieba

Op = Literal["equal", "delete", "insert", "replace"]

# Runs of Han characters go to jieba; ASCII words stay whole; whitespace runs are one token;
# anything else (punctuation, symbols, other scripts) is one token per character.
_TOKEN = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|[A-Za-z0-9_]+|[^\S\n]+|.",
    re.DOTALL,
)
# Two changed paragraphs are shown as one edited paragraph when at least this similar.
PARAGRAPH_CUTOFF = 0.4
# A replaced run of words is shown character by character when at least this similar.
CHARACTER_CUTOFF = 0.5
# Longer replaced runs (product of lengths) are not refined to characters: too slow, little use.
CHARACTER_LIMIT = 40_000
# Above this many candidate pairs, changed paragraphs are paired in order instead of by search.
PAIRING_LIMIT = 400


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


@dataclass(frozen=True)
class Row:
    """One aligned paragraph: `left` is None for an added paragraph, `right` for a removed one."""

    op: Op
    left: tuple[Segment, ...] | None
    right: tuple[Segment, ...] | None
    left_number: int | None = None
    right_number: int | None = None


@dataclass(frozen=True)
class Diff:
    rows: tuple[Row, ...]

    @property
    def changed(self) -> bool:
        return any(row.op != "equal" for row in self.rows)

    def side(self, which: Literal["left", "right"]) -> str:
        """The text of one side, rebuilt from the segments."""
        paragraphs = [getattr(row, which) for row in self.rows]
        return "\n".join("".join(s.text for s in p) for p in paragraphs if p is not None)


def tokenize(text: str) -> list[str]:
    """Words of a paragraph; "".join(tokenize(text)) == text."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        han = match.group("han")
        if han is None:
            tokens.append(match.group())
            continue
        words = rjieba.cut(han)
        tokens.extend(words if "".join(words) == han else list(han))
    return tokens


def paragraphs(text: str) -> list[str]:
    """Lines of a text; the empty text has none."""
    return text.split("\n") if text else []


def compare(a: str, b: str) -> Diff:
    """Align paragraphs of `a` and `b`, then compare the changed ones word by word."""
    left, right = paragraphs(a), paragraphs(b)
    words: dict[str, list[str]] = {}

    def tokens(text: str) -> list[str]:
        if text not in words:
            words[text] = tokenize(text)
        return words[text]

    rows: list[Row] = []
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                seg = _only("equal", left[i1 + k])
                rows.append(Row("equal", seg, seg, i1 + k + 1, j1 + k + 1))
            continue
        old_words = [tokens(p) for p in left[i1:i2]]
        new_words = [tokens(p) for p in right[j1:j2]]
        for i, j in _pair(old_words, new_words):
            if i is not None and j is not None:
                old, new = _diff_paragraph(old_words[i], new_words[j])
                op: Op = "equal" if old == new else "replace"
                rows.append(Row(op, old, new, i1 + i + 1, j1 + j + 1))
            elif i is not None:
                rows.append(Row("delete", _only("delete", left[i1 + i]), None, i1 + i + 1, None))
            elif j is not None:
                rows.append(Row("insert", None, _only("insert", right[j1 + j]), None, j1 + j + 1))
    return Diff(tuple(rows))


def as_json(diff: Diff) -> list[dict[str, Any]]:
    """Rows as plain data for the API: op, left/right segments (null for a missing side), numbers."""

    def side(segments: tuple[Segment, ...] | None) -> list[dict[str, str]] | None:
        return None if segments is None else [{"op": s.op, "text": s.text} for s in segments]

    return [
        {
            "op": row.op,
            "left": side(row.left),
            "right": side(row.right),
            "left_number": row.left_number,
            "right_number": row.right_number,
        }
        for row in diff.rows
    ]


def _only(op: Op, text: str) -> tuple[Segment, ...]:
    return (Segment(op, text),) if text else ()


def _pair(
    old: Sequence[list[str]], new: Sequence[list[str]]
) -> list[tuple[int | None, int | None]]:
    """Order-preserving pairing of changed paragraphs (as words) that maximizes total similarity;
    paragraphs without a similar partner are removed or added. Both sides stay in order."""
    n, m = len(old), len(new)
    if n * m > PAIRING_LIMIT:
        paired = [(k, k) for k in range(min(n, m))]
    else:
        score = [[0.0] * m for _ in range(n)]
        matcher: SequenceMatcher[str] = SequenceMatcher(None, autojunk=False)
        for j in range(m):
            matcher.set_seq2(new[j])  # the expensive index is built once per new paragraph
            for i in range(n):
                matcher.set_seq1(old[i])
                if matcher.real_quick_ratio() < PARAGRAPH_CUTOFF:
                    continue
                if matcher.quick_ratio() < PARAGRAPH_CUTOFF:
                    continue
                score[i][j] = matcher.ratio()
        # best[i][j]: best total similarity pairing old[i:] with new[j:].
        best = [[0.0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                take = score[i][j] + best[i + 1][j + 1] if score[i][j] >= PARAGRAPH_CUTOFF else -1
                best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
        paired = []
        i = j = 0
        while i < n and j < m:
            take = score[i][j] + best[i + 1][j + 1] if score[i][j] >= PARAGRAPH_CUTOFF else -1
            if take >= best[i][j] and take >= 0:
                paired.append((i, j))
                i, j = i + 1, j + 1
            elif best[i + 1][j] >= best[i][j + 1]:
                i += 1
            else:
                j += 1
    out: list[tuple[int | None, int | None]] = []
    i = j = 0
    for pi, pj in [*paired, (n, m)]:
        # Unrelated paragraphs in the same gap still face each other, as a rewrite.
        gap = min(pi - i, pj - j)
        out.extend((i + k, j + k) for k in range(gap))
        out.extend((k, None) for k in range(i + gap, pi))
        out.extend((None, k) for k in range(j + gap, pj))
        if pi < n and pj < m:
            out.append((pi, pj))
        i, j = pi + 1, pj + 1
    return out


def _diff_paragraph(
    ta: list[str], tb: list[str]
) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Word-level segments of two paragraphs; shown as removed and added whole when they share
    too little text for the marks to help."""
    a, b = "".join(ta), "".join(tb)
    opcodes = SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes()
    shared = sum(len("".join(ta[i1:i2])) for tag, i1, i2, _, _ in opcodes if tag == "equal")
    if a != b and 2 * shared < PARAGRAPH_CUTOFF * (len(a) + len(b)):
        return _only("delete", a), _only("insert", b)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in opcodes:
        old, new = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if tag == "equal":
            left.append(Segment("equal", old))
            right.append(Segment("equal", new))
        elif tag == "delete":
            left.append(Segment("delete", old))
        elif tag == "insert":
            right.append(Segment("insert", new))
        else:
            _diff_characters(old, new, left, right)
    return _merge(left), _merge(right)


def _diff_characters(a: str, b: str, left: list[Segment], right: list[Segment]) -> None:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if len(a) * len(b) > CHARACTER_LIMIT or matcher.ratio() < CHARACTER_CUTOFF:
        left.append(Segment("replace", a))
        right.append(Segment("replace", b))
        return
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append(Segment("equal", a[i1:i2]))
            right.append(Segment("equal", b[j1:j2]))
        elif tag == "delete":
            left.append(Segment("delete", a[i1:i2]))
        elif tag == "insert":
            right.append(Segment("insert", b[j1:j2]))
        else:
            left.append(Segment("replace", a[i1:i2]))
            right.append(Segment("replace", b[j1:j2]))


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if merged and merged[-1].op == segment.op:
            merged[-1] = Segment(segment.op, merged[-1].text + segment.text)
        else:
            merged.append(segment)
    return tuple(merged)
