"""An issue exported as .docx in the official layout (reopened with python-docx) and as PDF."""

import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph

from baosong.orgs.models import Role, Unit, User
from baosong.publications import exports, views_exports, workflow
from baosong.publications.models import AdoptionForm, Issue, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.submissions import workflow as items
from baosong.submissions.models import Status, Submission
from baosong.submissions.workflow import DraftInput
from conftest import client_for, make_person

BODY_ONE = (
    "<p>今年以来，安平县坚持把<strong>党建引领</strong>贯穿乡村振兴全过程。</p>"
    "<h2>一、建强班子</h2><p>全县选派第一书记<em>86</em>名。</p>"
    "<h3>（一）选优配强</h3><h4>1.严格标准</h4>"
    "<ol><li>村级组织换届</li><li><p>后备力量储备</p></li></ol>"
    "<table><tr><th>指标</th><th>数量</th></tr><tr><td>村</td><td>120</td></tr>"
    '<tr><td colspan="2">合计</td></tr></table>'
    "<p>第一行<br>第二行</p>"
)
DISTRIBUTION = "报：省委组织部\n送：市委各部门\n发：各县（区）委组织部"


def submitted(unit: Unit, officer: User, reviewer: User, title: str, body: str) -> Submission:
    item = items.create_draft(
        by=officer,
        unit=unit,
        data=DraftInput(item_type="info", kind="dynamic", title=title, body=body),
    )
    items.submit_for_review(by=officer, item=item)
    for _ in range(3):
        items.approve(by=reviewer, item=item)
    item.refresh_from_db()
    assert item.status == Status.SUBMITTED
    return item


@pytest.fixture
def issue(world: Any) -> Issue:
    """《临江组工信息》2026年第1期 with three items, a note, a TOC and a distribution list."""
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    journal = workflow.create_publication(
        by=world.editor_city,
        unit=world.city_a,
        name="临江组工信息",
        kind=PublicationKind.JOURNAL,
        masthead="中共临江市委组织部",
        distribution=DISTRIBUTION,
    )
    issue = workflow.create_issue(
        by=world.editor_city, publication=journal, issue_date=dt.date(2026, 11, 20)
    )
    bodies = [BODY_ONE, "<p>青石县推行积分制管理。</p>", "<p>安平县开展党员冬训。</p>"]
    titles = ["安平县党建引领乡村振兴", "青石县推行积分制管理", "安平县开展党员冬训"]
    units = [world.county_a, world.county_a2, world.county_a]
    for title, body, unit in zip(titles, bodies, units, strict=True):
        if unit == world.county_a:
            item = submitted(unit, world.officer_county_a, world.reviewer_county_a, title, body)
        else:
            item = submitted(unit, officer_a2, reviewer_a2, title, body)
        workflow.adopt(
            by=world.editor_city,
            sources=[SourceInput(item)],
            publication=journal,
            form=AdoptionForm.WHOLE,
            title=title,
            is_lead=title == titles[0],
            issue=issue,
        )
    return workflow.update_issue(
        by=world.editor_city,
        issue=issue,
        issue_date=issue.issue_date,
        editor_note="基层党建是乡村振兴的根基。",
        show_toc=True,
        distribution=DISTRIBUTION,
    )


SNAPSHOT: dict[str, Any] = {
    "publication": "临江组工信息",
    "label": "2026年第1期（总第1期）",
    "issue_date": "2026-11-20",
    "editor_note": "基层党建是乡村振兴的根基。",
    "show_toc": True,
    "distribution": DISTRIBUTION,
    "items": [
        {
            "adoption": 1,
            "title": "安平县党建引领乡村振兴",
            "body": BODY_ONE,
            "form": "whole",
            "is_lead": True,
            "sources": ["安平县委组织部"],
        },
        {
            "adoption": 2,
            "title": "青石县推行积分制管理",
            "body": "<p>青石县推行积分制管理。</p>",
            "form": "whole",
            "is_lead": False,
            "sources": ["青石县委组织部"],
        },
        {
            "adoption": 3,
            "title": "安平县开展党员冬训",
            "body": "<p>安平县开展党员冬训。</p>",
            "form": "whole",
            "is_lead": False,
            "sources": ["安平县委组织部"],
        },
    ],
}


@pytest.fixture(scope="module")
def exported() -> DocumentObject:
    """The layout tests read one document made from a snapshot shaped like the issue fixture's
    (workflow.issue_snapshot); the tests below that take `issue` go through the database."""
    return reopen(exports.issue_docx_from_snapshot(SNAPSHOT, masthead="中共临江市委组织部"))


def reopen(data: bytes) -> DocumentObject:
    return Document(io.BytesIO(data))


def east_asian(run: Any) -> str | None:
    rpr = run._r.rPr
    fonts = rpr.rFonts if rpr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def style_of(paragraph: Paragraph) -> str:
    return paragraph.style.name if paragraph.style is not None else ""


def style(paragraph: Paragraph) -> ParagraphStyle:
    assert paragraph.style is not None
    return paragraph.style


def rule(paragraph: Paragraph, side: str) -> Any:
    """The paragraph's border on one side (top/bottom), or None."""
    ppr = paragraph._p.pPr
    return None if ppr is None else ppr.find(f"{qn('w:pBdr')}/{qn(f'w:{side}')}")


def text_paragraphs(document: DocumentObject) -> list[Paragraph]:
    return [p for p in document.paragraphs if p.text.strip()]


# Layout ----------------------------------------------------------------------------------------


def test_exported_issue_is_a4_with_the_official_margins(exported: DocumentObject) -> None:
    section = exported.sections[0]

    def mm(length: Any) -> float:
        return round(float(length.mm), 1)  # Word stores twips: 210 mm is 11906 twips

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.bottom_margin)) == (37, 35)
    assert (mm(section.left_margin), mm(section.right_margin)) == (28, 26)


def test_titles_are_xiaobiaosong_and_bodies_fangsong_three_with_exact_spacing(
    exported: DocumentObject,
) -> None:
    document = exported
    titles = [p for p in document.paragraphs if style_of(p) == "Bulletin Title"]
    bodies = [p for p in document.paragraphs if style_of(p) == "Bulletin Body"]

    assert [p.text for p in titles] == [
        "安平县党建引领乡村振兴",
        "青石县推行积分制管理",
        "安平县开展党员冬训",
    ]
    for title in titles:
        assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER or (
            style(title).paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
        )
        for run in title.runs:
            assert east_asian(run) == "方正小标宋简体"
            assert run.font.size == Pt(22)
    assert bodies
    for body in bodies:
        fmt = style(body).paragraph_format
        assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
        assert fmt.line_spacing is not None and 28 <= fmt.line_spacing.pt <= 29
        ind = style(body).element.pPr.ind
        assert ind.get(qn("w:firstLineChars")) == "200"
        for run in body.runs:
            if run.text:
                assert east_asian(run) == "仿宋_GB2312"
                assert run.font.size == Pt(16)
    first_body = next(p for p in bodies if p.text.startswith("今年以来"))
    bold = [r.text for r in first_body.runs if r.font.bold]
    assert bold == ["党建引领"]


def test_fallback_fonts_are_declared_in_the_font_table(exported: DocumentObject) -> None:
    document = exported
    part = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable")
    )
    table = part.blob.decode()

    assert '<w:font w:name="方正小标宋简体"><w:altName w:val="宋体"/>' in table
    assert '<w:font w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in table
    assert '<w:font w:name="楷体_GB2312"><w:altName w:val="楷体"/>' in table


def test_masthead_is_red_with_a_red_rule_issue_label_unit_and_date(
    exported: DocumentObject,
) -> None:
    paragraphs = exported.paragraphs

    name, label, line = paragraphs[0], paragraphs[1], paragraphs[2]
    assert name.text == "临江组工信息"
    assert all(str(r.font.color.rgb) in ("FF0000", "C00000") for r in name.runs)
    assert east_asian(name.runs[0]) == "方正小标宋简体"
    assert name.runs[0].font.size is not None and name.runs[0].font.size.pt >= 26
    assert label.text == "2026年第1期（总第1期）"
    assert line.text == "中共临江市委组织部\t2026年11月20日"
    bottom = rule(line, "bottom")
    assert bottom is not None
    assert bottom.get(qn("w:color")) in ("FF0000", "C00000")
    assert 12 <= int(bottom.get(qn("w:sz"))) <= 18


