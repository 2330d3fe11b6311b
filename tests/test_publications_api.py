"""The publications JSON API under /api/v1/: inbox, decisions, adoption, issues, instructions,
outcomes. Each test asserts the response, the database and the event row.

The unit tree, the people and five submitted items are built once for the module through the real
workflows (written, reviewed and submitted by their county); each test runs in a savepoint of that
and is rolled back, so tests may adopt, forward or return the same items.
"""

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from baosong.audit.models import Event as AuditEvent
from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Level, PlatformRole, Role, Unit, User
from baosong.publications import workflow
from baosong.publications.models import (
    Action,
    Adoption,
    AdoptionForm,
    AdoptionSource,
    Event,
    Instruction,
    Issue,
    IssueStatus,
    Publication,
    PublicationKind,
)
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.submissions import workflow as items_workflow
from baosong.submissions.models import Addressee, Handling, Status, Submission
from baosong.submissions.models import Event as ItemEvent
from baosong.submissions.workflow import DraftInput
from conftest import PASSWORD, make_person, make_unit
from tests.test_publication_scenarios import submitted

API = "/api/v1"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The module's world ------------------------------------------------------------------------------


@dataclass
class Built:
    units: dict[str, int]
    people: dict[str, int]
    tokens: dict[str, str]
    items: dict[str, int]
    journal: int
    issue: int


