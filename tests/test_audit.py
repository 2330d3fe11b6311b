"""The audit trail: one event per change, append-only in the ORM and in the database, read and
exported by the audit admin only."""

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from baosong.audit.models import Event
from baosong.audit.record import record
from baosong.orgs import workflow
from baosong.orgs.models import Level, Membership, Role, Unit, User
from conftest import World, client_for

IP = "203.0.113.7"


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def only_event(since: int, action: str) -> Event:
    """The single event with this action written after `since`."""
    events = list(Event.objects.filter(id__gt=since, action=action))
    assert len(events) == 1, [e.action for e in Event.objects.filter(id__gt=since)]
    return events[0]


# One event per change ----------------------------------------------------------------------------


def test_each_unit_change_through_the_ui_writes_one_event_with_actor_role_ip_and_diff(
    world: World,
) -> None:
    admin = world.unit_admin_city
    client = client_for(admin)
    role = f"unit_admin@{world.city_a.path}"

    since = last_event_id()
    response = client.post(
        f"/units/{world.county_a.pk}/new/",
        {
            "code": "CA1-ZZB",
            "name": "组织办",
            "short_name": "组织办",
            "level": "internal",
            "sort_order": 3,
        },
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="CA1-ZZB")
    created = only_event(since, "unit.create")
    assert (created.actor_id, created.actor_login, created.actor_role, created.ip) == (
        admin.pk,
        admin.username,
        role,
        IP,
    )
    assert (created.object_type, created.object_id, created.unit_path) == (
        "unit",
        str(unit.pk),
        unit.path,
    )
    assert created.before is None
    assert created.after == {
        "code": "CA1-ZZB",
        "name": "组织办",
        "short_name": "组织办",
        "level": "internal",
        "parent": "CA1",
        "sort_order": 3,
        "is_active": True,
    }
    assert Event.objects.filter(id__gt=since).count() == 1

    since = last_event_id()
    response = client.post(
        f"/units/{unit.pk}/edit/",
        {
            "code": "CA1-ZZB",
            "name": "组织办公室",
            "short_name": "组织办",
            "level": "internal",
            "sort_order": 3,
        },
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    updated = only_event(since, "unit.update")
    assert updated.before is not None and updated.after is not None
    assert (updated.before["name"], updated.after["name"]) == ("组织办", "组织办公室")
    assert {k for k in updated.after if updated.after[k] != updated.before[k]} == {"name"}
    assert (updated.actor_id, updated.actor_role, updated.ip) == (admin.pk, role, IP)

    # Saving the form unchanged is not a change: no event.
    since = last_event_id()
    client.post(
        f"/units/{unit.pk}/edit/",
        {
            "code": "CA1-ZZB",
            "name": "组织办公室",
            "short_name": "组织办",
            "level": "internal",
            "sort_order": 3,
        },
    )
    assert not Event.objects.filter(id__gt=since).exists()

    since = last_event_id()
    assert client.post(f"/units/{unit.pk}/deactivate/", REMOTE_ADDR=IP).status_code == 302
    deactivated = only_event(since, "unit.deactivate")
    assert deactivated.before is not None and deactivated.after is not None
    assert (deactivated.before["is_active"], deactivated.after["is_active"]) == (True, False)
    assert deactivated.object_id == str(unit.pk)


def test_each_person_and_membership_change_writes_one_event(world: World) -> None:
    admin = world.unit_admin_county_a
    client = client_for(admin)
    role = f"unit_admin@{world.county_a.path}"
    today = timezone.localdate()

    since = last_event_id()
    response = client.post(
        "/people/new/",
        {
            "username": "liwei",
            "real_name": "李伟",
            "mobile": "13800138000",
            "email": "",
            "unit": world.county_a.pk,
            "role": Role.OFFICER,
            "start": today.isoformat(),
        },
        REMOTE_ADDR=IP,
    )
    assert response.status_code == 302
    person = User.objects.get(username="liwei")
    membership = person.memberships.get()
    created = only_event(since, "person.create")
    assert (created.actor_id, created.actor_role, created.ip, created.object_id) == (
        admin.pk,
        role,
        IP,
        str(person.pk),
    )
    assert created.after is not None and created.after["real_name"] == "李伟"
    assert "password" not in created.after
    granted = only_event(since, "membership.create")
    assert granted.object_id == str(membership.pk)
    assert granted.after == {
        "user": "liwei",
        "unit": "CA1",
        "role": "officer",
        "start": today.isoformat(),
        "end": None,
    }
    assert granted.unit_path == world.county_a.path
    only_event(since, "person.password_reset")  # the one-time password shown to the admin

    since = last_event_id()
    response = client.post(
        f"/people/{person.pk}/edit/", {"real_name": "李伟", "mobile": "13900139000", "email": ""}
    )
    assert response.status_code == 302
    edited = only_event(since, "person.update")
    assert edited.before is not None and edited.after is not None
    assert (edited.before["mobile"], edited.after["mobile"]) == ("13800138000", "13900139000")
    assert Event.objects.filter(id__gt=since).count() == 1

    since = last_event_id()
    response = client.post(
        f"/people/{person.pk}/memberships/new/",
        {"unit": world.county_a.pk, "role": Role.REVIEWER, "start": today.isoformat()},
    )
    assert response.status_code == 302
    second = Membership.objects.get(user=person, role=Role.REVIEWER)
    assert only_event(since, "membership.create").object_id == str(second.pk)

    since = last_event_id()
    response = client.post(f"/memberships/{second.pk}/end/", {"end": today.isoformat()})
    assert response.status_code == 302
    ended = only_event(since, "membership.end")
    assert ended.before is not None and ended.after is not None
    assert (ended.before["end"], ended.after["end"]) == (None, today.isoformat())

    since = last_event_id()
    assert client.post(f"/people/{person.pk}/deactivate/").status_code == 302
    off = only_event(since, "person.deactivate")
    assert off.before is not None and off.after is not None
    assert (off.before["is_active"], off.after["is_active"]) == (True, False)
    assert Event.objects.filter(id__gt=since).count() == 1


def test_a_refused_change_writes_no_event(world: World) -> None:
    client = client_for(world.unit_admin_county_a)
    since = last_event_id()
    assert (
        client.post(
            f"/units/{world.city_a.pk}/edit/",
            {"code": "CA", "name": "x", "short_name": "x", "level": "city", "sort_order": 0},
        ).status_code
        == 403
    )
    assert not Event.objects.filter(id__gt=since).exists()


# Append-only -------------------------------------------------------------------------------------


@pytest.fixture
def events(world: World) -> list[Event]:
    return list(Event.objects.all()[:3])


def test_events_refuse_update_and_delete_in_the_orm(events: list[Event]) -> None:
    event = events[0]
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        Event.objects.update(action="tampered")
    with pytest.raises(PermissionError):
        Event.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        Event.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        Event.objects.all().delete()
    with pytest.raises(PermissionError), transaction.atomic():
        Event.objects.bulk_update([event], ["action"])
    assert Event.objects.get(pk=event.pk).action != "tampered"


def test_the_database_itself_refuses_update_and_delete(events: list[Event]) -> None:
    count = Event.objects.count()
    assert count > 0
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET action = 'x'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_event")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_event SET before = NULL, after = NULL WHERE id = %s", [events[0].pk]
        )
    assert Event.objects.count() == count
    assert not Event.objects.filter(action="x").exists()
    # Appending still works.
    record("unit.update", actor=None, object_type="unit", object_repr="probe")
    assert Event.objects.count() == count + 1


