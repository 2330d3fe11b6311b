"""Rankings, drill-down, dashboard and circular pages, through HTTP with the named people.

The scenario: 临江市 (CA) adopts the demo "highest level only" scheme from 2026-01-01. 安平县
(CA1) submits two info items and the city adopts one whole in its journal; 青石县 (CA2) submits
one. Under the demo scheme a submitted info item earns 5 and a whole adoption in a city journal
10 × 1 (journal) × 1 (whole) = 10, so:
    CA1: 5 + 5 + 10 = 20 points, 2 submitted, 1 adopted, rate 50.00 %  → rank 1
    CA2: 5 points, 1 submitted, 0 adopted, rate 0.00 %                  → rank 2
"""

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from baosong.orgs.models import Level, Role, Unit, User
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, rankings, workflow
from baosong.scoring.ledger import local_tz
from baosong.scoring.models import Circular, Scheme
from baosong.submissions.models import Submission
from conftest import client_for, make_person, make_unit
from tests.test_publication_scenarios import submitted


@dataclass
class Scenario:
    scheme: Scheme
    officer_a2: User
    reviewer_a2: User
    adopted: Submission
    month: str


@pytest.fixture
def scenario(world: Any) -> Scenario:
    scheme = workflow.create_scheme(by=world.editor_city, unit=world.city_a, name="临江市计分办法")
    workflow.adopt_version(
        by=world.editor_city,
        version=scheme.versions.get(),
        effective_from=dt.date(2026, 1, 1),
    )
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    first = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平甲")
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平乙")
    submitted(world.county_a2, officer_a2, reviewer_a2, "青石丙")
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
    month = rankings.current_period("month").key
    return Scenario(scheme, officer_a2, reviewer_a2, first, month)


def _ranking_url(s: Scenario, **extra: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"grain": "month", "key": s.month, **extra}.items())
    return f"{reverse('ranking_home')}?scheme={s.scheme.pk}&{query}"


def _drill_url(s: Scenario, unit: Unit, **extra: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"grain": "month", "key": s.month, **extra}.items())
    return f"{reverse('ranking_unit', args=[s.scheme.pk, unit.pk])}?{query}"


def _cells(html: str, key: str) -> dict[str, str]:
    """The figures of one ranking row, by their data-figure name, as displayed."""
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', html, re.S)
    assert row, f"no row {key}"
    cells = re.findall(r'data-figure="(\w+)">(.*?)</td>', row.group(1), re.S)
    return {name: re.sub(r"<[^>]+>", "", text).strip() for name, text in cells}


def test_ranking_lists_the_counties_by_points_with_their_figures(
    world: Any, scenario: Scenario
) -> None:
    response = client_for(world.editor_city).get(_ranking_url(scenario))
    assert response.status_code == 200
    html = response.content.decode()
    keys = re.findall(r'<tr data-key="(\d+)">', html)
    assert keys == [str(world.county_a.pk), str(world.county_a2.pk)]
    assert _cells(html, str(world.county_a.pk)) == {
        "submitted": "2",
        "adopted": "1",
        "rate": "50.00%",
        "lead": "0",
        "instructions": "0",
        "points": "20.00",
    }
    assert _cells(html, str(world.county_a2.pk))["points"] == "5.00"
    assert _cells(html, str(world.county_a2.pk))["rate"] == "0.00%"
    ranks = [int(r.rank) for r in response.context["rows"]]
    assert ranks == [1, 2]
    # Every number opens the drill-down of its unit.
    drill = reverse("ranking_unit", args=[scenario.scheme.pk, world.county_a.pk])
    assert f'href="{drill}?grain=month&amp;key={scenario.month}&amp;only=submitted"' in html
    assert f'href="{drill}?grain=month&amp;key={scenario.month}"' in html


def test_ranking_of_people_credits_the_authors(world: Any, scenario: Scenario) -> None:
    response = client_for(world.editor_city).get(_ranking_url(scenario, tab="people"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.person, r.figures.points) for r in rows] == [
        (world.officer_county_a, Decimal("20.00")),
        (scenario.officer_a2, Decimal("5.00")),
    ]
    assert reverse("ranking_person", args=[scenario.scheme.pk, world.officer_county_a.pk]) in (
        response.content.decode()
    )


