"""Scoring schemes in the browser's terms: create, edit a draft, adopt, new version, what-if, and
who may do which, all through HTTP as named people."""

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from baosong.audit.models import Event as AuditEvent
from baosong.orgs.models import Role
from baosong.publications import workflow as publications
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, rankings
from baosong.scoring.forms import rules_initial
from baosong.scoring.models import LedgerEntry, Scheme, SchemeVersion
from conftest import client_for, make_person
from tests.test_publication_scenarios import submitted


def payload(version: SchemeVersion, **changes: Any) -> dict[str, Any]:
    """What the edit form posts when nothing is touched (one blank extra row per formset),
    with `changes` applied."""
    initial, table, quotas = rules_initial(version.data)
    data: dict[str, Any] = {k: v for k, v in initial.items() if v is not None}
    data["note"] = ""
    for prefix, rows in (("table", table), ("quota", quotas)):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows) + 1
        data[f"{prefix}-INITIAL_FORMS"] = len(rows)
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    extra = len(table)
    data[f"table-{extra}-kind"] = "*"
    data[f"table-{extra}-form"] = "*"
    data[f"quota-{len(quotas)}-per"] = "month"
    data[f"quota-{len(quotas)}-min_items"] = "0"
    data.update(changes)
    return data


def city_scheme(world: Any) -> Scheme:
    client = client_for(world.editor_city)
    response = client.post(
        "/scoring/schemes/",
        {"unit": world.city_a.pk, "name": "临江市信息工作计分办法", "template": "city"},
    )
    assert response.status_code == 302
    return Scheme.objects.get(unit=world.city_a)


def adopt(client: Client, version: SchemeVersion, day: str) -> Any:
    return client.post(f"/scoring/versions/{version.pk}/adopt/", {"effective_from": day})


def text(response: Any) -> str:
    return str(response.content.decode())


# Creating and editing -----------------------------------------------------------------------------


def test_editor_creates_a_scheme_from_the_province_demo_as_a_draft(world: Any) -> None:
    client = client_for(world.editor_city)
    page = client.get("/scoring/schemes/")
    assert page.status_code == 200 and "新建计分办法" in text(page)

    response = client.post(
        "/scoring/schemes/",
        {"unit": world.city_a.pk, "name": "临江市计分办法（试行）", "template": "province"},
    )

    scheme = Scheme.objects.get(unit=world.city_a)
    version = scheme.versions.get()
    assert response.status_code == 302
    assert response["Location"] == f"/scoring/versions/{version.pk}/edit/"
    assert version.status == "draft" and version.number == 1
    assert version.data["level_policy"] == "add"
    assert version.data["label"] == "临江市计分办法（试行）"
    assert AuditEvent.objects.filter(action="scoring.scheme_create", actor=world.editor_city)
    listing = text(client.get("/scoring/schemes/"))
    assert "临江市计分办法（试行）" in listing and "编辑草稿（第 1 版）" in listing


def test_version_page_shows_the_rules_in_chinese_tables(world: Any) -> None:
    scheme = city_scheme(world)
    page = text(client_for(world.editor_city).get(f"/scoring/schemes/{scheme.pk}/"))
    for words in ("报送分值", "采用基础分", "刊物系数", "一句话", "主要领导", "只计最高级别"):
        assert words in page
    assert "季度报送任务" in page and "研判类 2 条" in page
    assert "{" not in re.sub(r"<script.*?</script>", "", page, flags=re.S).split("<main")[1]


def test_saving_the_untouched_form_keeps_every_rule(world: Any) -> None:
    scheme = city_scheme(world)
    version = scheme.versions.get()
    before = dict(version.data)
    client = client_for(world.editor_city)
    assert client.get(f"/scoring/versions/{version.pk}/edit/").status_code == 200

    response = client.post(f"/scoring/versions/{version.pk}/edit/", payload(version))

    assert response.status_code == 302, text(response)[:3000]
    version.refresh_from_db()
    # Equal as rules (0 and 0.00 are the same number), not necessarily as strings.
    assert engine.scheme_from_data(version.data) == engine.scheme_from_data(before)


