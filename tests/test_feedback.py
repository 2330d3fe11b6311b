"""Feedback to the origin (采用反馈): the item's outcomes, the unit's feedback page, the digest."""

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Role, Unit, User
from baosong.publications import workflow
from baosong.publications.models import AdoptionForm, LeaderLevel, Publication, PublicationKind
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.submissions import workflow as items
from baosong.submissions.models import Status, Submission
from baosong.submissions.workflow import DraftInput
from conftest import client_for, make_person


def submitted(unit: Unit, officer: User, reviewer: User, title: str) -> Submission:
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
def province_editor(world: Any) -> User:
    return make_person("editor_province", world.province, Role.EDITOR)


def journal(world: Any) -> Publication:
    return workflow.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )


def adopted_with_instruction(world: Any, editor_province: User) -> Submission:
    """County item: the city adopts it whole as lead item and forwards it; the province adopts
    an excerpt on which a provincial leader writes an instruction."""
    item = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县人才回引经验"
    )
    items.mark_opened(by=world.editor_city, item=item)
    publication = journal(world)
    issue = workflow.create_issue(
        by=world.editor_city, publication=publication, issue_date=timezone.localdate()
    )
    workflow.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=publication,
        issue=issue,
        form=AdoptionForm.WHOLE,
        title=item.title,
        is_lead=True,
    )
    workflow.forward(by=world.editor_city, item=item, comment="建议省里采用")
    special = workflow.create_publication(
        by=editor_province, unit=world.province, name="组工专报", kind=PublicationKind.SPECIAL
    )
    adoption = workflow.adopt(
        by=editor_province,
        sources=[SourceInput(item)],
        publication=special,
        form=AdoptionForm.EXCERPT,
        title="人才回引的安平做法",
        body="<p>摘编</p>",
    )
    workflow.add_instruction(
        by=editor_province,
        adoption=adoption,
        data=InstructionInput(
            leader_name="王建华",
            leader_position="省委常委、组织部部长",
            level=LeaderLevel.PROVINCE,
            text="经验很好，请各地学习借鉴。",
            instructed_on=timezone.localdate(),
        ),
    )
    return item


def test_the_origin_officer_sees_where_the_item_went(world: Any, province_editor: User) -> None:
    item = adopted_with_instruction(world, province_editor)
    response = client_for(world.officer_county_a).get(f"/items/{item.pk}/outcomes/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "报送至临江市委组织部" in html and "临江市委组织部已阅" in html
    assert "临江市委组织部转报江川省委组织部" in html and "建议省里采用" in html
    assert "《临江组工信息》" in html and "头条" in html and "全文" in html
    assert "《组工专报》" in html and "摘编" in html
    assert "省委常委、组织部部长王建华" in html and "经验很好" in html and "省级" in html
    # A colleague of the same unit who did not write it sees the outcomes too (not the item).
    colleague = make_person("colleague", world.county_a, Role.OFFICER)
    assert client_for(colleague).get(f"/items/{item.pk}/outcomes/").status_code == 200
    # The item page loads the outcomes.
    page = client_for(world.officer_county_a).get(f"/items/{item.pk}/").content.decode()
    assert f'hx-get="/items/{item.pk}/outcomes/"' in page


def test_a_sibling_county_does_not_see_the_outcomes(world: Any, province_editor: User) -> None:
    item = adopted_with_instruction(world, province_editor)
    sibling = make_person("officer_a2", world.county_a2, Role.OFFICER)
    assert client_for(sibling).get(f"/items/{item.pk}/outcomes/").status_code == 404
    assert client_for(world.outsider).get(f"/items/{item.pk}/outcomes/").status_code == 404


def test_a_returned_item_shows_the_comment_to_the_origin(world: Any) -> None:
    item = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县数据待核实"
    )
    workflow.return_to_origin(by=world.editor_city, item=item, comment="数据需核实后再报")
    html = client_for(world.officer_county_a).get(f"/items/{item.pk}/outcomes/").content.decode()
    assert "临江市委组织部退回" in html and "数据需核实后再报" in html


def test_a_draft_without_history_has_no_outcomes(world: Any) -> None:
    item = items.create_draft(
        by=world.officer_county_a,
        unit=world.county_a,
        data=DraftInput(item_type="info", kind="dynamic", title="草稿", body="<p>x</p>"),
    )
    response = client_for(world.officer_county_a).get(f"/items/{item.pk}/outcomes/")
    assert response.status_code == 200 and response.content == b""


