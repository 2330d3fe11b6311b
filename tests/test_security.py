"""Sign-in limits, sessions, password rules, CSRF, deployment checks and the health check."""

import datetime as dt
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from baosong.audit.models import Event
from baosong.orgs import workflow
from baosong.orgs.models import User
from conftest import PASSWORD, World, client_for

ROOT = Path(__file__).resolve().parents[1]
GOOD_PASSWORD = "Qingshan#Report-2026"
SIGN_IN_ERROR = "登录名或密码不正确。"
LOCKED = "登录已暂时锁定"


def sign_in(client: Client, username: str, password: str, ip: str = "127.0.0.1") -> int:
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    ).status_code


def is_signed_in(client: Client) -> bool:
    response = client.get("/profile/")
    if response.status_code == 302:
        assert response["Location"].startswith("/login/")
        return False
    assert response.status_code == 200
    return True


# Lockout -----------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(world: World) -> None:
    user = world.officer_county_a
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        # Each attempt from a different address, so only the account limit applies.
        for attempt in range(4):
            response = client.post(
                "/login/",
                {"username": user.username, "password": "wrong-password"},
                REMOTE_ADDR=f"10.0.0.{attempt + 1}",
            )
            assert response.status_code == 200
            assert SIGN_IN_ERROR in response.content.decode()
        # The fifth failure already answers with the lockout page.
        assert sign_in(client, user.username, "wrong-password", "10.0.0.5") == 429

        response = client.post(
            "/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.6"
        )
        assert response.status_code == 429
        page = response.content.decode()
        assert LOCKED in page and "15 分钟" in page
        assert not is_signed_in(client)

        traveller.shift(dt.timedelta(minutes=14, seconds=59))
        assert sign_in(client, user.username, PASSWORD, "10.0.0.7") == 429

        traveller.shift(dt.timedelta(seconds=2))
        assert sign_in(client, user.username, PASSWORD, "10.0.0.8") == 302
        assert is_signed_in(client)

    failed = Event.objects.filter(action="auth.login_failed", actor_login=user.username)
    assert failed.count() >= 5
    assert {e.ip for e in failed} >= {f"10.0.0.{n}" for n in range(1, 6)}
    lockouts = Event.objects.filter(action="auth.lockout", actor_login=user.username)
    assert lockouts.exists() and all(e.actor is None for e in lockouts)
    assert Event.objects.filter(action="auth.login", actor=user).exists()


def test_five_failures_from_one_address_lock_that_address_for_every_account(
    world: World,
) -> None:
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for name in ("zhangsan", "lisi", "wangwu", "zhaoliu"):
            assert sign_in(client, name, "guess-1234", "192.0.2.9") == 200
        assert sign_in(client, "sunqi", "guess-1234", "192.0.2.9") == 429
        # A real account with its right password, from that address: refused.
        assert sign_in(client, world.editor_city.username, PASSWORD, "192.0.2.9") == 429
        # The same account from another address signs in.
        other = Client()
        assert sign_in(other, world.editor_city.username, PASSWORD, "192.0.2.10") == 302

        traveller.shift(dt.timedelta(minutes=15, seconds=1))
        assert sign_in(client, world.editor_city.username, PASSWORD, "192.0.2.9") == 302

    lockouts = Event.objects.filter(action="auth.lockout")
    assert lockouts.exists()
    assert {e.ip for e in lockouts} == {"192.0.2.9"}
    assert Event.objects.filter(action="auth.login_failed", ip="192.0.2.9").count() >= 5


def test_an_unknown_login_name_gets_the_same_answer_as_a_wrong_password(world: World) -> None:
    client = Client()
    unknown = client.post(
        "/login/", {"username": "nobody-here", "password": PASSWORD}, REMOTE_ADDR="10.1.0.1"
    )
    wrong = client.post(
        "/login/",
        {"username": world.officer_county_a.username, "password": "Wrong-Pass-2026!"},
        REMOTE_ADDR="10.1.0.2",
    )
    assert unknown.status_code == wrong.status_code == 200

    def error_of(page: str) -> str:
        start = page.index('<ul class="errorlist')
        return page[start : page.index("</ul>", start)]

    assert error_of(unknown.content.decode()) == error_of(wrong.content.decode())
    assert SIGN_IN_ERROR in error_of(wrong.content.decode())
    events = Event.objects.filter(action="auth.login_failed").order_by("id")
    assert [(e.actor_login, e.actor_id) for e in events] == [
        ("nobody-here", None),
        (world.officer_county_a.username, None),
    ]