def test_editor_changes_points_adds_a_table_row_and_removes_a_quota(world: Any) -> None:
    scheme = city_scheme(world)
    version = scheme.versions.get()
    client = client_for(world.editor_city)
    data = payload(
        version,
        submit_info="7",
        form_one_line="",  # blank factor: counted as 1
        note="提高信息报送分",
        **{
            "table-0-level": "province",
            "table-0-kind": "wechat",
            "table-0-form": "*",
            "table-0-points": "6",
            "quota-0-DELETE": "on",
        },
    )

    response = client.post(f"/scoring/versions/{version.pk}/edit/", data)

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.data["submit_points"]["info"] == "7"
    assert "one_line" not in version.data["form_factor"]
    assert version.data["adoption_table"] == {"province|wechat|*": "6"}
    assert [q["label"] for q in version.data["quotas"]] == ["季度报送任务"]
    assert version.note == "提高信息报送分"
    assert AuditEvent.objects.filter(action="scoring.draft_save").count() == 1


def test_negative_points_are_refused_in_chinese_and_nothing_is_saved(world: Any) -> None:
    scheme = city_scheme(world)
    version = scheme.versions.get()
    before = dict(version.data)
    client = client_for(world.editor_city)

    response = client.post(
        f"/scoring/versions/{version.pk}/edit/", payload(version, submit_info="-5")
    )

    assert response.status_code == 400
    assert "不能为负数" in text(response) and "未保存" in text(response)
    version.refresh_from_db()
    assert version.data == before
    assert not AuditEvent.objects.filter(action="scoring.draft_save").exists()


def test_an_engine_rule_error_is_shown_beside_the_form_and_nothing_is_saved(world: Any) -> None:
    scheme = city_scheme(world)
    version = scheme.versions.get()
    before = dict(version.data)

    response = client_for(world.editor_city).post(
        f"/scoring/versions/{version.pk}/edit/", payload(version, lead_fraction="1.5")
    )

    assert response.status_code == 400
    assert "主报单位所占比例应在 0 到 1 之间" in text(response)
    version.refresh_from_db()
    assert version.data == before


# Adopting and new versions ------------------------------------------------------------------------


def test_adopted_version_is_read_only_and_a_new_version_copies_its_rules(world: Any) -> None:
    scheme = city_scheme(world)
    version = scheme.versions.get()
    client = client_for(world.editor_city)

    response = adopt(client, version, "2026-01-01")

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == "adopted" and version.effective_from == dt.date(2026, 1, 1)
    before = dict(version.data)
    edit = client.get(f"/scoring/versions/{version.pk}/edit/")
    assert edit.status_code == 302 and edit["Location"] == f"/scoring/versions/{version.pk}/"
    refused = client.post(
        f"/scoring/versions/{version.pk}/edit/", payload(version, submit_info="99"), follow=True
    )
    assert "已启用的版本不能修改" in text(refused)
    version.refresh_from_db()
    assert version.data == before
    page = text(client.get(f"/scoring/versions/{version.pk}/"))
    assert "新建版本" in page and "编辑草稿" not in page

    created = client.post(f"/scoring/schemes/{scheme.pk}/new-version/")

    draft = scheme.versions.get(number=2)
    assert created["Location"] == f"/scoring/versions/{draft.pk}/edit/"
    assert draft.status == "draft" and draft.data == version.data


def test_adopting_before_already_scored_days_is_refused_with_the_reason(world: Any) -> None:
    scheme = city_scheme(world)
    client = client_for(world.editor_city)
    adopt(client, scheme.versions.get(), "2026-01-01")
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县一条信息")
    client.post(f"/scoring/schemes/{scheme.pk}/new-version/")
    draft = scheme.versions.get(number=2)

    response = adopt(client, draft, "2026-02-01")

    assert response.status_code == 200
    assert "生效日期须晚于已计分的最后一天" in text(response)
    draft.refresh_from_db()
    assert draft.status == "draft"


# What-if ------------------------------------------------------------------------------------------


