"""Who may do what with scores, as two tables (pages and JSON API): persona × action → answer.

ok   allowed: 200, or 302 where a page form redirects after success (201 from the API when
     something is created); the change it makes is checked
403  visible but not allowed; nothing changed
404  not visible (outside what the persona may see); nothing changed
hid  a listing answers 200 but does not list the city's scheme
err  the create-scheme form answers 200 again with the unit refused: the persona may create
     schemes for units of their own, and the owner city is not among the choices; nothing created
--   no such action on this channel

The tree is 江川省 (P) → 临江市 (CA, owns the scheme) → 安平县 (CA1) and 青石县 (CA2); 白河市 (CB)
beside CA with 云溪县 (CB1); another province (Q) apart. CA adopted the demo scheme (v1) from
2026-01-01 and drafts v2; CA1 and CA2 each submitted an item this month, CA's journal adopted
CA1's; CA archived this month's circular. The personas:

manager          editor of CA (the scheme's owner)
unit_admin       unit admin of CA
reviewer         reviewer of CA (staff of the owner, not a manager)
county_officer   officer of CA1 (inside the subtree), author of CA1's items
county_admin     unit admin of CA1
sibling_officer  officer of CB (beside the owner, outside the scheme)
province_editor  editor of P (above the owner)
system_admin, security_admin, audit_admin   platform admins (三员), no unit roles
other_tree       unit admin of Q (another tree)

Targets: drill_ca1 / drill_ca2 the entries of CA1 / CA2, drill_cb1 of CB1 (not in the scheme);
person_ca1 the entries of CA1's officer (county_officer himself), person_ca2 of CA2's officer;
people the ranking of people among CA's subtree.

Cases the current code gets wrong are marked xfail(strict=True) in WRONG_NOW with the reason; the
table keeps the expected answer.
Built once for the module; each case runs in a savepoint and is rolled back.
"""

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Level, PlatformRole, Role, User
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import rankings, workflow
from baosong.scoring.forms import rules_initial
from baosong.scoring.ledger import local_tz
from baosong.scoring.models import (
    AssessmentEvent,
    Circular,
    LedgerEntry,
    Recompute,
    RecomputeStatus,
    Scheme,
    SchemeVersion,
)
from conftest import make_person, make_unit
from tests.test_publication_scenarios import submitted

API = "/api/v1"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SCHEME = "临江市信息工作计分办法"

PERSONAS = [
    "manager",
    "unit_admin",
    "reviewer",
    "county_officer",
    "county_admin",
    "sibling_officer",
    "province_editor",
    "system_admin",
    "security_admin",
    "audit_admin",
    "other_tree",
]

ACTIONS = [
    "list",
    "rules",
    "version",
    "create",
    "save",
    "newver",
    "adopt",
    "whatif",
    "ranking",
    "people",
    "dashboard",
    "drill_ca1",
    "drill_ca2",
    "drill_cb1",
    "person_ca1",
    "person_ca2",
    "circulars",
    "generate",
    "download",
    "deduct",
    "copy",
    "history",
    "recomputes",
    "restart",
]

# fmt: off
PAGES = """
                  list rules version create save newver adopt whatif ranking people dashboard drill_ca1 drill_ca2 drill_cb1 person_ca1 person_ca2 circulars generate download deduct copy history recomputes restart
manager           ok   ok    ok      ok     ok   ok     ok    ok     ok      ok     ok        ok        ok        404       ok         ok         ok        ok       ok       --     --   ok   ok         ok
unit_admin        ok   ok    ok      ok     ok   ok     ok    ok     ok      ok     ok        ok        ok        404       ok         ok         ok        ok       ok       --     --   ok   ok         ok
reviewer          ok   ok    ok      403    403  403    403   403    ok      ok     ok        ok        ok        404       ok         ok         ok        403      ok       --     --   403   ok         403
county_officer    ok   ok    ok      403    403  403    403   403    ok      403    ok        ok        403       404       ok         403        ok        403      ok       --     --   403   ok         403
county_admin      ok   ok    ok      err    403  403    403   403    ok      403    ok        ok        403       404       ok         403        ok        403      ok       --     --   403   ok         403
sibling_officer   hid  404   404     403    404  404    404   404    404     404    404       404       404       404       404        404        404       404      404      --     --   404   404        404
province_editor   ok   ok    ok      err    403  403    403   403    ok      ok     ok        ok        ok        404       ok         ok         ok        403      ok       --     --   403   ok         403
system_admin      hid  404   404     403    404  404    404   404    404     404    404       404       404       404       404        404        404       404      404      --     --   404   404        404
security_admin    hid  404   404     403    404  404    404   404    404     404    404       404       404       404       404        404        404       404      404      --     --   404   404        404
audit_admin       hid  404   404     403    404  404    404   404    404     404    404       404       404       404       404        404        404       404      404      --     --   404   404        404
other_tree        hid  404   404     err    404  404    404   404    404     404    404       404       404       404       404        404        404       404      404      --     --   404   404        404
"""

