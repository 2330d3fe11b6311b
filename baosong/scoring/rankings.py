"""Rankings, drill-down and dashboard figures, read from the monthly rollups (and, for the edges
of a custom period, from the ledger itself)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from baosong.orgs.models import Unit, User
from baosong.scoring import engine
from baosong.scoring.ledger import KIND_FIELDS, local_tz, month_of
from baosong.scoring.models import LedgerEntry, PersonMonth, Scheme, SchemeVersion, UnitMonth

FIGURE_FIELDS = (
    "points",
    "submitted",
    "adopted",
    "lead_items",
    "instructions",
    *KIND_FIELDS.values(),
)
GRAINS = ("month", "quarter", "year", "custom")


# ---------------------------------------------------------------------------------------------
# Periods


def period_for(grain: str, key: str = "", start: str = "", end: str = "") -> engine.Period:
    """A period from request parameters: month 2026-03, quarter 2026-Q1, year 2026, or custom
    start/end dates (both inclusive). Raises ValueError with a Chinese message."""
    tz = local_tz()
    try:
        if grain == "month":
            year, month = key.split("-")
            return engine.month_period(int(year), int(month), tz)
        if grain == "quarter":
            year, quarter = key.split("-Q")
            return engine.quarter_period(int(year), int(quarter), tz)
        if grain == "year":
            return engine.year_period(int(key), tz)
        if grain == "custom":
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
            if last < first:
                raise ValueError("结束日期早于开始日期。")
            begin = dt.datetime.combine(first, dt.time(), tz)
            finish = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
            return engine.Period(f"{first}~{last}", begin, finish, "custom")
    except (ValueError, TypeError) as exc:
        if str(exc).endswith("。"):
            raise
        raise ValueError("统计期间的格式不对。") from exc
    raise ValueError("统计期间的类型不对。")


def current_period(grain: str, today: dt.date | None = None) -> engine.Period:
    day = today or dt.datetime.now(local_tz()).date()
    moment = dt.datetime.combine(day, dt.time(12), local_tz())
    if grain == "custom":
        grain = "month"
    return engine.period_containing(grain, moment)


def previous_of(period: engine.Period) -> engine.Period:
    return engine.previous_period(period)


def _months(period: engine.Period) -> tuple[int, int, list[tuple[dt.datetime, dt.datetime]]]:
    """Whole months inside the period (first, last as yyyymm; first > last when none) and the
    partial edges to be read from the ledger."""
    tz = local_tz()
    start, end = period.start.astimezone(tz), period.end.astimezone(tz)
    first_full = start if (start.day, start.time()) == (1, dt.time()) else _next_month(start)
    last_end = end.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if first_full >= last_end:
        return 1, 0, [(period.start, period.end)]
    edges = []
    if period.start < first_full:
        edges.append((period.start, first_full))
    if last_end < period.end:
        edges.append((last_end, period.end))
    prev = last_end - dt.timedelta(days=1)
    return first_full.year * 100 + first_full.month, prev.year * 100 + prev.month, edges


def _next_month(moment: dt.datetime) -> dt.datetime:
    first = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + dt.timedelta(days=32)).replace(day=1)


# ---------------------------------------------------------------------------------------------
# Rankings


@dataclass
class Figures:
    points: Decimal = Decimal("0.00")
    submitted: int = 0
    adopted: int = 0
    lead_items: int = 0
    instructions: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KIND_FIELDS, 0))
    months: dict[int, list[int]] = field(default_factory=dict)  # month → per-kind submitted

    def add(self, values: Sequence[Any], month: int | None = None) -> None:
        self.points += values[0]
        self.submitted += values[1]
        self.adopted += values[2]
        self.lead_items += values[3]
        self.instructions += values[4]
        for kind, n in zip(KIND_FIELDS, values[5:9], strict=True):
            self.kinds[kind] += n
        if month is not None:
            row = self.months.setdefault(month, [0, 0, 0, 0, 0])
            row[0] += values[1]
            for i, n in enumerate(values[5:9], start=1):
                row[i] += n

    @property
    def adoption_rate(self) -> Decimal | None:
        if not self.submitted:
            return None
        return engine.q2(Decimal(self.adopted) * 100 / self.submitted)

    def total(self, key: str) -> engine.Total:
        return engine.Total(
            key=key,
            points=engine.q2(self.points),
            submitted=self.submitted,
            adopted=self.adopted,
            lead_items=self.lead_items,
            instructions=self.instructions,
        )


@dataclass
class Row:
    rank: int
    key: str
    name: str
    unit: Unit | None
    person: User | None
    figures: Figures
    previous_rank: int | None
    change: int | None
    quota: str = ""
    quota_missed: bool = False


def _edge_q(edges: list[tuple[dt.datetime, dt.datetime]]) -> Q:
    q = Q(pk__in=[])
    for start, end in edges:
        q |= Q(at__gte=start, at__lt=end)
    return q


def unit_figures(scheme: Scheme, parent: Unit, period: engine.Period) -> dict[int, Figures]:
    """Figures per child unit of `parent` (each child with its whole subtree) in the period."""
    children = list(Unit.objects.filter(parent=parent, is_active=True).values_list("id", "path"))
    by_child: dict[int, Figures] = {pk: Figures() for pk, _ in children}
    prefix_len = len(parent.path)

    def child_of(path: str) -> int | None:
        end = path.find("/", prefix_len)
        return child_ids.get(path[: end + 1]) if end >= 0 else None

    child_ids = {path: pk for pk, path in children}
    first, last, edges = _months(period)
    if first <= last:
        rows = UnitMonth.objects.filter(
            scheme=scheme, month__gte=first, month__lte=last, unit__path__startswith=parent.path
        ).values_list("unit__path", "month", *FIGURE_FIELDS)
        for path, month, *values in rows:
            child = child_of(path)
            if child is not None:
                by_child[child].add(values, month)
    if edges:
        for path, at, *values in _edge_rows(
            LedgerEntry.objects.filter(
                _edge_q(edges),
                scheme=scheme,
                person__isnull=True,
                unit__path__startswith=parent.path,
            ).values_list(
                "unit__path",
                "at",
                "points",
                "d_submitted",
                "d_adopted",
                "d_lead",
                "d_instructions",
                "item_kind",
            )
        ):
            child = child_of(path)
            if child is not None:
                by_child[child].add(values, month_of(at, local_tz()))
    return by_child


def _edge_rows(rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    for path, at, points, sub, adopted, lead, instr, kind in rows:
        kinds = [sub if kind == k else 0 for k in KIND_FIELDS]
        yield (path, at, points, sub, adopted, lead, instr, *kinds)


def tie_break_of(scheme: Scheme) -> tuple[str, ...]:
    names = tuple(n.strip() for n in scheme.tie_break.split(",") if n.strip())
    return tuple(n for n in names if n in engine.RANK_KEYS) or ("points", "adopted")


def unit_ranking(
    scheme: Scheme, parent: Unit, period: engine.Period, *, with_previous: bool = True
) -> list[Row]:
    """The ranking of the child units of `parent` under `scheme`, with the change of rank since
    the previous period of the same length."""
    figures = unit_figures(scheme, parent, period)
    units = {u.pk: u for u in Unit.objects.filter(pk__in=figures)}
    previous = None
    if with_previous:
        before = unit_figures(scheme, parent, previous_of(period))
        previous = engine.ranks_of(
            engine.rank(
                [f.total(str(pk)) for pk, f in before.items()], tie_break=tie_break_of(scheme)
            )
        )
    ranked = engine.rank(
        [f.total(str(pk)) for pk, f in figures.items()],
        tie_break=tie_break_of(scheme),
        previous=previous,
    )
    version = version_for(scheme, period)
    rows = []
    for r in ranked:
        unit = units[int(r.key)]
        fig = figures[int(r.key)]
        quota, missed = quota_summary(version, fig, period)
        rows.append(
            Row(
                r.rank,
                r.key,
                unit.short_name,
                unit,
                None,
                fig,
                r.previous_rank,
                r.change,
                quota,
                missed,
            )
        )
    rows.sort(key=lambda row: (row.rank, row.unit.sort_order if row.unit else 0, row.name))
    return rows


def person_ranking(
    scheme: Scheme, parent: Unit, period: engine.Period, limit: int = 200
) -> list[Row]:
    """Authors in `parent`'s subtree ranked by their share of the points."""
    first, last, edges = _months(period)
    figures: dict[int, Figures] = defaultdict(Figures)
    if first <= last:
        for person_id, *values in PersonMonth.objects.filter(
            scheme=scheme, month__gte=first, month__lte=last, unit__path__startswith=parent.path
        ).values_list("person_id", *FIGURE_FIELDS):
            figures[person_id].add(values)
    if edges:
        for person_id, _at, *values in _edge_rows(
            LedgerEntry.objects.filter(
                _edge_q(edges),
                scheme=scheme,
                person__isnull=False,
                unit__path__startswith=parent.path,
            ).values_list(
                "person_id",
                "at",
                "points",
                "d_submitted",
                "d_adopted",
                "d_lead",
                "d_instructions",
                "item_kind",
            )
        ):
            figures[person_id].add(values)
    ranked = engine.rank(
        [f.total(str(pk)) for pk, f in figures.items()], tie_break=tie_break_of(scheme)
    )[:limit]
    people = {u.pk: u for u in User.objects.filter(pk__in=[int(r.key) for r in ranked])}
    return [
        Row(
            r.rank,
            r.key,
            people[int(r.key)].real_name,
            None,
            people[int(r.key)],
            figures[int(r.key)],
            None,
            None,
        )
        for r in ranked
    ]


