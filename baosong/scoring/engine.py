"""The scoring engine (计分引擎): plain data in, plain data out, no Django.

A `Scheme` says what every recorded event is worth; `score()` replays the `Fact`s (the events of
submissions and publications) in time order and returns ledger `Entry`s for units and their
authors, each with the event it comes from and a short Chinese rule saying why. All arithmetic is
`Decimal` with two places, rounded half up. Entries at a moment depend only on facts up to that
moment, so scoring a later period never changes an earlier period's entries, and a correction is
always a new (negative) entry, never an edit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, Protocol

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
INSTRUCT = "instruct"  # 批示 on an adoption
DEDUCT = "deduct"  # 扣分 decided by the assessing unit (points > 0 are deducted)
CONFIRMED_COPY = "confirmed_copy"  # 认定抄袭: the item's points are reversed, plus a penalty
FALSIFIED = "falsified"  # 认定虚假: likewise
FACT_KINDS = (SUBMIT, FORWARD, ADOPT, UNADOPT, INSTRUCT, DEDUCT, CONFIRMED_COPY, FALSIFIED)

# Entry categories (what kind of credit or correction an entry is).
CATEGORIES = (
    "submit",
    "reach",
    "adopt",
    "forward",
    "instruct",
    "supersede",
    "withdraw",
    "void",
    "penalty",
    "deduct",
    "quota",
)
# Categories that count toward the period cap (what was earned and its reversals); penalties,
# deductions and quota deductions are outside the caps.
CAP_CATEGORIES = frozenset(
    ("submit", "reach", "adopt", "forward", "instruct", "supersede", "withdraw", "void")
)

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


@dataclass(frozen=True)
class Author:
    person: str
    share: int  # percent; an item's shares sum to 100


@dataclass(frozen=True)
class Source:
    """One source item of an adoption (a combined piece has several, one of them the lead)."""

    item: int
    origin_unit: str
    share: int = 100
    lead_source: bool = False  # 主报 of a combined piece
    forwarded_by: str | None = None  # the unit that forwarded the item to the adopting unit


@dataclass(frozen=True)
class Fact:
    """One recorded event about one item (or, for `deduct` without an item, about one unit).

    `origin_unit` is the unit that wrote the item (and the unit a `deduct` is taken from),
    `authors` its co-authors with shares. `adopting_unit`/`adopting_level` are the acting unit of
    adopt/unadopt/instruct; for `forward` they are the forwarding unit. `to_levels` are the levels
    of the units a submit or forward went to. An adoption of several items is one fact per item,
    each with all `sources`."""

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


@dataclass
class _Adoption:
    event_id: str
    adoption_id: int | None
    level: str
    kind: str
    order: tuple[dt.datetime, str]
    points: Decimal  # this item's share, lead multiplier applied, before policy and caps
    rule: str
    lead: bool


@dataclass
class _Item:
    submitted: bool = False
    reached: set[str] = field(default_factory=set)
    live: list[_Adoption] = field(default_factory=list)
    best: str | None = None  # event id of the credited adoption (highest policy)
    void: bool = False


@dataclass
class _Raw:
    at: dt.datetime
    event_id: str
    unit: str
    points: Decimal
    rule: str
    item_id: int | None
    category: str
    authors: tuple[Author, ...]
    ref: str = ""
    lead: bool = False


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


class _Run:
    """One replay of the facts under one scheme."""

    def __init__(
        self,
        scheme: Scheme,
        tz: dt.tzinfo | None,
        window_seed: Mapping[tuple[str, str], Decimal] | None = None,
        recorded: Iterable[Recorded] = (),
    ) -> None:
        self.scheme = scheme
        self.tz = tz  # calendar windows (period caps) are counted in this time zone
        self.items: dict[int, _Item] = defaultdict(_Item)
        # Net credit per (source event, unit, role), so reversals undo exactly what was given.
        self.credited: dict[tuple[str, str, str], Decimal] = {}
        self.credit_log: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        self.item_total: dict[tuple[int, str], Decimal] = {}
        self.window_total: dict[tuple[str, str], Decimal] = dict(window_seed or {})
        # What the ledger already credited for the events of this call, in ledger order.
        self.recorded: dict[tuple[str, str, str, str], list[Decimal]] = defaultdict(list)
        for event_id, unit, category, ref, points in recorded:
            self.recorded[(event_id, unit, category, ref)].append(points)
        self.last_window: Period | None = None
        self.out: list[_Raw] = []
        self.points_cache: dict[tuple[str, str, str], tuple[Decimal, str]] = {}

    # -- caps and credit bookkeeping ----------------------------------------------------------

    def _capped(self, unit: str, item: int | None, at: dt.datetime, amount: Decimal) -> Decimal:
        s = self.scheme
        allowed = amount
        item_key = None
        if s.item_cap is not None and item is not None:
            item_key = (item, unit)
            item_so_far = self.item_total.get(item_key, ZERO)
            if amount > 0 and allowed > s.item_cap - item_so_far:
                allowed = max(ZERO, s.item_cap - item_so_far)
        if s.period_cap is not None:
            window = (unit, self._window(at))
            so_far = self.window_total.get(window, ZERO)
            if amount > 0 and allowed > s.period_cap - so_far:
                allowed = max(ZERO, s.period_cap - so_far)
            self.window_total[window] = so_far + allowed
        if item_key is not None:
            # What was credited after both caps: an entry the period cap cut does not use up
            # the item's room (it used to, so a later reversal of it left the item short).
            self.item_total[item_key] = item_so_far + allowed
        return allowed

    def _booked(self, unit: str, item: int | None, at: dt.datetime, allowed: Decimal) -> Decimal:
        """Count an amount the ledger already credited towards the caps, without capping it."""
        s = self.scheme
        if s.item_cap is not None and item is not None:
            key = (item, unit)
            self.item_total[key] = self.item_total.get(key, ZERO) + allowed
        if s.period_cap is not None:
            window = (unit, self._window(at))
            self.window_total[window] = self.window_total.get(window, ZERO) + allowed
        return allowed

    def _window(self, at: dt.datetime) -> str:
        """The cap window of a moment; facts come in time order, so the last one usually fits."""
        last = self.last_window
        if last is not None and last.start <= at < last.end:
            return last.key
        local = at.astimezone(self.tz) if self.tz is not None and at.tzinfo is not None else at
        self.last_window = period_containing(self.scheme.period_cap_per, local)
        return self.last_window.key

    def _cap_note(self, amount: Decimal, allowed: Decimal) -> str:
        if allowed == amount:
            return ""
        s = self.scheme
        caps = []
        if s.item_cap is not None:
            caps.append(f"单条上限 {fmt(s.item_cap)} 分")
        if s.period_cap is not None:
            caps.append(f"每{GRAIN_LABEL[s.period_cap_per]}上限 {fmt(s.period_cap)} 分")
        return f"（受{'、'.join(caps)}限制，实计 {fmt(allowed)} 分）"

    def credit(
        self,
        fact: Fact,
        unit: str,
        role: str,
        amount: Decimal,
        rule: str,
        category: str,
        authors: tuple[Author, ...],
        *,
        source_event: str | None = None,
        ref: str = "",
        lead: bool = False,
    ) -> Decimal:
        """Give `amount` (within the caps) to `unit`, remembered under (source event, unit, role)."""
        key = (source_event or fact.event_id, unit, role)
        known = self.recorded.get((fact.event_id, unit, category, ref)) if self.recorded else None
        if known:
            allowed = self._booked(unit, fact.item_id, fact.at, known.pop(0))
        else:
            allowed = self._capped(unit, fact.item_id, fact.at, amount)
        self.credited[key] = self.credited.get(key, ZERO) + allowed
        if fact.item_id is not None:
            self.credit_log[fact.item_id].append(key)
        self.out.append(
            _Raw(
                fact.at,
                fact.event_id,
                unit,
                allowed,
                rule + self._cap_note(amount, allowed),
                fact.item_id,
                category,
                authors,
                ref,
                lead,
            )
        )
        return allowed

    def reverse(
        self,
        fact: Fact,
        key: tuple[str, str, str],
        rule: str,
        category: str,
        authors: tuple[Author, ...],
    ) -> None:
        """Take back exactly what `key` was credited (nothing when it was nothing)."""
        amount = self.credited.get(key, ZERO)
        if amount == 0:
            return
        unit = key[1]
        self.credited[key] = ZERO
        if self.scheme.item_cap is not None and fact.item_id is not None:
            key_total = (fact.item_id, unit)
            self.item_total[key_total] = self.item_total.get(key_total, ZERO) - amount
        if self.scheme.period_cap is not None:
            window = (unit, self._window(fact.at))
            self.window_total[window] = self.window_total.get(window, ZERO) - amount
        self.out.append(
            _Raw(
                fact.at,
                fact.event_id,
                unit,
                -amount,
                rule,
                fact.item_id,
                category,
                authors,
                key[0],
            )
        )

    def note(self, fact: Fact, unit: str, rule: str, category: str) -> None:
        """A zero entry, so that drill-down shows why an event earned nothing."""
        self.out.append(_Raw(fact.at, fact.event_id, unit, ZERO, rule, fact.item_id, category, ()))

    def penalty(
        self,
        fact: Fact,
        unit: str,
        amount: Decimal,
        rule: str,
        category: str,
        authors: tuple[Author, ...],
    ) -> None:
        """Penalties are outside the caps: a cap limits what is earned, not what is deducted."""
        if amount:
            self.out.append(
                _Raw(
                    fact.at, fact.event_id, unit, -q2(amount), rule, fact.item_id, category, authors
                )
            )

    # -- points ---------------------------------------------------------------------------------

    def adoption_points(self, level: str, kind: str, form: str) -> tuple[Decimal, str]:
        key = (level, kind, form)
        if key not in self.points_cache:
            self.points_cache[key] = adoption_points(self.scheme, level, kind, form)
        return self.points_cache[key]

    def source_shares(self, fact: Fact, total: Decimal) -> tuple[Decimal, str]:
        """This fact's item's part of `total` when several items were combined."""
        sources = fact.sources
        if len(sources) < 2 or fact.item_id not in {src.item for src in sources}:
            return total, ""
        s = self.scheme
        if s.combined_credit == "lead_split":
            lead_weight = int(s.lead_fraction * 10000)
            others = len(sources) - 1
            rest = 10000 - lead_weight
            weights = [lead_weight * others if src.lead_source else rest for src in sources]
            mine = next(src for src in sources if src.item == fact.item_id)
            fraction = s.lead_fraction if mine.lead_source else (ONE - s.lead_fraction) / others
            label = "主报" if mine.lead_source else "协报均分"
            note = f" × {label} {fmt(q2(fraction * 100))}%"
        else:
            weights = [src.share for src in sources]
            mine = next(src for src in sources if src.item == fact.item_id)
            note = f" × 综合份额 {mine.share}%"
        split = _share_cents(_cents(total), weights)
        mine_index = next(i for i, src in enumerate(sources) if src.item == fact.item_id)
        return Decimal(split[mine_index]).scaleb(-2), note

    # -- facts ----------------------------------------------------------------------------------

    def apply(self, fact: Fact) -> None:
        if fact.item_id is None:
            if fact.kind == DEDUCT:
                self.deduct(fact)
            return
        item = self.items[fact.item_id]
        if fact.kind in (CONFIRMED_COPY, FALSIFIED):
            self.void(fact, item)
        elif fact.kind == DEDUCT:
            self.deduct(fact)
        elif item.void:
            if fact.kind in (SUBMIT, FORWARD, ADOPT, INSTRUCT):
                self.note(fact, fact.origin_unit, "该稿件已认定抄袭或虚假，不计分", fact.kind)
        elif fact.kind == SUBMIT:
            self.submit(fact, item)
        elif fact.kind == FORWARD:
            self.reach(fact, item)
        elif fact.kind == ADOPT:
            self.adopt(fact, item)
        elif fact.kind == UNADOPT:
            self.unadopt(fact, item)
        elif fact.kind == INSTRUCT:
            self.instruct(fact)

    def submit(self, fact: Fact, item: _Item) -> None:
        if not item.submitted:  # a resubmission after a return earns nothing more
            item.submitted = True
            points = q2(self.scheme.submit_points.get(fact.item_type, ZERO))
            name = ITEM_TYPE_LABEL.get(fact.item_type, fact.item_type)
            self.credit(
                fact,
                fact.origin_unit,
                "submit",
                points,
                f"报送{name} {fmt(points)} 分",
                "submit",
                fact.authors,
            )
        self.reach(fact, item)

    def reach(self, fact: Fact, item: _Item) -> None:
        levels = fact.to_levels
        if len(levels) > 1:
            levels = tuple(sorted(set(levels), key=lambda lv: LEVEL_RANK.get(lv, 99)))
        for level in levels:
            if level in item.reached or level not in self.scheme.reach_points:
                continue
            item.reached.add(level)
            points = q2(self.scheme.reach_points[level])
            self.credit(
                fact,
                fact.origin_unit,
                f"reach:{level}",
                points,
                f"报送{LEVEL_LABEL.get(level, level)} {fmt(points)} 分",
                "reach",
                fact.authors,
            )

    def adopt(self, fact: Fact, item: _Item) -> None:
        s = self.scheme
        points, rule = self.adoption_points(fact.adopting_level, fact.publication_kind, fact.form)
        if fact.is_lead and s.lead_multiplier != ONE:
            points = q2(points * s.lead_multiplier)
            rule += f" × 头条 {fmt(s.lead_multiplier)}"
        points, share_note = self.source_shares(fact, points)
        rule += share_note
        if "×" in rule:
            rule += f" = {fmt(points)} 分"
        record = _Adoption(
            fact.event_id,
            fact.adoption_id,
            fact.adopting_level,
            fact.publication_kind,
            (fact.at, fact.event_id),
            points,
            rule,
            fact.is_lead,
        )
        item.live.append(record)
        if s.level_policy == "add":
            self._credit_adoption(fact, record, record.rule)
        else:
            best = self._find(item, item.best)
            if best is None or self._rank(record) < self._rank(best):
                if best is not None:
                    self.reverse(
                        fact,
                        (best.event_id, fact.origin_unit, "adopt"),
                        f"只计最高级别：冲减{LEVEL_LABEL.get(best.level, best.level)}"
                        f"{KIND_LABEL.get(best.kind, best.kind)}采用已计分",
                        "supersede",
                        fact.authors,
                    )
                item.best = record.event_id
                self._credit_adoption(fact, record, record.rule)
            else:
                self.note(
                    fact,
                    fact.origin_unit,
                    f"{rule}；只计最高级别，已按{LEVEL_LABEL.get(best.level, best.level)}"
                    f"{KIND_LABEL.get(best.kind, best.kind)}采用计分",
                    "adopt",
                )
        self._forward_credit(fact, record)

    def _find(self, item: _Item, event_id: str | None) -> _Adoption | None:
        return next((a for a in item.live if a.event_id == event_id), None)

    def _rank(self, record: _Adoption) -> tuple[int, int, tuple[dt.datetime, str]]:
        order = self.scheme.kind_order
        kind_rank = order.index(record.kind) if record.kind in order else len(order)
        return (LEVEL_RANK.get(record.level, 99), kind_rank, record.order)

    def _credit_adoption(self, fact: Fact, record: _Adoption, rule: str) -> None:
        self.credit(
            fact,
            fact.origin_unit,
            "adopt",
            record.points,
            rule,
            "adopt",
            fact.authors,
            source_event=record.event_id,
            ref="" if record.event_id == fact.event_id else record.event_id,
            lead=record.lead,
        )

    def _forward_credit(self, fact: Fact, record: _Adoption) -> None:
        s = self.scheme
        forwarder = None
        for src in fact.sources:
            if src.item == fact.item_id:
                forwarder = src.forwarded_by
        if not forwarder or fact.adopting_level not in s.forward_credit:
            return
        rate = s.forward_credit[fact.adopting_level]
        where = LEVEL_LABEL.get(fact.adopting_level, fact.adopting_level)
        if s.forward_credit_mode == "fraction":
            points = q2(record.points * rate)
            rule = f"转报稿件被{where}采用：采用分 {fmt(record.points)} × {fmt(rate)} = {fmt(points)} 分"
        else:
            points = q2(rate)
            rule = f"转报稿件被{where}采用 {fmt(points)} 分"
        self.credit(fact, forwarder, "forward", points, rule, "forward", ())

    def unadopt(self, fact: Fact, item: _Item) -> None:
        gone = [a for a in item.live if a.adoption_id == fact.adoption_id]
        for record in gone:
            item.live.remove(record)
            where = f"{LEVEL_LABEL.get(record.level, record.level)}{KIND_LABEL.get(record.kind, record.kind)}"
            self.reverse(
                fact,
                (record.event_id, fact.origin_unit, "adopt"),
                f"撤销{where}采用，冲减已计分",
                "withdraw",
                fact.authors,
            )
            assert fact.item_id is not None
            logged = dict.fromkeys(self.credit_log[fact.item_id])
            for key in [k for k in logged if k[0] == record.event_id and k[2] == "forward"]:
                self.reverse(fact, key, f"撤销{where}采用，冲减转报计分", "withdraw", ())
            if self.scheme.level_policy == "highest" and item.best == record.event_id:
                item.best = None
                if item.live:
                    best = min(item.live, key=self._rank)
                    item.best = best.event_id
                    self._credit_adoption(fact, best, f"撤销采用后改按{best.rule}")

    def instruct(self, fact: Fact) -> None:
        key = (fact.instruction_level, fact.principal)
        rank = "主要领导" if fact.principal else "其他领导"
        who = f"{LEVEL_LABEL.get(fact.instruction_level, fact.instruction_level)}{rank}批示"
        if key not in self.scheme.instruction_points:
            self.note(fact, fact.origin_unit, f"{who}未列入计分", "instruct")
            return
        points = q2(self.scheme.instruction_points[key])
        part, share_note = self.source_shares(fact, points)
        rule = f"{who} +{fmt(points)} 分{share_note}"
        if share_note:
            rule += f" = {fmt(part)} 分"
        self.credit(fact, fact.origin_unit, "instruct", part, rule, "instruct", fact.authors)

    def void(self, fact: Fact, item: _Item) -> None:
        if item.void:
            return
        item.void = True
        what = "抄袭" if fact.kind == CONFIRMED_COPY else "虚假"
        assert fact.item_id is not None
        for key in list(dict.fromkeys(self.credit_log[fact.item_id])):
            authors = fact.authors if key[1] == fact.origin_unit and key[2] != "forward" else ()
            self.reverse(fact, key, f"认定{what}，冲减该稿件已计分", "void", authors)
        penalty = self.scheme.copy_penalty if what == "抄袭" else self.scheme.falsify_penalty
        if penalty:
            self.penalty(
                fact,
                fact.origin_unit,
                penalty,
                f"认定{what}，另扣 {fmt(q2(penalty))} 分",
                "penalty",
                fact.authors,
            )

    def deduct(self, fact: Fact) -> None:
        reason = fact.note or "考核扣分"
        self.penalty(
            fact,
            fact.origin_unit,
            fact.points,
            f"{reason}，扣 {fmt(q2(fact.points))} 分",
            "deduct",
            fact.authors,
        )


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


def _ordered(facts: Iterable[Fact]) -> list[Fact]:
    ordered = sorted(facts, key=lambda f: (f.at, f.event_id))
    seen: set[str] = set()
    for fact in ordered:
        if fact.event_id in seen:
            raise ValueError(f"事件编号“{fact.event_id}”重复。")
        seen.add(fact.event_id)
    return ordered


def _person_entries(entry: Entry, authors: tuple[Author, ...]) -> list[Entry]:
    if not authors or entry.points == 0:
        return []
    split = _share_cents(_cents(entry.points), [a.share for a in authors])
    total_share = sum(a.share for a in authors)
    return [
        Entry(
            event_id=entry.event_id,
            unit=entry.unit,
            person=a.person,
            points=Decimal(cents).scaleb(-2),
            rule=f"{entry.rule}；作者份额 {a.share}/{total_share}",
            item_id=entry.item_id,
            period=entry.period,
            at=entry.at,
            category=entry.category,
            scheme=entry.scheme,
            ref=entry.ref,
            lead=entry.lead,
        )
        for a, cents in zip(authors, split, strict=True)
    ]


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

    With both, the incremental entries equal those of one `score()` over all facts (tested)."""
    errors = validate(scheme)
    if errors:
        raise ValueError("；".join(errors))
    run = _Run(scheme, period.start.tzinfo, window_seed, recorded)
    history = [f for f in _ordered(facts) if f.at < period.end]
    for fact in history:
        run.apply(fact)
    raws = [r for r in run.out if period.start <= r.at < period.end]
    # Without assessed units there is nothing to judge (and an all-time period would otherwise
    # walk ten thousand empty weeks).
    for status in quota_status(scheme, history, period, units) if units else ():
        if status.closed and not status.met and status.deduction:
            raws.append(
                _Raw(
                    status.end - dt.timedelta(microseconds=1),
                    f"quota:{status.window}:{status.quota}:{status.unit}",
                    status.unit,
                    -status.deduction,
                    f"{status.reason}，扣 {fmt(status.deduction)} 分",
                    None,
                    "quota",
                    (),
                )
            )
    entries: list[Entry] = []
    for raw in sorted(raws, key=lambda r: r.at):  # stable: same-moment entries keep event order
        entry = Entry(
            event_id=raw.event_id,
            unit=raw.unit,
            person="",
            points=raw.points,
            rule=raw.rule,
            item_id=raw.item_id,
            period=period.key,
            at=raw.at,
            category=raw.category,
            scheme=scheme.version,
            ref=raw.ref,
            lead=raw.lead,
        )
        entries.append(entry)
        entries.extend(_person_entries(entry, raw.authors))
    return entries


