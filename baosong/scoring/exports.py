"""Circulars (通报): the title, a summary of the ranking, the official .docx with the ranking
table and a chart, and the ranking as .xlsx with the columns offices keep today.

The .docx reuses the bulletin layout of publications/exports.py (GB/T 9704 type area, fonts,
styles, red masthead and rule, page numbers "— 1 —"), so a circular and a bulletin from the same
office look alike. The texts are those of an official document and stay Chinese whatever the
reader's language. Everything here returns values or bytes; workflow.generate_circular archives
them.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import warnings
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import openpyxl
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from baosong.lib.xlsx import CellValue, workbook_bytes, write_table
from baosong.orgs.models import Unit
from baosong.publications.exports import (
    BODY_SIZE,
    LINE,
    MASTHEAD_MAX,
    MASTHEAD_MIN,
    RED_HEX,
    TEXT_WIDTH,
    _add_styles,
    _border,
    _chinese_defaults,
    _declare_fonts,
    _page_setup,
    _paragraph,
    _run,
    date_text,
)
from baosong.scoring import engine
from baosong.scoring.ledger import local_tz
from baosong.scoring.models import Scheme, SchemeVersion
from baosong.scoring.rankings import Row, tie_break_of
from baosong.submissions.exports import BODY_FONT, TITLE_FONT

log = logging.getLogger(__name__)

# The whole area a scheme's owner assesses, as circulars name it.
AREA_OF_LEVEL = {
    "central": "全国",
    "province": "全省",
    "city": "全市",
    "county": "全县",
    "township": "全镇",
}
QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}
TOP = 3

TABLE_SIZE = Pt(10.5)  # 五号: ten columns fit the 156 mm type area
TABLE_HEADERS = (
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
)
TABLE_WIDTHS_MM = (12, 36, 12, 12, 16, 12, 12, 15, 15, 14)  # 156 mm
CHART_MAX_UNITS = 40  # beyond that a bar chart on one page is unreadable
CHART_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei")
CHART_FONTS_EXTRA = ("Source Han Sans SC", "SimHei", "Microsoft YaHei")

XLSX_HEADERS = (
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
)
XLSX_WIDTHS = (6, 6, 24, 9, 9, 10, 9, 9, 28, 10, 10, 10)

_TIE_LABELS = {
    "points": "得分",
    "adopted": "采用数",
    "submitted": "报送数",
    "lead_items": "头条数",
    "instructions": "批示数",
    "adoption_rate": "采用率",
}


# Texts ----------------------------------------------------------------------------------------


def period_text(grain: str, period: engine.Period) -> str:
    """2026年10月, 2026年第三季度, 2026年度, or 2026年3月1日至2026年5月31日."""
    tz = local_tz()
    first = period.start.astimezone(tz).date()
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    if grain == "month":
        return f"{first.year}年{first.month}月"
    if grain == "quarter":
        return f"{first.year}年第{QUARTERS[(first.month - 1) // 3 + 1]}季度"
    if grain == "year":
        return f"{first.year}年度"
    if first == last:
        return date_text(first)
    return f"{date_text(first)}至{date_text(last)}"


def area_name(scheme: Scheme, parent: Unit) -> str:
    """全省/全市… when the ranked units are all of the scheme owner's, else the parent's name."""
    if parent.pk == scheme.unit_id and parent.level in AREA_OF_LEVEL:
        return AREA_OF_LEVEL[parent.level]
    return parent.short_name or parent.name


def circular_title(scheme: Scheme, parent: Unit, grain: str, period: engine.Period) -> str:
    """关于2026年10月全市信息工作情况的通报."""
    return f"关于{period_text(grain, period)}{area_name(scheme, parent)}信息工作情况的通报"


def _points(value: Decimal) -> str:
    return engine.fmt(engine.q2(value))


def _rate(adopted: int, submitted: int) -> str:
    if not submitted:
        return "—"
    return f"{engine.fmt(engine.q2(Decimal(adopted) * 100 / submitted))}%"


def circular_summary(ranking: Sequence[Row]) -> dict[str, Any]:
    """The numbers a circular's text cites (JSON-able, archived with it) and the text itself:
    the top units, the biggest risers, units that submitted nothing (零报送) and units whose
    submissions were not adopted (units that submitted nothing are only in the first list)."""
    submitted = sum(r.figures.submitted for r in ranking)
    adopted = sum(r.figures.adopted for r in ranking)
    points = sum((r.figures.points for r in ranking), Decimal(0))
    top = [
        {"rank": r.rank, "name": r.name, "points": _points(r.figures.points)}
        for r in ranking
        if r.figures.points > 0
    ][:TOP]
    rising = sorted(
        (r for r in ranking if r.change is not None and r.change > 0),
        key=lambda r: (-(r.change or 0), r.rank, r.name),
    )[:TOP]
    risers = [
        {"name": r.name, "change": r.change, "rank": r.rank, "previous_rank": r.previous_rank}
        for r in rising
    ]
    zero_submissions = [r.name for r in ranking if r.figures.submitted == 0]
    zero_adoptions = [r.name for r in ranking if r.figures.submitted > 0 and r.figures.adopted == 0]
    missed_quota = [r.name for r in ranking if r.quota_missed]
    rate, total_points = _rate(adopted, submitted), _points(points)
    totals = {
        "units": len(ranking),
        "submitted": submitted,
        "adopted": adopted,
        "adoption_rate": rate,
        "points": total_points,
    }

    overall = (
        f"本期参加排名的{len(ranking)}个单位共报送信息{submitted}篇，被采用{adopted}篇"
        f"{'，采用率' + rate if submitted else ''}，合计得分{total_points}分。"
    )
    if top:
        standing = "得分居前的单位是" + "、".join(f"{t['name']}（{t['points']}分）" for t in top)
        standing += "。"
    else:
        standing = "本期各单位均未得分。"
    if risers:
        standing += (
            "名次上升较快的是" + "、".join(f"{r.name}（上升{r.change}位）" for r in rising) + "。"
        )
    needs: list[str] = []
    if zero_submissions:
        needs.append(f"零报送单位：{'、'.join(zero_submissions)}。")
    if zero_adoptions:
        needs.append(f"有报送但未被采用的单位：{'、'.join(zero_adoptions)}。")
    if missed_quota:
        needs.append(f"未完成报送定额的单位：{'、'.join(missed_quota)}。")
    if needs:
        needs.append("请上述单位加强信息工作，提高报送数量和质量。")
    else:
        needs.append("本期各单位均有信息报送并被采用，请继续保持。")
    improve = "".join(needs)
    return {
        "totals": totals,
        "top": top,
        "risers": risers,
        "zero_submissions": zero_submissions,
        "zero_adoptions": zero_adoptions,
        "missed_quota": missed_quota,
        "paragraphs": {"overall": overall, "ranking": standing, "improve": improve},
        "text": overall + standing + improve,
    }


def version_note(scheme: Scheme, version: SchemeVersion) -> str:
    """计分办法：某某办法 第2版（生效日期2026年1月1日至2026年6月30日）."""
    span = ""
    if version.effective_from is not None:
        span = f"生效日期{date_text(version.effective_from)}"
        if version.effective_to is not None:
            span += f"至{date_text(version.effective_to)}"
    return f"计分办法：{scheme.name} 第{version.number}版" + (f"（{span}）" if span else "")


def _change_text(row: Row) -> str:
    if row.change is None:
        return "—"
    if row.change > 0:
        return f"↑{row.change}"
    if row.change < 0:
        return f"↓{-row.change}"
    return "持平"


def _quota_text(row: Row) -> str:
    if not row.quota:
        return "—"
    return "未完成" if row.quota_missed else "完成"


def table_cells(row: Row) -> list[str]:
    f = row.figures
    return [
        str(row.rank),
        row.name,
        str(f.submitted),
        str(f.adopted),
        _rate(f.adopted, f.submitted),
        str(f.lead_items),
        str(f.instructions),
        _quota_text(row),
        _points(f.points),
        _change_text(row),
    ]


# Chart ----------------------------------------------------------------------------------------


@functools.cache
def chart_font() -> str | None:
    """The first CJK font matplotlib can use; fonts installed after its cache was built are
    added from the system font folders once."""
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    wanted = (*CHART_FONTS, *CHART_FONTS_EXTRA)
    found = next((n for n in wanted if n in names), None)
    if found:
        return found
    for path in font_manager.findSystemFonts():
        lower = path.lower()
        if any(k in lower for k in ("cjk", "wqy", "simhei", "sourcehan", "msyh")):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    names = known()
    return next((n for n in wanted if n in names), None)


def ranking_chart(ranking: Sequence[Row], title: str = "各单位得分") -> bytes:
    """A horizontal bar chart of points by unit in ranking order, as PNG. Without a CJK font
    the chart is still drawn (the labels then show missing-glyph boxes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    rows = list(ranking[:CHART_MAX_UNITS])
    if len(ranking) > CHART_MAX_UNITS:
        title = f"{title}（前{CHART_MAX_UNITS}名）"
    family = chart_font()
    if family is None:
        log.warning("no CJK font for the circular chart; labels will not be readable")
    font = FontProperties(family=[family] if family else ["DejaVu Sans"], size=9)
    big = FontProperties(family=[family] if family else ["DejaVu Sans"], size=11)

    width_in = TEXT_WIDTH.inches
    height_in = min(9.0, max(2.4, 0.8 + 0.28 * max(len(rows), 1)))
    # A Figure of its own (not pyplot): no global state, safe in a threaded server.
    figure = Figure(figsize=(width_in, height_in), dpi=200)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    names = [r.name for r in rows]
    values = [float(r.figures.points) for r in rows]
    positions = list(range(len(rows)))
    axes.barh(positions, values, color="#C00000", height=0.6)
    axes.set_yticks(positions, labels=names, fontproperties=font)
    axes.invert_yaxis()  # first place on top
    axes.set_title(title, fontproperties=big)
    axes.set_xlabel("得分", fontproperties=font)
    for label in axes.get_xticklabels():
        label.set_fontproperties(font)
    span = max([abs(v) for v in values] + [1.0])
    for y, value in zip(positions, values, strict=True):
        axes.text(
            value + (span * 0.01 if value >= 0 else -span * 0.01),
            y,
            engine.fmt(engine.q2(Decimal(str(value)))),
            va="center",
            ha="left" if value >= 0 else "right",
            fontproperties=font,
        )
    axes.set_xlim(min([0.0, *values]) * 1.15, max([0.0, *values]) * 1.15 or 1.0)
    axes.spines[["top", "right"]].set_visible(False)
    axes.axvline(0, color="#444444", linewidth=0.6)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Without a CJK font every label warns once per glyph; the log line above says it once.
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        figure.tight_layout()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


# .docx ----------------------------------------------------------------------------------------


def _masthead(document: DocumentObject, issuer: str, day: dt.date) -> None:
    name = f"{issuer}信息工作通报"
    size = max(MASTHEAD_MIN, min(MASTHEAD_MAX, 420.0 / max(len(name), 1)))
    head = document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    head.paragraph_format.line_spacing = 1.0
    head.paragraph_format.space_after = Pt(6)
    _run(head, name, font=TITLE_FONT, size=Pt(size), colour=RED_HEX)

    line = document.add_paragraph()
    line.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    line.paragraph_format.line_spacing = LINE
    line.paragraph_format.space_after = Pt(14)
    line.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT)
    _run(line, f"{issuer}\t{date_text(day)}", font=BODY_FONT, size=BODY_SIZE)
    _border(line, sides={"bottom": (18, RED_HEX)})


