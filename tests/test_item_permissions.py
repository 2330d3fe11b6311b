"""Who may do what with an item, as a table, through HTTP: actor × action × state → response.

ok  allowed: 200 for a page, 302 for a form post (200 for autosave), and the database changed
msg visible, but the state forbids it: 302 back with a Chinese error message, nothing changed
403 visible but not allowed, nothing changed
404 not visible (outside what the actor may see), nothing changed

County A reviews in two stages, each naming one person: 初审 by reviewer A, then 校对 (may edit the
text) by reviewer B. "stage" is whoever acts on the current stage (A, or B while 校对), "other
stage" the other one. A returned item is left out: authors and reviewers have exactly the rights
they have on a draft (test_state_machine covers its transitions). Built once for the module; each
case runs in a savepoint and is rolled back.
"""

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import constants, get_messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import Http404
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from baosong.orgs import workflow as org_workflow
from baosong.orgs.models import Level, PlatformRole, Role, User
from baosong.submissions import access, selectors, workflow
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

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ACTIONS = [
    "view",
    "edit",
    "save",
    "autosave",
    "submit",
    "approve",
    "return",
    "reject",
    "withdraw",
    "upload",
    "download",
    "versions",
]

# Rows: actor; columns: ACTIONS in order. The hidden actors see nothing in any state.
#                      view edit save auto subm appr ret  rej  wdr  upl  dl   vers
HIDDEN = "404 404 404 404 404 404 404 404 404 404 404 404"
MATRIX: dict[str, str] = {
    "draft": f"""
        author          ok  ok  ok  ok  ok  msg msg msg msg ok  ok  ok
        coauthor        ok  ok  ok  ok  ok  msg msg msg msg ok  ok  ok
        other_officer   {HIDDEN}
        stage           ok  403 403 403 403 msg msg msg 403 403 ok  ok
        other_stage     ok  403 403 403 403 msg msg msg 403 403 ok  ok
        unit_reviewer   ok  403 403 403 403 msg msg msg 403 403 ok  ok
        other_reviewer  {HIDDEN}
        editor          {HIDDEN}
        other_editor    {HIDDEN}
        audit_admin     {HIDDEN}
    """,
    "in_review": f"""
        author          ok  403 403 403 msg 403 403 403 ok  403 ok  ok
        coauthor        ok  403 403 403 msg 403 403 403 ok  403 ok  ok
        other_officer   {HIDDEN}
        stage           ok  403 403 403 403 ok  ok  ok  403 403 ok  ok
        other_stage     ok  403 403 403 403 403 403 403 403 403 ok  ok
        unit_reviewer   ok  403 403 403 403 403 403 403 403 403 ok  ok
        other_reviewer  {HIDDEN}
        editor          {HIDDEN}
        other_editor    {HIDDEN}
        audit_admin     {HIDDEN}
    """,
    "in_review_editing": f"""
        author          ok  403 403 403 msg 403 403 403 ok  403 ok  ok
        coauthor        ok  403 403 403 msg 403 403 403 ok  403 ok  ok
        other_officer   {HIDDEN}
        stage           ok  ok  ok  ok  403 ok  ok  ok  403 ok  ok  ok
        other_stage     ok  403 403 403 403 403 403 403 403 403 ok  ok
        unit_reviewer   ok  403 403 403 403 403 403 403 403 403 ok  ok
        other_reviewer  {HIDDEN}
        editor          {HIDDEN}
        other_editor    {HIDDEN}
        audit_admin     {HIDDEN}
    """,
    "submitted": f"""
        author          ok  403 403 403 msg msg msg msg ok  403 ok  ok
        coauthor        ok  403 403 403 msg msg msg msg ok  403 ok  ok
        other_officer   {HIDDEN}
        stage           ok  403 403 403 403 msg msg msg 403 403 ok  ok
        other_stage     ok  403 403 403 403 msg msg msg 403 403 ok  ok
        unit_reviewer   ok  403 403 403 403 msg msg msg 403 403 ok  ok
        other_reviewer  {HIDDEN}
        editor          ok  403 403 403 403 msg msg msg 403 403 ok  ok
        other_editor    {HIDDEN}
        audit_admin     {HIDDEN}
    """,
}