def build() -> Built:
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    office = make_unit(province, "P-OFF", Level.INTERNAL, "办公室")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    county_a2 = make_unit(city_a, "CA2", Level.COUNTY, "青石县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    county_b = make_unit(city_b, "CB1", Level.COUNTY, "云溪县委组织部")
    other = make_unit(None, "Q", Level.PROVINCE, "外省委组织部")
    units = [province, office, city_a, county_a, county_a2, city_b, county_b, other]
    people = {
        "officer_county_a": make_person("officer_county_a", county_a, Role.OFFICER),
        "reviewer_county_a": make_person("reviewer_county_a", county_a, Role.REVIEWER),
        "unit_admin_county_a": make_person("unit_admin_county_a", county_a, Role.UNIT_ADMIN),
        "officer_a2": make_person("officer_a2", county_a2, Role.OFFICER),
        "reviewer_a2": make_person("reviewer_a2", county_a2, Role.REVIEWER),
        "outsider": make_person("outsider", county_b, Role.OFFICER),
        "reviewer_b": make_person("reviewer_b", county_b, Role.REVIEWER),
        "editor_city": make_person("editor_city", city_a, Role.EDITOR),
        "editor_city2": make_person("editor_city2", city_a, Role.EDITOR),
        "unit_admin_city": make_person("unit_admin_city", city_a, Role.UNIT_ADMIN),
        "editor_city_b": make_person("editor_city_b", city_b, Role.EDITOR),
        "editor_province": make_person("editor_province", province, Role.EDITOR),
        "unit_admin_province": make_person("unit_admin_province", province, Role.UNIT_ADMIN),
        "audit_admin": make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
    }
    officer, reviewer = people["officer_county_a"], people["reviewer_county_a"]
    # Submitted in this order, so the newest is last.
    items = {
        "振兴": submitted(county_a, officer, reviewer, "安平县推进乡村振兴"),
        "人才": submitted(county_a, officer, reviewer, "安平县人才回引经验"),
        "培训": submitted(county_a, officer, reviewer, "安平县干部培训"),
        "青石": submitted(county_a2, people["officer_a2"], people["reviewer_a2"], "青石县基层党建"),
        "云溪": submitted(county_b, people["outsider"], people["reviewer_b"], "云溪县人才工作"),
    }
    editor = people["editor_city"]
    journal = workflow.create_publication(
        by=editor, unit=city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    issue = workflow.create_issue(by=editor, publication=journal, issue_date=dt.date(2026, 11, 20))
    return Built(
        units={u.code: u.pk for u in units},
        people={name: user.pk for name, user in people.items()},
        tokens={
            name: orgs_workflow.create_api_token(by=user, name="测试")[1]
            for name, user in people.items()
        },
        items={name: item.pk for name, item in items.items()},
        journal=journal.pk,
        issue=issue.pk,
    )


@pytest.fixture(scope="module")
def built(django_db_setup: None, django_db_blocker: Any) -> Iterator[Built]:
    """Built once inside an outer transaction; each test runs in a savepoint of it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield build()
        transaction.set_rollback(True)


class Scene:
    """Fresh rows for one test (nothing read in one test leaks into the next)."""

    def __init__(self, built: Built) -> None:
        self.built = built
        units = Unit.objects.in_bulk(list(built.units.values()))
        self.unit = {code: units[pk] for code, pk in built.units.items()}
        people = User.objects.in_bulk(list(built.people.values()))
        self.person = {name: people[pk] for name, pk in built.people.items()}
        found = Submission.objects.select_related("unit").in_bulk(list(built.items.values()))
        self.item = {name: found[pk] for name, pk in built.items.items()}
        self.journal = Publication.objects.get(pk=built.journal)
        self.issue = Issue.objects.get(pk=built.issue)

    @property
    def editor(self) -> User:
        return self.person["editor_city"]

    def api(self, name: str) -> Client:
        """A client that signs its requests with the person's personal token."""
        return Client(headers={"Authorization": f"Bearer {self.built.tokens[name]}"})

    def adopted(self, name: str, issue: Issue | None, form: str = AdoptionForm.WHOLE) -> Adoption:
        item = self.item[name]
        return workflow.adopt(
            by=self.editor,
            sources=[SourceInput(item)],
            publication=self.journal,
            form=form,
            title=item.title,
            body="<p>摘编</p>" if form != AdoptionForm.WHOLE else "",
            issue=issue,
        )


@pytest.fixture
def s(built: Built, db: None) -> Scene:
    return Scene(built)


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{path}", data=json.dumps(body or {}), content_type="application/json")


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(f"{API}{path}", params)


def receipt(item: Submission, unit: Unit) -> Addressee:
    return Addressee.objects.get(submission=item, unit=unit)


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def test_the_module_world_has_five_pending_items(s: Scene) -> None:
    assert Addressee.objects.filter(state=Handling.PENDING).count() == 5
    assert not Adoption.objects.exists() and not Event.objects.exists()


# Authentication ----------------------------------------------------------------------------------


def test_the_inbox_needs_credentials(s: Scene) -> None:
    response = Client().get(f"{API}/inbox")
    assert response.status_code == 401
    assert response.json() == {"detail": "未登录：请提供个人令牌或先登录。"}


def test_a_signed_in_session_claims_with_the_csrf_token_and_not_without(s: Scene) -> None:
    item = s.item["振兴"]
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
    assert get(client, "/inbox").json()["count"] == 4

    refused = post(client, f"/inbox/{item.pk}/claim")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF 校验失败，请刷新页面后重试。"}
    assert receipt(item, s.unit["CA"]).claimed_by is None

    accepted = client.post(
        f"{API}/inbox/{item.pk}/claim", headers={"X-CSRFToken": client.cookies["csrftoken"].value}
    )
    assert accepted.status_code == 200
    assert receipt(item, s.unit["CA"]).claimed_by == s.editor


# Inbox -------------------------------------------------------------------------------------------


def test_the_inbox_lists_only_the_receipts_of_the_editors_own_units(s: Scene) -> None:
    city = get(s.api("editor_city"), "/inbox").json()
    assert city["count"] == 4
    names = ["青石", "培训", "人才", "振兴"]  # newest first
    assert [row["item_id"] for row in city["items"]] == [s.item[n].pk for n in names]
    row = city["items"][-1]
    assert row == {
        "item_id": s.item["振兴"].pk,
        "title": "安平县推进乡村振兴",
        "item_type": "info",
        "kind": "dynamic",
        "origin_unit": "安平县委组织部",
        "unit": "临江市委组织部",
        "state": "pending",
        "received_at": row["received_at"],
        "opened": False,
        "claimed_by": None,
        "forwarded_from": None,
    }
    assert row["received_at"] is not None

    city_b = get(s.api("editor_city_b"), "/inbox").json()
    assert [r["item_id"] for r in city_b["items"]] == [s.item["云溪"].pk]
    # The province has received nothing yet; officers, unit admins and the audit admin have no inbox.
    for name in ("editor_province", "officer_county_a", "unit_admin_city", "audit_admin"):
        assert get(s.api(name), "/inbox").json() == {
            "count": 0,
            "page": 1,
            "page_size": 50,
            "items": [],
        }, name


def test_the_inbox_filters_by_state_and_title_and_pages(s: Scene) -> None:
    workflow.keep_for_reference(by=s.editor, item=s.item["人才"])
    workflow.claim(by=s.editor, item=s.item["培训"])
    client = s.api("editor_city")

    def listed(**params: Any) -> list[str]:
        response = get(client, "/inbox", **params)
        assert response.status_code == 200, response.content
        titles = {item.pk: name for name, item in s.item.items()}
        return [titles[r["item_id"]] for r in response.json()["items"]]

    # Pending by default, newest first; an empty state lists every state.
    assert listed() == ["青石", "培训", "振兴"]
    assert listed(state="reference") == ["人才"]
    assert listed(state="") == ["青石", "培训", "人才", "振兴"]
    assert listed(state="", q="人才") == ["人才"]
    assert listed(q="安平县") == ["培训", "振兴"]
    assert listed(q="不存在的标题") == []
    page = get(client, "/inbox", state="", page=2, page_size=3).json()
    assert (page["count"], page["page"], page["page_size"]) == (4, 2, 3)
    assert [r["item_id"] for r in page["items"]] == [s.item["振兴"].pk]
    claimed = next(r for r in get(client, "/inbox").json()["items"] if r["claimed_by"])
    assert (claimed["item_id"], claimed["claimed_by"]) == (s.item["培训"].pk, "editor_city")

    bad = get(client, "/inbox", state="lost")
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == ["state"]
    assert get(client, "/inbox", page=0).status_code == 422
    assert get(client, "/inbox", page_size=201).status_code == 422


# Claim and release -------------------------------------------------------------------------------


def test_a_claimed_item_cannot_be_claimed_by_a_second_editor_of_the_unit(s: Scene) -> None:
    item, city = s.item["振兴"], s.unit["CA"]
    claimed = post(s.api("editor_city"), f"/inbox/{item.pk}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["claimed_by"] == "editor_city"
    assert receipt(item, city).claimed_by == s.editor
    event = Event.objects.get(action=Action.CLAIM, submission=item)
    assert (event.by, event.unit) == (s.editor, city)

    second = s.api("editor_city2")
    refused = post(second, f"/inbox/{item.pk}/claim")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "editor_city已认领这篇稿件。"
    # Nor may the second editor decide on the item while it is claimed.
    refused = post(second, f"/inbox/{item.pk}/reference")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "editor_city已认领这篇稿件，请与其协调。"
    body = {"comment": "请核实"}
    assert post(second, f"/inbox/{item.pk}/return", body).status_code == 422
    assert receipt(item, city).claimed_by == s.editor
    assert receipt(item, city).state == Handling.PENDING
    assert Event.objects.filter(submission=item).count() == 1

    released = post(s.api("editor_city"), f"/inbox/{item.pk}/release")
    assert released.status_code == 200 and released.json()["claimed_by"] is None
    assert Event.objects.get(action=Action.RELEASE, submission=item).by == s.editor
    assert post(second, f"/inbox/{item.pk}/claim").json()["claimed_by"] == "editor_city2"


def test_a_colleague_may_lift_a_claim_and_the_event_says_who_did(s: Scene) -> None:
    # A claim is a marker, not a lock: the inbox page offers 解除认领 for an absent colleague.
    item = s.item["振兴"]
    workflow.claim(by=s.editor, item=item)
    lifted = post(s.api("editor_city2"), f"/inbox/{item.pk}/release")
    assert lifted.status_code == 200 and lifted.json()["claimed_by"] is None
    event = Event.objects.get(action=Action.RELEASE, submission=item)
    assert event.by == s.person["editor_city2"]
    # Releasing an unclaimed item changes nothing and records nothing.
    assert post(s.api("editor_city2"), f"/inbox/{item.pk}/release").status_code == 200
    assert Event.objects.filter(action=Action.RELEASE).count() == 1


def test_an_item_not_received_by_the_unit_cannot_be_claimed(s: Scene) -> None:
    item = s.item["振兴"]
    for name in ("editor_city_b", "editor_province", "officer_county_a", "unit_admin_city"):
        response = post(s.api(name), f"/inbox/{item.pk}/claim")
        assert response.status_code == 404, name
        assert response.json() == {"detail": "对象不存在或无权查看。"}
    assert post(s.api("editor_city"), "/inbox/999999/claim").status_code == 404
    assert receipt(item, s.unit["CA"]).claimed_by is None
    assert not Event.objects.exists()


# Reference, forward, return ----------------------------------------------------------------------


def test_keeping_an_item_for_reference(s: Scene) -> None:
    item = s.item["振兴"]
    client = s.api("editor_city")
    response = post(client, f"/inbox/{item.pk}/reference", {"comment": "留作参考"})
    assert response.status_code == 200 and response.json()["state"] == "reference"
    assert receipt(item, s.unit["CA"]).state == Handling.REFERENCE
    event = Event.objects.get(action=Action.REFERENCE, submission=item)
    assert event.comment == "留作参考" and event.by == s.editor

    again = post(client, f"/inbox/{item.pk}/reference")
    assert again.status_code == 422
    assert again.json()["detail"] == "本单位已对这篇稿件作出处理（仅供参考）。"
    assert Event.objects.filter(action=Action.REFERENCE).count() == 1


def test_forwarding_goes_to_the_parent_unit_by_default(s: Scene) -> None:
    item = s.item["振兴"]
    response = post(s.api("editor_city"), f"/inbox/{item.pk}/forward", {"comment": "建议采用"})
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert (row["unit"], row["forwarded_from"], row["state"], row["origin_unit"]) == (
        "江川省委组织部",
        "临江市委组织部",
        "pending",
        "安平县委组织部",
    )
    assert receipt(item, s.unit["CA"]).state == Handling.FORWARDED
    province = receipt(item, s.unit["P"])
    assert (province.forwarded_from, province.forwarded_by) == (s.unit["CA"], s.editor)
    event = Event.objects.get(action=Action.FORWARD, submission=item)
    assert event.comment == "建议采用"
    assert event.facts == {"forwarder": "CA", "forwarder_level": "city", "to": ["P"]}
    # It is now in the province's inbox, marked as forwarded by the city.
    [arrived] = get(s.api("editor_province"), "/inbox").json()["items"]
    assert (arrived["item_id"], arrived["forwarded_from"]) == (item.pk, "临江市委组织部")


def test_forwarding_to_an_explicit_target_needs_an_upper_unit(s: Scene) -> None:
    item = s.item["振兴"]
    client = s.api("editor_city")
    for code, message in [
        ("CB", "“白河市委组织部”不是本单位的上级单位。"),
        ("CA1", "“安平县委组织部”不是本单位的上级单位。"),
        ("P-OFF", "“办公室”不是本单位的上级单位。"),
        ("Q", "“外省委组织部”不是本单位的上级单位。"),
    ]:
        body = {"target_unit_ids": [s.unit[code].pk]}
        response = post(client, f"/inbox/{item.pk}/forward", body)
        assert response.status_code == 422, code
        assert response.json()["errors"] == {"targets": [message]}
    missing = post(client, f"/inbox/{item.pk}/forward", {"target_unit_ids": [999999]})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"targets": ["转报单位不存在。"]}
    assert Addressee.objects.filter(submission=item).count() == 1
    assert receipt(item, s.unit["CA"]).state == Handling.PENDING
    assert not Event.objects.exists()

    body = {"target_unit_ids": [s.unit["P"].pk]}
    accepted = post(client, f"/inbox/{item.pk}/forward", body)
    assert accepted.status_code == 200
    assert [r["unit"] for r in accepted.json()] == ["江川省委组织部"]


def test_forwarding_twice_to_the_same_unit_is_refused(s: Scene) -> None:
    item = s.item["振兴"]
    client = s.api("editor_city")
    assert post(client, f"/inbox/{item.pk}/forward").status_code == 200
    again = post(client, f"/inbox/{item.pk}/forward")
    assert again.status_code == 422
    assert again.json()["detail"] == "本单位已对这篇稿件作出处理（已转报）。"

    # An item adopted here may still be forwarded, but only once to each unit.
    other = s.item["人才"]
    s.adopted("人才", None)
    assert post(client, f"/inbox/{other.pk}/forward").status_code == 200
    assert receipt(other, s.unit["CA"]).state == Handling.ADOPTED
    again = post(client, f"/inbox/{other.pk}/forward")
    assert again.status_code == 422
    assert again.json()["errors"] == {"targets": ["这篇稿件已报送或转报到江川省委组织部。"]}
    assert Addressee.objects.filter(submission=other, unit=s.unit["P"]).count() == 1
    assert Event.objects.filter(action=Action.FORWARD, submission=other).count() == 1


def test_returning_sends_the_item_back_to_its_authors(s: Scene) -> None:
    item = s.item["振兴"]
    client = s.api("editor_city")
    empty = post(client, f"/inbox/{item.pk}/return", {"comment": "  "})
    assert empty.status_code == 422
    assert empty.json()["errors"] == {"comment": ["退回须写明意见。"]}
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED

    response = post(client, f"/inbox/{item.pk}/return", {"comment": "数据需核实"})
    assert response.status_code == 200
    assert response.json() == {"status": "returned"}
    item.refresh_from_db()
    assert item.status == Status.RETURNED
    assert receipt(item, s.unit["CA"]).state == Handling.RETURNED
    event = ItemEvent.objects.get(submission=item, action="return_upper")
    assert (event.by, event.comment) == (s.editor, "数据需核实")
    # A returned item leaves the inbox and can no longer be handled here.
    assert item.pk not in [r["item_id"] for r in get(client, "/inbox", state="").json()["items"]]
    assert post(client, f"/inbox/{item.pk}/claim").status_code == 404


def test_an_item_already_adopted_cannot_be_returned(s: Scene) -> None:
    item = s.item["振兴"]
    s.adopted("振兴", s.issue)
    response = post(s.api("editor_city"), f"/inbox/{item.pk}/return", {"comment": "请修改"})
    assert response.status_code == 422
    assert response.json()["detail"] == "本单位已对这篇稿件作出处理（已采用），不能再退回。"
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED


# Adoption ----------------------------------------------------------------------------------------


def test_adopting_a_whole_item_into_an_issue(s: Scene) -> None:
    item = s.item["振兴"]
    body = {
        "publication_id": s.journal.pk,
        "issue_id": s.issue.pk,
        "form": "whole",
        "sources": [{"item_id": item.pk}],
        "title": "安平县推进乡村振兴",
        "is_lead": True,
    }
    response = post(s.api("editor_city"), "/adoptions", body)
    assert response.status_code == 201, response.content
    adoption = Adoption.objects.get()
    assert response.json() == {
        "id": adoption.pk,
        "unit": "临江市委组织部",
        "unit_level": "city",
        "publication": "临江组工信息",
        "publication_kind": "journal",
        "issue": "2026年第1期（总第1期）",
        "form": "whole",
        "is_lead": True,
        "title": "安平县推进乡村振兴",
        "sources": [
            {
                "item_id": item.pk,
                "origin_unit": "安平县委组织部",
                "share": 100,
                "is_lead_source": True,
                "forwarded_by": None,
            }
        ],
        "published_url": "",
        "published_on": None,
        "withdrawn_at": None,
        "withdraw_reason": "",
    }
    assert adoption.body == item.body and adoption.issue == s.issue
    assert receipt(item, s.unit["CA"]).state == Handling.ADOPTED
    event = Event.objects.get(action=Action.ADOPT, submission=item)
    assert event.adoption == adoption and event.by == s.editor
    assert event.facts["adopting_level"] == "city" and event.facts["is_lead"] is True


def test_an_excerpt_keeps_its_edited_text_and_leaves_the_item_untouched(s: Scene) -> None:
    item = s.item["振兴"]
    body = {
        "publication_id": s.journal.pk,
        "issue_id": s.issue.pk,
        "form": "excerpt",
        "sources": [{"item_id": item.pk}],
        "title": "乡村振兴的安平做法",
        "body": "<p>摘编：安平县……</p><script>alert(1)</script>",
    }
    client = s.api("editor_city")
    missing_text = post(client, "/adoptions", {**body, "body": ""})
    assert missing_text.status_code == 422
    assert missing_text.json()["errors"] == {"body": ["摘编、综合和一句话采用须填写采用稿正文。"]}
    assert not Adoption.objects.exists()

    response = post(client, "/adoptions", body)
    assert response.status_code == 201
    adoption = Adoption.objects.get(pk=response.json()["id"])
    assert adoption.form == AdoptionForm.EXCERPT
    assert adoption.body == "<p>摘编：安平县……</p>"
    item.refresh_from_db()
    assert item.body == "<p>安平县推进乡村振兴正文</p>"
    assert Event.objects.get(action=Action.ADOPT).facts["form"] == "excerpt"


def test_a_combined_piece_credits_every_source_with_its_share_and_one_lead(s: Scene) -> None:
    a, a2 = s.item["振兴"], s.item["青石"]
    client = s.api("editor_city")
    body: dict[str, Any] = {
        "publication_id": s.journal.pk,
        "issue_id": s.issue.pk,
        "form": "combined",
        "title": "各县扎实推进基层党建",
        "body": "<p>综合稿……</p>",
    }
    lead_a = {"item_id": a.pk, "share": 60, "is_lead_source": True}
    for sources, errors in [
        (
            [lead_a, {"item_id": a2.pk, "share": 30}],
            {"sources": ["综合采用各来源份额之和应为 100，现为 90。"]},
        ),
        (
            [{"item_id": a.pk, "share": 60}, {"item_id": a2.pk, "share": 40}],
            {"sources": ["综合采用须指定一个主报单位。"]},
        ),
        (
            [{"item_id": a.pk, "share": 100, "is_lead_source": True}],
            {"form": ["综合采用须包含至少两篇稿件。"]},
        ),
        ([lead_a, {"item_id": a2.pk, "share": 140}], {"sources.share": ["不能大于 100。"]}),
        (
            [lead_a, {"item_id": a.pk, "share": 40}],
            {"sources": ["同一篇稿件只能作为一个来源。"]},
        ),
    ]:
        response = post(client, "/adoptions", {**body, "sources": sources})
        assert response.status_code == 422, sources
        assert response.json()["errors"] == errors
    # An item received by another unit cannot be one of the sources.
    foreign = [lead_a, {"item_id": s.item["云溪"].pk, "share": 40}]
    assert post(client, "/adoptions", {**body, "sources": foreign}).status_code == 404
    assert not Adoption.objects.exists() and not Event.objects.exists()
    assert receipt(a, s.unit["CA"]).state == Handling.PENDING

    response = post(
        client, "/adoptions", {**body, "sources": [lead_a, {"item_id": a2.pk, "share": 40}]}
    )
    assert response.status_code == 201, response.content
    credited = {
        (src["origin_unit"], src["share"], src["is_lead_source"])
        for src in response.json()["sources"]
    }
    assert credited == {("安平县委组织部", 60, True), ("青石县委组织部", 40, False)}
    adoption = Adoption.objects.get()
    rows = {(src.submission_id, src.share, src.is_lead_source) for src in adoption.sources.all()}
    assert rows == {(a.pk, 60, True), (a2.pk, 40, False)}
    assert Event.objects.filter(action=Action.ADOPT, adoption=adoption).count() == 2
    assert receipt(a2, s.unit["CA"]).state == Handling.ADOPTED


def test_a_website_adoption_needs_a_url_and_a_date_and_no_issue(s: Scene) -> None:
    website = workflow.create_publication(
        by=s.editor, unit=s.unit["CA"], name="临江组工网", kind=PublicationKind.WEBSITE
    )
    item = s.item["振兴"]
    client = s.api("editor_city")
    body: dict[str, Any] = {
        "publication_id": website.pk,
        "form": "whole",
        "sources": [{"item_id": item.pk}],
        "title": item.title,
    }
    response = post(client, "/adoptions", body)
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "published_on": ["请填写发布日期。"],
        "published_url": ["请填写发布网址。"],
    }
    published = {
        "published_url": "https://zzb.linjiang.gov.cn/a/1.html",
        "published_on": "2026-11-21",
    }
    for url in ("zzb.linjiang.gov.cn/a/1.html", "ftp://zzb.linjiang.gov.cn/a", "不是网址"):
        bad_url = post(client, "/adoptions", {**body, **published, "published_url": url})
        assert bad_url.status_code == 422, url
        assert bad_url.json()["errors"] == {
            "published_url": [
                "发布网址应为以 http:// 或 https:// 开头的完整网址（不超过 200 字符）。"
            ]
        }
    long_url = "https://zzb.linjiang.gov.cn/" + "a" * 200
    too_long = post(client, "/adoptions", {**body, **published, "published_url": long_url})
    assert too_long.status_code == 422 and list(too_long.json()["errors"]) == ["published_url"]
    with_issue = post(client, "/adoptions", {**body, **published, "issue_id": s.issue.pk})
    assert with_issue.status_code == 422
    assert with_issue.json()["errors"] == {"issue": ["网站、公众号不分期，请填写发布网址和日期。"]}
    assert not Adoption.objects.exists()

    response = post(client, "/adoptions", {**body, **published})
    assert response.status_code == 201
    out = response.json()
    assert (out["publication_kind"], out["issue"]) == ("website", None)
    assert (out["published_url"], out["published_on"]) == (
        "https://zzb.linjiang.gov.cn/a/1.html",
        "2026-11-21",
    )
    assert Event.objects.get(action=Action.ADOPT).facts["publication_kind"] == "website"
    # A channel has no issues.
    no_issue = post(client, f"/publications/{website.pk}/issues", {"issue_date": "2026-11-21"})
    assert no_issue.status_code == 422
    assert no_issue.json()["detail"] == "网站、公众号不分期。"


def test_the_origin_officer_may_view_an_adoption_and_a_sibling_county_may_not(s: Scene) -> None:
    adoption = s.adopted("振兴", s.issue)
    seen = get(s.api("officer_county_a"), f"/adoptions/{adoption.pk}")
    assert seen.status_code == 200
    assert seen.json()["title"] == "安平县推进乡村振兴"
    for name in ("unit_admin_county_a", "unit_admin_city", "editor_city2"):
        assert get(s.api(name), f"/adoptions/{adoption.pk}").status_code == 200, name
    for name in ("officer_a2", "outsider", "editor_city_b", "editor_province", "audit_admin"):
        response = get(s.api(name), f"/adoptions/{adoption.pk}")
        assert response.status_code == 404, name
    assert get(s.api("editor_city"), "/adoptions/999999").status_code == 404


# Issues ------------------------------------------------------------------------------------------


def test_placing_an_adoption_in_an_issue_and_taking_it_out(s: Scene) -> None:
    adoption = s.adopted("振兴", None)
    client = s.api("editor_city")
    placed = post(client, f"/adoptions/{adoption.pk}/place", {"issue_id": s.issue.pk})
    assert placed.status_code == 200
    assert placed.json()["issue"] == "2026年第1期（总第1期）"
    assert get(client, f"/issues/{s.issue.pk}").json()["adoptions"] == [adoption.pk]
    assert AuditEvent.objects.filter(action="adoption.place", object_id=str(adoption.pk)).exists()

    taken = post(client, f"/adoptions/{adoption.pk}/place", {"issue_id": None})
    assert taken.status_code == 200 and taken.json()["issue"] is None
    adoption.refresh_from_db()
    assert adoption.issue is None
    # The origin may look but not compose; another unit does not see the adoption at all.
    body = {"issue_id": s.issue.pk}
    refused = post(s.api("officer_county_a"), f"/adoptions/{adoption.pk}/place", body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "只有采用单位的编辑可以办理。"}
    assert post(s.api("editor_city_b"), f"/adoptions/{adoption.pk}/place", body).status_code == 404
    adoption.refresh_from_db()
    assert adoption.issue is None


def test_issues_are_numbered_per_year_and_in_total(s: Scene) -> None:
    bulletin = workflow.create_publication(
        by=s.editor, unit=s.unit["CA"], name="临江组工简报", kind=PublicationKind.BULLETIN
    )
    client = s.api("editor_city")
    labels = []
    for day in ("2026-11-20", "2026-12-20", "2027-01-05"):
        response = post(client, f"/publications/{bulletin.pk}/issues", {"issue_date": day})
        assert response.status_code == 201
        out = response.json()
        labels.append(
            (out["year"], out["number"], out["total_number"], out["label"], out["status"])
        )
    assert labels == [
        (2026, 1, 1, "2026年第1期（总第1期）", "draft"),
        (2026, 2, 2, "2026年第2期（总第2期）", "draft"),
        (2027, 1, 3, "2027年第1期（总第3期）", "draft"),
    ]
    assert Issue.objects.filter(publication=bulletin).count() == 3
    assert AuditEvent.objects.filter(action="issue.create").count() == 4  # with the module's one
    listed = get(client, f"/publications/{bulletin.pk}/issues").json()
    assert [i["label"] for i in listed] == [
        "2027年第1期（总第3期）",
        "2026年第2期（总第2期）",
        "2026年第1期（总第1期）",
    ]
    # The journal counts on its own.
    again = post(client, f"/publications/{s.journal.pk}/issues", {"issue_date": "2026-12-01"})
    assert again.json()["label"] == "2026年第2期（总第2期）"
    bad_date = post(client, f"/publications/{bulletin.pk}/issues", {"issue_date": "20.11.2026"})
    assert bad_date.status_code == 422
    assert bad_date.json()["errors"] == {"issue_date": ["日期格式应为 YYYY-MM-DD。"]}


def test_ordering_an_issue_sends_the_whole_order(s: Scene) -> None:
    first = s.adopted("振兴", s.issue)
    second = s.adopted("人才", s.issue)
    client = s.api("editor_city")
    assert get(client, f"/issues/{s.issue.pk}").json()["adoptions"] == [first.pk, second.pk]
    body = {"adoption_ids": [second.pk, first.pk]}
    response = post(client, f"/issues/{s.issue.pk}/order", body)
    assert response.status_code == 200
    assert response.json()["adoptions"] == [second.pk, first.pk]
    assert AuditEvent.objects.filter(action="issue.reorder", object_id=str(s.issue.pk)).exists()

    for ids in ([second.pk], [second.pk, second.pk], [first.pk, second.pk, 999999]):
        refused = post(client, f"/issues/{s.issue.pk}/order", {"adoption_ids": ids})
        assert refused.status_code == 422
        assert refused.json()["detail"] == "顺序与本期稿件不一致，请刷新后重试。"
    in_order = s.issue.adoptions.order_by("position").values_list("pk", flat=True)
    assert list(in_order) == [second.pk, first.pk]
    refused = post(s.api("unit_admin_city"), f"/issues/{s.issue.pk}/order", body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "只有本单位的编辑可以编辑刊物。"}


def test_a_published_issue_is_frozen(s: Scene) -> None:
    client = s.api("editor_city")
    empty = post(client, f"/issues/{s.issue.pk}/publish")
    assert empty.status_code == 422 and empty.json()["detail"] == "本期还没有稿件。"

    adoption = s.adopted("振兴", s.issue)
    response = post(client, f"/issues/{s.issue.pk}/publish")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["revision"]) == ("published", 1)
    issue = Issue.objects.get(pk=s.issue.pk)
    assert issue.status == IssueStatus.PUBLISHED and issue.revisions.count() == 1
    event = Event.objects.get(action=Action.PUBLISH, issue=issue)
    assert event.facts["adoptions"] == [adoption.pk] and event.by == s.editor

    loose = s.adopted("人才", None)
    frozen = "本期已印发，不能修改；如需更正请先发起更正。"
    placed = post(client, f"/adoptions/{loose.pk}/place", {"issue_id": issue.pk})
    assert placed.status_code == 422 and placed.json()["detail"] == frozen
    taken = post(client, f"/adoptions/{adoption.pk}/place", {"issue_id": None})
    assert taken.status_code == 422 and taken.json()["detail"] == frozen
    again = post(client, f"/issues/{issue.pk}/publish")
    assert again.status_code == 422 and again.json()["detail"] == frozen
    late = s.item["培训"]
    body = {
        "publication_id": s.journal.pk,
        "issue_id": issue.pk,
        "form": "whole",
        "sources": [{"item_id": late.pk}],
        "title": late.title,
    }
    adopt = post(client, "/adoptions", body)
    assert adopt.status_code == 422
    assert adopt.json()["errors"] == {"issue": ["只能采用到本刊物正在编辑的一期。"]}
    assert list(issue.adoptions.values_list("pk", flat=True)) == [adoption.pk]
    assert Event.objects.filter(action=Action.PUBLISH).count() == 1