def test_page_numbers_are_page_fields_at_the_outside_corners(exported: DocumentObject) -> None:
    document = exported
    section = document.sections[0]

    assert document.settings.odd_and_even_pages_header_footer is True
    for footer, side in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        paragraph = footer.paragraphs[0]
        xml = paragraph._p.xml
        assert paragraph.alignment == side
        assert 'w:fldCharType="begin"' in xml and 'w:fldCharType="end"' in xml
        codes = [t.text for t in paragraph._p.iter(qn("w:instrText"))]
        assert [c.strip() for c in codes] == ["PAGE"]
        assert paragraph.text.startswith("— ") and paragraph.text.endswith(" —")
        assert all(r.font.size == Pt(14) for r in paragraph.runs)
        assert all(east_asian(r) == "宋体" for r in paragraph.runs)


def test_items_follow_the_order_set_in_the_issue(world: Any, issue: Issue) -> None:
    adoptions = list(issue.adoptions.order_by("position"))
    workflow.reorder_issue(
        by=world.editor_city, issue=issue, adoption_ids=[a.pk for a in reversed(adoptions)]
    )

    document = reopen(exports.issue_docx(issue))
    titles = [p.text for p in document.paragraphs if style_of(p) == "Bulletin Title"]
    contents = [p.text for p in document.paragraphs if style_of(p) == "Bulletin Contents"]

    assert titles == ["安平县开展党员冬训", "青石县推行积分制管理", "安平县党建引领乡村振兴"]
    assert contents == [f"{n}. {t}" for n, t in enumerate(titles, start=1)]


def test_contents_note_and_credit_lines(exported: DocumentObject) -> None:
    document = exported
    by_style: dict[str, list[Paragraph]] = {}
    for p in document.paragraphs:
        by_style.setdefault(style_of(p), []).append(p)

    assert [p.text for p in by_style["Bulletin Contents Heading"]] == ["本期导读"]
    note = by_style["Bulletin Editor Note"][0]
    assert note.text == "编者按：基层党建是乡村振兴的根基。"
    assert [east_asian(r) for r in note.runs] == ["黑体", "楷体_GB2312"]
    credits = by_style["Bulletin Credit"]
    assert [p.text for p in credits] == [
        "（安平县委组织部报送）",
        "（青石县委组织部报送）",
        "（安平县委组织部报送）",
    ]
    assert style(credits[0]).paragraph_format.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert all(east_asian(r) == "楷体_GB2312" for p in credits for r in p.runs)


def test_issue_without_toc_or_note_leaves_them_out(world: Any, issue: Issue) -> None:
    workflow.update_issue(
        by=world.editor_city,
        issue=issue,
        issue_date=issue.issue_date,
        editor_note="",
        show_toc=False,
        distribution="",
    )
    issue.refresh_from_db()
    styles = {style_of(p) for p in reopen(exports.issue_docx(issue)).paragraphs}

    assert "Bulletin Contents Heading" not in styles
    assert "Bulletin Editor Note" not in styles


def test_body_headings_lists_and_tables_become_word_structure(exported: DocumentObject) -> None:
    document = exported
    paragraphs = text_paragraphs(document)
    by_text = {p.text: p for p in paragraphs}

    h1, h2, h3 = by_text["一、建强班子"], by_text["（一）选优配强"], by_text["1.严格标准"]
    assert style_of(h1) == "Bulletin Heading 1" and east_asian(h1.runs[0]) == "黑体"
    assert style_of(h2) == "Bulletin Heading 2" and east_asian(h2.runs[0]) == "楷体_GB2312"
    assert style_of(h3) == "Bulletin Heading 3" and east_asian(h3.runs[0]) == "仿宋_GB2312"
    assert style(h3).font.bold is True
    assert "1. 村级组织换届" in by_text and "2. 后备力量储备" in by_text
    assert "第一行\n第二行" in by_text
    assert len(document.tables) == 1
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["指标", "数量"]
    assert [c.text for c in table.rows[1].cells] == ["村", "120"]
    merged = table.rows[2].cells
    assert merged[0].text == "合计" and merged[0]._tc is merged[1]._tc


