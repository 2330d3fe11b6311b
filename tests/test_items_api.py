"""The items API under /api/v1/items: drafts, saves and conflicts, attachments, lists, transitions,
the timeline, versions and diff; the same access rules as the pages; read-only fields refused."""

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from PIL import Image

from baosong.audit.models import Event as AuditEvent
from baosong.orgs import workflow as org_workflow
from baosong.orgs.models import ApiToken, Level, PlatformRole, Role, Unit, User
from baosong.submissions import workflow
from baosong.submissions.models import (
    Addressee,
    Attachment,
    Author,
    Event,
    Status,
    Submission,
    Version,
)
from baosong.submissions.workflow import DraftInput, StageInput
from conftest import client_for, make_person, make_unit

API = "/api/v1"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The module's world --------------------------------------------------------------------------


@dataclass
class Setup:
    people: dict[str, int]
    tokens: dict[str, str]
    units: dict[str, int]
    items: dict[str, int]  # a few ready-made items by state, written by the author


def _item(author: User, unit: Any, title: str, **extra: Any) -> Submission:
    data = DraftInput(
        item_type=extra.pop("item_type", "info"),
        kind=extra.pop("kind", "dynamic"),
        title=title,
        body="<p>安平县委组织部今年以来……</p>",
        **extra,
    )
    return workflow.create_draft(by=author, unit=unit, data=data)


def build() -> Setup:
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    county_b = make_unit(city_b, "CB1", Level.COUNTY, "云溪县委组织部")
    people = {
        "author": make_person("author", county_a, Role.OFFICER),
        "coauthor": make_person("coauthor", county_a, Role.OFFICER),
        "other_officer": make_person("other_officer", county_a, Role.OFFICER),
        "reviewer": make_person("reviewer", county_a, Role.REVIEWER),
        "editor": make_person("editor", city_a, Role.EDITOR),
        "other_editor": make_person("other_editor", city_b, Role.EDITOR),
        "outsider": make_person("outsider", county_b, Role.OFFICER),
        "audit_admin": make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
    }
    tokens = {
        name: org_workflow.create_api_token(by=user, name="测试")[1]
        for name, user in people.items()
    }
    author, reviewer = people["author"], people["reviewer"]
    items = {
        "draft": _item(author, county_a, "乡村振兴工作动态"),
        "news": _item(author, county_a, "人才工作新闻稿", item_type="news", kind=""),
        "in_review": _item(
            author,
            county_a,
            "基层党建经验做法",
            kind="experience",
            own_share=50,
            coauthors=[(people["coauthor"], 50)],
        ),
        "submitted": _item(author, county_a, "干部队伍建设情况"),
        "theirs": _item(people["coauthor"], county_a, "同事的稿件"),
    }
    for key in ("in_review", "submitted"):
        workflow.submit_for_review(by=author, item=items[key])
    for _ in range(3):
        workflow.approve(by=reviewer, item=items["submitted"])
    return Setup(
        people={name: user.pk for name, user in people.items()},
        tokens=tokens,
        units={"city_a": city_a.pk, "county_a": county_a.pk, "city_b": city_b.pk},
        items={key: item.pk for key, item in items.items()},
    )


@pytest.fixture(scope="module")
def built(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    """Built once inside an outer transaction; each test runs in a savepoint of it."""
    uploads = tmp_path_factory.mktemp("uploads")
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS, UPLOAD_ROOT=Path(uploads)),
        transaction.atomic(),
    ):
        yield build()
        transaction.set_rollback(True)


@pytest.fixture
def setup(built: Setup, db: None) -> Setup:
    return built


# Helpers -------------------------------------------------------------------------------------