def parse(table: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines():
        actor, *cells = line.split()
        assert len(cells) == len(ACTIONS), actor
        rows[actor] = dict(zip(ACTIONS, cells, strict=True))
    return rows


EXPECTED = {state: parse(table) for state, table in MATRIX.items()}
ACTORS = list(EXPECTED["draft"])
CASES = [(state, actor, action) for state in MATRIX for actor in ACTORS for action in ACTIONS]


def test_every_state_lists_the_same_actors() -> None:
    for rows in EXPECTED.values():
        assert list(rows) == ACTORS


# The module's world --------------------------------------------------------------------------


@dataclass
class Setup:
    people: dict[str, int]
    sessions: dict[str, str]  # actor → session key of a sign-in through the login form
    items: dict[str, int]  # state → item pk
    attachments: dict[str, int]  # state → the item's attachment pk
    city_a: int


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def build() -> Setup:
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    county_a2 = make_unit(city_a, "CA2", Level.COUNTY, "青石县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    people = {
        "author": make_person("author", county_a, Role.OFFICER),
        "coauthor": make_person("coauthor", county_a, Role.OFFICER),
        "other_officer": make_person("other_officer", county_a, Role.OFFICER),
        "first_reviewer": make_person("first_reviewer", county_a, Role.REVIEWER),
        "second_reviewer": make_person("second_reviewer", county_a, Role.REVIEWER),
        "unit_reviewer": make_person("unit_reviewer", county_a, Role.REVIEWER),
        "other_reviewer": make_person("other_reviewer", county_a2, Role.REVIEWER),
        "editor": make_person("editor", city_a, Role.EDITOR),
        "other_editor": make_person("other_editor", city_b, Role.EDITOR),
        "audit_admin": make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
    }
    workflow.set_stages(
        by=None,
        unit=county_a,
        item_type="",
        stages=[
            StageInput(name="初审", people=[people["first_reviewer"]]),
            StageInput(name="校对", people=[people["second_reviewer"]], can_edit=True),
        ],
    )
    author, first = people["author"], people["first_reviewer"]
    items: dict[str, int] = {}
    attachments: dict[str, int] = {}
    for state in MATRIX:
        data = DraftInput(
            item_type="info",
            kind="dynamic",
            title=f"安平县基层党建工作（{state}）",
            body="<p>安平县委组织部今年以来……</p>",
            own_share=60,
            coauthors=[(people["coauthor"], 40)],
        )
        item = workflow.create_draft(by=author, unit=county_a, data=data)
        upload = SimpleUploadedFile("现场照片.png", png())
        attachments[state] = workflow.add_attachment(by=author, item=item, upload=upload).pk
        if state != "draft":
            workflow.submit_for_review(by=author, item=item)
        if state in ("in_review_editing", "submitted"):
            workflow.approve(by=first, item=item)
        if state == "submitted":
            workflow.approve(by=people["second_reviewer"], item=item)
        items[state] = item.pk
    sessions = {
        name: client_for(user).cookies[settings.SESSION_COOKIE_NAME].value
        for name, user in people.items()
    }
    return Setup(
        people={name: user.pk for name, user in people.items()},
        sessions=sessions,
        items=items,
        attachments=attachments,
        city_a=city_a.pk,
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


def test_the_setup_puts_each_item_in_its_state(setup: Setup) -> None:
    states = {
        state: Submission.objects.values_list("status", "stage_index").get(pk=pk)
        for state, pk in setup.items.items()
    }
    assert states == {
        "draft": (Status.DRAFT, 0),
        "in_review": (Status.IN_REVIEW, 0),
        "in_review_editing": (Status.IN_REVIEW, 1),
        "submitted": (Status.SUBMITTED, 1),
    }


# Requests ------------------------------------------------------------------------------------


def account(state: str, actor: str) -> str:
    """The person behind an actor: the stage roles swap while B's 校对 stage is current."""
    editing = state == "in_review_editing"
    if actor == "stage":
        return "second_reviewer" if editing else "first_reviewer"
    if actor == "other_stage":
        return "first_reviewer" if editing else "second_reviewer"
    return actor


def signed_in(setup: Setup, name: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = setup.sessions[name]
    return client


def edit_form(setup: Setup, item: Submission) -> dict[str, Any]:
    return {
        "item_type": "info",
        "kind": "dynamic",
        "title": item.title,
        "body": "<p>安平县委组织部今年以来，新建党群服务中心 12 个。</p>",
        "event_date": "",
        "keywords": "",
        "addressed": [setup.city_a],
        "own_share": 60,
        "coauthor_1": setup.people["coauthor"],
        "share_1": 40,
        "base_version": item.version_number,
    }


def send(setup: Setup, client: Client, action: str, item: Submission, state: str) -> Any:
    base = f"/items/{item.pk}/"
    if action == "view":
        return client.get(base)
    if action == "edit":
        return client.get(f"{base}edit/")
    if action == "save":
        return client.post(f"{base}edit/", edit_form(setup, item))
    if action == "autosave":
        body = {"base_version": item.version_number, "title": item.title, "body": "<p>自动</p>"}
        return client.post(f"{base}autosave/", body)
    if action == "submit":
        return client.post(f"{base}submit/")
    if action in ("approve", "return", "reject"):
        return client.post(f"{base}{action}/", {"comment": "意见：请核实第二段的数据。"})
    if action == "withdraw":
        return client.post(f"{base}withdraw/")
    if action == "upload":
        return client.post(f"{base}attachments/", {"file": SimpleUploadedFile("新图.png", png())})
    if action == "download":
        return client.get(f"{base}attachments/{setup.attachments[state]}/")
    assert action == "versions"
    return client.get(f"{base}versions/")


def _per_item(model: Any, value: Any) -> Subquery:
    rows = model.objects.filter(submission=OuterRef("pk")).order_by().values("submission")
    return Subquery(rows.annotate(value=value).values("value"))


def snapshot(pk: int) -> dict[str, Any]:
    """The item row and a fingerprint of its related rows, in one query (the matrix is large):
    any new version, event, attachment or opening, or re-written authors, shows."""
    return dict(
        Submission.objects.filter(pk=pk)
        .annotate(
            n_versions=_per_item(Version, Count("id")),
            last_event=_per_item(Event, Max("id")),
            last_author=_per_item(Author, Max("id")),
            n_opened=_per_item(Addressee, Count("opened_at")),
            n_attachments=_per_item(Attachment, Count("id")),
            n_removed=_per_item(Attachment, Count("removed_at")),
        )
        .values()
        .get()
    )


# What an allowed post changes, given the row before and after.
def changed_as_expected(action: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    if action in ("save", "autosave"):
        return bool(new["version_number"] == old["version_number"] + 1)
    if action == "submit":
        return bool(new["status"] == Status.IN_REVIEW and new["stage_index"] == 0)
    if action == "approve":
        return bool(
            new["status"] == Status.SUBMITTED or new["stage_index"] == old["stage_index"] + 1
        )
    if action == "upload":
        return bool(new["n_attachments"] == old["n_attachments"] + 1)
    targets = {"return": Status.RETURNED, "reject": Status.REJECTED, "withdraw": Status.DRAFT}
    return bool(new["status"] == targets[action])


@pytest.mark.parametrize(("state", "actor", "action"), CASES)
def test_each_actor_gets_the_response_in_the_matrix(
    setup: Setup, state: str, actor: str, action: str
) -> None:
    expected = EXPECTED[state][actor][action]
    item = Submission.objects.get(pk=setup.items[state])
    before = snapshot(item.pk)
    response = send(setup, signed_in(setup, account(state, actor)), action, item, state)
    after = snapshot(item.pk)
    reading = action in ("view", "edit", "download", "versions")
    if expected == "ok":
        wanted = 200 if reading or action == "autosave" else 302
        assert response.status_code == wanted, _body(response)
        if not reading:
            assert changed_as_expected(action, before, after), (before, after)
        return
    if expected == "msg":
        assert response.status_code == 302
        errors = [
            m.message for m in get_messages(response.wsgi_request) if m.level >= constants.ERROR
        ]
        assert errors and "不能" in " ".join(errors), errors
    else:
        assert response.status_code == int(expected), _body(response)
    assert after == before


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return "(file)"
    return str(response.content.decode(errors="replace")[:300])


# A few consequences the table does not show ---------------------------------------------------


def test_the_editor_opening_a_submitted_item_ends_the_authors_right_to_withdraw(
    setup: Setup,
) -> None:
    item = Submission.objects.get(pk=setup.items["submitted"])
    assert signed_in(setup, "editor").get(f"/items/{item.pk}/").status_code == 200
    opened = Addressee.objects.get(submission=item)
    assert opened.opened_by_id == setup.people["editor"] and opened.opened_at is not None
    assert Event.objects.filter(submission=item, action="open").count() == 1
    before = snapshot(item.pk)
    response = signed_in(setup, "author").post(f"/items/{item.pk}/withdraw/")
    assert response.status_code == 302
    assert snapshot(item.pk) == before


def test_an_author_viewing_a_submitted_item_does_not_open_it(setup: Setup) -> None:
    item = Submission.objects.get(pk=setup.items["submitted"])
    for name in ("author", "coauthor", "first_reviewer"):
        assert signed_in(setup, name).get(f"/items/{item.pk}/").status_code == 200
    assert Addressee.objects.get(submission=item).opened_at is None


def test_a_reviewers_edit_on_the_editing_stage_is_a_version_in_their_name(setup: Setup) -> None:
    item = Submission.objects.get(pk=setup.items["in_review_editing"])
    client = signed_in(setup, "second_reviewer")
    response = client.post(f"/items/{item.pk}/edit/", edit_form(setup, item))
    assert response.status_code == 302
    version = Version.objects.filter(submission=item).first()
    assert version is not None
    assert (version.source, version.created_by_id) == (
        "review_edit",
        setup.people["second_reviewer"],
    )
    assert Event.objects.filter(submission=item, action="review_edit").count() == 1
    # The reviewer changes the text only: authors and shares stay as they were.
    shares = list(item.authors.values_list("user__username", "share"))
    assert shares == [("author", 60), ("coauthor", 40)]


def test_a_named_reviewer_who_left_the_unit_neither_sees_nor_decides_its_items(
    setup: Setup,
) -> None:
    first = User.objects.get(pk=setup.people["first_reviewer"])
    org_workflow.end_membership(by=None, membership=first.memberships.get())
    item = Submission.objects.get(pk=setup.items["in_review"])
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        for pk in setup.items.values():
            with pytest.raises(Http404):
                access.get_submission_for(User.objects.get(pk=first.pk), pk)
        assert access.acts_on_current_stage(User.objects.get(pk=first.pk), item) is None
        with pytest.raises(PermissionDenied):
            workflow.approve(by=User.objects.get(pk=first.pk), item=item)
    assert Submission.objects.get(pk=item.pk).stage_index == 0


def test_a_named_reviewer_who_left_the_unit_has_nothing_waiting_in_the_review_queue(
    setup: Setup,
) -> None:
    first = User.objects.get(pk=setup.people["first_reviewer"])
    assert list(selectors.review_queue(first).values_list("pk", flat=True)) == [
        setup.items["in_review"]
    ]
    org_workflow.end_membership(by=None, membership=first.memberships.get())
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        gone = User.objects.get(pk=first.pk)
        assert not selectors.review_queue(gone).exists()
        assert selectors.nav_counts(gone)["review"] == 0