# Reading the log ---------------------------------------------------------------------------------


def test_only_the_audit_admin_reads_and_exports_the_log(world: World) -> None:
    for person in (
        world.officer_county_a,
        world.unit_admin_province,
        world.system_admin,
        world.security_admin,
    ):
        client = client_for(person)
        assert client.get("/audit/").status_code == 403, person.username
        assert client.get("/audit/export.xlsx").status_code == 403, person.username
    client = client_for(world.audit_admin)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert "审计日志" in response.content.decode()


def shown(response: Any) -> int:
    match = re.search(r"共 (\d+) 条", response.content.decode())
    assert match, response.content.decode()[:500]
    return int(match.group(1))


def test_the_log_filters_by_actor_unit_subtree_action_and_dates(world: World) -> None:
    day_0 = timezone.now()
    workflow.update_unit(
        by=world.unit_admin_county_a,
        unit=world.county_a,
        code="CA1",
        name="安平县委组织部（首日）",
        short_name="安平县",
        sort_order=0,
    )
    with time_machine.travel(day_0 + dt.timedelta(days=7), tick=False):
        township = workflow.create_unit(
            by=world.unit_admin_county_a,
            parent=world.county_a,
            code="CA1-T",
            name="城关镇",
            short_name="城关镇",
            level=Level.TOWNSHIP,
        )
        workflow.update_unit(
            by=world.unit_admin_city,
            unit=world.county_a2,
            code="CA2",
            name="青石县（第七日）",
            short_name="青石县",
            sort_order=0,
        )
    with time_machine.travel(day_0 + dt.timedelta(days=10), tick=False):
        client = client_for(world.audit_admin)
        assert shown(client.get("/audit/")) == Event.objects.count()

        by_actor = client.get("/audit/", {"actor": world.unit_admin_county_a.username})
        actor_events = Event.objects.filter(actor_login=world.unit_admin_county_a.username)
        assert shown(by_actor) == actor_events.count() == 2

        # The subtree of county A: its own events and the township's, not county A2's.
        subtree = client.get("/audit/", {"unit": world.county_a.path})
        expected = Event.objects.filter(unit_path__startswith=world.county_a.path)
        assert shown(subtree) == expected.count()
        assert {world.county_a.path, township.path} <= set(
            expected.values_list("unit_path", flat=True)
        )
        assert not expected.filter(unit_path=world.county_a2.path).exists()
        page = subtree.content.decode()
        assert "城关镇" in page and "青石县（第七日）" not in page

        assert shown(client.get("/audit/", {"action": "unit.update"})) == 2

        day_7 = timezone.localdate(day_0 + dt.timedelta(days=7))
        window = {"start": day_7.isoformat(), "end": day_7.isoformat()}
        assert shown(client.get("/audit/", window)) == 2  # the township and county A2's rename
        both = client.get("/audit/", {**window, "action": "unit.update", "unit": world.city_a.path})
        assert shown(both) == 1
        assert "青石县（第七日）" in both.content.decode()
        until_day_0 = client.get(
            "/audit/", {"end": timezone.localdate(day_0).isoformat(), "action": "unit.update"}
        )
        assert shown(until_day_0) == 1
        assert "安平县委组织部（首日）" in until_day_0.content.decode()
        since_day_8 = client.get("/audit/", {"start": (day_7 + dt.timedelta(days=1)).isoformat()})
        assert (
            shown(since_day_8) == Event.objects.filter(at__gte=day_0 + dt.timedelta(days=8)).count()
        )
        assert shown(client.get("/audit/", {"start": "not a date"})) == Event.objects.count()


