"""People and their roles through the UI: new accounts, history, 三员分立, the list page."""

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from django.utils import timezone

from baosong.audit.models import Event
from baosong.orgs import access, workflow
from baosong.orgs.models import Membership, PlatformRole, Role, Unit, User
from conftest import World, client_for

NEW_PASSWORD = "Anping#Xinxi-2026"


def new_person(
    client: Client, unit: Unit, username: str = "zhaoli", role: str = Role.OFFICER
) -> Any:
    return client.post(
        "/people/new/",
        {
            "username": username,
            "real_name": "赵丽",
            "mobile": "13712345678",
            "email": "",
            "unit": unit.pk,
            "role": role,
            "start": timezone.localdate().isoformat(),
        },
        follow=True,
    )


def test_a_new_person_gets_a_one_time_password_and_must_change_it(world: World) -> None:
    admin = client_for(world.unit_admin_county_a)
    response = new_person(admin, world.county_a)
    person = User.objects.get(username="zhaoli")
    assert response.redirect_chain == [(f"/people/{person.pk}/", 302)]
    page = response.content.decode()
    match = re.search(r"初始密码：(\S+?)（首次登录须修改，仅显示一次）", page)
    assert match, page
    temporary = match.group(1)
    assert person.must_change_password
    assert person.memberships.get().unit_id == world.county_a.pk
    # Shown once: reloading the page does not show it again, and it is in no event.
    assert temporary not in admin.get(f"/people/{person.pk}/").content.decode()
    assert not any(temporary in str(e.before) + str(e.after) for e in Event.objects.all())

    newcomer = Client()
    response = newcomer.post("/login/", {"username": "zhaoli", "password": temporary}, follow=True)
    assert response.redirect_chain[-1] == ("/profile/password/", 302)
    assert "临时密码" in response.content.decode()
    assert newcomer.get("/units/")["Location"] == "/profile/password/"
    response = newcomer.post(
        "/profile/password/",
        {"old_password": temporary, "new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert newcomer.get(f"/units/{world.county_a.pk}/").status_code == 200
    person.refresh_from_db()
    assert not person.must_change_password and person.check_password(NEW_PASSWORD)


def test_a_new_person_needs_a_unit_the_admin_manages(world: World) -> None:
    admin = client_for(world.unit_admin_county_a)
    response = new_person(admin, world.county_a2)
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    response = new_person(admin, world.county_a, username="officer_county_a")
    assert "登录名“officer_county_a”已被使用。" in response.content.decode()
    assert not User.objects.filter(username="zhaoli").exists()


def test_ending_a_membership_keeps_it_as_history(world: World) -> None:
    admin = client_for(world.unit_admin_city)
    person = world.officer_county_a
    membership = person.memberships.get()
    today = timezone.localdate()
    response = admin.post(
        f"/memberships/{membership.pk}/end/", {"end": today.isoformat()}, follow=True
    )
    assert "任职已结束，记录保留在历史中。" in response.content.decode()
    membership.refresh_from_db()
    assert membership.end == today
    assert Membership.objects.filter(user=person).count() == 1

    response = admin.post(
        f"/memberships/{membership.pk}/end/", {"end": today.isoformat()}, follow=True
    )
    assert "该任职已结束。" in response.content.decode()

    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        admin = client_for(world.unit_admin_city)
        page = admin.get(f"/people/{person.pk}/").content.decode()
        assert "已结束" in page and today.strftime("%Y-%m-%d") in page
        assert not Membership.objects.current().filter(user=person).exists()
        # Without a current role the officer no longer sees the unit, but signs in.
        officer = client_for(person)
        assert officer.get(f"/units/{world.county_a.pk}/").status_code == 404
        # A new role later adds a row; the old one stays.
        admin.post(
            f"/people/{person.pk}/memberships/new/",
            {
                "unit": world.county_a2.pk,
                "role": Role.OFFICER,
                "start": timezone.localdate().isoformat(),
            },
        )
    rows = list(
        Membership.objects.filter(user=person).order_by("start").values_list("unit__code", "end")
    )
    assert rows == [("CA1", today), ("CA2", None)]


def test_an_end_date_before_the_start_is_refused(world: World) -> None:
    admin = client_for(world.unit_admin_city)
    membership = world.officer_county_a.memberships.get()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = admin.post(
        f"/memberships/{membership.pk}/end/", {"end": yesterday.isoformat()}, follow=True
    )
    assert "终止日期不能早于起始日期。" in response.content.decode()
    membership.refresh_from_db()
    assert membership.end is None


# 三员分立 -------------------------------------------------------------------------------------------


def set_platform_role(client: Client, person: User, role: str) -> str:
    response = client.post(
        f"/people/{person.pk}/platform-role/", {"platform_role": role}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_platform_admin_cannot_take_a_second_platform_role(world: World) -> None:
    security = client_for(world.security_admin)
    page = set_platform_role(security, world.system_admin, PlatformRole.AUDIT_ADMIN)
    assert "三员分立：一人不得兼任两个平台管理员角色" in page
    world.system_admin.refresh_from_db()
    assert world.system_admin.platform_role == PlatformRole.SYSTEM_ADMIN
    assert (
        not Event.objects.filter(
            action="person.platform_role", object_id=str(world.system_admin.pk)
        )
        .exclude(actor=None)
        .exists()
    )


def test_a_platform_role_does_not_combine_with_a_unit_role(world: World) -> None:
    security = client_for(world.security_admin)
    page = set_platform_role(security, world.officer_county_a, PlatformRole.SYSTEM_ADMIN)
    assert "平台管理员账号须与业务账号分开" in page
    world.officer_county_a.refresh_from_db()
    assert world.officer_county_a.platform_role == ""

    response = security.post(
        f"/people/{world.audit_admin.pk}/memberships/new/",
        {
            "unit": world.county_a.pk,
            "role": Role.OFFICER,
            "start": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "平台管理员账号不兼任单位角色（三员分立）。" in response.content.decode()
    assert not Membership.objects.filter(user=world.audit_admin).exists()


def test_nobody_changes_the_own_platform_role_and_only_the_security_admin_grants_one(
    world: World,
) -> None:
    security = client_for(world.security_admin)
    page = set_platform_role(security, world.security_admin, "")
    assert "不能修改自己的平台角色。" in page
    world.security_admin.refresh_from_db()
    assert world.security_admin.platform_role == PlatformRole.SECURITY_ADMIN
    for other in (world.system_admin, world.audit_admin, world.unit_admin_province):
        client = client_for(other)
        response = client.post(
            f"/people/{world.editor_city.pk}/platform-role/", {"platform_role": "system_admin"}
        )
        assert response.status_code in (403, 404), other.username
    world.editor_city.refresh_from_db()
    assert world.editor_city.platform_role == ""


def test_a_person_without_unit_roles_can_become_a_platform_admin(world: World) -> None:
    security = client_for(world.security_admin)
    person = workflow.create_person(
        by=world.security_admin, username="new_auditor", real_name="钱审计"
    )
    page = set_platform_role(security, person, PlatformRole.AUDIT_ADMIN)
    assert "平台角色已更新。" in page
    person.refresh_from_db()
    assert person.platform_role == PlatformRole.AUDIT_ADMIN
    event = Event.objects.get(action="person.platform_role", object_id=str(person.pk))
    assert (event.before, event.after) == (
        {**person.snapshot(), "platform_role": ""},
        person.snapshot(),
    )
    assert event.actor_id == world.security_admin.pk


def test_there_is_no_superuser_and_no_admin_site(world: World) -> None:
    with pytest.raises(FieldDoesNotExist):
        User._meta.get_field("is_superuser")  # type: ignore[misc]
    for attribute in ("is_superuser", "is_staff", "has_perm", "user_permissions", "groups"):
        assert not hasattr(User, attribute), attribute
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    with pytest.raises(Resolver404):
        resolve("/admin/")
    assert client_for(world.system_admin).get("/admin/").status_code == 404


def test_no_account_holds_more_than_one_of_the_three_powers(world: World) -> None:
    """Configure the tree, manage accounts, read the audit log: never two in one account."""
    everyone = User.objects.all()
    assert everyone.count() > 10
    for person in everyone:
        powers = [
            person.platform_role == PlatformRole.SYSTEM_ADMIN
            and access.unit_manager_role(person, world.province) is not None,
            access.can_set_platform_roles(person),
            access.can_read_audit(person),
        ]
        assert sum(powers) <= 1, person.username
    assert sum(1 for p in everyone if access.can_read_audit(p)) == 1


# The people list ---------------------------------------------------------------------------------


def add_people(unit: Unit, count: int, prefix: str, role: str = Role.OFFICER) -> None:
    for n in range(count):
        workflow.create_person(
            by=None,
            username=f"{prefix}{n:02d}",
            real_name=f"{prefix}{n:02d}",
            unit=unit,
            role=role,
        )


def shown(page: str) -> int:
    match = re.search(r"共 (\d+) 人", page)
    assert match, page[:500]
    return int(match.group(1))


def test_the_people_list_filters_and_pages(world: World) -> None:
    add_people(world.county_a2, 30, "qs")
    add_people(world.county_a, 2, "ap", role=Role.REVIEWER)
    workflow.set_person_active(by=None, person=User.objects.get(username="qs00"), active=False)
    client = client_for(world.unit_admin_city)

    everyone_here = access.visible_people(User.objects.get(pk=world.unit_admin_city.pk))
    page = client.get("/people/").content.decode()
    assert shown(page) == everyone_here.count()
    assert "第 1 / 2 页" in page and "outsider" not in page

    second = client.get("/people/", {"page": 2}).content.decode()
    assert "第 2 / 2 页" in second
    first_names = set(re.findall(r'data-label="登录名">([^<]+)<', page))
    second_names = set(re.findall(r'data-label="登录名">([^<]+)<', second))
    assert len(first_names) == 25 and not first_names & second_names
    assert len(first_names | second_names) == everyone_here.count()

    assert shown(client.get("/people/", {"q": "qs1"}).content.decode()) == 10
    assert shown(client.get("/people/", {"q": "13900"}).content.decode()) == 0
    workflow.update_person(
        by=None,
        person=User.objects.get(username="ap01"),
        real_name="ap01",
        mobile="13900001111",
        email="",
    )
    by_mobile = client.get("/people/", {"q": "13900"}).content.decode()
    assert shown(by_mobile) == 1 and "ap01" in by_mobile
    assert shown(client.get("/people/", {"unit": world.county_a.pk}).content.decode()) == 5
    assert (
        shown(client.get("/people/", {"unit": world.city_a.pk}).content.decode())
        == everyone_here.count()
    )
    assert shown(client.get("/people/", {"role": Role.REVIEWER}).content.decode()) == 3
    assert shown(client.get("/people/", {"active": "0"}).content.decode()) == 1
    filtered = client.get(
        "/people/", {"unit": str(world.county_a2.pk), "active": "1"}
    ).content.decode()
    assert shown(filtered) == 29
    assert "page=2" in filtered and "unit=" in filtered  # paging keeps the filters
    # A unit outside the admin's view is not a valid filter.
    assert (
        shown(client.get("/people/", {"unit": world.county_b.pk}).content.decode())
        == everyone_here.count()
    )

    partial = client.get("/people/", {"q": "ap0"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and shown(partial) == 2


def test_the_people_list_costs_the_same_queries_for_5_or_40_people(
    world: World, django_assert_max_num_queries: object
) -> None:
    client = client_for(world.security_admin)
    add_people(world.county_a2, 5, "few")
    client.get("/people/")
    with CaptureQueriesContext(connection) as few:
        response = client.get("/people/")
    assert response.status_code == 200
    add_people(world.county_a2, 35, "many")
    add_people(world.county_b, 1, "more")  # and a second unit in the prefetch
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        response = client.get("/people/")
    assert response.status_code == 200
    assert shown(response.content.decode()) == User.objects.count() > 40
    assert len(few.captured_queries) <= 15
