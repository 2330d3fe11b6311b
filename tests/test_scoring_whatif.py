"""What-if (试算) in baosong/scoring/whatif.py, the one computation behind the UI page and the API.

The scene: 临江市 (CA) scores its counties 安平 (CA1) and 青石 (CA2) with the demo "highest level
only" rules (CITY_HIGHEST) from 2026-01-01: 5 per submitted info item, 10 for a whole adoption in
the city journal. CA1 submits two items (2 × 5 = 10); CA2 submits one, adopted whole by the city
(5 + 10 = 15). The city also has an internal section (办公室, a 科室), which is never ranked.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Level, Role, Unit
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, history, rankings, whatif, workflow
from baosong.scoring.models import LedgerEntry, Scheme, SchemeVersion
from conftest import World, client_for, make_person, make_unit
from tests.test_publication_scenarios import submitted

D = Decimal


@dataclass
class Scene:
    world: World
    scheme: Scheme
    section: Unit

    @property
    def in_force(self) -> SchemeVersion:
        return self.scheme.versions.get(number=1)

    @property
    def month(self) -> engine.Period:
        return rankings.current_period("month")


@pytest.fixture
def scene(world: World) -> Scene:
    section = make_unit(world.city_a, "CA-OFF", Level.INTERNAL, "市委组织部办公室")
    scheme = workflow.create_scheme(
        by=world.editor_city,
        unit=world.city_a,
        name="临江市信息工作计分办法",
        data=engine.scheme_as_data(engine.CITY_HIGHEST),
    )
    workflow.adopt_version(
        by=world.editor_city, version=scheme.versions.get(), effective_from=dt.date(2026, 1, 1)
    )
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    for title in ("安平县信息一", "安平县信息二"):
        submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, title)
    item = submitted(world.county_a2, officer_a2, reviewer_a2, "青石县信息")
    journal = pubs.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
    )
    return Scene(world, scheme, section)


def import_record(scene: Scene, lead: str, day: dt.date) -> None:
    """One imported adoption record (市级, 信息刊物, whole) credited to `lead`."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(history.COLUMNS))
    ws.append(
        ["第1期", "导入的采用记录", "市级", "信息刊物", day.isoformat(), lead, "市委", "", ""]
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    history.import_history(
        by=scene.world.editor_city,
        scheme=scene.scheme,
        file_name="采用记录.xlsx",
        data=buffer.getvalue(),
    )


def draft_with(scene: Scene, **changes: Any) -> SchemeVersion:
    draft = workflow.new_version(by=scene.world.editor_city, scheme=scene.scheme)
    rules = engine.scheme_as_data(engine.CITY_HIGHEST)
    rules.update(changes)
    workflow.save_draft(by=scene.world.editor_city, version=draft, data=rules)
    draft.refresh_from_db()
    assert draft.data["submit_points"] == rules["submit_points"]
    return draft


def as_ranked(rows: list[whatif.WhatIfRow]) -> list[tuple[str, int, Decimal]]:
    return [(r.unit.code, r.rank, r.points) for r in rows]


def ledger_ranking(scene: Scene, period: engine.Period) -> list[tuple[str, int, Decimal]]:
    return [
        (row.unit.code if row.unit else "", row.rank, engine.q2(row.figures.points))
        for row in rankings.unit_ranking(scene.scheme, scene.world.city_a, period)
    ]


# The version in force gives back the ledger's ranking --------------------------------------------


def test_trying_the_version_in_force_gives_the_current_ranking(scene: Scene) -> None:
    rows = whatif.compare(scene.scheme, scene.in_force, scene.world.city_a, scene.month)

    assert (
        as_ranked(rows)
        == ledger_ranking(scene, scene.month)
        == [
            ("CA2", 1, D(15)),
            ("CA1", 2, D(10)),
        ]
    )
    assert [(r.current_rank, r.current_points, r.change, r.delta) for r in rows] == [
        (1, D(15), 0, D(0)),
        (2, D(10), 0, D(0)),
    ]
    assert [(r.figures.submitted, r.figures.adopted) for r in rows] == [(1, 1), (2, 0)]
    assert [(r.current_figures.submitted, r.current_figures.adopted) for r in rows] == [
        (1, 1),
        (2, 0),
    ]


def test_imported_records_and_unit_deductions_count_on_both_sides(scene: Scene) -> None:
    # An imported 市级 whole adoption for CA1 today: 10 → CA1 10 + 10 = 20. A deduction of 3
    # against CA2 → 15 − 3 = 12. The order flips in the ledger, and the what-if of the version in
    # force must follow it (it did not replay either before).
    import_record(scene, "CA1", timezone.localdate())
    workflow.decide(
        by=scene.world.editor_city,
        scheme=scene.scheme,
        action="deduct",
        target=scene.world.county_a2,
        points=3,
        reason="迟报",
    )
    entries = LedgerEntry.objects.count()

    rows = whatif.compare(scene.scheme, scene.in_force, scene.world.city_a, scene.month)

    assert (
        as_ranked(rows)
        == ledger_ranking(scene, scene.month)
        == [
            ("CA1", 1, D(20)),
            ("CA2", 2, D(12)),
        ]
    )
    assert all(r.change == 0 and r.points == r.current_points for r in rows)
    assert LedgerEntry.objects.count() == entries  # a what-if writes nothing


def test_only_quota_windows_the_ledger_has_settled_are_taken_off(scene: Scene) -> None:
    # 2026-Q3 closed with nothing submitted: the quarterly quota (10 points) is missed by both
    # counties. Not settled: neither side takes it off. Settled: both take 10 off.
    q3 = rankings.period_for("quarter", "2026-Q3")
    if q3.end > timezone.now():
        pytest.skip("2026-Q3 has not closed yet")
    before = whatif.compare(scene.scheme, scene.in_force, scene.world.city_a, q3)
    assert [(r.points, r.current_points) for r in before] == [(D(0), D(0))] * 2

    workflow.settle_quotas(by=scene.world.editor_city, scheme=scene.scheme, period=q3)

    after = whatif.compare(scene.scheme, scene.in_force, scene.world.city_a, q3)
    assert (
        as_ranked(after)
        == ledger_ranking(scene, q3)
        == [
            ("CA1", 1, D(-10)),
            ("CA2", 1, D(-10)),
        ]
    )


# A draft -----------------------------------------------------------------------------------------


def test_a_draft_paying_more_per_submission_flips_the_two_counties(scene: Scene) -> None:
    # Draft: 20 per submitted info item instead of 5, adoptions unchanged.
    #   CA1: 2 × 20 = 40            (now 2 × 5 = 10, 2nd)
    #   CA2: 1 × 20 + 10 = 30       (now 5 + 10 = 15, 1st)
    draft = draft_with(scene, submit_points={"info": "20", "news": "3", "special": "8"})

    rows = whatif.compare(scene.scheme, draft, scene.world.city_a, scene.month)

    assert [(r.unit.code, r.rank, r.points, r.current_rank, r.current_points) for r in rows] == [
        ("CA1", 1, D(40), 2, D(10)),
        ("CA2", 2, D(30), 1, D(15)),
    ]
    assert [(r.change, r.delta) for r in rows] == [(1, D(30)), (-1, D(15))]


# Internal sections -------------------------------------------------------------------------------


def test_internal_sections_are_never_ranked(scene: Scene) -> None:
    draft = draft_with(scene, submit_points={"info": "20", "news": "3", "special": "8"})
    for version in (scene.in_force, draft):
        rows = whatif.compare(scene.scheme, version, scene.world.city_a, scene.month)
        codes = [r.unit.code for r in rows]
        assert scene.section.code not in codes
        assert sorted(codes) == ["CA1", "CA2"]


# The UI page and the API agree -------------------------------------------------------------------


def test_the_page_and_the_api_give_the_same_numbers(scene: Scene) -> None:
    import_record(scene, "CA2", timezone.localdate())
    workflow.decide(
        by=scene.world.editor_city,
        scheme=scene.scheme,
        action="deduct",
        target=scene.world.county_a,
        points=2,
        reason="迟报",
    )
    draft = draft_with(scene, submit_points={"info": "20", "news": "3", "special": "8"})
    key = scene.month.key
    token = orgs_workflow.create_api_token(by=scene.world.editor_city, name="测试")[1]
    api = Client(headers={"Authorization": f"Bearer {token}"})

    for version in (scene.in_force, draft):
        query: dict[str, str | int] = {
            "version": version.pk,
            "grain": "month",
            "key": key,
            "parent": scene.world.city_a.pk,
        }
        page = client_for(scene.world.editor_city).get(
            f"/scoring/schemes/{scene.scheme.pk}/whatif/", query
        )
        response = api.post(
            f"/api/v1/scoring/schemes/{scene.scheme.pk}/whatif",
            data=json.dumps({"version_id": version.pk, "grain": "month", "key": key}),
            content_type="application/json",
        )
        assert page.status_code == 200 and response.status_code == 200, response.json()
        from_page = [
            (
                r.unit.pk,
                r.rank,
                r.points,
                r.current_rank,
                r.current_points,
                r.change,
                r.submitted,
                r.adopted,
            )
            for r in page.context["rows"]
        ]
        from_api = [
            (
                r["unit_id"],
                r["rank"],
                D(r["points"]),
                r["current_rank"],
                D(r["current_points"]),
                r["change"],
                r["submitted"],
                r["adopted"],
            )
            for r in response.json()["rows"]
        ]
        assert from_page == from_api
        assert len(from_page) == 2
