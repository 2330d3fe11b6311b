"""The approval form (审批表) of an item: one data builder shared by the print page and the .docx.

The form is the official record of who decided what and when, so it lists every decision from
the item's timeline, including earlier rounds before a return, not only the latest pass.
"""

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement, parse_xml
from docx.shared import Mm, Pt

from baosong.submissions.models import (
    EventAction,
    ItemType,
    Kind,
    Status,
    Submission,
)
from baosong.submissions.sanitize import plain_text

TITLE_FONT = "方正小标宋简体"
TITLE_FALLBACK = "宋体"
BODY_FONT = "仿宋_GB2312"
BODY_FALLBACK = "仿宋"
TITLE_SIZE = Pt(22)
BODY_SIZE = Pt(16)
TABLE_SIZE = Pt(14)

# The timeline actions that belong on the form, and the decision wording for each.
FORM_ACTIONS = (
    EventAction.SUBMIT_FOR_REVIEW,
    EventAction.APPROVE,
    EventAction.RETURN,
    EventAction.REJECT,
    EventAction.SUBMIT,
    EventAction.WITHDRAW,
)
DECISIONS = {
    EventAction.SUBMIT_FOR_REVIEW: gettext_noop("提交审核"),
    EventAction.APPROVE: gettext_noop("通过"),
    EventAction.RETURN: gettext_noop("退回修改"),
    EventAction.REJECT: gettext_noop("不予通过"),
    EventAction.SUBMIT: gettext_noop("报送"),
    EventAction.WITHDRAW: gettext_noop("撤回"),
}
STAGELESS = {
    EventAction.SUBMIT_FOR_REVIEW: gettext_noop("送审"),
    EventAction.SUBMIT: gettext_noop("报送"),
    EventAction.WITHDRAW: gettext_noop("撤回"),
}


@dataclass(frozen=True)
class StageRow:
    stage: str
    person: str
    decision: str
    comment: str
    at: str

    @property
    def opinion(self) -> str:
        return f"{self.decision}：{self.comment}" if self.comment else self.decision


@dataclass(frozen=True)
class ApprovalForm:
    heading: str
    fields: list[tuple[str, str]]
    rows: list[StageRow]
    word_count: int
    attachments: list[str] = field(default_factory=list)


def _stamp(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    local = timezone.localtime(value, timezone.get_default_timezone())
    return local.strftime("%Y-%m-%d %H:%M")


def _status_text(item: Submission) -> str:
    text = str(Status(item.status).label)
    stage = item.stage
    if stage is not None:
        text += f"（{stage.get('name', '')}）"
    return text


def form_data(item: Submission) -> ApprovalForm:
    """Everything the approval form shows, read from the item, its authors and its timeline."""
    type_label = str(ItemType(item.item_type).label)
    type_text = f"{type_label} / {Kind(item.kind).label}" if item.kind else type_label
    authors = "、".join(
        f"{a.user.real_name}（{a.share}%）" for a in item.authors.select_related("user")
    )
    addressed = "、".join(a.unit.name for a in item.addressees.select_related("unit"))
    events = item.events.filter(action__in=FORM_ACTIONS).select_related("by").order_by("at", "id")
    rows = []
    for e in events:
        action = EventAction(e.action)
        decision, comment = gettext(DECISIONS[action]), e.comment
        if action == EventAction.SUBMIT and comment:
            decision, comment = comment, ""  # the comment already reads "报送至…"
        rows.append(
            StageRow(
                stage=gettext(STAGELESS[action]) if action in STAGELESS else e.stage_name,
                person=e.by.real_name,
                decision=decision,
                comment=comment,
                at=_stamp(e.at),
            )
        )
    attachments = [
        a.original_name for a in item.attachments.filter(removed_at__isnull=True).order_by("id")
    ]
    return ApprovalForm(
        heading=gettext("%(type)s报送审批表") % {"type": type_label},
        fields=[
            (gettext("标题"), item.title),
            (gettext("类型/类别"), type_text),
            (gettext("报送单位"), item.unit.name),
            (gettext("作者"), authors),
            (gettext("事件日期"), item.event_date.isoformat() if item.event_date else "—"),
            (gettext("报送对象"), addressed or "—"),
            (gettext("报送时间"), _stamp(item.submitted_at)),
            (gettext("当前状态"), _status_text(item)),
        ],
        rows=rows,
        word_count=len(re.sub(r"\s+", "", plain_text(item.body))),
        attachments=attachments,
    )


# .docx -------------------------------------------------------------------------------------------

HEADER = (
    gettext_noop("环节"),
    gettext_noop("审核人"),
    gettext_noop("意见/决定"),
    gettext_noop("时间"),
)

# Column widths of the 4-column table; they add up to the type area (210 − 28 − 26 = 156 mm).
COLUMNS = (Mm(25), Mm(25), Mm(63), Mm(43))


def _set_fonts(owner: Any, name: str) -> None:
    """Name the font for Latin and East Asian text (Word ignores `font.name` for CJK)."""
    element = owner._element
    rpr = element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), name)