def test_a_deactivated_account_cannot_sign_in_and_is_told_nothing_more(world: World) -> None:
    workflow.set_person_active(by=world.security_admin, person=world.officer_county_a, active=False)
    response = Client().post(
        "/login/", {"username": world.officer_county_a.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert SIGN_IN_ERROR in response.content.decode()


# Sessions ----------------------------------------------------------------------------------------


def test_thirty_idle_minutes_sign_the_user_out(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = client_for(world.officer_county_a)
        traveller.shift(dt.timedelta(minutes=29))
        assert is_signed_in(
            client
        )  # activity refreshes the idle clock (SESSION_SAVE_EVERY_REQUEST)
        traveller.shift(dt.timedelta(minutes=29))
        assert is_signed_in(client)
        traveller.shift(dt.timedelta(minutes=31))
        assert not is_signed_in(client)


def test_twelve_hours_after_sign_in_the_session_ends_however_busy_the_user(world: World) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = client_for(world.officer_county_a)
        for _ in range(12 * 6 - 1):
            traveller.shift(dt.timedelta(minutes=10))
            assert is_signed_in(client)
        traveller.shift(dt.timedelta(minutes=10, seconds=1))  # 12 hours and a second
        assert not is_signed_in(client)
        # Signing in again starts a new 12 hours.
        client = client_for(world.officer_county_a)
        assert is_signed_in(client)


def test_the_session_cookie_is_worthless_after_logout(world: World) -> None:
    client = client_for(world.officer_county_a)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert Event.objects.filter(action="auth.logout", actor=world.officer_county_a).exists()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replay.get("/units/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/units/"


def test_logout_needs_a_post(world: World) -> None:
    client = client_for(world.officer_county_a)
    assert client.get("/logout/").status_code == 405
    assert is_signed_in(client)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(world: World) -> None:
    here = client_for(world.officer_county_a)
    elsewhere = client_for(world.officer_county_a)
    response = here.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/profile/"
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)
    user = User.objects.get(pk=world.officer_county_a.pk)
    assert user.check_password(GOOD_PASSWORD)
    event = Event.objects.get(action="person.password_change")
    assert (event.actor_id, event.object_id, event.actor_role) == (user.pk, str(user.pk), "self")


def test_deactivation_signs_the_user_out_on_the_next_request(world: World) -> None:
    client = client_for(world.officer_county_a)
    assert is_signed_in(client)
    workflow.set_person_active(by=world.security_admin, person=world.officer_county_a, active=False)
    assert not is_signed_in(client)
    assert client.get("/units/").status_code == 302


# Password rules ----------------------------------------------------------------------------------


def change_password(client: Client, new: str) -> str:
    response = client.post(
        "/profile/password/", {"old_password": PASSWORD, "new_password": new, "new_password2": new}
    )
    assert response.status_code == 200, "the change should have been refused"
    page = response.content.decode()
    assert 'class="errorlist' in page
    return page


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!efghi", None),  # 9 characters; the message is checked below
        ("abcdefgh12", "密码须包含小写字母、大写字母、数字、符号中的至少 3 类。"),
        ("ABCDEFGH!!", "密码须包含小写字母、大写字母、数字、符号中的至少 3 类。"),
        ("Password1!", "这个密码太常见了。"),  # Django's list compares in lower case
        ("9384756102", "密码只包含数字。"),
    ],
)
def test_a_weak_password_is_refused_with_a_chinese_message(
    world: World, password: str, message: str | None
) -> None:
    client = client_for(world.officer_county_a)
    page = change_password(client, password)
    if message is not None:
        assert message in page
    user = User.objects.get(pk=world.officer_county_a.pk)
    assert user.check_password(PASSWORD)
    assert not Event.objects.filter(action="person.password_change").exists()


def test_a_too_short_password_is_refused_in_chinese(world: World) -> None:
    page = change_password(client_for(world.officer_county_a), "Ab1!efghi")
    assert "至少 10 个字符" in page


def test_a_good_password_is_accepted_through_the_profile_page(world: World) -> None:
    client = client_for(world.officer_county_a)
    assert client.get("/profile/password/").status_code == 200
    response = client.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain == [("/profile/", 302)]
    assert "密码已修改" in response.content.decode()
    assert User.objects.get(pk=world.officer_county_a.pk).check_password(GOOD_PASSWORD)
    assert sign_in(Client(), world.officer_county_a.username, GOOD_PASSWORD) == 302


def test_a_wrong_old_password_or_a_mismatch_is_refused_in_chinese(world: World) -> None:
    client = client_for(world.officer_county_a)
    response = client.post(
        "/profile/password/",
        {"old_password": "not-it", "new_password": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert "原密码不正确。" in response.content.decode()
    response = client.post(
        "/profile/password/",
        {
            "old_password": PASSWORD,
            "new_password": GOOD_PASSWORD,
            "new_password2": GOOD_PASSWORD + "x",
        },
    )
    assert "两次输入的新密码不一致。" in response.content.decode()
    assert User.objects.get(pk=world.officer_county_a.pk).check_password(PASSWORD)


def test_after_an_admin_reset_the_user_must_change_the_password_before_anything_else(
    world: World,
) -> None:
    temporary = workflow.reset_password(by=world.security_admin, person=world.officer_county_a)
    assert temporary != PASSWORD
    client = Client()
    response = client.post(
        "/login/", {"username": world.officer_county_a.username, "password": temporary}
    )
    assert response.status_code == 302
    for path in ("/", "/units/", f"/units/{world.county_a.pk}/", "/profile/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/profile/password/"
    page = client.get("/profile/password/").content.decode()
    assert "临时密码" in page

    response = client.post(
        "/profile/password/",
        {"old_password": temporary, "new_password": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/units/").status_code == 200
    user = User.objects.get(pk=world.officer_county_a.pk)
    assert not user.must_change_password
    reset = Event.objects.get(action="person.password_reset")
    assert (reset.actor_id, reset.object_id) == (world.security_admin.pk, str(user.pk))
    assert temporary not in str(reset.after) and temporary not in str(reset.before)


# CSRF, deployment, health ------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.unit_admin_county_a, backend="baosong.orgs.backends.ModelBackend")
    data = {
        "code": "CA1",
        "name": "被篡改",
        "short_name": "被篡改",
        "level": "county",
        "sort_order": 0,
    }
    response = client.post(f"/units/{world.county_a.pk}/edit/", data)
    assert response.status_code == 403
    world.county_a.refresh_from_db()
    assert world.county_a.name == "安平县委组织部"
    # With the token from the form, the same post goes through.
    client.get(f"/units/{world.county_a.pk}/edit/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        f"/units/{world.county_a.pk}/edit/", {**data, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    world.county_a.refresh_from_db()
    assert world.county_a.name == "被篡改"


def test_the_login_form_itself_needs_the_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/login/", {"username": world.officer_county_a.username, "password": PASSWORD}
    )
    assert response.status_code == 403


def test_the_deployment_check_passes_with_production_settings(tmp_path: Path) -> None:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        **os.environ,
        "DEBUG": "0",
        "BAOSONG_HTTPS": "1",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "ALLOWED_HOSTS": "baosong.example.cn",
        "BAOSONG_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {**os.environ, "DEBUG": "0", "BAOSONG_HTTPS": "1", "BAOSONG_VAR_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_health_check_answers_ok(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content.decode().strip() == "ok"
    assert response["Content-Type"].startswith("text/plain")


def test_the_health_check_answers_503_when_the_database_is_down(db: None) -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("down")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert "ok" not in response.content.decode()
