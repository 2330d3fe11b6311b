"""Earlier adoption records (往年采用记录) imported from .xlsx so a unit can start with its history.

`parse_history` reads and checks a workbook without writing anything; `import_history` stores
every record and scores it in one transaction, or stores nothing when any row is wrong. A record
is scored like an adoption of an item written by its 主报单位 (and, for a combined piece, its
其他单位), under the scheme version in force on the adoption day; a day no adopted version
covers is imported but earns nothing.

Columns are matched by name in row 1 of the first worksheet, in any order; other columns are
ignored (offices keep notes beside their records), and the help on the upload page says so.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import openpyxl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from baosong.audit.record import record
from baosong.lib.xlsx import unneutralize, workbook_bytes, write_table
from baosong.orgs.models import Unit, User
from baosong.scoring import access, engine, ledger
from baosong.scoring.models import (
    HistoricAdoption,
    HistoryImport,
    LedgerEntry,
    Scheme,
    SchemeVersion,
    VersionStatus,
)

COLUMNS = ("期号", "标题", "级别", "载体", "采用时间", "主报单位", "采用单位", "其他单位", "备注")
REQUIRED = ("标题", "级别", "载体", "采用时间", "主报单位")
MAX_LENGTH = {"期号": 60, "标题": 200, "采用单位": 120, "备注": 300}

# The workbook's vocabulary is Chinese whatever the interface language.
LEVEL_BY_LABEL: dict[str, str] = {
    "中央": "central",
    "中央级": "central",
    "国家级": "central",
    "省": "province",
    "省级": "province",
    "市": "city",
    "市级": "city",
    "县": "county",
    "县级": "county",
}
KIND_BY_LABEL: dict[str, str] = {
    "专报": "special",
    "信息刊物": "journal",
    "简报": "bulletin",
    "网站": "website",
    "公众号": "wechat",
    "微信公众号": "wechat",
}
UNIT_SEPARATORS = re.compile(r"[，、,/／;；]")
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
SAMPLE_MARK = "（示例）"
EARLIEST = dt.date(2000, 1, 1)  # the ledger's all-time period starts here

# 5,000 rows of nine short columns make a workbook of a few hundred KB; the limits leave room
# for formatting and refuse anything that only a crafted file would reach.
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
MAX_ZIP_ENTRIES = 200
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_RATIO = 200

NOT_XLSX = gettext_lazy(
    "文件不是有效的 .xlsx 工作簿（可能是改了扩展名的其他文件），"
    "请用 Excel 或 WPS 另存为 .xlsx 后再上传。"
)


@dataclass(frozen=True)
class HistoryError:
    row: int | None
    column_letter: str
    column_name: str
    message: str

    def __str__(self) -> str:
        where = ""
        if self.row is not None:
            where = gettext("第 %(row)d 行") % {"row": self.row}
        if self.column_letter or self.column_name:
            where += (
                f" {self.column_letter}{'（' + self.column_name + '）' if self.column_name else ''}"
            )
        return f"{where.strip()}：{self.message}" if where else self.message


class HistoryRejected(ValidationError):
    """The workbook was refused; `errors` say where and why (nothing was written)."""

    def __init__(self, errors: Sequence[HistoryError]) -> None:
        self.errors = list(errors)
        super().__init__([str(e) for e in self.errors])


@dataclass
class Record:
    """One checked row."""

    row: int
    issue_label: str
    title: str
    level: str
    kind: str
    adopted_on: dt.date
    lead: Unit
    adopting_unit: str
    others: list[Unit]
    note: str


@dataclass
class Parsed:
    records: list[Record] = field(default_factory=list)
    errors: list[HistoryError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Summary:
    """What an import earned under one scheme."""

    records: int
    scored: int  # records on a day some adopted version covers
    unscored: int
    points: Decimal


# ---------------------------------------------------------------------------------------------
# Reading


class _Invalid:
    """A cell already reported (a formula), so it is not reported again as missing."""


INVALID = _Invalid()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return unneutralize(str(value).strip())


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_formula(cell: Any) -> bool:
    return cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))


def check_container(data: bytes) -> str | None:
    """Refuse oversized, empty and non-zip files and zip bombs from the zip directory alone,
    before any XML is parsed (openpyxl then parses through defusedxml)."""
    if not data:
        return gettext("文件是空的。")
    if len(data) > MAX_BYTES:
        return gettext("文件过大（%(size).1f MB），上限为 %(limit).0f MB。") % {
            "size": len(data) / 1048576,
            "limit": MAX_BYTES / 1048576,
        }
    if not data.startswith(b"PK\x03\x04"):
        return str(NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return str(NOT_XLSX)
    if len(entries) > MAX_ZIP_ENTRIES:
        return gettext("文件内部条目过多（%(count)d 个），不像正常的工作簿，已拒绝。") % {
            "count": len(entries)
        }
    total = sum(entry.file_size for entry in entries)
    too_packed = any(e.file_size > MAX_ZIP_RATIO * max(e.compress_size, 1) for e in entries)
    if total > MAX_UNCOMPRESSED_BYTES or too_packed:
        return gettext("文件解压后过大（约 %(size).0f MB），已拒绝。") % {"size": total / 1048576}
    if "xl/workbook.xml" not in {entry.filename for entry in entries}:
        return str(NOT_XLSX)
    return None


class _Units:
    """Units of the owner's subtree by code, full name and short name."""

    def __init__(self, owner: Unit) -> None:
        self.by_code: dict[str, Unit] = {}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in Unit.objects.filter(path__startswith=owner.path).order_by("path"):
            self.by_code[unit.code.casefold()] = unit
            for name in {unit.name.strip(), unit.short_name.strip()}:
                if name:
                    self.by_name.setdefault(name, []).append(unit)

    def find(self, text: str) -> tuple[Unit | None, str]:
        """The unit a cell names, or an error message."""
        unit = self.by_code.get(text.casefold())
        if unit is not None:
            return unit, ""
        found = self.by_name.get(text, [])
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, gettext("“%(name)s”对应多个单位（%(codes)s），请改填单位编码。") % {
                "name": text,
                "codes": "、".join(u.code for u in found),
            }
        near = sorted(
            {u.pk: u for name, us in self.by_name.items() if text in name for u in us}.values(),
            key=lambda u: u.path,
        )
        if len(near) == 1:
            # A common shortening ("清河县" for 清河县委组织部): suggest, never guess.
            return None, gettext(
                "本单位及下属单位中没有“%(name)s”，是否指“%(unit)s”（编码 %(code)s）？"
                "请填写单位全称、简称或编码。"
            ) % {"name": text, "unit": near[0].short_name, "code": near[0].code}
        return None, gettext("本单位及下属单位中没有“%(name)s”（可填单位全称、简称或编码）。") % {
            "name": text
        }


