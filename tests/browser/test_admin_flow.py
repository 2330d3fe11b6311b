"""A unit admin creates a unit and a person with a role; the audit admin finds both events."""

from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, screenshot_dir

pytestmark = pytest.mark.browser


def sign_in(page: Any, base: str, login: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", login)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_unit_admin_creates_unit_and_person_then_audit_admin_finds_both(
    server: str, page: Any
) -> None:
    shots = screenshot_dir()
    sign_in(page, server, "ljadmin")
    assert "周建国" in page.inner_text("header")
    if shots:
        page.screenshot(path=str(shots / "home-unit-admin.png"), full_page=True)

    page.click("nav >> text=单位")
    # Deeper branches load when opened (htmx); the township is not on the page until then.
    assert page.locator("text=城关镇党委").count() == 0
    page.click("summary:has-text('清河县委组织部')")
    page.wait_for_selector("a:text-is('城关镇党委')")
    page.click("main a:text-is('临江市委组织部')")
    page.click("text=新建下级单位")
    page.fill("#id_code", "JC-LJ-AP")
    page.fill("#id_name", "中共安平县委组织部")
    page.fill("#id_short_name", "安平县委组织部")
    page.select_option("#id_level", "county")
    page.click("button:text('保存')")
    page.wait_for_selector("h1:text('中共安平县委组织部')")
    assert "已新建单位" in page.inner_text(".messages")

    page.click("text=在本单位新建人员")
    page.fill("#id_username", "anping_xinxi")
    page.fill("#id_real_name", "李晓梅")
    page.fill("#id_mobile", "13912345678")
    # Opened from the unit page, the form comes with that unit chosen.
    assert "JC-LJ-AP" in page.eval_on_selector("#id_unit", "s => s.selectedOptions[0].text")
    page.select_option("#id_role", "officer")
    page.click("button:text('保存')")
    page.wait_for_selector("h1:has-text('李晓梅')")
    assert "初始密码" in page.inner_text(".messages")
    assert "信息员" in page.inner_text("main")
    page.click("header button:text('退出')")
    page.wait_for_url(f"{server}/login/")

    sign_in(page, server, "auditor")
    page.goto(f"{server}/audit/?action=unit.create")
    rows = page.inner_text("#event-rows")
    assert "中共安平县委组织部" in rows and "ljadmin" in rows
    page.goto(f"{server}/audit/?action=membership.create&actor=ljadmin")
    assert "李晓梅" in page.inner_text("#event-rows")
    page.goto(f"{server}/audit/?action=person.create")
    assert "anping_xinxi" in page.inner_text("#event-rows")
    if shots:
        page.screenshot(path=str(shots / "audit-list.png"), full_page=True)
