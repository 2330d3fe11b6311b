"""Scenarios of upper-level handling, each with its expected outcome written out."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from baosong.orgs.models import Role, Unit, User
from baosong.publications import workflow
from baosong.publications.models import (
    Action,
    AdoptionForm,
    AdoptionSource,
    Event,
    LeaderLevel,
    PublicationKind,
)
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.submissions import workflow as items
from baosong.submissions.models import Addressee, Handling, Status, Submission
from baosong.submissions.workflow import DraftInput
from conftest import make_person


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


@pytest.fixture
def cast(world: Any) -> dict[str, Any]:
    return {
        "reviewer_a2": make_person("reviewer_a2", world.county_a2, Role.REVIEWER),
        "officer_a2": make_person("officer_a2", world.county_a2, Role.OFFICER),
        "reviewer_b": make_person("reviewer_b", world.county_b, Role.REVIEWER),
        "editor_province": make_person("editor_province", world.province, Role.EDITOR),
        "editor_city_b": make_person("editor_city_b", world.city_b, Role.EDITOR),
    }


def test_county_item_adopted_whole_by_the_city(world: Any) -> None:
    item = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县推进乡村振兴"
    )
    journal = workflow.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    issue = workflow.create_issue(
        by=world.editor_city, publication=journal, issue_date=dt.date(2026, 11, 20)
    )
    assert (issue.year, issue.number, issue.total_number) == (2026, 1, 1)

    adoption = workflow.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
        is_lead=True,
        issue=issue,
    )

    # Expected: the city (level city) adopted the whole text in a journal issue, as lead item,
    # credited 100% to the county; the receipt is marked adopted; the authors are told.
    assert adoption.body == item.body
    assert Addressee.objects.get(submission=item, unit=world.city_a).state == Handling.ADOPTED
    event = Event.objects.get(action=Action.ADOPT, submission=item)
    assert event.facts["adopting_unit"] == "CA" and event.facts["adopting_level"] == "city"
    assert event.facts["publication_kind"] == "journal" and event.facts["form"] == "whole"
    assert event.facts["is_lead"] is True
    assert event.facts["sources"] == [
        {
            "item": item.pk,
            "origin_unit": "CA1",
            "share": 100,
            "lead_source": True,
            "forwarded_by": None,
        }
    ]
    workflow.publish_issue(by=world.editor_city, issue=issue)
    issue.refresh_from_db()
    assert issue.status == "published" and issue.revisions.count() == 1


def test_city_forwards_and_the_province_adopts_an_excerpt_with_a_provincial_instruction(
    world: Any, cast: dict[str, Any]
) -> None:
    item = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县人才回引经验"
    )
    workflow.forward(by=world.editor_city, item=item, comment="建议省里采用")
    # Expected: the city's receipt is forwarded; the province now has a pending receipt from the city.
    assert Addressee.objects.get(submission=item, unit=world.city_a).state == Handling.FORWARDED
    province_receipt = Addressee.objects.get(submission=item, unit=world.province)
    assert (
        province_receipt.state == Handling.PENDING
        and province_receipt.forwarded_from == world.city_a
    )

    special = workflow.create_publication(
        by=cast["editor_province"],
        unit=world.province,
        name="组工专报",
        kind=PublicationKind.SPECIAL,
    )
    issue = workflow.create_issue(
        by=cast["editor_province"], publication=special, issue_date=dt.date(2026, 11, 21)
    )
    adoption = workflow.adopt(
        by=cast["editor_province"],
        sources=[SourceInput(item)],
        publication=special,
        issue=issue,
        form=AdoptionForm.EXCERPT,
        title="人才回引的安平做法",
        body="<p>摘编：安平县……</p>",
    )
    instruction = workflow.add_instruction(
        by=cast["editor_province"],
        adoption=adoption,
        data=InstructionInput(
            leader_name="王建华",
            leader_position="省委常委、组织部部长",
            level=LeaderLevel.PROVINCE,
            text="经验很好，请各地学习借鉴。",
            instructed_on=dt.date(2026, 11, 22),
            is_principal=True,
        ),
    )

    # Expected: the adoption is credited to the county (origin) and records the city as forwarder;
    # the excerpt keeps its own text and the item's text is untouched; the instruction is province level.
    source = AdoptionSource.objects.get(adoption=adoption)
    assert source.origin_unit == world.county_a and source.forwarded_by == world.city_a
    item.refresh_from_db()
    assert adoption.body == "<p>摘编：安平县……</p>" and item.body == "<p>安平县人才回引经验正文</p>"
    adopt_event = Event.objects.get(action=Action.ADOPT, submission=item)
    assert (
        adopt_event.facts["adopting_level"] == "province" and adopt_event.facts["form"] == "excerpt"
    )
    assert adopt_event.facts["sources"][0]["forwarded_by"] == "CA"
    instruct_event = Event.objects.get(action=Action.INSTRUCT, instruction=instruction)
    assert (
        instruct_event.facts["instruction_level"] == "province"
        and instruct_event.facts["principal"] is True
    )
    forward_event = Event.objects.get(action=Action.FORWARD, submission=item)
    assert forward_event.facts == {"forwarder": "CA", "forwarder_level": "city", "to": ["P"]}


def test_a_combined_piece_from_three_counties_credits_every_unit(
    world: Any, cast: dict[str, Any]
) -> None:
    a = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县基层党建")
    b = submitted(world.county_a2, cast["officer_a2"], cast["reviewer_a2"], "青石县基层党建")
    c = submitted(world.county_b, world.outsider, cast["reviewer_b"], "云溪县基层党建")
    # The two cities forward to the province, which combines the three.
    workflow.forward(by=world.editor_city, item=a)
    workflow.forward(by=world.editor_city, item=b)
    workflow.forward(by=cast["editor_city_b"], item=c)
    journal = workflow.create_publication(
        by=cast["editor_province"],
        unit=world.province,
        name="江川组工",
        kind=PublicationKind.JOURNAL,
    )
    issue = workflow.create_issue(
        by=cast["editor_province"], publication=journal, issue_date=dt.date(2026, 11, 23)
    )
    adoption = workflow.adopt(
        by=cast["editor_province"],
        publication=journal,
        issue=issue,
        form=AdoptionForm.COMBINED,
        title="各地扎实推进基层党建",
        body="<p>综合稿……</p>",
        sources=[SourceInput(a, 50, True), SourceInput(b, 25), SourceInput(c, 25)],
    )
    # Expected: three sources, shares 50/25/25, 安平 is the lead-submitting unit (主报).
    rows = {s.origin_unit.code: (s.share, s.is_lead_source) for s in adoption.sources.all()}
    assert rows == {"CA1": (50, True), "CA2": (25, False), "CB1": (25, False)}
    assert Event.objects.filter(action=Action.ADOPT, adoption=adoption).count() == 3
    with pytest.raises(ValidationError):
        workflow.adopt(
            by=cast["editor_province"],
            publication=journal,
            issue=issue,
            form=AdoptionForm.COMBINED,
            title="份额不对",
            body="<p>x</p>",
            sources=[SourceInput(a, 50, True), SourceInput(b, 40)],
        )


def test_an_item_returned_after_being_forwarded_goes_back_to_its_authors(
    world: Any, cast: dict[str, Any]
) -> None:
    item = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县数据待核实"
    )
    workflow.forward(by=world.editor_city, item=item)
    workflow.return_to_origin(by=cast["editor_province"], item=item, comment="数据需核实后再报")
    item.refresh_from_db()
    # Expected: the item is returned to its authors; the province's receipt says returned.
    assert item.status == Status.RETURNED
    assert Addressee.objects.get(submission=item, unit=world.province).state == Handling.RETURNED
    assert item.events.filter(action="return_upper", comment="数据需核实后再报").exists()
    # The authors revise and resubmit through review; the city receives it afresh.
    items.submit_for_review(by=world.officer_county_a, item=item)
    for _ in range(3):
        items.approve(by=world.reviewer_county_a, item=item)
    assert Addressee.objects.get(submission=item, unit=world.city_a).state == Handling.PENDING


def test_withdrawing_after_the_editor_opened_it_is_refused(world: Any) -> None:
    item = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县已阅稿件"
    )
    items.mark_opened(by=world.editor_city, item=item)
    with pytest.raises(ValidationError):
        items.withdraw(by=world.officer_county_a, item=item)
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED
