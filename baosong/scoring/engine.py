"""The scoring engine (计分引擎): plain data in, plain data out, no Django.

A `Scheme` says what every recorded event is worth; `score()` replays the `Fact`s (the events of
submissions and publications) in time order and returns ledger `Entry`s for units and their
authors, each with the event it comes from and a short Chinese rule saying why. All points are
`Decimal`s with two places, each computed value rounded half up (the replay keeps them as whole
fen). Entries at a moment depend only on facts up to that moment, so scoring a later period never
changes an earlier period's entries, and a correction is always a new (negative) entry, never an
edit. The ledger can also be written one event at a time (see `score`: `window_seed`, `recorded`).
"""

from __future__ import annotations

import datetime as dt
import gc
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import compress, pairwise, repeat
from operator import attrgetter, eq, itemgetter
from typing import Any, NamedTuple, Protocol, TypeVar

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal(1)

# Administrative levels, highest first (the same codes as orgs.models.Level).
LEVELS = ("central", "province", "city", "county", "township")
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
LEVEL_LABEL = {
    "central": "中央",
    "province": "省级",
    "city": "市级",
    "county": "县级",
    "township": "乡镇",
    "internal": "科室",
}
PUBLICATION_KINDS = ("special", "journal", "bulletin", "website", "wechat")
KIND_LABEL = {
    "bulletin": "简报",
    "special": "专报",
    "journal": "信息刊物",
    "website": "网站",
    "wechat": "公众号",
}
FORMS = ("whole", "excerpt", "combined", "one_line")
FORM_LABEL = {"whole": "全文", "excerpt": "摘编", "combined": "综合", "one_line": "一句话"}
ITEM_TYPES = ("info", "news", "special")
ITEM_TYPE_LABEL = {"info": "信息", "news": "稿件", "special": "专报"}
ITEM_KINDS = ("dynamic", "experience", "problem", "analysis")
ITEM_KIND_LABEL = {
    "dynamic": "动态类",
    "experience": "经验类",
    "problem": "问题类",
    "analysis": "研判类",
}
LEADER_LEVELS = ("central", "province", "city", "county")
GRAINS = ("week", "month", "quarter", "year")
GRAIN_LABEL = {"week": "周", "month": "月", "quarter": "季度", "year": "年度"}
WILDCARD = "*"

# Fact kinds the engine understands.
SUBMIT = "submit"  # 报送 (first submission counts; to_levels may earn reach points)
FORWARD = "forward"  # 转报 by an upper unit (to_levels: levels of the receiving units)
ADOPT = "adopt"  # 采用 (one fact per source item of the adoption)
UNADOPT = "unadopt"  # 撤销采用
RELEAD = "relead"  # 调整头条: an adoption's lead flag (is_lead) changed after it was adopted
INSTRUCT = "instruct"  # 批示 on an adoption
DEDUCT = "deduct"  # 扣分 decided by the assessing unit (points > 0 are deducted)
CONFIRMED_COPY = "confirmed_copy"  # 认定抄袭: the item's points are reversed, plus a penalty
FALSIFIED = "falsified"  # 认定虚假: likewise
FACT_KINDS = (
    SUBMIT,
    FORWARD,
    ADOPT,
    UNADOPT,
    RELEAD,
    INSTRUCT,
    DEDUCT,
    CONFIRMED_COPY,
    FALSIFIED,
)

# Entry categories (what kind of credit or correction an entry is).
CATEGORIES = (
    "submit",
    "reach",
    "adopt",
    "forward",
    "instruct",
    "supersede",
    "withdraw",
    "relead",
    "void",
    "penalty",
    "deduct",
    "quota",
)
# Categories that count toward the period cap (what was earned and its reversals); penalties,
# deductions and quota deductions are outside the caps.
CAP_CATEGORIES = frozenset(CATEGORIES) - {"penalty", "deduct", "quota"}

# A line already in the ledger, as `score(recorded=…)` takes it: (event id, unit, category, ref,
# points) of a unit's own entry.
Recorded = tuple[str, str, str, str, Decimal]


def q2(value: Decimal | int | str) -> Decimal:
    """Two decimal places, half up: the one rounding rule of the ledger."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """10.00 → "10", 1.50 → "1.5", 0.25 → "0.25" (for rule texts)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------------
# The scheme


@dataclass(frozen=True)
class Quota:
    """At least `min_items` items submitted per `per` (week/month/quarter/year), and at least n of
    each listed kind; when missed, `deduction` points are taken off (0 = only flagged)."""

    label: str
    per: str
    min_items: int
    min_kinds: tuple[tuple[str, int], ...] = ()
    deduction: Decimal = ZERO


@dataclass(frozen=True)
class Scheme:
    """A version of a scoring scheme (计分办法), as data. Keys are the codes of orgs/submissions/
    publications (levels, item types, publication kinds, forms)."""

    version: str
    label: str
    # 报送: points for the first submission of an item, per item type.
    submit_points: Mapping[str, Decimal] = field(default_factory=dict)
    # 报送上级: points to the origin unit the first time its item reaches a level (submitted or
    # forwarded to a unit of that level), e.g. {"province": 5}.
    reach_points: Mapping[str, Decimal] = field(default_factory=dict)
    # 采用: an explicit table (level, publication kind, form) → points; "*" matches any kind or
    # form. Looked up as (l, k, f), (l, k, *), (l, *, f), (l, *, *); when no row matches, the
    # points are base[level] × kind_factor[kind] × form_factor[form] (missing factors are 1, a
    # missing base is 0).
    adoption_table: Mapping[tuple[str, str, str], Decimal] = field(default_factory=dict)
    adoption_base: Mapping[str, Decimal] = field(default_factory=dict)
    kind_factor: Mapping[str, Decimal] = field(default_factory=dict)
    form_factor: Mapping[str, Decimal] = field(default_factory=dict)
    lead_multiplier: Decimal = ONE  # 头条
    # 批示: (leader level, principal leader?) → points.
    instruction_points: Mapping[tuple[str, bool], Decimal] = field(default_factory=dict)
    # "highest": only the highest level an item reached counts (ties: publication kind in
    # `kind_order`, then the earlier adoption); "add": every adoption counts.
    level_policy: str = "add"
    kind_order: tuple[str, ...] = PUBLICATION_KINDS
    # 综合: "shares" uses the recorded shares; "lead_split" gives the lead-submitting unit (主报)
    # `lead_fraction` and the other units equal parts of the rest.
    combined_credit: str = "shares"
    lead_fraction: Decimal = Decimal("0.5")
    # 转报: credit for the unit that forwarded an item adopted higher up, by adopting level;
    # "points" (fixed points) or "fraction" (a fraction of the adoption's points for the item).
    forward_credit: Mapping[str, Decimal] = field(default_factory=dict)
    forward_credit_mode: str = "points"
    quotas: tuple[Quota, ...] = ()
    copy_penalty: Decimal = ZERO  # on top of reversing the item's points
    falsify_penalty: Decimal = ZERO
    # Caps on the net points one unit earns from one item, and in one calendar `period_cap_per`.
    item_cap: Decimal | None = None
    period_cap: Decimal | None = None
    period_cap_per: str = "month"


def validate(scheme: Scheme) -> list[str]:
    """Every problem with a scheme, as a Chinese sentence; empty when the scheme is usable."""
    errors: list[str] = []
    if scheme.level_policy not in ("highest", "add"):
        errors.append("级别计分方式应为“只计最高级别”或“逐级累加”。")
    if scheme.combined_credit not in ("shares", "lead_split"):
        errors.append("综合采用的分配方式应为“按份额”或“主报优先”。")
    if not ZERO <= scheme.lead_fraction <= ONE:
        errors.append("主报单位所占比例应在 0 到 1 之间。")
    if scheme.forward_credit_mode not in ("points", "fraction"):
        errors.append("转报计分方式应为“固定分值”或“按采用分比例”。")
    if scheme.period_cap_per not in GRAINS:
        errors.append("计分上限的周期应为周、月、季度或年度。")
    if scheme.lead_multiplier < 0:
        errors.append("头条倍数不能为负数。")
    if sorted(scheme.kind_order) != sorted(PUBLICATION_KINDS):
        errors.append("刊物类别顺序须恰好列出全部刊物类别。")
    for name, table, keys in (
        ("报送分值", scheme.submit_points, ITEM_TYPES),
        ("报送上级分值", scheme.reach_points, LEVELS),
        ("采用基础分", scheme.adoption_base, LEVELS),
        ("刊物系数", scheme.kind_factor, PUBLICATION_KINDS),
        ("采用形式系数", scheme.form_factor, FORMS),
        ("转报计分", scheme.forward_credit, LEVELS),
    ):
        for key, value in table.items():
            if key not in keys:
                errors.append(f"{name}中有未知的项目“{key}”。")
            if value < 0:
                errors.append(f"{name}“{key}”不能为负数。")
    for (level, kind, form), value in scheme.adoption_table.items():
        if (
            level not in LEVELS
            or kind not in (*PUBLICATION_KINDS, WILDCARD)
            or form not in (*FORMS, WILDCARD)
        ):
            errors.append(f"采用分值表中有未知的项目“{level}/{kind}/{form}”。")
        if value < 0:
            errors.append(f"采用分值表“{level}/{kind}/{form}”不能为负数。")
    for (level, _principal), value in scheme.instruction_points.items():
        if level not in LEADER_LEVELS:
            errors.append(f"批示分值中有未知的领导级别“{level}”。")
        if value < 0:
            errors.append("批示分值不能为负数。")
    for quota in scheme.quotas:
        if quota.per not in GRAINS:
            errors.append(f"任务数“{quota.label}”的周期应为周、月、季度或年度。")
        if quota.min_items < 0 or any(n < 0 for _k, n in quota.min_kinds):
            errors.append(f"任务数“{quota.label}”不能为负数。")
        if any(k not in ITEM_KINDS for k, _n in quota.min_kinds):
            errors.append(f"任务数“{quota.label}”中有未知的信息类别。")
        if quota.deduction < 0:
            errors.append(f"任务数“{quota.label}”的扣分应写为正数。")
    for name, cap in (("单条上限", scheme.item_cap), ("周期上限", scheme.period_cap)):
        if cap is not None and cap < 0:
            errors.append(f"{name}不能为负数。")
    if scheme.copy_penalty < 0 or scheme.falsify_penalty < 0:
        errors.append("抄袭、虚假扣分应写为正数。")
    return errors


def scheme_as_data(scheme: Scheme) -> dict[str, Any]:
    """A JSON-ready dict of the scheme (decimals as strings, tuple keys joined with "|")."""

    def table(m: Mapping[str, Decimal]) -> dict[str, str]:
        return {k: str(v) for k, v in sorted(m.items())}

    return {
        "version": scheme.version,
        "label": scheme.label,
        "submit_points": table(scheme.submit_points),
        "reach_points": table(scheme.reach_points),
        "adoption_table": {"|".join(k): str(v) for k, v in sorted(scheme.adoption_table.items())},
        "adoption_base": table(scheme.adoption_base),
        "kind_factor": table(scheme.kind_factor),
        "form_factor": table(scheme.form_factor),
        "lead_multiplier": str(scheme.lead_multiplier),
        "instruction_points": {
            f"{level}|{'principal' if principal else 'other'}": str(v)
            for (level, principal), v in sorted(scheme.instruction_points.items())
        },
        "level_policy": scheme.level_policy,
        "kind_order": list(scheme.kind_order),
        "combined_credit": scheme.combined_credit,
        "lead_fraction": str(scheme.lead_fraction),
        "forward_credit": table(scheme.forward_credit),
        "forward_credit_mode": scheme.forward_credit_mode,
        "quotas": [
            {
                "label": quota.label,
                "per": quota.per,
                "min_items": quota.min_items,
                "min_kinds": {k: n for k, n in quota.min_kinds},
                "deduction": str(quota.deduction),
            }
            for quota in scheme.quotas
        ],
        "copy_penalty": str(scheme.copy_penalty),
        "falsify_penalty": str(scheme.falsify_penalty),
        "item_cap": None if scheme.item_cap is None else str(scheme.item_cap),
        "period_cap": None if scheme.period_cap is None else str(scheme.period_cap),
        "period_cap_per": scheme.period_cap_per,
    }


def scheme_from_data(data: Mapping[str, Any]) -> Scheme:
    """The inverse of `scheme_as_data`; raises ValueError with Chinese messages when invalid."""
    try:

        def table(name: str) -> dict[str, Decimal]:
            return {str(k): Decimal(str(v)) for k, v in (data.get(name) or {}).items()}

        def optional(name: str) -> Decimal | None:
            value = data.get(name)
            return None if value in (None, "") else Decimal(str(value))

        adoption_table: dict[tuple[str, str, str], Decimal] = {}
        for key, value in (data.get("adoption_table") or {}).items():
            level, kind, form = str(key).split("|")
            adoption_table[(level, kind, form)] = Decimal(str(value))
        instruction_points: dict[tuple[str, bool], Decimal] = {}
        for key, value in (data.get("instruction_points") or {}).items():
            level, rank = str(key).split("|")
            if rank not in ("principal", "other"):
                raise ValueError(f"批示分值“{key}”应写作“级别|principal”或“级别|other”。")
            instruction_points[(level, rank == "principal")] = Decimal(str(value))
        scheme = Scheme(
            version=str(data["version"]),
            label=str(data["label"]),
            submit_points=table("submit_points"),
            reach_points=table("reach_points"),
            adoption_table=adoption_table,
            adoption_base=table("adoption_base"),
            kind_factor=table("kind_factor"),
            form_factor=table("form_factor"),
            lead_multiplier=Decimal(str(data.get("lead_multiplier", "1"))),
            instruction_points=instruction_points,
            level_policy=str(data.get("level_policy", "add")),
            kind_order=tuple(data.get("kind_order") or PUBLICATION_KINDS),
            combined_credit=str(data.get("combined_credit", "shares")),
            lead_fraction=Decimal(str(data.get("lead_fraction", "0.5"))),
            forward_credit=table("forward_credit"),
            forward_credit_mode=str(data.get("forward_credit_mode", "points")),
            quotas=tuple(
                Quota(
                    label=str(q["label"]),
                    per=str(q["per"]),
                    min_items=int(q["min_items"]),
                    min_kinds=tuple(
                        sorted((str(k), int(n)) for k, n in (q.get("min_kinds") or {}).items())
                    ),
                    deduction=Decimal(str(q.get("deduction", "0"))),
                )
                for q in data.get("quotas") or []
            ),
            copy_penalty=Decimal(str(data.get("copy_penalty", "0"))),
            falsify_penalty=Decimal(str(data.get("falsify_penalty", "0"))),
            item_cap=optional("item_cap"),
            period_cap=optional("period_cap"),
            period_cap_per=str(data.get("period_cap_per", "month")),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"计分办法的格式不正确：{exc}") from exc
    errors = validate(scheme)
    if errors:
        raise ValueError("；".join(errors))
    return scheme


# ---------------------------------------------------------------------------------------------
# Facts and periods


@dataclass(frozen=True, slots=True)
class Author:
    person: str
    share: int  # percent; an item's shares sum to 100


class Source(NamedTuple):
    """One source item of an adoption (a combined piece has several, one of them the lead).
    A named tuple: a recompute makes one per adoption it reads."""

    item: int
    origin_unit: str
    share: int = 100
    lead_source: bool = False  # 主报 of a combined piece
    forwarded_by: str | None = None  # the unit that forwarded the item to the adopting unit


class Fact(NamedTuple):
    """One recorded event about one item (or, for `deduct` without an item, about one unit).

    `origin_unit` is the unit that wrote the item (and the unit a `deduct` is taken from),
    `authors` its co-authors with shares. `adopting_unit`/`adopting_level` are the acting unit of
    adopt/unadopt/instruct; for `forward` they are the forwarding unit. `to_levels` are the levels
    of the units a submit or forward went to. An adoption of several items is one fact per item,
    each with all `sources`. A named tuple: a recompute reads ~100,000 of them, and a frozen
    dataclass costs ten times as much to make."""

    kind: str
    event_id: str
    at: dt.datetime
    item_id: int | None = None
    item_type: str = "info"
    item_kind: str = "dynamic"
    origin_unit: str = ""
    authors: tuple[Author, ...] = ()
    adopting_unit: str = ""
    adopting_level: str = ""
    adoption_id: int | None = None
    publication_kind: str = ""
    form: str = "whole"
    is_lead: bool = False
    sources: tuple[Source, ...] = ()
    to_levels: tuple[str, ...] = ()
    instruction_level: str = ""
    principal: bool = False
    points: Decimal = ZERO  # deduct: how many points to take off
    note: str = ""


@dataclass(frozen=True)
class Period:
    """A half-open time range [start, end) with a key such as 2026-03, 2026-Q1, 2026, 2026-W10."""

    key: str
    start: dt.datetime
    end: dt.datetime
    grain: str = "custom"