def test_distribution_list_and_printing_line_close_the_document(exported: DocumentObject) -> None:
    paragraphs = text_paragraphs(exported)
    tail = paragraphs[-4:]

    assert [p.text for p in tail[:3]] == DISTRIBUTION.splitlines()
    assert tail[3].text == "中共临江市委组织部编印\t2026年11月20日印发"
    first_rule = rule(tail[0], "top")
    last_rule = rule(tail[3], "bottom")
    assert first_rule is not None and last_rule is not None
    assert all(r.font.size == Pt(14) for p in tail for r in p.runs)


def test_a_published_revision_is_exported_as_frozen(world: Any, issue: Issue) -> None:
    workflow.publish_issue(by=world.editor_city, issue=issue)
    first = issue.revisions.get(revision=1)
    workflow.start_correction(by=world.editor_city, issue=issue, reason="标题有误")
    lead = issue.adoptions.order_by("position").first()
    assert lead is not None
    workflow.edit_adopted_text(
        by=world.editor_city, adoption=lead, title="更正后的标题", body=lead.body, is_lead=True
    )

    frozen = reopen(exports.revision_docx(first))
    current = reopen(exports.issue_docx(issue))

    def titles(document: DocumentObject) -> list[str]:
        return [p.text for p in document.paragraphs if style_of(p) == "Bulletin Title"]

    assert titles(frozen)[0] == "安平县党建引领乡村振兴"
    assert titles(current)[0] == "更正后的标题"


def test_body_parser_keeps_text_of_unknown_structure() -> None:
    blocks = exports.body_blocks("纯文本<div>块<span>内</span></div><img src='/x'><hr>尾")
    texts = ["".join(r.text for r in b.runs) for b in blocks if isinstance(b, exports.Para)]

    assert texts == ["纯文本", "块内", "尾"]


def test_control_characters_pasted_into_the_text_do_not_break_the_export() -> None:
    item = {**SNAPSHOT["items"][1], "title": "标题\x0b换行", "body": "<p>正文\x01分页</p>"}
    snapshot = {**SNAPSHOT, "items": [item]}

    document = reopen(exports.issue_docx_from_snapshot(snapshot))

    assert "标题换行" in [p.text for p in document.paragraphs]
    assert "正文分页" in [p.text for p in document.paragraphs]


# Downloads -------------------------------------------------------------------------------------


def filename_of(response: Any) -> str:
    header = response["Content-Disposition"]
    return unquote(header.split("filename*=utf-8''")[-1])


def test_editor_downloads_the_issue_as_docx_named_after_publication_and_number(
    world: Any, issue: Issue
) -> None:
    response = client_for(world.editor_city).get(f"/issues/{issue.pk}/issue.docx")

    assert response.status_code == 200
    assert response["Content-Type"] == views_exports.DOCX
    assert filename_of(response) == "《临江组工信息》2026年第1期.docx"
    document = reopen(response.content)
    assert document.paragraphs[0].text == "临江组工信息"
    assert [p.text for p in document.paragraphs if style_of(p) == "Bulletin Title"] == [
        i["title"] for i in SNAPSHOT["items"]
    ]
    assert [p.text for p in document.paragraphs if style_of(p) == "Bulletin Credit"] == [
        "（安平县委组织部报送）",
        "（青石县委组织部报送）",
        "（安平县委组织部报送）",
    ]


def test_unit_admin_of_the_publishing_unit_may_download(world: Any, issue: Issue) -> None:
    response = client_for(world.unit_admin_city).get(f"/issues/{issue.pk}/issue.docx")

    assert response.status_code == 200


def test_people_outside_the_publishing_unit_do_not_find_the_issue(world: Any, issue: Issue) -> None:
    # The county that wrote an item, the admins above and beside the city, a sibling county.
    for persona in ("officer_county_a", "unit_admin_county_a", "unit_admin_province", "outsider"):
        client = client_for(getattr(world, persona))

        assert client.get(f"/issues/{issue.pk}/issue.docx").status_code == 404, persona
        assert client.get(f"/issues/{issue.pk}/issue.pdf").status_code == 404, persona