def as_(setup: Setup, name: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {setup.tokens[name]}"})


def call(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    function = getattr(client, method.lower())
    if body is None:
        return function(f"{API}{path}")
    return function(f"{API}{path}", data=json.dumps(body), content_type="application/json")


def snapshot(pk: int) -> dict[str, Any]:
    return {
        "row": Submission.objects.filter(pk=pk).values().get(),
        "versions": list(Version.objects.filter(submission_id=pk).values_list("number", "body")),
        "events": Event.objects.filter(submission_id=pk).count(),
        "authors": list(Author.objects.filter(submission_id=pk).values_list("user_id", "share")),
        "addressees": list(
            Addressee.objects.filter(submission_id=pk).values_list("unit_id", "opened_at")
        ),
        "attachments": Attachment.objects.filter(submission_id=pk).count(),
    }


def new_draft(setup: Setup, **fields: Any) -> dict[str, Any]:
    body = {
        "item_type": "info",
        "kind": "dynamic",
        "title": "安平县扎实推进基层党建工作",
        "body": "<p>安平县委组织部今年以来，新建党群服务中心 12 个。</p>",
        "own_share": 60,
        "coauthors": [{"user_id": setup.people["coauthor"], "share": 40}],
        **fields,
    }
    response = call(as_(setup, "author"), "POST", "/items", body)
    assert response.status_code == 201, response.content.decode()
    result: dict[str, Any] = response.json()
    return result


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# Creating and saving -------------------------------------------------------------------------


def test_an_officer_creates_a_draft_with_coauthors_shares_and_addressees(setup: Setup) -> None:
    created = new_draft(
        setup,
        event_date="2026-03-01",
        keywords="基层党建 党群服务中心",
        addressed_unit_ids=[setup.units["city_a"]],
    )
    assert created["status"] == "draft" and created["version"] == 1
    assert [(a["user_id"], a["share"]) for a in created["authors"]] == [
        (setup.people["author"], 60),
        (setup.people["coauthor"], 40),
    ]
    assert [u["id"] for u in created["addressed"]] == [setup.units["city_a"]]
    assert created["can_edit"] is True and created["can_decide"] is False
    item = Submission.objects.get(pk=created["id"])
    assert (item.unit_id, item.created_by_id) == (setup.units["county_a"], setup.people["author"])
    assert str(item.event_date) == "2026-03-01"
    assert Version.objects.get(submission=item).number == 1
    assert list(item.events.values_list("action", flat=True)) == ["create"]
    assert AuditEvent.objects.filter(action="item.create", object_id=str(item.pk)).exists()


def test_shares_that_do_not_sum_to_100_are_refused_in_chinese_and_nothing_is_created(
    setup: Setup,
) -> None:
    before = Submission.objects.count()
    response = call(
        as_(setup, "author"),
        "POST",
        "/items",
        {
            "item_type": "info",
            "kind": "dynamic",
            "title": "份额不对",
            "own_share": 60,
            "coauthors": [{"user_id": setup.people["coauthor"], "share": 30}],
        },
    )
    assert response.status_code == 422
    assert "作者份额之和应为 100，现为 90" in response.json()["detail"]
    assert "coauthors" in response.json()["errors"]
    assert Submission.objects.count() == before


def test_a_coauthor_from_another_unit_is_refused(setup: Setup) -> None:
    before = Submission.objects.count()
    response = call(
        as_(setup, "author"),
        "POST",
        "/items",
        {
            "item_type": "info",
            "kind": "dynamic",
            "title": "跨单位合作",
            "own_share": 50,
            "coauthors": [{"user_id": setup.people["outsider"], "share": 50}],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"]["coauthors"] == ["合作者须为本单位在任人员。"]
    # A guessed id does not reveal whose it is.
    assert "outsider" not in response.content.decode()
    assert Submission.objects.count() == before


def test_someone_who_writes_for_no_unit_cannot_create_an_item(setup: Setup) -> None:
    before = Submission.objects.count()
    for name in ("reviewer", "editor"):
        body = {"item_type": "info", "kind": "dynamic", "title": "审核人写稿"}
        response = call(as_(setup, name), "POST", "/items", body)
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == "您不是任何单位的信息员或通讯员。"
    # Naming a unit does not help: writing for it needs the role there.
    body = {"item_type": "info", "kind": "dynamic", "title": "代写"}
    body_for_unit = {**body, "unit_id": setup.units["county_a"]}
    assert call(as_(setup, "reviewer"), "POST", "/items", body_for_unit).status_code == 403
    assert Submission.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "submitted"),
        ("version_number", 9),
        ("stage_index", 2),
        ("scores", {"author": 10}),
        ("created_by", 1),
        ("submitted_at", "2026-01-01T00:00:00Z"),
    ],
)
def test_creating_with_a_field_the_writer_may_not_set_is_refused(
    setup: Setup, field: str, value: Any
) -> None:
    before = Submission.objects.count()
    body = {"item_type": "info", "kind": "dynamic", "title": "越权字段", field: value}
    response = call(as_(setup, "author"), "POST", "/items", body)
    assert response.status_code == 422
    assert response.json()["errors"][field] == ["不支持该字段（只读或不存在），未作任何修改。"]
    assert Submission.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "submitted"),
        ("unit_id", "city_b"),
        ("version_number", 9),
        ("stage_index", 2),
        ("scores", {"author": 10}),
        ("created_by", "editor"),
    ],
)
def test_patching_a_field_the_author_may_not_set_is_refused_and_nothing_changes(
    setup: Setup, field: str, value: Any
) -> None:
    pk = setup.items["draft"]
    if field == "unit_id":
        value = setup.units[value]
    if field == "created_by":
        value = setup.people[value]
    before = snapshot(pk)
    body = {"base_version": 1, "title": "改了标题", field: value}
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert snapshot(pk) == before


