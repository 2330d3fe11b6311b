"""Who may do what at the receiving unit, as a table, through the JSON API: actor × action → answer.

ok  allowed: 200 (201 when something is created), and the action's event row is written
422 visible and allowed in principle, but refused now (the item is claimed by a colleague, or the
    unit has no upper unit left): a Chinese message, nothing changed
403 visible but not allowed, nothing changed
404 not visible (outside what the actor may see), nothing changed

The tree is 中央 → 省 → 市 A (receiving unit) → 县 A (origin), and 市 B beside 市 A. The county
submits two items to city A: "main", which city A's editor has claimed, and "forwarded", which city
A's editor forwarded to the province. "parent_before" is the province's editor acting on the main
item (never forwarded to the province), "parent_after" the same editor acting on the forwarded one.
City A's journal has a draft issue holding an adoption of a third county item; "issue", "publish"
and "instruct" act on those. "adopt" puts the actor's item into the journal of the actor's own
unit where it has one (province, city B), else into city A's.
Built once for the module; each case runs in a savepoint and is rolled back.
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
from baosong.orgs.models import Level, PlatformRole, Role
from baosong.publications import workflow
from baosong.publications.models import (
    Action,
    Adoption,
    AdoptionForm,
    AdoptionSource,
    Event,
    Instruction,
    Issue,
    IssueRevision,
    Publication,
    PublicationKind,
)
from baosong.publications.workflow import SourceInput
from baosong.submissions.models import Addressee, Notification, Submission
from baosong.submissions.models import Event as ItemEvent
from conftest import make_person, make_unit
from tests.test_publication_scenarios import submitted

API = "/api/v1"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ACTIONS = [
    "claim",
    "adopt",
    "reference",
    "forward",
    "return",
    "issue",
    "publish",
    "instruct",
    "withdraw",
    "edit",
    "outcomes",
]

MATRIX = """
    editor          ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok
    other_editor    422 422 422 422 422 ok  ok  ok  ok  ok  ok
    sibling_editor  404 404 404 404 404 404 404 404 404 404 404
    parent_before   404 404 404 404 404 404 404 404 404 404 404
    parent_after    ok  ok  ok  ok  ok  404 404 404 404 404 ok
    reviewer        404 404 404 404 404 404 404 404 404 404 404
    origin_officer  404 404 404 404 404 404 404 403 403 403 ok
    unit_admin      404 404 404 404 404 403 403 403 403 403 ok
    audit_admin     404 404 404 404 404 404 404 404 404 404 404
"""


def parse(table: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines():
        actor, *cells = line.split()
        assert len(cells) == len(ACTIONS), actor
        rows[actor] = dict(zip(ACTIONS, cells, strict=True))
    return rows


EXPECTED = parse(MATRIX)
CASES = [(actor, action) for actor in EXPECTED for action in ACTIONS]

# The person behind each actor.
ACCOUNT = {
    "editor": "editor",
    "other_editor": "other_editor",
    "sibling_editor": "sibling_editor",
    "parent_before": "parent_editor",
    "parent_after": "parent_editor",
    "reviewer": "reviewer",
    "origin_officer": "origin_officer",
    "unit_admin": "unit_admin",
    "audit_admin": "audit_admin",
}


# The module's world ------------------------------------------------------------------------------


@dataclass
class Setup:
    people: dict[str, int]
    tokens: dict[str, str]
    items: dict[str, int]
    journals: dict[str, int]  # unit code → its journal
    issue: int
    adoption: int


def build() -> Setup:
    central = make_unit(None, "Z", Level.CENTRAL, "中央组织部")
    province = make_unit(central, "P", Level.PROVINCE, "江川省委组织部")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    people = {
        "editor": make_person("editor", city_a, Role.EDITOR),
        "other_editor": make_person("other_editor", city_a, Role.EDITOR),
        "sibling_editor": make_person("sibling_editor", city_b, Role.EDITOR),
        "parent_editor": make_person("parent_editor", province, Role.EDITOR),
        "reviewer": make_person("reviewer", city_a, Role.REVIEWER),
        "origin_officer": make_person("origin_officer", county_a, Role.OFFICER),
        "origin_reviewer": make_person("origin_reviewer", county_a, Role.REVIEWER),
        "unit_admin": make_person("unit_admin", city_a, Role.UNIT_ADMIN),
        "audit_admin": make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
    }
    officer, reviewer, editor = (
        people["origin_officer"],
        people["origin_reviewer"],
        people["editor"],
    )
    main = submitted(county_a, officer, reviewer, "安平县推进乡村振兴")
    forwarded = submitted(county_a, officer, reviewer, "安平县人才回引经验")
    in_issue = submitted(county_a, officer, reviewer, "安平县干部培训")
    workflow.claim(by=editor, item=main)
    workflow.forward(by=editor, item=forwarded)
    journals = {
        unit.code: workflow.create_publication(
            by=None, unit=unit, name=f"{unit.short_name}信息", kind=PublicationKind.JOURNAL
        )
        for unit in (city_a, city_b, province)
    }
    issue = workflow.create_issue(
        by=editor, publication=journals["CA"], issue_date=dt.date(2026, 11, 20)
    )
    adoption = workflow.adopt(
        by=editor,
        sources=[SourceInput(in_issue)],
        publication=journals["CA"],
        form=AdoptionForm.WHOLE,
        title=in_issue.title,
        issue=issue,
    )
    return Setup(
        people={name: user.pk for name, user in people.items()},
        tokens={
            name: orgs_workflow.create_api_token(by=user, name="矩阵")[1]
            for name, user in people.items()
        },
        items={"main": main.pk, "forwarded": forwarded.pk},
        journals={code: journal.pk for code, journal in journals.items()},
        issue=issue.pk,
        adoption=adoption.pk,
    )


@pytest.fixture(scope="module")
def built(django_db_setup: None, django_db_blocker: Any) -> Iterator[Setup]:
    """Built once inside an outer transaction; each test runs in a savepoint of it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield build()
        transaction.set_rollback(True)


@pytest.fixture
def setup(built: Setup, db: None) -> Setup:
    return built


def test_the_setup_has_a_claimed_item_a_forwarded_one_and_a_draft_issue(setup: Setup) -> None:
    main = Addressee.objects.get(submission_id=setup.items["main"])
    assert (main.state, main.claimed_by_id) == ("pending", setup.people["editor"])
    states = Addressee.objects.filter(submission_id=setup.items["forwarded"])
    assert sorted(states.values_list("unit__code", "state")) == [
        ("CA", "forwarded"),
        ("P", "pending"),
    ]
    issue = Issue.objects.get(pk=setup.issue)
    assert issue.status == "draft"
    assert list(issue.adoptions.values_list("pk", flat=True)) == [setup.adoption]


# Requests ----------------------------------------------------------------------------------------


def request(setup: Setup, actor: str, action: str) -> Any:
    client = Client(headers={"Authorization": f"Bearer {setup.tokens[ACCOUNT[actor]]}"})
    item = setup.items["forwarded" if actor == "parent_after" else "main"]

    def post(path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {})
        return client.post(f"{API}{path}", data=data, content_type="application/json")

    if action in ("claim", "reference", "forward"):
        return post(f"/inbox/{item}/{action}")
    if action == "return":
        return post(f"/inbox/{item}/return", {"comment": "请核实第二段的数据。"})
    if action == "adopt":
        home = {"sibling_editor": "CB", "parent_before": "P", "parent_after": "P"}
        journal = setup.journals[home.get(actor, "CA")]
        return post(
            "/adoptions",
            {
                "publication_id": journal,
                "form": "whole",
                "sources": [{"item_id": item}],
                "title": "采用稿标题",
            },
        )
    if action == "issue":
        return post(f"/publications/{setup.journals['CA']}/issues", {"issue_date": "2026-12-01"})
    if action == "publish":
        return post(f"/issues/{setup.issue}/publish")
    if action == "instruct":
        body = {
            "leader_name": "王建华",
            "leader_position": "市委常委、组织部部长",
            "level": "city",
            "is_principal": True,
            "text": "请认真总结推广。",
            "instructed_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        }
        return post(f"/adoptions/{setup.adoption}/instructions", body)
    if action == "withdraw":
        return post(f"/adoptions/{setup.adoption}/withdraw", {"reason": "误采用"})
    if action == "edit":
        edit = json.dumps({"title": "改过的标题", "is_lead": True})
        return client.patch(f"{API}/adoptions/{setup.adoption}", edit, "application/json")
    assert action == "outcomes"
    return client.get(f"{API}/items/{item}/outcomes")


def snapshot() -> dict[str, Any]:
    return {
        "receipts": list(Addressee.objects.values().order_by("pk")),
        "items": list(Submission.objects.values("pk", "status", "stage_index").order_by("pk")),
        "publications": list(Publication.objects.values().order_by("pk")),
        "issues": list(Issue.objects.values().order_by("pk")),
        "adoptions": list(Adoption.all_objects.values().order_by("pk")),
        "sources": list(AdoptionSource.objects.values().order_by("pk")),
        "instructions": list(Instruction.objects.values_list("pk", flat=True)),
        "revisions": list(IssueRevision.objects.values_list("pk", flat=True)),
        "events": list(Event.objects.values_list("pk", flat=True)),
        "item_events": list(ItemEvent.objects.values_list("pk", flat=True)),
        "audit": list(AuditEvent.objects.values_list("pk", flat=True)),
        "notifications": list(Notification.objects.values_list("pk", flat=True)),
    }


CREATED = {"adopt", "issue", "instruct"}

# The record an allowed action leaves (the audit row for a new issue, which is no handling event).
EVENT_OF = {
    "claim": Action.CLAIM,
    "adopt": Action.ADOPT,
    "reference": Action.REFERENCE,
    "forward": Action.FORWARD,
    "publish": Action.PUBLISH,
    "instruct": Action.INSTRUCT,
    "withdraw": Action.WITHDRAW_ADOPTION,
}


def recorded(action: str, actor_pk: int, before: dict[str, Any]) -> bool:
    if action in EVENT_OF:
        new = Event.objects.exclude(pk__in=before["events"])
        return new.filter(action=EVENT_OF[action], by_id=actor_pk).exists()
    if action == "edit":
        new_audit = AuditEvent.objects.exclude(pk__in=before["audit"])
        return new_audit.filter(action="adoption.edit", actor_id=actor_pk).exists()
    if action == "return":
        new_item_events = ItemEvent.objects.exclude(pk__in=before["item_events"])
        return new_item_events.filter(action="return_upper", by_id=actor_pk).exists()
    assert action == "issue"
    new_audit = AuditEvent.objects.exclude(pk__in=before["audit"])
    return new_audit.filter(action="issue.create", actor_id=actor_pk).exists()


@pytest.mark.parametrize(("actor", "action"), CASES)
def test_publication_permission(setup: Setup, actor: str, action: str) -> None:
    expected = EXPECTED[actor][action]
    actor_pk = setup.people[ACCOUNT[actor]]
    before = snapshot()
    response = request(setup, actor, action)
    after = snapshot()
    body = response.content.decode()[:300]
    if expected == "ok":
        assert response.status_code == (201 if action in CREATED else 200), body
        if action == "outcomes":
            assert isinstance(response.json(), list)
            assert after == before
        else:
            assert recorded(action, actor_pk, before), (actor, action)
        return
    assert response.status_code == int(expected), body
    detail = response.json()["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail  # a Chinese message
    if actor == "other_editor" and expected == "422":
        assert detail.startswith("editor已认领这篇稿件")
    assert after == before


# A few consequences the table does not show ------------------------------------------------------


def test_after_forwarding_the_city_can_no_longer_decide_on_the_item(setup: Setup) -> None:
    client = Client(headers={"Authorization": f"Bearer {setup.tokens['editor']}"})
    item = setup.items["forwarded"]
    before = snapshot()
    for action in ("reference", "forward"):
        response = client.post(f"{API}/inbox/{item}/{action}", "{}", "application/json")
        assert response.status_code == 422
        assert response.json()["detail"] == "本单位已对这篇稿件作出处理（已转报）。"
    returned = client.post(
        f"{API}/inbox/{item}/return", json.dumps({"comment": "请修改"}), "application/json"
    )
    assert returned.status_code == 422
    body = {
        "publication_id": setup.journals["CA"],
        "form": "whole",
        "sources": [{"item_id": item}],
        "title": "采用稿标题",
    }
    adopted = client.post(f"{API}/adoptions", json.dumps(body), "application/json")
    assert adopted.status_code == 422
    assert adopted.json()["detail"] == (
        "本单位已对《安平县人才回引经验》作出处理（已转报），不能再采用。"
    )
    assert snapshot() == before


def test_once_the_province_adopts_the_forwarded_item_the_origin_sees_it(setup: Setup) -> None:
    province = Client(headers={"Authorization": f"Bearer {setup.tokens['parent_editor']}"})
    item = setup.items["forwarded"]
    adopted = province.post(
        f"{API}/adoptions",
        json.dumps(
            {
                "publication_id": setup.journals["P"],
                "form": "whole",
                "sources": [{"item_id": item}],
                "title": "人才回引的安平经验",
            }
        ),
        "application/json",
    )
    assert adopted.status_code == 201
    adoption = adopted.json()["id"]
    assert adopted.json()["sources"][0]["forwarded_by"] == "临江市委组织部"
    officer = Client(headers={"Authorization": f"Bearer {setup.tokens['origin_officer']}"})
    assert officer.get(f"{API}/adoptions/{adoption}").status_code == 200
    # City A forwarded it but did not adopt it: the province's adoption is not city A's to edit.
    editor = Client(headers={"Authorization": f"Bearer {setup.tokens['editor']}"})
    place = editor.post(
        f"{API}/adoptions/{adoption}/place",
        json.dumps({"issue_id": setup.issue}),
        "application/json",
    )
    assert place.status_code == 404
    assert Adoption.objects.get(pk=adoption).issue_id is None
