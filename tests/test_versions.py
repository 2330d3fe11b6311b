"""Version list and side-by-side comparison pages."""

import re
from typing import Any

import pytest
from django.urls import reverse

from baosong.orgs.models import Role
from baosong.submissions import workflow
from baosong.submissions.models import Submission, Version
from baosong.submissions.workflow import DraftInput
from conftest import client_for, make_person


def draft(world: Any, title: str = "安平县扎实推进基层党建工作") -> Submission:
    data = DraftInput(
        item_type="info",
        kind="dynamic",
        title=title,
        body="<p>扎实推进基层党建工作。</p><p>第二段保持不变。</p>",
    )
    return workflow.create_draft(by=world.officer_county_a, unit=world.county_a, data=data)


def save(world: Any, item: Submission, base: int, body: str, title: str | None = None) -> Any:
    return workflow.save_content(
        by=world.officer_county_a,
        item=item,
        base_version=base,
        title=title or item.title,
        body=body,
    )


def with_three_versions(world: Any) -> Submission:
    item = draft(world)
    save(world, item, 1, "<p>扎实推进农村基层党建工作。</p><p>第二段保持不变。</p>")
    save(
        world,
        item,
        2,
        "<p>扎实推进农村基层党建工作。</p><p>第二段保持不变。</p>",
        title="安平县扎实推进农村基层党建工作",
    )
    item.refresh_from_db()
    return item


def compare_url(item: Submission, query: str = "") -> str:
    return reverse("items_compare", args=[item.pk]) + query