def test_a_patch_with_base_version_saves_a_new_version(setup: Setup) -> None:
    pk = setup.items["draft"]
    body = {"base_version": 1, "body": "<p>补充了第三季度的数据。</p>"}
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 200
    data = response.json()
    assert (data["conflict"], data["kept_as_version"]) == (False, None)
    assert (data["item"]["version"], data["item"]["body"]) == (2, "<p>补充了第三季度的数据。</p>")
    version = Version.objects.get(submission_id=pk, number=2)
    assert (version.source, version.based_on, version.created_by_id) == (
        "save",
        1,
        setup.people["author"],
    )


def test_a_second_save_on_the_same_version_is_a_409_conflict_and_both_texts_are_kept(
    setup: Setup,
) -> None:
    pk = setup.items["draft"]
    first = {"base_version": 1, "body": "<p>作者的修改。</p>"}
    assert call(as_(setup, "author"), "PATCH", f"/items/{pk}", first).status_code == 200
    second = {"base_version": 1, "body": "<p>另一处打开的修改。</p>"}
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", second)
    assert response.status_code == 409
    data = response.json()
    assert data["conflict"] is True and data["kept_as_version"] == 3
    assert data["item"]["version"] == 2 and data["item"]["body"] == "<p>作者的修改。</p>"
    kept = Version.objects.get(submission_id=pk, number=3)
    assert (kept.source, kept.based_on, kept.body) == ("conflict", 1, "<p>另一处打开的修改。</p>")
    assert Submission.objects.get(pk=pk).body == "<p>作者的修改。</p>"


def test_a_conflict_applies_no_details_either(setup: Setup) -> None:
    pk = setup.items["draft"]
    call(as_(setup, "author"), "PATCH", f"/items/{pk}", {"base_version": 1, "title": "新标题"})
    body = {"base_version": 1, "title": "旧版上改的标题", "keywords": "不应保存"}
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 409
    item = Submission.objects.get(pk=pk)
    assert (item.title, item.keywords) == ("新标题", "")


def test_changing_the_text_without_base_version_is_refused(setup: Setup) -> None:
    pk = setup.items["draft"]
    before = snapshot(pk)
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", {"body": "<p>无版本号</p>"})
    assert response.status_code == 422
    assert "base_version" in response.json()["errors"]
    assert snapshot(pk) == before


def test_patching_details_changes_shares_and_is_audited(setup: Setup) -> None:
    pk = setup.items["draft"]
    body = {
        "kind": "problem",
        "keywords": "乡村振兴",
        "own_share": 70,
        "coauthors": [{"user_id": setup.people["coauthor"], "share": 30}],
    }
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 200, response.content
    item = Submission.objects.get(pk=pk)
    assert (item.kind, item.keywords, item.version_number) == ("problem", "乡村振兴", 1)
    assert list(item.authors.values_list("user_id", "share")) == [
        (setup.people["author"], 70),
        (setup.people["coauthor"], 30),
    ]
    audit = AuditEvent.objects.get(action="item.update", object_id=str(pk))
    assert audit.actor_id == setup.people["author"]
    assert audit.after is not None and audit.after["authors"][0] == [setup.people["author"], 70]


