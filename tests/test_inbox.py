"""The editors' inbox (收件箱) and the decisions on a receipt, through the browser-facing views."""

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from baosong.audit.models import Event as AuditEvent
from baosong.orgs import workflow as orgs
from baosong.orgs.models import Role, Unit, User
from baosong.publications import workflow
from baosong.publications.models import (
    Action,
    Adoption,
    AdoptionForm,
    Event,
    Instruction,
    Publication,
    PublicationKind,
)
from baosong.publications.workflow import SourceInput
from baosong.submissions import workflow as items
from baosong.submissions.models import Addressee, Handling, Status, Submission
from baosong.submissions.workflow import DraftInput
from conftest import client_for, make_person


def submitted(
    unit: Unit, officer: User, reviewer: User, title: str, kind: str = "dynamic"
) -> Submission:
    """An item written, reviewed through the default three stages and submitted to the parent."""
    item = items.create_draft(
        by=officer,
        unit=unit,
        data=DraftInput(item_type="info", kind=kind, title=title, body=f"<p>{title}正文</p>"),
    )
    items.submit_for_review(by=officer, item=item)
    for _ in range(3):
        items.approve(by=reviewer, item=item)
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED
    return item


@pytest.fixture
def cast(world: Any) -> dict[str, Any]:
    return {
        "editor_city2": make_person("editor_city2", world.city_a, Role.EDITOR),
        "editor_county_a2": make_person("editor_county_a2", world.county_a2, Role.EDITOR),
        "editor_city_b": make_person("editor_city_b", world.city_b, Role.EDITOR),
        "editor_province": make_person("editor_province", world.province, Role.EDITOR),
        "officer_a2": make_person("officer_a2", world.county_a2, Role.OFFICER),
        "reviewer_a2": make_person("reviewer_a2", world.county_a2, Role.REVIEWER),
    }


def county_item(world: Any, title: str, kind: str = "dynamic") -> Submission:
    return submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, title, kind)


def journal(world: Any) -> Publication:
    return workflow.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )


def test_inbox_lists_only_the_receipts_of_the_editors_own_units(
    world: Any, cast: dict[str, Any]
) -> None:
    item = county_item(world, "安平县推进乡村振兴")
    page = client_for(world.editor_city).get("/inbox/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "安平县推进乡村振兴" in html and "未读" in html and "安平" in html
    for stranger in (cast["editor_county_a2"], cast["editor_city_b"], world.outsider):
        client = client_for(stranger)
        assert "安平县推进乡村振兴" not in client.get("/inbox/?tab=all").content.decode()
        assert client.get(f"/inbox/{item.pk}/").status_code == 404


def test_opening_the_decision_page_marks_the_receipt_read(world: Any) -> None:
    item = county_item(world, "安平县已阅稿件")
    editor = client_for(world.editor_city)
    page = editor.get(f"/inbox/{item.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "安平县已阅稿件正文" in html and "officer_county_a" in html
    assert f'hx-get="/items/{item.pk}/outcomes/"' in html
    receipt = Addressee.objects.get(submission=item, unit=world.city_a)
    assert receipt.opened_at is not None and receipt.opened_by == world.editor_city
    assert item.events.filter(action="open").exists()
    listing = editor.get("/inbox/").content.decode()
    assert "未读" not in listing
    # Without a publication the page says where to set one up.
    assert "设置刊物" in html and 'href="/publications/"' in html


def test_inbox_tabs_filters_sorting_and_paging(world: Any, cast: dict[str, Any]) -> None:
    first = county_item(world, "A-安平县人才工作", kind="experience")
    second = county_item(world, "B-安平县基层党建")
    third = submitted(world.county_a2, cast["officer_a2"], cast["reviewer_a2"], "C-青石县干部培训")
    workflow.keep_for_reference(by=world.editor_city, item=second)
    editor = client_for(world.editor_city)

    pending = editor.get("/inbox/").content.decode()
    assert "A-安平县人才工作" in pending and "C-青石县干部培训" in pending
    assert "B-安平县基层党建" not in pending
    assert '待处理 <span class="count">2</span>' in pending
    assert '仅供参考 <span class="count">1</span>' in pending
    reference = editor.get("/inbox/?tab=reference").content.decode()
    assert "B-安平县基层党建" in reference and "A-安平县人才工作" not in reference

    by_kind = editor.get("/inbox/?kind=experience").content.decode()
    assert "A-安平县人才工作" in by_kind and "C-青石县干部培训" not in by_kind
    by_origin = editor.get(f"/inbox/?origin={world.county_a2.pk}").content.decode()
    assert "C-青石县干部培训" in by_origin and "A-安平县人才工作" not in by_origin
    by_title = editor.get("/inbox/?q=青石").content.decode()
    assert "C-青石县干部培训" in by_title and "A-安平县人才工作" not in by_title
    today = timezone.localdate()
    in_range = editor.get(f"/inbox/?start={today}&end={today}").content.decode()
    assert "A-安平县人才工作" in in_range
    earlier = today - dt.timedelta(days=3)
    out_of_range = editor.get(f"/inbox/?start={earlier}&end={earlier}").content.decode()
    assert "A-安平县人才工作" not in out_of_range

    by_title_sort = editor.get("/inbox/?sort=title").content.decode()
    assert by_title_sort.index("C-青石县") > by_title_sort.index("A-安平县")
    newest_first = editor.get("/inbox/").content.decode()
    assert newest_first.index("C-青石县") < newest_first.index("A-安平县")
    oldest_first = editor.get("/inbox/?sort=received").content.decode()
    assert oldest_first.index("C-青石县") > oldest_first.index("A-安平县")

    rows = editor.get("/inbox/?tab=all", headers={"HX-Request": "true"})
    assert rows.status_code == 200
    assert "<html" not in rows.content.decode() and 'id="inbox-rows"' in rows.content.decode()
    assert first.pk and third.pk


def test_inbox_pages_by_twenty(world: Any) -> None:
    for n in range(23):
        county_item(world, f"分页稿件{n:02d}")
    editor = client_for(world.editor_city)
    page_1 = editor.get("/inbox/").content.decode()
    page_2 = editor.get("/inbox/?page=2").content.decode()
    assert page_1.count('name="items"') == 20 and page_2.count('name="items"') == 3
    assert "第 1 / 2 页" in page_1 and "分页稿件00" in page_2


def test_inbox_renders_in_a_constant_number_of_queries(
    world: Any, cast: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for n in range(5):
        county_item(world, f"稿件{n}")
    editor = client_for(world.editor_city)
    editor.get("/inbox/")
    with CaptureQueriesContext(connection) as five:
        assert editor.get("/inbox/").status_code == 200
    urls = ["/inbox/?tab=all", "/inbox/?tab=all&sort=title", "/inbox/?tab=all&sort=origin"]
    budgets = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert editor.get(url).status_code == 200
        budgets[url] = len(queries)
    for n in range(5, 30):
        item = county_item(world, f"稿件{n}")
        if n % 3 == 0:
            workflow.claim(by=cast["editor_city2"], item=item)
        elif n % 5 == 0:
            workflow.forward(by=world.editor_city, item=item)
    for n in range(3):
        workflow.forward(by=world.editor_city, item=county_item(world, f"转报稿{n}"))
    with django_assert_max_num_queries(len(five)):
        page = editor.get("/inbox/?tab=all")
    assert page.status_code == 200 and page.content.decode().count('data-label="收到时间"') == 20
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            assert editor.get(url).status_code == 200


def test_a_keyword_matches_titles_whatever_the_case_of_its_letters(world: Any) -> None:
    county_item(world, "AI助力基层治理")
    county_item(world, "安平县干部培训")
    editor = client_for(world.editor_city)
    for keyword, found, missing in [
        ("基层", "AI助力基层治理", "安平县干部培训"),
        ("ai助力", "AI助力基层治理", "安平县干部培训"),
        ("干部", "安平县干部培训", "AI助力基层治理"),
    ]:
        page = editor.get("/inbox/", {"q": keyword}).content.decode()
        assert found in page and missing not in page, keyword


def test_an_editor_of_two_units_sees_which_unit_received_each_item(world: Any) -> None:
    both = make_person("editor_both", world.city_a, Role.EDITOR)
    orgs.add_membership(by=None, person=both, unit=world.province, role=Role.EDITOR)
    item = county_item(world, "安平县转报稿件")
    workflow.forward(by=world.editor_city, item=item)
    page = client_for(both).get("/inbox/?tab=all&sort=title").content.decode()
    assert "收件单位：临江市委组织部" in page and "收件单位：江川省委组织部" in page
    assert "由临江市委组织部转报（editor_city）" in page
    assert page.count('<td data-label="报送单位">安平县委组织部</td>') == 2


def test_adopting_through_the_page_records_the_adoption_and_its_event(world: Any) -> None:
    item = county_item(world, "安平县推进乡村振兴")
    publication = journal(world)
    issue = workflow.create_issue(
        by=world.editor_city, publication=publication, issue_date=timezone.localdate()
    )
    editor = client_for(world.editor_city)
    page = editor.get(f"/inbox/{item.pk}/").content.decode()
    assert "临江组工信息" in page and "暂不编入" in page
    response = editor.post(
        f"/inbox/{item.pk}/adopt/",
        {
            "adopt-publication": publication.pk,
            "adopt-issue": issue.pk,
            "adopt-form": "whole",
            "adopt-is_lead": "on",
            "adopt-title": "安平：乡村振兴有新招",
            "adopt-body": "<p>改过的文字不会用于全文采用</p>",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/inbox/{item.pk}/"
    adoption = Adoption.objects.get()
    assert (adoption.form, adoption.is_lead, adoption.issue) == (AdoptionForm.WHOLE, True, issue)
    assert adoption.title == "安平：乡村振兴有新招" and adoption.body == item.body
    assert Addressee.objects.get(submission=item, unit=world.city_a).state == Handling.ADOPTED
    event = Event.objects.get(action=Action.ADOPT, submission=item)
    assert event.by == world.editor_city and event.facts["is_lead"] is True
    assert AuditEvent.objects.filter(action="publication.adopt").exists()

    # Adopted items may be adopted again elsewhere; the page lists this unit's adoptions.
    again = editor.get(f"/inbox/{item.pk}/").content.decode()
    assert "再次采用" in again and "登记批示" in again and "安平：乡村振兴有新招" in again


def test_an_excerpt_needs_its_own_text_and_errors_are_shown_in_chinese(world: Any) -> None:
    item = county_item(world, "安平县摘编稿")
    publication = journal(world)
    editor = client_for(world.editor_city)
    data = {
        "adopt-publication": publication.pk,
        "adopt-issue": "",
        "adopt-form": "excerpt",
        "adopt-title": "摘编标题",
        "adopt-body": "",
    }
    refused = editor.post(f"/inbox/{item.pk}/adopt/", data)
    assert refused.status_code == 422
    assert "摘编和一句话采用须填写采用稿正文" in refused.content.decode()
    assert not Adoption.objects.exists()
    data["adopt-body"] = "<p>摘编：安平县……</p>"
    assert editor.post(f"/inbox/{item.pk}/adopt/", data).status_code == 302
    adoption = Adoption.objects.get()
    assert adoption.form == AdoptionForm.EXCERPT and adoption.issue is None
    assert adoption.body == "<p>摘编：安平县……</p>"


def test_a_channel_adoption_asks_for_the_address_and_date_instead_of_an_issue(world: Any) -> None:
    item = county_item(world, "安平县公众号稿")
    wechat = workflow.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工", kind=PublicationKind.WECHAT
    )
    editor = client_for(world.editor_city)
    fields = editor.get(
        f"/inbox/{item.pk}/?adopt-publication={wechat.pk}", headers={"HX-Request": "true"}
    ).content.decode()
    assert "发布网址" in fields and "编入期次" not in fields and "<html" not in fields
    response = editor.post(
        f"/inbox/{item.pk}/adopt/",
        {
            "adopt-publication": wechat.pk,
            "adopt-form": "whole",
            "adopt-title": item.title,
            "adopt-published_url": "https://mp.weixin.qq.com/s/abc",
            "adopt-published_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    adoption = Adoption.objects.get()
    assert adoption.published_url == "https://mp.weixin.qq.com/s/abc" and adoption.issue is None


def test_keeping_for_reference_returning_and_forwarding_through_the_page(
    world: Any, cast: dict[str, Any]
) -> None:
    kept = county_item(world, "参考稿")
    returned = county_item(world, "退回稿")
    forwarded = county_item(world, "转报稿")
    editor = client_for(world.editor_city)

    response = editor.post(f"/inbox/{kept.pk}/reference/", {"reference-comment": "留作参考"})
    assert response.status_code == 302
    assert Addressee.objects.get(submission=kept, unit=world.city_a).state == Handling.REFERENCE
    assert Event.objects.get(action=Action.REFERENCE, submission=kept).comment == "留作参考"

    empty = editor.post(f"/inbox/{returned.pk}/return/", {"return-comment": ""})
    assert empty.status_code == 422 and "退回须写明意见" in empty.content.decode()
    response = editor.post(f"/inbox/{returned.pk}/return/", {"return-comment": "数据需核实"})
    assert response.status_code == 302
    returned.refresh_from_db()
    assert returned.status == Status.RETURNED
    assert returned.events.filter(action="return_upper", comment="数据需核实").exists()
    listing = editor.get("/inbox/?tab=returned").content.decode()
    assert "退回稿" in listing

    form = editor.get(f"/inbox/{forwarded.pk}/").content.decode()
    assert world.province.name in form
    response = editor.post(
        f"/inbox/{forwarded.pk}/forward/",
        {"forward-targets": [world.province.pk], "forward-comment": "建议省里采用"},
    )
    assert response.status_code == 302
    assert (
        Addressee.objects.get(submission=forwarded, unit=world.city_a).state == Handling.FORWARDED
    )
    upper = Addressee.objects.get(submission=forwarded, unit=world.province)
    assert upper.forwarded_from == world.city_a and upper.forwarded_by == world.editor_city
    event = Event.objects.get(action=Action.FORWARD, submission=forwarded)
    assert event.comment == "建议省里采用" and event.facts["to"] == ["P"]
    province_inbox = client_for(cast["editor_province"]).get("/inbox/").content.decode()
    assert "转报稿" in province_inbox and "由临江市委组织部转报" in province_inbox
    top = client_for(cast["editor_province"]).get(f"/inbox/{forwarded.pk}/").content.decode()
    assert "本单位没有上级单位可以转报" in top


def test_a_claim_by_another_editor_blocks_decisions_with_a_clear_message(
    world: Any, cast: dict[str, Any]
) -> None:
    item = county_item(world, "认领稿")
    publication = journal(world)
    colleague = client_for(cast["editor_city2"])
    assert colleague.post(f"/inbox/{item.pk}/claim/").status_code == 302
    receipt = Addressee.objects.get(submission=item, unit=world.city_a)
    assert receipt.claimed_by == cast["editor_city2"]
    assert Event.objects.filter(action=Action.CLAIM, submission=item).exists()

    editor = client_for(world.editor_city)
    assert "editor_city2处理中" in editor.get("/inbox/").content.decode()
    page = editor.get(f"/inbox/{item.pk}/").content.decode()
    assert "editor_city2已认领这篇稿件" in page and f'action="/inbox/{item.pk}/adopt/"' not in page
    refused = editor.post(
        f"/inbox/{item.pk}/adopt/",
        {
            "adopt-publication": publication.pk,
            "adopt-form": "whole",
            "adopt-title": item.title,
        },
    )
    assert refused.status_code == 422
    assert "editor_city2已认领这篇稿件，请与其协调" in refused.content.decode()
    refused = editor.post(f"/inbox/{item.pk}/reference/", {})
    assert "请与其协调" in refused.content.decode()
    assert not Adoption.objects.exists()
    receipt.refresh_from_db()
    assert receipt.state == Handling.PENDING

    assert colleague.post(f"/inbox/{item.pk}/release/").status_code == 302
    receipt.refresh_from_db()
    assert receipt.claimed_by is None
    assert Event.objects.filter(action=Action.RELEASE, submission=item).exists()


def test_combined_adoption_from_ticked_inbox_rows(world: Any, cast: dict[str, Any]) -> None:
    a = county_item(world, "安平县基层党建")
    b = submitted(world.county_a2, cast["officer_a2"], cast["reviewer_a2"], "青石县基层党建")
    publication = journal(world)
    editor = client_for(world.editor_city)
    form = editor.get(f"/inbox/combine/?items={a.pk}&items={b.pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert "安平县基层党建" in html and "青石县基层党建" in html and 'value="50"' in html
    fields = editor.get(
        f"/inbox/combine/?items={a.pk}&items={b.pk}&adopt-publication={publication.pk}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "编入期次" in fields and "<html" not in fields

    data = {
        "items": [a.pk, b.pk],
        "adopt-publication": publication.pk,
        "adopt-issue": "",
        "adopt-title": "各地扎实推进基层党建",
        "adopt-body": "<p>综合稿……</p>",
        f"adopt-share_{a.pk}": 70,
        f"adopt-share_{b.pk}": 20,
        "adopt-lead_source": b.pk,
    }
    wrong = editor.post("/inbox/combine/", data)
    assert wrong.status_code == 422 and "份额之和应为 100，现为 90" in wrong.content.decode()
    data[f"adopt-share_{b.pk}"] = 30
    assert editor.post("/inbox/combine/", data).status_code == 302
    adoption = Adoption.objects.get()
    assert adoption.form == AdoptionForm.COMBINED
    rows = {s.submission_id: (s.share, s.is_lead_source) for s in adoption.sources.all()}
    assert rows == {a.pk: (70, False), b.pk: (30, True)}
    assert Event.objects.filter(action=Action.ADOPT, adoption=adoption).count() == 2

    one = editor.get(f"/inbox/combine/?items={a.pk}")
    assert one.status_code == 302


def test_combining_an_item_from_another_unit_is_not_found(world: Any, cast: dict[str, Any]) -> None:
    a = county_item(world, "安平县稿")
    other = submitted(
        world.county_b, world.outsider, make_person("rb", world.county_b, Role.REVIEWER), "云溪县稿"
    )
    editor = client_for(world.editor_city)
    assert editor.get(f"/inbox/combine/?items={a.pk}&items={other.pk}").status_code == 404


def png_upload() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("批示.png", buffer.getvalue(), content_type="image/png")


def test_an_instruction_with_a_png_scan_is_recorded_and_shown(
    world: Any, cast: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    settings.UPLOAD_ROOT = tmp_path
    item = county_item(world, "安平县人才回引经验")
    adoption = workflow.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal(world),
        form=AdoptionForm.WHOLE,
        title=item.title,
    )
    editor = client_for(world.editor_city)
    assert editor.get(f"/adoptions/{adoption.pk}/instructions/new/").status_code == 200
    response = editor.post(
        f"/adoptions/{adoption.pk}/instructions/new/",
        {
            "leader_name": "李明",
            "leader_position": "市委书记",
            "level": "city",
            "is_principal": "on",
            "text": "经验可推广。",
            "instructed_on": timezone.localdate().isoformat(),
            "scan": png_upload(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    instruction = Instruction.objects.get()
    assert instruction.level == "city" and instruction.is_principal
    assert instruction.scan_type == "image/png" and instruction.scan_storage
    event = Event.objects.get(action=Action.INSTRUCT, instruction=instruction)
    assert event.facts["instruction_level"] == "city" and event.submission == item
    page = editor.get(f"/inbox/{item.pk}/").content.decode()
    assert "市委书记李明" in page and "经验可推广" in page

    download = client_for(world.officer_county_a).get(f"/instructions/{instruction.pk}/scan/")
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    sibling = make_person("officer_a2b", world.county_a2, Role.OFFICER)
    assert client_for(sibling).get(f"/instructions/{instruction.pk}/scan/").status_code == 404
    # The origin sees outcomes but may not record instructions.
    origin = client_for(world.officer_county_a)
    assert origin.get(f"/adoptions/{adoption.pk}/instructions/new/").status_code == 403


def test_an_instruction_dated_in_the_future_is_refused_in_chinese(world: Any) -> None:
    item = county_item(world, "未来批示稿")
    adoption = workflow.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal(world),
        form=AdoptionForm.WHOLE,
        title=item.title,
    )
    with time_machine.travel(timezone.now(), tick=False):
        tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client_for(world.editor_city).post(
        f"/adoptions/{adoption.pk}/instructions/new/",
        {
            "leader_name": "李明",
            "leader_position": "市委书记",
            "level": "city",
            "text": "阅。",
            "instructed_on": tomorrow.isoformat(),
        },
    )
    assert response.status_code == 422 and "批示日期不能晚于今天" in response.content.decode()
    assert not Instruction.objects.exists()
