"""Notifications: in-app for every author (the bell), email unless turned off per kind."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from baosong.audit.models import Event as AuditEvent
from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Role, User
from baosong.submissions import notify, workflow
from baosong.submissions.context import notifications
from baosong.submissions.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
    Submission,
)
from baosong.submissions.workflow import DraftInput
from conftest import PASSWORD, World, client_for

TITLE = "安平县扎实推进基层党建工作"
OFFICER_MAIL = "officer@anping.example.cn"
COAUTHOR_MAIL = "lina@anping.example.cn"
REVIEWER_MAIL = "reviewer@anping.example.cn"


@pytest.fixture
def people(world: World) -> dict[str, User]:
    """The item's two authors and the unit's reviewer, each with an email address."""
    for person, address in (
        (world.officer_county_a, OFFICER_MAIL),
        (world.reviewer_county_a, REVIEWER_MAIL),
    ):
        orgs_workflow.update_person(
            by=None, person=person, real_name=person.real_name, mobile="", email=address
        )
        person.refresh_from_db()
    coauthor = orgs_workflow.create_person(
        by=None,
        username="li_na",
        real_name="李娜",
        email=COAUTHOR_MAIL,
        password=PASSWORD,
        unit=world.county_a,
        role=Role.OFFICER,
    )
    return {
        "officer": world.officer_county_a,
        "coauthor": coauthor,
        "reviewer": world.reviewer_county_a,
    }


def _in_review(people: dict[str, User], world: World) -> Submission:
    item = workflow.create_draft(
        by=people["officer"],
        unit=world.county_a,
        data=DraftInput(
            item_type="info",
            kind="dynamic",
            title=TITLE,
            body="<p>安平县委组织部今年以来……</p>",
            own_share=60,
            coauthors=[(people["coauthor"], 40)],
        ),
    )
    workflow.submit_for_review(by=people["officer"], item=item)
    item.refresh_from_db()
    return item


def _approve_all(item: Submission, reviewer: User) -> None:
    workflow.approve(by=reviewer, item=item)
    workflow.approve(by=reviewer, item=item)
    workflow.approve(by=reviewer, item=item)


DECISIONS: dict[str, tuple[str, Callable[[Submission, User], Any], str]] = {
    "return": (
        NotificationKind.RETURNED,
        lambda item, reviewer: workflow.return_to_authors(
            by=reviewer, item=item, comment="数据需核实"
        ),
        f"《{TITLE}》被初审退回修改：数据需核实",
    ),
    "approve": (
        NotificationKind.APPROVED,
        lambda item, reviewer: workflow.approve(by=reviewer, item=item, comment="同意"),
        f"《{TITLE}》已通过初审。",
    ),
    "reject": (
        NotificationKind.REJECTED,
        lambda item, reviewer: workflow.reject(by=reviewer, item=item, reason="与本单位工作无关"),
        f"《{TITLE}》未通过初审：与本单位工作无关",
    ),
    "submit": (
        NotificationKind.SUBMITTED,
        _approve_all,
        f"《{TITLE}》已报送至临江市委组织部。",
    ),
}


def _emails_of_kind(message: str) -> list[Any]:
    return [m for m in mail.outbox if message in m.body]


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_a_decision_notifies_every_author_in_app_and_by_email(
    world: World,
    people: dict[str, User],
    decision: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    kind, act, message = DECISIONS[decision]
    item = _in_review(people, world)
    with django_capture_on_commit_callbacks(execute=True):
        act(item, people["reviewer"])
    for author in ("officer", "coauthor"):
        notice = Notification.objects.get(user=people[author], kind=kind)
        assert notice.message == message and notice.submission_id == item.pk
        assert notice.read_at is None
    assert not Notification.objects.filter(user=people["reviewer"], kind=kind).exists()
    emails = _emails_of_kind(message)
    # One message per person: co-authors do not see each other's addresses.
    assert sorted(address for email in emails for address in email.to) == sorted(
        [OFFICER_MAIL, COAUTHOR_MAIL]
    )
    assert all(len(email.to) == 1 for email in emails)
    for email in emails:
        assert email.subject.startswith("[报送] ") and TITLE in email.subject
        assert f"/items/{item.pk}/" in email.body


@pytest.mark.parametrize("decision", list(DECISIONS))
def test_an_author_who_turned_the_kind_off_gets_no_email_but_still_the_in_app_notice(
    world: World,
    people: dict[str, User],
    decision: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    kind, act, message = DECISIONS[decision]
    others = [k for k in NotificationKind.values if k != kind]
    workflow.set_notification_preferences(by=people["coauthor"], email_kinds=others)
    item = _in_review(people, world)
    with django_capture_on_commit_callbacks(execute=True):
        act(item, people["reviewer"])
    assert Notification.objects.filter(user=people["coauthor"], kind=kind).count() == 1
    [email] = _emails_of_kind(message)
    assert email.to == [OFFICER_MAIL]


def test_nobody_gets_an_email_when_every_author_turned_it_off(
    world: World, people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    for author in ("officer", "coauthor"):
        workflow.set_notification_preferences(by=people[author], email_kinds=[])
    item = _in_review(people, world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        workflow.return_to_authors(by=people["reviewer"], item=item, comment="请补充数据")
    assert callbacks == [] and mail.outbox == []
    assert Notification.objects.filter(kind=NotificationKind.RETURNED).count() == 2


def test_emails_wait_for_the_commit(
    world: World, people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    item = _in_review(people, world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow.return_to_authors(by=people["reviewer"], item=item, comment="请补充数据")
    assert len(callbacks) == 1 and mail.outbox == []


def test_submitting_for_review_tells_the_first_stage_reviewer(
    world: World, people: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        item = _in_review(people, world)
    notice = Notification.objects.get(user=people["reviewer"], kind=NotificationKind.TO_REVIEW)
    assert notice.message == f"《{TITLE}》待您初审。" and notice.submission_id == item.pk
    [email] = _emails_of_kind(notice.message)
    assert email.to == [REVIEWER_MAIL]


# The pages -----------------------------------------------------------------------------------


def _returned(people: dict[str, User], world: World) -> Submission:
    item = _in_review(people, world)
    workflow.return_to_authors(by=people["reviewer"], item=item, comment="数据需核实")
    return item


def test_opening_a_notification_marks_it_read_and_goes_to_the_item(
    world: World, people: dict[str, User]
) -> None:
    item = _returned(people, world)
    notice = Notification.objects.get(user=people["coauthor"], kind=NotificationKind.RETURNED)
    response = client_for(people["coauthor"]).post(reverse("notification_read", args=[notice.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("items_detail", args=[item.pk])
    notice.refresh_from_db()
    assert notice.read_at is not None
    other = Notification.objects.get(user=people["officer"], kind=NotificationKind.RETURNED)
    assert other.read_at is None


def test_opening_a_notification_again_keeps_the_first_read_time(
    world: World, people: dict[str, User]
) -> None:
    _returned(people, world)
    notice = Notification.objects.get(user=people["coauthor"], kind=NotificationKind.RETURNED)
    client = client_for(people["coauthor"])
    client.post(reverse("notification_read", args=[notice.pk]))
    notice.refresh_from_db()
    first = notice.read_at
    client.post(reverse("notification_read", args=[notice.pk]))
    notice.refresh_from_db()
    assert notice.read_at == first


def test_someone_elses_notification_is_not_found_and_stays_unread(
    world: World, people: dict[str, User]
) -> None:
    _returned(people, world)
    notice = Notification.objects.get(user=people["coauthor"], kind=NotificationKind.RETURNED)
    for intruder in (people["officer"], world.outsider):
        response = client_for(intruder).post(reverse("notification_read", args=[notice.pk]))
        assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_reading_a_notification_needs_a_post(world: World, people: dict[str, User]) -> None:
    _returned(people, world)
    notice = Notification.objects.get(user=people["coauthor"], kind=NotificationKind.RETURNED)
    response = client_for(people["coauthor"]).get(reverse("notification_read", args=[notice.pk]))
    assert response.status_code == 405
    notice.refresh_from_db()
    assert notice.read_at is None


def test_marking_all_read_touches_only_own_notifications(
    world: World, people: dict[str, User]
) -> None:
    _returned(people, world)
    client = client_for(people["officer"])
    response = client.post(reverse("notifications_read_all"))
    assert response.status_code == 302 and response["Location"] == reverse("notifications")
    assert not Notification.objects.filter(user=people["officer"], read_at__isnull=True).exists()
    assert Notification.objects.filter(user=people["coauthor"], read_at__isnull=True).count() == 1
    page = client.get(reverse("notifications")).content.decode()
    assert "已将 1 条通知标为已读。" in page


def test_the_list_shows_own_notifications_newest_first_with_unread_highlighted(
    world: World, people: dict[str, User]
) -> None:
    item = _returned(people, world)
    workflow.mark_notification_read(
        by=people["officer"],
        notification_id=Notification.objects.get(
            user=people["officer"], kind=NotificationKind.RETURNED
        ).pk,
    )
    notify.send(NotificationKind.SUBMITTED, [people["officer"]], item, "《后来的》已报送。")
    notify.send(NotificationKind.SUBMITTED, [people["coauthor"]], item, "《别人的》已报送。")
    response = client_for(people["officer"]).get(reverse("notifications"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "《别人的》" not in html
    newest = html.index("《后来的》已报送。")
    returned = html.index("被初审退回修改")
    assert newest < returned
    assert html.count('<tr class="unread">') == 1 and html.count('<tr class="read">') == 1
    unread = Notification.objects.get(user=people["officer"], read_at__isnull=True)
    assert reverse("notification_read", args=[unread.pk]) in html


def test_the_list_is_paged_by_thirty_with_a_fixed_number_of_queries(
    world: World, people: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    item = _returned(people, world)
    for i in range(40):
        notify.send(NotificationKind.APPROVED, [people["officer"]], item, f"第{i}条")
    client = client_for(people["officer"])
    first = client.get(reverse("notifications")).content.decode()
    assert first.count('<tr class="unread">') == 30 and "第39条" in first and "第10条" in first
    assert "第9条" not in first
    with django_assert_max_num_queries(12):
        second = client.get(reverse("notifications") + "?page=2").content.decode()
    assert second.count('<tr class="unread">') == 11 and "第9条" in second


def test_preferences_default_to_email_on_for_every_kind(
    world: World, people: dict[str, User]
) -> None:
    response = client_for(people["officer"]).get(reverse("notification_preferences"))
    assert response.status_code == 200
    html = response.content.decode()
    for kind in NotificationKind:
        assert f'name="{kind.value}"' in html and str(kind.label) in html
    assert html.count("checked") == len(NotificationKind.values)


def test_saving_preferences_writes_one_row_per_kind_and_an_audit_event(
    world: World, people: dict[str, User]
) -> None:
    client = client_for(people["officer"])
    response = client.post(
        reverse("notification_preferences"), {"approved": "on", "submitted": "on"}
    )
    assert response.status_code == 302
    rows = dict(
        NotificationPreference.objects.filter(user=people["officer"]).values_list("kind", "email")
    )
    assert rows == {
        "returned": False,
        "approved": True,
        "rejected": False,
        "submitted": True,
        "to_review": False,
    }
    event = AuditEvent.objects.get(action="notifications.preferences")
    assert event.actor == people["officer"]
    assert event.after == {"email": ["approved", "submitted"]}
    html = client.get(reverse("notification_preferences")).content.decode()
    assert html.count("checked") == 2 and "通知设置已保存。" in html


def test_saving_unchanged_preferences_writes_no_audit_event(
    world: World, people: dict[str, User]
) -> None:
    client_for(people["officer"]).post(
        reverse("notification_preferences"), dict.fromkeys(NotificationKind.values, "on")
    )
    assert not AuditEvent.objects.filter(action="notifications.preferences").exists()
    assert NotificationPreference.objects.filter(user=people["officer"], email=True).count() == 5


def test_the_bell_count_is_one_query(
    world: World, people: dict[str, User], django_assert_num_queries: Any
) -> None:
    _returned(people, world)
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=people["officer"].pk)
    with django_assert_num_queries(1):
        assert notifications(request) == {"unread_notifications": 1}
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert notifications(request) == {"unread_notifications": 0}


@pytest.mark.parametrize(("unread", "badge"), [(0, None), (1, "1"), (42, "42"), (150, "99+")])
def test_the_bell_links_to_the_notifications_with_the_unread_count(
    unread: int, badge: str | None
) -> None:
    html = render_to_string("submissions/_bell.html", {"unread_notifications": unread})
    assert f'href="{reverse("notifications")}"' in html
    if badge is None:
        assert "nav-count" not in html and 'aria-label="通知"' in html
    else:
        assert f'<span class="nav-count" aria-hidden="true">{badge}</span>' in html
        assert f"通知（{unread} 条未读）" in html


def test_pages_show_the_bell_with_the_unread_count(
    world: World, people: dict[str, User], settings: Any
) -> None:
    processor = "baosong.submissions.context.notifications"
    templates = [dict(engine, OPTIONS=dict(engine["OPTIONS"])) for engine in settings.TEMPLATES]
    processors = templates[0]["OPTIONS"]["context_processors"]
    if processor not in processors:
        templates[0]["OPTIONS"]["context_processors"] = [*processors, processor]
    settings.TEMPLATES = templates
    _returned(people, world)
    html = client_for(people["officer"]).get(reverse("home")).content.decode()
    assert "通知（1 条未读）" in html
    assert '<span class="nav-count" aria-hidden="true">1</span></a>' in html