def test_changing_an_info_report_into_a_news_draft_drops_its_kind(setup: Setup) -> None:
    pk = setup.items["draft"]
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", {"item_type": "news"})
    assert response.status_code == 200, response.content
    assert (response.json()["item"]["item_type"], response.json()["item"]["kind"]) == ("news", "")
    body = {"item_type": "info", "kind": "analysis"}
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 200
    assert Submission.objects.values_list("item_type", "kind").get(pk=pk) == ("info", "analysis")
    # A kind sent for a news draft is an error, not silently dropped.
    body = {"item_type": "news", "kind": "dynamic"}
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 422
    assert response.json()["errors"]["kind"] == ["只有“信息”需要选择类别。"]


def test_an_editing_stage_reviewer_patches_the_text_as_a_review_edit(setup: Setup) -> None:
    county_a = Unit.objects.get(pk=setup.units["county_a"])
    reviewer = User.objects.get(pk=setup.people["reviewer"])
    workflow.set_stages(
        by=None,
        unit=county_a,
        item_type="",
        stages=[StageInput(name="校对", can_edit=True, people=[reviewer])],
    )
    pk = new_draft(setup)["id"]
    transition(setup, "author", pk, "submit-for-review")
    body = {"base_version": 1, "body": "<p>校对后的正文。</p>"}
    response = call(as_(setup, "reviewer"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 200, response.content
    version = Version.objects.get(submission_id=pk, number=2)
    assert (version.source, version.created_by_id) == ("review_edit", reviewer.pk)
    # Details stay the authors' business, and nothing is half-saved when they are refused.
    body = {"base_version": 2, "body": "<p>再改</p>", "keywords": "审核人改关键词"}
    response = call(as_(setup, "reviewer"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 403
    assert Submission.objects.values_list("version_number", "keywords").get(pk=pk) == (2, "")


def test_patching_shares_that_do_not_sum_to_100_changes_nothing(setup: Setup) -> None:
    pk = setup.items["draft"]
    before = snapshot(pk)
    body = {
        "base_version": 1,
        "title": "连同标题一起改",
        "own_share": 70,
        "coauthors": [{"user_id": setup.people["coauthor"], "share": 40}],
    }
    response = call(as_(setup, "author"), "PATCH", f"/items/{pk}", body)
    assert response.status_code == 422
    assert "作者份额之和应为 100，现为 110" in response.json()["detail"]
    # The title was saved in the same request, and is rolled back with the rest.
    assert snapshot(pk) == before


XSS = (
    '<p onclick="alert(1)">安平县<script>alert("x")</script>'
    '<a href="javascript:alert(1)">链接</a><img src="x" onerror="alert(1)">'
    '<svg onload="alert(1)"></svg><span style="background:url(javascript:alert(1))">文</span></p>'
)


def _harmless(html: str) -> bool:
    lowered = html.lower()
    return not any(
        bad in lowered for bad in ("<script", "onclick", "onerror", "onload", "javascript:", "<svg")
    )


def test_an_xss_body_is_stored_clean_on_create_and_on_patch(setup: Setup) -> None:
    created = new_draft(setup, body=XSS)
    item = Submission.objects.get(pk=created["id"])
    assert _harmless(item.body) and "安平县" in item.body
    assert _harmless(created["body"])
    assert _harmless(Version.objects.get(submission=item, number=1).body)
    body = {"base_version": 1, "body": XSS + "<p>第二段</p>"}
    response = call(as_(setup, "author"), "PATCH", f"/items/{item.pk}", body)
    assert response.status_code == 200
    item.refresh_from_db()
    assert _harmless(item.body) and "第二段" in item.body
    assert all(_harmless(v.body) for v in Version.objects.filter(submission=item))


def test_a_title_is_plain_text_and_comes_back_as_sent(setup: Setup) -> None:
    created = new_draft(setup, title="<b>标题</b>")
    assert created["title"] == "<b>标题</b>"
    # Shown escaped on the page, never as markup.
    page = client_for(User.objects.get(pk=setup.people["author"])).get(f"/items/{created['id']}/")
    assert "&lt;b&gt;标题&lt;/b&gt;" in page.content.decode()


# Attachments ---------------------------------------------------------------------------------


def test_an_author_uploads_an_attachment_as_multipart(setup: Setup) -> None:
    pk = setup.items["draft"]
    upload = SimpleUploadedFile("现场照片.png", png(), content_type="image/png")
    response = as_(setup, "author").post(f"{API}/items/{pk}/attachments", {"file": upload})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["name"], data["category"]) == ("现场照片.png", "image")
    attachment = Attachment.objects.get(pk=data["id"], submission_id=pk)
    assert attachment.uploaded_by_id == setup.people["author"]
    listed = call(as_(setup, "author"), "GET", f"/items/{pk}/attachments").json()
    assert [a["id"] for a in listed] == [attachment.pk]
    assert AuditEvent.objects.filter(action="item.attach", object_id=str(pk)).exists()


def test_uploads_are_refused_to_those_who_may_not_edit(setup: Setup) -> None:
    cases = [
        ("reviewer", "draft", 403),
        ("other_officer", "draft", 404),
        ("author", "in_review", 403),
        ("editor", "submitted", 403),
        ("outsider", "submitted", 404),
    ]
    for name, key, status in cases:
        pk = setup.items[key]
        upload = SimpleUploadedFile("图.png", png(), content_type="image/png")
        response = as_(setup, name).post(f"{API}/items/{pk}/attachments", {"file": upload})
        assert response.status_code == status, (name, key)
        assert not Attachment.objects.filter(submission_id=pk).exists()


def test_a_file_of_a_type_not_allowed_is_refused_with_a_chinese_message(setup: Setup) -> None:
    pk = setup.items["draft"]
    upload = SimpleUploadedFile("脚本.html", b"<script>alert(1)</script>", content_type="text/html")
    response = as_(setup, "author").post(f"{API}/items/{pk}/attachments", {"file": upload})
    assert response.status_code == 422
    assert chinese(response.json()["detail"])
    assert not Attachment.objects.filter(submission_id=pk).exists()


# Lists ---------------------------------------------------------------------------------------


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def test_my_items_list_shows_the_authors_items_only(setup: Setup) -> None:
    mine = {setup.items[k] for k in ("draft", "news", "in_review", "submitted")}
    assert set(ids(call(as_(setup, "author"), "GET", "/items"))) == mine
    assert set(ids(call(as_(setup, "author"), "GET", "/items?box=mine"))) == mine
    assert ids(call(as_(setup, "other_officer"), "GET", "/items")) == []
    theirs = {setup.items["theirs"], setup.items["in_review"]}
    assert set(ids(call(as_(setup, "coauthor"), "GET", "/items"))) == theirs


def test_the_review_box_holds_what_awaits_the_reviewer(setup: Setup) -> None:
    assert ids(call(as_(setup, "reviewer"), "GET", "/items?box=review")) == [
        setup.items["in_review"]
    ]
    assert ids(call(as_(setup, "author"), "GET", "/items?box=review")) == []


def test_the_incoming_box_holds_submitted_items_addressed_to_the_editors_unit(
    setup: Setup,
) -> None:
    assert ids(call(as_(setup, "editor"), "GET", "/items?box=incoming")) == [
        setup.items["submitted"]
    ]
    assert ids(call(as_(setup, "other_editor"), "GET", "/items?box=incoming")) == []
    # "visible" for an editor is the same: drafts and items in review stay hidden.
    assert ids(call(as_(setup, "editor"), "GET", "/items?box=visible")) == [
        setup.items["submitted"]
    ]


def test_list_filters_narrow_the_items(setup: Setup) -> None:
    client = as_(setup, "author")
    items = setup.items
    assert set(ids(call(client, "GET", "/items?status=draft"))) == {items["draft"], items["news"]}
    assert ids(call(client, "GET", "/items?item_type=news")) == [items["news"]]
    assert ids(call(client, "GET", "/items?kind=experience")) == [items["in_review"]]
    assert ids(call(client, "GET", "/items?q=乡村振兴")) == [items["draft"]]
    assert ids(call(client, "GET", "/items?status=submitted&item_type=info")) == [
        items["submitted"]
    ]
    assert ids(call(client, "GET", "/items?status=rejected")) == []


def test_the_list_is_paged(setup: Setup) -> None:
    client = as_(setup, "author")
    everything = ids(call(client, "GET", "/items?page_size=100"))
    first = call(client, "GET", "/items?page_size=3")
    second = call(client, "GET", "/items?page_size=3&page=2")
    assert first.json()["count"] == second.json()["count"] == 4
    assert (first.json()["page"], second.json()["page"], second.json()["page_size"]) == (1, 2, 3)
    assert ids(first) + ids(second) == everything
    assert ids(call(client, "GET", "/items?page_size=3&page=3")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("box=everything", "box"),
        ("status=archived", "status"),
        ("item_type=poem", "item_type"),
        ("page=0", "page"),
        ("page_size=1000", "page_size"),
    ],
)
def test_bad_list_parameters_are_refused_in_chinese(setup: Setup, query: str, field: str) -> None:
    response = call(as_(setup, "author"), "GET", f"/items?{query}")
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert chinese(response.json()["detail"])


def test_a_list_costs_the_same_number_of_queries_for_two_items_or_twenty(
    setup: Setup, django_assert_max_num_queries: Any
) -> None:
    author = User.objects.get(pk=setup.people["author"])
    county_a = author.memberships.get().unit
    client = as_(setup, "author")
    call(client, "GET", "/items")  # the token's last-used stamp is written on the first call
    with django_assert_max_num_queries(8) as few:
        call(client, "GET", "/items?page_size=100")
    for n in range(18):
        _item(author, county_a, f"第 {n} 篇")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(call(client, "GET", "/items?page_size=100"))) == 22


# Transitions, timeline, versions and diff ----------------------------------------------------


def transition(setup: Setup, name: str, pk: int, verb: str, comment: str = "") -> Any:
    body = None if verb in ("submit-for-review", "withdraw") else {"comment": comment}
    return call(as_(setup, name), "POST", f"/items/{pk}/{verb}", body)


def test_an_item_goes_through_review_and_is_submitted_over_the_api(setup: Setup) -> None:
    pk = new_draft(setup)["id"]
    response = transition(setup, "author", pk, "submit-for-review")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["stage"]) == ("in_review", "初审")
    assert response.json()["stages"] == ["初审", "复审", "终审"]
    assert response.json()["can_decide"] is False
    for stage in ("复审", "终审"):
        response = transition(setup, "reviewer", pk, "approve", "同意")
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["stage"]) == ("in_review", stage)
    response = transition(setup, "reviewer", pk, "approve", "同意报送")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["stage"]) == ("submitted", None)
    assert response.json()["submitted_at"] is not None
    events = call(as_(setup, "author"), "GET", f"/items/{pk}/events").json()
    assert [e["action"] for e in events] == [
        "create",
        "submit_for_review",
        "approve",
        "approve",
        "approve",
        "submit",
    ]
    assert [e["stage"] for e in events[2:5]] == ["初审", "复审", "终审"]
    assert events[4]["comment"] == "同意报送" and events[4]["by"] == "reviewer"
    # Submitted: the editor of the addressed unit now sees it.
    assert call(as_(setup, "editor"), "GET", f"/items/{pk}").status_code == 200


