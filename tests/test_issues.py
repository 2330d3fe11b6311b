"""Publications and composing issues in the browser: numbering, placing, ordering, editing,
publishing, corrections, the official preview, and who may do what."""

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from baosong.audit.models import Event as AuditEvent
from baosong.orgs.models import Role, Unit, User
from baosong.publications import workflow
from baosong.publications.models import (
    Action,
    Adoption,
    AdoptionForm,
    Event,
    Issue,
    IssueRevision,
    Publication,
    PublicationKind,
)
from baosong.publications.workflow import SourceInput
from baosong.submissions import workflow as items
from baosong.submissions.models import Status, Submission
from baosong.submissions.workflow import DraftInput
from conftest import client_for, make_person


def submitted(unit: Unit, officer: User, reviewer: User, title: str) -> Submission:
    """An item written, reviewed through the default three stages and submitted to the parent."""
    item = items.create_draft(
        by=officer,
        unit=unit,
        data=DraftInput(item_type="info", kind="dynamic", title=title, body=f"<p>{title}正文</p>"),
    )
    items.submit_for_review(by=officer, item=item)
    for _ in range(3):
        items.approve(by=reviewer, item=item)
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED
    return item


def journal_of(world: Any, name: str = "临江组工信息") -> Publication:
    return workflow.create_publication(
        by=world.editor_city,
        unit=world.city_a,
        name=name,
        kind=PublicationKind.JOURNAL,
        distribution="报：省委组织部\n送：市委各位领导\n发：各县（区）委组织部",
    )


def adopted(world: Any, publication: Publication, title: str, **kwargs: Any) -> Adoption:
    """A county item adopted whole by the city into the publication (no issue unless given)."""
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, title)
    return workflow.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=publication,
        form=AdoptionForm.WHOLE,
        title=title,
        **kwargs,
    )


def issue_with(world: Any, count: int) -> tuple[Issue, list[Adoption]]:
    journal = journal_of(world)
    issue = workflow.create_issue(
        by=world.editor_city, publication=journal, issue_date=dt.date(2026, 11, 20)
    )
    placed = [adopted(world, journal, f"第{n}篇稿件", issue=issue) for n in range(1, count + 1)]
    return issue, placed


def order_of(issue: Issue) -> list[int]:
    return list(issue.adoptions.order_by("position", "id").values_list("pk", flat=True))


def audit_actions(obj: Any) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# Publications ------------------------------------------------------------------------------------


def test_an_editor_creates_a_publication_and_sees_it_grouped_under_the_unit(world: Any) -> None:
    client = client_for(world.editor_city)
    response = client.post(
        "/publications/",
        {
            "unit": world.city_a.pk,
            "name": "临江组工信息",
            "kind": "journal",
            "masthead": "中共临江市委组织部办公室",
            "distribution": "报：省委组织部\n发：各县（区）委组织部",
        },
    )
    publication = Publication.objects.get(unit=world.city_a, name="临江组工信息")
    assert (
        response.status_code == 302 and response["Location"] == f"/publications/{publication.pk}/"
    )
    assert publication.kind == "journal" and publication.masthead == "中共临江市委组织部办公室"
    assert "publication.create" in audit_actions(publication)

    page = client.get("/publications/").content.decode()
    assert world.city_a.short_name in page and "临江组工信息" in page and "信息刊物" in page
    assert "0 期" in page

    again = client.post(
        "/publications/", {"unit": world.city_a.pk, "name": "临江组工信息", "kind": "bulletin"}
    )
    assert again.status_code == 200
    assert "本单位已有刊物“临江组工信息”" in again.content.decode()


def test_a_publication_is_renamed_and_deactivated(world: Any) -> None:
    journal = journal_of(world)
    client = client_for(world.editor_city)
    response = client.post(
        f"/publications/{journal.pk}/edit/",
        {"name": "组工信息", "masthead": "临江市委组织部", "distribution": "报：省委组织部"},
    )
    assert response.status_code == 302
    journal.refresh_from_db()
    assert (journal.name, journal.is_active, journal.distribution) == (
        "组工信息",
        False,
        "报：省委组织部",
    )
    assert "publication.update" in audit_actions(journal)
    page = client.get(f"/publications/{journal.pk}/").content.decode()
    assert "已停用" in page and "/issues/new/" not in page