APIS = """
                  list rules version create save newver adopt whatif ranking people dashboard drill_ca1 drill_ca2 drill_cb1 person_ca1 person_ca2 circulars generate download deduct copy history recomputes restart
manager           ok   ok    ok      ok     ok   ok     ok    ok     ok      ok     --        ok        ok        404       --         --         ok        ok       ok       ok     ok   --   ok         ok
unit_admin        ok   ok    ok      ok     ok   ok     ok    ok     ok      ok     --        ok        ok        404       --         --         ok        ok       ok       ok     ok   --   ok         ok
reviewer          ok   ok    ok      403    403  403    403   403    ok      ok     --        ok        ok        404       --         --         ok        403      ok       403    403  --   ok         403
county_officer    ok   ok    ok      403    403  403    403   403    ok      403    --        ok        403       404       --         --         ok        403      ok       403    403  --   ok         403
county_admin      ok   ok    ok      403    403  403    403   403    ok      403    --        ok        403       404       --         --         ok        403      ok       403    403  --   ok         403
sibling_officer   hid  404   404     404    404  404    404   404    404     404    --        404       404       404       --         --         404       404      404      404    404  --   404        404
province_editor   ok   ok    ok      403    403  403    403   403    ok      ok     --        ok        ok        404       --         --         ok        403      ok       403    403  --   ok         403
system_admin      hid  404   404     403    404  404    404   404    404     404    --        404       404       404       --         --         404       404      404      404    404  --   404        404
security_admin    hid  404   404     403    404  404    404   404    404     404    --        404       404       404       --         --         404       404      404      404    404  --   404        404
audit_admin       hid  404   404     404    404  404    404   404    404     404    --        404       404       404       --         --         404       404      404      404    404  --   404        404
other_tree        hid  404   404     404    404  404    404   404    404     404    --        404       404       404       --         --         404       404      404      404    404  --   404        404
"""
# fmt: on


def parse(table: str) -> dict[str, dict[str, str]]:
    header, *lines = table.strip().splitlines()
    assert header.split() == ACTIONS
    rows: dict[str, dict[str, str]] = {}
    for line in lines:
        persona, *cells = line.split()
        assert len(cells) == len(ACTIONS), persona
        rows[persona] = dict(zip(ACTIONS, cells, strict=True))
    assert list(rows) == PERSONAS
    return rows


EXPECTED = {"page": parse(PAGES), "api": parse(APIS)}

# Where the code answers otherwise today: (channel, persona, action) → why the table is right.
WRONG_NOW: dict[tuple[str, str, str], str] = {}


def cases() -> list[Any]:
    out = []
    for channel, table in EXPECTED.items():
        for persona in PERSONAS:
            for action in ACTIONS:
                if table[persona][action] == "--":
                    continue
                reason = WRONG_NOW.get((channel, persona, action))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(channel, persona, action, marks=marks))
    return out


# The module's world ------------------------------------------------------------------------------


@dataclass
class Setup:
    people: dict[str, int]
    tokens: dict[str, str]
    units: dict[str, int]
    scheme: int
    v1: int
    v2: int
    circular: int
    failed: int  # a recompute of v1 that failed (to restart)
    item: int  # CA1's adopted item (for 认定抄袭)
    authors: dict[str, int]  # unit code → the officer who wrote its item
    month: str


