"""The everyday path of an item through the workflow functions."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from baosong.submissions import workflow
from baosong.submissions.models import Event, Notification, Status, Version
from baosong.submissions.workflow import DraftInput
from conftest import client_for


def draft(world: Any, **overrides: Any) -> Any:
    data = DraftInput(
        item_type="info",
        kind="dynamic",
        title="安平县扎实推进基层党建工作",
        body="<p>安平县委组织部今年以来……</p>",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return workflow.create_draft(by=world.officer_county_a, unit=world.county_a, data=data)


def test_an_item_goes_through_three_default_stages_and_is_submitted_to_the_parent(
    world: Any,
) -> None:
    item = draft(world)
    assert item.status == Status.DRAFT and item.version_number == 1
    assert [a.unit for a in item.addressees.all()] == [world.city_a]
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    item.refresh_from_db()
    assert item.status == Status.IN_REVIEW and item.stage_index == 0
    assert [s["name"] for s in item.stage_plan] == ["初审", "复审", "终审"]
    for _ in range(3):
        workflow.approve(by=world.reviewer_county_a, item=item, comment="同意")
        item.refresh_from_db()
    assert item.status == Status.SUBMITTED and item.submitted_at is not None
    actions = list(Event.objects.filter(submission=item).values_list("action", flat=True))
    assert actions == ["create", "submit_for_review", "approve", "approve", "approve", "submit"]
    assert Notification.objects.filter(user=world.officer_county_a, kind="submitted").exists()


def test_saving_on_a_stale_version_keeps_both_texts_and_reports_a_conflict(world: Any) -> None:
    item = draft(world)
    first = workflow.save_content(
        by=world.officer_county_a, item=item, base_version=1, title=item.title, body="<p>甲</p>"
    )
    assert not first.conflict and first.item.version_number == 2
    second = workflow.save_content(
        by=world.officer_county_a, item=item, base_version=1, title=item.title, body="<p>乙</p>"
    )
    assert second.conflict
    item.refresh_from_db()
    assert item.body == "<p>甲</p>" and item.version_number == 2
    assert Version.objects.get(submission=item, source="conflict").body == "<p>乙</p>"


def test_withdrawing_after_the_editor_opened_it_is_refused(world: Any) -> None:
    item = draft(world)
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    for _ in range(3):
        workflow.approve(by=world.reviewer_county_a, item=item)
    workflow.mark_opened(by=world.editor_city, item=item)
    with pytest.raises(ValidationError):
        workflow.withdraw(by=world.officer_county_a, item=item)


def test_a_reviewer_of_another_unit_cannot_approve(world: Any) -> None:
    item = draft(world)
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    with pytest.raises(PermissionDenied):
        workflow.approve(by=world.outsider, item=item)


# Issue 3: each transition through its view reads and writes in a fixed, small number of queries
# (counted inside the test's transaction: SAVEPOINT and RELEASE stand for BEGIN and COMMIT). The
# item is read once, locked, with the access facts about the actor; the session's user comes with
# its memberships; the notes of one change are written in one statement straight from the
# queries of their recipients, which returns their email preferences. Submitting upward is left
# out: the scoring ledger adds its own.
# Before this budget: submit 16, approve, withdraw, return and reject 13 each.
TRANSITION_BUDGETS = [
    ("officer", "submit", {}, 9),
    ("reviewer", "approve", {"comment": "同意"}, 9),
    ("reviewer", "approve", {"comment": "同意"}, 9),
    ("officer", "withdraw", {}, 8),
    ("officer", "submit", {}, 9),
    ("reviewer", "return", {"comment": "请补充数据"}, 9),
    ("officer", "submit", {}, 9),
    ("reviewer", "reject", {"comment": "不予采用"}, 9),
]


def test_each_transition_through_its_view_stays_within_its_query_budget(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    item = draft(world)
    clients = {
        "officer": client_for(world.officer_county_a),
        "reviewer": client_for(world.reviewer_county_a),
    }
    for actor, verb, data, budget in TRANSITION_BUDGETS:
        with django_assert_max_num_queries(budget):
            response = clients[actor].post(f"/items/{item.pk}/{verb}/", data)
        assert response.status_code == 302, (verb, response.status_code)
    item.refresh_from_db()
    assert item.status == Status.REJECTED
    actions = list(Event.objects.filter(submission=item).values_list("action", flat=True))
    assert actions == [
        "create",
        "submit_for_review",
        "approve",
        "approve",
        "withdraw",
        "submit_for_review",
        "return",
        "submit_for_review",
        "reject",
    ]
