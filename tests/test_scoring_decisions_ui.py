"""The 扣分与认定 page, through HTTP with the named people.

The scenario: 临江市 (CA) adopts the demo "highest level only" rules (engine.CITY_HIGHEST) from
2026-01-01: a submitted info item earns 5, a whole adoption in a city journal 10 × 1 (journal)
× 1 (whole) = 10, and an item confirmed as copied loses what it earned plus 20 (抄袭另扣).
安平县 (CA1) submits one item which the city adopts whole, and one it does not adopt:
    CA1: 5 + 10 + 5 = 20 points before any decision.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from baosong.orgs.models import Role, Unit
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, rankings, workflow
from baosong.scoring.models import AssessmentEvent, Decision, LedgerEntry, Scheme
from baosong.submissions.models import Submission
from conftest import client_for, make_person
from tests.test_publication_scenarios import submitted

D = Decimal


@dataclass
class Scenario:
    scheme: Scheme
    adopted: Submission
    url: str


@pytest.fixture
def scenario(world: Any) -> Scenario:
    scheme = workflow.create_scheme(
        by=world.editor_city,
        unit=world.city_a,
        name="临江市计分办法",
        data=engine.scheme_as_data(engine.CITY_HIGHEST),
    )
    workflow.adopt_version(
        by=world.editor_city, version=scheme.versions.get(), effective_from=dt.date(2026, 1, 1)
    )
    first = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平甲")
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平乙")
    journal = pubs.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(first)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=first.title,
    )
    return Scenario(scheme, first, reverse("scheme_decisions", args=[scheme.pk]))


def ranking_points(client: Client, s: Scenario, unit: Unit) -> Decimal:
    """The unit's points as the ranking page computes them (this year, the city's counties)."""
    year = rankings.current_period("year").key
    response = client.get(f"{reverse('ranking_home')}?scheme={s.scheme.pk}&grain=year&key={year}")
    assert response.status_code == 200
    row = next(r for r in response.context["rows"] if r.unit == unit)
    points: Decimal = row.figures.points
    return points


def ledger_total(s: Scenario) -> tuple[int, Decimal]:
    lines = LedgerEntry.objects.filter(scheme=s.scheme)
    return lines.count(), lines.aggregate(t=Sum("points"))["t"] or D(0)


def test_a_manager_records_a_deduction_and_the_ranking_drops_by_it(
    world: Any, scenario: Scenario
) -> None:
    client = client_for(world.editor_city)
    assert ranking_points(client, scenario, world.county_a) == D("20.00")
    response = client.post(
        scenario.url,
        {"form": "deduct", "target": world.county_a.pk, "points": "2.50", "reason": "迟报"},
    )
    assert response.status_code == 302 and response["Location"] == scenario.url
    assert "扣分已记录" in client.get(scenario.url).content.decode()
    # 20 - 2.50 = 17.50
    assert ranking_points(client, scenario, world.county_a) == D("17.50")
    event = AssessmentEvent.objects.get()
    assert (event.action, event.target, event.scheme) == ("deduct", world.county_a, scenario.scheme)
    line = LedgerEntry.objects.get(
        scheme=scenario.scheme, event_key=f"c{event.pk}", person__isnull=True
    )
    assert (line.category, line.points, line.unit) == ("deduct", D("-2.50"), world.county_a)

    page = client.get(scenario.url)
    row = next(r for r in page.context["rows"] if r.event == event)
    assert row.points == D("-2.50")
    html = page.content.decode()
    assert 'data-total="-2.50"' in html and "迟报" in html
    drill = reverse("ranking_unit", args=[scenario.scheme.pk, world.county_a.pk])
    assert drill in html
    # The link opens the unit's lines of the event's month, the deduction among them.
    detail = client.get(f"{drill}?{row.drill_query}")
    assert detail.status_code == 200 and "迟报" in detail.content.decode()


def test_confirming_copying_of_an_adopted_item_reverses_its_points_and_takes_the_penalty(
    world: Any, scenario: Scenario
) -> None:
    client = client_for(world.editor_city)
    response = client.post(
        scenario.url,
        {
            "form": "confirm",
            "item": scenario.adopted.pk,
            "action": Decision.CONFIRMED_COPY,
            "reason": "与外省信息雷同",
        },
    )
    assert response.status_code == 302
    # The item had earned 5 (报送) + 10 (市级采用，全文) = 15: reversed, and 20 more taken.
    # CA1: 20 - 15 - 20 = -15.
    assert ranking_points(client, scenario, world.county_a) == D("-15.00")
    event = AssessmentEvent.objects.get()
    assert event.submission == scenario.adopted and event.target == world.county_a
    page = client.get(scenario.url)
    row = next(r for r in page.context["rows"] if r.event == event)
    # The event's own lines under this scheme: -15 reversal, -20 penalty.
    assert row.points == D("-35.00")
    html = page.content.decode()
    assert 'data-total="-35.00"' in html
    assert reverse("items_detail", args=[scenario.adopted.pk]) in html
    assert scenario.adopted not in page.context["recent_items"]
    # Confirming the same item again is refused in Chinese and adds nothing.
    before = ledger_total(scenario)
    again = client.post(
        scenario.url,
        {"form": "confirm", "item": scenario.adopted.pk, "action": "falsified", "reason": "再次"},
    )
    assert again.status_code == 400
    assert "该稿件已被认定过" in again.content.decode()
    assert ledger_total(scenario) == before


def test_bad_input_gives_chinese_errors_and_changes_nothing(world: Any, scenario: Scenario) -> None:
    officer_b = make_person("officer_b", world.county_b, Role.OFFICER)
    reviewer_b = make_person("reviewer_b", world.county_b, Role.REVIEWER)
    foreign = submitted(world.county_b, officer_b, reviewer_b, "云溪稿件")
    client = client_for(world.editor_city)
    before = ledger_total(scenario)
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"form": "deduct", "target": world.county_a.pk, "points": "0", "reason": "迟报"},
            "points",
            "扣分应大于 0 且不超过 1000。",
        ),
        (
            {"form": "deduct", "target": world.county_a.pk, "points": "1000.01", "reason": "x"},
            "points",
            "扣分应大于 0 且不超过 1000。",
        ),
        (
            {"form": "deduct", "target": world.county_a.pk, "points": "3", "reason": "  "},
            "reason",
            "请写明理由。",
        ),
        (
            {"form": "deduct", "target": world.county_b.pk, "points": "3", "reason": "越权"},
            "target",
            "请选择本计分办法范围内的单位。",
        ),
        (
            {"form": "confirm", "item": foreign.pk, "action": "confirmed_copy", "reason": "雷同"},
            "item",
            f"编号为 {foreign.pk} 的稿件不存在，或不属于本计分办法范围内的单位。",
        ),
        (
            {"form": "confirm", "item": scenario.adopted.pk, "action": "confirmed_copy"},
            "reason",
            "请写明理由。",
        ),
    ]
    for data, field, message in cases:
        response = client.post(scenario.url, data)
        assert response.status_code == 400, data
        form = response.context["deduct" if data["form"] == "deduct" else "confirm"]
        assert form.errors[field] == [message], (data, form.errors)
        assert message in response.content.decode()
    assert not AssessmentEvent.objects.exists()
    assert ledger_total(scenario) == before


def test_only_managers_of_the_scheme_see_the_page(world: Any, scenario: Scenario) -> None:
    assert client_for(world.officer_county_a).get(scenario.url).status_code == 403
    assert (
        client_for(world.officer_county_a)
        .post(
            scenario.url,
            {"form": "deduct", "target": world.county_a.pk, "points": "1", "reason": "x"},
        )
        .status_code
        == 403
    )
    assert client_for(world.outsider).get(scenario.url).status_code == 404
    assert client_for(world.unit_admin_city).get(scenario.url).status_code == 200
    assert not AssessmentEvent.objects.exists()


def test_the_scheme_pages_link_to_decisions_and_history_import_for_managers(
    world: Any, scenario: Scenario
) -> None:
    decisions = reverse("scheme_decisions", args=[scenario.scheme.pk])
    history = reverse("history_import", args=[scenario.scheme.pk])
    manager = client_for(world.editor_city)
    for url in (reverse("scheme_list"), reverse("scheme_detail", args=[scenario.scheme.pk])):
        html = manager.get(url).content.decode()
        assert decisions in html and history in html, url
    reader = client_for(world.officer_county_a).get(
        reverse("scheme_detail", args=[scenario.scheme.pk])
    )
    assert decisions not in reader.content.decode()
    ranking = manager.get(f"{reverse('ranking_home')}?scheme={scenario.scheme.pk}")
    assert reverse("scheme_list") in ranking.content.decode()