def build() -> Setup:
    province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
    city_a = make_unit(province, "CA", Level.CITY, "临江市委组织部")
    county_a = make_unit(city_a, "CA1", Level.COUNTY, "安平县委组织部")
    county_a2 = make_unit(city_a, "CA2", Level.COUNTY, "青石县委组织部")
    city_b = make_unit(province, "CB", Level.CITY, "白河市委组织部")
    county_b = make_unit(city_b, "CB1", Level.COUNTY, "云溪县委组织部")
    other = make_unit(None, "Q", Level.PROVINCE, "外省委组织部")
    people = {
        "manager": make_person("manager", city_a, Role.EDITOR),
        "unit_admin": make_person("unit_admin", city_a, Role.UNIT_ADMIN),
        "reviewer": make_person("reviewer", city_a, Role.REVIEWER),
        "county_officer": make_person("county_officer", county_a, Role.OFFICER),
        "county_admin": make_person("county_admin", county_a, Role.UNIT_ADMIN),
        "sibling_officer": make_person("sibling_officer", city_b, Role.OFFICER),
        "province_editor": make_person("province_editor", province, Role.EDITOR),
        "system_admin": make_person("system_admin", platform_role=PlatformRole.SYSTEM_ADMIN),
        "security_admin": make_person("security_admin", platform_role=PlatformRole.SECURITY_ADMIN),
        "audit_admin": make_person("audit_admin", platform_role=PlatformRole.AUDIT_ADMIN),
        "other_tree": make_person("other_tree", other, Role.UNIT_ADMIN),
    }
    county_reviewer = make_person("county_reviewer", county_a, Role.REVIEWER)
    officer_a2 = make_person("officer_a2", county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", county_a2, Role.REVIEWER)
    make_person("officer_b1", county_b, Role.OFFICER)
    manager = people["manager"]

    scheme = workflow.create_scheme(by=manager, unit=city_a, name=SCHEME)
    v1 = workflow.adopt_version(
        by=manager, version=scheme.versions.get(), effective_from=dt.date(2026, 1, 1)
    )
    item = submitted(county_a, people["county_officer"], county_reviewer, "安平县信息")
    submitted(county_a2, officer_a2, reviewer_a2, "青石县信息")
    journal = pubs.create_publication(
        by=manager, unit=city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )
    pubs.adopt(
        by=manager,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
    )
    v2 = workflow.new_version(by=manager, scheme=scheme)
    period = rankings.current_period("month")
    circular = workflow.generate_circular(
        by=manager, scheme=scheme, parent=city_a, grain="month", period=period
    )
    failed = Recompute.objects.create(
        version=v1,
        start=period.start,
        end=period.end,
        reason="启用第 1 版（矩阵）",
        status=RecomputeStatus.FAILED,
        requested_by=manager,
        error="测试：处理进程已退出",
    )
    return Setup(
        people={name: user.pk for name, user in people.items()},
        tokens={
            name: orgs_workflow.create_api_token(by=user, name="矩阵")[1]
            for name, user in people.items()
        },
        units={u.code: u.pk for u in (province, city_a, county_a, county_a2, city_b, county_b)},
        scheme=scheme.pk,
        v1=v1.pk,
        v2=v2.pk,
        circular=circular.pk,
        failed=failed.pk,
        item=item.pk,
        authors={"CA1": people["county_officer"].pk, "CA2": officer_a2.pk},
        month=period.key,
    )


@pytest.fixture(scope="module")
def built(django_db_setup: None, django_db_blocker: Any) -> Iterator[Setup]:
    """Built once inside an outer transaction; each test runs in a savepoint of it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        yield build()
        transaction.set_rollback(True)


@pytest.fixture
def setup(built: Setup, db: None) -> Setup:
    return built


def test_the_setup_scores_both_counties_and_archives_a_circular(setup: Setup) -> None:
    # Demo "highest level only": CA1 5 (submitted) + 10 (whole, city journal); CA2 5.
    scheme = Scheme.objects.get(pk=setup.scheme)
    rows = rankings.unit_ranking(scheme, scheme.unit, rankings.current_period("month"))
    assert [(r.name, r.figures.points) for r in rows] == [
        ("安平县委组织部", Decimal(15)),
        ("青石县委组织部", Decimal(5)),
    ]
    assert SchemeVersion.objects.get(pk=setup.v2).status == "draft"
    assert Circular.objects.filter(pk=setup.circular).exists()


# Requests ----------------------------------------------------------------------------------------


def edit_payload(version: SchemeVersion, note: str) -> dict[str, Any]:
    """What the draft form posts untouched (one blank extra row per formset), with a note."""
    initial, table, quotas = rules_initial(version.data)
    data: dict[str, Any] = {k: v for k, v in initial.items() if v is not None}
    data["note"] = note
    for prefix, rows in (("table", table), ("quota", quotas)):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows) + 1
        data[f"{prefix}-INITIAL_FORMS"] = len(rows)
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    data[f"table-{len(table)}-kind"] = "*"
    data[f"table-{len(table)}-form"] = "*"
    data[f"quota-{len(quotas)}-per"] = "month"
    data[f"quota-{len(quotas)}-min_items"] = "0"
    return data


NOTE = "矩阵测试修订"


def _next_month() -> str:
    today = dt.datetime.now(local_tz()).date()
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1).isoformat()


def page_request(setup: Setup, persona: str, action: str) -> Any:
    client = Client()
    client.force_login(User.objects.get(pk=setup.people[persona]))
    s, u = setup.scheme, setup.units
    month: dict[str, str | int] = {"grain": "month", "key": setup.month}
    if action == "list":
        return client.get("/scoring/schemes/")
    if action == "rules":
        return client.get(f"/scoring/schemes/{s}/")
    if action == "version":
        return client.get(f"/scoring/versions/{setup.v1}/")
    if action == "create":
        return client.post(
            "/scoring/schemes/", {"unit": u["CA"], "name": "新计分办法", "template": "city"}
        )
    if action == "save":
        draft = SchemeVersion.objects.get(pk=setup.v2)
        return client.post(f"/scoring/versions/{setup.v2}/edit/", edit_payload(draft, NOTE))
    if action == "newver":
        return client.post(f"/scoring/schemes/{s}/new-version/")
    if action == "adopt":
        return client.post(
            f"/scoring/versions/{setup.v2}/adopt/", {"effective_from": _next_month()}
        )
    if action == "whatif":
        return client.get(
            f"/scoring/schemes/{s}/whatif/", {"version": setup.v2, **month, "parent": u["CA"]}
        )
    if action == "ranking":
        return client.get("/scoring/", {"scheme": s, **month})
    if action == "people":
        return client.get("/scoring/", {"scheme": s, "tab": "people", **month})
    if action == "dashboard":
        return client.get("/scoring/dashboard/", {"scheme": s, **month})
    if action.startswith("drill_"):
        unit = u[action.removeprefix("drill_").upper()]
        return client.get(f"/scoring/{s}/units/{unit}/", month)
    if action.startswith("person_"):
        person = setup.authors[action.removeprefix("person_").upper()]
        return client.get(f"/scoring/{s}/people/{person}/", month)
    if action == "circulars":
        return client.get(f"/scoring/{s}/circulars/")
    if action == "generate":
        return client.post(f"/scoring/{s}/circulars/new/", {**month, "unit": u["CA"]})
    if action == "download":
        return client.get(f"/scoring/circulars/{setup.circular}/docx/")
    if action == "recomputes":
        return client.get(f"/scoring/schemes/{s}/recomputes/")
    if action == "restart":
        return client.post(f"/scoring/recomputes/{setup.failed}/restart/")
    assert action == "history"
    return client.get(f"/scoring/{s}/history/")


def api_request(setup: Setup, persona: str, action: str) -> Any:
    client = Client(headers={"Authorization": f"Bearer {setup.tokens[persona]}"})
    s, u = setup.scheme, setup.units
    month = {"grain": "month", "key": setup.month}

    def post(path: str, body: dict[str, Any]) -> Any:
        return client.post(f"{API}{path}", data=json.dumps(body), content_type="application/json")

    if action == "list":
        return client.get(f"{API}/scoring/schemes")
    if action == "rules":
        return client.get(f"{API}/scoring/schemes/{s}")
    if action == "version":
        return client.get(f"{API}/scoring/versions/{setup.v1}")
    if action == "create":
        return post("/scoring/schemes", {"unit_id": u["CA"], "name": "新计分办法"})
    if action == "save":
        draft = SchemeVersion.objects.get(pk=setup.v2)
        body = json.dumps({"data": draft.data, "note": NOTE})
        return client.put(
            f"{API}/scoring/versions/{setup.v2}", data=body, content_type="application/json"
        )
    if action == "newver":
        return post(f"/scoring/schemes/{s}/versions", {})
    if action == "adopt":
        return post(f"/scoring/versions/{setup.v2}/adopt", {"effective_from": _next_month()})
    if action == "whatif":
        return post(f"/scoring/schemes/{s}/whatif", {"version_id": setup.v2, **month})
    if action == "ranking":
        return client.get(f"{API}/scoring/schemes/{s}/ranking", month)
    if action == "people":
        return client.get(f"{API}/scoring/schemes/{s}/ranking", {**month, "people": "true"})
    if action.startswith("drill_"):
        unit = u[action.removeprefix("drill_").upper()]
        return client.get(f"{API}/scoring/schemes/{s}/units/{unit}/entries", month)
    if action == "circulars":
        return client.get(f"{API}/scoring/schemes/{s}/circulars")
    if action == "generate":
        return post(f"/scoring/schemes/{s}/circulars", month)
    if action == "download":
        return client.get(f"{API}/scoring/circulars/{setup.circular}/docx")
    if action == "deduct":
        return post(
            f"/scoring/schemes/{s}/decisions",
            {"action": "deduct", "target_id": u["CA1"], "points": "5", "reason": "迟报"},
        )
    if action == "recomputes":
        return client.get(f"{API}/scoring/schemes/{s}/recomputes")
    if action == "restart":
        return post(f"/scoring/recomputes/{setup.failed}/restart", {})
    assert action == "copy"
    return post(
        f"/scoring/schemes/{s}/decisions",
        {"action": "confirmed_copy", "item_id": setup.item, "reason": "与他人稿件雷同"},
    )


def snapshot() -> dict[str, Any]:
    return {
        "schemes": list(Scheme.objects.values().order_by("pk")),
        "versions": list(SchemeVersion.objects.values().order_by("pk")),
        "entries": LedgerEntry.objects.count(),
        "circulars": list(Circular.objects.values_list("pk", flat=True).order_by("pk")),
        "decisions": list(AssessmentEvent.objects.values_list("pk", flat=True).order_by("pk")),
        "recomputes": list(Recompute.objects.values_list("pk", "status").order_by("pk")),
    }


def changed_as_allowed(setup: Setup, action: str, before: dict[str, Any]) -> None:
    """The change an allowed action makes (reads change nothing)."""
    after = snapshot()
    if action == "create":
        assert len(after["schemes"]) == len(before["schemes"]) + 1
    elif action == "save":
        assert SchemeVersion.objects.get(pk=setup.v2).note == NOTE
    elif action == "adopt":
        assert SchemeVersion.objects.get(pk=setup.v2).status == "adopted"
    elif action == "generate":
        assert len(after["circulars"]) == len(before["circulars"]) + 1
    elif action in ("deduct", "copy"):
        assert len(after["decisions"]) == len(before["decisions"]) + 1
    elif action == "restart":
        assert after["recomputes"] == [
            *before["recomputes"],
            (after["recomputes"][-1][0], "queued"),
        ]
    else:
        # "newver" with a draft already open hands back that draft.
        assert after == before, action


def listed(response: Any, channel: str) -> bool:
    if channel == "api":
        return any(row["id"] for row in response.json() if row["name"] == SCHEME)
    return SCHEME in response.content.decode()


@pytest.mark.parametrize(("channel", "persona", "action"), cases())
def test_scoring_permission(setup: Setup, channel: str, persona: str, action: str) -> None:
    expected = EXPECTED[channel][persona][action]
    before = snapshot()
    send = page_request if channel == "page" else api_request
    response = send(setup, persona, action)
    body = response.content.decode(errors="replace")[:400]
    if expected == "ok":
        allowed = {200, 201, 302} if channel == "page" else {200, 201}
        assert response.status_code in allowed, body
        if channel == "page" and response.status_code == 302:
            assert "/login/" not in response["Location"], response["Location"]
        if action == "list":
            assert listed(response, channel)
        changed_as_allowed(setup, action, before)
        return
    if expected == "hid":
        assert response.status_code == 200, body
        assert not listed(response, channel)
    elif expected == "err":
        assert response.status_code == 200, body
        form = response.content.decode().split('id="new-scheme"')[1]
        assert "errorlist" in form, form[:1000]
    else:
        assert response.status_code == int(expected), body
        if channel == "api":
            detail = response.json()["detail"]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in detail), detail
    assert snapshot() == before