def test_a_correction_needs_a_reason_and_publishes_a_new_revision(s: Scene) -> None:
    s.adopted("振兴", s.issue)
    client, pk = s.api("editor_city"), s.issue.pk
    not_yet = post(client, f"/issues/{pk}/correct", {"reason": "标题有误"})
    assert not_yet.status_code == 422 and not_yet.json()["detail"] == "本期尚未印发。"
    assert post(client, f"/issues/{pk}/publish").status_code == 200

    blank = post(client, f"/issues/{pk}/correct", {"reason": " "})
    assert blank.status_code == 422
    assert blank.json()["errors"] == {"reason": ["请写明更正原因。"]}
    missing = post(client, f"/issues/{pk}/correct", {})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"reason": ["此项为必填项。"]}
    assert Issue.objects.get(pk=pk).status == IssueStatus.PUBLISHED

    reopened = post(client, f"/issues/{pk}/correct", {"reason": "第二篇标题有误"})
    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["revision"]) == ("draft", 1)
    start = AuditEvent.objects.get(action="issue.correct_start")
    assert start.after == {"reason": "第二篇标题有误"}
    republished = post(client, f"/issues/{pk}/publish")
    assert republished.json()["revision"] == 2
    correction = Event.objects.get(action=Action.CORRECT, issue_id=pk)
    assert correction.comment == "第二篇标题有误" and correction.facts["revision"] == 2
    assert Issue.objects.get(pk=pk).revisions.get(revision=2).reason == "第二篇标题有误"