def version_for(scheme: Scheme, period: engine.Period) -> SchemeVersion | None:
    """The adopted version in force at the end of the period (for quotas and circular notes)."""
    day = (period.end - dt.timedelta(microseconds=1)).astimezone(local_tz()).date()
    return (
        scheme.versions.filter(status="adopted", effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-number")
        .first()
    )


def versions_used(scheme: Scheme, period: engine.Period) -> list[SchemeVersion]:
    tz = local_tz()
    first = period.start.astimezone(tz).date()
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    return list(
        scheme.versions.filter(status="adopted", effective_from__lte=last)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=first))
        .order_by("number")
    )


def quota_summary(
    version: SchemeVersion | None, fig: Figures, period: engine.Period
) -> tuple[str, bool]:
    """Month/quarter/year quotas judged from the monthly counts: '3/3 达标' or what is missing.
    Weekly quotas are shown on the unit's drill-down page (they need the submissions by week)."""
    if version is None:
        return "", False
    from baosong.scoring.ledger import scheme_of

    scheme = scheme_of(version)
    parts: list[str] = []
    missed = False
    tz = local_tz()
    now = dt.datetime.now(tz)
    for quota in scheme.quotas:
        if quota.per == "week":
            continue
        windows = []
        window = engine.period_containing(quota.per, period.start.astimezone(tz))
        while window.start < period.end:
            if window.end <= now:
                windows.append(window)
            window = engine.period_containing(quota.per, window.end)
        if not windows:
            continue
        met = 0
        for w in windows:
            first = month_of(w.start, tz)
            last = month_of(w.end - dt.timedelta(microseconds=1), tz)
            counts = [0, 0, 0, 0, 0]
            for month, row in fig.months.items():
                if first <= month <= last:
                    counts = [a + b for a, b in zip(counts, row, strict=True)]
            kinds = dict(zip(KIND_FIELDS, counts[1:], strict=True))
            if counts[0] >= quota.min_items and all(
                kinds.get(k, 0) >= n for k, n in quota.min_kinds
            ):
                met += 1
        missed = missed or met < len(windows)
        parts.append(f"{quota.label} {met}/{len(windows)}")
    return "；".join(parts), missed


