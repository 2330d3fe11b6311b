"""An issue (期) as a Word document in the official layout, and as PDF through LibreOffice.

The layout follows GB/T 9704-2012 where a bulletin can: A4 with the standard type area, a red
masthead and rule, titles in 方正小标宋简体 二号, text in 仿宋_GB2312 三号 on a 28.95 pt grid
(22 lines a page), headings 黑体/楷体/仿宋 by level, page numbers "— 1 —" at the outside
corners, and the distribution list (版记) between rules at the end. The document is built from
the issue's snapshot (the same data a published revision freezes), so the current content and a
past revision come out through one path.
"""

import copy
import datetime as dt
import functools
import io
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement, parse_xml
from docx.shared import Emu, Mm, Pt, Twips
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from baosong.publications.models import Issue, IssueRevision
from baosong.publications.workflow import issue_snapshot
from baosong.submissions.exports import (
    BODY_FALLBACK,
    BODY_FONT,
    TITLE_FALLBACK,
    TITLE_FONT,
    _set_fonts,
)

KAI_FONT, KAI_FALLBACK = "楷体_GB2312", "楷体"
HEI_FONT = "黑体"
SONG_FONT = "宋体"

RED_HEX = "FF0000"

TEXT_WIDTH = Mm(210 - 28 - 26)  # the type area: 156 mm
BODY_SIZE = Pt(16)  # 三号
TITLE_SIZE = Pt(22)  # 二号
SMALL_SIZE = Pt(14)  # 四号: page numbers, tables, 版记
# 22 lines in the 225 mm type height: 28.95 pt, the grid of GB/T 9704.
LINE = Twips(579)
TITLE_LINE = Twips(700)  # 35 pt, so the 22 pt title does not touch its next line
MASTHEAD_MAX = 42.0  # 初号
MASTHEAD_MIN = 26.0


# The document's content, from a snapshot ------------------------------------------------------


@dataclass(frozen=True)
class BulletinItem:
    title: str
    body: str  # sanitized HTML
    form: str
    sources: list[str]


@dataclass(frozen=True)
class Bulletin:
    publication: str
    masthead: str
    label: str
    issue_date: dt.date
    editor_note: str
    show_toc: bool
    distribution: list[str]
    items: list[BulletinItem]


def bulletin_from_snapshot(snapshot: dict[str, Any], *, masthead: str = "") -> Bulletin:
    """Read an issue snapshot (see workflow.issue_snapshot); the masthead unit is not in it."""
    return Bulletin(
        publication=str(snapshot["publication"]),
        masthead=masthead,
        label=str(snapshot["label"]),
        issue_date=dt.date.fromisoformat(str(snapshot["issue_date"])),
        editor_note=str(snapshot.get("editor_note") or ""),
        show_toc=bool(snapshot.get("show_toc", True)),
        distribution=[
            line.strip()
            for line in str(snapshot.get("distribution") or "").splitlines()
            if line.strip()
        ],
        items=[
            BulletinItem(
                title=str(i["title"]),
                body=str(i.get("body") or ""),
                form=str(i.get("form") or ""),
                sources=[str(s) for s in i.get("sources", [])],
            )
            for i in snapshot.get("items", [])
        ],
    )


