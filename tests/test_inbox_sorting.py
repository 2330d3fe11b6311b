"""Receipts carry the item's title and origin path, so the inbox sorts by an index."""

from typing import Any

from baosong.orgs import workflow as orgs
from baosong.orgs.models import Role
from baosong.publications import workflow
from baosong.submissions.models import Addressee
from conftest import client_for, make_person
from tests.test_publication_scenarios import submitted


def test_receipts_copy_title_and_origin_and_the_inbox_sorts_by_them(world: Any) -> None:
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    editor_province = make_person("editor_province", world.province, Role.EDITOR)
    late = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "B 安平县报送"
    )
    early = submitted(world.county_a2, officer_a2, reviewer_a2, "A 青石县报送")

    receipt = Addressee.objects.get(submission=late, unit=world.city_a)
    assert (receipt.sort_title, receipt.origin_path) == (late.title, world.county_a.path)
    workflow.forward(by=world.editor_city, item=late)
    forwarded = Addressee.objects.get(submission=late, unit=world.province)
    assert (forwarded.sort_title, forwarded.origin_path) == (late.title, world.county_a.path)

    city = client_for(world.editor_city)
    page = city.get("/inbox/?tab=all&sort=title").content.decode()
    assert page.index(early.title) < page.index(late.title)
    page = city.get("/inbox/?tab=all&sort=origin").content.decode()
    # 安平 (CA1) was created before 青石 (CA2), so its path sorts first.
    assert page.index(late.title) < page.index(early.title)
    assert client_for(editor_province).get("/inbox/?sort=title").status_code == 200


def test_receipts_with_the_same_title_or_origin_list_the_newest_first(world: Any) -> None:
    older = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "同题稿件")
    newer = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "同题稿件")
    city = client_for(world.editor_city)
    for sort in ("title", "origin"):
        page = city.get(f"/inbox/?tab=all&sort={sort}").content.decode()
        assert page.index(f"/inbox/{newer.pk}/") < page.index(f"/inbox/{older.pk}/"), sort


def test_when_a_unit_moves_its_items_receipts_sort_by_its_new_place(world: Any) -> None:
    """The receipts' copy of the item's unit path follows a move of the unit (in the move's
    transaction), so the inbox's sort by origin does not keep the old place."""
    moved = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "搬家前")
    reviewer_b1 = make_person("reviewer_b1", world.county_b, Role.REVIEWER)
    officer_b1 = make_person("officer_b1", world.county_b, Role.OFFICER)
    stays = submitted(world.county_b, officer_b1, reviewer_b1, "不动的单位")
    workflow.forward(by=world.editor_city, item=moved)
    old_path = world.county_a.path
    orgs.move_unit(by=world.system_admin, unit=world.county_a, new_parent=world.city_b)
    world.county_a.refresh_from_db()
    assert world.county_a.path != old_path
    paths = set(Addressee.objects.filter(submission=moved).values_list("origin_path", flat=True))
    assert paths == {world.county_a.path}  # the city's receipt and the forwarded one
    assert set(
        Addressee.objects.filter(submission=stays).values_list("origin_path", flat=True)
    ) == {world.county_b.path}