def test_the_export_has_the_rows_and_neutralizes_formula_like_text(world: World) -> None:
    formula = '=HYPERLINK("http://evil.example","点此")'
    unit = workflow.create_unit(
        by=world.unit_admin_county_a,
        parent=world.county_a,
        code="CA1-EVIL",
        name=formula,
        short_name="+1+2",
        level=Level.INTERNAL,
    )
    client = client_for(world.audit_admin)
    expected = Event.objects.count()
    response = client.get("/audit/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response["Content-Disposition"]

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    headers = list(rows[0])
    assert headers[:6] == ["时间", "操作人", "角色", "来源IP", "操作", "操作代码"]
    body = [dict(zip(headers, row, strict=True)) for row in rows[1:]]
    assert len(body) == expected
    created = next(
        r for r in body if r["操作代码"] == "unit.create" and r["对象ID"] == str(unit.pk)
    )
    assert created["对象"] == "'" + formula
    assert created["操作人"] == world.unit_admin_county_a.username
    assert created["操作"] == "新建单位"
    assert created["单位路径"] == unit.path
    assert json.loads(created["变更后"])["name"] == formula  # JSON text starts with "{"
    for row in body:
        for value in row.values():
            if isinstance(value, str):
                assert not value.startswith(("=", "+", "-", "@")), value

    export = Event.objects.get(action="audit.export")
    assert export.actor_id == world.audit_admin.pk


def test_the_export_follows_the_filters(world: World) -> None:
    client = client_for(world.audit_admin)
    response = client.get("/audit/export.xlsx", {"action": "membership.create"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == Event.objects.filter(action="membership.create").count() > 0
    assert {row[5] for row in rows} == {"membership.create"}


def test_a_client_for_the_audit_admin_can_sign_in_and_nothing_else(world: World) -> None:
    client = client_for(world.audit_admin)
    assert client.get("/").status_code == 200
    assert client.get("/units/").status_code == 403
    assert client.get("/people/").status_code == 403
    assert Client().get("/audit/").status_code == 302