def date_text(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def publication_title(name: str) -> str:
    """The name without book-title marks, as the masthead prints it: 临江组工信息."""
    return name.strip().strip("《》").strip()


def issue_filename(issue: Issue, extension: str, revision: int | None = None) -> str:
    """《临江组工信息》2026年第12期.docx, safe for Windows (a refused character renames the file)."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", publication_title(issue.publication.name))
    suffix = f"（第{revision}版）" if revision and revision > 1 else ""
    return f"《{name}》{issue.year}年第{issue.number}期{suffix}.{extension}"


# HTML body → blocks ---------------------------------------------------------------------------


@dataclass
class Run:
    text: str = ""
    bold: bool = False
    italic: bool = False
    underline: bool = False
    script: str = ""  # "sub" / "sup"
    br: bool = False  # a line break instead of text


@dataclass
class Para:
    kind: str = "body"  # body, h1, h2, h3, quote, pre, caption, list
    runs: list[Run] = field(default_factory=list)
    prefix: str = ""  # list numbering

    def is_empty(self) -> bool:
        return not self.prefix and not any(r.text.strip() for r in self.runs)


@dataclass
class Cell:
    paras: list[Para] = field(default_factory=list)
    colspan: int = 1
    header: bool = False


@dataclass
class TableBlock:
    rows: list[list[Cell]] = field(default_factory=list)


Block = Para | TableBlock

# h1/h2 are the first level (一、 in 黑体), h3 the second (（一） in 楷体), h4 the third (仿宋 bold).
HEADING_KIND = {"h1": "h1", "h2": "h1", "h3": "h2", "h4": "h3"}
BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "blockquote", "pre", "caption", "li", "hr"}
_SPACE = re.compile(r"[ \t\r\n\f]+")


class _BodyParser(HTMLParser):
    """Turn sanitized HTML (sanitize.TAGS only) into paragraphs and tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.current: Para | None = None
        self.kinds: list[str] = []
        self.marks = {"bold": 0, "italic": 0, "underline": 0, "sub": 0, "sup": 0}
        self.lists: list[list[Any]] = []  # [tag, counter]
        self.tables: list[TableBlock] = []
        self.cell: Cell | None = None
        self.pre = 0
        self.quote = 0

    # where finished paragraphs go: the open cell, else the document
    def _flush(self) -> None:
        para, self.current = self.current, None
        if para is None or para.is_empty():
            return
        while para.runs and para.runs[-1].br:
            para.runs.pop()
        if para.runs and para.kind != "pre":
            para.runs[0].text = para.runs[0].text.lstrip()
            para.runs[-1].text = para.runs[-1].text.rstrip()
        if self.cell is not None:
            self.cell.paras.append(para)
        else:
            self.blocks.append(para)

    def _kind(self) -> str:
        if self.pre:
            return "pre"
        if self.kinds:
            return self.kinds[-1]
        if self.quote:
            return "quote"
        return "body"

    def _para(self) -> Para:
        if self.current is None:
            self.current = Para(kind=self._kind())
        return self.current

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        opening_item = self.current is not None and self.current.kind == "list"
        if tag in BLOCK_TAGS and not (tag in ("p", "div") and opening_item):
            # <li><p>text</p></li>: the paragraph is the list item's own text
            self._flush()
        if tag in ("strong", "b"):
            self.marks["bold"] += 1
        elif tag in ("em", "i"):
            self.marks["italic"] += 1
        elif tag == "u":
            self.marks["underline"] += 1
        elif tag in ("sub", "sup"):
            self.marks[tag] += 1
        elif tag in HEADING_KIND:
            self.kinds.append(HEADING_KIND[tag])
        elif tag == "caption":
            self.kinds.append("caption")
        elif tag == "pre":
            self.pre += 1
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "br":
            self._para().runs.append(Run(br=True))
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append([tag, 0])
        elif tag == "li":
            para = Para(kind="list")
            if self.lists:
                self.lists[-1][1] += 1
                kind, number = self.lists[-1]
                para.prefix = f"{number}. " if kind == "ol" else "• "
            self.current = para
        elif tag == "table":
            self._flush()
            if self.cell is None:  # a table inside a cell is read as the cell's paragraphs
                self.tables.append(TableBlock())
        elif tag == "tr" and self.tables and self.cell is None:
            self.tables[-1].rows.append([])
        elif tag in ("td", "th") and self.tables and self.cell is None:
            self._flush()
            if not self.tables[-1].rows:
                self.tables[-1].rows.append([])
            span = dict(attrs).get("colspan") or "1"
            self.cell = Cell(
                colspan=max(1, min(int(span) if span.isdigit() else 1, 20)), header=tag == "th"
            )
        elif tag in ("td", "th"):
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._flush()
        if tag in ("strong", "b"):
            self.marks["bold"] = max(0, self.marks["bold"] - 1)
        elif tag in ("em", "i"):
            self.marks["italic"] = max(0, self.marks["italic"] - 1)
        elif tag == "u":
            self.marks["underline"] = max(0, self.marks["underline"] - 1)
        elif tag in ("sub", "sup"):
            self.marks[tag] = max(0, self.marks[tag] - 1)
        elif tag in HEADING_KIND or tag == "caption":
            if self.kinds:
                self.kinds.pop()
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag in ("td", "th") and self.cell is not None:
            self._flush()
            if self.tables:
                self.tables[-1].rows[-1].append(self.cell)
            self.cell = None
        elif tag == "table" and self.cell is None and self.tables:
            self._flush()
            table = self.tables.pop()
            table.rows = [row for row in table.rows if row]
            if table.rows:
                self.blocks.append(table)

    def handle_data(self, data: str) -> None:
        if self.tables and self.cell is None:
            return  # whitespace between rows and cells
        text = data if self.pre else _SPACE.sub(" ", data)
        if not text.strip() and (self.current is None or not self.current.runs):
            return
        marks = self.marks
        self._para().runs.append(
            Run(
                text=text,
                bold=marks["bold"] > 0,
                italic=marks["italic"] > 0,
                underline=marks["underline"] > 0,
                script="sup" if marks["sup"] else ("sub" if marks["sub"] else ""),
            )
        )

    def close(self) -> None:
        super().close()
        if self.cell is not None and self.tables:
            self._flush()
            self.tables[-1].rows[-1].append(self.cell)
            self.cell = None
        self._flush()
        while self.tables:
            table = self.tables.pop()
            table.rows = [row for row in table.rows if row]
            if table.rows:
                self.blocks.append(table)


def body_blocks(html: str) -> list[Block]:
    """The paragraphs and tables of an item's sanitized HTML body (images are left out)."""
    parser = _BodyParser()
    parser.feed(html or "")
    parser.close()
    return parser.blocks


# Word details python-docx has no API for ------------------------------------------------------


# Elements of w:pPr that come after w:pBdr, in schema order (Word rejects them out of order).
_AFTER_PBDR = (
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _border(paragraph: Paragraph, *, sides: dict[str, tuple[int, str]]) -> None:
    """Rules drawn as paragraph borders: {side: (size in eighths of a point, hex colour)}."""
    ppr = paragraph._p.get_or_add_pPr()
    pbdr = OxmlElement("w:pBdr")
    for side in ("top", "bottom"):
        if side in sides:
            size, colour = sides[side]
            attrs = {"w:val": "single", "w:sz": str(size), "w:space": "4", "w:color": colour}
            pbdr.append(OxmlElement(f"w:{side}", {qn(k): v for k, v in attrs.items()}))
    ppr.insert_element_before(pbdr, *_AFTER_PBDR)


def _page_field(paragraph: Paragraph, size: Any) -> None:
    """ "— 7 —": the page number as a PAGE field between two 一字线."""

    def run(text: str = "") -> Any:
        return _run(paragraph, text, font=SONG_FONT, size=size)

    run("— ")
    run().append(OxmlElement("w:fldChar", {qn("w:fldCharType"): "begin"}))
    code = OxmlElement("w:instrText", {qn("xml:space"): "preserve"})
    code.text = " PAGE "
    run().append(code)
    run().append(OxmlElement("w:fldChar", {qn("w:fldCharType"): "separate"}))
    run("1")  # shown until the reader updates fields
    run().append(OxmlElement("w:fldChar", {qn("w:fldCharType"): "end"}))
    run(" —")


def _declare_fonts(document: DocumentObject) -> None:
    """Word substitutes a missing font by its altName in the font table (most machines lack the
    two official fonts and 楷体_GB2312): 宋体, 仿宋 and 楷体 stand in."""
    part = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable")
    )
    root = parse_xml(part.blob)
    for name, alt, family in (
        (TITLE_FONT, TITLE_FALLBACK, "roman"),
        (BODY_FONT, BODY_FALLBACK, "roman"),
        (KAI_FONT, KAI_FALLBACK, "roman"),
        (HEI_FONT, "", "swiss"),
        (SONG_FONT, "", "roman"),
    ):
        font = OxmlElement("w:font", {qn("w:name"): name})
        values = [("w:charset", "86"), ("w:family", family), ("w:pitch", "variable")]
        if alt:
            values.insert(0, ("w:altName", alt))
        for tag, value in values:
            font.append(OxmlElement(tag, {qn("w:val"): value}))
        root.append(font)
    part._blob = serialize_part_xml(root)  # a plain Part has no public setter for its bytes


def _chinese_defaults(document: DocumentObject) -> None:
    """East Asian text is Chinese (the template says en-US, which picks other glyph forms)."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    spacing = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}/{qn('w:spacing')}")
    if spacing is not None:
        spacing.set(qn("w:after"), "0")
    settings_xml = document.settings.element
    theme_lang = settings_xml.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")
    # A line ended by <br> is not stretched across the line in a justified paragraph.
    compat = settings_xml.find(qn("w:compat"))
    if compat is not None:
        compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))


# Styles ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    font: str
    size: Any = BODY_SIZE
    bold: bool = False
    align: str = "both"  # w:jc: both (justified), left, center, right
    indent: int = 2  # first-line indent in characters
    line: Any = LINE  # exact line pitch; None for single spacing
    keep_next: bool = False


LOOKS = {
    "body": Look(BODY_FONT),
    "list": Look(BODY_FONT),
    "quote": Look(KAI_FONT),
    "pre": Look(BODY_FONT, indent=0, align="left"),
    "caption": Look(HEI_FONT, indent=0, align="center"),
    "h1": Look(HEI_FONT, keep_next=True),
    "h2": Look(KAI_FONT, keep_next=True),
    "h3": Look(BODY_FONT, bold=True, keep_next=True),
    "title": Look(
        TITLE_FONT, size=TITLE_SIZE, indent=0, align="center", line=TITLE_LINE, keep_next=True
    ),
    "credit": Look(KAI_FONT, indent=0, align="right"),
    "note": Look(KAI_FONT),
    "toc_heading": Look(HEI_FONT, indent=0, align="center"),
    "toc": Look(KAI_FONT, indent=0, align="left"),
    "cell": Look(BODY_FONT, size=SMALL_SIZE, indent=0, line=None, align="left"),
    "record": Look(BODY_FONT, size=SMALL_SIZE, indent=0, align="left"),
}
STYLE_NAMES = {
    "body": "Bulletin Body",
    "list": "Bulletin List",
    "quote": "Bulletin Quote",
    "pre": "Bulletin Preformatted",
    "caption": "Bulletin Caption",
    "h1": "Bulletin Heading 1",
    "h2": "Bulletin Heading 2",
    "h3": "Bulletin Heading 3",
    "title": "Bulletin Title",
    "credit": "Bulletin Credit",
    "note": "Bulletin Editor Note",
    "toc_heading": "Bulletin Contents Heading",
    "toc": "Bulletin Contents",
    "cell": "Bulletin Table Text",
    "record": "Bulletin Record",
}


STYLE_IDS = {kind: name.replace(" ", "") for kind, name in STYLE_NAMES.items()}
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _style_xml(kind: str, look: Look) -> str:
    """A paragraph style based on Normal, as WordprocessingML (elements in schema order)."""
    size = round(look.size.pt * 2)
    ppr = [
        "<w:keepNext/>" if look.keep_next else "",
        "<w:widowControl/>",
        (
            f'<w:spacing w:before="0" w:after="0" w:line="{round(look.line.twips)}" '
            'w:lineRule="exact"/>'
            if look.line is not None
            else '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
        ),
        (
            f'<w:ind w:firstLine="{round(look.indent * look.size.pt * 20)}" '
            f'w:firstLineChars="{look.indent * 100}"/>'
            if look.indent
            else ""
        ),
        f'<w:jc w:val="{look.align}"/>',
    ]
    rpr = [
        f'<w:rFonts w:ascii="{look.font}" w:hAnsi="{look.font}" w:eastAsia="{look.font}" '
        f'w:cs="{look.font}"/>',
        "<w:b/><w:bCs/>" if look.bold else "",
        f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>',
    ]
    return (
        f'<w:style {_W} w:type="paragraph" w:customStyle="1" w:styleId="{STYLE_IDS[kind]}">'
        f'<w:name w:val="{STYLE_NAMES[kind]}"/><w:basedOn w:val="Normal"/><w:qFormat/>'
        f"<w:pPr>{''.join(ppr)}</w:pPr><w:rPr>{''.join(rpr)}</w:rPr></w:style>"
    )


def _add_styles(document: DocumentObject) -> None:
    """One paragraph style per kind, so an editor can restyle all of a kind in Word at once."""
    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    _set_fonts(normal, BODY_FONT)
    styles = document.styles.element
    for kind, look in LOOKS.items():
        styles.append(parse_xml(_style_xml(kind, look)))


# Writing ---------------------------------------------------------------------------------------
# python-docx resolves a style by name and sets run properties element by element; for a
# 30-item issue that took seconds, so paragraphs and runs are stamped from cached templates.

Container = DocumentObject | _Cell
# Characters XML 1.0 cannot hold (a pasted form feed would otherwise fail the whole export).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@functools.cache
def _run_template(
    font: str,
    half_points: int,
    bold: bool,
    italic: bool,
    underline: bool,
    script: str,
    colour: str,
) -> Any:
    """A w:r with its fonts named on the run itself: WPS and older Word versions read the run's
    rFonts before the style's, and a reader of the file sees the font where the text is."""
    parts = [
        f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>',
        "<w:b/><w:bCs/>" if bold else "",
        "<w:i/><w:iCs/>" if italic else "",
        f'<w:color w:val="{colour}"/>' if colour else "",
        f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>',
        '<w:u w:val="single"/>' if underline else "",
        f'<w:vertAlign w:val="{script}"/>' if script else "",
    ]
    return parse_xml(f"<w:r {_W}><w:rPr>{''.join(parts)}</w:rPr></w:r>")


def _run(
    paragraph: Paragraph,
    text: str,
    *,
    font: str,
    size: Any,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    script: str = "",
    colour: str = "",
) -> Any:
    """Append a run (tabs and line breaks in `text` become w:tab and w:br); returns the w:r."""
    text = _NOT_XML.sub("", text)
    half_points = round(size.pt * 2)
    r = copy.deepcopy(_run_template(font, half_points, bold, italic, underline, script, colour))
    for n, line in enumerate(text.split("\n")):
        if n:
            r.append(OxmlElement("w:br"))
        for m, piece in enumerate(line.split("\t")):
            if m:
                r.append(OxmlElement("w:tab"))
            if piece:
                t = OxmlElement("w:t", {qn("xml:space"): "preserve"})
                t.text = piece
                r.append(t)
    paragraph._p.append(r)
    return r


@functools.cache
def _paragraph_template(kind: str) -> Any:
    return parse_xml(f'<w:p {_W}><w:pPr><w:pStyle w:val="{STYLE_IDS[kind]}"/></w:pPr></w:p>')


def _new_paragraph(where: Container, kind: str) -> Paragraph:
    p = copy.deepcopy(_paragraph_template(kind))
    if isinstance(where, _Cell):
        where._tc.append(p)
    else:
        body = where.element.body
        last = body[-1] if len(body) else None
        if last is not None and last.tag == qn("w:sectPr"):
            last.addprevious(p)
        else:
            body.append(p)
    return Paragraph(p, where)


def _paragraph(where: Container, kind: str, text: str = "") -> Paragraph:
    paragraph = _new_paragraph(where, kind)
    if text:
        look = LOOKS[kind]
        _run(paragraph, text, font=look.font, size=look.size, bold=look.bold)
    return paragraph


def _write_para(
    where: Container, para: Para, kind: str | None = None, *, bold: bool = False
) -> Paragraph:
    kind = kind or para.kind
    look = LOOKS[kind]
    paragraph = _new_paragraph(where, kind)
    if para.prefix:
        _run(paragraph, para.prefix, font=look.font, size=look.size, bold=look.bold or bold)
    for item in para.runs:
        if not item.br and not item.text:
            continue
        _run(
            paragraph,
            "\n" if item.br else item.text,
            font=look.font,
            size=look.size,
            bold=look.bold or bold or item.bold,
            italic=item.italic,
            underline=item.underline,
            script={"sup": "superscript", "sub": "subscript"}.get(item.script, ""),
        )
    return paragraph


def _write_table(document: DocumentObject, block: TableBlock) -> None:
    columns = max(sum(c.colspan for c in row) for row in block.rows)
    table = document.add_table(rows=len(block.rows), cols=columns)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    width = Emu(TEXT_WIDTH // columns)
    for row, cells in zip(table.rows, block.rows, strict=True):
        docx_cells = row.cells
        for cell in docx_cells:
            cell.width = width
        at = 0
        for cell in cells:
            if at >= columns:
                break
            target = docx_cells[at]
            last = min(at + cell.colspan, columns) - 1
            if last > at:
                target = target.merge(docx_cells[last])
            first = True
            for para in cell.paras or [Para(kind="cell")]:
                if first:
                    # a new cell has one empty paragraph: fill it instead of adding below it
                    target._element.remove(target.paragraphs[0]._p)
                    first = False
                paragraph = _write_para(target, para, "cell", bold=cell.header)
                if cell.header:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            at = last + 1
    # a paragraph after the table keeps two tables or a table and a title apart
    _paragraph(document, "body")


def _masthead(document: DocumentObject, data: Bulletin) -> None:
    name = publication_title(data.publication)
    # 初号 unless the name is too long for one line of the 156 mm type area.
    size = max(MASTHEAD_MIN, min(MASTHEAD_MAX, 420.0 / max(len(name), 1)))
    head = document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    head.paragraph_format.line_spacing = 1.0
    head.paragraph_format.space_after = Pt(6)
    _run(head, name, font=TITLE_FONT, size=Pt(size), colour=RED_HEX)

    label = document.add_paragraph()
    label.alignment = WD_ALIGN_PARAGRAPH.CENTER
    label.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    label.paragraph_format.line_spacing = LINE
    _run(label, data.label, font=BODY_FONT, size=BODY_SIZE)

    line = document.add_paragraph()
    line.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    line.paragraph_format.line_spacing = LINE
    line.paragraph_format.space_after = Pt(14)
    line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _run(line, f"{data.masthead}\t{date_text(data.issue_date)}", font=BODY_FONT, size=BODY_SIZE)
    _border(line, sides={"bottom": (18, RED_HEX)})


def _contents(document: DocumentObject, data: Bulletin) -> None:
    _paragraph(document, "toc_heading", "本期导读")
    for number, item in enumerate(data.items, start=1):
        _paragraph(document, "toc", f"{number}. {item.title}")


def _editor_note(document: DocumentObject, data: Bulletin) -> None:
    lines = [line.strip() for line in data.editor_note.splitlines() if line.strip()]
    for i, text in enumerate(lines):
        paragraph = _paragraph(document, "note")
        if i == 0:
            _run(paragraph, "编者按：", font=HEI_FONT, size=BODY_SIZE)
        _run(paragraph, text, font=KAI_FONT, size=BODY_SIZE)
    if lines:
        document.paragraphs[-1].paragraph_format.space_after = Pt(14)


def _credit(item: BulletinItem) -> str:
    if not item.sources:
        return ""
    units = "、".join(item.sources)
    if item.form == "combined":
        return f"（根据{units}报送材料综合）"
    return f"（{units}报送）"


def _item(document: DocumentObject, item: BulletinItem, first: bool) -> None:
    title = _paragraph(document, "title", item.title)
    title.paragraph_format.space_before = Pt(6) if first else LINE
    title.paragraph_format.space_after = Pt(14)
    for block in body_blocks(item.body):
        if isinstance(block, TableBlock):
            _write_table(document, block)
        else:
            _write_para(document, block)
    credit = _credit(item)
    if credit:
        _paragraph(document, "credit", credit)


def _record(document: DocumentObject, data: Bulletin) -> None:
    """版记: the distribution lines and the printing line between rules."""
    spacer = _paragraph(document, "record")
    spacer.paragraph_format.space_before = LINE
    # The rules span the type area; the text stands one character in from either side.
    lines = data.distribution
    for i, text in enumerate(lines):
        paragraph = _paragraph(document, "record", text)
        paragraph.paragraph_format.first_line_indent = SMALL_SIZE
        if i == 0:
            _border(paragraph, sides={"top": (8, "000000")})
    printing = _paragraph(document, "record")
    printing.paragraph_format.first_line_indent = SMALL_SIZE
    printing.paragraph_format.tab_stops.add_tab_stop(
        TEXT_WIDTH - SMALL_SIZE, WD_TAB_ALIGNMENT.RIGHT
    )
    who = f"{data.masthead}编印" if data.masthead else ""
    _run(
        printing,
        f"{who}\t{date_text(data.issue_date)}印发",
        font=BODY_FONT,
        size=SMALL_SIZE,
    )
    sides = {"bottom": (8, "000000"), "top": (4 if lines else 8, "000000")}
    _border(printing, sides=sides)


def _page_setup(document: DocumentObject) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(24)
    # Odd pages carry the number at the right, even pages at the left, one character in.
    document.settings.odd_and_even_pages_header_footer = True
    odd = section.footer.paragraphs[0]
    odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    odd.paragraph_format.right_indent = SMALL_SIZE
    _page_field(odd, SMALL_SIZE)
    even = section.even_page_footer.paragraphs[0]
    even.alignment = WD_ALIGN_PARAGRAPH.LEFT
    even.paragraph_format.left_indent = SMALL_SIZE
    _page_field(even, SMALL_SIZE)


def bulletin_docx(data: Bulletin) -> bytes:
    document = Document()
    _declare_fonts(document)
    _chinese_defaults(document)
    _add_styles(document)
    _page_setup(document)
    document.core_properties.title = f"《{publication_title(data.publication)}》{data.label}"
    document.core_properties.author = data.masthead
    document.core_properties.last_modified_by = data.masthead
    document.core_properties.created = dt.datetime.now(dt.UTC)
    document.core_properties.modified = dt.datetime.now(dt.UTC)
    # The template's one empty paragraph would push the masthead down a line.
    body = document.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    _masthead(document, data)
    if data.show_toc and data.items:
        _contents(document, data)
    if data.editor_note.strip():
        _editor_note(document, data)
    for i, item in enumerate(data.items):
        _item(document, item, first=i == 0)
    _record(document, data)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def issue_docx_from_snapshot(snapshot: dict[str, Any], *, masthead: str = "") -> bytes:
    """An issue as frozen in a revision (IssueRevision.snapshot), in the official layout."""
    return bulletin_docx(bulletin_from_snapshot(snapshot, masthead=masthead))


def issue_docx(issue: Issue) -> bytes:
    """The issue's current content (items in issue order) in the official layout."""
    masthead = issue.publication.masthead or issue.publication.unit.name
    return issue_docx_from_snapshot(issue_snapshot(issue), masthead=masthead)


def revision_docx(revision: IssueRevision) -> bytes:
    publication = revision.issue.publication
    return issue_docx_from_snapshot(
        revision.snapshot, masthead=publication.masthead or publication.unit.name
    )


# PDF -------------------------------------------------------------------------------------------

PDF_TIMEOUT = 60
log = logging.getLogger(__name__)


class PdfError(Exception):
    """The PDF cannot be made; the message is for the user (Chinese)."""


class PdfUnavailable(PdfError):
    def __init__(self) -> None:
        super().__init__(
            gettext("服务器未安装 LibreOffice，无法生成 PDF；请下载 Word 版（.docx）。")
        )


class PdfFailed(PdfError):
    pass


# Where the official fonts are missing (most servers), fontconfig would put a sans-serif CJK font
# in their place; these aliases prefer the Windows names, then a serif CJK font for the 宋/仿宋/楷
# families, so the PDF keeps the look of the layout.
_FONT_ALIASES = {
    TITLE_FONT: ["FZXiaoBiaoSong-B05S", "SimSun", "Noto Serif CJK SC", "Source Han Serif SC"],
    BODY_FONT: ["仿宋", "FangSong", "Noto Serif CJK SC", "Source Han Serif SC"],
    KAI_FONT: ["楷体", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"],
    SONG_FONT: ["SimSun", "Noto Serif CJK SC", "Source Han Serif SC"],
    HEI_FONT: ["SimHei", "Noto Sans CJK SC", "Source Han Sans SC"],
}


def _fontconfig(directory: Path) -> Path:
    system = Path("/etc/fonts/fonts.conf")
    aliases = "".join(
        f'<alias binding="same"><family>{name}</family><prefer>'
        + "".join(f"<family>{f}</family>" for f in prefer)
        + "</prefer></alias>"
        for name, prefer in _FONT_ALIASES.items()
    )
    include = f'<include ignore_missing="yes">{system}</include>' if system.exists() else ""
    path = directory / "fonts.conf"
    path.write_text(
        f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig>{include}{aliases}</fontconfig>",
        encoding="utf-8",
    )
    return path


def soffice_path() -> str | None:
    """The LibreOffice binary: settings.SOFFICE_BINARY when set, else soffice/libreoffice on PATH."""
    configured = str(getattr(settings, "SOFFICE_BINARY", "") or "")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    return soffice_path() is not None


def docx_to_pdf(data: bytes, *, timeout: int = PDF_TIMEOUT) -> bytes:
    """Convert with LibreOffice headless; each call has its own profile so calls can overlap."""
    binary = soffice_path()
    if binary is None:
        raise PdfUnavailable()
    with tempfile.TemporaryDirectory(prefix="baosong-pdf-") as tmp:
        work = Path(tmp)
        source = work / f"{uuid.uuid4().hex}.docx"
        source.write_bytes(data)
        profile = (work / "profile").as_uri()
        command = [
            binary,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--nologo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(source),
        ]
        env = {**os.environ, "HOME": str(work), "FONTCONFIG_FILE": str(_fontconfig(work))}
        # soffice starts soffice.bin as a child: a session of its own lets a timeout end both.
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PdfFailed(
                gettext("生成 PDF 超时（%(seconds)s 秒），请稍后再试或下载 Word 版。")
                % {"seconds": timeout}
            ) from None
        target = source.with_suffix(".pdf")
        if process.returncode != 0 or not target.exists():
            detail = stderr.decode("utf-8", "replace").strip()[-500:]
            log.warning("soffice exit %s: %s", process.returncode, detail)
            raise PdfFailed(gettext("LibreOffice 转换 PDF 失败，请下载 Word 版。"))
        return target.read_bytes()
