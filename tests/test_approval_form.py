"""The approval form (审批表): the .docx in the official layout and the print page, same rows."""

import datetime as dt
import io
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from baosong.orgs import workflow as orgs_workflow
from baosong.orgs.models import Role, User
from baosong.submissions import workflow
from baosong.submissions.exports import approval_form_docx, form_data
from baosong.submissions.models import Status, Submission
from baosong.submissions.workflow import DraftInput
from conftest import PASSWORD, World, client_for

TITLE = "安平县扎实推进基层党建工作"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _at(hour: int, minute: int = 0, day: int = 5) -> Any:
    """A moment on 2027-03-<day>, given in Beijing time, as a frozen clock."""
    utc = dt.datetime(2027, 3, day, hour, minute, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    return time_machine.travel(utc, tick=False)


def _coauthor(world: World) -> User:
    return orgs_workflow.create_person(
        by=None,
        username="li_na",
        real_name="李娜",
        password=PASSWORD,
        unit=world.county_a,
        role=Role.OFFICER,
    )


def _item(world: World, coauthor: User) -> Submission:
    with _at(9, 0):
        return workflow.create_draft(
            by=world.officer_county_a,
            unit=world.county_a,
            data=DraftInput(
                item_type="info",
                kind="experience",
                title=TITLE,
                body="<p>安平县委组织部 今年以来\n扎实推进。</p>",
                event_date=dt.date(2026, 3, 1),
                own_share=60,
                coauthors=[(coauthor, 40)],
            ),
        )


def _reviewed(world: World, coauthor: User) -> Submission:
    """Returned once at 复审, then approved through all three stages and submitted."""
    item = _item(world, coauthor)
    officer, reviewer = world.officer_county_a, world.reviewer_county_a
    with _at(9, 30):
        workflow.submit_for_review(by=officer, item=item)
    with _at(10, 0):
        workflow.approve(by=reviewer, item=item, comment="同意")
    with _at(11, 15):
        workflow.return_to_authors(by=reviewer, item=item, comment="数据需核实")
    with _at(14, 0):
        workflow.submit_for_review(by=officer, item=item)
    with _at(14, 30):
        workflow.approve(by=reviewer, item=item)
    with _at(15, 0):
        workflow.approve(by=reviewer, item=item, comment="可以报送")
    with _at(16, 45):
        workflow.approve(by=reviewer, item=item, comment="同意报送")
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED
    return item


EXPECTED_ROWS = [
    ("送审", "officer_county_a", "提交审核", "2027-03-05 09:30"),
    ("初审", "reviewer_county_a", "通过：同意", "2027-03-05 10:00"),
    ("复审", "reviewer_county_a", "退回修改：数据需核实", "2027-03-05 11:15"),
    ("送审", "officer_county_a", "提交审核", "2027-03-05 14:00"),
    ("初审", "reviewer_county_a", "通过", "2027-03-05 14:30"),
    ("复审", "reviewer_county_a", "通过：可以报送", "2027-03-05 15:00"),
    ("终审", "reviewer_county_a", "通过：同意报送", "2027-03-05 16:45"),
    ("报送", "reviewer_county_a", "报送至临江市委组织部", "2027-03-05 16:45"),
]


def _table_rows(document: Any) -> list[list[str]]:
    """Each table row as its distinct cells' texts (merged cells appear once)."""
    rows = []
    for row in document.tables[0].rows:
        texts: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                texts.append(cell.text)
        rows.append(texts)
    return rows


def _east_asian_font(element: Any) -> str | None:
    """The w:eastAsia font named in a run's or style's rPr/rFonts."""
    font: str | None = element.rPr.rFonts.get(qn("w:eastAsia"))
    return font


def test_the_docx_is_a4_with_official_margins_and_a_title_in_xiaobiaosong(
    world: World,
) -> None:
    item = _reviewed(world, _coauthor(world))
    document = Document(io.BytesIO(approval_form_docx(item)))
    section = document.sections[0]
    sizes = (
        section.page_width,
        section.page_height,
        section.top_margin,
        section.bottom_margin,
        section.left_margin,
        section.right_margin,
    )
    assert [round(size.mm) if size is not None else None for size in sizes] == [
        210,
        297,
        37,
        35,
        28,
        26,
    ]
    title = document.paragraphs[0]
    assert title.text == "信息报送审批表"
    assert title.alignment == 1  # centered
    run = title.runs[0]
    assert run.font.size == Pt(22)
    assert _east_asian_font(run._element) == "方正小标宋简体"
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert _east_asian_font(normal.element) == "仿宋_GB2312"
    table_run = document.tables[0].rows[0].cells[1].paragraphs[0].runs[0]
    assert table_run.font.size == Pt(14)
    assert _east_asian_font(table_run._element) == "仿宋_GB2312"
    # Word falls back to 宋体 / 仿宋 where the official fonts are missing.
    font_table = next(
        rel.target_part.blob
        for rel in document.part.rels.values()
        if rel.reltype.endswith("/fontTable")
    ).decode()
    assert re.search(r'w:name="方正小标宋简体">\s*<w:altName w:val="宋体"', font_table)
    assert re.search(r'w:name="仿宋_GB2312">\s*<w:altName w:val="仿宋"', font_table)


def test_the_docx_table_lists_the_item_authors_with_shares_and_every_decision(
    world: World,
) -> None:
    item = _reviewed(world, _coauthor(world))
    rows = _table_rows(Document(io.BytesIO(approval_form_docx(item))))
    fields = {row[0]: row[1] for row in rows if len(row) == 2}
    assert fields["标题"] == TITLE
    assert fields["类型/类别"] == "信息 / 经验类"
    assert fields["报送单位"] == "安平县委组织部"
    assert fields["作者"] == "officer_county_a（60%）、李娜（40%）"
    assert fields["事件日期"] == "2026-03-01"
    assert fields["报送对象"] == "临江市委组织部"
    assert fields["报送时间"] == "2027-03-05 16:45"
    assert fields["正文字数"] == "16 字"
    assert fields["附件"] == "无"
    header = rows.index(["环节", "审核人", "意见/决定", "时间"])
    stage_rows = [tuple(r) for r in rows[header + 1 :] if len(r) == 4]
    assert stage_rows == EXPECTED_ROWS


def test_the_title_follows_the_item_type(world: World) -> None:
    item = workflow.create_draft(
        by=world.officer_county_a,
        unit=world.county_a,
        data=DraftInput(item_type="special", title="关于基层减负的调研", body="<p>正文</p>"),
    )
    document = Document(io.BytesIO(approval_form_docx(item)))
    assert document.paragraphs[0].text == "专报报送审批表"
    rows = _table_rows(document)
    assert ["尚无审核记录"] in rows
    assert ["报送时间", "—"] in rows


def test_an_item_in_review_shows_the_stages_so_far_and_its_current_stage(world: World) -> None:
    item = _item(world, _coauthor(world))
    with _at(9, 30):
        workflow.submit_for_review(by=world.officer_county_a, item=item)
    with _at(10, 0):
        workflow.approve(by=world.reviewer_county_a, item=item, comment="同意")
    item.refresh_from_db()
    data = form_data(item)
    assert dict(data.fields)["当前状态"] == "审核中（复审）"
    assert [(r.stage, r.opinion) for r in data.rows] == [
        ("送审", "提交审核"),
        ("初审", "通过：同意"),
    ]


def test_a_rejected_item_shows_the_rejection_and_its_reason(world: World) -> None:
    item = _item(world, _coauthor(world))
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    workflow.reject(by=world.reviewer_county_a, item=item, reason="与本单位工作无关")
    item.refresh_from_db()
    rows = _table_rows(Document(io.BytesIO(approval_form_docx(item))))
    assert rows[-3][:3] == ["初审", "reviewer_county_a", "不予通过：与本单位工作无关"]
    assert ["当前状态", "未通过"] in rows


def test_the_docx_downloads_with_the_chinese_file_name_for_the_author(world: World) -> None:
    item = _reviewed(world, _coauthor(world))
    response = client_for(world.officer_county_a).get(
        reverse("items_approval_form_docx", args=[item.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f"filename*=utf-8''{quote(f'审批表-{TITLE}.docx')}" in response["Content-Disposition"]
    document = Document(io.BytesIO(response.content))
    assert document.paragraphs[0].text == "信息报送审批表"


def test_unsafe_characters_in_the_title_do_not_reach_the_file_name(world: World) -> None:
    item = workflow.create_draft(
        by=world.officer_county_a,
        unit=world.county_a,
        data=DraftInput(item_type="news", title='../../关于"减负"/的报道', body="<p>正文</p>"),
    )
    response = client_for(world.officer_county_a).get(
        reverse("items_approval_form_docx", args=[item.pk])
    )
    disposition = response["Content-Disposition"]
    assert "%2F" not in disposition and "/" not in disposition.split("''", 1)[1]
    assert quote("审批表-关于_减负_的报道.docx") in disposition


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("officer_county_a", 200),  # author
        ("coauthor", 200),
        ("reviewer_county_a", 200),  # the unit's reviewer
        ("editor_city", 200),  # editor of the addressed unit, once submitted
        ("unit_admin_county_a", 200),  # may act on stages of the own unit
        ("outsider", 404),  # officer of another county
        ("unit_admin_city", 404),  # the upper unit's admin is not its editor
        ("audit_admin", 404),
    ],
)
def test_who_may_see_the_approval_form(world: World, persona: str, expected: int) -> None:
    coauthor = _coauthor(world)
    item = _reviewed(world, coauthor)
    user = coauthor if persona == "coauthor" else getattr(world, persona)
    client = client_for(user)
    page = client.get(reverse("items_approval_form", args=[item.pk]))
    docx = client.get(reverse("items_approval_form_docx", args=[item.pk]))
    assert (page.status_code, docx.status_code) == (expected, expected)
    if expected == 404:
        assert TITLE not in page.content.decode()


def test_the_editor_of_the_upper_unit_cannot_see_the_form_before_submission(
    world: World,
) -> None:
    item = _item(world, _coauthor(world))
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    response = client_for(world.editor_city).get(reverse("items_approval_form", args=[item.pk]))
    assert response.status_code == 404


class _Rows(HTMLParser):
    """Collects the stage rows (<tr class="stage-row">) of the print page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_row = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._in_row = ("class", "stage-row") in attrs
            if self._in_row:
                self.rows.append([])
        elif tag == "td" and self._in_row:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_the_print_page_shows_the_same_rows_as_the_docx(world: World) -> None:
    item = _reviewed(world, _coauthor(world))
    response = client_for(world.reviewer_county_a).get(
        reverse("items_approval_form", args=[item.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    parser = _Rows()
    parser.feed(html)
    assert [tuple(r) for r in parser.rows] == EXPECTED_ROWS
    docx_rows = _table_rows(Document(io.BytesIO(approval_form_docx(item))))
    assert [tuple(r) for r in docx_rows if len(r) == 4][1:] == EXPECTED_ROWS
    assert "<h1>信息报送审批表</h1>" in html
    assert "officer_county_a（60%）、李娜（40%）" in html
    assert 'onclick="window.print()"' in html and "打印" in html
    assert "@page { size: A4; margin: 37mm 26mm 35mm 28mm; }" in html
    assert reverse("items_approval_form_docx", args=[item.pk]) in html


def test_comments_are_escaped_on_the_print_page(world: World) -> None:
    item = _item(world, _coauthor(world))
    workflow.submit_for_review(by=world.officer_county_a, item=item)
    workflow.return_to_authors(
        by=world.reviewer_county_a, item=item, comment="<script>alert(1)</script>请核实"
    )
    html = (
        client_for(world.officer_county_a)
        .get(reverse("items_approval_form", args=[item.pk]))
        .content.decode()
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;请核实" in html


def test_the_approval_form_reads_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    item = _reviewed(world, _coauthor(world))
    with django_assert_max_num_queries(6):
        form_data(item)


def test_page_widths_add_up_to_the_type_area() -> None:
    from baosong.submissions.exports import COLUMNS

    assert round(sum(COLUMNS) / Mm(1)) == 210 - 28 - 26