# Instructions ------------------------------------------------------------------------------------


def test_recording_a_principal_provincial_leaders_instruction(s: Scene) -> None:
    item = s.item["振兴"]
    workflow.forward(by=s.editor, item=item)
    special = workflow.create_publication(
        by=s.person["editor_province"],
        unit=s.unit["P"],
        name="组工专报",
        kind=PublicationKind.SPECIAL,
    )
    client = s.api("editor_province")
    adoption = post(
        client,
        "/adoptions",
        {
            "publication_id": special.pk,
            "form": "excerpt",
            "sources": [{"item_id": item.pk}],
            "title": "人才回引的安平做法",
            "body": "<p>摘编</p>",
        },
    ).json()
    assert (adoption["unit_level"], adoption["publication_kind"]) == ("province", "special")
    assert adoption["sources"][0]["forwarded_by"] == "临江市委组织部"
    path = f"/adoptions/{adoption['id']}/instructions"
    body = {
        "leader_name": "王建华",
        "leader_position": "省委常委、组织部部长",
        "level": "province",
        "is_principal": True,
        "text": "经验很好，请各地学习借鉴。",
        "instructed_on": yesterday().isoformat(),
    }
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    future = post(client, path, {**body, "instructed_on": tomorrow})
    assert future.status_code == 422
    assert future.json()["errors"] == {"instructed_on": ["批示日期不能晚于今天。"]}
    bad_level = post(client, path, {**body, "level": "town"})
    assert bad_level.status_code == 422 and list(bad_level.json()["errors"]) == ["level"]
    blank = post(client, path, {**body, "text": " "})
    assert blank.status_code == 422 and blank.json()["errors"] == {"text": ["请填写批示内容。"]}
    assert not Instruction.objects.exists()

    response = post(client, path, body)
    assert response.status_code == 201, response.content
    instruction = Instruction.objects.get()
    assert response.json() == {"id": instruction.pk, "adoption_id": adoption["id"], **body}
    event = Event.objects.get(action=Action.INSTRUCT, instruction=instruction)
    assert event.submission == item and event.by == s.person["editor_province"]
    assert event.facts["instruction_level"] == "province" and event.facts["principal"] is True
    assert event.facts["adopting_level"] == "province"
    # The city, which forwarded the item, does not record the province's instructions.
    assert post(s.api("editor_city"), path, body).status_code == 404
    # The origin sees the adoption but may not record on it.
    refused = post(s.api("officer_county_a"), path, body)
    assert refused.status_code == 403
    assert Instruction.objects.count() == 1