def test_return_needs_a_comment_and_then_reaches_the_authors(setup: Setup) -> None:
    pk = setup.items["in_review"]
    before = snapshot(pk)
    response = transition(setup, "reviewer", pk, "return", "  ")
    assert response.status_code == 422
    assert response.json()["errors"]["comment"] == ["退回修改须写明意见。"]
    assert snapshot(pk) == before
    body = {"comment": "第二段数据请核实", "anchor": "新建党群服务中心"}
    response = call(as_(setup, "reviewer"), "POST", f"/items/{pk}/return", body)
    assert response.status_code == 200 and response.json()["status"] == "returned"
    last = call(as_(setup, "author"), "GET", f"/items/{pk}/events").json()[-1]
    assert (last["action"], last["comment"], last["anchor"]) == (
        "return",
        "第二段数据请核实",
        "新建党群服务中心",
    )
    assert call(as_(setup, "author"), "GET", f"/items/{pk}").json()["can_edit"] is True


def test_a_reviewer_rejects_with_a_reason(setup: Setup) -> None:
    pk = setup.items["in_review"]
    response = transition(setup, "reviewer", pk, "reject", "与本单位工作无关")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    last = Event.objects.filter(submission_id=pk).last()
    assert last is not None and (last.action, last.comment) == ("reject", "与本单位工作无关")


