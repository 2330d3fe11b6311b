"""Rankings, drill-down and dashboard figures, read from the monthly rollups (and, for the edges
of a custom period, from the ledger itself)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from baosong.orgs.models import Unit, User
from baosong.scoring import engine
from baosong.scoring.ledger import KIND_FIELDS, local_tz, month_of, version_on
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


_K1, _K2, _K3, _K4 = KIND_FIELDS  # the four item kinds, in the rollup's column order


@dataclass
class Figures:
    points: Decimal = Decimal("0.00")
    submitted: int = 0
    adopted: int = 0
    lead_items: int = 0
    instructions: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KIND_FIELDS, 0))
    months: dict[int, list[int]] = field(default_factory=dict)  # month → per-kind submitted
    entries_seen: bool = False  # any line at all (a period with none has no ranks to compare)

    def add(self, values: Sequence[Any], month: int | None = None) -> None:
        """Add one rollup row's figures (a ranking adds thousands: written out, not looped)."""
        self.entries_seen = True
        points, submitted, adopted, lead, instructions, k1, k2, k3, k4 = values[:9]
        self.points += points
        self.submitted += submitted
        self.adopted += adopted
        self.lead_items += lead
        self.instructions += instructions
        kinds = self.kinds
        kinds[_K1] += k1
        kinds[_K2] += k2
        kinds[_K3] += k3
        kinds[_K4] += k4
        if month is not None:
            row = self.months.get(month)
            if row is None:
                self.months[month] = [submitted, k1, k2, k3, k4]
            else:
                row[0] += submitted
                row[1] += k1
                row[2] += k2
                row[3] += k3
                row[4] += k4

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


Tree = tuple[list[Unit], dict[int, int]]


def subtree(parent: Unit) -> Tree:
    """The ranked children of `parent` (active, not internal sections) and, for every unit of
    the subtree, the child it belongs to; one query."""
    units = list(
        Unit.objects.filter(path__startswith=parent.path).only(
            "id", "path", "parent_id", "level", "is_active", "short_name", "name", "code",
            "sort_order", "depth",
        )
    )  # fmt: skip
    children = [
        u for u in units if u.parent_id == parent.pk and u.is_active and u.level != "internal"
    ]
    by_path = {c.path: c.pk for c in children}
    depth = parent.depth + 1
    owner: dict[int, int] = {}
    for u in units:
        if u.depth >= depth:
            parts = u.path.split("/")
            child = by_path.get("/".join(parts[: depth + 2]) + "/")
            if child is not None:
                owner[u.pk] = child
    return children, owner


def unit_figures(
    scheme: Scheme,
    parent: Unit,
    period: engine.Period,
    *,
    tree: Tree | None = None,
    by_month: bool = True,
) -> dict[int, Figures]:
    """Figures per child unit of `parent` (each child with its whole subtree) in the period;
    `by_month` keeps the months (quota status needs them), otherwise the database sums them."""
    children, owner = tree or subtree(parent)
    by_child: dict[int, Figures] = {c.pk: Figures() for c in children}
    first, last, edges = _months(period)
    if first <= last:
        for unit_id, month, values in _month_rows(scheme, parent, first, last, by_month):
            child = owner.get(unit_id)
            if child is not None:
                by_child[child].add(values, month)
    if edges:
        tz = local_tz()
        for unit_id, at, *values in _edge_lines(scheme, parent, edges):
            child = owner.get(unit_id)
            if child is not None:
                by_child[child].add(values, month_of(at, tz))
    for figures in by_child.values():
        figures.points = engine.q2(figures.points)
    return by_child