def test_issues_are_numbered_per_year_and_in_total(world: Any) -> None:
    journal = journal_of(world)
    client = client_for(world.editor_city)
    labels = []
    for day in ("2026-03-02", "2026-04-01", "2027-01-05"):
        response = client.post(f"/publications/{journal.pk}/issues/new/", {"issue_date": day})
        assert response.status_code == 302
        issue = Issue.objects.get(publication=journal, issue_date=dt.date.fromisoformat(day))
        assert response["Location"] == f"/issues/{issue.pk}/"
        labels.append((issue.year, issue.number, issue.total_number))
    # Expected: 第1期/总第1期, 第2期/总第2期, and the new year restarts the yearly number only.
    assert labels == [(2026, 1, 1), (2026, 2, 2), (2027, 1, 3)]
    assert AuditEvent.objects.filter(action="issue.create").count() == 3

    page = client.get(f"/publications/{journal.pk}/").content.decode()
    assert "2027年第1期" in page and "总第3期" in page and "2026年第2期" in page
    listing = client.get("/publications/").content.decode()
    assert "3 期" in listing and "2027年第1期" in listing


def test_a_website_channel_lists_its_adoptions_with_url_and_date_and_has_no_issues(
    world: Any,
) -> None:
    site = workflow.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工网", kind=PublicationKind.WEBSITE
    )
    adopted(
        world,
        site,
        "安平县党建新做法",
        published_url="https://zg.linjiang.example/a/1",
        published_on=dt.date(2026, 11, 2),
    )
    client = client_for(world.editor_city)
    page = client.get(f"/publications/{site.pk}/").content.decode()
    assert "https://zg.linjiang.example/a/1" in page and "2026-11-02" in page
    assert "新建一期" not in page
    response = client.post(f"/publications/{site.pk}/issues/new/", {"issue_date": "2026-11-02"})
    assert response.status_code == 302 and not Issue.objects.filter(publication=site).exists()
    assert "网站、公众号不分期" in client.get(f"/publications/{site.pk}/").content.decode()


# Composing ---------------------------------------------------------------------------------------