def cap_windows(
    scheme: Scheme, facts: Iterable[Fact], tz: dt.tzinfo | None
) -> set[tuple[str, str]]:
    """The (unit, cap window) keys whose credit by other facts can change what `facts` earn under
    the period cap: the origin unit of each fact's item, and for an adoption the unit that
    forwarded the item, in the window of the fact's moment (in `tz`, the scored period's time
    zone). Empty when the scheme has no period cap. For an incremental call (see `score`) pass
    only the new fact: with `recorded`, the earlier facts never look at the cap."""
    if scheme.period_cap is None:
        return set()
    keys: set[tuple[str, str]] = set()
    for fact in facts:
        if fact.item_id is None or fact.kind == DEDUCT:
            continue
        window = window_key(scheme.period_cap_per, fact.at, tz)
        keys.add((fact.origin_unit, window))
        if fact.kind == ADOPT:
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


@dataclass(frozen=True)
class Total:
    """A unit's (or a person's) figures from a list of entries."""

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


@dataclass(frozen=True)
class Ranked:
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

    def figures(t: Total) -> tuple[Decimal, ...]:
        values = []
        for name in tie_break:
            value = getattr(t, name)
            values.append(Decimal(-1) if value is None else Decimal(value))
        return tuple(values)

    ordered = sorted(totals, key=lambda t: (tuple(-v for v in figures(t)), t.key))
    result: list[Ranked] = []
    for position, total in enumerate(ordered, start=1):
        if result and figures(result[-1].total) == figures(total):
            place = result[-1].rank
        else:
            place = position
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
