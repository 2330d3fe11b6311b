"""The scoring JSON API under /api/v1/scoring/: schemes and versions, rankings, drill-down,
what-if, circulars and assessing decisions. Each test goes through HTTP with a personal token (or
the session) and checks the response and what the database holds afterwards.

The scene: 临江市 (CA) scores its counties 安平 (CA1) and 青石 (CA2) with the demo "highest level
only" rules from 2026-01-01. CA1 submits two items and has one adopted whole by the city as the
lead item; CA2 submits one.
"""

import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from baosong.audit.models import Event as AuditEvent
from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Role, User
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, rankings, workflow
from baosong.scoring.models import (
    AssessmentEvent,
    Circular,
    LedgerEntry,
    Scheme,
    SchemeVersion,
    VersionStatus,
)
from baosong.submissions.models import Submission
from conftest import PASSWORD, make_person
from tests.test_publication_scenarios import submitted

API = "/api/v1"
D = Decimal


@dataclass
class Scene:
    world: Any
    scheme: Scheme
    items: dict[str, Submission]
    tokens: dict[str, str]

    def api(self, name: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.tokens[name]}"})

    @property
    def month(self) -> str:
        return rankings.current_period("month").key


@pytest.fixture
def scene(world: Any) -> Scene:
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
    officer, reviewer = world.officer_county_a, world.reviewer_county_a
    items = {
        "振兴": submitted(world.county_a, officer, reviewer, "安平县推进乡村振兴"),
        "人才": submitted(world.county_a, officer, reviewer, "安平县人才回引经验"),
        "青石": submitted(world.county_a2, officer_a2, reviewer_a2, "青石县基层党建"),
    }
    journal = pubs.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(items["振兴"])],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=items["振兴"].title,
        is_lead=True,
    )
    people: dict[str, User] = {
        "editor_city": world.editor_city,
        "officer_county_a": world.officer_county_a,
        "unit_admin_province": world.unit_admin_province,
        "outsider": world.outsider,
        "officer_a2": officer_a2,
    }
    tokens = {
        name: orgs_workflow.create_api_token(by=user, name="测试")[1]
        for name, user in people.items()
    }
    return Scene(world, scheme, items, tokens)


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{path}", data=json.dumps(body or {}), content_type="application/json")


def put(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.put(f"{API}{path}", data=json.dumps(body), content_type="application/json")


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(f"{API}{path}", params)


def unit_points(scheme: Scheme, code: str) -> Decimal:
    total = LedgerEntry.objects.filter(
        scheme=scheme, unit__code=code, person__isnull=True
    ).aggregate(t=Sum("points"))["t"]
    return total or D(0)


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def tomorrow() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


# Schemes -----------------------------------------------------------------------------------------


def test_the_scheme_list_shows_the_schemes_a_caller_may_read(scene: Scene) -> None:
    editor = get(scene.api("editor_city"), "/scoring/schemes")
    assert editor.status_code == 200
    [row] = editor.json()
    assert row["id"] == scene.scheme.pk
    assert row["unit"] == {
        "id": scene.world.city_a.pk,
        "code": "CA",
        "short_name": "临江市委组织部",
    }
    assert row["current_version"] == 1 and row["draft_version_id"] is None
    assert row["can_manage"] is True
    assert row["tie_break"] == ["points", "adopted"]
    # Circulated to the subtree and above, but managed only by the owner's editors.
    for name in ("officer_county_a", "unit_admin_province"):
        [seen] = get(scene.api(name), "/scoring/schemes").json()
        assert seen["can_manage"] is False, name
    assert get(scene.api("outsider"), "/scoring/schemes").json() == []
    refused = Client().get(f"{API}/scoring/schemes")
    assert refused.status_code == 401


def test_a_scheme_shows_its_versions_and_is_not_found_outside_the_tree(scene: Scene) -> None:
    response = get(scene.api("officer_county_a"), f"/scoring/schemes/{scene.scheme.pk}")
    assert response.status_code == 200
    [v1] = response.json()["versions"]
    assert (v1["number"], v1["status"], v1["status_label"]) == (1, "adopted", "已启用")
    assert v1["effective_from"] == "2026-01-01" and v1["frozen"] is True
    assert v1["code"] == f"{scene.scheme.pk}.1"

    hidden = get(scene.api("outsider"), f"/scoring/schemes/{scene.scheme.pk}")
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "对象不存在或无权查看。"}
    assert get(scene.api("editor_city"), "/scoring/schemes/999999").status_code == 404