class _Row:
    def __init__(
        self, number: int, values: dict[str, Any], letters: dict[str, str], parsed: Parsed
    ) -> None:
        self.number, self.values, self.letters, self.parsed = number, values, letters, parsed
        self.failed = False

    def error(self, column: str, message: str) -> None:
        self.failed = True
        self.parsed.errors.append(
            HistoryError(self.number, self.letters.get(column, ""), column, message)
        )

    def text(self, column: str) -> str:
        value = self.values.get(column)
        if value is INVALID:
            self.failed = True
            return ""
        result = _as_text(value)
        if column in REQUIRED and not result:
            self.error(column, gettext("“%(column)s”不能为空。") % {"column": column})
        elif len(result) > MAX_LENGTH.get(column, 10_000):
            self.error(
                column,
                gettext("“%(column)s”不能超过 %(max)d 字。")
                % {"column": column, "max": MAX_LENGTH[column]},
            )
        return result

    def choice(self, column: str, table: dict[str, str]) -> str:
        text = self.text(column)
        if not text:
            return ""
        code = table.get(text.replace(" ", ""))
        if code is None:
            self.error(
                column,
                gettext("无法识别“%(value)s”，可填：%(allowed)s。")
                % {"value": text, "allowed": "、".join(table)},
            )
            return ""
        return code

    def date(self, column: str, today: dt.date) -> dt.date | None:
        value = self.values.get(column)
        if value is INVALID:
            self.failed = True
            return None
        day: dt.date | None = None
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        elif _is_blank(value):
            self.error(column, gettext("“%(column)s”不能为空。") % {"column": column})
            return None
        else:
            match = DATE_PATTERN.match(_as_text(value))
            if match:
                try:
                    day = dt.date(*(int(part) for part in match.groups()))
                except ValueError:
                    day = None
            if day is None:
                self.error(
                    column,
                    gettext(
                        "“%(value)s”不是有效日期，请填写如 2025-03-04、2025/3/4 或 2025年3月4日。"
                    )
                    % {"value": _as_text(value)},
                )
                return None
        if day > today:
            self.error(column, gettext("采用时间不能晚于今天。"))
            return None
        if day < EARLIEST:
            self.error(column, gettext("采用时间不能早于 2000 年。"))
            return None
        return day

    def units(self, column: str, units: _Units) -> list[Unit]:
        found: list[Unit] = []
        for part in UNIT_SEPARATORS.split(self.text(column)):
            name = part.strip()
            if not name:
                continue
            unit, problem = units.find(name)
            if unit is None:
                self.error(column, problem)
            elif unit not in found:
                found.append(unit)
        return found