def _next_month_noon() -> dt.datetime:
    """Ten o'clock on the 5th of next month: memberships start today, so history cannot be
    made in the past; the later month is made by travelling forward."""
    first = timezone.localdate().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=5)
    return dt.datetime.combine(following, dt.time(10), timezone.get_current_timezone())


def test_the_feedback_page_counts_a_month(world: Any, province_editor: User) -> None:
    this_month = timezone.localdate().strftime("%Y-%m")
    adopted = adopted_with_instruction(world, province_editor)
    plain = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "未采用稿件")
    later = _next_month_noon()
    with time_machine.travel(later, tick=False):
        next_item = submitted(
            world.county_a, world.officer_county_a, world.reviewer_county_a, "下月稿件"
        )
        workflow.adopt(
            by=world.editor_city,
            sources=[SourceInput(next_item)],
            publication=Publication.objects.get(name="临江组工信息"),
            form=AdoptionForm.WHOLE,
            title=next_item.title,
        )
    client = client_for(world.officer_county_a)
    for url in (f"/feedback/?month={this_month}", "/feedback/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-stat="submitted">2<' in html and 'data-stat="adopted">1<' in html
        assert 'data-stat="rate">50.0%<' in html and 'data-stat="lead">1<' in html
        assert 'data-stat="instructions">1<' in html
        assert 'data-level="省级">1<' in html and 'data-level="市级">1<' in html
        assert adopted.title in html and plain.title in html and "下月稿件" not in html
        assert "《组工专报》" in html and "王建华" in html

    next_page = client.get(f"/feedback/?month={later:%Y-%m}").content.decode()
    assert 'data-stat="submitted">1<' in next_page and "下月稿件" in next_page
    start = timezone.localdate().replace(day=1)
    end = later.date()
    both = client.get(f"/feedback/?start={start}&end={end}").content.decode()
    assert 'data-stat="submitted">3<' in both
    bad = client.get(f"/feedback/?start={end}&end={start}").content.decode()
    assert "截止日期不能早于起始日期" in bad


def test_the_feedback_page_of_another_unit_is_refused(world: Any) -> None:
    client = client_for(world.officer_county_a)
    assert client.get(f"/feedback/?unit={world.county_a.pk}").status_code == 200
    assert client.get(f"/feedback/?unit={world.county_b.pk}").status_code == 404
    assert client.get(f"/feedback/?unit={world.city_a.pk}").status_code == 403
    admin = client_for(world.unit_admin_city)
    assert admin.get(f"/feedback/?unit={world.county_a.pk}").status_code == 200


def test_the_inbox_links_to_feedback(world: Any) -> None:
    html = client_for(world.editor_city).get("/inbox/").content.decode()
    assert 'href="/feedback/"' in html and "采用反馈" in html


def _give_email(person: User, email: str) -> None:
    orgs_workflow.update_person(
        by=None, person=person, real_name=person.real_name, mobile="", email=email
    )


def test_the_digest_mails_each_officer_of_the_unit_and_dry_run_sends_none(
    world: Any, province_editor: User
) -> None:
    _give_email(world.officer_county_a, "officer@example.cn")
    correspondent = make_person("correspondent_a", world.county_a, Role.CORRESPONDENT)
    _give_email(correspondent, "news@example.cn")
    make_person("no_email", world.county_a, Role.OFFICER)
    _give_email(world.reviewer_county_a, "reviewer@example.cn")
    adopted_with_instruction(world, province_editor)
    month = timezone.localdate().strftime("%Y-%m")
    label = f"{timezone.localdate().year}年{timezone.localdate().month}月"

    out = StringIO()
    call_command("send_feedback_digest", "--month", month, "--dry-run", stdout=out)
    assert len(mail.outbox) == 0
    assert "1 个单位" in out.getvalue() and "2 封邮件" in out.getvalue()

    out = StringIO()
    call_command("send_feedback_digest", "--month", month, stdout=out)
    assert sorted(m.to[0] for m in mail.outbox) == ["news@example.cn", "officer@example.cn"]
    message = mail.outbox[0]
    assert f"安平县委组织部{label}稿件采用反馈" in message.subject
    assert "报送稿件 1 篇，被采用 1 篇" in message.body
    assert "《安平县人才回引经验》" in message.body and "头条" in message.body
    assert "省委常委、组织部部长王建华批示" in message.body
    assert "/feedback/?unit=" in message.body
    assert "已发送 2 封邮件" in out.getvalue()

    mail.outbox.clear()
    call_command("send_feedback_digest", "--month", "2020-01", stdout=StringIO())
    assert len(mail.outbox) == 0
