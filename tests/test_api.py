"""The JSON API under /api/v1/: auth, units, people, memberships, errors, the token command."""

import datetime as dt
import io
import json
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from baosong.audit.models import Event
from baosong.orgs import workflow
from baosong.orgs.models import ApiToken, Level, Membership, Role, Unit, User
from conftest import PASSWORD, World, client_for, make_person, make_unit

API = "/api/v1"


# Helpers -----------------------------------------------------------------------------------------


def token_for(user: User, name: str = "测试") -> str:
    _token, raw = workflow.create_api_token(by=user, name=name)
    return raw


def api_client(user: User) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_for(user)}"})


def send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A JSON request; returns the response (its JSON is response.json())."""
    data = json.dumps(body) if body is not None else None
    call = getattr(client, method.lower())
    if data is None:
        return call(f"{API}{path}")
    return call(f"{API}{path}", data=data, content_type="application/json")


def event(action: str, obj: Any) -> Event:
    return Event.objects.get(action=action, object_id=str(obj.pk))


def ids(items: list[dict[str, Any]]) -> set[int]:
    return {item["id"] for item in items}


def next_unit_id(value: int) -> None:
    """Move the unit id sequence so the next unit gets this id (for the path-prefix trap)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('orgs_unit', 'id'), %s)", [value - 1]
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = 'orgs_unit'", [value - 1]
            )


# Schema and authentication -----------------------------------------------------------------------


def test_openapi_schema_is_served_and_lists_every_path(db: None) -> None:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = set(schema["paths"])
    for path in [
        "/units",
        "/units/{unit_id}",
        "/units/{unit_id}/deactivate",
        "/units/{unit_id}/reactivate",
        "/people",
        "/people/{person_id}",
        "/people/{person_id}/deactivate",
        "/people/{person_id}/reactivate",
        "/people/{person_id}/memberships",
        "/memberships/{membership_id}/end",
        "/me",
    ]:
        assert f"{API}{path}" in paths
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert Client().get(f"{API}/docs").status_code == 200


def test_request_without_credentials_gets_401_json(world: World) -> None:
    for method, path in [("get", "/units"), ("get", "/me"), ("post", "/units")]:
        response = send(Client(), method, path, {} if method == "post" else None)
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "未登录：请提供个人令牌或先登录。"}
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Unit.objects.filter(code="").exists()


def test_bearer_token_identifies_the_caller_and_records_its_use(world: World) -> None:
    raw = token_for(world.officer_county_a)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"{API}/me")
    assert response.status_code == 200
    me = response.json()
    assert me["username"] == "officer_county_a"
    assert me["platform_role"] == ""
    assert [(m["unit"]["code"], m["role"]) for m in me["memberships"]] == [("CA1", "officer")]
    token = ApiToken.objects.get(user=world.officer_county_a)
    assert token.last_used_at is not None


def test_token_last_used_at_is_written_at_most_once_a_minute(world: World) -> None:
    raw = token_for(world.officer_county_a)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.get(f"{API}/me").status_code == 200
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        assert client.get(f"{API}/me").status_code == 200
    assert ApiToken.objects.get(user=world.officer_county_a).last_used_at == start
    later = start + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        assert client.get(f"{API}/me").status_code == 200
    assert ApiToken.objects.get(user=world.officer_county_a).last_used_at == later


def test_revoked_token_is_refused(world: World) -> None:
    token, raw = workflow.create_api_token(by=world.unit_admin_city, name="脚本")
    workflow.revoke_api_token(by=world.unit_admin_city, token=token)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"{API}/units")
    assert response.status_code == 401
    assert response.json() == {"detail": "令牌无效或已撤销。"}
    assert event("token.revoke", token).actor == world.unit_admin_city


def test_token_of_a_deactivated_person_is_refused(world: World) -> None:
    raw = token_for(world.officer_county_a)
    workflow.set_person_active(by=world.security_admin, person=world.officer_county_a, active=False)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"{API}/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "该账号已停用。"}


def test_unknown_token_is_refused_even_when_a_session_is_signed_in(world: World) -> None:
    client = client_for(world.unit_admin_city)
    assert client.get(f"{API}/me").status_code == 200
    response = client.get(f"{API}/me", headers={"Authorization": "Bearer bs_not-a-token"})
    assert response.status_code == 401