def test_the_author_sees_every_version_newest_first_with_source_author_and_pickers(
    world: Any,
) -> None:
    item = with_three_versions(world)
    response = client_for(world.officer_county_a).get(reverse("items_versions", args=[item.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    rows = re.findall(r'<tr class="version-row[^"]*" id="v(\d+)"', html)
    assert rows == ["3", "2", "1"]
    assert "新建" in html and "保存" in html and "officer_county_a" in html
    assert 'name="a" value="2"' in html and 'name="b" value="3"' in html
    assert re.search(r'name="b" value="3"[^>]*checked', html)
    assert re.search(r'name="a" value="2"[^>]*checked', html)
    assert f'action="{compare_url(item)}"' in html
    assert Version.objects.filter(submission=item).count() == 3


def test_comparing_two_versions_marks_only_the_inserted_words_in_title_and_body(
    world: Any,
) -> None:
    item = with_three_versions(world)
    response = client_for(world.officer_county_a).get(compare_url(item, "?a=1&b=3"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<ins class="diff-ins">农村</ins>') == 2  # title and first paragraph
    assert "<del" not in html.split('class="diff-legend')[0]
    assert "第二段保持不变。" in html
    assert "比较第 1 版与第 3 版" in html


def test_comparing_without_numbers_shows_the_current_version_against_the_one_before(
    world: Any,
) -> None:
    item = with_three_versions(world)
    html = client_for(world.officer_county_a).get(compare_url(item)).content.decode()
    assert "比较第 2 版与第 3 版" in html
    assert '<ins class="diff-ins">农村</ins>' in html  # only the title changed


def test_a_deleted_word_is_marked_as_deleted_on_the_old_side(world: Any) -> None:
    item = with_three_versions(world)
    html = client_for(world.officer_county_a).get(compare_url(item, "?a=3&b=1")).content.decode()
    assert html.count('<del class="diff-del">农村</del>') == 2


def test_a_version_compared_with_itself_says_they_are_the_same(world: Any) -> None:
    item = with_three_versions(world)
    html = client_for(world.officer_county_a).get(compare_url(item, "?a=2&b=2")).content.decode()
    assert "两个版本内容相同" in html


def test_a_formatting_only_change_is_explained(world: Any) -> None:
    item = draft(world)
    save(world, item, 1, "<p><strong>扎实推进基层党建工作。</strong></p><p>第二段保持不变。</p>")
    html = client_for(world.officer_county_a).get(compare_url(item, "?a=1&b=2")).content.decode()
    assert "只有格式" in html


@pytest.mark.parametrize("query", ["?a=1&b=9", "?a=7&b=1", "?a=abc&b=1", "?a=1&b=-1", "?a=１&b=1"])
def test_unknown_or_malformed_version_numbers_are_not_found(world: Any, query: str) -> None:
    item = with_three_versions(world)
    response = client_for(world.officer_county_a).get(compare_url(item, query))
    assert response.status_code == 404


def test_a_conflict_version_is_marked_and_shows_which_version_it_was_based_on(world: Any) -> None:
    item = draft(world)
    save(world, item, 1, "<p>甲的修改。</p>")
    result = save(world, item, 1, "<p>乙同时的修改。</p>")
    assert result.conflict and result.version.number == 3
    client = client_for(world.officer_county_a)
    listing = client.get(reverse("items_versions", args=[item.pk])).content.decode()
    assert 'class="version-row version-conflict" id="v3"' in listing
    assert "冲突保留" in listing and "基于第 1 版" in listing
    assert f"{compare_url(item)}?a=1&amp;b=3" in listing
    page = client.get(compare_url(item, "?a=2&b=3")).content.decode()
    assert "冲突保留" in page and "基于第 1 版" in page
    assert '<del class="diff-del diff-chg">甲</del>的修改。' in page
    assert '<ins class="diff-ins diff-chg">乙同时</ins>的修改。' in page
    item.refresh_from_db()
    assert item.version_number == 2


def test_the_unit_reviewer_may_see_versions_of_a_draft(world: Any) -> None:
    item = with_three_versions(world)
    client = client_for(world.reviewer_county_a)
    assert client.get(reverse("items_versions", args=[item.pk])).status_code == 200
    assert client.get(compare_url(item, "?a=1&b=2")).status_code == 200


@pytest.mark.parametrize("persona", ["another_officer", "outsider", "editor_city", "audit_admin"])
def test_people_who_may_not_see_the_item_get_not_found_for_versions(
    world: Any, persona: str
) -> None:
    item = with_three_versions(world)
    if persona == "another_officer":
        person = make_person("officer2_county_a", world.county_a, Role.OFFICER)
    else:
        person = getattr(world, persona)
    client = client_for(person)
    assert client.get(reverse("items_versions", args=[item.pk])).status_code == 404
    assert client.get(compare_url(item, "?a=1&b=2")).status_code == 404


def test_the_upper_units_editor_sees_versions_once_the_item_is_submitted(world: Any) -> None:
    item = with_three_versions(world)
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    for _ in range(3):
        workflow.approve(by=world.reviewer_county_a, item=item)
    client = client_for(world.editor_city)
    assert client.get(reverse("items_versions", args=[item.pk])).status_code == 200
    assert client.get(compare_url(item, "?a=1&b=3")).status_code == 200


def test_the_version_list_costs_the_same_queries_however_many_versions(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    item = draft(world)
    client = client_for(world.officer_county_a)
    url = reverse("items_versions", args=[item.pk])
    client.get(url)  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(2, 12):
        save(world, item, n - 1, f"<p>第 {n} 次修改。</p>")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_a_long_unchanged_stretch_is_folded_around_the_change(world: Any) -> None:
    paragraphs = [f"<p>第{n}段内容。</p>" for n in range(1, 21)]
    item = draft(world)
    save(world, item, 1, "".join(paragraphs))
    changed = [*paragraphs]
    changed[10] = "<p>第11段内容，有改动。</p>"
    save(world, item, 2, "".join(changed))
    html = client_for(world.officer_county_a).get(compare_url(item, "?a=2&b=3")).content.decode()
    assert html.count('<details class="diff-fold">') == 2
    assert '<ins class="diff-ins">，有改动</ins>' in html
    assert "第20段内容。" in html  # folded, not dropped