def test_what_if_shows_both_rankings_with_the_rank_change(world: Any) -> None:
    # City scheme (demo "highest level": info submitted 5, city journal whole adoption 10) in
    # force from 2026-01-01. 安平 (CA1) submits two items: 2 × 5 = 10. 青石 (CA2) submits one,
    # adopted whole by the city: 5 + 10 = 15. Current ranking: 青石 1st (15), 安平 2nd (10).
    # Draft v2 pays 20 per submitted info: 安平 2 × 20 = 40, 青石 20 + 10 = 30 → the order flips.
    scheme = city_scheme(world)
    client = client_for(world.editor_city)
    adopt(client, scheme.versions.get(), "2026-01-01")
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    for title in ("安平县信息一", "安平县信息二"):
        submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, title)
    item = submitted(world.county_a2, officer_a2, reviewer_a2, "青石县信息")
    journal = publications.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    publications.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
    )
    client.post(f"/scoring/schemes/{scheme.pk}/new-version/")
    draft = scheme.versions.get(number=2)
    client.post(f"/scoring/versions/{draft.pk}/edit/", payload(draft, submit_info="20"))
    draft.refresh_from_db()
    assert draft.data["submit_points"]["info"] == "20"
    entries = LedgerEntry.objects.count()
    month = rankings.current_period("month").key

    response = client.get(
        f"/scoring/schemes/{scheme.pk}/whatif/",
        {"version": draft.pk, "grain": "month", "key": month, "parent": world.city_a.pk},
    )

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.unit.code, r.rank, r.points, r.current_rank, r.current_points) for r in rows] == [
        ("CA1", 1, 40, 2, 10),
        ("CA2", 2, 30, 1, 15),
    ]
    assert [r.change for r in rows] == [1, -1]
    page = text(response)
    assert "↑1" in page and "↓1" in page
    assert page.index("安平县委组织部") < page.index("青石县委组织部")
    assert LedgerEntry.objects.count() == entries  # a what-if writes nothing

    # Trying the version in force gives back the current ranking, unchanged.
    same = client.get(
        f"/scoring/schemes/{scheme.pk}/whatif/",
        {"version": draft.pk - 1, "grain": "month", "key": month, "parent": world.city_a.pk},
    )
    assert [(r.unit.code, r.points, r.current_points, r.change) for r in same.context["rows"]] == [
        ("CA2", 15, 15, 0),
        ("CA1", 10, 10, 0),
    ]
    scheme_versions = SchemeVersion.objects.filter(scheme=scheme)
    assert scheme_versions.get(number=2).status == "draft"


def test_what_if_opens_with_the_draft_and_the_current_year(world: Any) -> None:
    scheme = city_scheme(world)
    response = client_for(world.editor_city).get(f"/scoring/schemes/{scheme.pk}/whatif/")
    assert response.status_code == 200
    assert [r.unit.code for r in response.context["rows"]] == ["CA1", "CA2"]


# Who may do what ----------------------------------------------------------------------------------


def _urls(scheme: Scheme) -> list[tuple[str, str]]:
    version = scheme.versions.get()
    return [
        ("get", f"/scoring/schemes/{scheme.pk}/"),
        ("get", f"/scoring/versions/{version.pk}/"),
        ("get", f"/scoring/versions/{version.pk}/edit/"),
        ("post", f"/scoring/versions/{version.pk}/edit/"),
        ("post", f"/scoring/versions/{version.pk}/adopt/"),
        ("post", f"/scoring/schemes/{scheme.pk}/new-version/"),
        ("get", f"/scoring/schemes/{scheme.pk}/whatif/"),
    ]


@pytest.mark.parametrize("who", ["outsider", "other_tree_admin"])
def test_people_outside_the_scheme_tree_get_404(world: Any, who: str) -> None:
    scheme = city_scheme(world)
    client = client_for(getattr(world, who))
    for method, url in _urls(scheme):
        assert getattr(client, method)(url).status_code == 404, url
    assert "临江市信息工作计分办法" not in text(client.get("/scoring/schemes/"))


def test_a_county_officer_reads_the_city_rules_but_cannot_change_them(world: Any) -> None:
    scheme = city_scheme(world)
    version = scheme.versions.get()
    before = dict(version.data)
    client = client_for(world.officer_county_a)

    listing = text(client.get("/scoring/schemes/"))
    assert "临江市信息工作计分办法" in listing
    assert "编辑草稿" not in listing and "试算" not in listing and "新建计分办法" not in listing
    page = client.get(f"/scoring/versions/{version.pk}/")
    assert page.status_code == 200 and "报送分值" in text(page)
    assert "编辑草稿" not in text(page) and "启用本版本" not in text(page)
    for method, url in _urls(scheme)[2:]:
        assert getattr(client, method)(url).status_code == 403, url
    response = client.post(
        f"/scoring/versions/{version.pk}/edit/", payload(version, submit_info="99")
    )
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.data == before and version.status == "draft"
    assert scheme.versions.count() == 1


def test_a_county_admin_cannot_create_a_scheme_for_the_city(world: Any) -> None:
    client = client_for(world.unit_admin_county_a)
    response = client.post(
        "/scoring/schemes/", {"unit": world.city_a.pk, "name": "越权", "template": "city"}
    )
    assert response.status_code == 200 and "unit" in response.context["form"].errors
    assert not Scheme.objects.exists()