def _at(day: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def month_period(year: int, month: int, tz: dt.tzinfo | None = None) -> Period:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return Period(f"{year}-{month:02d}", _at(dt.date(year, month, 1), tz), _at(nxt, tz), "month")


def quarter_period(year: int, quarter: int, tz: dt.tzinfo | None = None) -> Period:
    first = 3 * (quarter - 1) + 1
    start = month_period(year, first, tz).start
    end = month_period(year, first + 2, tz).end
    return Period(f"{year}-Q{quarter}", start, end, "quarter")


def year_period(year: int, tz: dt.tzinfo | None = None) -> Period:
    return Period(str(year), _at(dt.date(year, 1, 1), tz), _at(dt.date(year + 1, 1, 1), tz), "year")


def week_period(iso_year: int, iso_week: int, tz: dt.tzinfo | None = None) -> Period:
    monday = dt.date.fromisocalendar(iso_year, iso_week, 1)
    return Period(
        f"{iso_year}-W{iso_week:02d}",
        _at(monday, tz),
        _at(monday + dt.timedelta(days=7), tz),
        "week",
    )


def period_containing(grain: str, moment: dt.datetime) -> Period:
    """The calendar week/month/quarter/year that contains `moment` (in its own time zone)."""
    day, tz = moment.date(), moment.tzinfo
    if grain == "week":
        iso = day.isocalendar()
        return week_period(iso.year, iso.week, tz)
    if grain == "month":
        return month_period(day.year, day.month, tz)
    if grain == "quarter":
        return quarter_period(day.year, (day.month - 1) // 3 + 1, tz)
    if grain == "year":
        return year_period(day.year, tz)
    raise ValueError(f"未知的周期“{grain}”。")


def previous_period(period: Period) -> Period:
    """The period just before: the previous calendar period, or a custom range of equal length."""
    if period.grain in GRAINS:
        return period_containing(period.grain, period.start - dt.timedelta(microseconds=1))
    length = period.end - period.start
    start = period.start - length
    return Period(f"{start.date()}~{period.start.date()}", start, period.start)


def window_key(grain: str, moment: dt.datetime, tz: dt.tzinfo | None) -> str:
    """The key of the calendar window of `grain` containing `moment`, seen in time zone `tz`
    (the same key `period_containing` gives), cheaply."""
    if tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    if grain == "month":
        return f"{moment.year}-{moment.month:02d}"
    if grain == "week":
        iso = moment.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if grain == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    if grain == "year":
        return str(moment.year)
    raise ValueError(f"未知的周期“{grain}”。")


# ---------------------------------------------------------------------------------------------
# Entries


class Entry(NamedTuple):
    """One ledger line (a named tuple: a recompute builds hundreds of thousands of them): `points` for `unit` (or, when `person` is set, for that author within the
    unit), caused by `event_id`; `ref` names the event whose credit this entry reverses or
    restores. `period` is the key of the period scored; `at` is the moment it counts."""

    event_id: str
    unit: str
    person: str
    points: Decimal
    rule: str
    item_id: int | None
    period: str
    at: dt.datetime
    category: str
    scheme: str
    ref: str = ""
    lead: bool = False


class _Adoption:
    """One live adoption of an item: what it is worth to the item (lead multiplier and combined
    share applied, in cents) before the level policy and the caps."""

    __slots__ = ("adoption_id", "event_id", "kind", "lead", "level", "points", "rank", "rule")

    def __init__(
        self,
        event_id: str,
        adoption_id: int | None,
        level: str,
        kind: str,
        rank: tuple[int, int, tuple[dt.datetime, str]],
        points: int,
        rule: str,
        lead: bool,
    ) -> None:
        self.event_id = event_id
        self.adoption_id = adoption_id
        self.level = level
        self.kind = kind
        self.rank = rank  # lower is better under "highest": level, publication kind, order
        self.points = points
        self.rule = rule
        self.lead = lead


class _Item:
    """What the replay remembers about one item."""

    __slots__ = ("best", "credited", "live", "reached", "submitted", "void")

    def __init__(self) -> None:
        self.submitted = False  # its first submission was seen (and credited unless void)
        self.reached: set[str] | None = None
        self.live: list[_Adoption] | None = None  # its adoptions not withdrawn
        self.best: _Adoption | None = None  # the credited adoption under "highest"
        self.void = False
        # Net cents per (source event, unit, role), in the order first credited, so a reversal
        # takes back exactly what was given; and, under a unit's code alone, the unit's net
        # cents from the item, for the item cap (one dict: an item's state is most of the
        # memory a recompute touches).
        self.credited: dict[tuple[str, str, str] | str, int] = {}


def _share_cents(total_cents: int, weights: Sequence[int]) -> list[int]:
    """Split whole cents by integer weights with the largest remainder (ties: listed order), so
    the parts always add up to the whole."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0] * len(weights)
    if len(weights) == 1:
        return [total_cents]
    sign = -1 if total_cents < 0 else 1
    cents = -total_cents if sign < 0 else total_cents
    parts = [cents * w // weight_sum for w in weights]
    left = cents - sum(parts)
    if left:
        order = sorted(range(len(weights)), key=lambda i: (-(cents * weights[i] % weight_sum), i))
        for i in order[:left]:
            parts[i] += 1
    return [sign * p for p in parts]


def _cents(value: Decimal) -> int:
    return int(q2(value) * 100)


class _WindowOf:
    """The key of the calendar window of `grain` containing a moment, seen in `tz`; the last
    window ([start, end)) is remembered, since moments mostly come in time order."""

    __slots__ = ("end", "grain", "key", "start", "tz")

    def __init__(self, grain: str, tz: dt.tzinfo | None, moment: dt.datetime) -> None:
        self.grain = grain
        self.tz = tz
        self.start = self.end = moment  # empty until the first call
        self.key = ""

    def __call__(self, at: dt.datetime) -> str:
        if self.start <= at < self.end:
            return self.key
        tz = self.tz
        local = at.astimezone(tz) if tz is not None and at.tzinfo is not None else at
        window = period_containing(self.grain, local)
        self.start, self.end, self.key = window.start, window.end, window.key
        if at.tzinfo is not None and window.start.tzinfo is not None:
            # Kept in the moments' own zone: the next calls compare without asking offsets.
            self.start, self.end = (
                window.start.astimezone(at.tzinfo),
                window.end.astimezone(at.tzinfo),
            )
        return window.key


_new_entry = tuple.__new__
# Adoptions are not ranked under "add".
_UNRANKED = (0, 0, (dt.datetime.min.replace(tzinfo=dt.UTC), ""))
_EVENT_ID = attrgetter("event_id")
_AT = attrgetter("at")
_SHARE = attrgetter("share")


class _Run:
    """One replay of the facts under one scheme. Points are whole cents (int) inside; they become
    two-place Decimals only in the entries, so the arithmetic is exact and cheap (every computed
    value is rounded to the fen as before; caps count in whole fen too)."""

    # Slots: over 30 instance attributes would make every self.x lookup a slow one.
    __slots__ = (
        "adoption_cache",
        "cap_note",
        "decimals",
        "emit",
        "fact",
        "first",
        "fraction",
        "fraction_cache",
        "highest",
        "item",
        "item_cap",
        "items",
        "kind_rank",
        "lead_cache",
        "lead_note",
        "lead_split",
        "month",
        "multi_rules",
        "out",
        "period_cap",
        "period_key",
        "reach_levels",
        "reach_rules",
        "recorded",
        "scheme",
        "solo_rules",
        "splits",
        "submit_rules",
        "sums",
        "texts",
        "version",
        "window",
        "window_of",
        "window_total",
    )

    def __init__(
        self,
        scheme: Scheme,
        period: Period,
        window_seed: Mapping[tuple[str, str], Decimal] | None = None,
        recorded: Iterable[Recorded] = (),
    ) -> None:
        s = self.scheme = scheme
        self.period_key = period.key
        self.version = scheme.version
        self.items: dict[int, _Item] = {}
        self.out: list[Entry] = []
        self.emit = False  # whether the current fact lies inside the period scored
        # Set by `unit_sums`: no entries, only each unit's cents by `month(moment)`.
        self.sums: dict[tuple[str, Hashable], int] | None = None
        self.month: Callable[[dt.datetime], Hashable] = _no_month
        # The fact being replayed and its item.
        self.fact = Fact(kind="", event_id="", at=period.start)
        self.item = _Item()
        self.window: dict[str, int] = {}  # net cents per unit in the current fact's cap window
        self.highest = s.level_policy == "highest"
        self.item_cap = None if s.item_cap is None else _cents(s.item_cap)
        self.period_cap = None if s.period_cap is None else _cents(s.period_cap)
        caps = []
        if s.item_cap is not None:
            caps.append(f"单条上限 {fmt(s.item_cap)} 分")
        if s.period_cap is not None:
            caps.append(f"每{GRAIN_LABEL[s.period_cap_per]}上限 {fmt(s.period_cap)} 分")
        self.cap_note = f"（受{'、'.join(caps)}限制，实计 "
        self.window_of = _WindowOf(s.period_cap_per, period.start.tzinfo, period.start)
        # Net cents credited per (unit, cap window), starting from what other facts credited.
        self.window_total: dict[str, dict[str, int]] = defaultdict(dict)  # window → unit → cents
        for (unit, key), value in (window_seed or {}).items():
            self.window_total[key][unit] = _cents(value)
        # What the ledger already credited for the events of this call, in ledger order.
        self.recorded: dict[tuple[str, str, str, str], list[int]] = {}
        for event_id, unit, category, ref, points in recorded:
            self.recorded.setdefault((event_id, unit, category, ref), []).append(_cents(points))
        self.kind_rank = {kind: i for i, kind in enumerate(s.kind_order)}
        self.lead_note = f" × 头条 {fmt(s.lead_multiplier)}"
        self.lead_split = s.combined_credit == "lead_split"
        self.fraction = s.forward_credit_mode == "fraction"
        self.submit_rules: dict[str, tuple[int, str]] = {}
        for item_type, value in s.submit_points.items():
            points = q2(value)
            name = ITEM_TYPE_LABEL.get(item_type, item_type)
            self.submit_rules[item_type] = (_cents(points), f"报送{name} {fmt(points)} 分")
        self.reach_rules: dict[str, tuple[int, str, str]] = {}
        # The levels of a fact's `to_levels` that earn reach points, best first, with their rules.
        self.reach_levels: dict[tuple[str, ...], tuple[tuple[str, int, str, str], ...]] = {}
        for level, value in s.reach_points.items():
            points = q2(value)
            rule = f"报送{LEVEL_LABEL.get(level, level)} {fmt(points)} 分"
            self.reach_rules[level] = (_cents(points), rule, f"reach:{level}")
        # Small caches of exact Decimal results, keyed by cents.
        self.decimals: dict[int, Decimal] = {}
        self.texts: dict[int, str] = {}
        self.adoption_cache: dict[tuple[str, str, str], tuple[int, str]] = {}
        self.lead_cache: dict[int, int] = {}
        self.fraction_cache: dict[tuple[int, str], int] = {}
        # The authors' rules ("…；作者份额 60/100") by the unit's rule and the shares, shared by
        # equal texts: half a million person entries would otherwise each carry their own copy.
        self.solo_rules: dict[tuple[str, int], str] = {}
        self.multi_rules: dict[tuple[str, tuple[int, ...]], tuple[str, ...]] = {}
        # The first submission of each item, for quotas (collected when `first` is set): the
        # moments, units and item kinds, gathered while the fact is at hand.
        self.first: _Submissions | None = None
        self.splits: dict[tuple[int, tuple[int, ...]], tuple[Decimal, ...]] = {}

    # -- conversions ----------------------------------------------------------------------------

    def points_of(self, cents: int) -> Decimal:
        value = self.decimals.get(cents)
        if value is None:
            value = self.decimals[cents] = Decimal(cents).scaleb(-2)
        return value

    def text(self, cents: int) -> str:
        """fmt() of a number of cents."""
        value = self.texts.get(cents)
        if value is None:
            value = self.texts[cents] = fmt(self.points_of(cents))
        return value

    # -- entries ----------------------------------------------------------------------------------

    def _emit(
        self,
        unit: str,
        cents: int,
        points: Decimal,
        rule: str,
        category: str,
        authors: tuple[Author, ...],
        ref: str,
        lead: bool,
    ) -> None:
        """The unit's entry, then its co-authors' (see `_people`)."""
        fact = self.fact
        sums = self.sums
        if sums is not None:
            if cents:
                cell = (unit, self.month(fact.at))
                sums[cell] = sums.get(cell, 0) + cents
            return
        self.out.append(
            _new_entry(
                Entry,
                (
                    fact.event_id,
                    unit,
                    "",
                    points,
                    rule,
                    fact.item_id,
                    self.period_key,
                    fact.at,
                    category,
                    self.version,
                    ref,
                    lead,
                ),
            )
        )
        if authors and cents:
            self._people(unit, cents, points, rule, category, authors, ref, lead)

    def _people(
        self,
        unit: str,
        cents: int,
        points: Decimal,
        rule: str,
        category: str,
        authors: tuple[Author, ...],
        ref: str,
        lead: bool,
    ) -> None:
        """One entry per co-author, the unit's `points` (`cents`) split by share with the
        largest remainder so that they add up exactly to it."""
        if len(authors) == 1:  # the common case: all of it, without the bookkeeping below
            author = authors[0]
            share = author.share
            text = self.solo_rules.get((rule, share))
            if text is None:
                text = self.solo_rules[(rule, share)] = f"{rule}；作者份额 {share}/{share}"
            fact = self.fact
            self.out.append(
                _new_entry(
                    Entry,
                    (
                        fact.event_id,
                        unit,
                        author.person,
                        points if share > 0 else self.points_of(0),
                        text,
                        fact.item_id,
                        self.period_key,
                        fact.at,
                        category,
                        self.version,
                        ref,
                        lead,
                    ),
                )
            )
            return
        shares = tuple(map(_SHARE, authors))
        texts = self.multi_rules.get((rule, shares))
        if texts is None:
            total = sum(shares)
            texts = self.multi_rules[(rule, shares)] = tuple(
                [f"{rule}；作者份额 {n}/{total}" for n in shares]
            )
        parts = self.splits.get((cents, shares))
        if parts is None:
            parts = self.splits[(cents, shares)] = tuple(
                [self.points_of(part) for part in _share_cents(cents, shares)]
            )
        fact = self.fact
        event_id, item_id, at = fact.event_id, fact.item_id, fact.at
        period_key, version, out = self.period_key, self.version, self.out
        for author, text, part in zip(authors, texts, parts, strict=True):
            out.append(
                _new_entry(
                    Entry,
                    (
                        event_id,
                        unit,
                        author.person,
                        part,
                        text,
                        item_id,
                        period_key,
                        at,
                        category,
                        version,
                        ref,
                        lead,
                    ),
                )
            )

    def credit(
        self,
        unit: str,
        role: str,
        cents: int,
        rule: str,
        category: str,
        authors: tuple[Author, ...],
        source_event: str = "",
        ref: str = "",
        lead: bool = False,
    ) -> None:
        """Give `cents` (within the caps) to `unit`, remembered under (source event, unit, role)."""
        item = self.item
        allowed = cents
        if self.recorded and self.recorded.get((self.fact.event_id, unit, category, ref)):
            allowed = self._booked(unit, category, ref)
        else:
            item_cap, period_cap = self.item_cap, self.period_cap
            if item_cap is not None:
                item_so_far = item.credited.get(unit, 0)
                room = item_cap - item_so_far
                if allowed > room and cents > 0:
                    allowed = room if room > 0 else 0
            if period_cap is not None:
                window = self.window
                so_far = window.get(unit, 0)
                room = period_cap - so_far
                if allowed > room and cents > 0:
                    allowed = room if room > 0 else 0
                window[unit] = so_far + allowed
            if item_cap is not None:
                # What was credited after both caps: an entry the period cap cut does not use
                # up the item's room.
                item.credited[unit] = item_so_far + allowed
        fact = self.fact
        event_id = fact.event_id
        key = (source_event or event_id, unit, role)
        credited = item.credited
        credited[key] = credited.get(key, 0) + allowed
        if allowed != cents:
            rule = f"{rule}{self.cap_note}{self.text(allowed)} 分）"
        if self.emit:
            sums = self.sums
            if sums is not None:
                cell = (unit, self.month(fact.at))
                sums[cell] = sums.get(cell, 0) + allowed
                return
            points = self.decimals.get(allowed)
            if points is None:
                points = self.points_of(allowed)
            item_id, at = fact.item_id, fact.at
            out = self.out
            out.append(
                _new_entry(
                    Entry,
                    (
                        event_id,
                        unit,
                        "",
                        points,
                        rule,
                        item_id,
                        self.period_key,
                        at,
                        category,
                        self.version,
                        ref,
                        lead,
                    ),
                )
            )
            if not authors or not allowed:
                return
            if len(authors) == 1:  # the common case, as in _people but without the call
                author = authors[0]
                text = self.solo_rules.get((rule, author.share))
                if text is not None and author.share > 0:
                    out.append(
                        _new_entry(
                            Entry,
                            (
                                event_id,
                                unit,
                                author.person,
                                points,
                                text,
                                item_id,
                                self.period_key,
                                at,
                                category,
                                self.version,
                                ref,
                                lead,
                            ),
                        )
                    )
                    return
            self._people(unit, allowed, points, rule, category, authors, ref, lead)

    def _booked(self, unit: str, category: str, ref: str) -> int:
        """The next amount the ledger recorded for this credit, counted towards the caps as it
        is (not capped again)."""
        allowed = self.recorded[(self.fact.event_id, unit, category, ref)].pop(0)
        if self.item_cap is not None:
            credited = self.item.credited
            credited[unit] = credited.get(unit, 0) + allowed
        if self.period_cap is not None:
            self.window[unit] = self.window.get(unit, 0) + allowed
        return allowed

    def reverse(
        self, key: tuple[str, str, str], rule: str, category: str, authors: tuple[Author, ...]
    ) -> None:
        """Take back exactly what `key` was credited (nothing when it was nothing)."""
        item = self.item
        amount = item.credited.get(key, 0)
        if not amount:
            return
        unit = key[1]
        item.credited[key] = 0
        if self.item_cap is not None:
            item.credited[unit] = item.credited.get(unit, 0) - amount
        if self.period_cap is not None:
            self.window[unit] = self.window.get(unit, 0) - amount
        if self.emit:
            self._emit(
                unit, -amount, self.points_of(-amount), rule, category, authors, key[0], False
            )

    def note(self, unit: str, rule: str, category: str) -> None:
        """A zero entry, so that drill-down shows why an event earned nothing."""
        if self.emit:
            self._emit(unit, 0, self.points_of(0), rule, category, (), "", False)

    def penalty(
        self, unit: str, amount: Decimal, rule: str, category: str, authors: tuple[Author, ...]
    ) -> None:
        """Penalties are outside the caps: a cap limits what is earned, not what is deducted."""
        if amount and self.emit:
            points = -q2(amount)
            self._emit(unit, _cents(points), points, rule, category, authors, "", False)

    # -- points ---------------------------------------------------------------------------------

    def source_shares(self, fact: Fact, total: int) -> tuple[int, str]:
        """This fact's item's part of `total` cents when several items were combined."""
        sources = fact.sources
        item_id = fact.item_id
        index = next((i for i, src in enumerate(sources) if src.item == item_id), -1)
        if len(sources) < 2 or index < 0:
            return total, ""
        s = self.scheme
        mine = sources[index]
        if self.lead_split:
            lead_weight = int(s.lead_fraction * 10000)
            others = len(sources) - 1
            rest = 10000 - lead_weight
            weights = [lead_weight * others if src.lead_source else rest for src in sources]
            fraction = s.lead_fraction if mine.lead_source else (ONE - s.lead_fraction) / others
            label = "主报" if mine.lead_source else "协报均分"
            note = f" × {label} {fmt(q2(fraction * 100))}%"
        else:
            weights = [src.share for src in sources]
            note = f" × 综合份额 {mine.share}%"
        return _share_cents(total, weights)[index], note

    # -- facts ----------------------------------------------------------------------------------

    def replay(self, facts: list[Fact], start: dt.datetime, end: dt.datetime) -> bool:
        """Apply the facts before `end`, with entries from `start` on; False as soon as two
        facts are not in time order (moment, then event id). Refuses a repeated event id.
        The hot path (a first submission) is written out here: it is most of a recompute."""
        if not facts:
            return True
        items, submit_rules, reach_rules = self.items, self.submit_rules, self.reach_rules
        first, credit, window_of = self.first, self.credit, self.window_of
        capped = self.period_cap is not None
        emitting = self.emit
        seen: set[str] = set()
        see = seen.add
        last_at, last_id = facts[0].at, ""
        window_end = last_at  # the end of the current cap window (moments only go forward)
        # The bounds in the facts' own time zone (UTC, as read): comparing two moments with
        # different tzinfo objects asks both for their offsets, fifteen times slower.
        zone = last_at.tzinfo
        if zone is not None and start.tzinfo is not None:
            start, end = start.astimezone(zone), end.astimezone(zone)
        for fact in facts:
            at = fact.at
            event_id = fact.event_id
            if at <= last_at and (at < last_at or event_id <= last_id):
                return False
            last_at, last_id = at, event_id
            see(event_id)
            if at >= end:
                continue
            if not emitting and at >= start:
                self.emit = emitting = True
            self.fact = fact
            kind = fact.kind
            item_id = fact.item_id
            if item_id is None:
                if kind == DEDUCT:
                    self.deduct(fact)
                continue
            item = items.get(item_id)
            if item is None:
                item = items[item_id] = _Item()
            self.item = item
            if capped and at >= window_end:
                self.window = self.window_total[window_of(at)]
                window_end = window_of.end
            if kind != SUBMIT:
                self.apply(fact, item, kind)
                continue
            if not item.submitted:  # a resubmission after a return earns nothing more
                item.submitted = True
                if first is not None:
                    first.moments.append(at)
                    first.units.append(fact.origin_unit)
                    first.kinds.append(fact.item_kind)
                if not item.void:
                    rule = submit_rules.get(fact.item_type)
                    if rule is None:
                        rule = self._submit_rule(fact.item_type)
                    credit(fact.origin_unit, "submit", rule[0], rule[1], "submit", fact.authors)
            if item.void:
                self.note(fact.origin_unit, "该稿件已认定抄袭或虚假，不计分", kind)
            elif fact.to_levels:
                levels = fact.to_levels
                if len(levels) > 1 or levels[0] in reach_rules:
                    self.reach(fact, item)
        if len(seen) != len(facts):
            _refuse_repeats(facts)
        return True

    def apply(self, fact: Fact, item: _Item, kind: str) -> None:
        """One fact about an item, other than a submission."""
        if kind == ADOPT:
            if item.void:
                self.note(fact.origin_unit, "该稿件已认定抄袭或虚假，不计分", kind)
            else:
                self.adopt(fact, item)
        elif kind in (FORWARD, INSTRUCT):
            if item.void:
                self.note(fact.origin_unit, "该稿件已认定抄袭或虚假，不计分", kind)
            elif kind == FORWARD:
                self.reach(fact, item)
            else:
                self.instruct(fact)
        elif kind in (CONFIRMED_COPY, FALSIFIED):
            self.void(fact, item)
        elif kind == DEDUCT:
            self.deduct(fact)
        elif kind == UNADOPT and not item.void:
            self.unadopt(fact, item)
        elif kind == RELEAD and not item.void:
            self.relead(fact, item)

    def _submit_rule(self, item_type: str) -> tuple[int, str]:
        """Points and rule of submitting an item type the scheme does not list."""
        name = ITEM_TYPE_LABEL.get(item_type, item_type)
        rule = self.submit_rules[item_type] = (0, f"报送{name} 0 分")
        return rule

    def reach(self, fact: Fact, item: _Item) -> None:
        levels = self.reach_levels.get(fact.to_levels)
        if levels is None:
            wanted = fact.to_levels
            if len(wanted) > 1:
                wanted = tuple(sorted(set(wanted), key=lambda lv: LEVEL_RANK.get(lv, 99)))
            levels = self.reach_levels[fact.to_levels] = tuple(
                (level, *self.reach_rules[level]) for level in wanted if level in self.reach_rules
            )
        for level, points, rule, role in levels:  # only the levels that earn points
            reached = item.reached
            if reached is None:
                reached = item.reached = set()
            elif level in reached:
                continue
            reached.add(level)
            self.credit(fact.origin_unit, role, points, rule, "reach", fact.authors)

    def worth(self, fact: Fact) -> tuple[int, str]:
        """What an adoption is worth to the fact's item (cents) with the rule in words: level ×
        publication kind × form, the lead multiplier, the item's share of a combined piece."""
        s = self.scheme
        key = (fact.adopting_level, fact.publication_kind, fact.form)
        base = self.adoption_cache.get(key)
        if base is None:
            value, text = adoption_points(s, *key)
            base = self.adoption_cache[key] = (_cents(value), text)
        points, rule = base
        if fact.is_lead and s.lead_multiplier != ONE:
            led = self.lead_cache.get(points)
            if led is None:
                led = self.lead_cache[points] = _cents(self.points_of(points) * s.lead_multiplier)
            points = led
            rule += self.lead_note
        if len(fact.sources) > 1:
            points, share_note = self.source_shares(fact, points)
            rule += share_note
        if "×" in rule:
            rule = f"{rule} = {self.text(points)} 分"
        return points, rule

    def adopt(self, fact: Fact, item: _Item) -> None:
        level, kind = fact.adopting_level, fact.publication_kind
        points, rule = self.worth(fact)
        rank = (
            (
                LEVEL_RANK.get(level, 99),
                self.kind_rank.get(kind, len(self.scheme.kind_order)),
                (fact.at, fact.event_id),
            )
            if self.highest
            else _UNRANKED
        )
        record = _Adoption(
            fact.event_id, fact.adoption_id, level, kind, rank, points, rule, fact.is_lead
        )
        if item.live is None:
            item.live = []
        item.live.append(record)
        if not self.highest:
            self._credit_adoption(fact, record, rule)
        else:
            best = item.best
            if best is None or record.rank < best.rank:
                if best is not None:
                    self.reverse(
                        (best.event_id, fact.origin_unit, "adopt"),
                        f"只计最高级别：冲减{LEVEL_LABEL.get(best.level, best.level)}"
                        f"{KIND_LABEL.get(best.kind, best.kind)}采用已计分",
                        "supersede",
                        fact.authors,
                    )
                item.best = record
                self._credit_adoption(fact, record, rule)
            else:
                self.note(
                    fact.origin_unit,
                    f"{rule}；只计最高级别，已按{LEVEL_LABEL.get(best.level, best.level)}"
                    f"{KIND_LABEL.get(best.kind, best.kind)}采用计分",
                    "adopt",
                )
        self._forward_credit(fact, record)

    def _credit_adoption(self, fact: Fact, record: _Adoption, rule: str) -> None:
        self.credit(
            fact.origin_unit,
            "adopt",
            record.points,
            rule,
            "adopt",
            fact.authors,
            record.event_id,
            "" if record.event_id == fact.event_id else record.event_id,
            record.lead,
        )

    def _forward_credit(self, fact: Fact, record: _Adoption, source_event: str = "") -> None:
        s = self.scheme
        forwarder = None
        for src in fact.sources:
            if src.item == fact.item_id:
                forwarder = src.forwarded_by
        if not forwarder or fact.adopting_level not in s.forward_credit:
            return
        level = fact.adopting_level
        rate = s.forward_credit[level]
        where = LEVEL_LABEL.get(level, level)
        if self.fraction:
            key = (record.points, level)
            points = self.fraction_cache.get(key)
            if points is None:
                points = self.fraction_cache[key] = _cents(self.points_of(record.points) * rate)
            rule = (
                f"转报稿件被{where}采用：采用分 {self.text(record.points)} × {fmt(rate)}"
                f" = {self.text(points)} 分"
            )
        else:
            points = _cents(rate)
            rule = f"转报稿件被{where}采用 {self.text(points)} 分"
        self.credit(forwarder, "forward", points, rule, "forward", (), source_event, source_event)

    def unadopt(self, fact: Fact, item: _Item) -> None:
        if not item.live:
            return
        gone = [a for a in item.live if a.adoption_id == fact.adoption_id]
        for record in gone:
            item.live.remove(record)
            where = f"{LEVEL_LABEL.get(record.level, record.level)}{KIND_LABEL.get(record.kind, record.kind)}"
            self.reverse(
                (record.event_id, fact.origin_unit, "adopt"),
                f"撤销{where}采用，冲减已计分",
                "withdraw",
                fact.authors,
            )
            for key in _forward_keys(item, record.event_id):
                self.reverse(key, f"撤销{where}采用，冲减转报计分", "withdraw", ())
            if self.highest and item.best is record:
                item.best = None
                if item.live:
                    best = min(item.live, key=_rank_of)
                    item.best = best
                    self._credit_adoption(fact, best, f"撤销采用后改按{best.rule}")

    def relead(self, fact: Fact, item: _Item) -> None:
        """调整头条: the adoption is worth what its new lead flag makes it. Where it stands
        credited, exactly what it was credited is taken back and the new worth credited (both
        under the adoption's event); a forwarder's credit in proportion to it follows."""
        live = item.live or []
        index = next((i for i, a in enumerate(live) if a.adoption_id == fact.adoption_id), -1)
        if index < 0 or live[index].lead == fact.is_lead:
            return
        record = live[index]
        points, rule = self.worth(fact)
        what = "设为头条" if fact.is_lead else "取消头条"
        new = _Adoption(
            record.event_id,
            record.adoption_id,
            record.level,
            record.kind,
            record.rank,
            points,
            f"{what}：{rule}",
            fact.is_lead,
        )
        live[index] = new
        if self.highest and item.best is not record:
            return  # not the adoption that counts: its new worth counts if it ever does
        if self.highest:
            item.best = new
        self.reverse(
            (record.event_id, fact.origin_unit, "adopt"),
            f"{what}，冲减原采用分",
            "relead",
            fact.authors,
        )
        self._credit_adoption(fact, new, new.rule)
        if self.fraction:
            forwards = _forward_keys(item, record.event_id)
            for key in forwards:
                self.reverse(key, f"{what}，冲减原转报计分", "relead", ())
            if forwards:
                self._forward_credit(fact, new, record.event_id)

    def instruct(self, fact: Fact) -> None:
        key = (fact.instruction_level, fact.principal)
        rank = "主要领导" if fact.principal else "其他领导"
        who = f"{LEVEL_LABEL.get(fact.instruction_level, fact.instruction_level)}{rank}批示"
        if key not in self.scheme.instruction_points:
            self.note(fact.origin_unit, f"{who}未列入计分", "instruct")
            return
        points = _cents(self.scheme.instruction_points[key])
        part, share_note = self.source_shares(fact, points)
        rule = f"{who} +{self.text(points)} 分{share_note}"
        if share_note:
            rule += f" = {self.text(part)} 分"
        self.credit(fact.origin_unit, "instruct", part, rule, "instruct", fact.authors)

    def void(self, fact: Fact, item: _Item) -> None:
        if item.void:
            return
        item.void = True
        what = "抄袭" if fact.kind == CONFIRMED_COPY else "虚假"
        rule = f"认定{what}，冲减该稿件已计分"
        for key in _credit_keys(item):
            authors = fact.authors if key[1] == fact.origin_unit and key[2] != "forward" else ()
            self.reverse(key, rule, "void", authors)
        penalty = self.scheme.copy_penalty if what == "抄袭" else self.scheme.falsify_penalty
        if penalty:
            self.penalty(
                fact.origin_unit,
                penalty,
                f"认定{what}，另扣 {fmt(q2(penalty))} 分",
                "penalty",
                fact.authors,
            )

    def deduct(self, fact: Fact) -> None:
        reason = fact.note or "考核扣分"
        self.penalty(
            fact.origin_unit,
            fact.points,
            f"{reason}，扣 {fmt(q2(fact.points))} 分",
            "deduct",
            fact.authors,
        )


def _credit_keys(item: _Item) -> list[tuple[str, str, str]]:
    """The (source event, unit, role) keys credited from an item, in the order first credited."""
    return [key for key in item.credited if isinstance(key, tuple)]


def _forward_keys(item: _Item, event_id: str) -> list[tuple[str, str, str]]:
    """The forwarders' credit keys that came with the adoption of `event_id`."""
    return [k for k in _credit_keys(item) if k[0] == event_id and k[2] == "forward"]


def _rank_of(record: _Adoption) -> tuple[int, int, tuple[dt.datetime, str]]:
    return record.rank


def adoption_points(scheme: Scheme, level: str, kind: str, form: str) -> tuple[Decimal, str]:
    """Points for one adoption before the lead multiplier and shares, with the rule in words."""
    s = scheme
    where = f"{LEVEL_LABEL.get(level, level)}{KIND_LABEL.get(kind, kind)}"
    form_name = FORM_LABEL.get(form, form)
    for k, f in ((kind, form), (kind, WILDCARD), (WILDCARD, form), (WILDCARD, WILDCARD)):
        if (level, k, f) in s.adoption_table:
            points = q2(s.adoption_table[(level, k, f)])
            return points, f"{where}{form_name}采用 {fmt(points)} 分"
    if level not in s.adoption_base:
        return ZERO, f"{where}{form_name}采用未列入计分"
    base = s.adoption_base[level]
    kind_f = s.kind_factor.get(kind, ONE)
    form_f = s.form_factor.get(form, ONE)
    points = q2(base * kind_f * form_f)
    rule = f"{where}{form_name}采用 {fmt(base)} 分"
    if kind_f != ONE:
        rule += f" × {KIND_LABEL.get(kind, kind)} {fmt(kind_f)}"
    if form_f != ONE:
        rule += f" × {form_name} {fmt(form_f)}"
    return points, rule


def _history(facts: Iterable[Fact]) -> list[Fact]:
    """The facts in time order (ties by event id)."""
    # Two stable sorts by one key each: half the time of one sort by (moment, event id) tuples.
    ordered = sorted(facts, key=_EVENT_ID)
    ordered.sort(key=_AT)
    return ordered


def _refuse_repeats(ordered: Sequence[Fact]) -> None:
    seen: set[str] = set()
    for fact in ordered:
        if fact.event_id in seen:
            raise ValueError(f"事件编号“{fact.event_id}”重复。")
        seen.add(fact.event_id)


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    """The facts in time order, refusing a repeated event id."""
    ordered = _history(facts)
    if len({f.event_id for f in ordered}) != len(ordered):
        _refuse_repeats(ordered)
    return ordered


def score(
    scheme: Scheme,
    facts: Iterable[Fact],
    period: Period,
    *,
    units: Sequence[str] = (),
    window_seed: Mapping[tuple[str, str], Decimal] | None = None,
    recorded: Iterable[Recorded] = (),
) -> list[Entry]:
    """The ledger entries of `period` under `scheme`: pass every fact up to the period's end
    (earlier facts decide what was already credited). Each unit entry is followed by its
    co-authors' entries, which sum exactly to it. Quota deductions are judged for `units` at the
    end of each quota window that ends inside the period.

    Incremental scoring (one new event at a time): pass the facts of the event's item up to and
    including it (only the fact itself for a `deduct` without an item) and keep the entries whose
    `event_id` is the new event's; quota entries are written separately when a window closes.
    Everything but the period cap depends on the item's own facts alone, so for a scheme without
    `period_cap` that is all. The period cap depends on what other items earned in the window,
    which the call does not see, so two more things are needed:

    - `window_seed`: (unit, window key as `window_key(scheme.period_cap_per, at, tz)` gives,
      `tz` being the time zone of `period.start`) → net points credited to that unit in that
      window by the facts not passed, counting only entries of `CAP_CATEGORIES` (caps limit
      what is earned: penalties, deductions and quota entries do not count). `window_credit()`
      sums ledger entries that way; `cap_windows(scheme, [new fact], tz)` lists the only keys the
      new fact needs.
    - `recorded`: the unit entries (person empty) the ledger already holds for the earlier facts
      of the call, as (event id, unit, category, ref, points), in ledger order. Their points are
      taken as credited instead of being computed again. This cannot be avoided: when a period
      cap cut an earlier entry of the item, how much it cut depended on the other items' credit
      at that moment, which a seed taken now no longer shows, and a later reversal (撤销采用,
      认定抄袭, only-the-highest-level) must take back exactly what was credited, as must the item
      cap and the window total of the new event.

    With both, the incremental entries equal those of one `score()` over all facts (tested).

    Facts may come in any order; facts already in time order (moment, then event id), as the
    app reads them, are not sorted again."""
    recorded = list(recorded)
    judged = bool(units) and any(q2(quota.deduction) for quota in scheme.quotas)
    with bulk_objects():
        run = _run_in_order(
            scheme,
            facts,
            lambda history: _replayed(scheme, history, period, window_seed, recorded, judged),
        )
        entries = run.out
        if run.first is not None:
            quota = _quota_entries(scheme, run.first, period, units)
            if quota:
                entries = _merged(entries, quota)
    return entries


_Month = TypeVar("_Month", bound=Hashable)


def unit_sums(
    scheme: Scheme,
    facts: Iterable[Fact],
    period: Period,
    month: Callable[[dt.datetime], _Month],
) -> dict[tuple[str, _Month], int]:
    """What `score` would give each unit, as cents per (unit, `month(moment)`), without making
    the entries: the sums of its unit entries (quota entries are not judged). What a recompute
    compares with the monthly rollup; tested equal to summing `score`'s entries."""
    with bulk_objects():
        run = _run_in_order(
            scheme,
            facts,
            lambda history: _replayed(scheme, history, period, None, [], False, month),
        )
    sums: dict[tuple[str, _Month], int] = run.sums  # type: ignore[assignment]
    return {cell: cents for cell, cents in sums.items() if cents}


def _run_in_order(
    scheme: Scheme, facts: Iterable[Fact], replayed: Callable[[list[Fact]], _Run | None]
) -> _Run:
    """The run `replayed` gives for the facts in time order. Facts usually come in time order
    (as the app reads them); sorting 300,000 objects scattered in memory would cost a sixth of
    a recompute, so they are sorted only when they turn out not to be. Refuses an invalid
    scheme and a repeated event id."""
    errors = validate(scheme)
    if errors:
        raise ValueError("；".join(errors))
    history = facts if isinstance(facts, list) else list(facts)
    run = replayed(history) if _looks_ordered(history) else None
    if run is None:
        history = _history(history)
        run = replayed(history)
        if run is None:  # in order once sorted, so two facts share moment and event id
            _refuse_repeats(history)
            raise AssertionError("facts in order once sorted replayed out of order")
    return run


def _no_month(at: dt.datetime) -> Hashable:
    raise AssertionError("a run without sums has no months")


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Around reading and scoring a period: that builds hundreds of thousands of small objects
    (rows, facts, entries) that hold no reference cycles, and the cyclic collector would only
    walk them again and again as they pile up (two fifths of a year's recompute)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _looks_ordered(facts: Sequence[Fact]) -> bool:
    """Whether a sample of the facts (every n-th, about 500) is in time order: a cheap guess
    that spares replaying a long unordered list only to find it out of order late."""
    sample = facts[:: max(1, len(facts) // 500)]
    keys = [(f.at, f.event_id) for f in sample]
    return all(a < b for a, b in pairwise(keys))


def _replayed(
    scheme: Scheme,
    facts: list[Fact],
    period: Period,
    window_seed: Mapping[tuple[str, str], Decimal] | None,
    recorded: list[Recorded],
    judged: bool,
    month: Callable[[dt.datetime], Hashable] | None = None,
) -> _Run | None:
    """The run of `facts` before the period's end, with entries from its start (with `month`,
    only each unit's cents by month, in `run.sums`); None when two facts are not in time order
    (moment, then event id). Refuses a repeated event id."""
    run = _Run(scheme, period, window_seed, recorded)
    if judged:
        run.first = _Submissions()
    if month is not None:
        run.sums, run.month = {}, month
    return run if run.replay(facts, period.start, period.end) else None


def _merged(entries: list[Entry], later: list[Entry]) -> list[Entry]:
    """`entries` (in time order) with `later` placed after every entry of the same moment, as a
    stable sort by moment of `entries + later` would."""
    merged: list[Entry] = []
    done = 0
    for entry in sorted(later, key=_AT):
        upto = bisect_right(entries, entry.at, lo=done, key=_AT)
        merged.extend(entries[done:upto])
        merged.append(entry)
        done = upto
    merged.extend(entries[done:])
    return merged


def cap_windows(
    scheme: Scheme, facts: Iterable[Fact], tz: dt.tzinfo | None
) -> set[tuple[str, str]]:
    """The (unit, cap window) keys whose credit by other facts can change what `facts` earn under
    the period cap: the origin unit of each fact's item, and for an adoption (or a change of its
    lead flag) the unit that forwarded the item, in the window of the fact's moment (in `tz`, the
    scored period's time zone). Empty when the scheme has no period cap. For an incremental call
    (see `score`) pass only the new fact: with `recorded`, the earlier facts never look at the
    cap."""
    if scheme.period_cap is None:
        return set()
    keys: set[tuple[str, str]] = set()
    for fact in facts:
        if fact.item_id is None or fact.kind == DEDUCT:
            continue
        window = window_key(scheme.period_cap_per, fact.at, tz)
        keys.add((fact.origin_unit, window))
        if fact.kind in (ADOPT, RELEAD):
            for src in fact.sources:
                if src.item == fact.item_id and src.forwarded_by:
                    keys.add((src.forwarded_by, window))
    return keys


class LedgerLine(Protocol):
    """What `window_credit` reads from a ledger line (an `Entry`, or a row with these names)."""

    @property
    def unit(self) -> str: ...
    @property
    def person(self) -> str: ...
    @property
    def points(self) -> Decimal: ...
    @property
    def category(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...


def window_credit(
    scheme: Scheme, entries: Iterable[LedgerLine], tz: dt.tzinfo | None
) -> dict[tuple[str, str], Decimal]:
    """Net points per (unit, cap window) counted by the period cap: the unit entries of
    `CAP_CATEGORIES` summed by `window_key(scheme.period_cap_per, at, tz)`; what `score()` takes
    as `window_seed` when given the entries of the facts not passed."""
    totals: dict[tuple[str, str], Decimal] = {}
    grain = scheme.period_cap_per
    for e in entries:
        if e.person or e.category not in CAP_CATEGORIES:
            continue
        key = (e.unit, window_key(grain, e.at, tz))
        totals[key] = totals.get(key, ZERO) + e.points
    return totals


# ---------------------------------------------------------------------------------------------
# Quotas


@dataclass(frozen=True)
class QuotaStatus:
    """One unit against one quota in one window. `closed` windows end inside the period and are
    judged; an open window shows progress so far and deducts nothing yet."""

    unit: str
    quota: str
    window: str
    start: dt.datetime
    end: dt.datetime
    closed: bool
    submitted: int
    by_kind: tuple[tuple[str, int], ...]
    met: bool
    reason: str
    deduction: Decimal


def _windows(grain: str, period: Period) -> list[Period]:
    """Windows that end inside the period, then the one still open at its end (if any)."""
    windows: list[Period] = []
    window = period_containing(grain, period.start)
    while True:
        windows.append(window)
        if window.end >= period.end:
            break
        window = period_containing(grain, window.end)
    return windows


def _missing(quota: Quota, submitted: int, by_kind: Mapping[str, int]) -> list[str]:
    """What a unit lacks to meet a quota in a window, in words (empty when met)."""
    missing = []
    if submitted < quota.min_items:
        missing.append(f"报送 {submitted} 条，少于 {quota.min_items} 条")
    for kind, need in quota.min_kinds:
        have = by_kind.get(kind, 0)
        if have < need:
            missing.append(f"{ITEM_KIND_LABEL.get(kind, kind)} {have} 条，少于 {need} 条")
    return missing


class _Submissions:
    """The first submission of each item in time order, as parallel lists."""

    __slots__ = ("kinds", "moments", "units")

    def __init__(self) -> None:
        self.moments: list[dt.datetime] = []
        self.units: list[str] = []
        self.kinds: list[str] = []


_Counts = dict[str, dict[Any, int]]  # window key → unit (or (unit, item kind)) → items


def _submission_counts(
    first: _Submissions, grain: str, period: Period, wanted: Iterable[str]
) -> tuple[_Counts, _Counts]:
    """Items first submitted per window and unit, and per window and (unit, item kind) for the
    `wanted` item kinds, for the windows of `grain` that end inside the period."""
    tz = period.start.tzinfo
    totals: _Counts = defaultdict(dict)
    kinds: _Counts = defaultdict(dict)
    moments, origins, item_kinds = first.moments, first.units, first.kinds
    if tz is None or not moments or moments[0].tzinfo is None:
        for at, origin, kind in zip(moments, origins, item_kinds, strict=True):
            key = window_key(grain, at, tz)
            totals[key][origin] = totals[key].get(origin, 0) + 1
            kinds[key][(origin, kind)] = kinds[key].get((origin, kind), 0) + 1
        return totals, kinds
    # Aware moments in time order: each window is a slice, counted at C speed.
    for window in _windows(grain, period):
        if window.end > period.end:
            continue
        lo = bisect_left(moments, window.start)
        hi = bisect_left(moments, window.end, lo)
        if lo < hi:
            totals[window.key] = Counter(origins[lo:hi])
            by_kind = kinds[window.key]
            for kind in wanted:
                of_kind = compress(origins[lo:hi], map(eq, item_kinds[lo:hi], repeat(kind)))
                for unit, n in Counter(of_kind).items():
                    by_kind[(unit, kind)] = n
    return totals, kinds


def _quota_entries(
    scheme: Scheme,
    first: _Submissions,
    period: Period,
    units: Sequence[str],
) -> list[Entry]:
    """The deductions for quota windows ending inside the period that `units` missed, as
    `quota_status` judges them (only quotas that deduct something), from the first submission
    of each item in time order."""
    judged = [quota for quota in scheme.quotas if q2(quota.deduction)]
    if not judged:
        return []
    assessed = sorted(set(units))
    counted: dict[str, tuple[_Counts, _Counts]] = {}
    entries: list[Entry] = []
    for quota in judged:
        grain = quota.per
        if grain not in counted:
            wanted = {k for q in judged if q.per == grain for k, _n in q.min_kinds}
            counted[grain] = _submission_counts(first, grain, period, sorted(wanted))
        totals, kinds = counted[grain]
        deduction = q2(quota.deduction)
        points = -deduction
        rule_end = f"，扣 {fmt(deduction)} 分"
        label = GRAIN_LABEL[quota.per]
        least = quota.min_items
        for window in _windows(grain, period):
            if window.end > period.end:
                continue
            at = window.end - dt.timedelta(microseconds=1)
            submitted = totals.get(window.key, {})
            by_kind = kinds.get(window.key, {})
            for unit in assessed:
                count = submitted.get(unit, 0)
                if count >= least and (
                    not quota.min_kinds
                    or all(by_kind.get((unit, kind), 0) >= need for kind, need in quota.min_kinds)
                ):
                    continue
                missing = _missing(
                    quota, count, {k: by_kind.get((unit, k), 0) for k, _n in quota.min_kinds}
                )
                reason = f"{window.key}{quota.label}未完成（本{label}{'；'.join(missing)}）"
                entries.append(
                    _new_entry(
                        Entry,
                        (
                            f"quota:{window.key}:{quota.label}:{unit}",
                            unit,
                            "",
                            points,
                            reason + rule_end,
                            None,
                            period.key,
                            at,
                            "quota",
                            scheme.version,
                            "",
                            False,
                        ),
                    )
                )
    return entries


def quota_status(
    scheme: Scheme, facts: Iterable[Fact], period: Period, units: Sequence[str]
) -> list[QuotaStatus]:
    """Each unit against each quota: items first submitted in each window, by kind. Windows are
    calendar weeks/months/quarters/years in the time zone of `period.start`."""
    first: dict[int, tuple[dt.datetime, str, str]] = {}
    for fact in _ordered(facts):
        if fact.kind == SUBMIT and fact.item_id is not None and fact.item_id not in first:
            first[fact.item_id] = (fact.at, fact.origin_unit, fact.item_kind)
    tz = period.start.tzinfo
    assessed = sorted(set(units))
    counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for grain in sorted({quota.per for quota in scheme.quotas}):
        for at, origin, kind in first.values():
            if at < period.end:
                counts[(grain, window_key(grain, at, tz), origin)][kind] += 1
    statuses: list[QuotaStatus] = []
    for quota in scheme.quotas:
        for window in _windows(quota.per, period):
            closed = window.end <= period.end
            for unit in assessed:
                kinds = counts.get((quota.per, window.key, unit)) or defaultdict(int)
                submitted = sum(kinds.values())
                missing = []
                if submitted < quota.min_items:
                    missing.append(f"报送 {submitted} 条，少于 {quota.min_items} 条")
                for kind, need in quota.min_kinds:
                    if kinds[kind] < need:
                        missing.append(
                            f"{ITEM_KIND_LABEL.get(kind, kind)} {kinds[kind]} 条，少于 {need} 条"
                        )
                met = not missing
                grain = GRAIN_LABEL[quota.per]
                reason = (
                    f"{window.key}{quota.label}：已完成"
                    if met
                    else f"{window.key}{quota.label}未完成（本{grain}{'；'.join(missing)}）"
                )
                statuses.append(
                    QuotaStatus(
                        unit=unit,
                        quota=quota.label,
                        window=window.key,
                        start=window.start,
                        end=window.end,
                        closed=closed,
                        submitted=submitted,
                        by_kind=tuple(sorted(kinds.items())),
                        met=met,
                        reason=reason,
                        deduction=q2(quota.deduction) if closed and not met else ZERO,
                    )
                )
    return statuses


# ---------------------------------------------------------------------------------------------
# Totals and rankings


class Total(NamedTuple):
    """A unit's (or a person's) figures from a list of entries (a named tuple: an authors'
    ranking makes tens of thousands)."""

    key: str
    points: Decimal
    submitted: int = 0
    adopted: int = 0
    lead_items: int = 0
    instructions: int = 0

    @property
    def adoption_rate(self) -> Decimal | None:
        """Adopted items per submitted item, in percent (None when nothing was submitted)."""
        if not self.submitted:
            return None
        return q2(Decimal(self.adopted) * 100 / self.submitted)


def _totals(entries: Iterable[Entry], key_of: str) -> dict[str, Total]:
    points: dict[str, Decimal] = defaultdict(lambda: ZERO)
    submitted: dict[str, set[int]] = defaultdict(set)
    adopted: dict[str, set[int]] = defaultdict(set)
    lead: dict[str, set[int]] = defaultdict(set)
    voided: dict[str, set[int]] = defaultdict(set)
    instructions: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if (e.person != "") != (key_of == "person"):
            continue
        key = e.person if key_of == "person" else e.unit
        points[key] += e.points
        if e.item_id is None:
            continue
        if e.category == "submit":
            submitted[key].add(e.item_id)
        elif e.category == "adopt":
            adopted[key].add(e.item_id)
            if e.lead and e.points > 0:
                lead[key].add(e.item_id)
        elif e.category == "void":
            voided[key].add(e.item_id)
        elif e.category == "instruct" and e.points > 0:
            instructions[key].add(e.event_id)
    return {
        key: Total(
            key=key,
            points=q2(points[key]),
            submitted=len(submitted[key]),
            adopted=len(adopted[key] - voided[key]),
            lead_items=len(lead[key] - voided[key]),
            instructions=len(instructions[key]),
        )
        for key in sorted(points)
    }


def unit_totals(entries: Iterable[Entry]) -> dict[str, Total]:
    """Per unit: the sum of its entries, and items submitted, adopted, lead items, instructions."""
    return _totals(entries, "unit")


def person_totals(entries: Iterable[Entry]) -> dict[str, Total]:
    """Per author: the sum of their share entries (which add up exactly to the unit's points)."""
    return _totals(entries, "person")


class Ranked(NamedTuple):
    rank: int
    key: str
    total: Total
    previous_rank: int | None
    change: int | None  # positive: moved up that many places


RANK_KEYS = ("points", "adopted", "submitted", "lead_items", "instructions", "adoption_rate")


def rank(
    totals: Iterable[Total],
    *,
    tie_break: Sequence[str] = ("points", "adopted"),
    previous: Mapping[str, int] | None = None,
) -> list[Ranked]:
    """Competition ranking (1, 2, 2, 4) by `tie_break` figures, all descending; equal figures
    share a rank and are listed by key (unit code) ascending. `previous` maps key → last rank."""
    for name in tie_break:
        if name not in RANK_KEYS:
            raise ValueError(f"未知的排名依据“{name}”。")

    # Each total's figures once (an authors' ranking sorts tens of thousands); ints and
    # Decimals compare exactly as they are, a missing rate as -1.
    names = tuple(tie_break)
    result: list[Ranked] = []
    with bulk_objects():
        keyed: list[tuple[tuple[Decimal | int, ...], Total]]
        if "adoption_rate" in names:  # the only figure that can be missing
            keyed = [
                (tuple(-1 if v is None else v for v in (getattr(t, n) for n in names)), t)
                for t in totals
            ]
        elif len(names) == 1:
            get = attrgetter(names[0])
            keyed = [((get(t),), t) for t in totals]
        else:
            get = attrgetter(*names)
            keyed = [(get(t), t) for t in totals]
        # By key, then by figures descending: a stable sort keeps the keys' order among equals
        # (negating each Decimal for one ascending sort cost more than the sorting).
        keyed.sort(key=lambda item: item[1].key)
        keyed.sort(key=itemgetter(0), reverse=True)
        last: tuple[Decimal | int, ...] | None = None
        for position, (figures, total) in enumerate(keyed, start=1):
            place = result[-1].rank if result and figures == last else position
            last = figures
            before = previous.get(total.key) if previous is not None else None
            result.append(
                Ranked(place, total.key, total, before, None if before is None else before - place)
            )
    return result


def ranks_of(ranking: Iterable[Ranked]) -> dict[str, int]:
    """key → rank, to pass as `previous` when ranking the next period."""
    return {r.key: r.rank for r in ranking}


# ---------------------------------------------------------------------------------------------
# Demo schemes (documented in docs/scoring.md)


def _d(table: Mapping[str, int | str]) -> dict[str, Decimal]:
    return {k: Decimal(str(v)) for k, v in table.items()}


CITY_HIGHEST = Scheme(
    version="demo-city-highest-v1",
    label="市委办公室信息工作计分办法（只计最高级别）",
    submit_points=_d({"info": 5, "news": 3, "special": 8}),
    reach_points=_d({"province": 5, "central": 5}),
    adoption_base=_d({"county": 3, "city": 10, "province": 40, "central": 80}),
    kind_factor=_d(
        {"special": "1.5", "journal": 1, "bulletin": 1, "website": "0.5", "wechat": "0.5"}
    ),
    form_factor=_d({"whole": 1, "excerpt": "0.6", "combined": "0.8", "one_line": "0.3"}),
    lead_multiplier=Decimal("1.5"),
    instruction_points={
        ("central", True): Decimal(100),
        ("central", False): Decimal(80),
        ("province", True): Decimal(60),
        ("province", False): Decimal(40),
        ("city", True): Decimal(30),
        ("city", False): Decimal(15),
        ("county", True): Decimal(5),
        ("county", False): Decimal(2),
    },
    level_policy="highest",
    combined_credit="lead_split",
    lead_fraction=Decimal("0.5"),
    forward_credit=_d({"province": 5, "central": 10}),
    forward_credit_mode="points",
    quotas=(
        Quota("每周报送任务", "week", 2),
        Quota(
            "季度报送任务",
            "quarter",
            10,
            min_kinds=(("analysis", 2),),
            deduction=Decimal(10),
        ),
    ),
    copy_penalty=Decimal(20),
    falsify_penalty=Decimal(50),
    item_cap=Decimal(200),
)

PROVINCE_ADD = Scheme(
    version="demo-province-add-v1",
    label="省委办公厅信息工作计分办法（逐级累加）",
    submit_points=_d({"info": 5, "news": 2, "special": 5}),
    reach_points=_d({"province": 5, "central": 10}),
    adoption_table={
        ("city", "website", WILDCARD): Decimal(3),
        ("city", "wechat", WILDCARD): Decimal(3),
        ("province", "website", WILDCARD): Decimal(8),
        ("province", "wechat", WILDCARD): Decimal(8),
        ("central", "special", "whole"): Decimal(100),
    },
    adoption_base=_d({"city": 10, "province": 40, "central": 80}),
    kind_factor=_d({"special": "1.2"}),
    form_factor=_d({"excerpt": "0.5", "combined": "0.5", "one_line": "0.2"}),
    lead_multiplier=Decimal(2),
    instruction_points={
        ("central", True): Decimal(150),
        ("central", False): Decimal(100),
        ("province", True): Decimal(50),
        ("province", False): Decimal(30),
        ("city", True): Decimal(30),
        ("city", False): Decimal(10),
    },
    level_policy="add",
    combined_credit="shares",
    forward_credit=_d({"province": "0.2", "central": "0.2"}),
    forward_credit_mode="fraction",
    quotas=(
        Quota("每月报送任务", "month", 8, deduction=Decimal(5)),
        Quota(
            "季度研判任务",
            "quarter",
            0,
            min_kinds=(("analysis", 2),),
            deduction=Decimal(10),
        ),
    ),
    copy_penalty=Decimal(30),
    falsify_penalty=Decimal(60),
    item_cap=Decimal(300),
    period_cap=Decimal(600),
    period_cap_per="month",
)

DEMO_SCHEMES: tuple[Scheme, ...] = (CITY_HIGHEST, PROVINCE_ADD)