def _month_rows(
    scheme: Scheme, parent: Unit, first: int, last: int, by_month: bool, *, people: bool = False
) -> list[tuple[int, int | None, list[Any]]]:
    """The unit-month rollup rows of `parent`'s subtree from month `first` to `last` (yyyymm),
    as (unit id, month, figures in FIGURE_FIELDS order), or summed per unit (month None); with
    `people`, the person-month rollup's, by author. A plain statement: a yearly ranking reads
    ~2,000 rows (an authors' ranking sums tens of thousands), which the ORM's per-value
    converters took longer to hand over than the database took to find. Points come as text
    (SQLite keeps decimals as floating point: its text has the 15 significant digits Django's
    own converter keeps) and are summed as decimals."""
    table, key = (PersonMonth, "person_id") if people else (UnitMonth, "unit_id")
    columns = [f"m.{name}" for name in FIGURE_FIELDS[1:]]
    if by_month:
        select, group = ["m.month", "CAST(m.points AS TEXT)", *columns], ""
    else:
        select = ["NULL", "CAST(SUM(m.points) AS TEXT)", *(f"SUM({c})" for c in columns)]
        group = f" GROUP BY m.{key}"
    # Paths are digits and slashes: nothing in them is a LIKE wildcard.
    sql = (
        f"SELECT m.{key}, {', '.join(select)} FROM {table._meta.db_table} m "
        "WHERE m.scheme_id = %s AND m.month >= %s AND m.month <= %s AND m.unit_id IN "
        f"(SELECT u.id FROM {Unit._meta.db_table} u WHERE u.path LIKE %s){group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [scheme.pk, first, last, f"{parent.path}%"])
        return [
            (pk, month, [Decimal(points), *counts])
            for pk, month, points, *counts in cursor.fetchall()
        ]


def _edge_lines(
    scheme: Scheme,
    parent: Unit,
    edges: list[tuple[dt.datetime, dt.datetime]],
    *,
    people: bool = False,
) -> Iterable[tuple[Any, ...]]:
    """The unit lines (with `people`, the authors' lines, by author) of `parent`'s subtree in the
    partial months `edges`, as (unit or author id, moment, figures in FIGURE_FIELDS order)."""
    key = "person_id" if people else "unit_id"
    return _edge_rows(
        LedgerEntry.objects.filter(
            _edge_q(edges),
            scheme=scheme,
            person__isnull=not people,
            unit_id__in=Unit.objects.filter(path__startswith=parent.path).values("pk"),
        ).values_list(
            key, "at", "points", "d_submitted", "d_adopted", "d_lead", "d_instructions", "item_kind"
        )
    )


def _edge_rows(rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    for key, at, points, sub, adopted, lead, instr, kind in rows:
        kinds = [sub if kind == k else 0 for k in KIND_FIELDS]
        yield (key, at, points, sub, adopted, lead, instr, *kinds)


def tie_break_of(scheme: Scheme) -> tuple[str, ...]:
    names = tuple(n.strip() for n in scheme.tie_break.split(",") if n.strip())
    return tuple(n for n in names if n in engine.RANK_KEYS) or ("points", "adopted")


def unit_ranking(
    scheme: Scheme, parent: Unit, period: engine.Period, *, with_previous: bool = True
) -> list[Row]:
    """The ranking of the child units of `parent` under `scheme`, with the change of rank since
    the previous period of the same length."""
    tree = subtree(parent)
    figures = unit_figures(scheme, parent, period, tree=tree)
    units = {u.pk: u for u in tree[0]}
    previous = None
    before = (
        unit_figures(scheme, parent, previous_of(period), tree=tree, by_month=False)
        if with_previous
        else {}
    )
    if any(f.entries_seen for f in before.values()):
        # A previous period with no lines at all has no ranks to compare with: all are new.
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
    windows = quota_windows(version, period)
    rows = []
    for r in ranked:
        unit = units[int(r.key)]
        fig = figures[int(r.key)]
        quota, missed = quota_summary(version, fig, period, windows)
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
    """Authors in `parent`'s subtree ranked by their share of the points: summed per author by
    the database and ranked as plain totals (a city has thousands of authors; only the first
    `limit` are shown with their figures)."""
    first, last, edges = _months(period)
    sums: dict[int, list[Any]] = {}  # author → figures in FIGURE_FIELDS order
    if first <= last:
        for person_id, _month, values in _month_rows(
            scheme, parent, first, last, False, people=True
        ):
            sums[person_id] = values
    if edges:
        for person_id, _at, *values in _edge_lines(scheme, parent, edges, people=True):
            row = sums.setdefault(person_id, [Decimal(0)] + [0] * (len(FIGURE_FIELDS) - 1))
            for i, value in enumerate(values):
                row[i] += value
    ranked = engine.rank(
        [engine.Total(str(pk), engine.q2(v[0]), v[1], v[2], v[3], v[4]) for pk, v in sums.items()],
        tie_break=tie_break_of(scheme),
    )[:limit]
    people = {u.pk: u for u in User.objects.filter(pk__in=[int(r.key) for r in ranked])}
    rows = []
    for r in ranked:
        figures = Figures()
        figures.add(sums[int(r.key)])
        figures.points = r.total.points
        person = people[int(r.key)]
        rows.append(Row(r.rank, r.key, person.real_name, None, person, figures, None, None))
    return rows


def version_for(scheme: Scheme, period: engine.Period) -> SchemeVersion | None:
    """The adopted version in force at the end of the period (for quotas and circular notes)."""
    day = (period.end - dt.timedelta(microseconds=1)).astimezone(local_tz()).date()
    return version_on(scheme, day)


def versions_used(scheme: Scheme, period: engine.Period) -> list[SchemeVersion]:
    tz = local_tz()
    first = period.start.astimezone(tz).date()
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    return list(
        scheme.versions.filter(status="adopted", effective_from__lte=last)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=first))
        .order_by("number")
    )


