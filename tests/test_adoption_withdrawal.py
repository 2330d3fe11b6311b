"""撤销采用: an adoption made in error is taken back through the workflow, the page and the API;
the item's receipt is pending again, and scoring reverses exactly what the adoption earned."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404
from django.test import Client
from django.utils import timezone

from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Role
from baosong.publications import access, selectors
from baosong.publications import workflow as pubs
from baosong.publications.models import (
    Action,
    Adoption,
    AdoptionForm,
    Event,
    IssueStatus,
    LeaderLevel,
    PublicationKind,
)
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.scoring import rankings, workflow
from baosong.scoring.models import LedgerEntry, Scheme
from baosong.submissions.models import Addressee, Handling, Notification
from conftest import client_for, make_person
from tests.test_publication_scenarios import submitted
from tests.test_scoring_ledger import (
    assert_rollup_equals_ledger,
    city_journal,
    city_scheme,
    unit_points,
)

__all__ = ["city_scheme"]  # the fixture, used by name

D = Decimal


def adopt(world: Any, journal: Any, item: Any, *, issue: Any = None, lead: bool = False) -> Any:
    return pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        issue=issue,
        form=AdoptionForm.WHOLE,
        title=item.title,
        is_lead=lead,
    )


def draft_issue(world: Any, journal: Any) -> Any:
    return pubs.create_issue(
        by=world.editor_city, publication=journal, issue_date=timezone.localdate()
    )


def receipt_state(item: Any, unit: Any) -> str:
    return str(Addressee.objects.get(submission=item, unit=unit).state)


def climbs_to_the_province(world: Any, item: Any) -> tuple[Any, Any]:
    """The city forwards the item to the province, whose editor takes an excerpt into its 专报:
    (the province's editor, the province's adoption)."""
    editor_province = make_person("editor_province", world.province, Role.EDITOR)
    pubs.forward(by=world.editor_city, item=item, comment="建议省里采用")
    special = pubs.create_publication(
        by=editor_province, unit=world.province, name="组工专报", kind=PublicationKind.SPECIAL
    )
    adoption = pubs.adopt(
        by=editor_province,
        sources=[SourceInput(item)],
        publication=special,
        form=AdoptionForm.EXCERPT,
        title="人才回引的安平做法",
        body="<p>摘编</p>",
    )
    return editor_province, adoption


def test_withdrawing_the_provinces_adoption_restores_the_citys_and_the_forward_credit(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "人才回引")
    adopt(world, city_journal(world), item)
    editor_province, adoption = climbs_to_the_province(world, item)
    # 报送 5 + 报送省级 5 + 市级采用 10, then 只计最高级别: -10 and 省级专报摘编 40 × 1.5 × 0.6 = 36.
    # 5 + 5 + 36 = 46; the city that forwarded it earns 转报 5.
    assert unit_points(city_scheme, "CA1") == D("46.00")
    assert unit_points(city_scheme, "CA") == D("5.00")

    pubs.withdraw_adoption(by=editor_province, adoption=adoption, reason="误采用，应为参考件")
    # 撤销省级采用: -36, and the city's adoption counts again: +10.  5 + 5 + 10 = 20.
    # The forward credit depended on the province's adoption: 5 - 5 = 0.
    assert unit_points(city_scheme, "CA1") == D("20.00")
    assert unit_points(city_scheme, "CA") == D("0.00")
    # Nothing was edited: the reversals are lines of their own, and people follow the unit.
    reasons = list(
        LedgerEntry.objects.filter(scheme=city_scheme, unit__code="CA1", person__isnull=True)
        .order_by("at", "id")
        .values_list("points", "rule")
    )
    assert reasons[-2][0] == D("-36.00") and "撤销" in reasons[-2][1]
    assert reasons[-1][0] == D("10.00") and "撤销采用后改按" in reasons[-1][1]
    person = LedgerEntry.objects.filter(scheme=city_scheme, person=world.officer_county_a)
    assert person.aggregate(t=Sum("points"))["t"] == D("20.00")
    assert_rollup_equals_ledger(city_scheme)
    row = rankings.unit_ranking(city_scheme, world.city_a, rankings.current_period("year"))[0]
    assert (row.unit, row.figures.adopted, row.figures.points) == (world.county_a, 1, D("20.00"))
    # A full replay agrees with what was recorded as it happened.
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stats = workflow.recompute(city_scheme.versions.get(), start, start.replace(year=2027))
    assert stats["corrected"] == 0
    # The province's receipt is pending again; the withdrawn adoption is kept for the record.
    assert receipt_state(item, world.province) == Handling.PENDING
    assert receipt_state(item, world.city_a) == Handling.ADOPTED  # the city's own adoption stands
    gone = Adoption.all_objects.get(pk=adoption.pk)
    assert gone.withdrawn_by == editor_province and gone.withdraw_reason == "误采用，应为参考件"
    assert not Adoption.objects.filter(pk=adoption.pk).exists()


def test_an_adoption_from_a_draft_issue_leaves_it_and_the_item_is_pending_again(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "乡村振兴")
    other = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "基层治理")
    journal = city_journal(world)
    issue = draft_issue(world, journal)
    adoption = adopt(world, journal, item, issue=issue, lead=True)
    kept = adopt(world, journal, other, issue=issue)
    # 报送 5 + 5; 市级采用 10 × 头条 1.5 = 15, and 10: 35.
    assert unit_points(city_scheme, "CA1") == D("35.00")
    pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="重复采用")
    assert unit_points(city_scheme, "CA1") == D("20.00")
    assert list(issue.adoptions.all()) == [kept]
    assert receipt_state(item, world.city_a) == Handling.PENDING
    assert receipt_state(other, world.city_a) == Handling.ADOPTED
    events = Event.objects.filter(submission=item, action=Action.WITHDRAW_ADOPTION)
    assert [(e.adoption_id, e.comment, e.by) for e in events] == [
        (adoption.pk, "重复采用", world.editor_city)
    ]
    # The authors are told, and the item's outcomes keep both steps.
    assert Notification.objects.filter(
        user=world.officer_county_a, message__contains="撤销了对《乡村振兴》的采用"
    ).exists()
    outcomes = selectors.item_outcomes(item)
    assert outcomes.adoptions == []
    texts = [step.text for step in outcomes.steps]
    assert any(t.endswith("采用（已撤销）") for t in texts) and "临江市委组织部撤销采用" in texts
    # It can be adopted again; the unit's ranking counts it once.
    adopt(world, journal, item)
    assert unit_points(city_scheme, "CA1") == D("30.00")
    assert_rollup_equals_ledger(city_scheme)


def test_refusals_change_nothing(world: Any, city_scheme: Scheme) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "人才工作")
    journal = city_journal(world)
    issue = draft_issue(world, journal)
    adoption = adopt(world, journal, item, issue=issue)
    lines = LedgerEntry.objects.count()

    with pytest.raises(ValidationError) as reason:
        pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="  ")
    assert "撤销原因" in str(reason.value)
    # Only an editor of the adopting unit; others do not even see it.
    with pytest.raises(PermissionDenied):
        pubs.withdraw_adoption(by=world.officer_county_a, adoption=adoption, reason="x")
    with pytest.raises(PermissionDenied):
        access.get_adoption_for(world.officer_county_a, adoption.pk, need="edit")
    with pytest.raises(Http404):
        access.get_adoption_for(world.outsider, adoption.pk, need="edit")
    # Not once the issue is published: a correction reopens it first.
    pubs.publish_issue(by=world.editor_city, issue=issue)
    with pytest.raises(ValidationError) as published:
        pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="错误")
    assert "发起更正" in str(published.value)
    pubs.start_correction(by=world.editor_city, issue=issue, reason="撤下误采稿件")
    # Not once a leader has instructed on it.
    pubs.add_instruction(
        by=world.editor_city,
        adoption=adoption,
        data=InstructionInput(
            leader_name="李明",
            leader_position="市委常委、组织部部长",
            level=LeaderLevel.CITY,
            text="请总结推广。",
            instructed_on=timezone.localdate(),
            is_principal=True,
        ),
    )
    lines = LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as instructed:
        pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="错误")
    assert "批示" in str(instructed.value)
    assert LedgerEntry.objects.count() == lines
    assert Adoption.objects.filter(pk=adoption.pk, issue=issue).exists()
    assert not Event.objects.filter(action=Action.WITHDRAW_ADOPTION).exists()
    issue.refresh_from_db()
    assert issue.status == IssueStatus.DRAFT


def test_withdrawing_twice_is_refused(world: Any, city_scheme: Scheme) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "党员教育")
    adoption = adopt(world, city_journal(world), item)
    pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="误采用")
    with pytest.raises(ValidationError) as again:
        pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="误采用")
    assert "已撤销" in str(again.value)
    assert Event.objects.filter(action=Action.WITHDRAW_ADOPTION).count() == 1
    # Nor can a page opened before the withdrawal act on it afterwards.
    stale: list[Callable[[], object]] = [
        lambda: pubs.edit_adopted_text(
            by=world.editor_city, adoption=adoption, title="x", body="", is_lead=True
        ),
        lambda: pubs.place_in_issue(by=world.editor_city, adoption=adoption, issue=None),
        lambda: pubs.add_instruction(
            by=world.editor_city,
            adoption=adoption,
            data=InstructionInput(
                leader_name="李明",
                leader_position="市委常委、组织部部长",
                level=LeaderLevel.CITY,
                text="请总结推广。",
                instructed_on=timezone.localdate(),
            ),
        ),
    ]
    for act in stale:
        with pytest.raises(ValidationError) as refused:
            act()
        assert "已撤销" in str(refused.value)


def test_the_page_withdraws_with_a_reason_and_explains_a_refusal(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "干部培训")
    adoption = adopt(world, city_journal(world), item)
    client = client_for(world.editor_city)
    page = client.get(f"/adoptions/{adoption.pk}/edit/").content.decode()
    assert "撤销采用" in page and f"/adoptions/{adoption.pk}/withdraw/" in page

    empty = client.post(f"/adoptions/{adoption.pk}/withdraw/", {"reason": ""})
    assert empty.status_code == 400 and "这个字段是必填项" in empty.content.decode()
    assert Adoption.objects.filter(pk=adoption.pk).exists()
    officer = client_for(world.officer_county_a)
    assert officer.post(f"/adoptions/{adoption.pk}/withdraw/", {"reason": "x"}).status_code == 403
    assert client.get(f"/adoptions/{adoption.pk}/withdraw/").status_code == 405

    done = client.post(f"/adoptions/{adoption.pk}/withdraw/", {"reason": "误采用"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/publications/{adoption.publication_id}/"
    assert "已撤销对《干部培训》的采用" in done.content.decode()
    assert not Adoption.objects.filter(pk=adoption.pk).exists()
    # The withdrawn adoption has no page of its own any more; the item's page tells the story.
    assert client.get(f"/adoptions/{adoption.pk}/edit/").status_code == 404
    feedback = client_for(world.officer_county_a).get(f"/items/{item.pk}/outcomes/")
    assert "撤销采用" in feedback.content.decode() and "误采用" in feedback.content.decode()


def test_the_api_withdraws_and_refuses_with_reasons(world: Any, city_scheme: Scheme) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "组织振兴")
    adoption = adopt(world, city_journal(world), item)
    token = orgs_workflow.create_api_token(by=world.editor_city, name="测试")[1]
    api = Client(headers={"Authorization": f"Bearer {token}"})
    url = f"/api/v1/adoptions/{adoption.pk}/withdraw"
    missing = api.post(url, {}, content_type="application/json")
    assert missing.status_code in (400, 422)
    assert unit_points(city_scheme, "CA1") == D("15.00")
    done = api.post(url, {"reason": "误采用"}, content_type="application/json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["withdrawn_at"] and body["withdraw_reason"] == "误采用" and body["issue"] is None
    assert unit_points(city_scheme, "CA1") == D("5.00")
    again = api.post(url, {"reason": "误采用"}, content_type="application/json")
    assert again.status_code == 404  # a withdrawn adoption is not an adoption any more
    assert "/adoptions/{adoption_id}/withdraw" in api.get("/api/v1/openapi.json").content.decode()


# 调整头条: making an adoption the lead item (or not) while its issue is composed -------------------


def lead_counts(scheme: Scheme, world: Any) -> tuple[int, int, Decimal]:
    row = rankings.unit_ranking(scheme, world.city_a, rankings.current_period("year"))[0]
    assert row.unit == world.county_a
    return row.figures.adopted, row.figures.lead_items, row.figures.points


def test_making_an_adoption_the_lead_item_later_changes_its_points(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "乡村振兴")
    journal = city_journal(world)
    issue = draft_issue(world, journal)
    adoption = adopt(world, journal, item, issue=issue)
    # 报送 5 + 市级采用 10 × 信息刊物 1 × 全文 1 = 15.
    assert lead_counts(city_scheme, world) == (1, 0, D("15.00"))

    def edit(lead: bool) -> None:
        pubs.edit_adopted_text(
            by=world.editor_city, adoption=adoption, title=item.title, body="", is_lead=lead
        )

    edit(True)
    # 设为头条: the 10 is taken back and 10 × 头条 1.5 = 15 credited: 5 + 15 = 20, one lead item.
    assert lead_counts(city_scheme, world) == (1, 1, D("20.00"))
    lines = list(
        LedgerEntry.objects.filter(scheme=city_scheme, unit__code="CA1", person__isnull=True)
        .order_by("id")
        .values_list("category", "points", "rule")
    )
    assert lines[-2][:2] == ("relead", D("-10.00")) and "设为头条" in lines[-2][2]
    assert lines[-1][:2] == ("adopt", D("15.00")) and "头条 1.5" in lines[-1][2]
    # Saving the text again without changing the flag changes nothing.
    before = LedgerEntry.objects.count()
    edit(True)
    assert LedgerEntry.objects.count() == before
    edit(False)
    assert lead_counts(city_scheme, world) == (1, 0, D("15.00"))
    assert Event.objects.filter(submission=item, action=Action.RELEAD).count() == 2
    assert_rollup_equals_ledger(city_scheme)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stats = workflow.recompute(city_scheme.versions.get(), start, start.replace(year=2027))
    assert stats["corrected"] == 0


def test_under_highest_only_a_lower_adoption_made_lead_counts_when_it_counts_again(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "人才回引")
    journal = city_journal(world)
    issue = draft_issue(world, journal)
    city = adopt(world, journal, item, issue=issue)
    editor_province, province = climbs_to_the_province(world, item)
    # 5 + 报送省级 5 + (市级 10, superseded by 省级专报摘编 36) = 46.
    assert unit_points(city_scheme, "CA1") == D("46.00")
    lines = LedgerEntry.objects.count()
    pubs.edit_adopted_text(
        by=world.editor_city, adoption=city, title=item.title, body="", is_lead=True
    )
    # Only the province's adoption counts: the city's new worth earns nothing now.
    assert LedgerEntry.objects.count() == lines
    pubs.withdraw_adoption(by=editor_province, adoption=province, reason="误采用")
    # -36, and the city's adoption counts again, as the lead item: 10 × 1.5 = 15.  5 + 5 + 15 = 25.
    assert unit_points(city_scheme, "CA1") == D("25.00")
    assert lead_counts(city_scheme, world) == (1, 1, D("25.00"))
    assert_rollup_equals_ledger(city_scheme)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    stats = workflow.recompute(city_scheme.versions.get(), start, start.replace(year=2027))
    assert stats["corrected"] == 0


def test_the_api_edits_the_lead_flag_and_the_points_follow(world: Any, city_scheme: Scheme) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "组织振兴")
    journal = city_journal(world)
    issue = draft_issue(world, journal)
    adoption = adopt(world, journal, item, issue=issue)
    body = Adoption.objects.get(pk=adoption.pk).body

    def api(user: Any) -> Client:
        token = orgs_workflow.create_api_token(by=user, name="测试")[1]
        return Client(headers={"Authorization": f"Bearer {token}"})

    url = f"/api/v1/adoptions/{adoption.pk}"
    editor = api(world.editor_city)
    done = editor.patch(url, {"is_lead": True}, content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["is_lead"] is True and done.json()["title"] == item.title
    assert Adoption.objects.get(pk=adoption.pk).body == body  # only what was sent changes
    # 5 + 10 × 头条 1.5 = 20.
    assert lead_counts(city_scheme, world) == (1, 1, D("20.00"))
    refused = api(world.officer_county_a).patch(url, {"is_lead": False}, "application/json")
    assert refused.status_code == 403
    pubs.publish_issue(by=world.editor_city, issue=issue)
    frozen = editor.patch(url, {"is_lead": False}, content_type="application/json")
    assert frozen.status_code == 422 and "更正" in frozen.json()["detail"]
    assert lead_counts(city_scheme, world) == (1, 1, D("20.00"))
