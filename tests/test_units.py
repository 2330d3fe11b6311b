"""The unit tree through the UI: create, rename, move with the subtree, deactivate, browse, find."""

import datetime as dt
import re
from html.parser import HTMLParser
from unittest import mock

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from baosong.audit.models import Event
from baosong.orgs import workflow
from baosong.orgs.models import Level, Membership, Role, Unit
from conftest import World, client_for, make_person, make_unit


def unit_fields(unit: Unit, **changes: object) -> dict[str, object]:
    data = {f: getattr(unit, f) for f in ("code", "name", "short_name", "level", "sort_order")}
    return {**data, **changes}


def test_unit_admin_creates_a_child_unit_and_renames_it(world: World) -> None:
    client = client_for(world.unit_admin_city)
    form = client.get(f"/units/{world.city_a.pk}/new/")
    assert form.status_code == 200
    assert '<option value="county" selected>' in form.content.decode()  # the next level down

    response = client.post(
        f"/units/{world.city_a.pk}/new/",
        {
            "code": "CA3",
            "name": "中共河口县委组织部",
            "short_name": "河口县委组织部",
            "level": "county",
            "sort_order": 3,
        },
        follow=True,
    )
    unit = Unit.objects.get(code="CA3")
    assert response.redirect_chain == [(f"/units/{unit.pk}/", 302)]
    assert "已新建单位“河口县委组织部”" in response.content.decode()
    assert (unit.parent_id, unit.path, unit.depth, unit.level) == (
        world.city_a.pk,
        f"{world.city_a.path}{unit.pk}/",
        world.city_a.depth + 1,
        Level.COUNTY,
    )

    response = client.post(
        f"/units/{unit.pk}/edit/", unit_fields(unit, name="中共河口县委组织部（新）")
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.name == "中共河口县委组织部（新）"
    assert unit.path == f"{world.city_a.path}{unit.pk}/"  # a rename never moves
    assert Event.objects.filter(action="unit.update", object_id=str(unit.pk)).count() == 1


def test_a_new_unit_with_a_taken_code_or_a_wrong_level_is_refused_in_chinese(world: World) -> None:
    client = client_for(world.unit_admin_city)
    count = Unit.objects.count()
    response = client.post(
        f"/units/{world.city_a.pk}/new/",
        {"code": "CA1", "name": "重复", "short_name": "重复", "level": "county", "sort_order": 0},
    )
    assert response.status_code == 200
    assert "单位编码“CA1”已被使用。" in response.content.decode()
    response = client.post(
        f"/units/{world.county_a.pk}/new/",
        {
            "code": "CA1-X",
            "name": "县中县",
            "short_name": "县中县",
            "level": "county",
            "sort_order": 0,
        },
    )
    assert response.status_code == 200
    assert "“县”级单位不能隶属于“县”级单位。" in response.content.decode()
    response = client.post(
        f"/units/{world.county_a.pk}/new/",
        {"code": "bad code!", "name": "x", "short_name": "x", "level": "internal", "sort_order": 0},
    )
    assert "单位编码只能包含字母、数字、下划线和连字符" in response.content.decode()
    assert Unit.objects.count() == count


# Moving ------------------------------------------------------------------------------------------


@pytest.fixture
def branch(world: World) -> list[Unit]:
    """County A with a township, and a section inside the township."""
    township = make_unit(world.county_a, "CA1-T", Level.TOWNSHIP, "城关镇")
    section = make_unit(township, "CA1-T-OFF", Level.INTERNAL, "党政办")
    return [world.county_a, township, section]


def test_moving_a_unit_carries_its_whole_subtree(world: World, branch: list[Unit]) -> None:
    county, township, section = branch
    client = client_for(world.unit_admin_province)
    form = client.get(f"/units/{county.pk}/move/").content.decode()
    assert f'value="{world.city_b.pk}"' in form
    assert f'value="{township.pk}"' not in form  # its own subtree is not offered

    response = client.post(
        f"/units/{county.pk}/move/", {"new_parent": world.city_b.pk}, follow=True
    )
    assert response.redirect_chain == [(f"/units/{county.pk}/", 302)]
    assert "及其下级单位移至新的上级单位" in response.content.decode()

    for unit in (county, township, section):
        unit.refresh_from_db()
    assert county.parent_id == world.city_b.pk
    assert county.path == f"{world.city_b.path}{county.pk}/"
    assert township.path == f"{county.path}{township.pk}/"
    assert section.path == f"{township.path}{section.pk}/"
    assert (county.depth, township.depth, section.depth) == (2, 3, 4)
    assert township.parent_id == county.pk  # parents inside the branch stay
    assert not Unit.objects.filter(path__startswith=f"{world.city_a.path}{county.pk}/").exists()

    event = Event.objects.get(action="unit.move")
    assert event.before is not None and event.after is not None
    assert (event.before["parent"], event.after["parent"]) == ("CA", "CB")
    assert (event.before["path"], event.after["path"]) == (
        f"{world.city_a.path}{county.pk}/",
        county.path,
    )
    # The branch is now city B's: its admin manages it, city A's admin no longer sees it, and
    # the county's own officer sees city B as an ancestor instead of city A.
    city_b_admin = make_person("admin_city_b", world.city_b, Role.UNIT_ADMIN)
    assert client_for(city_b_admin).get(f"/units/{section.pk}/edit/").status_code == 200
    assert client_for(world.unit_admin_city).get(f"/units/{county.pk}/").status_code == 404
    officer = client_for(world.officer_county_a)
    assert officer.get(f"/units/{world.city_b.pk}/").status_code == 200
    assert officer.get(f"/units/{world.city_a.pk}/").status_code == 404


def test_a_move_that_fails_halfway_changes_nothing(world: World, branch: list[Unit]) -> None:
    before = list(Unit.objects.order_by("pk").values_list("pk", "path", "depth", "parent_id"))
    with (
        mock.patch("baosong.orgs.workflow.record", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        workflow.move_unit(
            by=world.unit_admin_province, unit=world.county_a, new_parent=world.city_b
        )
    after = list(Unit.objects.order_by("pk").values_list("pk", "path", "depth", "parent_id"))
    assert after == before
    assert not Event.objects.filter(action="unit.move").exists()


def test_a_unit_cannot_be_moved_under_its_own_descendant(world: World, branch: list[Unit]) -> None:
    county, township, _section = branch
    client = client_for(world.system_admin)
    # The form does not offer the own subtree; a forged post is refused.
    response = client.post(f"/units/{county.pk}/move/", {"new_parent": township.pk})
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    with pytest.raises(ValidationError) as caught:
        workflow.move_unit(by=world.system_admin, unit=county, new_parent=township)
    assert caught.value.messages == ["不能把单位移到它自己或它的下级单位之下。"]
    with pytest.raises(ValidationError):
        workflow.move_unit(by=world.system_admin, unit=county, new_parent=county)
    county.refresh_from_db()
    assert county.parent_id == world.city_a.pk


def test_moving_follows_the_level_rules(world: World) -> None:
    client = client_for(world.system_admin)
    response = client.post(f"/units/{world.county_a.pk}/move/", {"new_parent": world.county_a2.pk})
    assert response.status_code == 200
    assert "“县”级单位不能隶属于“县”级单位。" in response.content.decode()
    response = client.post(f"/units/{world.city_a.pk}/move/", {"new_parent": world.city_b.pk})
    assert "“市”级单位不能隶属于“市”级单位。" in response.content.decode()
    world.county_a.refresh_from_db()
    assert world.county_a.parent_id == world.city_a.pk
    # A section (科室) may sit under any unit.
    response = client.post(
        f"/units/{world.province_office.pk}/move/", {"new_parent": world.county_a.pk}
    )
    assert response.status_code == 302
    world.province_office.refresh_from_db()
    assert world.province_office.path == f"{world.county_a.path}{world.province_office.pk}/"


# Deactivating ------------------------------------------------------------------------------------


def test_a_unit_with_active_children_or_current_members_cannot_be_deactivated(
    world: World,
) -> None:
    client = client_for(world.unit_admin_province)
    response = client.post(f"/units/{world.city_a.pk}/deactivate/", follow=True)
    assert "该单位还有 2 个启用的下级单位，请先停用或移走。" in response.content.decode()
    response = client.post(f"/units/{world.county_a.pk}/deactivate/", follow=True)
    assert "该单位还有 3 条在任任职，请先结束这些任职。" in response.content.decode()
    assert Unit.objects.filter(is_active=False).count() == 0
    assert not Event.objects.filter(action="unit.deactivate").exists()


def test_a_unit_is_deactivated_once_empty_and_keeps_its_history(world: World) -> None:
    admin = client_for(world.unit_admin_city)
    today = timezone.localdate()
    for membership in Membership.objects.current().filter(unit=world.county_a2):
        pytest.fail(f"county A2 should start empty: {membership}")
    member = workflow.create_person(
        by=world.unit_admin_city,
        username="leaver",
        real_name="离任者",
        unit=world.county_a2,
        role="officer",
    )
    response = admin.post(f"/units/{world.county_a2.pk}/deactivate/", follow=True)
    assert "在任任职" in response.content.decode()

    membership = member.memberships.get()
    admin.post(f"/memberships/{membership.pk}/end/", {"end": today.isoformat()})
    # The role lasts through its end date; the unit can be closed the day after.
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        admin = client_for(world.unit_admin_city)
        response = admin.post(f"/units/{world.county_a2.pk}/deactivate/", follow=True)
        assert "已停用“青石县委组织部”" in response.content.decode()
    world.county_a2.refresh_from_db()
    assert not world.county_a2.is_active
    assert Membership.objects.filter(unit=world.county_a2).count() == 1  # history stays
    assert (
        Event.objects.filter(action="unit.deactivate", object_id=str(world.county_a2.pk)).count()
        == 1
    )
    # A deactivated unit takes no new children and no new members; it can be reactivated.
    response = admin.post(
        f"/units/{world.county_a2.pk}/new/",
        {"code": "CA2-X", "name": "x", "short_name": "x", "level": "township", "sort_order": 0},
    )
    assert "上级单位已停用。" in response.content.decode()
    response = admin.post(f"/units/{world.county_a2.pk}/reactivate/")
    assert response.status_code == 302
    world.county_a2.refresh_from_db()
    assert world.county_a2.is_active


def test_a_unit_admin_cannot_deactivate_the_own_unit(world: World) -> None:
    client = client_for(world.unit_admin_county_a)
    assert client.post(f"/units/{world.county_a.pk}/deactivate/").status_code == 403
    page = client.get(f"/units/{world.county_a.pk}/").content.decode()
    assert "停用</button>" not in page and "移动</a>" not in page
    assert "新建下级单位" in page


# Browsing ----------------------------------------------------------------------------------------


class TreeParser(HTMLParser):
    """Parent of each unit as nested in the page's <ul class="tree"> lists."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[int | None] = []
        self.parent_of: dict[int, int | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.stack.append(None)
        href = dict(attrs).get("href") or ""
        match = re.fullmatch(r"/units/(\d+)/", href)
        if tag == "a" and match and self.stack and self.stack[-1] is None:
            pk = int(match.group(1))
            self.stack[-1] = pk
            self.parent_of[pk] = next((p for p in reversed(self.stack[:-1]) if p), None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self.stack:
            self.stack.pop()


def tree_of(html: str) -> dict[int, int | None]:
    parser = TreeParser()
    parser.feed(html)
    return parser.parent_of


def test_the_tree_page_nests_the_units_the_user_may_see(world: World, branch: list[Unit]) -> None:
    county, township, _section = branch
    w = world
    page = client_for(w.unit_admin_province).get("/units/").content.decode()
    nesting = tree_of(page)
    assert nesting[w.province.pk] is None
    assert nesting[w.city_a.pk] == w.province.pk
    assert nesting[w.county_a.pk] == w.city_a.pk
    assert nesting[w.county_b.pk] == w.city_b.pk
    assert w.other_province.pk not in nesting
    # Deeper branches load when opened (htmx), as the same nested list.
    assert township.pk not in nesting
    assert f'hx-get="/units/{county.pk}/children/"' in page
    children = client_for(w.unit_admin_province).get(f"/units/{county.pk}/children/")
    assert list(tree_of(children.content.decode())) == [township.pk]

    # An officer sees the own branch with its ancestors, not the neighbours.
    nesting = tree_of(client_for(w.officer_county_a).get("/units/").content.decode())
    assert set(nesting) >= {w.province.pk, w.city_a.pk, w.county_a.pk}
    assert not {w.city_b.pk, w.county_a2.pk, w.county_b.pk, w.province_office.pk} & set(nesting)


def test_the_tree_search_finds_visible_units_by_name_short_name_or_code(world: World) -> None:
    client = client_for(world.unit_admin_city)
    page = client.get("/units/", {"q": "安平"}).content.decode()
    assert "“安平”的查找结果" in page and "安平县委组织部" in page
    page = client.get("/units/", {"q": "ca2"}).content.decode()
    assert "青石县委组织部" in page
    page = client.get("/units/", {"q": "白河"}).content.decode()
    assert "没有匹配的单位。" in page
    page = client_for(world.officer_county_a).get("/units/", {"q": "青石"}).content.decode()
    assert "没有匹配的单位。" in page


def test_the_unit_page_lists_current_members_to_those_who_manage_people(world: World) -> None:
    page = client_for(world.unit_admin_city).get(f"/units/{world.county_a.pk}/").content.decode()
    assert "officer_county_a" in page and "在任人员" in page
    page = client_for(world.officer_county_a).get(f"/units/{world.county_a.pk}/").content.decode()
    assert "在任人员" not in page