def test_withdraw_from_review_and_after_submission_until_opened(setup: Setup) -> None:
    response = transition(setup, "author", setup.items["in_review"], "withdraw")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    pk = setup.items["submitted"]
    # The editor reading the item over the API opens it, as on the page.
    assert call(as_(setup, "editor"), "GET", f"/items/{pk}").status_code == 200
    assert Addressee.objects.get(submission_id=pk).opened_by_id == setup.people["editor"]
    before = snapshot(pk)
    response = transition(setup, "author", pk, "withdraw")
    assert response.status_code == 422
    assert "上级单位已阅读" in response.json()["detail"]
    assert snapshot(pk) == before


def test_withdrawing_an_unopened_submitted_item_is_allowed(setup: Setup) -> None:
    pk = setup.items["submitted"]
    response = transition(setup, "author", pk, "withdraw")
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert response.json()["submitted_at"] is None


@pytest.mark.parametrize(
    ("name", "key", "verb", "status"),
    [
        ("author", "in_review", "approve", 403),  # visible, not the stage's reviewer
        ("coauthor", "in_review", "reject", 403),
        ("reviewer", "draft", "approve", 422),  # the state forbids it
        ("reviewer", "in_review", "withdraw", 403),  # only authors withdraw
        ("reviewer", "draft", "submit-for-review", 403),
        ("author", "submitted", "submit-for-review", 422),
        ("editor", "submitted", "approve", 422),
        ("editor", "in_review", "approve", 404),  # not submitted: the editor does not see it
        ("other_officer", "draft", "submit-for-review", 404),
        ("outsider", "in_review", "approve", 404),
        ("audit_admin", "in_review", "return", 404),
    ],
)
def test_a_transition_refused_changes_nothing(
    setup: Setup, name: str, key: str, verb: str, status: int
) -> None:
    pk = setup.items[key]
    before = snapshot(pk)
    response = transition(setup, name, pk, verb, "意见")
    assert response.status_code == status, response.content
    assert chinese(response.json()["detail"])
    assert snapshot(pk) == before