# ---------------------------------------------------------------------------------------------
# Drill-down


def unit_entries(
    scheme: Scheme, unit: Unit, period: engine.Period, *, people: bool = False
) -> QuerySet[LedgerEntry]:
    """The ledger lines behind a unit's figures (its whole subtree), oldest first."""
    return (
        LedgerEntry.objects.filter(
            scheme=scheme,
            unit__in=Unit.objects.filter(path__startswith=unit.path).values("pk"),
            person__isnull=not people,
            at__gte=period.start,
            at__lt=period.end,
        )
        .select_related("unit", "item", "version")
        .order_by("at", "id")
    )


def person_entries(scheme: Scheme, person: User, period: engine.Period) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(
            scheme=scheme, person=person, at__gte=period.start, at__lt=period.end
        )
        .select_related("unit", "item", "version")
        .order_by("at", "id")
    )


def by_category(entries: QuerySet[LedgerEntry]) -> list[tuple[str, Decimal, int]]:
    return [
        (row["category"], row["total"], row["n"])
        for row in entries.order_by().values("category").annotate(total=Sum("points"), n=Sum(1))
    ]


# ---------------------------------------------------------------------------------------------
# Dashboards


def monthly_series(
    scheme: Scheme, parent: Unit, first: int, last: int
) -> list[tuple[int, int, int, Decimal]]:
    """(month, submitted, adopted, points) for the subtree of `parent`, month by month."""
    rows = (
        UnitMonth.objects.filter(
            scheme=scheme, month__gte=first, month__lte=last, unit__path__startswith=parent.path
        )
        .values("month")
        .annotate(s=Sum("submitted"), a=Sum("adopted"), p=Sum("points"))
        .order_by("month")
    )
    return [(r["month"], r["s"] or 0, r["a"] or 0, r["p"] or Decimal(0)) for r in rows]