def _cell_text(cell: _Cell, text: str, *, bold: bool = False, center: bool = True) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
    # The paragraph mark keeps Normal's 三号 otherwise, and with it a taller row.
    mark = OxmlElement("w:rPr")
    half_points = str(round(TABLE_SIZE.pt * 2))
    mark.append(OxmlElement("w:sz", {qn("w:val"): half_points}))
    mark.append(OxmlElement("w:szCs", {qn("w:val"): half_points}))
    paragraph._p.get_or_add_pPr().append(mark)
    _run(paragraph, text, font=BODY_FONT, size=TABLE_SIZE, bold=bold)


def _repeat_header(row: Any) -> None:
    """The header row is repeated on every page the table runs onto; no row breaks across."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    tr_pr.append(OxmlElement("w:tblHeader"))


def _ranking_table(document: DocumentObject, ranking: Sequence[Row]) -> None:
    table = document.add_table(rows=1 + len(ranking), cols=len(TABLE_HEADERS))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Mm(w) for w in TABLE_WIDTHS_MM]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    header = table.rows[0]
    _repeat_header(header)
    for cell, text, width in zip(header.cells, TABLE_HEADERS, widths, strict=True):
        cell.width = width
        _cell_text(cell, text, bold=True)
    for row, data in zip(table.rows[1:], ranking, strict=True):
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        for i, (cell, text, width) in enumerate(
            zip(row.cells, table_cells(data), widths, strict=True)
        ):
            cell.width = width
            _cell_text(cell, text, center=i != 1)
    # keeps the table apart from what follows
    _paragraph(document, "body")


def _picture(document: DocumentObject, png: bytes) -> None:
    paragraph = _paragraph(document, "caption")
    # The caption style has an exact line pitch, which would crop an inline picture to one line.
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run().add_picture(io.BytesIO(png), width=TEXT_WIDTH)


def _heading(document: DocumentObject, text: str) -> Paragraph:
    return _paragraph(document, "h1", text)


def circular_docx(
    scheme: Scheme,
    parent: Unit,
    grain: str,
    period: engine.Period,
    ranking: Sequence[Row],
    summary: dict[str, Any],
    versions: Sequence[SchemeVersion],
) -> bytes:
    """The circular in the official layout: masthead, title, the summary in three parts, the
    ranking table (header repeated on each page), the chart, and the scheme versions used."""
    issuer = scheme.unit.name
    today = dt.datetime.now(local_tz()).date()
    title = circular_title(scheme, parent, grain, period)
    when = period_text(grain, period)
    area = area_name(scheme, parent)
    paragraphs = summary.get("paragraphs") or {}

    document = Document()
    _declare_fonts(document)
    _chinese_defaults(document)
    _add_styles(document)
    _page_setup(document)
    document.core_properties.title = title
    document.core_properties.author = issuer
    document.core_properties.last_modified_by = issuer
    document.core_properties.created = dt.datetime.now(dt.UTC)
    document.core_properties.modified = dt.datetime.now(dt.UTC)
    body = document.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)

    _masthead(document, issuer, today)
    heading = _paragraph(document, "title", title)
    heading.paragraph_format.space_after = Pt(14)
    salutation = _paragraph(document, "body", "各有关单位：")
    salutation.paragraph_format.first_line_indent = Pt(0)
    _paragraph(
        document,
        "body",
        f"现将{when}{area}信息工作情况通报如下。",
    )

    _heading(document, "一、总体情况")
    _paragraph(document, "body", str(paragraphs.get("overall", "")))

    _heading(document, "二、排名情况")
    _paragraph(document, "body", str(paragraphs.get("ranking", "")))
    if ranking:
        _paragraph(document, "caption", f"{when}{area}信息工作排名")
        _ranking_table(document, ranking)
        _picture(document, ranking_chart(ranking))
        _paragraph(document, "caption", f"图　{when}各单位得分")
    else:
        _paragraph(document, "body", "本期没有参加排名的单位。")

    _heading(document, "三、需要改进")
    _paragraph(document, "body", str(paragraphs.get("improve", "")))

    spacer = _paragraph(document, "body")
    spacer.paragraph_format.space_before = LINE
    signature = _paragraph(document, "credit", issuer)
    signature.paragraph_format.right_indent = Pt(32)
    dated = _paragraph(document, "credit", date_text(today))
    dated.paragraph_format.right_indent = Pt(32)

    notes = [version_note(scheme, v) for v in versions] or [
        f"计分办法：{scheme.name}（本期无生效版本）"
    ]
    for i, text in enumerate(notes):
        note = _paragraph(document, "record", text)
        if i == 0:
            note.paragraph_format.space_before = LINE
            _border(note, sides={"top": (8, "000000")})
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# .xlsx ----------------------------------------------------------------------------------------


def _xlsx_row(number: int, row: Row) -> list[CellValue]:
    f = row.figures
    return [
        number,
        row.rank,
        row.name,
        f.submitted,
        f.adopted,
        float(Decimal(f.adopted) / f.submitted) if f.submitted else None,
        f.lead_items,
        f.instructions,
        row.quota or "",
        float(engine.q2(f.points)),
        row.previous_rank,
        row.change,
    ]


def ranking_xlsx(
    scheme: Scheme,
    parent: Unit,
    period: engine.Period,
    ranking: Sequence[Row],
    versions: Sequence[SchemeVersion],
) -> bytes:
    """Sheet 排名 (numbers as numbers, text neutralized so Excel evaluates nothing) and sheet
    说明 (period, scheme versions, when generated)."""
    tz = local_tz()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "排名"
    write_table(
        ws,
        XLSX_HEADERS,
        [_xlsx_row(i, row) for i, row in enumerate(ranking, start=1)],
        XLSX_WIDTHS,
    )
    formats = {"F": "0.00%", "J": "0.00"}
    for column, number_format in formats.items():
        for cell in ws[column][1:]:
            cell.number_format = number_format

    grain = period.grain if period.grain in ("month", "quarter", "year") else "custom"
    first = period.start.astimezone(tz).date()
    last = (period.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    notes: list[list[CellValue]] = [
        ["通报", circular_title(scheme, parent, grain, period)],
        ["统计期间", f"{first.isoformat()} 至 {last.isoformat()}"],
        ["参加排名", f"{parent.name}的下级单位（含其下属单位）"],
        ["计分办法", scheme.name],
    ]
    notes += [["版本", version_note(scheme, v).removeprefix("计分办法：")] for v in versions]
    notes += [
        ["排名依据", "、".join(_TIE_LABELS.get(k, k) for k in tie_break_of(scheme))],
        ["采用率", "采用数 ÷ 报送数"],
        ["名次变化", "正数为上升的名次，负数为下降，空白为上期无排名"],
        ["生成时间", dt.datetime.now(tz).strftime("%Y-%m-%d %H:%M")],
    ]
    write_table(wb.create_sheet("说明"), ("项目", "内容"), notes, (12, 70))
    return workbook_bytes(wb)