QuotaWindows = list[tuple[engine.Quota, list[tuple[int, int]]]]


def quota_windows(version: SchemeVersion | None, period: engine.Period) -> QuotaWindows:
    """For each month/quarter/year quota: the closed windows inside the period, as month ranges."""
    if version is None:
        return []
    from baosong.scoring.ledger import scheme_of

    tz = local_tz()
    now = dt.datetime.now(tz)
    result: QuotaWindows = []
    for quota in scheme_of(version).quotas:
        if quota.per == "week":
            continue
        ranges = []
        window = engine.period_containing(quota.per, period.start.astimezone(tz))
        while window.start < period.end:
            if window.end <= now:
                ranges.append(
                    (
                        month_of(window.start, tz),
                        month_of(window.end - dt.timedelta(microseconds=1), tz),
                    )
                )
            window = engine.period_containing(quota.per, window.end)
        if ranges:
            result.append((quota, ranges))
    return result


_NONE = (0, 0, 0, 0, 0)  # nothing submitted in a window
_KIND_COLUMN = {k: i for i, k in enumerate(KIND_FIELDS, start=1)}  # in a month's counts


@functools.lru_cache(maxsize=4096)
def _span(first: int, last: int) -> tuple[int, ...]:
    """The months (yyyymm) from `first` to `last`, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = month + 1 if month % 100 < 12 else (month // 100 + 1) * 100 + 1
    return tuple(months)


def quota_summary(
    version: SchemeVersion | None,
    fig: Figures,
    period: engine.Period,
    windows: QuotaWindows | None = None,
) -> tuple[str, bool]:
    """Month/quarter/year quotas judged from the monthly counts, e.g. '季度报送任务 2/3'.
    Weekly quotas are shown on the unit's drill-down page (they need the submissions by week)."""
    if windows is None:
        windows = quota_windows(version, period)
    parts: list[str] = []
    missed = False
    months = fig.months
    for quota, ranges in windows:
        # (column, at least) per kind the quota names: a ranking judges ~150 units' windows.
        kinds = [(_KIND_COLUMN[k], n) for k, n in quota.min_kinds if k in _KIND_COLUMN]
        met = 0
        for first, last in ranges:
            if first == last:  # a monthly window: its month's row as it is
                counts = months.get(first) or _NONE
            else:
                rows = [months[m] for m in _span(first, last) if m in months]
                counts = [sum(c) for c in zip(*rows, strict=True)] if rows else _NONE
            if counts[0] >= quota.min_items and all(counts[i] >= n for i, n in kinds):
                met += 1
        missed = missed or met < len(ranges)
        parts.append(f"{quota.label} {met}/{len(ranges)}")
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
            unit_id__in=list(
                Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)
            ),
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
        for row in entries.order_by()
        .values("category")
        .annotate(total=Sum("points"), n=Count("id"))
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
