"""Who may do what with units and people: one table, every role × action × target, over HTTP.

The rules live in baosong/orgs/access.py; this file states them from the outside. Each row of
MATRIX names a role, an action of the UI and the outcome for each target relation (the target's
place relative to the role's own unit). A successful write must change the database and leave
its audit event; a refused one must leave both untouched.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from baosong.audit.models import Event
from baosong.orgs import access, workflow
from baosong.orgs.models import Level, Membership, PlatformRole, Role, Unit, User
from conftest import PASSWORD, make_person, make_unit

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MODEL_BACKEND = "baosong.orgs.backends.ModelBackend"
LONG_AGO = dt.date(2025, 1, 1)

# Outcomes. OK: 200 for a read, 302 for a write that happened (DB changed, audit event written).
OK = "ok"
# FORM: 200, the form does not offer the chosen unit; nothing changed.
FORM = "form"
DENIED = 403
HIDDEN = 404
NA = None  # the relation does not exist for this role (a province has no parent or sibling)

RELATIONS = ("own", "child", "sibling", "parent", "other", "straddle")

# Each role: the persona and the unit the relations are measured from. Platform admins, the
# outsider (an officer of another city) and a former member are measured from county A.
ROLES: dict[str, tuple[str, str]] = {
    "officer": ("officer_county_a", "county_a"),
    "reviewer": ("reviewer_county_a", "county_a"),
    "editor": ("editor_city", "city_a"),
    "admin_county": ("unit_admin_county_a", "county_a"),
    "admin_city": ("unit_admin_city", "city_a"),
    "admin_province": ("unit_admin_province", "province"),
    "system_admin": ("system_admin", "county_a"),
    "security_admin": ("security_admin", "county_a"),
    "audit_admin": ("audit_admin", "county_a"),
    "outsider": ("outsider", "county_a"),
    "former_member": ("former_member", "county_a"),
}

# The target unit for each relation, seen from each reference unit. "straddle" is a person
# serving both inside the reference unit and in the other tree (visible, not wholly managed).
RELATIVES: dict[str, dict[str, str | None]] = {
    "county_a": {
        "own": "county_a",
        "child": "township_a",
        "sibling": "county_a2",
        "parent": "city_a",
        "other": "other_city",
    },
    "city_a": {
        "own": "city_a",
        "child": "county_a",
        "sibling": "city_b",
        "parent": "province",
        "other": "other_city",
    },
    "province": {
        "own": "province",
        "child": "city_a",
        "sibling": None,
        "parent": None,
        "other": "other_city",
    },
}

# Unit actions have no "straddle" column; person actions have all six.
# fmt: off
MATRIX: list[tuple[str, str, tuple[Any, ...]]] = [
    # role              action                   own     child   sibling parent  other   straddle
    ("officer",         "unit_detail",           (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("officer",         "unit_children",         (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("officer",         "unit_edit_form",        (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("officer",         "unit_edit",             (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("officer",         "unit_create_child",     (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("officer",         "unit_move",             (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("officer",         "unit_deactivate",       (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("officer",         "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("officer",         "person_detail",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("officer",         "person_edit",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("officer",         "person_deactivate",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("officer",         "person_reset_password", (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("officer",         "membership_add",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("officer",         "membership_end",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("officer",         "platform_role",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),

    ("reviewer",        "unit_detail",           (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("reviewer",        "unit_children",         (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("reviewer",        "unit_edit_form",        (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("reviewer",        "unit_edit",             (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("reviewer",        "unit_create_child",     (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("reviewer",        "unit_move",             (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("reviewer",        "unit_deactivate",       (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("reviewer",        "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("reviewer",        "person_detail",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("reviewer",        "person_edit",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("reviewer",        "person_deactivate",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("reviewer",        "person_reset_password", (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("reviewer",        "membership_add",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("reviewer",        "membership_end",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("reviewer",        "platform_role",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),

    ("editor",          "unit_detail",           (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("editor",          "unit_children",         (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("editor",          "unit_edit_form",        (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("editor",          "unit_edit",             (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("editor",          "unit_create_child",     (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("editor",          "unit_move",             (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("editor",          "unit_deactivate",       (DENIED, DENIED, HIDDEN, DENIED, HIDDEN)),
    ("editor",          "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("editor",          "person_detail",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("editor",          "person_edit",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("editor",          "person_deactivate",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("editor",          "person_reset_password", (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("editor",          "membership_add",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("editor",          "membership_end",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("editor",          "platform_role",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),

    # A unit admin moves a unit only when managing its parent (and the destination: the form
    # offers managed units only). The "straddle" person also serves outside the subtree.
    ("admin_county",    "unit_detail",           (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("admin_county",    "unit_children",         (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("admin_county",    "unit_edit_form",        (OK,     OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_county",    "unit_edit",             (OK,     OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_county",    "unit_create_child",     (OK,     OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_county",    "unit_move",             (DENIED, FORM,   HIDDEN, DENIED, HIDDEN)),
    ("admin_county",    "unit_deactivate",       (DENIED, OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_county",    "person_create",         (OK,     OK,     FORM,   FORM,   FORM)),
    ("admin_county",    "person_detail",         (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, OK)),
    ("admin_county",    "person_edit",           (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, DENIED)),
    ("admin_county",    "person_deactivate",     (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, DENIED)),
    ("admin_county",    "person_reset_password", (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, DENIED)),
    ("admin_county",    "membership_add",        (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, OK)),
    ("admin_county",    "membership_end",        (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, OK)),
    ("admin_county",    "platform_role",         (DENIED, DENIED, HIDDEN, HIDDEN, HIDDEN, DENIED)),

    ("admin_city",      "unit_detail",           (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("admin_city",      "unit_children",         (OK,     OK,     HIDDEN, OK,     HIDDEN)),
    ("admin_city",      "unit_edit_form",        (OK,     OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_city",      "unit_edit",             (OK,     OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_city",      "unit_create_child",     (OK,     OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_city",      "unit_move",             (DENIED, FORM,   HIDDEN, DENIED, HIDDEN)),
    ("admin_city",      "unit_deactivate",       (DENIED, OK,     HIDDEN, DENIED, HIDDEN)),
    ("admin_city",      "person_create",         (OK,     OK,     FORM,   FORM,   FORM)),
    ("admin_city",      "person_detail",         (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, OK)),
    ("admin_city",      "person_edit",           (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, DENIED)),
    ("admin_city",      "person_deactivate",     (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, DENIED)),
    ("admin_city",      "person_reset_password", (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, DENIED)),
    ("admin_city",      "membership_add",        (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, OK)),
    ("admin_city",      "membership_end",        (OK,     OK,     HIDDEN, HIDDEN, HIDDEN, OK)),
    ("admin_city",      "platform_role",         (DENIED, DENIED, HIDDEN, HIDDEN, HIDDEN, DENIED)),

    ("admin_province",  "unit_detail",           (OK,     OK,     NA,     NA,     HIDDEN)),
    ("admin_province",  "unit_children",         (OK,     OK,     NA,     NA,     HIDDEN)),
    ("admin_province",  "unit_edit_form",        (OK,     OK,     NA,     NA,     HIDDEN)),
    ("admin_province",  "unit_edit",             (OK,     OK,     NA,     NA,     HIDDEN)),
    ("admin_province",  "unit_create_child",     (OK,     OK,     NA,     NA,     HIDDEN)),
    ("admin_province",  "unit_move",             (DENIED, FORM,   NA,     NA,     HIDDEN)),
    ("admin_province",  "unit_deactivate",       (DENIED, OK,     NA,     NA,     HIDDEN)),
    ("admin_province",  "person_create",         (OK,     OK,     NA,     NA,     FORM)),
    ("admin_province",  "person_detail",         (OK,     OK,     NA,     NA,     HIDDEN, OK)),
    ("admin_province",  "person_edit",           (OK,     OK,     NA,     NA,     HIDDEN, DENIED)),
    ("admin_province",  "person_deactivate",     (OK,     OK,     NA,     NA,     HIDDEN, DENIED)),
    ("admin_province",  "person_reset_password", (OK,     OK,     NA,     NA,     HIDDEN, DENIED)),
    ("admin_province",  "membership_add",        (OK,     OK,     NA,     NA,     HIDDEN, OK)),
    ("admin_province",  "membership_end",        (OK,     OK,     NA,     NA,     HIDDEN, OK)),
    ("admin_province",  "platform_role",         (DENIED, DENIED, NA,     NA,     HIDDEN, DENIED)),

    # 系统管理员: the unit tree everywhere; reads people but changes no account or role.
    ("system_admin",    "unit_detail",           (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "unit_children",         (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "unit_edit_form",        (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "unit_edit",             (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "unit_create_child",     (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "unit_move",             (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "unit_deactivate",       (OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("system_admin",    "person_detail",         (OK,     OK,     OK,     OK,     OK,     OK)),
    ("system_admin",    "person_edit",           (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("system_admin",    "person_deactivate",     (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("system_admin",    "person_reset_password", (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("system_admin",    "membership_add",        (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("system_admin",    "membership_end",        (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("system_admin",    "platform_role",         (DENIED, DENIED, DENIED, DENIED, DENIED, DENIED)),

    # 安全管理员: every account, membership and platform role; reads units, changes none.
    ("security_admin",  "unit_detail",           (OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "unit_children",         (OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "unit_edit_form",        (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("security_admin",  "unit_edit",             (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("security_admin",  "unit_create_child",     (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("security_admin",  "unit_move",             (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("security_admin",  "unit_deactivate",       (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("security_admin",  "person_create",         (OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "person_detail",         (OK,     OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "person_edit",           (OK,     OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "person_deactivate",     (OK,     OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "person_reset_password", (OK,     OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "membership_add",        (OK,     OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "membership_end",        (OK,     OK,     OK,     OK,     OK,     OK)),
    ("security_admin",  "platform_role",         (OK,     OK,     OK,     OK,     OK,     OK)),

    # 审计管理员: the audit log and nothing else.
    ("audit_admin",     "unit_detail",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "unit_children",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "unit_edit_form",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "unit_edit",             (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "unit_create_child",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "unit_move",             (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "unit_deactivate",       (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("audit_admin",     "person_detail",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "person_edit",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "person_deactivate",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "person_reset_password", (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "membership_add",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "membership_end",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("audit_admin",     "platform_role",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),

    # An officer of another city sees its own branch and the province only.
    ("outsider",        "unit_detail",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "unit_children",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "unit_edit_form",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "unit_edit",             (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "unit_create_child",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "unit_move",             (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "unit_deactivate",       (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("outsider",        "person_detail",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "person_edit",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "person_deactivate",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "person_reset_password", (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "membership_add",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "membership_end",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("outsider",        "platform_role",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),

    # An ended membership gives no access at all.
    ("former_member",   "unit_detail",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "unit_children",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "unit_edit_form",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "unit_edit",             (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "unit_create_child",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "unit_move",             (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "unit_deactivate",       (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "person_create",         (DENIED, DENIED, DENIED, DENIED, DENIED)),
    ("former_member",   "person_detail",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "person_edit",           (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "person_deactivate",     (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "person_reset_password", (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "membership_add",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "membership_end",        (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
    ("former_member",   "platform_role",         (HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)),
]

# Pages without a target.
PAGES = ("people_list", "unit_tree", "audit_list", "audit_export", "unit_create_root")
PAGE_MATRIX: list[tuple[str, tuple[Any, ...]]] = [
    # role              people  tree    audit   export  new root unit
    ("officer",         (DENIED, OK,     DENIED, DENIED, DENIED)),
    ("reviewer",        (DENIED, OK,     DENIED, DENIED, DENIED)),
    ("editor",          (DENIED, OK,     DENIED, DENIED, DENIED)),
    ("admin_county",    (OK,     OK,     DENIED, DENIED, DENIED)),
    ("admin_city",      (OK,     OK,     DENIED, DENIED, DENIED)),
    ("admin_province",  (OK,     OK,     DENIED, DENIED, DENIED)),
    ("system_admin",    (OK,     OK,     DENIED, DENIED, OK)),
    ("security_admin",  (OK,     OK,     DENIED, DENIED, DENIED)),
    ("audit_admin",     (DENIED, DENIED, OK,     OK,     DENIED)),
    ("outsider",        (DENIED, OK,     DENIED, DENIED, DENIED)),
    ("former_member",   (DENIED, DENIED, DENIED, DENIED, DENIED)),
]
# fmt: on


def _cases() -> list[Any]:
    cases = []
    for role, action, outcomes in MATRIX:
        for relation, expected in zip(RELATIONS, outcomes, strict=False):
            if expected is not None:
                cases.append(
                    pytest.param(role, action, relation, expected, id=f"{role}-{action}-{relation}")
                )
    for role, outcomes in PAGE_MATRIX:
        for page, expected in zip(PAGES, outcomes, strict=True):
            cases.append(pytest.param(role, page, "-", expected, id=f"{role}-{page}"))
    return cases


def test_the_matrix_covers_every_role_and_action() -> None:
    actions = {action for _role, action, _outcomes in MATRIX}
    for role in ROLES:
        assert {a for r, a, _o in MATRIX if r == role} == actions, role
        assert len([r for r, _o in PAGE_MATRIX if r == role]) == 1, role
    for _role, action, outcomes in MATRIX:
        unit_action = action.startswith("unit_") or action == "person_create"
        assert len(outcomes) == (5 if unit_action else 6), (action, outcomes)
        assert action in ACTIONS
    assert set(PAGES) <= set(ACTIONS)


# The tree the matrix runs on -----------------------------------------------------------------


@dataclass
class Tree:
    units: dict[str, Unit]
    people: dict[str, User]
    subjects: dict[str, User]  # one officer per unit, serving since LONG_AGO
    straddler: User
    sessions: dict[str, str]  # a signed-in session per persona, shared by all cases


def _session_key(user: User) -> str:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _officer_since_long_ago(username: str, unit: Unit) -> User:
    return workflow.create_person(
        by=None,
        username=username,
        real_name=username,
        password=PASSWORD,
        unit=unit,
        role=Role.OFFICER,
        start=LONG_AGO,
    )


def build_tree() -> Tree:
    """The conftest world, plus a township in county A, a city in the other province, one
    officer per unit and a person serving both in county A's branch and in the other tree."""
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    make_unit(province, "P-OFF", Level.INTERNAL, "办公室")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    county_a2 = make_unit(city_a, "CA2", Level.COUNTY, "青石县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    county_b = make_unit(city_b, "CB1", Level.COUNTY, "云溪县委组织部")
    other = make_unit(None, "Q", Level.PROVINCE, "外省委组织部")
    township_a = make_unit(county_a, "CA1-T", Level.TOWNSHIP, "安平县城关镇")
    other_city = make_unit(other, "QC", Level.CITY, "外省某市委组织部")
    units = {
        "province": province,
        "city_a": city_a,
        "county_a": county_a,
        "county_a2": county_a2,
        "city_b": city_b,
        "county_b": county_b,
        "other_province": other,
        "township_a": township_a,
        "other_city": other_city,
    }
    people = {
        "officer_county_a": make_person("officer_county_a", county_a, Role.OFFICER),
        "reviewer_county_a": make_person("reviewer_county_a", county_a, Role.REVIEWER),
        "editor_city": make_person("editor_city", city_a, Role.EDITOR),
        "unit_admin_city": make_person("unit_admin_city", city_a, Role.UNIT_ADMIN),
        "unit_admin_county_a": make_person("unit_admin_county_a", county_a, Role.UNIT_ADMIN),
        "unit_admin_province": make_person("unit_admin_province", province, Role.UNIT_ADMIN),
        "outsider": make_person("outsider", county_b, Role.OFFICER),
        "other_tree_admin": make_person("other_tree_admin", other, Role.UNIT_ADMIN),
        "system_admin": make_person("system_admin", platform_role=PlatformRole.SYSTEM_ADMIN),
        "security_admin": make_person("security_admin", platform_role=PlatformRole.SECURITY_ADMIN),
        "audit_admin": make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
    }
    former = _officer_since_long_ago("former_member", county_a)
    workflow.end_membership(by=None, membership=former.memberships.get(), end=dt.date(2025, 6, 30))
    people["former_member"] = former
    subjects = {
        name: _officer_since_long_ago(f"subject_{unit.code.lower()}", unit)
        for name, unit in units.items()
        if name not in ("other_province", "county_b")
    }
    straddler = _officer_since_long_ago("straddler", county_a)
    for unit in (city_a, province, other_city):
        workflow.add_membership(
            by=None, person=straddler, unit=unit, role=Role.OFFICER, start=LONG_AGO
        )
    sessions = {user.username: _session_key(user) for user in people.values()}
    return Tree(units, people, subjects, straddler, sessions)


@pytest.fixture(scope="class")
def tree(django_db_setup: None, django_db_blocker: Any) -> Iterator[Tree]:
    """Built once for the whole matrix inside an outer transaction; each case runs in a
    savepoint of it (pytest-django's `db`) and is rolled back, like TestCase.setUpTestData.
    (Class scope, so the outer transaction has ended before the path-prefix test below.)"""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield build_tree()
        transaction.set_rollback(True)


# Actions ---------------------------------------------------------------------------------------


@dataclass
class Target:
    unit: Unit | None  # the relation's unit (for "straddle": the reference unit)
    person: User | None  # the person serving there
    membership: Membership | None  # that person's membership there


@dataclass
class Request:
    method: str
    url: str
    data: dict[str, Any]


@dataclass
class Action:
    request: Callable[[Tree, Target], Request]
    event: str | None = None  # the audit action a success writes
    changes: bool = False  # a success changes units, people or memberships
    prepare: Callable[[Tree, Target, User], None] | None = None  # makes a permitted write possible
    next_day: bool = False  # run on the next day (memberships ended today still count today)


def _u(target: Target) -> Unit:
    assert target.unit is not None
    return target.unit


def _p(target: Target) -> User:
    assert target.person is not None
    return target.person


def _m(target: Target) -> Membership:
    assert target.membership is not None
    return target.membership


def _destination(unit: Unit) -> Unit | None:
    """A valid new parent for a move: a unit of the parent's level beside the parent."""
    if unit.parent is None:
        return None
    return (
        Unit.objects.filter(parent_id=unit.parent.parent_id, level=unit.parent.level)
        .exclude(pk=unit.parent.pk)
        .order_by("code")
        .first()
    )


def _move_request(tree: Tree, target: Target) -> Request:
    destination = _destination(_u(target))
    return Request(
        "POST",
        f"/units/{_u(target).pk}/move/",
        {"new_parent": destination.pk if destination else ""},
    )


def _empty_subtree(tree: Tree, target: Target, actor: User) -> None:
    """End today every current role in the subtree except the actor's own."""
    rows = Membership.objects.current().filter(unit__path__startswith=_u(target).path)
    for membership in rows.exclude(user=actor):
        workflow.end_membership(by=None, membership=membership, end=timezone.localdate())


def _deactivate_descendants(unit: Unit) -> None:
    for child in (
        Unit.objects.filter(path__startswith=unit.path).exclude(pk=unit.pk).order_by("-depth")
    ):
        workflow.deactivate_unit(by=None, unit=child)


def _end_roles_long_ago(tree: Tree, target: Target, actor: User) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    for membership in Membership.objects.current().filter(user=_p(target)):
        workflow.end_membership(by=None, membership=membership, end=yesterday)


def _unit_fields(unit: Unit, **changes: Any) -> dict[str, Any]:
    data = {
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "level": unit.level,
        "sort_order": unit.sort_order,
    }
    return {**data, **changes}


ACTIONS: dict[str, Action] = {
    "unit_detail": Action(lambda t, x: Request("GET", f"/units/{_u(x).pk}/", {})),
    "unit_children": Action(lambda t, x: Request("GET", f"/units/{_u(x).pk}/children/", {})),
    "unit_edit_form": Action(lambda t, x: Request("GET", f"/units/{_u(x).pk}/edit/", {})),
    "unit_edit": Action(
        lambda t, x: Request(
            "POST", f"/units/{_u(x).pk}/edit/", _unit_fields(_u(x), name=f"{_u(x).name}（新）")
        ),
        event="unit.update",
        changes=True,
    ),
    "unit_create_child": Action(
        lambda t, x: Request(
            "POST",
            f"/units/{_u(x).pk}/new/",
            {
                "code": "NEW-SEC",
                "name": "新设科室",
                "short_name": "新科室",
                "level": "internal",
                "sort_order": 0,
            },
        ),
        event="unit.create",
        changes=True,
    ),
    "unit_move": Action(_move_request, event="unit.move", changes=True),
    "unit_deactivate": Action(
        lambda t, x: Request("POST", f"/units/{_u(x).pk}/deactivate/", {}),
        event="unit.deactivate",
        changes=True,
        prepare=_empty_subtree,
        next_day=True,
    ),
    "person_create": Action(
        lambda t, x: Request(
            "POST",
            "/people/new/",
            {
                "username": "newcomer",
                "real_name": "新同志",
                "mobile": "",
                "email": "",
                "unit": _u(x).pk,
                "role": Role.OFFICER,
                "start": timezone.localdate().isoformat(),
            },
        ),
        event="person.create",
        changes=True,
    ),
    "person_detail": Action(lambda t, x: Request("GET", f"/people/{_p(x).pk}/", {})),
    "person_edit": Action(
        lambda t, x: Request(
            "POST", f"/people/{_p(x).pk}/edit/", {"real_name": "改了名", "mobile": "", "email": ""}
        ),
        event="person.update",
        changes=True,
    ),
    "person_deactivate": Action(
        lambda t, x: Request("POST", f"/people/{_p(x).pk}/deactivate/", {}),
        event="person.deactivate",
        changes=True,
    ),
    "person_reset_password": Action(
        lambda t, x: Request("POST", f"/people/{_p(x).pk}/reset-password/", {}),
        event="person.password_reset",
        changes=True,
    ),
    "membership_add": Action(
        lambda t, x: Request(
            "POST",
            f"/people/{_p(x).pk}/memberships/new/",
            {"unit": _u(x).pk, "role": Role.REVIEWER, "start": timezone.localdate().isoformat()},
        ),
        event="membership.create",
        changes=True,
    ),
    "membership_end": Action(
        lambda t, x: Request(
            "POST", f"/memberships/{_m(x).pk}/end/", {"end": timezone.localdate().isoformat()}
        ),
        event="membership.end",
        changes=True,
    ),
    "platform_role": Action(
        lambda t, x: Request(
            "POST",
            f"/people/{_p(x).pk}/platform-role/",
            {"platform_role": PlatformRole.AUDIT_ADMIN},
        ),
        event="person.platform_role",
        changes=True,
        prepare=_end_roles_long_ago,
    ),
    "people_list": Action(lambda t, x: Request("GET", "/people/", {})),
    "unit_tree": Action(lambda t, x: Request("GET", "/units/", {})),
    "audit_list": Action(lambda t, x: Request("GET", "/audit/", {})),
    "audit_export": Action(
        lambda t, x: Request("GET", "/audit/export.xlsx", {}), event="audit.export"
    ),
    "unit_create_root": Action(
        lambda t, x: Request(
            "POST",
            "/units/new/",
            {
                "code": "R",
                "name": "新省委组织部",
                "short_name": "新省",
                "level": "province",
                "sort_order": 0,
            },
        ),
        event="unit.create",
        changes=True,
    ),
}


def _target(tree: Tree, role: str, relation: str) -> Target:
    reference = ROLES[role][1]
    if relation == "-":
        return Target(None, None, None)
    if relation == "straddle":
        unit = tree.units[reference]
        person = tree.straddler
    else:
        name = RELATIVES[reference][relation]
        assert name is not None
        unit = tree.units[name]
        person = tree.subjects[name]
    unit = Unit.objects.select_related("parent").get(pk=unit.pk)
    membership = Membership.objects.current().filter(user=person, unit=unit).first()
    return Target(unit, person, membership)


def db_state() -> tuple[list[Any], ...]:
    """Everything a unit or people action could change (last_login aside)."""
    return (
        list(
            Unit.objects.order_by("pk").values_list(
                "pk",
                "code",
                "name",
                "short_name",
                "level",
                "parent_id",
                "path",
                "depth",
                "sort_order",
                "is_active",
            )
        ),
        list(
            User.objects.order_by("pk").values_list(
                "pk",
                "username",
                "real_name",
                "mobile",
                "email",
                "is_active",
                "platform_role",
                "password",
                "must_change_password",
            )
        ),
        list(
            Membership.objects.order_by("pk").values_list(
                "pk", "user_id", "unit_id", "role", "start", "end"
            )
        ),
    )


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.mark.usefixtures("tree")
class TestMatrix:
    @pytest.mark.parametrize(("role", "action", "relation", "expected"), _cases())
    def test_role_may_do_exactly_what_the_matrix_says(
        self, tree: Tree, db: None, role: str, action: str, relation: str, expected: Any
    ) -> None:
        actor = tree.people[ROLES[role][0]]
        spec = ACTIONS[action]
        target = _target(tree, role, relation)
        if expected == OK and spec.prepare is not None:
            spec.prepare(tree, target, actor)
        day: AbstractContextManager[Any] = (
            time_machine.travel(timezone.now() + dt.timedelta(days=1))
            if spec.next_day
            else nullcontext()
        )
        with day:
            if expected == OK and action == "unit_deactivate":
                _deactivate_descendants(_u(target))
            if spec.next_day:
                client = signed_in(actor)
            else:
                client = Client()
                client.cookies[settings.SESSION_COOKIE_NAME] = tree.sessions[actor.username]
            request = spec.request(tree, target)
            before, since = db_state(), last_event_id()
            if request.method == "GET":
                response = client.get(request.url)
            else:
                response = client.post(request.url, request.data)
            events = list(Event.objects.filter(id__gt=since))
            after = db_state()

        if expected == OK:
            assert response.status_code == (200 if request.method == "GET" else 302), (
                response.content.decode()[:2000]
            )
            assert (after != before) == spec.changes
            if spec.event is None:
                assert events == []
            else:
                assert [e.action for e in events if e.action == spec.event] == [spec.event]
                assert all(e.actor_id == actor.pk for e in events)
                event = next(e for e in events if e.action == spec.event)
                self._check_event_object(event, action, target)
        else:
            if expected == FORM:
                assert response.status_code == 200
                assert "errorlist" in response.content.decode()
            else:
                assert response.status_code == expected
            assert after == before
            assert events == []

    @staticmethod
    def _check_event_object(event: Event, action: str, target: Target) -> None:
        if action in ("unit_edit", "unit_move", "unit_deactivate"):
            assert event.object_id == str(_u(target).pk)
            assert event.unit_path == Unit.objects.get(pk=_u(target).pk).path
        elif action == "unit_create_child":
            assert event.after is not None and event.after["parent"] == _u(target).code
        elif action in (
            "person_edit",
            "person_deactivate",
            "person_reset_password",
            "platform_role",
        ):
            assert event.object_id == str(_p(target).pk)
        elif action == "membership_add":
            created = Membership.objects.get(pk=event.object_id)
            assert (created.user_id, created.unit_id, created.role) == (
                _p(target).pk,
                _u(target).pk,
                Role.REVIEWER,
            )
        elif action == "membership_end":
            assert event.object_id == str(_m(target).pk)
            assert Membership.objects.get(pk=_m(target).pk).end is not None
        elif action == "person_create":
            newcomer = User.objects.get(username="newcomer")
            assert newcomer.memberships.get().unit_id == _u(target).pk


# The path-prefix trap ------------------------------------------------------------------------


def _next_unit_id(value: int) -> None:
    """Make the next unit get this id. SQLite's counter rolls back with the test; PostgreSQL's
    sequence does not, so the `unit_ids` fixture puts it back afterwards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('orgs_unit', 'id'), %s, false)", [value]
            )
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'orgs_unit'")
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('orgs_unit', %s)", [value - 1]
            )


@pytest.fixture
def unit_ids(db: None) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('orgs_unit', 'id'))")
        (saved,) = cursor.fetchone()
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('orgs_unit', 'id'), %s)", [saved])


@pytest.mark.usefixtures("unit_ids")
def test_unit_admin_of_path_1_2_can_neither_see_nor_manage_path_1_23(db: None) -> None:
    assert not Unit.objects.exists()
    _next_unit_id(1)
    root = make_unit(None, "ROOT", Level.PROVINCE, "省")
    two = make_unit(root, "TWO", Level.CITY, "二号市")
    _next_unit_id(23)
    twenty_three = make_unit(root, "TWENTY3", Level.CITY, "二十三号市")
    below = make_unit(twenty_three, "TWENTY3-C", Level.COUNTY, "二十三号市某县")
    assert (root.path, two.path, twenty_three.path, below.path) == (
        "/1/",
        "/1/2/",
        "/1/23/",
        "/1/23/24/",
    )

    admin = make_person("admin_two", two, Role.UNIT_ADMIN)
    stranger = make_person("officer_23", twenty_three, Role.OFFICER)
    both = make_person("officer_both", two, Role.OFFICER)
    workflow.add_membership(by=None, person=both, unit=twenty_three, role=Role.OFFICER)
    stranger_membership = stranger.memberships.get()

    assert set(access.visible_units(admin)) == {root, two}
    assert set(access.manageable_units(admin)) == {two}
    assert set(access.visible_people(admin)) == {admin, both}

    client = signed_in(admin)
    before, since = db_state(), last_event_id()
    for unit in (twenty_three, below):
        assert client.get(f"/units/{unit.pk}/").status_code == 404
        assert client.get(f"/units/{unit.pk}/edit/").status_code == 404
        assert (
            client.post(f"/units/{unit.pk}/edit/", _unit_fields(unit, name="改")).status_code == 404
        )
        assert (
            client.post(
                f"/units/{unit.pk}/new/",
                {"code": "X", "name": "X", "short_name": "X", "level": "internal", "sort_order": 0},
            ).status_code
            == 404
        )
        assert client.post(f"/units/{unit.pk}/deactivate/").status_code == 404
        assert client.post(f"/units/{unit.pk}/move/", {"new_parent": two.pk}).status_code == 404
    assert client.get(f"/people/{stranger.pk}/").status_code == 404
    assert client.post(f"/people/{stranger.pk}/edit/", {"real_name": "改"}).status_code == 404
    assert client.post(f"/people/{stranger.pk}/reset-password/").status_code == 404
    assert (
        client.post(
            f"/memberships/{stranger_membership.pk}/end/", {"end": "2030-01-01"}
        ).status_code
        == 404
    )
    # Someone serving in both is visible through /1/2/ but not manageable because of /1/23/.
    assert client.get(f"/people/{both.pk}/").status_code == 200
    assert client.post(f"/people/{both.pk}/reset-password/").status_code == 403
    # The membership form does not offer unit 23, and the tree and lists do not show it.
    response = client.post(
        f"/people/{both.pk}/memberships/new/",
        {"unit": twenty_three.pk, "role": Role.REVIEWER, "start": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    tree_page = client.get("/units/").content.decode()
    assert "二号市" in tree_page and "二十三号市" not in tree_page
    people_page = client.get("/people/").content.decode()
    assert "officer_both" in people_page and "officer_23" not in people_page
    assert client.get("/units/?q=二十三").content.decode().count("二十三号市") == 0
    assert db_state() == before
    assert not Event.objects.filter(id__gt=since).exclude(action="auth.login").exists()

    # And the other way round: the admin of /1/23/ does not reach /1/2/.
    other_admin = make_person("admin_23", twenty_three, Role.UNIT_ADMIN)
    other_client = signed_in(other_admin)
    assert other_client.get(f"/units/{two.pk}/").status_code == 404
    assert other_client.get(f"/people/{admin.pk}/").status_code == 404


# Rules the matrix cannot show -----------------------------------------------------------------


def test_unit_admin_cannot_change_the_level_of_the_own_unit(world: Any) -> None:
    """The level places a unit in the tree (and scoring depends on it), like a move: it needs
    rights over the parent. Renaming the own unit is fine."""
    client = signed_in(world.unit_admin_county_a)
    unit = world.county_a
    # The form shows the level read-only to the own-unit admin, so a posted level is ignored…
    response = client.post(f"/units/{unit.pk}/edit/", _unit_fields(unit, level=Level.TOWNSHIP))
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.level == Level.COUNTY
    # …and the workflow refuses it anyway (the API goes straight there).
    with pytest.raises(PermissionDenied):
        workflow.update_unit(
            by=world.unit_admin_county_a,
            unit=unit,
            code=unit.code,
            name=unit.name,
            short_name=unit.short_name,
            sort_order=unit.sort_order,
            level=Level.TOWNSHIP,
        )
    response = client.post(f"/units/{unit.pk}/edit/", _unit_fields(unit, short_name="安平县"))
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.short_name == "安平县"
    # The city admin, who manages the parent, may.
    city_client = signed_in(world.unit_admin_city)
    response = city_client.post(f"/units/{unit.pk}/edit/", _unit_fields(unit, level=Level.TOWNSHIP))
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.level == Level.TOWNSHIP
    event = Event.objects.filter(action="unit.update", object_id=str(unit.pk)).first()
    assert event is not None and event.before is not None and event.after is not None
    assert (event.before["level"], event.after["level"]) == ("county", "township")
    assert event.actor_id == world.unit_admin_city.pk


def test_unit_admin_cannot_manage_a_platform_admin_who_once_served_in_the_subtree(
    world: Any,
) -> None:
    person = make_person("later_auditor", world.county_a, Role.OFFICER)
    membership = person.memberships.get()
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        workflow.end_membership(by=None, membership=membership, end=membership.start)
        workflow.set_platform_role(
            by=world.security_admin, person=person, platform_role=PlatformRole.AUDIT_ADMIN
        )
        client = signed_in(world.unit_admin_county_a)
        assert client.get(f"/people/{person.pk}/").status_code == 200  # the ledger keeps history
        assert client.post(f"/people/{person.pk}/reset-password/").status_code == 403
        assert client.post(f"/people/{person.pk}/deactivate/").status_code == 403
        response = client.post(
            f"/people/{person.pk}/memberships/new/",
            {
                "unit": world.county_a.pk,
                "role": Role.OFFICER,
                "start": timezone.localdate().isoformat(),
            },
        )
        assert response.status_code == 200
        assert "平台管理员账号不兼任单位角色" in response.content.decode()
        assert not Membership.objects.current().filter(user=person).exists()
    person.refresh_from_db()
    assert person.is_active and person.platform_role == PlatformRole.AUDIT_ADMIN


def test_nobody_deactivates_the_own_account(world: Any) -> None:
    client = signed_in(world.unit_admin_county_a)
    response = client.post(f"/people/{world.unit_admin_county_a.pk}/deactivate/", follow=True)
    assert "不能停用自己的账号" in response.content.decode()
    world.unit_admin_county_a.refresh_from_db()
    assert world.unit_admin_county_a.is_active
