"""The item state machine as a table: every state × every action, done by the right actor.

Allowed moves are listed by hand with their target; the refusals of the transition verbs are
derived from workflow.TRANSITIONS, so the table and the code cannot drift apart. Each case runs on a
copy of one item per state built once for the module (each test is rolled back to it).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import override_settings

from baosong.audit.models import Event as AuditEvent
from baosong.orgs.models import Level, Role, Unit, User
from baosong.submissions import workflow
from baosong.submissions.models import (
    Addressee,
    Assignee,
    Author,
    Event,
    EventAction,
    Status,
    Submission,
    Version,
    VersionSource,
)
from baosong.submissions.workflow import DraftInput, StageInput
from conftest import make_person, make_unit

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The states of the table: a name → (status, how many approvals after submit_for_review, …).
STATES = [
    "draft",
    "in_review_middle",  # stage 2 of 3
    "in_review_last",  # stage 3 of 3
    "returned",
    "rejected",
    "submitted",  # not yet opened by the upper unit
    "submitted_opened",
]
STATUS_OF = {
    "draft": Status.DRAFT,
    "in_review_middle": Status.IN_REVIEW,
    "in_review_last": Status.IN_REVIEW,
    "returned": Status.RETURNED,
    "rejected": Status.REJECTED,
    "submitted": Status.SUBMITTED,
    "submitted_opened": Status.SUBMITTED,
}

# Actions: the verbs of TRANSITIONS plus the three that change an item without a transition.
TRANSITION_ACTIONS = list(dict.fromkeys(str(action) for _, action in workflow.TRANSITIONS))
ACTIONS = ["save", "update", *TRANSITION_ACTIONS, "mark_opened"]


# The module's world --------------------------------------------------------------------------


@dataclass
class Setup:
    people: dict[str, int]
    items: dict[str, int]  # state → item pk (county A, default three stages)
    custom_unit: int  # county A2: 初审 by a named person, then 校对 (may edit) by its reviewers


def _draft(writer: User, unit: Unit, coauthor: User | None = None) -> Submission:
    data = DraftInput(
        item_type="info",
        kind="dynamic",
        title="安平县扎实推进基层党建工作",
        body="<p>安平县委组织部今年以来……</p>",
        own_share=60 if coauthor else 100,
        coauthors=[(coauthor, 40)] if coauthor else None,
    )
    return workflow.create_draft(by=writer, unit=unit, data=data)


def build() -> Setup:
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    county_a2 = make_unit(city_a, "CA2", Level.COUNTY, "青石县委组织部")
    people = {
        "author": make_person("author", county_a, Role.OFFICER),
        "coauthor": make_person("coauthor", county_a, Role.OFFICER),
        "reviewer": make_person("reviewer", county_a, Role.REVIEWER),
        "editor": make_person("editor", city_a, Role.EDITOR),
        "writer2": make_person("writer2", county_a2, Role.OFFICER),
        "named": make_person("named", county_a2, Role.REVIEWER),
        "proofreader": make_person("proofreader", county_a2, Role.REVIEWER),
    }
    author, reviewer = people["author"], people["reviewer"]
    items: dict[str, int] = {}
    for state in STATES:
        item = _draft(author, county_a, people["coauthor"])
        if state != "draft":
            workflow.submit_for_review(by=author, item=item)
        approvals = {"in_review_middle": 1, "in_review_last": 2, "submitted": 3}
        for _ in range(approvals.get(state, 3 if state == "submitted_opened" else 0)):
            workflow.approve(by=reviewer, item=item, comment="同意")
        if state == "returned":
            workflow.return_to_authors(by=reviewer, item=item, comment="请补充数据")
        if state == "rejected":
            workflow.reject(by=reviewer, item=item, reason="不符合报送要求")
        if state == "submitted_opened":
            assert workflow.mark_opened(by=people["editor"], item=item)
        item.refresh_from_db()
        assert item.status == STATUS_OF[state], state
        items[state] = item.pk
    workflow.set_stages(
        by=None,
        unit=county_a2,
        item_type="",
        stages=[
            StageInput(name="初审", people=[people["named"]]),
            StageInput(name="校对", can_edit=True),
        ],
    )
    return Setup(
        people={name: user.pk for name, user in people.items()},
        items=items,
        custom_unit=county_a2.pk,
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


def person(setup: Setup, name: str) -> User:
    # A fresh instance each time: access caches the user's roles on the object.
    return User.objects.get(pk=setup.people[name])


def item_in(setup: Setup, state: str) -> Submission:
    return Submission.objects.get(pk=setup.items[state])


def snapshot(pk: int) -> dict[str, Any]:
    """Everything an action could touch, to show that a refusal touched nothing."""
    return {
        "row": Submission.objects.filter(pk=pk).values().get(),
        "versions": list(
            Version.objects.filter(submission_id=pk).values_list("number", "source", "body")
        ),
        "events": list(Event.objects.filter(submission_id=pk).values_list("id", flat=True)),
        "authors": list(Author.objects.filter(submission_id=pk).values_list("user_id", "share")),
        "addressees": list(
            Addressee.objects.filter(submission_id=pk).values_list("unit_id", "opened_at")
        ),
        "assignees": list(Assignee.objects.filter(submission_id=pk).values_list("user_id")),
        "audit": AuditEvent.objects.filter(object_type="submission", object_id=str(pk)).count(),
    }


# Performing an action ------------------------------------------------------------------------

RIGHT_ACTOR = {
    "save": "author",
    "update": "author",
    "submit_for_review": "author",
    "approve": "reviewer",
    "return": "reviewer",
    "reject": "reviewer",
    "withdraw": "author",
    "return_upper": "editor",
    "mark_opened": "editor",
}


def details(setup: Setup) -> DraftInput:
    """New details for update_details: another kind, a date, keywords and shares 70/30."""
    return DraftInput(
        item_type="info",
        kind="experience",
        title="(ignored)",
        event_date=dt.date(2026, 3, 1),
        keywords="基层党建 人才",
        own_share=70,
        coauthors=[(person(setup, "coauthor"), 30)],
    )


def perform(setup: Setup, action: str, by: User, item: Submission) -> Any:
    calls: dict[str, Callable[[], Any]] = {
        "save": lambda: workflow.save_content(
            by=by,
            item=item,
            base_version=item.version_number,
            title=item.title,
            body="<p>补充了第三季度的数据。</p>",
        ),
        "update": lambda: workflow.update_details(by=by, item=item, data=details(setup)),
        "submit_for_review": lambda: workflow.submit_for_review(by=by, item=item),
        "approve": lambda: workflow.approve(by=by, item=item, comment="同意"),
        "return": lambda: workflow.return_to_authors(by=by, item=item, comment="请补充数据"),
        "reject": lambda: workflow.reject(by=by, item=item, reason="与本单位工作无关"),
        "withdraw": lambda: workflow.withdraw(by=by, item=item),
        "return_upper": lambda: workflow.return_from_upper(by=by, item=item, comment="请核实数据"),
        "mark_opened": lambda: workflow.mark_opened(by=by, item=item),
    }
    return calls[action]()


# The table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moves:
    """Allowed: the status and stage index after, and the timeline events written, in order."""

    status: str
    stage: int = 0
    events: tuple[str, ...] = ()


# Allowed, or done without effect (mark_opened on anything but an unopened submitted item).
UNCHANGED = "unchanged"

ALLOWED: dict[tuple[str, str], Moves] = {
    ("draft", "save"): Moves(Status.DRAFT),
    ("draft", "update"): Moves(Status.DRAFT),
    ("draft", "submit_for_review"): Moves(Status.IN_REVIEW, 0, ("submit_for_review",)),
    ("in_review_middle", "approve"): Moves(Status.IN_REVIEW, 2, ("approve",)),
    ("in_review_middle", "return"): Moves(Status.RETURNED, 1, ("return",)),
    ("in_review_middle", "reject"): Moves(Status.REJECTED, 1, ("reject",)),
    ("in_review_middle", "withdraw"): Moves(Status.DRAFT, 1, ("withdraw",)),
    ("in_review_last", "approve"): Moves(Status.SUBMITTED, 2, ("approve", "submit")),
    ("in_review_last", "return"): Moves(Status.RETURNED, 2, ("return",)),
    ("in_review_last", "reject"): Moves(Status.REJECTED, 2, ("reject",)),
    ("in_review_last", "withdraw"): Moves(Status.DRAFT, 2, ("withdraw",)),
    ("returned", "save"): Moves(Status.RETURNED),
    ("returned", "update"): Moves(Status.RETURNED),
    ("returned", "submit_for_review"): Moves(Status.IN_REVIEW, 0, ("submit_for_review",)),
    ("submitted", "withdraw"): Moves(Status.DRAFT, 2, ("withdraw",)),
    ("submitted", "return_upper"): Moves(Status.RETURNED, 2, ("return_upper",)),
    ("submitted", "mark_opened"): Moves(Status.SUBMITTED, 2, ("open",)),
    ("submitted_opened", "return_upper"): Moves(Status.RETURNED, 2, ("return_upper",)),
}

# Refusals that TRANSITIONS does not express: editing outside the editable states, withdrawing
# after the upper unit opened the item, and opening what is not waiting to be opened.
REFUSED_BESIDES_TRANSITIONS: dict[tuple[str, str], Any] = {
    **{
        (state, action): PermissionDenied
        for state in STATES
        if STATUS_OF[state] not in (Status.DRAFT, Status.RETURNED)
        for action in ("save", "update")
    },
    ("submitted_opened", "withdraw"): ValidationError,
    **{(state, "mark_opened"): UNCHANGED for state in STATES if state != "submitted"},
}

# Every transition verb outside TRANSITIONS is refused as invalid in that state.
REFUSED_BY_TRANSITIONS: dict[tuple[str, str], Any] = {
    (state, action): ValidationError
    for state in STATES
    for action in TRANSITION_ACTIONS
    if (STATUS_OF[state], action) not in workflow.TRANSITIONS
}

TABLE: dict[tuple[str, str], Any] = {
    **REFUSED_BY_TRANSITIONS,
    **REFUSED_BESIDES_TRANSITIONS,
    **ALLOWED,
}


def test_the_table_has_exactly_one_entry_for_every_state_and_action() -> None:
    parts = [ALLOWED, REFUSED_BESIDES_TRANSITIONS, REFUSED_BY_TRANSITIONS]
    assert sum(len(part) for part in parts) == len(TABLE), "a case is listed twice"
    assert set(TABLE) == {(state, action) for state in STATES for action in ACTIONS}


def test_the_allowed_transitions_are_exactly_those_of_the_workflow_table() -> None:
    allowed = {
        (STATUS_OF[state], action) for (state, action) in ALLOWED if action in TRANSITION_ACTIONS
    }
    assert allowed == set(workflow.TRANSITIONS)
    guarded = {
        (state, action)
        for (state, action), expected in REFUSED_BESIDES_TRANSITIONS.items()
        if action in TRANSITION_ACTIONS
    }
    # The one transition TRANSITIONS allows but a rule refuses: withdrawing an opened item.
    assert guarded == {("submitted_opened", "withdraw")}


@pytest.mark.parametrize(("state", "action"), sorted(ALLOWED))
def test_allowed_moves_match_the_workflow_targets(state: str, action: str) -> None:
    expected = ALLOWED[(state, action)]
    if action in TRANSITION_ACTIONS:
        target = workflow.TRANSITIONS[(STATUS_OF[state], action)]
        # approve stays in review except after the last stage, where the item is submitted.
        last_stage = state == "in_review_last" and action == EventAction.APPROVE
        assert expected.status == (Status.SUBMITTED if last_stage else target)


@pytest.mark.parametrize(("state", "action"), sorted(TABLE))
def test_each_state_and_action_has_the_outcome_in_the_table(
    setup: Setup, state: str, action: str
) -> None:
    expected = TABLE[(state, action)]
    actor = person(setup, RIGHT_ACTOR[action])
    item = item_in(setup, state)
    before = snapshot(item.pk)
    last_event = max(before["events"])
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected) as caught:
            perform(setup, action, actor, item)
        # The refusal explains itself in Chinese.
        assert any("\u4e00" <= ch <= "\u9fff" for ch in " ".join(_messages(caught.value)))
        assert snapshot(item.pk) == before
        return
    result = perform(setup, action, actor, item)
    if expected == UNCHANGED:
        assert result is False
        assert snapshot(item.pk) == before
        return
    item.refresh_from_db()
    assert (item.status, item.stage_index) == (expected.status, expected.stage)
    new_events = list(Event.objects.filter(submission=item, id__gt=last_event))
    assert [e.action for e in new_events] == list(expected.events)
    for event in new_events:
        assert event.by == actor
        assert AuditEvent.objects.filter(
            action=f"item.{event.action}", object_id=str(item.pk), actor=actor
        ).exists()
    if new_events:
        assert new_events[-1].to_status == item.status
    _assert_side_effects(setup, state, action, item, before)


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return list(exc.messages)
    return [str(exc)]


def _assert_side_effects(
    setup: Setup, state: str, action: str, item: Submission, before: dict[str, Any]
) -> None:
    author = person(setup, "author")
    if action == "save":
        version = Version.objects.get(submission=item, number=item.version_number)
        assert (version.source, version.created_by) == (VersionSource.SAVE, author)
        assert item.version_number == before["row"]["version_number"] + 1
        assert item.body == "<p>补充了第三季度的数据。</p>"
    elif action == "update":
        assert (item.kind, item.keywords) == ("experience", "基层党建 人才")
        shares = list(item.authors.values_list("user__username", "share"))
        assert shares == [("author", 70), ("coauthor", 30)]
        assert AuditEvent.objects.filter(action="item.update", object_id=str(item.pk)).exists()
    elif action == "submit_for_review":
        assert [s["name"] for s in item.stage_plan] == ["初审", "复审", "终审"]
    elif action == "approve" and item.status == Status.SUBMITTED:
        assert item.submitted_at is not None
    elif action == "withdraw":
        assert item.submitted_at is None
        assert not Assignee.objects.filter(submission=item).exists()
    elif action == "mark_opened":
        opened = Addressee.objects.get(submission=item)
        assert opened.opened_by == person(setup, "editor") and opened.opened_at is not None
    if action not in ("save", "update"):
        assert item.version_number == before["row"]["version_number"]


# Wrong actors: the allowed moves refused to someone else -------------------------------------

WRONG_ACTORS: list[tuple[str, str, str, Any]] = [
    ("draft", "save", "reviewer", PermissionDenied),
    ("draft", "save", "editor", PermissionDenied),
    ("draft", "update", "reviewer", PermissionDenied),
    ("draft", "submit_for_review", "reviewer", PermissionDenied),
    ("returned", "submit_for_review", "editor", PermissionDenied),
    ("in_review_middle", "approve", "author", PermissionDenied),
    ("in_review_middle", "approve", "coauthor", PermissionDenied),
    ("in_review_middle", "approve", "editor", PermissionDenied),
    ("in_review_middle", "return", "author", PermissionDenied),
    ("in_review_last", "reject", "author", PermissionDenied),
    ("in_review_last", "approve", "named", PermissionDenied),  # a reviewer of another unit
    ("in_review_middle", "withdraw", "reviewer", PermissionDenied),
    ("submitted", "withdraw", "editor", PermissionDenied),
    ("submitted", "mark_opened", "author", UNCHANGED),
    ("submitted", "mark_opened", "reviewer", UNCHANGED),
]


@pytest.mark.parametrize(("state", "action", "actor", "expected"), WRONG_ACTORS)
def test_an_allowed_move_is_refused_to_the_wrong_actor(
    setup: Setup, state: str, action: str, actor: str, expected: Any
) -> None:
    assert (state, action) in ALLOWED
    item = item_in(setup, state)
    before = snapshot(item.pk)
    if expected == UNCHANGED:
        assert perform(setup, action, person(setup, actor), item) is False
    else:
        with pytest.raises(expected):
            perform(setup, action, person(setup, actor), item)
    assert snapshot(item.pk) == before


@pytest.mark.parametrize(
    ("state", "action"),
    [("draft", "save"), ("draft", "submit_for_review"), ("submitted", "withdraw")],
)
def test_a_coauthor_acts_as_an_author(setup: Setup, state: str, action: str) -> None:
    item = item_in(setup, state)
    perform(setup, action, person(setup, "coauthor"), item)
    item.refresh_from_db()
    assert item.status == ALLOWED[(state, action)].status
    if action == "save":
        assert Version.objects.get(submission=item, number=item.version_number).created_by == (
            person(setup, "coauthor")
        )


def test_withdrawing_a_submitted_item_then_opening_it_opens_nothing(setup: Setup) -> None:
    item = item_in(setup, "submitted")
    workflow.withdraw(by=person(setup, "author"), item=item)
    before = snapshot(item.pk)
    assert workflow.mark_opened(by=person(setup, "editor"), item=item_in(setup, "submitted")) is (
        False
    )
    assert snapshot(item.pk) == before


# Custom stage plans --------------------------------------------------------------------------


def _in_custom_review(setup: Setup) -> Submission:
    unit = Unit.objects.get(pk=setup.custom_unit)
    item = _draft(person(setup, "writer2"), unit)
    workflow.submit_for_review(by=person(setup, "writer2"), item=item)
    item.refresh_from_db()
    return item


def test_a_custom_plan_is_copied_onto_the_item_when_review_starts(setup: Setup) -> None:
    item = _in_custom_review(setup)
    assert item.stage_plan == [
        {
            "name": "初审",
            "role": Role.REVIEWER,
            "people": [setup.people["named"]],
            "can_edit": False,
        },
        {"name": "校对", "role": Role.REVIEWER, "people": [], "can_edit": True},
    ]
    assert (item.stage_index, item.stage_named) == (0, True)
    assert list(Assignee.objects.filter(submission=item).values_list("user_id", flat=True)) == [
        setup.people["named"]
    ]


def test_on_a_named_stage_only_the_named_person_acts_not_another_reviewer_of_the_unit(
    setup: Setup,
) -> None:
    item = _in_custom_review(setup)
    before = snapshot(item.pk)
    for verb in ("approve", "return", "reject"):
        with pytest.raises(PermissionDenied):
            perform(setup, verb, person(setup, "proofreader"), item)
    assert snapshot(item.pk) == before
    workflow.approve(by=person(setup, "named"), item=item)
    item.refresh_from_db()
    assert (item.status, item.stage_index, item.stage_named) == (Status.IN_REVIEW, 1, False)
    event = Event.objects.filter(submission=item).last()
    assert event is not None
    assert (event.action, event.by, event.stage_name) == ("approve", person(setup, "named"), "初审")
    assert event.role == "stage:初审"


def test_a_reviewer_on_a_stage_that_may_not_edit_cannot_save(setup: Setup) -> None:
    item = _in_custom_review(setup)
    before = snapshot(item.pk)
    with pytest.raises(PermissionDenied):
        perform(setup, "save", person(setup, "named"), item)
    assert snapshot(item.pk) == before


def test_the_proofreaders_save_is_a_review_edit_version_attributed_to_them(setup: Setup) -> None:
    item = _in_custom_review(setup)
    workflow.approve(by=person(setup, "named"), item=item)
    item.refresh_from_db()
    proofreader = person(setup, "proofreader")
    result = workflow.save_content(
        by=proofreader,
        item=item,
        base_version=item.version_number,
        title=item.title,
        body="<p>安平县委组织部今年以来，……（校对后）</p>",
    )
    assert not result.conflict and result.version is not None
    assert (result.version.source, result.version.created_by) == (
        VersionSource.REVIEW_EDIT,
        proofreader,
    )
    item.refresh_from_db()
    assert (item.status, item.stage_index, item.version_number) == (Status.IN_REVIEW, 1, 2)
    event = Event.objects.filter(submission=item).last()
    assert event is not None
    assert (event.action, event.by, event.stage_name, event.version_number) == (
        "review_edit",
        proofreader,
        "校对",
        2,
    )
    # The proofreader edits the text, never the details; the authors edit nothing meanwhile.
    with pytest.raises(PermissionDenied):
        perform(setup, "update", proofreader, item)
    with pytest.raises(PermissionDenied):
        perform(setup, "save", person(setup, "writer2"), item)
    workflow.approve(by=proofreader, item=item)
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED
