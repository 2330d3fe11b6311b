"""Items through the browser-facing views: write, autosave, submit, review, incoming."""

from typing import Any

from baosong.submissions.models import Status, Submission, Version
from conftest import client_for


def new_item(client: Any, world: Any, **extra: Any) -> Submission:
    data = {
        "unit": world.county_a.pk,
        "item_type": "info",
        "kind": "experience",
        "title": "安平县“三联三促”推动基层治理提质增效",
        "body": "<p>今年以来，安平县委组织部……</p>",
        "own_share": 100,
        "addressed": [world.city_a.pk],
        **extra,
    }
    response = client.post("/items/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Submission.objects.latest("id")


def test_officer_writes_autosaves_and_submits_an_item_that_reviewers_approve(world: Any) -> None:
    officer = client_for(world.officer_county_a)
    item = new_item(officer, world)
    assert item.status == Status.DRAFT
    assert officer.get(f"/items/{item.pk}/edit/").status_code == 200

    saved = officer.post(
        f"/items/{item.pk}/autosave/",
        {"title": item.title, "body": "<p>今年以来，安平县委组织部坚持……</p>", "base_version": 1},
    )
    assert saved.status_code == 200 and saved.json()["version"] == 2
    stale = officer.post(
        f"/items/{item.pk}/autosave/",
        {"title": item.title, "body": "<p>另一段</p>", "base_version": 1},
    )
    assert stale.status_code == 409 and stale.json()["conflict"] is True
    assert Version.objects.filter(submission=item).count() == 3

    assert officer.post(f"/items/{item.pk}/submit/").status_code == 302
    reviewer = client_for(world.reviewer_county_a)
    queue = reviewer.get("/review/")
    assert item.title in queue.content.decode()
    for _ in range(3):
        assert reviewer.post(f"/items/{item.pk}/approve/", {"comment": "同意"}).status_code == 302
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED

    editor = client_for(world.editor_city)
    assert item.title in editor.get("/inbox/").content.decode()
    assert editor.get(f"/items/{item.pk}/").status_code == 200
    assert item.addressees.get().opened_at is not None


def test_a_returned_item_shows_the_comment_to_the_author(world: Any) -> None:
    officer = client_for(world.officer_county_a)
    item = new_item(officer, world)
    officer.post(f"/items/{item.pk}/submit/")
    reviewer = client_for(world.reviewer_county_a)
    response = reviewer.post(
        f"/items/{item.pk}/return/", {"comment": "请补充具体数据", "anchor": "今年以来"}
    )
    assert response.status_code == 302
    page = officer.get(f"/items/{item.pk}/").content.decode()
    assert "请补充具体数据" in page and "今年以来" in page


def test_another_officer_of_the_same_unit_cannot_see_a_draft(world: Any) -> None:
    from baosong.orgs.models import Role
    from conftest import make_person

    colleague = make_person("colleague", world.county_a, Role.OFFICER)
    item = new_item(client_for(world.officer_county_a), world)
    assert client_for(colleague).get(f"/items/{item.pk}/").status_code == 404
    assert client_for(world.outsider).get(f"/items/{item.pk}/").status_code == 404
    assert client_for(world.editor_city).get(f"/items/{item.pk}/").status_code == 404


def test_pages_render_for_each_role(world: Any) -> None:
    item = new_item(client_for(world.officer_county_a), world)
    for user, paths in [
        (
            world.officer_county_a,
            ["/", "/items/", "/items/?tab=all", f"/items/{item.pk}/", "/items/new/"],
        ),
        (world.reviewer_county_a, ["/", "/review/", f"/items/{item.pk}/"]),
        (world.editor_city, ["/", "/inbox/"]),
        (world.unit_admin_county_a, [f"/units/{world.county_a.pk}/review-stages/"]),
    ]:
        client = client_for(user)
        for path in paths:
            assert client.get(path).status_code == 200, (user.username, path)