# Publications ------------------------------------------------------------------------------------


def test_the_unit_admin_creates_a_publication_and_an_officer_may_not(s: Scene) -> None:
    city = s.unit["CA"]
    body = {
        "unit_id": city.pk,
        "name": "临江组工通讯",
        "kind": "bulletin",
        "distribution": "报：省委组织部",
    }
    response = post(s.api("unit_admin_city"), "/publications", body)
    assert response.status_code == 201, response.content
    publication = Publication.objects.get(name="临江组工通讯")
    assert response.json() == {
        "id": publication.pk,
        "unit": "临江市委组织部",
        "name": "临江组工通讯",
        "kind": "bulletin",
        "is_active": True,
    }
    assert (publication.masthead, publication.distribution) == ("临江市委组织部", "报：省委组织部")
    assert AuditEvent.objects.filter(action="publication.create", object_id=str(publication.pk))
    listed = get(s.api("editor_city"), "/publications").json()
    assert [p["name"] for p in listed] == ["临江组工信息", "临江组工通讯"]
    assert get(s.api("officer_county_a"), "/publications").json() == []

    duplicate = post(s.api("editor_city"), "/publications", body)
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == {"name": ["本单位已有刊物“临江组工通讯”。"]}
    own_unit = {"unit_id": s.unit["CA1"].pk, "name": "安平组工", "kind": "bulletin"}
    officer = post(s.api("officer_county_a"), "/publications", own_unit)
    assert officer.status_code == 403
    assert officer.json() == {"detail": "只有本单位的编辑或单位管理员可以设置刊物。"}
    # A unit admin higher up manages people, not the city's publications; others do not see it.
    other = {**body, "name": "别刊"}
    assert post(s.api("unit_admin_province"), "/publications", other).status_code == 403
    assert post(s.api("outsider"), "/publications", other).status_code == 404
    unknown_kind = post(s.api("editor_city"), "/publications", {**other, "kind": "newspaper"})
    assert unknown_kind.status_code == 422 and list(unknown_kind.json()["errors"]) == ["kind"]
    assert Publication.objects.count() == 2


