"""What-if (试算): a version's rules (usually a draft) run over a past period beside the ranking the
ledger gives, so a scheme can be judged before it is adopted. Nothing is written."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from baosong.orgs.models import Unit
from baosong.scoring import engine, ledger, rankings, workflow
from baosong.scoring.models import AssessmentEvent, Scheme, SchemeVersion


@dataclass(frozen=True)
class Compared:
    """One child unit in both rankings. `change` is positive when the unit moves up under the
    tried version."""

    unit: Unit
    current_rank: int
    current_points: Decimal
    rank: int
    points: Decimal
    submitted: int
    adopted: int
    change: int


def compare(
    scheme: Scheme, draft_version: SchemeVersion, parent: Unit, period: engine.Period
) -> list[Compared]:
    """The child units of `parent` ranked under `draft_version` over `period` from the recorded
    events, beside their ranking from the ledger; ordered by the tried rank."""
    rules = ledger.scheme_of(draft_version)
    children = list(Unit.objects.filter(parent=parent, is_active=True))
    by_code: dict[str, Unit] = {}
    for code, path in Unit.objects.filter(path__startswith=parent.path).values_list("code", "path"):
        found = next((u for u in children if path.startswith(u.path)), None)
        if found is not None:
            by_code[code] = found
    child_of = by_code.get

    # Only items with an event in the period (or in a quota window that closes inside it) can
    # change its figures; their whole history up to the end is loaded, so earlier credit counts.
    since = min(
        [period.start] + [engine.period_containing(q.per, period.start).start for q in rules.quotas]
    )
    items = Q(unit__path__startswith=parent.path) & workflow._items_with_events(since, period.end)
    facts = ledger.load_facts(items, until=period.end)
    facts += _unit_deductions(scheme, parent, period)
    entries = engine.score(rules, facts, period)
    points: dict[int, Decimal] = {u.pk: Decimal(0) for u in children}
    counts: dict[int, list[int]] = {u.pk: [0, 0, 0, 0] for u in children}
    for code, total in engine.unit_totals(entries).items():
        child = child_of(code)
        if child is None:
            continue
        points[child.pk] += total.points
        for i, n in enumerate(
            (total.submitted, total.adopted, total.lead_items, total.instructions)
        ):
            counts[child.pk][i] += n
    for pk, deduction in _quota_deductions(rules, facts, period, children, child_of).items():
        points[pk] -= deduction

    ranked = engine.rank(
        [
            engine.Total(
                key=str(pk),
                points=engine.q2(points[pk]),
                submitted=counts[pk][0],
                adopted=counts[pk][1],
                lead_items=counts[pk][2],
                instructions=counts[pk][3],
            )
            for pk in points
        ],
        tie_break=rankings.tie_break_of(scheme),
    )
    current = {
        row.key: row for row in rankings.unit_ranking(scheme, parent, period, with_previous=False)
    }
    units = {u.pk: u for u in children}
    out = []
    for r in ranked:
        now = current.get(r.key)
        current_rank = now.rank if now else len(ranked)
        out.append(
            Compared(
                unit=units[int(r.key)],
                current_rank=current_rank,
                current_points=engine.q2(now.figures.points) if now else engine.ZERO,
                rank=r.rank,
                points=r.total.points,
                submitted=r.total.submitted,
                adopted=r.total.adopted,
                change=current_rank - r.rank,
            )
        )
    out.sort(key=lambda c: (c.rank, c.unit.sort_order, c.unit.short_name))
    return out


def _unit_deductions(scheme: Scheme, parent: Unit, period: engine.Period) -> list[engine.Fact]:
    """Deductions decided by the scheme's owner against units (not items), as engine facts."""
    rows = AssessmentEvent.objects.filter(
        unit=scheme.unit,
        submission__isnull=True,
        target__path__startswith=parent.path,
        at__gte=period.start,
        at__lt=period.end,
    ).values_list("pk", "at", "target__code", "points", "reason")
    return [
        engine.Fact(
            kind=engine.DEDUCT,
            event_id=f"c{pk}",
            at=at,
            origin_unit=code,
            points=points,
            note=reason,
        )
        for pk, at, code, points, reason in rows
    ]


def _quota_deductions(
    rules: engine.Scheme,
    facts: list[engine.Fact],
    period: engine.Period,
    children: list[Unit],
    child_of: Callable[[str], Unit | None],
) -> dict[int, Decimal]:
    """Quota windows closed by now inside the period, judged per child unit (each counting its
    whole subtree, as when quotas are settled): the deductions they would bring."""
    if not rules.quotas or not children:
        return {}
    submits = []
    for fact in facts:
        if fact.kind != engine.SUBMIT:
            continue
        child = child_of(fact.origin_unit)
        if child is not None:
            submits.append(
                engine.Fact(
                    kind=engine.SUBMIT,
                    event_id=fact.event_id,
                    at=fact.at,
                    item_id=fact.item_id,
                    item_kind=fact.item_kind,
                    origin_unit=child.code,
                )
            )
    end = min(period.end, timezone.now())
    if end <= period.start:
        return {}
    window = engine.Period(period.key, period.start, end, period.grain)
    by_code = {u.code: u.pk for u in children}
    out: dict[int, Decimal] = defaultdict(Decimal)
    for status in engine.quota_status(rules, submits, window, list(by_code)):
        if status.closed and status.deduction:
            out[by_code[status.unit]] += status.deduction
    return out
