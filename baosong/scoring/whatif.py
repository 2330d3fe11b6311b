"""What-if (试算): a version's rules (usually a draft) run over a past period beside the ranking the
ledger gives, so a scheme can be judged before it is adopted. Nothing is written.

The one implementation behind both the UI (views_schemes.scheme_whatif) and the API
(api.what_if). It replays what the ledger itself was built from, so that trying the version in
force gives back `rankings.unit_ranking` exactly: the recorded events of the items touched in the
period, the imported adoption records (history.historic_facts), the deductions decided against
units, and only the quota windows the ledger has settled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from baosong.orgs.models import Unit
from baosong.scoring import engine, history, ledger, rankings
from baosong.scoring.models import (
    AssessmentEvent,
    Decision,
    QuotaSettlement,
    Scheme,
    SchemeVersion,
)


@dataclass(frozen=True)
class WhatIfRow:
    """One ranked child unit (with its subtree) under both rankings. `figures` are the tried
    version's, `current_figures` the ledger's; `change` is positive when the tried version moves
    the unit up that many places."""

    unit: Unit
    rank: int
    points: Decimal
    figures: engine.Total
    current_rank: int
    current_points: Decimal
    current_figures: rankings.Figures
    change: int

    @property
    def submitted(self) -> int:
        return self.figures.submitted

    @property
    def adopted(self) -> int:
        return self.figures.adopted

    @property
    def delta(self) -> Decimal:
        return self.points - self.current_points


def compare(
    scheme: Scheme, version: SchemeVersion, parent: Unit, period: engine.Period
) -> list[WhatIfRow]:
    """Rank the child units of `parent` (each with its subtree; internal sections are not
    ranked, as in `rankings.unit_ranking`) under `version`'s rules over what was recorded in
    `period`, beside the ranking the ledger holds; ordered like `unit_ranking`. Only reads.

    Only items with an event inside the period are loaded (with their whole history up to its
    end, so earlier credit counts), so a year at a city replays a few thousand events, not the
    city's whole archive."""
    # Named apart from the recorded version: the entries carry the name, and none of these is
    # the ledger's.
    rules = engine.scheme_from_data({**version.data, "version": f"whatif-{version.code}"})
    current = rankings.unit_ranking(scheme, parent, period, with_previous=False)
    # The ranked units are exactly those of the current ranking, so every row has both sides.
    units = {row.key: row.unit for row in current if row.unit is not None}
    _children, owner = rankings.subtree(parent)
    child_of = {  # unit code → key of the ranked child whose subtree holds it
        code: str(owner[pk])
        for code, pk in Unit.objects.filter(path__startswith=parent.path).values_list("code", "pk")
        if pk in owner and str(owner[pk]) in units
    }
    with engine.bulk_objects():
        items = ledger.items_touched(period.start, period.end, parent.path)
        facts = ledger.facts_of_items(items, period.end, authors=False)  # units are compared
        facts += history.historic_facts(scheme, period.start, period.end)
        facts += _unit_deductions(scheme, parent, period)
        entries = [
            e._replace(unit=child_of[e.unit])
            for e in engine.score(rules, facts, period)
            if not e.person and e.unit in child_of
        ]
    totals = engine.unit_totals(entries)
    quota = _quota_deductions(scheme, rules, facts, period, child_of)
    tried = []
    for key in units:
        total = totals.get(key, engine.Total(key=key, points=engine.ZERO))
        tried.append(total._replace(points=total.points - quota.get(key, engine.ZERO)))
    now = {row.key: row for row in current}
    ranked = engine.rank(
        tried,
        tie_break=rankings.tie_break_of(scheme),
        previous={key: row.rank for key, row in now.items()},
    )
    rows = [
        WhatIfRow(
            unit=units[r.key],
            rank=r.rank,
            points=r.total.points,
            figures=r.total,
            current_rank=now[r.key].rank,
            current_points=engine.q2(now[r.key].figures.points),
            current_figures=now[r.key].figures,
            change=now[r.key].rank - r.rank,
        )
        for r in ranked
    ]
    rows.sort(key=lambda r: (r.rank, r.unit.sort_order, r.unit.short_name))
    return rows


def _unit_deductions(scheme: Scheme, parent: Unit, period: engine.Period) -> list[engine.Fact]:
    """Deductions the scheme's owner decided against units (not items) during the period."""
    rows = AssessmentEvent.objects.filter(
        unit=scheme.unit,
        action=Decision.DEDUCT,
        submission__isnull=True,
        target__path__startswith=parent.path,
        at__gte=period.start,
        at__lt=period.end,
    ).values_list("pk", "at", "target__code", "points", "reason")
    return [
        engine.Fact(
            kind=engine.DEDUCT, event_id=f"c{pk}", at=at, origin_unit=code, points=points, note=note
        )
        for pk, at, code, points, note in rows
    ]


def _quota_deductions(
    scheme: Scheme,
    rules: engine.Scheme,
    facts: list[engine.Fact],
    period: engine.Period,
    child_of: dict[str, str],
) -> dict[str, Decimal]:
    """Quota windows of the period that the ledger has settled for a ranked unit, judged again
    under the tried rules (each unit with its subtree): unit key → points to take off. Windows
    not yet settled, and units never settled (below the scheme's own children), count in
    neither ranking."""
    settled = {
        (str(unit_id), window)
        for unit_id, window in QuotaSettlement.objects.filter(
            version__scheme=scheme, unit_id__in=[int(k) for k in set(child_of.values())]
        ).values_list("unit_id", "window")
    }
    end = min(period.end, dt.datetime.now(ledger.local_tz()))
    if not rules.quotas or not settled or end <= period.start:
        return {}
    submits = [
        engine.Fact(
            kind=engine.SUBMIT,
            event_id=f.event_id,
            at=f.at,
            item_id=f.item_id,
            item_kind=f.item_kind,
            origin_unit=child_of[f.origin_unit],
        )
        for f in facts
        if f.kind == engine.SUBMIT and f.origin_unit in child_of
    ]
    window = engine.Period(period.key, period.start, end, period.grain)
    cuts: dict[str, Decimal] = {}
    for status in engine.quota_status(rules, submits, window, sorted(set(child_of.values()))):
        judged = (
            status.closed
            and (status.unit, status.window) in settled
            and status.start >= period.start
        )
        if judged and not status.met:
            cuts[status.unit] = cuts.get(status.unit, engine.ZERO) + status.deduction
    return cuts