def _read_rows(ws: Any, parsed: Parsed) -> tuple[dict[str, str], list[tuple[int, dict[str, Any]]]]:
    """Header row 1 matched by name in any order; data from row 2; blank rows skipped."""
    letters: dict[str, str] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    grid = ws.iter_rows(min_row=1, max_row=ws.max_row)
    header = next(grid, None)
    if header is None:
        return letters, rows
    by_index: dict[int, str] = {}
    for cell in header:
        letter = get_column_letter(cell.column)
        if _is_formula(cell):
            parsed.errors.append(HistoryError(1, letter, "", gettext("不允许公式。")))
            continue
        name = _as_text(cell.value).rstrip("*＊").strip()
        if name not in COLUMNS:
            continue
        if name in letters:
            message = gettext("列名“%(column)s”重复。") % {"column": name}
            parsed.errors.append(HistoryError(1, letter, name, message))
            continue
        letters[name] = letter
        by_index[cell.column] = name
    for column in REQUIRED:
        if column not in letters:
            message = gettext("缺少“%(column)s”列（第 1 行应为列名）。") % {"column": column}
            parsed.errors.append(HistoryError(1, "", column, message))
    if parsed.errors:
        return letters, rows
    for row in grid:
        if all(_is_blank(cell.value) for cell in row):
            continue
        number = row[0].row
        values: dict[str, Any] = {}
        for cell in row:
            name = by_index.get(cell.column, "")
            if _is_formula(cell):
                letter = get_column_letter(cell.column)
                parsed.errors.append(HistoryError(number, letter, name, gettext("不允许公式。")))
                if name:
                    values[name] = INVALID
            elif name:
                values[name] = cell.value
        rows.append((number, values))
        if len(rows) > MAX_ROWS:
            message = gettext("数据超过 %(count)d 行，请分批导入。") % {"count": MAX_ROWS}
            parsed.errors.append(HistoryError(None, "", "", message))
            return letters, []
    return letters, rows