def _run(paragraph: Any, text: str, *, font: str, size: Any, bold: bool = False) -> Any:
    run = paragraph.add_run(text)
    run.font.size = size
    run.font.bold = bold
    _set_fonts(run, font)
    return run


def _declare_fallbacks(document: Any) -> None:
    """Word substitutes a missing font by its altName in the font table: 宋体 for 方正小标宋简体,
    仿宋 for 仿宋_GB2312 (most Windows machines lack the two official fonts)."""
    part = next(
        rel.target_part for rel in document.part.rels.values() if rel.reltype.endswith("/fontTable")
    )
    root = parse_xml(part.blob)
    for name, alt in ((TITLE_FONT, TITLE_FALLBACK), (BODY_FONT, BODY_FALLBACK)):
        font = OxmlElement("w:font", {qn("w:name"): name})
        for tag, value in (
            ("w:altName", alt),
            ("w:charset", "86"),  # GB2312
            ("w:family", "roman"),
            ("w:pitch", "variable"),
        ):
            font.append(OxmlElement(tag, {qn("w:val"): value}))
        root.append(font)
    # A plain Part has no public setter for its bytes.
    part._blob = serialize_part_xml(root)


def _cell(cell: Any, text: str, *, bold: bool = False, center: bool = False) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for i, line in enumerate(text.split("\n")):
        paragraph = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(2)
        paragraph.paragraph_format.space_after = Pt(2)
        paragraph.paragraph_format.line_spacing = 1.0
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(paragraph, line, font=BODY_FONT, size=TABLE_SIZE, bold=bold)


def approval_form_docx(item: Submission) -> bytes:
    """The approval form as a Word document in the official layout (A4, 仿宋 body)."""
    data = form_data(item)
    document = Document()
    _declare_fallbacks(document)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    normal = document.styles["Normal"]
    normal.font.size = BODY_SIZE
    _set_fonts(normal, BODY_FONT)

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(16)
    _run(title, data.heading, font=TITLE_FONT, size=TITLE_SIZE)

    table = document.add_table(rows=0, cols=len(COLUMNS))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, COLUMNS, strict=True):
        column.width = width

    def new_row() -> list[Any]:
        # Widths go on every cell before merging: a merge adds up the widths it swallows.
        cells = list(table.add_row().cells)
        for cell, width in zip(cells, COLUMNS, strict=True):
            cell.width = width
        return cells

    def label_row(label: str, value: str) -> None:
        cells = new_row()
        _cell(cells[0], label, bold=True, center=True)
        _cell(cells[1].merge(cells[-1]), value)

    for label, value in data.fields:
        label_row(label, value)
    header = new_row()
    for cell, text in zip(header, [gettext(h) for h in HEADER], strict=True):
        _cell(cell, text, bold=True, center=True)
    for row in data.rows:
        cells = new_row()
        _cell(cells[0], row.stage, center=True)
        _cell(cells[1], row.person, center=True)
        _cell(cells[2], row.opinion)
        _cell(cells[3], row.at, center=True)
    if not data.rows:
        cells = new_row()
        _cell(cells[0].merge(cells[-1]), gettext("尚无审核记录"), center=True)
    label_row(gettext("正文字数"), gettext("%(n)s 字") % {"n": data.word_count})
    label_row(gettext("附件"), "\n".join(data.attachments) or gettext("无"))

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