def test_session_post_without_csrf_token_is_refused_and_with_it_accepted(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    login = client.post(
        "/login/",
        {
            "username": "unit_admin_city",
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
    )
    assert login.status_code == 302
    body = {"parent_id": world.city_a.pk, "code": "CA9", "name": "新县", "short_name": "新县"}
    body["level"] = "county"

    refused = send(client, "post", "/units", body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF 校验失败，请刷新页面后重试。"}
    assert not Unit.objects.filter(code="CA9").exists()

    assert send(client, "get", "/units").status_code == 200
    accepted = client.post(
        f"{API}/units",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert accepted.status_code == 201
    assert Unit.objects.get(code="CA9").parent == world.city_a


def test_session_with_a_password_to_change_is_refused(world: World) -> None:
    temporary = workflow.reset_password(by=world.security_admin, person=world.officer_county_a)
    client = Client()
    login = client.post("/login/", {"username": "officer_county_a", "password": temporary})
    assert login.status_code == 302
    response = client.get(f"{API}/me")
    assert response.status_code == 403
    assert response.json() == {"detail": "请先在网页上修改初始密码。"}


def test_create_api_token_command_prints_a_working_token(world: World) -> None:
    out = io.StringIO()
    call_command("create_api_token", "editor_city", "--name", "夜间同步", stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith("bs_") and "\n" not in raw
    token = ApiToken.objects.get(user=world.editor_city)
    assert token.name == "夜间同步"
    assert event("token.create", token).actor == world.editor_city
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"{API}/me")
    assert response.json()["username"] == "editor_city"


def test_create_api_token_command_refuses_unknown_and_inactive_accounts(world: World) -> None:
    with pytest.raises(CommandError, match="不存在"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())
    workflow.set_person_active(by=world.security_admin, person=world.outsider, active=False)
    with pytest.raises(CommandError, match="已停用"):
        call_command("create_api_token", "outsider", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


# Units: reading ----------------------------------------------------------------------------------


def test_unit_admin_lists_own_subtree_and_its_ancestors(world: World) -> None:
    response = send(api_client(world.unit_admin_city), "get", "/units")
    assert response.status_code == 200
    page = response.json()
    expected = {world.province.pk, world.city_a.pk, world.county_a.pk, world.county_a2.pk}
    assert ids(page["items"]) == expected
    assert page["count"] == 4 and page["page"] == 1 and page["page_size"] == 50
    first = page["items"][0]
    assert first["code"] == "P" and first["level"] == "province" and first["level_label"] == "省"


def test_units_list_filters_by_text_level_parent_activity_and_subtree(world: World) -> None:
    client = api_client(world.system_admin)
    workflow.deactivate_unit(by=world.system_admin, unit=world.county_a2)

    def listed(query: str) -> set[int]:
        response = send(client, "get", f"/units?{query}")
        assert response.status_code == 200, response.content
        return ids(response.json()["items"])

    assert listed("q=白河") == {world.city_b.pk}
    assert listed("q=ca1") == {world.county_a.pk}
    assert listed("level=county") == {world.county_a.pk, world.county_a2.pk, world.county_b.pk}
    assert listed(f"parent={world.city_a.pk}") == {world.county_a.pk, world.county_a2.pk}
    assert listed("active=false") == {world.county_a2.pk}
    assert listed(f"under={world.city_a.pk}&active=true") == {world.city_a.pk, world.county_a.pk}
    assert send(client, "get", "/units?level=galaxy").status_code == 422


def test_units_list_pages_and_caps_page_size(world: World) -> None:
    client = api_client(world.system_admin)
    everything = send(client, "get", "/units?page_size=200").json()
    assert everything["count"] == 8
    pages = [send(client, "get", f"/units?page_size=3&page={n}").json() for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 2, 0]
    assert [i["id"] for p in pages for i in p["items"]] == [i["id"] for i in everything["items"]]
    too_big = send(client, "get", "/units?page_size=201")
    assert too_big.status_code == 422
    assert too_big.json()["errors"] == {"page_size": ["不能大于 200。"]}
    assert send(client, "get", "/units?page=0").status_code == 422


def test_units_list_query_count_does_not_grow_with_the_page(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = api_client(world.system_admin)
    for n in range(20):
        make_unit(world.county_b, f"T{n}", Level.TOWNSHIP)
    send(client, "get", "/units")  # first call stamps last_used_at
    with django_assert_max_num_queries(4):
        assert len(send(client, "get", "/units?page_size=100").json()["items"]) == 28


def test_unit_detail_shows_ancestors_children_and_rights(world: World) -> None:
    response = send(api_client(world.unit_admin_city), "get", f"/units/{world.city_a.pk}")
    assert response.status_code == 200
    unit = response.json()
    assert unit["path"] == world.city_a.path
    assert [a["code"] for a in unit["ancestors"]] == ["P"]
    assert [c["code"] for c in unit["children"]] == ["CA1", "CA2"]
    assert unit["can_manage"] is True
    assert unit["can_restructure"] is False


def test_unit_admin_of_city_a_cannot_see_a_county_of_city_b(world: World) -> None:
    client = api_client(world.unit_admin_city)
    response = send(client, "get", f"/units/{world.county_b.pk}")
    assert response.status_code == 404
    assert response.json() == {"detail": "对象不存在或无权查看。"}
    assert send(client, "patch", f"/units/{world.county_b.pk}", {"name": "改名"}).status_code == 404
    assert send(client, "get", f"/units?under={world.county_b.pk}").status_code == 404
    assert Unit.objects.get(pk=world.county_b.pk).name == "云溪县委组织部"


def test_sibling_county_is_not_found(world: World) -> None:
    client = api_client(world.unit_admin_county_a)
    assert send(client, "get", f"/units/{world.county_a2.pk}").status_code == 404
    assert send(client, "post", f"/units/{world.county_a2.pk}/deactivate").status_code == 404


def test_audit_admin_gets_403_on_the_units_list_and_404_on_a_unit(world: World) -> None:
    client = api_client(world.audit_admin)
    response = send(client, "get", "/units")
    assert response.status_code == 403
    assert response.json() == {"detail": "无权查看单位。"}
    assert send(client, "get", f"/units/{world.province.pk}").status_code == 404


def test_unit_admin_never_sees_a_unit_whose_id_only_starts_with_its_own(world: World) -> None:
    # The trap: /1/3/4/ must not match /1/3/41/ by a bare string prefix.
    own = make_unit(world.city_a, "TRAP-OWN", Level.COUNTY)
    next_unit_id(own.pk * 10 + 1)
    lookalike = make_unit(world.city_a, "TRAP-LOOK", Level.COUNTY)
    assert lookalike.path.startswith(own.path.rstrip("/"))
    assert not lookalike.path.startswith(own.path)
    admin = make_person("trap_admin", own, Role.UNIT_ADMIN)
    make_person("trap_member", lookalike, Role.OFFICER)
    client = api_client(admin)

    listed = ids(send(client, "get", "/units?page_size=200").json()["items"])
    assert own.pk in listed and lookalike.pk not in listed
    assert send(client, "get", f"/units/{lookalike.pk}").status_code == 404
    response = send(client, "patch", f"/units/{lookalike.pk}", {"name": "改名"})
    assert response.status_code == 404
    people = send(client, "get", "/people?page_size=200").json()["items"]
    assert {p["username"] for p in people} == {"trap_admin"}
    subtree = send(api_client(world.system_admin), "get", f"/units?under={own.pk}").json()
    assert ids(subtree["items"]) == {own.pk}


# Units: writing ----------------------------------------------------------------------------------


def test_unit_admin_creates_a_unit_under_own_unit(world: World) -> None:
    body = {
        "parent_id": world.city_a.pk,
        "code": "CA3",
        "name": "中共河口县委组织部",
        "short_name": "河口县委组织部",
        "level": "county",
        "sort_order": 3,
    }
    response = send(api_client(world.unit_admin_city), "post", "/units", body)
    assert response.status_code == 201
    created = response.json()
    unit = Unit.objects.get(code="CA3")
    assert created["id"] == unit.pk and created["path"] == f"{world.city_a.path}{unit.pk}/"
    assert (unit.parent, unit.level, unit.sort_order) == (world.city_a, Level.COUNTY, 3)
    audit = event("unit.create", unit)
    assert audit.actor == world.unit_admin_city
    assert audit.actor_role == f"unit_admin@{world.city_a.path}"
    assert audit.ip == "127.0.0.1"


def test_officer_cannot_create_units(world: World) -> None:
    body = {"parent_id": world.county_a.pk, "code": "X1", "name": "科室", "short_name": "科室"}
    body["level"] = "internal"
    response = send(api_client(world.officer_county_a), "post", "/units", body)
    assert response.status_code == 403
    assert response.json() == {"detail": "无权管理该单位。"}
    assert not Unit.objects.filter(code="X1").exists()
    assert not Event.objects.filter(action="unit.create", actor=world.officer_county_a).exists()


def test_only_the_system_admin_creates_a_root_unit(world: World) -> None:
    body = {"code": "R1", "name": "新省委组织部", "short_name": "新省", "level": "province"}
    refused = send(api_client(world.unit_admin_province), "post", "/units", body)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "只有系统管理员可以新建顶级单位。"}
    accepted = send(api_client(world.system_admin), "post", "/units", body)
    assert accepted.status_code == 201
    assert Unit.objects.get(code="R1").parent is None
    assert event("unit.create", Unit.objects.get(code="R1")).actor_role == "system_admin"


def test_workflow_validation_error_is_422_with_chinese_messages(world: World) -> None:
    client = api_client(world.unit_admin_city)
    body = {"parent_id": world.city_a.pk, "code": "CA1", "name": "重复", "short_name": "重复"}
    body["level"] = "county"
    response = send(client, "post", "/units", body)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "单位编码“CA1”已被使用。",
        "errors": {"code": ["单位编码“CA1”已被使用。"]},
    }
    body = {**body, "code": "CA8", "level": "city"}
    wrong_level = send(client, "post", "/units", body).json()
    assert wrong_level["errors"] == {"level": ["“市”级单位不能隶属于“市”级单位。"]}
    assert not Unit.objects.filter(code="CA8").exists()


def test_malformed_input_is_422_with_chinese_messages_per_field(world: World) -> None:
    body = {"parent_id": "abc", "name": "缺编码", "short_name": "缺", "level": "county"}
    response = send(api_client(world.unit_admin_city), "post", "/units", body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["parent_id"] == ["应为整数。"]
    assert errors["code"] == ["此项为必填项。"]
    assert response.json()["detail"].startswith("请求数据有误。")


def test_patch_unit_changes_only_the_fields_sent(world: World) -> None:
    client = api_client(world.unit_admin_city)
    response = send(client, "patch", f"/units/{world.county_a.pk}", {"short_name": "安平县"})
    assert response.status_code == 200
    assert response.json()["short_name"] == "安平县"
    unit = Unit.objects.get(pk=world.county_a.pk)
    assert (unit.short_name, unit.name, unit.code) == ("安平县", "安平县委组织部", "CA1")
    audit = event("unit.update", unit)
    assert (audit.before or {})["short_name"] == "安平县委组织部"
    assert (audit.after or {})["short_name"] == "安平县"


@pytest.mark.parametrize(
    "body",
    [
        {"is_active": False},
        {"name": "改名", "is_active": False},
        {"path": "/9/"},
        {"id": 999},
        {"depth": 7},
    ],
)
def test_patch_unit_with_read_only_fields_changes_nothing(
    world: World, body: dict[str, Any]
) -> None:
    before = Unit.objects.get(pk=world.county_a.pk).snapshot()
    response = send(api_client(world.unit_admin_city), "patch", f"/units/{world.county_a.pk}", body)
    assert response.status_code == 422
    assert "不支持该字段" in response.json()["detail"]
    unit = Unit.objects.get(pk=world.county_a.pk)
    assert unit.snapshot() == before and unit.path == world.county_a.path
    assert (
        not Event.objects.filter(object_id=str(unit.pk), action__startswith="unit.")
        .exclude(action="unit.create")
        .exists()
    )


def test_patch_parent_moves_the_unit_with_its_subtree(world: World) -> None:
    township = make_unit(world.county_a, "CA1-T", Level.TOWNSHIP)
    body = {"parent_id": world.city_b.pk}
    response = send(
        api_client(world.unit_admin_province), "patch", f"/units/{world.county_a.pk}", body
    )
    assert response.status_code == 200
    moved = Unit.objects.get(pk=world.county_a.pk)
    assert moved.parent == world.city_b
    assert moved.path == f"{world.city_b.path}{moved.pk}/"
    assert response.json()["path"] == moved.path
    assert Unit.objects.get(pk=township.pk).path == f"{moved.path}{township.pk}/"
    assert (event("unit.move", moved).before or {})["path"] == world.county_a.path


def test_unit_admin_cannot_move_a_unit_out_of_sight_or_restructure_own_unit(world: World) -> None:
    client = api_client(world.unit_admin_city)
    body = {"parent_id": world.city_b.pk}
    assert send(client, "patch", f"/units/{world.county_a.pk}", body).status_code == 404
    body = {"parent_id": world.county_a2.pk}
    refused = send(client, "patch", f"/units/{world.city_a.pk}", body)
    assert refused.status_code == 403
    assert Unit.objects.get(pk=world.city_a.pk).parent == world.province


def test_patch_that_fails_halfway_leaves_the_unit_as_it_was(world: World) -> None:
    body = {"name": "新名称", "parent_id": world.county_a2.pk}
    response = send(api_client(world.unit_admin_city), "patch", f"/units/{world.county_a.pk}", body)
    assert response.status_code == 422
    assert response.json()["errors"] == {"level": ["“县”级单位不能隶属于“县”级单位。"]}
    assert Unit.objects.get(pk=world.county_a.pk).name == "安平县委组织部"
    assert not Event.objects.filter(action="unit.update").exists()


def test_deactivate_and_reactivate_a_unit(world: World) -> None:
    client = api_client(world.unit_admin_city)
    response = send(client, "post", f"/units/{world.county_a2.pk}/deactivate")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert Unit.objects.get(pk=world.county_a2.pk).is_active is False
    assert event("unit.deactivate", world.county_a2).actor == world.unit_admin_city
    response = send(client, "post", f"/units/{world.county_a2.pk}/reactivate")
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert event("unit.reactivate", world.county_a2).actor == world.unit_admin_city


def test_unit_with_current_members_cannot_be_deactivated(world: World) -> None:
    response = send(
        api_client(world.unit_admin_city), "post", f"/units/{world.county_a.pk}/deactivate"
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": "该单位还有 3 条在任任职，请先结束这些任职。",
        "errors": {},
    }
    assert Unit.objects.get(pk=world.county_a.pk).is_active


def test_unit_admin_cannot_deactivate_own_top_unit(world: World) -> None:
    response = send(
        api_client(world.unit_admin_county_a), "post", f"/units/{world.county_a.pk}/deactivate"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "无权停用该单位。"}


# People ------------------------------------------------------------------------------------------


def test_unit_admin_lists_people_who_served_in_the_subtree(world: World) -> None:
    response = send(api_client(world.unit_admin_city), "get", "/people")
    assert response.status_code == 200
    page = response.json()
    usernames = [p["username"] for p in page["items"]]
    assert set(usernames) == {
        "officer_county_a",
        "reviewer_county_a",
        "editor_city",
        "unit_admin_city",
        "unit_admin_county_a",
    }
    assert page["count"] == 5
    officer = next(p for p in page["items"] if p["username"] == "officer_county_a")
    assert [(m["unit"]["code"], m["role_label"]) for m in officer["memberships"]] == [
        ("CA1", "信息员")
    ]


def test_people_list_filters_and_pages(world: World) -> None:
    client = api_client(world.security_admin)
    workflow.set_person_active(by=world.security_admin, person=world.outsider, active=False)

    def listed(query: str) -> set[str]:
        response = send(client, "get", f"/people?{query}")
        assert response.status_code == 200, response.content
        return {p["username"] for p in response.json()["items"]}

    assert listed("q=reviewer") == {"reviewer_county_a"}
    assert listed(f"unit={world.county_a.pk}") == {
        "officer_county_a",
        "reviewer_county_a",
        "unit_admin_county_a",
    }
    assert listed(f"unit={world.city_a.pk}&role=unit_admin") == {
        "unit_admin_city",
        "unit_admin_county_a",
    }
    assert listed("active=false") == {"outsider"}
    assert listed("role=editor") == {"editor_city"}
    first = send(client, "get", "/people?page_size=4&page=1").json()
    second = send(client, "get", "/people?page_size=4&page=2").json()
    assert first["count"] == second["count"] == User.objects.count()
    assert len(first["items"]) == 4
    assert not ids(first["items"]) & ids(second["items"])
    assert send(client, "get", "/people?role=boss").status_code == 422


def test_people_list_query_count_does_not_grow_with_the_page(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = api_client(world.security_admin)
    for n in range(15):
        make_person(f"extra{n}", world.county_b, Role.OFFICER)
    send(client, "get", "/people")
    with django_assert_max_num_queries(5):
        assert len(send(client, "get", "/people?page_size=100").json()["items"]) == 26


def test_officer_and_audit_admin_cannot_list_people(world: World) -> None:
    for user in (world.officer_county_a, world.audit_admin):
        response = send(api_client(user), "get", "/people")
        assert response.status_code == 403
        assert response.json() == {"detail": "无权查看人员。"}


def test_person_detail_has_memberships_and_history(world: World) -> None:
    membership = Membership.objects.get(user=world.editor_city)
    workflow.end_membership(by=None, membership=membership, end=timezone.localdate())
    workflow.add_membership(
        by=None, person=world.editor_city, unit=world.county_a, role=Role.REVIEWER
    )
    response = send(api_client(world.unit_admin_city), "get", f"/people/{world.editor_city.pk}")
    assert response.status_code == 200
    person = response.json()
    assert person["username"] == "editor_city" and person["can_manage"] is True
    assert {(m["unit"]["code"], m["role"]) for m in person["memberships"]} == {
        ("CA", "editor"),  # ends today, so still current today
        ("CA1", "reviewer"),
    }
    assert len(person["history"]) == 2


def test_unit_admin_cannot_see_a_person_of_another_city(world: World) -> None:
    response = send(api_client(world.unit_admin_city), "get", f"/people/{world.outsider.pk}")
    assert response.status_code == 404


def test_security_admin_creates_a_person_with_a_one_time_password(world: World) -> None:
    body = {
        "username": "new_officer",
        "real_name": "李晓梅",
        "mobile": "13912345678",
        "unit_id": world.county_b.pk,
        "role": "officer",
        "start": "2026-01-05",
    }
    response = send(api_client(world.security_admin), "post", "/people", body)
    assert response.status_code == 201
    created = response.json()
    person = User.objects.get(username="new_officer")
    assert created["person"]["id"] == person.pk
    assert created["person"]["memberships"][0]["start"] == "2026-01-05"
    assert person.check_password(created["temporary_password"])
    assert person.must_change_password
    membership = Membership.objects.get(user=person)
    assert (membership.unit, membership.role) == (world.county_b, Role.OFFICER)
    assert event("person.create", person).actor == world.security_admin
    assert event("membership.create", membership).actor == world.security_admin
    assert event("person.password_reset", person).actor == world.security_admin


def test_security_admin_creates_an_account_without_a_unit(world: World) -> None:
    body = {"username": "platform_only", "real_name": "王平"}
    response = send(api_client(world.security_admin), "post", "/people", body)
    assert response.status_code == 201
    assert response.json()["person"]["memberships"] == []
    assert User.objects.filter(username="platform_only").exists()


def test_unit_admin_creates_people_only_inside_own_subtree(world: World) -> None:
    client = api_client(world.unit_admin_city)
    body = {"username": "ca2_officer", "real_name": "赵六", "unit_id": world.county_a2.pk}
    body["role"] = "officer"
    assert send(client, "post", "/people", body).status_code == 201
    assert Membership.objects.get(user__username="ca2_officer").unit == world.county_a2

    outside = {**body, "username": "cb_officer", "unit_id": world.county_b.pk}
    assert send(client, "post", "/people", outside).status_code == 404
    above = {**body, "username": "p_officer", "unit_id": world.province.pk}
    refused = send(client, "post", "/people", above)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "无权在该单位下添加人员。"}
    assert not User.objects.filter(username__in=["cb_officer", "p_officer"]).exists()


def test_officer_cannot_create_people(world: World) -> None:
    body = {"username": "x_person", "real_name": "某人", "unit_id": world.county_a.pk}
    body["role"] = "officer"
    response = send(api_client(world.officer_county_a), "post", "/people", body)
    assert response.status_code == 403
    assert not User.objects.filter(username="x_person").exists()


def test_create_person_needs_unit_and_role_together_and_a_free_login(world: World) -> None:
    client = api_client(world.security_admin)
    half = send(
        client,
        "post",
        "/people",
        {"username": "half", "real_name": "半", "unit_id": world.county_a.pk},
    )
    assert half.status_code == 422
    assert half.json()["errors"] == {"role": ["请同时指定所在单位（unit_id）和角色（role）。"]}
    taken = send(client, "post", "/people", {"username": "OUTSIDER", "real_name": "重名"})
    assert taken.status_code == 422
    assert taken.json()["errors"] == {"username": ["登录名“OUTSIDER”已被使用。"]}
    password = send(
        client, "post", "/people", {"username": "pw", "real_name": "某", "password": "x"}
    )
    assert password.status_code == 422
    assert not User.objects.filter(username__in=["half", "pw"]).exists()


def test_inactive_unit_is_refused_for_a_new_person_and_nothing_is_left_behind(world: World) -> None:
    workflow.deactivate_unit(by=None, unit=world.county_a2)
    body = {
        "username": "late",
        "real_name": "迟到",
        "unit_id": world.county_a2.pk,
        "role": "officer",
    }
    response = send(api_client(world.security_admin), "post", "/people", body)
    assert response.status_code == 422
    assert response.json()["errors"] == {"unit_id": ["该单位已停用。"]}
    assert not User.objects.filter(username="late").exists()
    assert not Event.objects.filter(action="person.create", object_repr__contains="late").exists()


def test_patch_person_updates_contact_details(world: World) -> None:
    body = {"mobile": "13800001111", "email": "officer@example.cn"}
    path = f"/people/{world.officer_county_a.pk}"
    response = send(api_client(world.unit_admin_county_a), "patch", path, body)
    assert response.status_code == 200
    person = User.objects.get(pk=world.officer_county_a.pk)
    assert (person.mobile, person.email, person.real_name) == (
        "13800001111",
        "officer@example.cn",
        "officer_county_a",
    )
    assert (event("person.update", person).after or {})["mobile"] == "13800001111"
    bad = send(api_client(world.unit_admin_county_a), "patch", path, {"mobile": "12345"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == {"mobile": ["手机号码应为 11 位中国大陆手机号。"]}


@pytest.mark.parametrize(
    "body",
    [
        {"is_active": False},
        {"platform_role": "security_admin"},
        {"real_name": "改名", "platform_role": "system_admin"},
        {"password": "Another-Pass-2026!"},
        {"username": "renamed"},
        {"must_change_password": False},
    ],
)
def test_patch_person_with_read_only_fields_changes_nothing(
    world: World, body: dict[str, Any]
) -> None:
    person = world.officer_county_a
    before = (person.snapshot(), person.password)
    response = send(api_client(world.security_admin), "patch", f"/people/{person.pk}", body)
    assert response.status_code == 422
    person = User.objects.get(pk=person.pk)
    assert (person.snapshot(), person.password) == before
    assert not Event.objects.filter(
        object_id=str(person.pk), action__in=["person.update", "person.platform_role"]
    ).exists()


def test_unit_admin_cannot_edit_a_person_who_also_serves_elsewhere(world: World) -> None:
    workflow.add_membership(
        by=None, person=world.officer_county_a, unit=world.county_b, role=Role.OFFICER
    )
    path = f"/people/{world.officer_county_a.pk}"
    response = send(api_client(world.unit_admin_county_a), "patch", path, {"real_name": "改名"})
    assert response.status_code == 403
    assert response.json() == {"detail": "无权管理该人员。"}


def test_deactivate_and_reactivate_a_person(world: World) -> None:
    client = api_client(world.unit_admin_city)
    path = f"/people/{world.officer_county_a.pk}"
    response = send(client, "post", f"{path}/deactivate")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert User.objects.get(pk=world.officer_county_a.pk).is_active is False
    assert event("person.deactivate", world.officer_county_a).actor == world.unit_admin_city
    response = send(client, "post", f"{path}/reactivate")
    assert response.status_code == 200 and response.json()["is_active"] is True
    assert event("person.reactivate", world.officer_county_a).actor == world.unit_admin_city


def test_nobody_deactivates_their_own_account(world: World) -> None:
    path = f"/people/{world.unit_admin_city.pk}/deactivate"
    response = send(api_client(world.unit_admin_city), "post", path)
    assert response.status_code == 422
    assert response.json()["detail"] == "不能停用自己的账号。"


# Memberships and me ------------------------------------------------------------------------------


def test_unit_admin_adds_and_ends_a_membership(world: World) -> None:
    client = api_client(world.unit_admin_city)
    body = {"unit_id": world.county_a2.pk, "role": "reviewer", "start": "2026-02-01"}
    response = send(client, "post", f"/people/{world.officer_county_a.pk}/memberships", body)
    assert response.status_code == 201
    membership = Membership.objects.get(pk=response.json()["id"])
    assert (membership.unit, membership.role, membership.start) == (
        world.county_a2,
        Role.REVIEWER,
        dt.date(2026, 2, 1),
    )
    assert event("membership.create", membership).actor == world.unit_admin_city

    response = send(client, "post", f"/memberships/{membership.pk}/end", {"end": "2026-03-31"})
    assert response.status_code == 200
    assert response.json()["end"] == "2026-03-31"
    assert Membership.objects.get(pk=membership.pk).end == dt.date(2026, 3, 31)
    assert event("membership.end", membership).actor == world.unit_admin_city


def test_membership_outside_own_subtree_is_refused(world: World) -> None:
    client = api_client(world.unit_admin_county_a)
    body = {"unit_id": world.city_a.pk, "role": "officer"}
    response = send(client, "post", f"/people/{world.officer_county_a.pk}/memberships", body)
    assert response.status_code == 403
    outsider_membership = Membership.objects.get(user=world.outsider)
    response = send(client, "post", f"/memberships/{outsider_membership.pk}/end", {})
    assert response.status_code == 404
    assert Membership.objects.get(pk=outsider_membership.pk).end is None
    assert send(client, "post", "/memberships/999999/end", {}).status_code == 404


def test_ending_a_membership_without_a_body_ends_it_today(world: World) -> None:
    membership = Membership.objects.get(user=world.officer_county_a)
    client = api_client(world.unit_admin_county_a)
    response = client.post(f"{API}/memberships/{membership.pk}/end", data=b"", content_type="")
    assert response.status_code == 200
    assert Membership.objects.get(pk=membership.pk).end == timezone.localdate()
    assert event("membership.end", membership).actor == world.unit_admin_county_a


def test_body_that_is_not_json_is_400_in_chinese(world: World) -> None:
    client = api_client(world.unit_admin_city)
    path = f"{API}/units/{world.county_a.pk}"
    response = client.patch(path, data="name=x", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体不是有效的 JSON。"}
    response = client.patch(path, data="[1]", content_type="application/json")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "请求数据有误。应为 JSON 对象。",
        "errors": {"__all__": ["应为 JSON 对象。"]},
    }


def test_end_date_before_start_is_422(world: World) -> None:
    membership = Membership.objects.get(user=world.officer_county_a)
    body = {"end": (membership.start - dt.timedelta(days=1)).isoformat()}
    response = send(
        api_client(world.unit_admin_county_a), "post", f"/memberships/{membership.pk}/end", body
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"end": ["终止日期不能早于起始日期。"]}


def test_me_shows_the_platform_role(world: World) -> None:
    response = send(api_client(world.audit_admin), "get", "/me")
    assert response.status_code == 200
    me = response.json()
    assert (me["platform_role"], me["platform_role_label"]) == ("audit_admin", "审计管理员")
    assert me["memberships"] == []


def test_api_docs_page_loads_swagger_from_our_static_files_not_a_cdn(world: Any) -> None:
    client = client_for(world.security_admin)
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/" in page
    assert "cdn." not in page and "unpkg" not in page