def test_versions_are_listed_shown_and_compared(setup: Setup) -> None:
    pk = setup.items["draft"]
    client = as_(setup, "author")
    body = {"base_version": 1, "body": "<p>安平县委组织部今年以来，新建党群服务中心 12 个。</p>"}
    assert call(client, "PATCH", f"/items/{pk}", body).status_code == 200
    versions = call(client, "GET", f"/items/{pk}/versions").json()
    assert [(v["number"], v["source"], v["created_by"]) for v in versions] == [
        (2, "save", "author"),
        (1, "create", "author"),
    ]
    first = call(client, "GET", f"/items/{pk}/versions/1").json()
    assert first["body"] == "<p>安平县委组织部今年以来……</p>"
    assert call(client, "GET", f"/items/{pk}/versions/9").status_code == 404
    diff = call(client, "GET", f"/items/{pk}/diff?a=1&b=2").json()
    assert (diff["a"], diff["b"]) == (1, 2)
    assert all(row["op"] == "equal" for row in diff["title"])
    inserted = [
        segment["text"]
        for row in diff["body"]
        for segment in row["right"] or []
        if segment["op"] in ("insert", "replace")
    ]
    assert "新建党群服务中心" in "".join(inserted)
    assert diff["body"][0]["left"][0] == {"op": "equal", "text": "安平县委组织部今年以来"}
    assert call(client, "GET", f"/items/{pk}/diff?a=1&b=7").status_code == 404