def test_anonymous_visitor_is_sent_to_sign_in(issue: Issue) -> None:
    response = Client().get(f"/issues/{issue.pk}/issue.docx")

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_published_issue_downloads_its_revision_and_earlier_ones_on_request(
    world: Any, issue: Issue
) -> None:
    workflow.publish_issue(by=world.editor_city, issue=issue)
    workflow.start_correction(by=world.editor_city, issue=issue, reason="标题有误")
    workflow.publish_issue(by=world.editor_city, issue=issue)
    client = client_for(world.editor_city)

    latest = client.get(f"/issues/{issue.pk}/issue.docx")
    first = client.get(f"/issues/{issue.pk}/issue.docx?revision=1")
    missing = client.get(f"/issues/{issue.pk}/issue.docx?revision=9")

    assert filename_of(latest) == "《临江组工信息》2026年第1期（第2版）.docx"
    assert filename_of(first) == "《临江组工信息》2026年第1期.docx"
    assert missing.status_code == 404


def test_pdf_view_explains_in_chinese_when_libreoffice_is_missing(
    world: Any, issue: Issue, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.SOFFICE_BINARY = ""
    monkeypatch.setattr(shutil, "which", lambda name: None)

    response = client_for(world.editor_city).get(f"/issues/{issue.pk}/issue.pdf")

    assert response.status_code == 503
    page = response.content.decode()
    assert "未安装 LibreOffice" in page
    assert f"/issues/{issue.pk}/issue.docx" in page
    with pytest.raises(exports.PdfUnavailable, match="未安装 LibreOffice"):
        exports.docx_to_pdf(b"")


def test_configured_binary_that_does_not_exist_counts_as_missing(settings: Any) -> None:
    settings.SOFFICE_BINARY = "/nonexistent/soffice"

    assert exports.pdf_available() is False


def fake_soffice(tmp_path: Path, script: str) -> str:
    binary = tmp_path / "soffice"
    binary.write_text(f"#!/bin/sh\n{script}\n")
    binary.chmod(0o755)
    return str(binary)


def test_a_hanging_conversion_is_stopped_at_the_timeout(tmp_path: Path, settings: Any) -> None:
    settings.SOFFICE_BINARY = fake_soffice(tmp_path, "sleep 30")
    started = time.monotonic()

    with pytest.raises(exports.PdfFailed, match="超时"):
        exports.docx_to_pdf(b"PK", timeout=1)
    assert time.monotonic() - started < 10


def test_pdf_view_answers_503_when_the_conversion_fails(
    world: Any, issue: Issue, tmp_path: Path, settings: Any
) -> None:
    settings.SOFFICE_BINARY = fake_soffice(tmp_path, "echo broken >&2; exit 1")

    response = client_for(world.editor_city).get(f"/issues/{issue.pk}/issue.pdf")

    assert response.status_code == 503
    assert "转换 PDF 失败" in response.content.decode()


# PDF through LibreOffice -----------------------------------------------------------------------


def need_pdf_tools() -> None:
    missing = [tool for tool in ("soffice", "pdftoppm") if shutil.which(tool) is None]
    if not missing:
        return
    reason = (
        f"未安装 {'、'.join(missing)}（apt-get install libreoffice-writer-nogui poppler-utils）"
    )
    if os.environ.get("REQUIRE_PDF") == "1":
        pytest.fail(f"REQUIRE_PDF=1 but {reason}")
    pytest.skip(reason)


def first_page_png(pdf: bytes) -> Any:
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "issue.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), f"{tmp}/page"],
            check=True,
            timeout=60,
        )
        (png,) = Path(tmp).glob("page*.png")
        return Image.open(png).convert("RGB")


def rgb(image: Any) -> Iterator[tuple[int, int, int]]:
    data = image.tobytes()
    return zip(data[0::3], data[1::3], data[2::3], strict=True)


def test_pdf_download_has_a_red_masthead_and_text_on_page_one(world: Any, issue: Issue) -> None:
    need_pdf_tools()

    response = client_for(world.editor_city).get(f"/issues/{issue.pk}/issue.pdf")

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert filename_of(response) == "《临江组工信息》2026年第1期.pdf"
    assert response.content.startswith(b"%PDF")
    page = first_page_png(response.content)
    width, height = page.size
    assert abs(width / height - 210 / 297) < 0.01  # A4
    dark = sum(1 for r, g, b in rgb(page) if r < 100 and g < 100 and b < 100)
    assert dark > 500, "page 1 has no text"
    top = page.crop((0, 0, width, height // 3))
    red = sum(1 for r, g, b in rgb(top) if r > 180 and g < 80 and b < 80)
    assert red > 200, "no red masthead in the top third"