# Outcomes ----------------------------------------------------------------------------------------


def test_the_origin_sees_where_its_item_went_and_a_sibling_does_not(s: Scene) -> None:
    item, province_editor = s.item["振兴"], s.person["editor_province"]
    workflow.claim(by=s.editor, item=item)
    workflow.forward(by=s.editor, item=item, comment="建议省里采用")
    special = workflow.create_publication(
        by=province_editor, unit=s.unit["P"], name="组工专报", kind=PublicationKind.SPECIAL
    )
    issue = workflow.create_issue(
        by=province_editor, publication=special, issue_date=dt.date(2026, 11, 21)
    )
    adoption = workflow.adopt(
        by=province_editor,
        sources=[SourceInput(item)],
        publication=special,
        issue=issue,
        form=AdoptionForm.EXCERPT,
        title="人才回引的安平做法",
        body="<p>摘编</p>",
        is_lead=True,
    )
    workflow.add_instruction(
        by=province_editor,
        adoption=adoption,
        data=InstructionInput(
            leader_name="王建华",
            leader_position="省委常委、组织部部长",
            level="province",
            text="请各地学习借鉴。",
            instructed_on=yesterday(),
            is_principal=True,
        ),
    )

    response = get(s.api("officer_county_a"), f"/items/{item.pk}/outcomes")
    assert response.status_code == 200
    rows = response.json()
    # Claims are the editors' bookkeeping, not an outcome.
    assert [(r["action"], r["action_label"], r["unit"]) for r in rows] == [
        ("forward", "转报", "临江市委组织部"),
        ("adopt", "采用", "江川省委组织部"),
        ("instruct", "批示", "江川省委组织部"),
    ]
    assert rows[0]["comment"] == "建议省里采用"
    assert rows[1]["facts"]["issue"] == "2026年第1期（总第1期）" and rows[1]["facts"]["is_lead"]
    assert rows[1]["facts"]["sources"][0]["forwarded_by"] == "CA"
    assert rows[2]["facts"]["instruction_level"] == "province"
    # The county's unit admin and the editors who handled it see the same; nobody else.
    for name in ("unit_admin_county_a", "editor_city", "editor_province", "unit_admin_province"):
        assert len(get(s.api(name), f"/items/{item.pk}/outcomes").json()) == 3, name
    for name in ("officer_a2", "outsider", "editor_city_b", "audit_admin"):
        refused = get(s.api(name), f"/items/{item.pk}/outcomes")
        assert refused.status_code == 404, name
        assert refused.json() == {"detail": "对象不存在或无权查看。"}