def parse_history(data: bytes, owner: Unit, scheme: Scheme | None = None) -> Parsed:
    """Read an uploaded workbook and check every row against the owner's subtree; writes
    nothing."""
    parsed = Parsed()
    problem = check_container(data)
    if problem is not None:
        parsed.errors.append(HistoryError(None, "", "", problem))
        return parsed
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, XML errors…) for broken files
        parsed.errors.append(HistoryError(None, "", "", str(NOT_XLSX)))
        return parsed
    try:
        letters, rows = _read_rows(wb.worksheets[0], parsed)
    finally:
        wb.close()
    if not parsed.errors and not rows:
        parsed.errors.append(
            HistoryError(None, "", "", gettext("第一张工作表中没有可导入的数据。"))
        )
    if parsed.errors:
        return parsed
    units = _Units(owner)
    today = timezone.localdate()
    seen: dict[tuple[str, dt.date, int, str, str], int] = {}
    for number, values in rows:
        row = _Row(number, values, letters, parsed)
        record = _record(row, units, today)
        if record is None:
            continue
        key = _key(record.title, record.adopted_on, record.lead.pk, record.level, record.kind)
        if key in seen:
            row.error("标题", gettext("与第 %(row)d 行重复。") % {"row": seen[key]})
            continue
        seen[key] = number
        parsed.records.append(record)
    _refuse_imported(parsed, owner, letters, scheme)
    parsed.errors.sort(key=lambda e: (e.row or 0, e.column_letter))
    return parsed


def _record(row: _Row, units: _Units, today: dt.date) -> Record | None:
    issue_label = row.text("期号")
    title = row.text("标题")
    if title.startswith(SAMPLE_MARK):
        row.error("标题", gettext("这是模板中的示例行，请删除后再导入。"))
    level = row.choice("级别", LEVEL_BY_LABEL)
    kind = row.choice("载体", KIND_BY_LABEL)
    adopted_on = row.date("采用时间", today)
    leads = row.units("主报单位", units)
    if len(leads) > 1:
        row.error("主报单位", gettext("主报单位只能填一个，其余请填在“其他单位”。"))
    adopting_unit = row.text("采用单位")
    others = [u for u in row.units("其他单位", units) if not leads or u != leads[0]]
    note = row.text("备注")
    if row.failed or adopted_on is None or not leads:
        return None
    return Record(
        row.number,
        issue_label,
        title,
        level,
        kind,
        adopted_on,
        leads[0],
        adopting_unit,
        others,
        note,
    )


def _key(
    title: str, day: dt.date, lead: int, level: str, kind: str
) -> tuple[str, dt.date, int, str, str]:
    return (title.strip(), day, lead, level, kind)


def _refuse_imported(
    parsed: Parsed, owner: Unit, letters: dict[str, str], scheme: Scheme | None = None
) -> None:
    """A record imported before (same title, day, lead unit, level and carrier) is refused, so a
    workbook uploaded twice does not count twice."""
    if not parsed.records:
        return
    days = {r.adopted_on for r in parsed.records}
    earlier = {
        _key(title, day, lead, level, kind): batch_at
        for title, day, lead, level, kind, batch_at in HistoricAdoption.objects.filter(
            Q(batch__scheme=scheme) if scheme is not None else Q(batch__unit=owner),
            adopted_on__in=days,
        ).values_list(
            "title", "adopted_on", "lead_unit_id", "level", "publication_kind", "batch__at"
        )
    }
    for r in parsed.records:
        at = earlier.get(_key(r.title, r.adopted_on, r.lead.pk, r.level, r.kind))
        if at is not None:
            parsed.errors.append(
                HistoryError(
                    r.row,
                    letters.get("标题", ""),
                    "标题",
                    gettext("这条记录已在 %(day)s 导入过。")
                    % {"day": timezone.localtime(at).date().isoformat()},
                )
            )


# ---------------------------------------------------------------------------------------------
# Importing and scoring


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), ledger.local_tz())


def version_on(versions: Iterable[SchemeVersion], day: dt.date) -> SchemeVersion | None:
    """Among versions already read (one per record would be a query each), the one in force."""
    return next((v for v in versions if v.covers(day)), None)