def test_unplaced_adoptions_are_listed_and_placed_into_an_issue_and_taken_out(world: Any) -> None:
    journal = journal_of(world)
    first = adopted(world, journal, "乡村振兴的安平实践")
    second = adopted(world, journal, "安平县人才回引")
    issue = workflow.create_issue(
        by=world.editor_city, publication=journal, issue_date=dt.date(2026, 11, 20)
    )
    client = client_for(world.editor_city)
    detail = client.get(f"/publications/{journal.pk}/").content.decode()
    assert "待编入的采用稿" in detail and "乡村振兴的安平实践" in detail

    response = client.post(f"/issues/{issue.pk}/add/", {"adoption": [first.pk, second.pk]})
    assert response.status_code == 302
    assert order_of(issue) == [first.pk, second.pk]
    assert "adoption.place" in audit_actions(first)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert page.index("乡村振兴的安平实践") < page.index("安平县人才回引")
    assert "安平县委组织部" in page and "全文" in page
    assert reverse("issue_docx", args=[issue.pk]) in page
    assert reverse("issue_pdf", args=[issue.pk]) in page
    assert reverse("issue_preview", args=[issue.pk]) in page

    response = client.post(f"/issues/{issue.pk}/remove/", {"adoption": first.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.issue is None and order_of(issue) == [second.pk]


def test_the_drag_order_is_saved_as_a_whole(world: Any) -> None:
    issue, (a, b, c) = issue_with(world, 3)
    client = client_for(world.editor_city)
    response = client.post(
        f"/issues/{issue.pk}/order/",
        {"order": [c.pk, a.pk, b.pk]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200 and json.loads(response.content)["ok"] is True
    assert order_of(issue) == [c.pk, a.pk, b.pk]
    assert "issue.reorder" in audit_actions(issue)

    stale = client.post(
        f"/issues/{issue.pk}/order/",
        {"order": [a.pk, b.pk]},
        headers={"Accept": "application/json"},
    )
    assert stale.status_code == 409
    assert json.loads(stale.content)["error"] == "顺序与本期稿件不一致，请刷新后重试。"
    assert order_of(issue) == [c.pk, a.pk, b.pk]


def test_the_up_and_down_buttons_move_an_item_one_step(world: Any) -> None:
    issue, (a, b, c) = issue_with(world, 3)
    client = client_for(world.editor_city)
    response = client.post(f"/issues/{issue.pk}/order/", {"move": c.pk, "direction": "up"})
    assert response.status_code == 302 and response["Location"] == f"/issues/{issue.pk}/#items"
    assert order_of(issue) == [a.pk, c.pk, b.pk]
    client.post(f"/issues/{issue.pk}/order/", {"move": a.pk, "direction": "down"})
    assert order_of(issue) == [c.pk, a.pk, b.pk]
    # The first cannot go further up: the order stays.
    client.post(f"/issues/{issue.pk}/order/", {"move": c.pk, "direction": "up"})
    assert order_of(issue) == [c.pk, a.pk, b.pk]


def test_editing_an_adopted_text_leaves_the_source_item_untouched(world: Any) -> None:
    issue, (adoption,) = issue_with(world, 1)
    source = adoption.sources.get().submission
    client = client_for(world.editor_city)
    form = client.get(f"/adoptions/{adoption.pk}/edit/")
    assert form.status_code == 200 and "第1篇稿件正文" in form.content.decode()
    response = client.post(
        f"/adoptions/{adoption.pk}/edit/",
        {
            "title": "安平：一篇改过的标题",
            "body": "<p>编辑后的正文</p><script>x</script>",
            "is_lead": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/issues/{issue.pk}/#item-{adoption.pk}"
    adoption.refresh_from_db()
    assert adoption.title == "安平：一篇改过的标题" and adoption.is_lead
    assert adoption.body == "<p>编辑后的正文</p>"
    source.refresh_from_db()
    assert source.body == "<p>第1篇稿件正文</p>"
    assert "adoption.edit" in audit_actions(adoption)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "头条" in page and "安平：一篇改过的标题" in page

    empty = client.post(f"/adoptions/{adoption.pk}/edit/", {"title": " ", "body": ""})
    assert empty.status_code == 400 and "errorlist" in empty.content.decode()


def test_issue_settings_are_saved_and_a_date_in_another_year_is_refused(world: Any) -> None:
    issue, _ = issue_with(world, 1)
    client = client_for(world.editor_city)
    refused = client.post(
        f"/issues/{issue.pk}/settings/",
        {"issue_date": "2027-01-02", "editor_note": "按语", "distribution": "报：省委"},
    )
    assert refused.status_code == 400
    assert "出刊日期须在本期所属年份内。" in refused.content.decode()
    response = client.post(
        f"/issues/{issue.pk}/settings/",
        {"issue_date": "2026-11-25", "editor_note": "各地要认真学习。", "distribution": "报：省委"},
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.issue_date == dt.date(2026, 11, 25) and issue.editor_note == "各地要认真学习。"
    assert issue.show_toc is False and issue.distribution == "报：省委"
    assert "issue.update" in audit_actions(issue)


def test_publishing_freezes_the_issue_and_keeps_a_snapshot(world: Any) -> None:
    issue, (a, b) = issue_with(world, 2)
    client = client_for(world.editor_city)
    response = client.post(f"/issues/{issue.pk}/publish/")
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == "published" and issue.revision == 1
    snapshot = IssueRevision.objects.get(issue=issue, revision=1).snapshot
    assert [i["adoption"] for i in snapshot["items"]] == [a.pk, b.pk]
    event = Event.objects.get(action=Action.PUBLISH, issue=issue)
    assert event.facts["adoptions"] == [a.pk, b.pk]

    # Expected: every further change is refused with a message and nothing moves.
    edit = client.post(f"/adoptions/{a.pk}/edit/", {"title": "改标题", "body": "<p>x</p>"})
    assert "本期已印发，不能修改；如需更正请先发起更正。" in edit.content.decode()
    moved = client.post(
        f"/issues/{issue.pk}/order/", {"move": b.pk, "direction": "up"}, follow=True
    )
    assert "本期已印发，不能修改" in moved.content.decode()
    client.post(f"/issues/{issue.pk}/remove/", {"adoption": a.pk})
    a.refresh_from_db()
    assert a.title == "第1篇稿件" and a.issue_id == issue.pk
    assert order_of(issue) == [a.pk, b.pk]
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "已印发" in page and "发起更正" in page and 'name="move"' not in page


def test_a_correction_needs_a_reason_and_makes_revision_two(world: Any) -> None:
    issue, (a, _b) = issue_with(world, 2)
    client = client_for(world.editor_city)
    client.post(f"/issues/{issue.pk}/publish/")
    missing = client.post(f"/issues/{issue.pk}/correct/", {"reason": ""})
    assert missing.status_code == 400 and "errorlist" in missing.content.decode()

    response = client.post(f"/issues/{issue.pk}/correct/", {"reason": "第1篇数据有误"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == "draft" and issue.correction_reason == "第1篇数据有误"
    assert "issue.correct_start" in audit_actions(issue)
    page = client.get(f"/issues/{issue.pk}/").content.decode()
    assert "更正中" in page and "第1篇数据有误" in page and "印发更正" in page

    client.post(f"/adoptions/{a.pk}/edit/", {"title": "第1篇稿件（更正）", "body": "<p>新数据</p>"})
    client.post(f"/issues/{issue.pk}/publish/")
    issue.refresh_from_db()
    assert issue.status == "published" and issue.revision == 2
    second = IssueRevision.objects.get(issue=issue, revision=2)
    assert second.reason == "第1篇数据有误"
    assert second.snapshot["items"][0]["title"] == "第1篇稿件（更正）"
    assert IssueRevision.objects.get(issue=issue, revision=1).snapshot["items"][0]["title"] == (
        "第1篇稿件"
    )
    assert Event.objects.get(action=Action.CORRECT, issue=issue).comment == "第1篇数据有误"
    first_copy = client.get(f"/issues/{issue.pk}/preview/?revision=1").content.decode()
    assert "第1篇稿件（更正）" not in first_copy and "第1篇稿件" in first_copy


# The preview -------------------------------------------------------------------------------------


def test_the_preview_has_masthead_contents_note_credits_and_distribution(world: Any) -> None:
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    journal = journal_of(world)
    issue = workflow.create_issue(
        by=world.editor_city, publication=journal, issue_date=dt.date(2026, 11, 20)
    )
    adopted(world, journal, "安平县推进乡村振兴", issue=issue, is_lead=True)
    a = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县党建")
    b = submitted(world.county_a2, officer_a2, reviewer_a2, "青石县党建")
    workflow.adopt(
        by=world.editor_city,
        sources=[SourceInput(a, 60, True), SourceInput(b, 40)],
        publication=journal,
        form=AdoptionForm.COMBINED,
        title="各地扎实推进基层党建",
        body="<p>综合稿正文</p>",
        issue=issue,
    )
    workflow.update_issue(
        by=world.editor_city,
        issue=issue,
        issue_date=dt.date(2026, 11, 20),
        editor_note="请各地结合实际学习借鉴。",
        show_toc=True,
        distribution=journal.distribution,
    )
    page = client_for(world.editor_city).get(f"/issues/{issue.pk}/preview/").content.decode()
    assert 'class="pub-name">临江组工信息<' in page
    assert "2026年第1期（总第1期）" in page and "2026年11月20日" in page
    assert "red-rule" in page and "本期导读" in page and "请各地结合实际学习借鉴。" in page
    assert "（安平县委组织部报送）" in page
    assert "（安平县委组织部、青石县委组织部报送）" in page
    assert page.index("报：省委组织部") > page.index("综合稿正文")
    assert "发：各县（区）委组织部" in page and "@page" in page
    assert page.index("安平县推进乡村振兴</h2>") < page.index("各地扎实推进基层党建</h2>")


# Who may do what ---------------------------------------------------------------------------------


def test_an_editor_of_another_unit_gets_404_everywhere(world: Any) -> None:
    issue, (adoption,) = issue_with(world, 1)
    editor_city_b = make_person("editor_city_b", world.city_b, Role.EDITOR)
    client = client_for(editor_city_b)
    publication = issue.publication
    for url in (
        f"/publications/{publication.pk}/",
        f"/publications/{publication.pk}/edit/",
        f"/issues/{issue.pk}/",
        f"/issues/{issue.pk}/preview/",
        f"/adoptions/{adoption.pk}/edit/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/issues/{issue.pk}/order/", {"move": adoption.pk, "direction": "up"}),
        (f"/issues/{issue.pk}/publish/", {}),
        (f"/publications/{publication.pk}/issues/new/", {"issue_date": "2026-12-01"}),
    ):
        assert client.post(url, data).status_code == 404, url
    assert "临江组工信息" not in client.get("/publications/").content.decode()
    issue.refresh_from_db()
    assert issue.status == "draft"


def test_a_unit_admin_sees_publications_but_composing_is_forbidden(world: Any) -> None:
    issue, (a, b) = issue_with(world, 2)
    journal = issue.publication
    spare = adopted(world, journal, "备用稿件")
    client = client_for(world.unit_admin_city)
    assert "临江组工信息" in client.get("/publications/").content.decode()
    page = client.get(f"/issues/{issue.pk}/")
    assert page.status_code == 200
    assert "只有本单位的编辑可以编排本期" in page.content.decode()
    assert "data-order-url" not in page.content.decode()
    for url, data in (
        (f"/issues/{issue.pk}/order/", {"order": [b.pk, a.pk]}),
        (f"/issues/{issue.pk}/order/", {"move": b.pk, "direction": "up"}),
        (f"/issues/{issue.pk}/add/", {"adoption": spare.pk}),
        (f"/issues/{issue.pk}/remove/", {"adoption": a.pk}),
        (
            f"/issues/{issue.pk}/settings/",
            {"issue_date": "2026-11-21", "editor_note": "", "distribution": ""},
        ),
        (f"/issues/{issue.pk}/publish/", {}),
        (f"/issues/{issue.pk}/correct/", {"reason": "原因"}),
        (f"/publications/{journal.pk}/issues/new/", {"issue_date": "2026-12-01"}),
        (f"/adoptions/{a.pk}/edit/", {"title": "改", "body": ""}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert order_of(issue) == [a.pk, b.pk]
    issue.refresh_from_db()
    assert issue.status == "draft" and Issue.objects.filter(publication=journal).count() == 1
    # Setting up publications is the unit admin's business too.
    response = client.post(
        f"/publications/{journal.pk}/edit/",
        {"name": "临江组工信息", "masthead": "", "distribution": "", "is_active": "on"},
    )
    assert response.status_code == 302


def test_an_officer_of_the_origin_cannot_open_the_issue(world: Any) -> None:
    issue, (adoption,) = issue_with(world, 1)
    client = client_for(world.officer_county_a)
    assert client.get("/publications/").status_code == 200
    assert client.get(f"/issues/{issue.pk}/").status_code == 404
    assert client.get(f"/issues/{issue.pk}/preview/").status_code == 404
    assert client.post(f"/adoptions/{adoption.pk}/edit/", {"title": "x"}).status_code == 403


# Budget ------------------------------------------------------------------------------------------


def _compose_queries(client: Client, issue: Issue) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/issues/{issue.pk}/")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_compose_page_query_count_does_not_grow_with_items(world: Any) -> None:
    issue, _ = issue_with(world, 2)
    adopted(world, issue.publication, "待编入一")
    client = client_for(world.editor_city)
    _compose_queries(client, issue)  # warm the session and caches
    few = _compose_queries(client, issue)
    for n in range(3):
        adopted(world, issue.publication, f"再编入{n}", issue=issue)
        adopted(world, issue.publication, f"待编入{n}")
    assert Adoption.objects.filter(issue=issue).count() == 5
    many = _compose_queries(client, issue)
    assert many == few, f"{few} queries with 2 items, {many} with 5"
    preview_client = client
    with CaptureQueriesContext(connection) as queries:
        preview_client.get(f"/issues/{issue.pk}/preview/")
    assert len(queries) <= few