def test_a_draft_has_no_outcomes_and_its_unit_admin_does_not_see_it(s: Scene) -> None:
    draft = items_workflow.create_draft(
        by=s.person["officer_county_a"],
        unit=s.unit["CA1"],
        data=DraftInput(item_type="info", kind="dynamic", title="草稿", body="<p>草稿</p>"),
    )
    assert get(s.api("officer_county_a"), f"/items/{draft.pk}/outcomes").json() == []
    assert get(s.api("unit_admin_city"), f"/items/{draft.pk}/outcomes").status_code == 404
    assert get(s.api("editor_city"), f"/items/{draft.pk}/outcomes").status_code == 404


# Fields a client may not set ---------------------------------------------------------------------


@pytest.fixture
def refs(s: Scene) -> dict[str, int]:
    """A pending item, a draft issue and a published one, for the refused-field cases."""
    published = workflow.create_issue(
        by=s.editor, publication=s.journal, issue_date=dt.date(2026, 11, 1)
    )
    adoption = s.adopted("培训", published)
    workflow.publish_issue(by=s.editor, issue=published)
    return {
        "item": s.item["振兴"].pk,
        "journal": s.journal.pk,
        "issue": s.issue.pk,
        "published": published.pk,
        "adoption": adoption.pk,
        "city": s.unit["CA"].pk,
    }


