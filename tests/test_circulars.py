"""Circulars (通报): generated through the workflow from real events, reopened and checked."""

import datetime as dt
import io
import os
import shutil
import subprocess
import tempfile
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from baosong.orgs.models import Level, Role, Unit
from baosong.publications import workflow as publications
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, exports, rankings, workflow
from baosong.scoring.models import Circular, Scheme
from conftest import make_person, make_unit
from tests.test_publication_scenarios import submitted

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SCHEME_NAME = "临江市信息工作计分办法"
FORMULA_UNIT = "=1+2县委组织部"


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=TZ)


@dataclass
class Scenario:
    world: Any
    scheme: Scheme
    county_a3: Unit
    november: engine.Period
    circular: Circular


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The whole test, people and units included, lives in late 2026 (memberships start when
    the people are created, so the clock may only move forward from here)."""
    with time_machine.travel(at(2026, 10, 1), tick=True) as traveller:
        yield traveller


@pytest.fixture
def scenario(clock: time_machine.Traveller, world: Any) -> Scenario:
    """The city's scheme (demo rules "只计最高级别") in force from 2026-01-01.

    October: 青石县 submits one item (5 points); 安平县 and the third county nothing.
      October ranking: 青石县 1st; 安平县 and "=1+2县" tied behind it.
    November: 安平县 submits two items (5 + 5) and the city adopts one as the whole text in its
      journal as lead item: 10 (city) × 1 (journal) × 1 (whole) × 1.5 (lead) = 15.
      安平县: submitted 2, adopted 1, lead 1, points 5 + 5 + 15 = 25 → 1st.
      青石县 and "=1+2县": nothing → 零报送.
    """
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    county_a3 = make_unit(world.city_a, "CA3", Level.COUNTY, FORMULA_UNIT)
    scheme = workflow.create_scheme(by=world.editor_city, unit=world.city_a, name=SCHEME_NAME)
    workflow.adopt_version(
        by=world.editor_city,
        version=scheme.versions.get(number=1),
        effective_from=dt.date(2026, 1, 1),
    )
    clock.move_to(at(2026, 10, 15))
    submitted(world.county_a2, officer_a2, reviewer_a2, "青石县十月动态")
    clock.move_to(at(2026, 11, 10))
    first = submitted(
        world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县乡村振兴"
    )
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县冬训")
    journal = publications.create_publication(
        by=world.editor_city,
        unit=world.city_a,
        name="临江组工信息",
        kind=PublicationKind.JOURNAL,
    )
    issue = publications.create_issue(
        by=world.editor_city, publication=journal, issue_date=dt.date(2026, 11, 10)
    )
    publications.adopt(
        by=world.editor_city,
        sources=[SourceInput(first)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=first.title,
        is_lead=True,
        issue=issue,
    )
    november = engine.month_period(2026, 11, TZ)
    clock.move_to(at(2026, 12, 2))
    circular = workflow.generate_circular(
        by=world.editor_city,
        scheme=scheme,
        parent=world.city_a,
        grain="month",
        period=november,
        ip="10.0.0.9",
    )
    return Scenario(world, scheme, county_a3, november, circular)


def reopened(circular: Circular) -> DocumentObject:
    return Document(io.BytesIO(bytes(circular.docx)))


def east_asian(run: Any) -> str | None:
    fonts = run._r.rPr.rFonts if run._r.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def texts(document: DocumentObject) -> list[str]:
    return [p.text for p in document.paragraphs if p.text.strip()]


def paragraph_starting(document: DocumentObject, prefix: str) -> Paragraph:
    return next(p for p in document.paragraphs if p.text.startswith(prefix))


# Titles and the summary (no database) ----------------------------------------------------------


class _Owner:
    def __init__(self, unit: Unit) -> None:
        self.unit_id = unit.pk
        self.unit = unit
        self.name = SCHEME_NAME


def _unit(pk: int, level: str, short_name: str) -> Unit:
    return Unit(pk=pk, code=f"U{pk}", name=f"{short_name}全称", short_name=short_name, level=level)


@pytest.mark.parametrize(
    ("grain", "period", "expected"),
    [
        ("month", engine.month_period(2026, 10, TZ), "关于2026年10月全市信息工作情况的通报"),
        ("quarter", engine.quarter_period(2026, 3, TZ), "关于2026年第三季度全市信息工作情况的通报"),
        ("year", engine.year_period(2026, TZ), "关于2026年度全市信息工作情况的通报"),
        (
            "custom",
            rankings.period_for("custom", start="2026-03-01", end="2026-05-31"),
            "关于2026年3月1日至2026年5月31日全市信息工作情况的通报",
        ),
    ],
)
def test_title_names_the_period_and_the_whole_city_for_the_owners_children(
    grain: str, period: engine.Period, expected: str
) -> None:
    city = _unit(1, Level.CITY, "临江市")
    scheme: Any = _Owner(city)

    assert exports.circular_title(scheme, city, grain, period) == expected


def test_title_names_the_ranked_unit_when_it_is_not_the_schemes_owner() -> None:
    province, city = _unit(1, Level.PROVINCE, "江川省"), _unit(2, Level.CITY, "临江市")
    scheme: Any = _Owner(province)
    period = engine.month_period(2026, 10, TZ)

    assert exports.circular_title(scheme, province, "month", period) == (
        "关于2026年10月全省信息工作情况的通报"
    )
    assert exports.circular_title(scheme, city, "month", period) == (
        "关于2026年10月临江市信息工作情况的通报"
    )


def _row(
    rank: int, name: str, points: str, submitted: int, adopted: int, change: int | None
) -> rankings.Row:
    figures = rankings.Figures(points=Decimal(points), submitted=submitted, adopted=adopted)
    previous = None if change is None else rank + change
    return rankings.Row(rank, name, name, None, None, figures, previous, change)


def test_summary_lists_top_units_risers_and_the_zero_lists_with_totals() -> None:
    ranking = [
        _row(1, "甲县", "60", 6, 3, 2),
        _row(2, "乙县", "25.5", 4, 1, 0),
        _row(3, "丙县", "10", 2, 0, 3),
        _row(4, "丁县", "5", 1, 0, -3),
        _row(5, "戊县", "0", 0, 0, None),
        _row(5, "己县", "0", 0, 0, 1),
    ]

    summary = exports.circular_summary(ranking)

    # 6 + 4 + 2 + 1 = 13 submitted, 3 + 1 = 4 adopted (30.77%), 60 + 25.5 + 10 + 5 = 100.5 points.
    assert summary["totals"] == {
        "units": 6,
        "submitted": 13,
        "adopted": 4,
        "adoption_rate": "30.77%",
        "points": "100.5",
    }
    assert [t["name"] for t in summary["top"]] == ["甲县", "乙县", "丙县"]
    assert summary["top"][1] == {"rank": 2, "name": "乙县", "points": "25.5"}
    # Risers by places gained: 丙县 +3, 甲县 +2, 己县 +1 (丁县 fell, 乙县 stayed).
    assert [(r["name"], r["change"]) for r in summary["risers"]] == [
        ("丙县", 3),
        ("甲县", 2),
        ("己县", 1),
    ]
    assert summary["zero_submissions"] == ["戊县", "己县"]
    assert summary["zero_adoptions"] == ["丙县", "丁县"]
    assert "零报送单位：戊县、己县。" in summary["text"]
    assert "得分居前的单位是甲县（60分）、乙县（25.5分）、丙县（10分）" in summary["text"]
    assert "丙县（上升3位）" in summary["text"]
    assert summary["paragraphs"]["overall"].startswith("本期参加排名的6个单位共报送信息13篇")


def test_summary_of_a_quiet_period_says_so() -> None:
    summary = exports.circular_summary([_row(1, "甲县", "0", 0, 0, None)])

    assert summary["top"] == [] and summary["risers"] == []
    assert "本期各单位均未得分。" in summary["text"]
    assert "零报送单位：甲县。" in summary["text"]


def test_chart_is_drawn_without_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "chart_font", lambda: None)

    png = exports.ranking_chart([_row(1, "甲县", "60", 6, 3, 2), _row(2, "乙县", "-5", 1, 0, 0)])

    assert png.startswith(b"\x89PNG")


# The circular generated through the workflow ---------------------------------------------------


def test_the_ranking_the_circular_uses_matches_the_hand_computed_figures(
    scenario: Scenario,
) -> None:
    world = scenario.world
    ranking = rankings.unit_ranking(scenario.scheme, world.city_a, scenario.november)

    first = ranking[0]
    assert first.unit == world.county_a
    assert (first.figures.submitted, first.figures.adopted, first.figures.lead_items) == (2, 1, 1)
    assert first.figures.points == Decimal("25.00")
    assert {r.unit for r in ranking[1:]} == {world.county_a2, scenario.county_a3}
    assert all(r.figures.submitted == 0 and r.figures.points == 0 for r in ranking[1:])


def test_circular_is_archived_with_the_versions_title_and_summary(scenario: Scenario) -> None:
    circular = Circular.objects.get(pk=scenario.circular.pk)

    assert circular.title == "关于2026年11月全市信息工作情况的通报"
    assert circular.versions == f"{scenario.scheme.pk}.1"
    assert (circular.grain, circular.period_key) == ("month", "2026-11")
    assert circular.unit == scenario.world.city_a
    assert circular.created_by == scenario.world.editor_city
    assert circular.summary["totals"]["submitted"] == 2
    assert circular.summary["top"] == [{"rank": 1, "name": "安平县委组织部", "points": "25"}]
    assert set(circular.summary["zero_submissions"]) == {"青石县委组织部", FORMULA_UNIT}
    assert bytes(circular.docx).startswith(b"PK") and bytes(circular.xlsx).startswith(b"PK")


def test_only_managers_of_the_scheme_owner_generate_circulars(scenario: Scenario) -> None:
    world = scenario.world
    for person in (world.officer_county_a, world.unit_admin_county_a, world.outsider):
        with pytest.raises(PermissionDenied):
            workflow.generate_circular(
                by=person,
                scheme=scenario.scheme,
                parent=world.city_a,
                grain="month",
                period=scenario.november,
            )
    assert Circular.objects.count() == 1


def test_docx_is_a4_with_the_official_margins_and_a_red_masthead(scenario: Scenario) -> None:
    document = reopened(scenario.circular)
    section = document.sections[0]

    def mm(length: Any) -> float:
        return round(float(length.mm), 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.bottom_margin)) == (37, 35)
    assert (mm(section.left_margin), mm(section.right_margin)) == (28, 26)

    masthead = document.paragraphs[0]
    assert masthead.text == "临江市委组织部信息工作通报"
    assert all(str(r.font.color.rgb) in ("FF0000", "C00000") for r in masthead.runs)
    rule = document.paragraphs[1]._p.get_or_add_pPr().find(f"{qn('w:pBdr')}/{qn('w:bottom')}")
    assert rule is not None and rule.get(qn("w:color")) == "FF0000"

    title = paragraph_starting(document, "关于")
    assert title.text == "关于2026年11月全市信息工作情况的通报"
    assert all(east_asian(r) == "方正小标宋简体" for r in title.runs)

    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —")


def test_docx_body_is_fangsong_three_on_the_official_line_pitch(scenario: Scenario) -> None:
    document = reopened(scenario.circular)
    overall = paragraph_starting(document, "本期参加排名的3个单位")

    style = document.styles[overall.style.name]  # type: ignore[union-attr]
    fmt = style.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert fmt.line_spacing is not None and 28 <= fmt.line_spacing.pt <= 29
    for run in overall.runs:
        assert east_asian(run) == "仿宋_GB2312"
        assert run.font.size is not None and run.font.size.pt == 16


def test_docx_has_the_three_parts_with_the_zero_submission_list(scenario: Scenario) -> None:
    lines = texts(reopened(scenario.circular))

    headings = [t for t in lines if t in ("一、总体情况", "二、排名情况", "三、需要改进")]
    assert headings == ["一、总体情况", "二、排名情况", "三、需要改进"]
    improve = lines[lines.index("三、需要改进") + 1]
    assert "零报送单位：" in improve
    assert "青石县委组织部" in improve and FORMULA_UNIT in improve
    assert "本期参加排名的3个单位共报送信息2篇，被采用1篇，采用率50%，合计得分25分。" in lines


def test_docx_ranking_table_follows_the_ranking_with_a_repeated_header(
    scenario: Scenario,
) -> None:
    document = reopened(scenario.circular)
    (table,) = document.tables
    rows = [[c.text for c in row.cells] for row in table.rows]

    assert rows[0] == [
        "排名",
        "单位",
        "报送",
        "采用",
        "采用率",
        "头条",
        "批示",
        "定额",
        "得分",
        "名次变化",
    ]
    assert table.rows[0]._tr.get_or_add_trPr().find(qn("w:tblHeader")) is not None
    # 安平县: 2 submitted, 1 adopted (50%), 1 lead, 25 points; in October it was behind 青石县.
    assert rows[1][:9] == ["1", "安平县委组织部", "2", "1", "50%", "1", "0", "—", "25"]
    assert rows[1][9].startswith("↑")
    assert {tuple(r[1:4]) for r in rows[2:]} == {
        ("青石县委组织部", "0", "0"),
        (FORMULA_UNIT, "0", "0"),
    }
    assert all(r[4] == "—" and r[8] == "0" for r in rows[2:])
    # 青石县 led October, so it fell.
    fallen = next(r for r in rows if r[1] == "青石县委组织部")
    assert fallen[9].startswith("↓")


def test_docx_carries_the_chart_as_an_inline_picture(scenario: Scenario) -> None:
    from PIL import Image

    document = reopened(scenario.circular)

    (shape,) = document.inline_shapes
    assert 150 <= shape.width.mm <= 157
    blip = shape._inline.graphic.graphicData.pic.blipFill.blip
    image = document.part.related_parts[blip.embed]
    assert image.content_type == "image/png"
    picture = Image.open(io.BytesIO(image.blob)).convert("RGB")
    colours = picture.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 10, "the chart is blank"


def test_docx_names_each_scheme_version_used(scenario: Scenario) -> None:
    lines = texts(reopened(scenario.circular))

    assert f"计分办法：{SCHEME_NAME} 第1版（生效日期2026年1月1日）" in lines


def test_versions_in_force_during_the_period_are_all_named(
    clock: time_machine.Traveller, world: Any
) -> None:
    scheme = workflow.create_scheme(by=world.editor_city, unit=world.city_a, name=SCHEME_NAME)
    workflow.adopt_version(
        by=world.editor_city,
        version=scheme.versions.get(number=1),
        effective_from=dt.date(2026, 1, 1),
    )
    draft = workflow.new_version(by=world.editor_city, scheme=scheme)
    workflow.adopt_version(by=world.editor_city, version=draft, effective_from=dt.date(2026, 8, 1))
    circular = workflow.generate_circular(
        by=world.editor_city,
        scheme=scheme,
        parent=world.city_a,
        grain="quarter",
        period=engine.quarter_period(2026, 3, TZ),
    )

    assert circular.title == "关于2026年第三季度全市信息工作情况的通报"
    assert circular.versions == f"{scheme.pk}.1,{scheme.pk}.2"
    lines = texts(reopened(circular))
    assert f"计分办法：{SCHEME_NAME} 第1版（生效日期2026年1月1日至2026年7月31日）" in lines
    assert f"计分办法：{SCHEME_NAME} 第2版（生效日期2026年8月1日）" in lines


# The ranking workbook ---------------------------------------------------------------------------


def test_xlsx_has_the_office_columns_with_numbers_as_numbers(scenario: Scenario) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(bytes(scenario.circular.xlsx)))
    assert workbook.sheetnames == ["排名", "说明"]
    sheet = workbook["排名"]
    rows = list(sheet.iter_rows(values_only=True))

    assert list(rows[0]) == [
        "序号",
        "排名",
        "单位",
        "报送数",
        "采用数",
        "采用率",
        "头条数",
        "批示数",
        "定额完成情况",
        "得分",
        "上期排名",
        "名次变化",
    ]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= 20
    first = rows[1]
    assert first[:8] == (1, 1, "安平县委组织部", 2, 1, 0.5, 1, 0)
    assert first[9] == 25 and isinstance(first[9], int | float)
    assert isinstance(first[10], int) and isinstance(first[11], int) and first[11] > 0
    assert sheet["F2"].number_format == "0.00%"
    assert [r[0] for r in rows[1:]] == [1, 2, 3]
    assert all(r[5] is None and r[9] == 0 for r in rows[2:])


def test_xlsx_neutralizes_a_unit_name_that_looks_like_a_formula(scenario: Scenario) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(bytes(scenario.circular.xlsx)))
    names = [row[2] for row in workbook["排名"].iter_rows(min_row=2, values_only=True)]

    assert f"'{FORMULA_UNIT}" in names
    assert FORMULA_UNIT not in names
    for row in workbook["排名"].iter_rows(min_row=2):
        assert row[2].data_type == "s"


def test_xlsx_explains_the_period_and_the_scheme_versions(scenario: Scenario) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(bytes(scenario.circular.xlsx)))
    notes = {row[0]: row[1] for row in workbook["说明"].iter_rows(min_row=2, values_only=True)}

    assert notes["通报"] == "关于2026年11月全市信息工作情况的通报"
    assert notes["统计期间"] == "2026-11-01 至 2026-11-30"
    assert notes["计分办法"] == SCHEME_NAME
    assert notes["版本"] == f"{SCHEME_NAME} 第1版（生效日期2026年1月1日）"
    assert str(notes["生成时间"]).startswith("2026-12-02")


# PDF through LibreOffice -----------------------------------------------------------------------


def need_pdf_tools() -> None:
    missing = [tool for tool in ("soffice", "pdftoppm") if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"未安装 {'、'.join(missing)}"
    if os.environ.get("REQUIRE_PDF") == "1":
        pytest.fail(f"REQUIRE_PDF=1 but {reason}")
    pytest.skip(reason)


def test_circular_converts_to_a_pdf_whose_first_page_has_text_and_the_red_masthead(
    scenario: Scenario,
) -> None:
    from PIL import Image

    from baosong.publications.exports import docx_to_pdf

    need_pdf_tools()
    pdf = docx_to_pdf(bytes(scenario.circular.docx))

    assert pdf.startswith(b"%PDF")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "circular.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), f"{tmp}/page"],
            check=True,
            timeout=60,
        )
        (png,) = Path(tmp).glob("page*.png")
        page = Image.open(png).convert("RGB")
    width, height = page.size
    assert abs(width / height - 210 / 297) < 0.01
    data = page.tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    dark = sum(1 for r, g, b in pixels if r < 100 and g < 100 and b < 100)
    assert dark > 500, "page 1 has no text"
    top = page.crop((0, 0, width, height // 3)).tobytes()
    red = sum(
        1
        for r, g, b in zip(top[0::3], top[1::3], top[2::3], strict=True)
        if r > 180 and g < 80 and b < 80
    )
    assert red > 200, "no red masthead in the top third"