def test_htmx_filter_change_returns_only_the_ranking_partial(
    world: Any, scenario: Scenario
) -> None:
    response = client_for(world.editor_city).get(
        _ranking_url(scenario, grain="year", key="2026"), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="ranking">') and "<html" not in html
    assert _cells(html, str(world.county_a.pk))["points"] == "20.00"
    assert response["HX-Push-Url"].endswith(f"unit={world.city_a.pk}&grain=year&key=2026")


def test_a_month_key_carries_over_when_the_grain_changes(world: Any, scenario: Scenario) -> None:
    url = f"{reverse('ranking_home')}?scheme={scenario.scheme.pk}&grain=quarter&key=2026-11"
    response = client_for(world.editor_city).get(url)
    assert response.context["filters"].choice.key == "2026-Q4"
    assert not response.context["filters"].choice.error


def test_ranking_without_any_scheme_says_so(world: Any) -> None:
    response = client_for(world.other_tree_admin).get(reverse("ranking_home"))
    assert response.status_code == 200
    assert "还没有计分办法" in response.content.decode()


def test_drill_down_sums_equal_the_ranking_figures(world: Any, scenario: Scenario) -> None:
    client = client_for(world.editor_city)
    ranking = client.get(_ranking_url(scenario)).context["rows"]
    figures = {r.unit.pk: r.figures for r in ranking}
    for unit in (world.county_a, world.county_a2):
        response = client.get(_drill_url(scenario, unit))
        assert response.status_code == 200
        assert response.context["total"] == figures[unit.pk].points
        counts = response.context["counts"]
        assert counts["submitted"] == figures[unit.pk].submitted
        assert counts["adopted"] == figures[unit.pk].adopted
    response = client.get(_drill_url(scenario, world.county_a))
    sums = {s.category: s.points for s in response.context["sums"]}
    assert sums == {"submit": Decimal("10.00"), "adopt": Decimal("10.00")}
    html = response.content.decode()
    assert "市级信息刊物全文采用 10 分" in html
    assert reverse("items_detail", args=[scenario.adopted.pk]) in html


def test_drill_down_narrowed_to_adoptions_lists_the_adopted_item(
    world: Any, scenario: Scenario
) -> None:
    response = client_for(world.editor_city).get(
        _drill_url(scenario, world.county_a, only="adopted")
    )
    lines = list(response.context["page"])
    assert [(e.category, e.item_id, e.points) for e in lines] == [
        ("adopt", scenario.adopted.pk, Decimal("10.00"))
    ]


def test_county_officer_drills_into_own_unit_but_not_the_sibling(
    world: Any, scenario: Scenario
) -> None:
    client = client_for(world.officer_county_a)
    ranking = client.get(_ranking_url(scenario))
    assert ranking.status_code == 200  # the ranking is circulated to the whole subtree
    html = ranking.content.decode()
    assert reverse("ranking_unit", args=[scenario.scheme.pk, world.county_a.pk]) in html
    assert reverse("ranking_unit", args=[scenario.scheme.pk, world.county_a2.pk]) not in html
    assert client.get(_drill_url(scenario, world.county_a)).status_code == 200
    assert client.get(_drill_url(scenario, world.county_a2)).status_code == 403


def test_people_drill_into_their_own_entries_only(world: Any, scenario: Scenario) -> None:
    own = reverse("ranking_person", args=[scenario.scheme.pk, world.officer_county_a.pk])
    other = reverse("ranking_person", args=[scenario.scheme.pk, scenario.officer_a2.pk])
    query = f"?grain=month&key={scenario.month}"
    client = client_for(world.officer_county_a)
    response = client.get(own + query)
    assert response.status_code == 200 and response.context["total"] == Decimal("20.00")
    assert client.get(other + query).status_code == 403
    assert client_for(world.editor_city).get(other + query).context["total"] == Decimal("5.00")


def test_outsider_sees_neither_the_ranking_nor_the_entries(world: Any, scenario: Scenario) -> None:
    client = client_for(world.outsider)
    assert client.get(_ranking_url(scenario)).status_code == 404
    assert client.get(_drill_url(scenario, world.county_a)).status_code == 404
    assert client.get(reverse("circular_list", args=[scenario.scheme.pk])).status_code == 404
    dashboard = f"{reverse('scoring_dashboard')}?scheme={scenario.scheme.pk}"
    assert client.get(dashboard).status_code == 404


def test_drill_down_outside_the_scheme_is_not_found(world: Any, scenario: Scenario) -> None:
    response = client_for(world.editor_city).get(_drill_url(scenario, world.county_b))
    assert response.status_code == 404


def _ranking_queries(user: User, url: str) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_ranking_queries_do_not_grow_with_units_and_entries(world: Any, scenario: Scenario) -> None:
    url = _ranking_url(scenario)
    before = _ranking_queries(world.editor_city, url)
    for code in ("CA3", "CA4", "CA5"):
        unit = make_unit(world.city_a, code, Level.COUNTY)
        officer = make_person(f"officer_{code}", unit, Role.OFFICER)
        reviewer = make_person(f"reviewer_{code}", unit, Role.REVIEWER)
        submitted(unit, officer, reviewer, f"{code}信息一")
        submitted(unit, officer, reviewer, f"{code}信息二")
    after = _ranking_queries(world.editor_city, url)
    assert after == before
    people = _ranking_queries(world.editor_city, _ranking_url(scenario, tab="people"))
    assert people <= before + 2


def test_dashboard_embeds_the_chart_data(world: Any, scenario: Scenario) -> None:
    url = f"{reverse('scoring_dashboard')}?scheme={scenario.scheme.pk}&grain=year&key=2026"
    response = client_for(world.editor_city).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in html and "js/scoring_charts.js" in html
    raw = re.search(
        r'<script id="scoring-dashboard-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert raw
    data = json.loads(raw.group(1))
    month = data["monthly"]["months"].index(scenario.month)
    assert data["monthly"]["submitted"][month] == 3
    assert data["monthly"]["adopted"][month] == 1
    assert {p["name"]: p["value"] for p in data["quadrant"]["points"]} == {
        "安平县委组织部": [2, 50.0],
        "青石县委组织部": [1, 0.0],
    }
    assert data["spread"]["points"] == [20.0, 5.0]
    assert (data["spread"]["max"], data["spread"]["min"]) == (20.0, 5.0)
    dynamic = next(s for s in data["kinds"]["series"] if s["name"] == "动态")
    assert dynamic["data"] == [2, 1]
    assert sum(d["value"] for d in data["quota"]["data"]) == 2


def test_a_manager_generates_a_circular_and_anyone_in_scope_downloads_it(
    world: Any, scenario: Scenario
) -> None:
    url = reverse("circular_generate", args=[scenario.scheme.pk])
    response = client_for(world.editor_city).post(
        url, {"grain": "month", "key": scenario.month, "unit": world.city_a.pk}
    )
    assert response.status_code == 302, response.content.decode()[:800]
    circular = Circular.objects.get(scheme=scenario.scheme)
    assert circular.period_key == scenario.month and circular.unit == world.city_a
    officer = client_for(world.officer_county_a)
    listing = officer.get(reverse("circular_list", args=[scenario.scheme.pk]))
    assert circular.title in listing.content.decode()
    assert "生成并归档" not in listing.content.decode()  # no form for non-managers
    docx = officer.get(reverse("circular_download", args=[circular.pk, "docx"]))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert "attachment" in docx["Content-Disposition"]
    xlsx = officer.get(reverse("circular_download", args=[circular.pk, "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert officer.get(reverse("circular_download", args=[circular.pk, "pdf"])).status_code == 404


def test_only_managers_generate_circulars(world: Any, scenario: Scenario) -> None:
    url = reverse("circular_generate", args=[scenario.scheme.pk])
    data = {"grain": "month", "key": scenario.month, "unit": world.city_a.pk}
    assert client_for(world.officer_county_a).post(url, data).status_code == 403
    assert client_for(world.outsider).post(url, data).status_code == 404
    assert not Circular.objects.exists()


def test_a_bad_circular_period_is_shown_on_the_form(world: Any, scenario: Scenario) -> None:
    url = reverse("circular_generate", args=[scenario.scheme.pk])
    response = client_for(world.editor_city).post(
        url, {"grain": "quarter", "key": "2026-13", "unit": world.city_a.pk}
    )
    assert response.status_code == 400
    assert "统计期间的格式不对" in response.content.decode()
    assert not Circular.objects.exists()


def test_unit_drill_down_shows_the_weekly_quota_of_the_current_week(
    world: Any, scenario: Scenario
) -> None:
    # The demo scheme asks for at least 2 items a week: 安平 has 2 this week, 青石 1.
    client = client_for(world.editor_city)
    a1 = client.get(_drill_url(scenario, world.county_a)).context["week_quotas"]
    a2 = client.get(_drill_url(scenario, world.county_a2)).context["week_quotas"]
    current = engine.period_containing("week", dt.datetime.now(local_tz())).key
    this_week = {w.window: w for w in a1}[current]
    assert (this_week.submitted, this_week.needed, this_week.met) == (2, 2, True)
    assert {w.window: w for w in a2}[current].met is False


def test_county_staff_do_not_see_the_people_ranking_of_the_whole_city(
    world: Any, scenario: Scenario
) -> None:
    # Authors' points are drill-down detail: the county officer may not open the city's entries.
    client = client_for(world.officer_county_a)
    assert client.get(_ranking_url(scenario, tab="people")).status_code == 403
    assert "tab=people" not in client.get(_ranking_url(scenario)).content.decode()
    own = _ranking_url(scenario, tab="people", unit=str(world.county_a.pk))
    assert client.get(own).status_code == 200