def adopted_versions(scheme: Scheme) -> list[SchemeVersion]:
    return list(
        scheme.versions.filter(status=VersionStatus.ADOPTED, effective_from__isnull=False)
        .select_related("scheme__unit")
        .order_by("effective_from")
    )


def event_key(record_pk: int, n: int = 0) -> str:
    return f"h{record_pk}" if n == 0 else f"h{record_pk}/{n}"


def record_of(key: str) -> int | None:
    """The record an event key names (None for keys of other events)."""
    head = key.split("/", 1)[0]
    return int(head[1:]) if head.startswith("h") and head[1:].isdigit() else None


def facts_for(records: Iterable[HistoricAdoption]) -> list[engine.Fact]:
    """One adoption fact per credited unit of each record (主报 first), sharing the record's
    sources, so the engine splits a combined piece by the scheme's combined-credit rule (equal
    recorded shares), as it does for an adoption of several items. Event ids are h<record> for
    the 主报 unit and h<record>/<n> for the others. Item ids are negative, so they never meet a
    real item's id when mixed with loaded facts, and unique within the list: each record is an
    item of its own, so "highest level only" never compares two records (see `unlinked`)."""
    facts: list[engine.Fact] = []
    next_id = -1
    for r in records:
        units = [r.lead_unit, *r.other_units.all()]
        ids = list(range(next_id, next_id - len(units), -1))
        next_id -= len(units)
        shares = [100 // len(units)] * len(units)
        shares[0] += 100 - sum(shares)
        sources = tuple(
            engine.Source(item=i, origin_unit=u.code, share=s, lead_source=n == 0)
            for n, (i, u, s) in enumerate(zip(ids, units, shares, strict=True))
        )
        form = "combined" if len(units) > 1 else "whole"
        for n, (i, unit) in enumerate(zip(ids, units, strict=True)):
            facts.append(
                engine.Fact(
                    kind=engine.ADOPT,
                    event_id=event_key(r.pk, n),
                    at=_noon(r.adopted_on),
                    item_id=i,
                    origin_unit=unit.code,
                    adopting_level=r.level,
                    publication_kind=r.publication_kind,
                    form=form,
                    sources=sources if len(units) > 1 else (),
                )
            )
    return facts


def unlinked(entries: Iterable[engine.Entry]) -> list[engine.Entry]:
    """Entries ready for the ledger: those of imported records point at no item."""
    return [
        e._replace(item_id=None) if e.item_id is not None and e.item_id < 0 else e for e in entries
    ]


def historic_facts(scheme: Scheme, start: dt.datetime, end: dt.datetime) -> list[engine.Fact]:
    """The facts of the records the scheme's unit imported, adopted in [start, end): a recompute
    must replay them with the recorded events, or it reverses their entries."""
    tz = ledger.local_tz()
    records = (
        HistoricAdoption.objects.filter(
            batch__scheme=scheme,
            adopted_on__gte=start.astimezone(tz).date(),
            adopted_on__lte=end.astimezone(tz).date(),
        )
        .select_related("lead_unit")
        .prefetch_related("other_units")
        .order_by("id")
    )
    return [f for f in facts_for(records) if start <= f.at < end]


class _Line(NamedTuple):
    unit: str
    person: str
    points: Decimal
    category: str
    at: dt.datetime


def _window_seed(
    version: SchemeVersion, rules: engine.Scheme, facts: Sequence[engine.Fact]
) -> dict[tuple[str, str], Decimal] | None:
    """What the ledger already credited in the period-cap windows the records fall in, so a
    record imported into a month with recorded adoptions is capped like a live one."""
    tz = ledger.ALL_TIME.start.tzinfo
    keys = engine.cap_windows(rules, facts, tz)
    if not keys:
        return None
    moments = [f.at.astimezone(tz) for f in facts]
    start = engine.period_containing(rules.period_cap_per, min(moments)).start
    end = engine.period_containing(rules.period_cap_per, max(moments)).end
    lines = [
        _Line(code, "", points, category, at)
        for code, points, category, at in LedgerEntry.objects.filter(
            scheme_id=version.scheme_id,
            unit__code__in={unit for unit, _ in keys},
            person__isnull=True,
            category__in=engine.CAP_CATEGORIES,
            at__gte=start,
            at__lt=end,
        ).values_list("unit__code", "points", "category", "at")
    ]
    seed = engine.window_credit(rules, lines, tz)
    return {key: total for key, total in seed.items() if key in keys}


def score_records(version: SchemeVersion, records: Sequence[HistoricAdoption]) -> int:
    """Append the ledger entries of imported records under one version; returns the lines."""
    if not records:
        return 0
    rules = ledger.scheme_of(version)
    facts = facts_for(records)
    seed = _window_seed(version, rules, facts)
    entries = engine.score(rules, facts, ledger.ALL_TIME, window_seed=seed)
    return ledger.append(
        version,
        unlinked(entries),
        version.scheme.unit.path,
        {},
        ledger.local_tz(),
        item_kinds={},
    )


@transaction.atomic
def import_history(
    *, by: User, scheme: Scheme, file_name: str, data: bytes, ip: str | None = None
) -> HistoryImport:
    """Store and score every record of a workbook, or nothing: any wrong row raises
    HistoryRejected listing each error by row and column. Only managers of the scheme import;
    units are looked up in the scheme owner's subtree."""
    scheme = Scheme.objects.select_for_update().select_related("unit").get(pk=scheme.pk)
    if not access.can_manage_scheme(by, scheme):
        raise PermissionDenied(gettext("只有本单位的编辑或单位管理员可以导入往年采用记录。"))
    parsed = parse_history(data, scheme.unit, scheme)
    if not parsed.ok:
        raise HistoryRejected(parsed.errors)
    batch = HistoryImport.objects.create(
        scheme=scheme, unit=scheme.unit, file_name=file_name[:255], rows=len(parsed.records), by=by
    )
    made = HistoricAdoption.objects.bulk_create(
        [
            HistoricAdoption(
                batch=batch,
                issue_label=r.issue_label,
                title=r.title,
                level=r.level,
                publication_kind=r.kind,
                adopted_on=r.adopted_on,
                lead_unit=r.lead,
                adopting_unit=r.adopting_unit,
                note=r.note,
            )
            for r in parsed.records
        ],
        batch_size=1000,
    )
    Through = HistoricAdoption.other_units.through
    Through.objects.bulk_create(
        [
            Through(historicadoption_id=m.pk, unit_id=u.pk)
            for m, r in zip(made, parsed.records, strict=True)
            for u in r.others
        ],
        batch_size=2000,
    )
    saved = list(
        HistoricAdoption.objects.filter(batch=batch)
        .select_related("lead_unit")
        .prefetch_related("other_units")
        .order_by("id")
    )
    versions = adopted_versions(scheme)
    by_version: dict[int, list[HistoricAdoption]] = {}
    for record_ in saved:
        version = version_on(versions, record_.adopted_on)
        if version is not None:
            by_version.setdefault(version.pk, []).append(record_)
    lines = sum(score_records(v, by_version[v.pk]) for v in versions if v.pk in by_version)
    scored = sum(len(rs) for rs in by_version.values())
    record(
        "scoring.history_import",
        actor=by,
        role=f"manager@{scheme.unit.code}",
        ip=ip,
        obj=batch,
        unit_path=scheme.unit.path,
        after={
            "scheme": scheme.pk,
            "rows": len(saved),
            "scored": scored,
            "unscored": len(saved) - scored,
            "entries": lines,
        },
    )
    return batch


def summary(batch: HistoryImport, scheme: Scheme) -> Summary:
    """How many records of an import a version covers, and the points they earned (units only)."""
    days_of = dict(HistoricAdoption.objects.filter(batch=batch).values_list("pk", "adopted_on"))
    days = list(days_of.values())
    versions = adopted_versions(scheme)
    scored = sum(1 for day in days if version_on(versions, day) is not None)
    points = Decimal(0)
    if days:
        # Keys are h<record>[/<n>]: read the import's days of historic lines and keep its own.
        rows = LedgerEntry.objects.filter(
            scheme=scheme,
            person__isnull=True,
            event_key__startswith="h",
            at__gte=_noon(min(days)),
            at__lte=_noon(max(days)),
        ).values_list("event_key", "points")
        points = sum((p for key, p in rows if record_of(key) in days_of), Decimal(0))
    return Summary(len(days), scored, len(days) - scored, points)


# ---------------------------------------------------------------------------------------------
# The template


TEMPLATE_WIDTHS = (12, 40, 8, 12, 14, 18, 18, 28, 20)
TEMPLATE_NOTES = (
    ("", gettext_lazy("标题以“（示例）”开头的两行是示例，导入前请删除或改成真实记录。")),
    ("期号", gettext_lazy("选填，如 2025年第12期。")),
    ("标题", gettext_lazy("必填，不超过 200 字。")),
    ("级别", gettext_lazy("必填：中央（国家级）、省（省级）、市（市级）、县（县级）。")),
    ("载体", gettext_lazy("必填：专报、信息刊物、简报、网站、公众号（微信公众号）。")),
    ("采用时间", gettext_lazy("必填：日期单元格，或 2025-03-04、2025/3/4、2025年3月4日。")),
    ("主报单位", gettext_lazy("必填，一个单位：单位全称、简称或单位编码，须是本单位或下属单位。")),
    ("采用单位", gettext_lazy("选填，如 省委办公厅。")),
    ("其他单位", gettext_lazy("选填：综合稿件的其他报送单位，多个用“，”“、”“/”或“,”分隔。")),
    ("备注", gettext_lazy("选填，不超过 300 字。")),
    ("", gettext_lazy("第 1 行是列名，列的顺序不限，其他列会被忽略；单元格中不能有公式。")),
    ("", gettext_lazy("每次最多 %(rows)d 行；只要有一行有错，整个文件都不会导入。")),
)


def history_template(owner: Unit) -> bytes:
    """A workbook with the columns, two example rows naming real units, lists for 级别 and 载体,
    and a sheet of notes."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "采用记录"
    children = list(
        Unit.objects.filter(parent=owner, is_active=True).order_by("sort_order", "id")[:2]
    )
    first = children[0] if children else owner
    second = children[1] if len(children) > 1 else owner
    year = timezone.localdate().year - 1
    write_table(
        ws,
        COLUMNS,
        [
            (
                f"{year}年第12期",
                f"{SAMPLE_MARK}某县推行“一站式”服务的做法",
                "市级",
                "信息刊物",
                dt.date(year, 3, 4),
                first.short_name,
                owner.name,
                "",
                "",
            ),
            (
                f"{year}年第30期",
                f"{SAMPLE_MARK}综合稿件：基层治理情况",
                "省级",
                "专报",
                dt.date(year, 9, 18),
                first.short_name,
                "",
                f"{second.short_name}、{owner.code}",
                "",
            ),
        ],
        widths=TEMPLATE_WIDTHS,
    )
    levels = DataValidation(type="list", formula1='"中央,省级,市级,县级"', allow_blank=True)
    kinds = DataValidation(
        type="list", formula1='"专报,信息刊物,简报,网站,公众号"', allow_blank=True
    )
    ws.add_data_validation(levels)
    ws.add_data_validation(kinds)
    levels.add(f"C2:C{MAX_ROWS + 1}")
    kinds.add(f"D2:D{MAX_ROWS + 1}")
    notes = wb.create_sheet("说明")
    write_table(
        notes,
        (gettext("列"), gettext("说明")),
        [
            (column, str(text) % {"rows": MAX_ROWS} if "%(rows)" in str(text) else str(text))
            for column, text in TEMPLATE_NOTES
        ],
        widths=(12, 80),
    )
    return workbook_bytes(wb)
