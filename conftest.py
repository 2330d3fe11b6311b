"""Shared test world: one small unit tree with named people, built through the real workflow."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from baosong.orgs import workflow
from baosong.orgs.models import Level, PlatformRole, Role, Unit, User

PASSWORD = "Test-Pass-2026!"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """The real hasher costs a quarter second per password; tests need the rules, not the cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_unit(parent: Unit | None, code: str, level: str, name: str | None = None) -> Unit:
    return workflow.create_unit(
        by=None,
        parent=parent,
        code=code,
        name=name or f"{code}单位",
        short_name=name or code,
        level=level,
    )


def make_person(
    username: str,
    unit: Unit | None = None,
    role: str | None = None,
    platform_role: str = "",
) -> User:
    person = workflow.create_person(
        by=None,
        username=username,
        real_name=username,
        password=PASSWORD,
        unit=unit,
        role=role,
    )
    if platform_role:
        workflow.set_platform_role(by=None, person=person, platform_role=platform_role)
        person.refresh_from_db()
    return person


@dataclass
class World:
    province: Unit
    province_office: Unit
    city_a: Unit
    county_a: Unit
    county_a2: Unit
    city_b: Unit
    county_b: Unit
    other_province: Unit
    officer_county_a: User
    reviewer_county_a: User
    editor_city: User
    unit_admin_city: User
    unit_admin_county_a: User
    unit_admin_province: User
    outsider: User
    other_tree_admin: User
    system_admin: User
    security_admin: User
    audit_admin: User


@pytest.fixture
def world(db: None) -> World:
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    office = make_unit(province, "P-OFF", Level.INTERNAL, "办公室")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    county_a2 = make_unit(city_a, "CA2", Level.COUNTY, "青石县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    county_b = make_unit(city_b, "CB1", Level.COUNTY, "云溪县委组织部")
    other = make_unit(None, "Q", Level.PROVINCE, "外省委组织部")
    return World(
        province=province,
        province_office=office,
        city_a=city_a,
        county_a=county_a,
        county_a2=county_a2,
        city_b=city_b,
        county_b=county_b,
        other_province=other,
        officer_county_a=make_person("officer_county_a", county_a, Role.OFFICER),
        reviewer_county_a=make_person("reviewer_county_a", county_a, Role.REVIEWER),
        editor_city=make_person("editor_city", city_a, Role.EDITOR),
        unit_admin_city=make_person("unit_admin_city", city_a, Role.UNIT_ADMIN),
        unit_admin_county_a=make_person("unit_admin_county_a", county_a, Role.UNIT_ADMIN),
        unit_admin_province=make_person("unit_admin_province", province, Role.UNIT_ADMIN),
        outsider=make_person("outsider", county_b, Role.OFFICER),
        other_tree_admin=make_person("other_tree_admin", other, Role.UNIT_ADMIN),
        system_admin=make_person("system_admin", platform_role=PlatformRole.SYSTEM_ADMIN),
        security_admin=make_person("security_admin", platform_role=PlatformRole.SECURITY_ADMIN),
        audit_admin=make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
    )


def client_for(user: User) -> Client:
    """A client signed in through the real login form (so sign-in events and limits apply)."""
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