def adopt_body(r: dict[str, int]) -> dict[str, Any]:
    return {
        "publication_id": r["journal"],
        "issue_id": r["issue"],
        "form": "whole",
        "sources": [{"item_id": r["item"]}],
        "title": "标题",
    }


REFUSED_FIELDS: list[tuple[str, str, Any]] = [
    ("unit_level", "/adoptions", lambda r: {**adopt_body(r), "unit_level": "central"}),
    ("publication_kind", "/adoptions", lambda r: {**adopt_body(r), "publication_kind": "special"}),
    ("position", "/adoptions", lambda r: {**adopt_body(r), "position": 1}),
    (
        "sources.forwarded_by",
        "/adoptions",
        lambda r: {**adopt_body(r), "sources": [{"item_id": r["item"], "forwarded_by": r["city"]}]},
    ),
    (
        "sources.origin_unit",
        "/adoptions",
        lambda r: {**adopt_body(r), "sources": [{"item_id": r["item"], "origin_unit": r["city"]}]},
    ),
    (
        "status",
        "/publications/{journal}/issues",
        lambda r: {"issue_date": "2026-11-25", "status": "published"},
    ),
    (
        "revision",
        "/publications/{journal}/issues",
        lambda r: {"issue_date": "2026-11-25", "revision": 7},
    ),
    ("revision", "/issues/{published}/correct", lambda r: {"reason": "更正", "revision": 7}),
    ("status", "/issues/{published}/correct", lambda r: {"reason": "更正", "status": "draft"}),
    ("forwarded_by", "/inbox/{item}/forward", lambda r: {"forwarded_by": r["city"]}),
    ("state", "/inbox/{item}/reference", lambda r: {"state": "adopted"}),
    ("unit_id", "/adoptions/{adoption}/place", lambda r: {"issue_id": None, "unit_id": r["city"]}),
    (
        "is_active",
        "/publications",
        lambda r: {"unit_id": r["city"], "name": "新刊", "kind": "journal", "is_active": False},
    ),
]


def state_of_everything() -> dict[str, Any]:
    return {
        "adoptions": list(Adoption.objects.values().order_by("pk")),
        "sources": list(AdoptionSource.objects.values().order_by("pk")),
        "issues": list(Issue.objects.values().order_by("pk")),
        "publications": list(Publication.objects.values().order_by("pk")),
        "receipts": list(Addressee.objects.values().order_by("pk")),
        "items": list(Submission.objects.values("pk", "status").order_by("pk")),
        "events": list(Event.objects.values_list("pk", flat=True)),
        "audit": AuditEvent.objects.count(),
    }


@pytest.mark.parametrize(
    ("field", "path", "body"), REFUSED_FIELDS, ids=[f"{p}:{f}" for f, p, _ in REFUSED_FIELDS]
)
def test_read_only_and_unknown_fields_are_refused_and_never_applied(
    s: Scene, refs: dict[str, int], field: str, path: str, body: Any
) -> None:
    client = s.api("editor_city")
    before = state_of_everything()
    response = post(client, path.format(**refs), body(refs))
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == {field: ["不支持该字段（只读或不存在），未作任何修改。"]}
    assert "不支持该字段" in response.json()["detail"]
    assert state_of_everything() == before