# Who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key", "status"),
    [
        ("author", "draft", 200),
        ("reviewer", "draft", 200),  # reviewers of the unit see its drafts
        ("other_officer", "draft", 404),
        ("outsider", "draft", 404),
        ("editor", "draft", 404),
        ("editor", "in_review", 404),  # the upper unit sees an item only once it is submitted
        ("editor", "submitted", 200),
        ("other_editor", "submitted", 404),
        ("audit_admin", "submitted", 404),
    ],
)
def test_who_sees_an_item_mirrors_the_pages(setup: Setup, name: str, key: str, status: int) -> None:
    pk = setup.items[key]
    page = client_for(User.objects.get(pk=setup.people[name])).get(f"/items/{pk}/")
    assert page.status_code == status
    for path in ("", "/events", "/versions", "/versions/1", "/attachments", "/diff?a=1&b=1"):
        response = call(as_(setup, name), "GET", f"/items/{pk}{path}")
        assert response.status_code == status, path
    if status == 404:
        assert response.json() == {"detail": "对象不存在或无权查看。"}


def test_a_hidden_item_and_a_missing_one_look_the_same(setup: Setup) -> None:
    hidden = call(as_(setup, "outsider"), "GET", f"/items/{setup.items['draft']}")
    missing = call(as_(setup, "outsider"), "GET", "/items/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_only_those_who_may_edit_can_patch(setup: Setup) -> None:
    body = {"base_version": 1, "title": "改标题"}
    for name, key, status in [
        ("reviewer", "draft", 403),
        ("other_officer", "draft", 404),
        ("author", "in_review", 403),
        ("author", "submitted", 403),
        ("editor", "submitted", 403),
    ]:
        pk = setup.items[key]
        before = snapshot(pk)
        response = call(as_(setup, name), "PATCH", f"/items/{pk}", body)
        assert response.status_code == status, (name, key)
        assert snapshot(pk) == before


# Authentication ------------------------------------------------------------------------------


def test_requests_without_a_valid_token_get_401(setup: Setup) -> None:
    pk = setup.items["draft"]
    assert Client().get(f"{API}/items").status_code == 401
    bad = Client(headers={"Authorization": "Bearer bs_not_a_token"})
    assert bad.get(f"{API}/items/{pk}").status_code == 401
    author = User.objects.get(pk=setup.people["author"])
    token = ApiToken.objects.get(user=author)
    org_workflow.revoke_api_token(by=author, token=token)
    response = as_(setup, "author").post(f"{API}/items/{pk}/submit-for-review")
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌无效或已撤销。"
    assert Submission.objects.get(pk=pk).status == Status.DRAFT


def test_the_signed_in_browser_session_works_too_with_csrf_on_writes(setup: Setup) -> None:
    pk = setup.items["draft"]
    client = client_for(User.objects.get(pk=setup.people["author"]))
    assert client.get(f"{API}/items/{pk}").json()["id"] == pk
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    response = strict.post(f"{API}/items/{pk}/submit-for-review")
    assert response.status_code == 403
    assert Submission.objects.get(pk=pk).status == Status.DRAFT
    strict.get("/items/")  # sets the CSRF cookie
    token = strict.cookies[settings.CSRF_COOKIE_NAME].value
    response = strict.post(f"{API}/items/{pk}/submit-for-review", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert Submission.objects.get(pk=pk).status == Status.IN_REVIEW


def test_every_items_path_is_in_the_openapi_schema(setup: Setup) -> None:
    paths = set(Client().get(f"{API}/openapi.json").json()["paths"])
    for path in [
        "/api/v1/items",
        "/api/v1/items/{item_id}",
        "/api/v1/items/{item_id}/submit-for-review",
        "/api/v1/items/{item_id}/approve",
        "/api/v1/items/{item_id}/return",
        "/api/v1/items/{item_id}/reject",
        "/api/v1/items/{item_id}/withdraw",
        "/api/v1/items/{item_id}/events",
        "/api/v1/items/{item_id}/versions",
        "/api/v1/items/{item_id}/versions/{number}",
        "/api/v1/items/{item_id}/diff",
        "/api/v1/items/{item_id}/attachments",
    ]:
        assert path in paths, path