def test_a_version_returns_its_rules(scene: Scene) -> None:
    version = scene.scheme.versions.get()
    response = get(scene.api("officer_county_a"), f"/scoring/versions/{version.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["scheme_id"] == scene.scheme.pk
    assert body["label"] == engine.CITY_HIGHEST.label
    assert body["data"] == version.data
    assert body["data"]["level_policy"] == "highest"
    assert get(scene.api("outsider"), f"/scoring/versions/{version.pk}").status_code == 404


def test_an_editor_creates_a_scheme_with_a_first_draft(scene: Scene) -> None:
    data = engine.scheme_as_data(engine.PROVINCE_ADD)
    response = post(
        scene.api("editor_city"),
        "/scoring/schemes",
        {"unit_id": scene.world.city_a.pk, "name": " 逐级累加试行办法 ", "data": data},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    scheme = Scheme.objects.get(pk=body["id"])
    assert scheme.name == "逐级累加试行办法" and scheme.unit == scene.world.city_a
    [draft] = body["versions"]
    assert (draft["number"], draft["status"]) == (1, "draft")
    assert body["draft_version_id"] == draft["id"] and body["current_version"] is None
    assert SchemeVersion.objects.get(pk=draft["id"]).data["level_policy"] == "add"
    event = AuditEvent.objects.get(action="scoring.scheme_create", object_id=str(scheme.pk))
    assert event.actor == scene.world.editor_city


def test_creating_a_scheme_refuses_readers_bad_rules_and_read_only_fields(scene: Scene) -> None:
    city = scene.world.city_a.pk
    before = Scheme.objects.count()

    forbidden = post(
        scene.api("officer_county_a"), "/scoring/schemes", {"unit_id": city, "name": "越权"}
    )
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "只有本单位的编辑或单位管理员可以制定计分办法。"}

    outside = post(
        scene.api("outsider"),
        "/scoring/schemes",
        {"unit_id": scene.world.other_province.pk, "name": "x"},
    )
    assert outside.status_code == 404

    bad = engine.scheme_as_data(engine.CITY_HIGHEST)
    bad["level_policy"] = "sometimes"
    invalid = post(
        scene.api("editor_city"), "/scoring/schemes", {"unit_id": city, "name": "坏", "data": bad}
    )
    assert invalid.status_code == 422
    assert list(invalid.json()["errors"]) == ["data"]
    assert invalid.json()["errors"]["data"] and all(
        chinese(m) for m in invalid.json()["errors"]["data"]
    )
    assert chinese(invalid.json()["detail"])

    blank = post(scene.api("editor_city"), "/scoring/schemes", {"unit_id": city, "name": "  "})
    assert blank.status_code == 422
    assert blank.json()["errors"] == {"name": ["请填写计分办法名称。"]}

    extra = post(
        scene.api("editor_city"), "/scoring/schemes", {"unit_id": city, "name": "多字段", "id": 5}
    )
    assert extra.status_code == 422
    assert extra.json()["errors"] == {"id": ["不支持该字段（只读或不存在），未作任何修改。"]}
    assert Scheme.objects.count() == before


# Versions ----------------------------------------------------------------------------------------


def test_a_new_draft_is_saved_and_adopted_from_tomorrow(scene: Scene) -> None:
    editor = scene.api("editor_city")
    pk = scene.scheme.pk
    created = post(editor, f"/scoring/schemes/{pk}/versions")
    assert created.status_code == 201
    draft = created.json()
    assert (draft["number"], draft["status"]) == (2, "draft")
    assert draft["data"] == scene.scheme.versions.get(number=1).data
    # One draft at a time: asking again returns the same one.
    again = post(editor, f"/scoring/schemes/{pk}/versions")
    assert again.status_code == 200 and again.json()["id"] == draft["id"]

    rules = dict(draft["data"])
    rules["submit_points"] = {**rules["submit_points"], "info": "6"}
    saved = put(
        editor, f"/scoring/versions/{draft['id']}", {"data": rules, "note": "信息报送改为 6 分"}
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["data"]["submit_points"]["info"] == "6"
    version = SchemeVersion.objects.get(pk=draft["id"])
    assert version.data["submit_points"]["info"] == "6" and version.note == "信息报送改为 6 分"

    adopted = post(
        editor, f"/scoring/versions/{draft['id']}/adopt", {"effective_from": tomorrow().isoformat()}
    )
    assert adopted.status_code == 200, adopted.json()
    assert adopted.json()["status"] == "adopted"
    version.refresh_from_db()
    assert version.status == VersionStatus.ADOPTED and version.effective_from == tomorrow()
    v1 = scene.scheme.versions.get(number=1)
    assert v1.effective_to == timezone.localdate()
    assert AuditEvent.objects.filter(action="scoring.version_adopt").count() == 2


def test_saving_a_draft_refuses_bad_rules_readers_and_adopted_versions(scene: Scene) -> None:
    draft = workflow.new_version(by=scene.world.editor_city, scheme=scene.scheme)
    original = dict(draft.data)
    editor = scene.api("editor_city")

    bad = dict(original)
    bad["lead_multiplier"] = "很多"
    invalid = put(editor, f"/scoring/versions/{draft.pk}", {"data": bad})
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == {"data": ["计分办法的内容不完整或格式不对。"]}

    status = put(editor, f"/scoring/versions/{draft.pk}", {"data": original, "status": "adopted"})
    assert status.status_code == 422
    assert "status" in status.json()["errors"]

    reader = put(scene.api("officer_county_a"), f"/scoring/versions/{draft.pk}", {"data": original})
    assert reader.status_code == 403
    assert reader.json() == {"detail": "只有本单位的编辑或单位管理员可以管理计分办法。"}
    assert (
        put(scene.api("outsider"), f"/scoring/versions/{draft.pk}", {"data": original}).status_code
        == 404
    )

    v1 = scene.scheme.versions.get(number=1)
    frozen = put(editor, f"/scoring/versions/{v1.pk}", {"data": original})
    assert frozen.status_code == 422
    assert frozen.json()["detail"] == "已启用的版本不能修改，请新建版本。"

    draft.refresh_from_db()
    assert draft.data == original and draft.status == VersionStatus.DRAFT
    assert not AuditEvent.objects.filter(action="scoring.draft_save").exists()


def test_adopting_refuses_a_day_already_scored_and_readers(scene: Scene) -> None:
    draft = workflow.new_version(by=scene.world.editor_city, scheme=scene.scheme)
    today = timezone.localdate().isoformat()
    early = post(
        scene.api("editor_city"), f"/scoring/versions/{draft.pk}/adopt", {"effective_from": today}
    )
    assert early.status_code == 422
    [message] = early.json()["errors"]["effective_from"]
    assert message.startswith("生效日期须晚于已计分的最后一天")

    malformed = post(
        scene.api("editor_city"), f"/scoring/versions/{draft.pk}/adopt", {"effective_from": "明天"}
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"] == {"effective_from": ["日期格式应为 YYYY-MM-DD。"]}

    reader = post(
        scene.api("unit_admin_province"),
        f"/scoring/versions/{draft.pk}/adopt",
        {"effective_from": tomorrow().isoformat()},
    )
    assert reader.status_code == 403
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and draft.effective_from is None


def test_a_new_version_needs_a_manager(scene: Scene) -> None:
    reader = post(scene.api("officer_county_a"), f"/scoring/schemes/{scene.scheme.pk}/versions")
    assert reader.status_code == 403
    assert (
        post(scene.api("outsider"), f"/scoring/schemes/{scene.scheme.pk}/versions").status_code
        == 404
    )
    assert scene.scheme.versions.count() == 1


# Rankings ----------------------------------------------------------------------------------------


def test_the_ranking_has_the_numbers_of_unit_ranking(scene: Scene) -> None:
    response = get(
        scene.api("officer_county_a"),
        f"/scoring/schemes/{scene.scheme.pk}/ranking",
        grain="month",
        key=scene.month,
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["period"]["key"] == scene.month and body["parent"]["code"] == "CA"
    assert body["versions"] == [f"{scene.scheme.pk}.1"]
    expected = rankings.unit_ranking(
        scene.scheme, scene.world.city_a, rankings.period_for("month", scene.month)
    )
    assert [(r["unit_id"], r["rank"]) for r in body["rows"]] == [
        (e.unit.pk if e.unit else None, e.rank) for e in expected
    ]
    for row, e in zip(body["rows"], expected, strict=True):
        f = e.figures
        assert D(row["points"]) == f.points
        assert (row["submitted"], row["adopted"], row["lead_items"], row["instructions"]) == (
            f.submitted,
            f.adopted,
            f.lead_items,
            f.instructions,
        )
        assert (row["previous_rank"], row["change"], row["quota"]) == (
            e.previous_rank,
            e.change,
            e.quota,
        )
    # CA1: 2 × 报送信息 5 + 市级采用 10 × 头条 1.5 = 25; CA2: 报送信息 5.
    first, second = body["rows"]
    assert (first["name"], D(first["points"]), first["adoption_rate"]) == (
        "安平县委组织部",
        D(25),
        "50.00",
    )
    assert (second["name"], D(second["points"]), second["rank"]) == ("青石县委组织部", D(5), 2)
    assert D(first["points"]) == unit_points(scene.scheme, "CA1")
    # The county officer may open their own county's entries, not the neighbour's.
    assert first["entries_url"].endswith(
        f"/units/{scene.world.county_a.pk}/entries?grain=month&key={scene.month}"
    )
    assert second["entries_url"] is None


def test_the_ranking_reads_any_period_and_refuses_bad_ones_in_chinese(scene: Scene) -> None:
    editor = scene.api("editor_city")
    path = f"/scoring/schemes/{scene.scheme.pk}/ranking"
    year = get(editor, path, grain="year", key=scene.month[:4]).json()
    assert D(year["rows"][0]["points"]) == D(25)
    today = timezone.localdate().isoformat()
    custom = get(editor, path, grain="custom", start=today, end=today).json()
    assert custom["period"]["key"] == f"{today}~{today}"
    assert D(custom["rows"][0]["points"]) == D(25)
    assert get(editor, path).json()["period"]["key"] == scene.month  # default: this month

    bad = get(editor, path, grain="quarter", key="2026-Q9")
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"key": ["统计期间的格式不对。"]}
    backwards = get(editor, path, grain="custom", start="2026-03-02", end="2026-03-01")
    assert backwards.json()["errors"] == {"start": ["结束日期早于开始日期。"]}
    grain = get(editor, path, grain="week")
    assert grain.status_code == 422 and "grain" in grain.json()["errors"]


def test_the_ranking_is_not_found_outside_the_tree(scene: Scene) -> None:
    path = f"/scoring/schemes/{scene.scheme.pk}/ranking"
    assert get(scene.api("outsider"), path).status_code == 404
    # A parent outside the scheme's subtree is not found either.
    assert get(scene.api("editor_city"), path, parent=scene.world.city_b.pk).status_code == 404
    county = get(scene.api("editor_city"), path, parent=scene.world.county_a.pk)
    assert county.status_code == 200 and county.json()["rows"] == []


def test_people_rankings_are_for_those_who_may_open_the_parents_entries(scene: Scene) -> None:
    path = f"/scoring/schemes/{scene.scheme.pk}/ranking"
    body = get(scene.api("editor_city"), path, people="true", key=scene.month).json()
    expected = rankings.person_ranking(
        scene.scheme, scene.world.city_a, rankings.period_for("month", scene.month)
    )
    assert [(r["person_id"], D(r["points"])) for r in body["rows"]] == [
        (e.person.pk if e.person else None, e.figures.points) for e in expected
    ]
    assert body["rows"][0]["person_id"] == scene.world.officer_county_a.pk
    assert D(body["rows"][0]["points"]) == D(25)

    refused = get(scene.api("officer_county_a"), path, people="true")
    assert refused.status_code == 403
    own = get(scene.api("officer_county_a"), path, people="true", parent=scene.world.county_a.pk)
    assert own.status_code == 200


# Drill-down --------------------------------------------------------------------------------------


def test_a_units_entries_are_paged_and_sum_to_its_points(scene: Scene) -> None:
    county = scene.world.county_a
    path = f"/scoring/schemes/{scene.scheme.pk}/units/{county.pk}/entries"
    editor = scene.api("editor_city")
    first = get(editor, path, key=scene.month, page_size=2).json()
    assert first["count"] == 3 and len(first["items"]) == 2
    assert D(first["points"]) == D(25) == unit_points(scene.scheme, "CA1")
    assert {c["category"]: (D(c["points"]), c["entries"]) for c in first["by_category"]} == {
        "submit": (D(10), 2),
        "adopt": (D(15), 1),
    }
    second = get(editor, path, key=scene.month, page_size=2, page=2).json()
    assert len(second["items"]) == 1
    lines = first["items"] + second["items"]
    stored = list(
        rankings.unit_entries(scene.scheme, county, rankings.period_for("month", scene.month))
    )
    assert [line["id"] for line in lines] == [e.pk for e in stored]
    adoption = next(line for line in lines if line["category"] == "adopt")
    assert adoption["item_id"] == scene.items["振兴"].pk
    assert adoption["item_title"] == "安平县推进乡村振兴"
    assert adoption["item_url"] == f"/items/{scene.items['振兴'].pk}/"
    assert adoption["event_key"].startswith("p") and adoption["lead"] is True
    assert D(adoption["points"]) == D(15) and "市级" in adoption["rule"]
    assert adoption["version"] == f"{scene.scheme.pk}.1" and adoption["unit"] == "安平县委组织部"
    assert adoption["person_id"] is None

    people = get(editor, path, key=scene.month, people="true").json()
    assert {line["person_id"] for line in people["items"]} == {scene.world.officer_county_a.pk}
    assert D(people["points"]) == D(25)

    too_big = get(editor, path, page_size=500)
    assert too_big.status_code == 422
    assert too_big.json()["errors"] == {"page_size": ["不能大于 200。"]}


def test_drilling_down_follows_the_subtree_rules(scene: Scene) -> None:
    base = f"/scoring/schemes/{scene.scheme.pk}/units"
    a1, a2 = scene.world.county_a.pk, scene.world.county_a2.pk
    assert get(scene.api("officer_county_a"), f"{base}/{a1}/entries").status_code == 200
    neighbour = get(scene.api("officer_county_a"), f"{base}/{a2}/entries")
    assert neighbour.status_code == 403
    assert neighbour.json() == {"detail": "您只能查看本单位及下属单位的计分明细。"}
    assert get(scene.api("unit_admin_province"), f"{base}/{a2}/entries").status_code == 200
    assert get(scene.api("outsider"), f"{base}/{a1}/entries").status_code == 404
    # A unit outside the scheme's subtree is not found, even for the owner's editor.
    assert (
        get(scene.api("editor_city"), f"{base}/{scene.world.county_b.pk}/entries").status_code
        == 404
    )


# What-if -----------------------------------------------------------------------------------------


def test_a_what_if_ranks_a_draft_beside_the_ledger(scene: Scene) -> None:
    draft = workflow.new_version(by=scene.world.editor_city, scheme=scene.scheme)
    rules = engine.scheme_as_data(engine.CITY_HIGHEST)
    rules["submit_points"] = {"info": "20", "news": "3", "special": "8"}
    rules["adoption_base"] = {"city": "0"}
    workflow.save_draft(by=scene.world.editor_city, version=draft, data=rules)
    workflow.decide(
        by=scene.world.editor_city,
        scheme=scene.scheme,
        action="deduct",
        target=scene.world.county_a2,
        points=3,
        reason="迟报",
    )
    before = LedgerEntry.objects.count()

    response = post(
        scene.api("editor_city"),
        f"/scoring/schemes/{scene.scheme.pk}/whatif",
        {"version_id": draft.pk, "grain": "month", "key": scene.month},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"]["number"] == 2 and body["period"]["key"] == scene.month
    rows = {r["name"]: r for r in body["rows"]}
    # Today: CA1 25, CA2 5 − 扣分 3 = 2. Tried: CA1 2 × 20 + 市级采用 0 = 40; CA2 20 − 3 = 17.
    a1, a2 = rows["安平县委组织部"], rows["青石县委组织部"]
    assert (D(a1["current_points"]), D(a1["points"]), a1["current_rank"], a1["rank"]) == (
        D(25),
        D(40),
        1,
        1,
    )
    assert (D(a2["current_points"]), D(a2["points"]), a2["change"]) == (D(2), D(17), 0)
    assert (a1["submitted"], a1["adopted"]) == (2, 1)

    # 2026-Q3 has closed with nothing submitted: the quarterly quota (at least 10 items, 2 of
    # them 研判) is missed by both counties. Until the ledger settles the quarter, neither
    # ranking takes the 10 points off.
    def quarter() -> list[tuple[Decimal, Decimal, int]]:
        body = post(
            scene.api("editor_city"),
            f"/scoring/schemes/{scene.scheme.pk}/whatif",
            {"version_id": draft.pk, "grain": "quarter", "key": "2026-Q3"},
        ).json()
        return [(D(r["current_points"]), D(r["points"]), r["rank"]) for r in body["rows"]]

    assert quarter() == [(D(0), D(0), 1), (D(0), D(0), 1)]
    assert LedgerEntry.objects.count() == before  # nothing is written

    # Settled: the ledger takes 10 off each, and so does the draft (same quota).
    workflow.settle_quotas(
        by=scene.world.editor_city,
        scheme=scene.scheme,
        period=rankings.period_for("quarter", "2026-Q3"),
    )
    assert quarter() == [(D(-10), D(-10), 1), (D(-10), D(-10), 1)]
    before = LedgerEntry.objects.count()
    quarter()
    assert LedgerEntry.objects.count() == before  # nothing is written


def test_a_what_if_needs_a_manager_and_a_version_of_the_scheme(scene: Scene) -> None:
    path = f"/scoring/schemes/{scene.scheme.pk}/whatif"
    version = scene.scheme.versions.get()
    reader = post(scene.api("officer_county_a"), path, {"version_id": version.pk})
    assert reader.status_code == 403
    assert post(scene.api("outsider"), path, {"version_id": version.pk}).status_code == 404
    other = workflow.create_scheme(
        by=scene.world.editor_city, unit=scene.world.city_a, name="另一办法"
    )
    foreign = post(scene.api("editor_city"), path, {"version_id": other.versions.get().pk})
    assert foreign.status_code == 422
    assert foreign.json()["errors"] == {"version_id": ["该计分办法没有这个版本。"]}


# Circulars ---------------------------------------------------------------------------------------


def test_an_editor_generates_a_circular_that_readers_download(scene: Scene) -> None:
    from docx import Document
    from openpyxl import load_workbook

    response = post(
        scene.api("editor_city"),
        f"/scoring/schemes/{scene.scheme.pk}/circulars",
        {"grain": "month", "key": scene.month},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    circular = Circular.objects.get(pk=body["id"])
    assert circular.unit == scene.world.city_a and circular.period_key == scene.month
    assert body["versions"] == [f"{scene.scheme.pk}.1"] and body["title"] == circular.title
    assert body["docx_url"] == f"{API}/scoring/circulars/{circular.pk}/docx"
    assert AuditEvent.objects.filter(action="scoring.circular").count() == 1

    reader = scene.api("officer_county_a")
    docx = reader.get(body["docx_url"])
    assert docx.status_code == 200
    assert docx["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.word")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert circular.title in text or any(
        circular.title in cell.text
        for table in Document(io.BytesIO(docx.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    xlsx = reader.get(body["xlsx_url"])
    assert xlsx.status_code == 200
    cells = [
        str(c)
        for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert "安平县委组织部" in cells

    listed = get(reader, f"/scoring/schemes/{scene.scheme.pk}/circulars").json()
    assert [c["id"] for c in listed] == [circular.pk]
    assert get(reader, f"/scoring/circulars/{circular.pk}").json()["summary"] == circular.summary
    assert scene.api("outsider").get(body["docx_url"]).status_code == 404


def test_a_circular_needs_a_manager_and_a_period_that_has_begun(scene: Scene) -> None:
    path = f"/scoring/schemes/{scene.scheme.pk}/circulars"
    assert post(scene.api("officer_county_a"), path, {"grain": "month"}).status_code == 403
    assert post(scene.api("outsider"), path, {"grain": "month"}).status_code == 404
    future = post(scene.api("editor_city"), path, {"grain": "year", "key": "2099"})
    assert future.status_code == 422
    assert future.json()["detail"] == "该期间尚未开始。"
    assert not Circular.objects.exists()


# Decisions ---------------------------------------------------------------------------------------


def test_a_deduction_is_a_ledger_entry(scene: Scene) -> None:
    response = post(
        scene.api("editor_city"),
        f"/scoring/schemes/{scene.scheme.pk}/decisions",
        {
            "action": "deduct",
            "target_id": scene.world.county_a2.pk,
            "points": "3",
            "reason": "迟报",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["action"], body["action_label"], D(body["points"])) == ("deduct", "扣分", D(3))
    assert body["target"]["code"] == "CA2"
    # 报送信息 5 − 扣分 3 = 2
    assert unit_points(scene.scheme, "CA2") == D(2)
    assert AuditEvent.objects.filter(action="scoring.decide_deduct").count() == 1


def test_confirmed_copying_reverses_the_items_points(scene: Scene) -> None:
    item = scene.items["振兴"]
    response = post(
        scene.api("editor_city"),
        f"/scoring/schemes/{scene.scheme.pk}/decisions",
        {"action": "confirmed_copy", "item_id": item.pk, "reason": "与外市信息雷同"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["item_id"] == item.pk
    # 25 − (报送 5 + 采用 15) reversed − 抄袭扣 20 = −15
    assert unit_points(scene.scheme, "CA1") == D(-15)


def test_decisions_refuse_readers_and_bad_input_and_change_nothing(scene: Scene) -> None:
    path = f"/scoring/schemes/{scene.scheme.pk}/decisions"
    editor = scene.api("editor_city")
    a2 = scene.world.county_a2.pk
    entries = LedgerEntry.objects.count()

    reader = post(
        scene.api("officer_county_a"),
        path,
        {"action": "deduct", "target_id": a2, "points": 3, "reason": "x"},
    )
    assert reader.status_code == 403
    assert post(scene.api("outsider"), path, {"action": "deduct", "reason": "x"}).status_code == 404

    zero = post(
        editor, path, {"action": "deduct", "target_id": a2, "points": "0", "reason": "迟报"}
    )
    assert zero.status_code == 422
    assert zero.json()["errors"] == {"points": ["扣分应大于 0 且不超过 1000。"]}
    no_reason = post(
        editor, path, {"action": "deduct", "target_id": a2, "points": 3, "reason": " "}
    )
    assert no_reason.json()["errors"] == {"reason": ["请写明理由。"]}
    no_target = post(editor, path, {"action": "deduct", "points": 3, "reason": "迟报"})
    assert no_target.json()["errors"] == {"target_id": ["请选择被扣分的单位。"]}
    outside = post(
        editor,
        path,
        {"action": "deduct", "target_id": scene.world.county_b.pk, "points": 3, "reason": "迟报"},
    )
    assert outside.json()["errors"] == {"target_id": ["单位不存在或不在本计分办法范围内。"]}
    unknown = post(editor, path, {"action": "pardon", "target_id": a2, "reason": "x"})
    assert unknown.status_code == 422 and "action" in unknown.json()["errors"]
    no_item = post(editor, path, {"action": "falsified", "reason": "虚构数字"})
    assert no_item.json()["errors"] == {"item_id": ["请选择被认定的稿件。"]}

    assert LedgerEntry.objects.count() == entries
    assert not AssessmentEvent.objects.exists()


# Sessions ----------------------------------------------------------------------------------------


def test_a_signed_in_session_writes_with_the_csrf_token_only(scene: Scene) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    login = client.post(
        "/login/",
        {
            "username": "editor_city",
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert login.status_code == 302
    assert get(client, f"/scoring/schemes/{scene.scheme.pk}").status_code == 200
    path = f"/scoring/schemes/{scene.scheme.pk}/versions"
    refused = post(client, path)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF 校验失败，请刷新页面后重试。"}
    assert scene.scheme.versions.count() == 1
    accepted = client.post(
        f"{API}{path}",
        data="{}",
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert accepted.status_code == 201
    assert scene.scheme.versions.count() == 2


def test_every_scoring_path_is_in_the_openapi_schema(db: None) -> None:
    paths = set(Client().get(f"{API}/openapi.json").json()["paths"])
    for path in [
        "/scoring/schemes",
        "/scoring/schemes/{scheme_id}",
        "/scoring/schemes/{scheme_id}/versions",
        "/scoring/versions/{version_id}",
        "/scoring/versions/{version_id}/adopt",
        "/scoring/schemes/{scheme_id}/ranking",
        "/scoring/schemes/{scheme_id}/units/{unit_id}/entries",
        "/scoring/schemes/{scheme_id}/whatif",
        "/scoring/schemes/{scheme_id}/circulars",
        "/scoring/circulars/{circular_id}",
        "/scoring/circulars/{circular_id}/docx",
        "/scoring/circulars/{circular_id}/xlsx",
        "/scoring/schemes/{scheme_id}/decisions",
    ]:
        assert f"{API}{path}" in paths, path
