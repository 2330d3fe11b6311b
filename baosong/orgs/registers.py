"""The unit and people register (台账) as .xlsx: import, template and export.

`parse_register` reads and checks a workbook without writing anything; `apply_register` creates
everything through workflow.py in one transaction and keeps nothing if any row fails, so an
import is all or nothing. The columns and rules are documented in docs/import.md.
"""

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext, gettext_lazy
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from baosong.audit.record import record
from baosong.lib.xlsx import CellValue, unneutralize, workbook_bytes, write_table
from baosong.orgs import access, workflow
from baosong.orgs.models import (
    Level,
    Membership,
    Role,
    Unit,
    User,
    code_validator,
    login_validator,
    mobile_validator,
)

UNIT_SHEET = "单位"
PERSON_SHEET = "人员"
UNIT_COLUMNS = ("单位编码", "单位全称", "单位简称", "上级单位编码", "层级", "排序")
UNIT_REQUIRED = ("单位编码", "单位全称", "单位简称", "层级")
PERSON_COLUMNS = ("登录名", "姓名", "手机", "邮箱", "所属单位编码", "角色", "起始日期")
PERSON_REQUIRED = ("登录名", "姓名", "所属单位编码", "角色")

# The Chinese words are the register's vocabulary whatever the interface language.
LEVEL_BY_LABEL: dict[str, str] = {
    "中央": Level.CENTRAL,
    "省": Level.PROVINCE,
    "市": Level.CITY,
    "县": Level.COUNTY,
    "乡镇": Level.TOWNSHIP,
    "科室": Level.INTERNAL,
}
LABEL_BY_LEVEL = {value: label for label, value in LEVEL_BY_LABEL.items()}
ROLE_BY_LABEL: dict[str, str] = {
    "信息员": Role.OFFICER,
    "通讯员": Role.CORRESPONDENT,
    "审核人": Role.REVIEWER,
    "编辑": Role.EDITOR,
    "单位管理员": Role.UNIT_ADMIN,
}
LABEL_BY_ROLE = {value: label for label, value in ROLE_BY_LABEL.items()}
ROLE_SEPARATORS = re.compile(r"[、，,/／]")
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")

# A real register has a dozen zip entries and a few MB of XML; anything far beyond is refused
# before openpyxl inflates it.
MAX_ZIP_ENTRIES = 500
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_DATA_ROWS = 10_000
SORT_ORDER_LIMIT = 9999

NOT_XLSX = gettext_lazy(
    "文件不是有效的 .xlsx 工作簿（可能是改了扩展名的其他文件），"
    "请用 Excel 或 WPS 另存为 .xlsx 后再上传。"
)


@dataclass(frozen=True)
class RegisterError:
    sheet: str
    row: int | None
    column_letter: str
    column_name: str
    message: str


@dataclass
class UnitRow:
    row: int
    code: str
    name: str
    short_name: str
    parent_code: str
    level: str
    sort_order: int


@dataclass
class PersonRow:
    row: int
    username: str
    real_name: str
    mobile: str
    email: str
    unit_code: str
    roles: list[str]
    start: dt.date | None
    existing: bool = False


@dataclass
class Register:
    """A checked workbook: unit rows parents first, person rows in sheet order, and every error."""

    units: list[UnitRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    errors: list[RegisterError] = field(default_factory=list)
    # sheet -> column name -> column letter, to place errors found while applying.
    letters: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    units_created: int = 0
    people_created: int = 0
    memberships_created: int = 0
    errors: list[RegisterError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# Who may ------------------------------------------------------------------------------------------


def actor_role(user: User) -> str:
    if user.platform_role:
        return str(user.platform_role)
    paths = access.scope_for(user).admin_paths
    return f"{Role.UNIT_ADMIN.value}@{paths[0]}" if paths else ""


def actor_unit_path(user: User) -> str:
    paths = access.scope_for(user).admin_paths
    return paths[0] if paths and not user.platform_role else ""


# Reading ------------------------------------------------------------------------------------------


class _Invalid:
    """Marks a cell already reported (a formula), so it is not reported again as missing."""


INVALID = _Invalid()


@dataclass
class _Sheet:
    name: str
    letters: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


class _Row:
    def __init__(
        self, sheet: _Sheet, row: int, values: dict[str, Any], errors: list[RegisterError]
    ) -> None:
        self.sheet, self.row, self.values, self.errors = sheet, row, values, errors
        self.failed = False

    def error(self, column: str, message: str) -> None:
        self.failed = True
        self.errors.append(
            RegisterError(
                self.sheet.name, self.row, self.sheet.letters.get(column, ""), column, message
            )
        )

    def text(self, column: str, required: bool = False, max_length: int | None = None) -> str:
        value = self.values.get(column)
        if value is INVALID:
            self.failed = True
            return ""
        result = _as_text(value)
        if required and not result:
            self.error(column, gettext("“%(column)s”不能为空。") % {"column": column})
        elif max_length is not None and len(result) > max_length:
            self.error(
                column,
                gettext("“%(column)s”不能超过 %(max)d 字。")
                % {"column": column, "max": max_length},
            )
        return result


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
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


def _check_container(data: bytes) -> str | None:
    """Refuse oversized files, non-zip files and zip bombs before any XML is parsed."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        return gettext("文件过大（%(size).1f MB），上限为 %(limit).1f MB。") % {
            "size": len(data) / 1048576,
            "limit": limit / 1048576,
        }
    if not data:
        return gettext("文件是空的。")
    if not data.startswith(b"PK\x03\x04"):
        return str(NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return str(NOT_XLSX)
    if len(entries) > MAX_ZIP_ENTRIES:
        return gettext("文件内部条目过多（%(count)d 个），不像正常的台账，已拒绝。") % {
            "count": len(entries)
        }
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED_BYTES:
        return gettext("文件解压后过大（约 %(size).0f MB，上限 %(limit).0f MB），已拒绝。") % {
            "size": total / 1048576,
            "limit": MAX_UNCOMPRESSED_BYTES / 1048576,
        }
    if "xl/workbook.xml" not in {entry.filename for entry in entries}:
        return str(NOT_XLSX)
    return None


def _read_sheet(
    ws: Any,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    errors: list[RegisterError],
) -> _Sheet | None:
    """Header row 1 matched by name in any order; data from row 2; blank rows skipped."""
    name = str(ws.title)
    sheet = _Sheet(name=name, letters={}, rows=[])
    grid = list(ws.iter_rows(min_row=1, max_row=ws.max_row))
    if not grid or all(_is_blank(cell.value) for row in grid for cell in row):
        return sheet
    header_by_index: dict[int, str] = {}
    failed = False
    for cell in grid[0]:
        letter = get_column_letter(cell.column)
        if _is_formula(cell):
            errors.append(RegisterError(name, 1, letter, "", gettext("不允许公式。")))
            failed = True
            continue
        header = _as_text(cell.value).rstrip("*＊").strip()
        if header not in columns:
            continue
        if header in sheet.letters:
            message = gettext("列名“%(column)s”重复。") % {"column": header}
            errors.append(RegisterError(name, 1, letter, header, message))
            failed = True
            continue
        sheet.letters[header] = letter
        header_by_index[cell.column] = header
    for column in required:
        if column not in sheet.letters:
            errors.append(
                RegisterError(
                    name,
                    1,
                    "",
                    column,
                    gettext("缺少“%(column)s”列（第 1 行应为列名）。") % {"column": column},
                )
            )
            failed = True
    if failed:
        return None
    for row in grid[1:]:
        if all(_is_blank(cell.value) for cell in row):
            continue
        number = row[0].row
        values: dict[str, Any] = {}
        for cell in row:
            header = header_by_index.get(cell.column, "")
            if _is_formula(cell):
                errors.append(
                    RegisterError(
                        name,
                        number,
                        get_column_letter(cell.column),
                        header,
                        gettext("不允许公式。"),
                    )
                )
                if header:
                    values[header] = INVALID
            elif header:
                values[header] = cell.value
        sheet.rows.append((number, values))
        if len(sheet.rows) > MAX_DATA_ROWS:
            errors.append(
                RegisterError(
                    name,
                    None,
                    "",
                    "",
                    gettext("数据超过 %(count)d 行，请分批导入。") % {"count": MAX_DATA_ROWS},
                )
            )
            return None
    return sheet


def parse_register(data: bytes) -> Register:
    """Read an uploaded workbook and check every cell and row; nothing is written."""
    register = Register()
    problem = _check_container(data)
    if problem is not None:
        register.errors.append(RegisterError("", None, "", "", problem))
        return register
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=False, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, XML errors…) for broken files
        register.errors.append(RegisterError("", None, "", "", str(NOT_XLSX)))
        return register
    if UNIT_SHEET not in wb.sheetnames and PERSON_SHEET not in wb.sheetnames:
        register.errors.append(
            RegisterError(
                "",
                None,
                "",
                "",
                gettext("工作簿中没有“%(units)s”或“%(people)s”工作表，请使用导入模板。")
                % {"units": UNIT_SHEET, "people": PERSON_SHEET},
            )
        )
        return register
    errors = register.errors
    units = (
        _read_sheet(wb[UNIT_SHEET], UNIT_COLUMNS, UNIT_REQUIRED, errors)
        if UNIT_SHEET in wb.sheetnames
        else None
    )
    people = (
        _read_sheet(wb[PERSON_SHEET], PERSON_COLUMNS, PERSON_REQUIRED, errors)
        if PERSON_SHEET in wb.sheetnames
        else None
    )
    wb.close()
    if not errors and not (units and units.rows) and not (people and people.rows):
        errors.append(
            RegisterError(
                "",
                None,
                "",
                "",
                gettext("工作簿中没有可导入的数据：“%(units)s”和“%(people)s”工作表都是空的。")
                % {"units": UNIT_SHEET, "people": PERSON_SHEET},
            )
        )
        return register
    sheet_units: dict[str, UnitRow] = {}
    if units is not None:
        register.letters[UNIT_SHEET] = units.letters
        sheet_units = _check_units(units, register)
    if people is not None:
        register.letters[PERSON_SHEET] = people.letters
        _check_people(people, sheet_units, units, register)
    order = {"": 0, UNIT_SHEET: 1, PERSON_SHEET: 2}
    register.errors.sort(key=lambda e: (order.get(e.sheet, 3), e.row or 0))
    return register


# Units --------------------------------------------------------------------------------------------


def _unit_row(row: _Row) -> UnitRow:
    code = row.text("单位编码", required=True)
    if code:
        try:
            code_validator(code)
        except ValidationError:
            row.error(
                "单位编码", gettext("单位编码只能包含字母、数字、下划线和连字符，最长 32 位。")
            )
    name = row.text("单位全称", required=True, max_length=120)
    short_name = row.text("单位简称", required=True, max_length=40)
    parent_code = row.text("上级单位编码")
    if parent_code and parent_code == code:
        row.error("上级单位编码", gettext("上级单位不能是本单位。"))
    level_text = row.text("层级", required=True)
    level = LEVEL_BY_LABEL.get(level_text.removesuffix("级"), "")
    if level_text and not level:
        row.error(
            "层级",
            gettext("未知层级“%(level)s”，可选：%(choices)s。")
            % {"level": level_text, "choices": "、".join(LEVEL_BY_LABEL)},
        )
    sort_order = _sort_order(row)
    return UnitRow(row.row, code, name, short_name, parent_code, level, sort_order)


def _sort_order(row: _Row) -> int:
    value = row.values.get("排序")
    if value is INVALID or _is_blank(value):
        return 0
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float | str) and re.fullmatch(r"[+-]?\d+", _as_text(value)):
        number = int(_as_text(value))
    if number is None or abs(number) > SORT_ORDER_LIMIT:
        row.error(
            "排序",
            gettext("排序应为 -%(limit)d 到 %(limit)d 之间的整数。") % {"limit": SORT_ORDER_LIMIT},
        )
        return 0
    return number


def _check_units(sheet: _Sheet, register: Register) -> dict[str, UnitRow]:
    errors = register.errors
    rows: list[tuple[UnitRow, _Row]] = []
    first_row: dict[str, int] = {}
    for number, values in sheet.rows:
        row = _Row(sheet, number, values, errors)
        unit = _unit_row(row)
        if unit.code in first_row:
            row.error(
                "单位编码",
                gettext("单位编码“%(code)s”与第 %(row)d 行重复。")
                % {"code": unit.code, "row": first_row[unit.code]},
            )
        elif unit.code:
            first_row[unit.code] = number
        rows.append((unit, row))
    in_sheet = {unit.code: unit for unit, _ in rows if unit.code}
    wanted = set(in_sheet) | {unit.parent_code for unit, _ in rows if unit.parent_code}
    in_db = {u.code: u for u in Unit.objects.filter(code__in=wanted)}
    for unit, row in rows:
        if unit.code in in_db and first_row.get(unit.code) == unit.row:
            row.error(
                "单位编码", gettext("单位编码“%(code)s”在系统中已存在。") % {"code": unit.code}
            )
        _check_parent(unit, row, in_sheet, in_db)
    valid = {unit.code: unit for unit, row in rows if not row.failed}
    register.units = _parents_first(valid, rows)
    return in_sheet


def _check_parent(
    unit: UnitRow, row: _Row, in_sheet: dict[str, UnitRow], in_db: dict[str, Unit]
) -> None:
    parent: Unit | None = None
    if unit.parent_code and unit.parent_code != unit.code:
        if unit.parent_code in in_sheet:
            parent_level = in_sheet[unit.parent_code].level
            if not parent_level:
                return
            parent = Unit(level=parent_level)
        elif unit.parent_code in in_db:
            parent = in_db[unit.parent_code]
            if not parent.is_active:
                row.error(
                    "上级单位编码",
                    gettext("上级单位“%(code)s”已停用。") % {"code": unit.parent_code},
                )
                return
        else:
            row.error(
                "上级单位编码",
                gettext("上级单位编码“%(code)s”在本表和系统中都不存在。")
                % {"code": unit.parent_code},
            )
            return
    if not unit.level:
        return
    try:
        workflow._check_level(parent, unit.level)
    except ValidationError as exc:
        row.error("层级", " ".join(exc.messages))


def _parents_first(valid: dict[str, UnitRow], rows: list[tuple[UnitRow, _Row]]) -> list[UnitRow]:
    """Units ordered so that a parent in the sheet is always created before its children."""
    ordered: list[UnitRow] = []
    placed: set[str] = set()
    pending = [unit for unit, _ in rows]
    while pending:
        ready = [u for u in pending if u.parent_code not in valid or u.parent_code in placed]
        if not ready:
            break
        ordered.extend(ready)
        placed.update(u.code for u in ready)
        ready_rows = {u.row for u in ready}
        pending = [u for u in pending if u.row not in ready_rows]
    stuck = {u.row for u in pending}
    for unit, row in rows:
        if unit.row in stuck:
            row.error("上级单位编码", gettext("上级单位关系形成循环。"))
    return ordered


# People -------------------------------------------------------------------------------------------


def _person_row(row: _Row) -> PersonRow:
    username = row.text("登录名", required=True)
    if username:
        try:
            login_validator(username)
        except ValidationError:
            row.error(
                "登录名", gettext("登录名只能包含字母、数字、点、下划线和连字符，2 至 64 位。")
            )
    real_name = row.text("姓名", required=True, max_length=40)
    mobile = row.text("手机")
    if mobile:
        try:
            mobile_validator(mobile)
        except ValidationError:
            row.error(
                "手机",
                gettext("手机号码“%(mobile)s”不正确，应为 11 位中国大陆手机号。")
                % {"mobile": mobile},
            )
    email = row.text("邮箱", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            row.error("邮箱", gettext("邮箱“%(email)s”格式不正确。") % {"email": email})
    unit_code = row.text("所属单位编码", required=True)
    roles = _roles(row)
    start = _date(row, "起始日期")
    return PersonRow(row.row, username, real_name, mobile, email, unit_code, roles, start)


def _roles(row: _Row) -> list[str]:
    text = row.text("角色", required=True)
    roles: list[str] = []
    for part in ROLE_SEPARATORS.split(text):
        label = part.strip()
        if not label:
            continue
        role = ROLE_BY_LABEL.get(label)
        if role is None:
            row.error(
                "角色",
                gettext("未知角色“%(role)s”，可选：%(choices)s。")
                % {"role": label, "choices": "、".join(ROLE_BY_LABEL)},
            )
        elif role not in roles:
            roles.append(role)
    if text and not roles and not row.failed:
        row.error("角色", gettext("“%(column)s”不能为空。") % {"column": "角色"})
    return roles


def _date(row: _Row, column: str) -> dt.date | None:
    value = row.values.get(column)
    if value is INVALID or _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    match = DATE_PATTERN.match(_as_text(value))
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    row.error(
        column,
        gettext("日期“%(date)s”不正确，应写成 2026-01-05 这样的日期。") % {"date": _as_text(value)},
    )
    return None


def _check_people(
    sheet: _Sheet, sheet_units: dict[str, UnitRow], unit_sheet: _Sheet | None, register: Register
) -> None:
    errors = register.errors
    rows: list[tuple[PersonRow, _Row]] = []
    for number, values in sheet.rows:
        row = _Row(sheet, number, values, errors)
        rows.append((_person_row(row), row))
    codes = {person.unit_code for person, _ in rows if person.unit_code} - set(sheet_units)
    in_db = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    logins = {person.username.lower() for person, _ in rows if person.username}
    existing = {
        u.login: u for u in User.objects.annotate(login=Lower("username")).filter(login__in=logins)
    }
    first: dict[str, PersonRow] = {}
    for person, row in rows:
        code = person.unit_code
        if code and code not in sheet_units:
            if code not in in_db:
                row.error(
                    "所属单位编码",
                    gettext("所属单位编码“%(code)s”在本表和系统中都不存在。") % {"code": code},
                )
            elif not in_db[code].is_active:
                row.error("所属单位编码", gettext("所属单位“%(code)s”已停用。") % {"code": code})
        key = person.username.lower()
        if not key:
            continue
        earlier = first.get(key)
        if earlier is None:
            first[key] = person
        elif earlier.unit_code == person.unit_code:
            row.error(
                "登录名",
                gettext(
                    "登录名“%(username)s”与第 %(row)d 行重复（同一单位的多个角色请写在同一行）。"
                )
                % {"username": person.username, "row": earlier.row},
            )
        elif (earlier.real_name, earlier.mobile, earlier.email) != (
            person.real_name,
            person.mobile,
            person.email,
        ):
            row.error(
                "登录名",
                gettext("登录名“%(username)s”在第 %(row)d 行已出现，但姓名、手机或邮箱不一致。")
                % {"username": person.username, "row": earlier.row},
            )
        account = existing.get(key)
        if account is not None:
            person.existing = True
            if account.real_name != person.real_name:
                row.error(
                    "姓名",
                    gettext("登录名“%(username)s”已被系统中另一位人员使用。")
                    % {"username": person.username},
                )
    register.people = [person for person, _ in rows]


# Applying -----------------------------------------------------------------------------------------

UNIT_FIELDS = {
    "code": "单位编码",
    "name": "单位全称",
    "short_name": "单位简称",
    "level": "层级",
    "parent": "上级单位编码",
}
PERSON_FIELDS = {
    "username": "登录名",
    "real_name": "姓名",
    "mobile": "手机",
    "email": "邮箱",
    "unit": "所属单位编码",
    "role": "角色",
    "start": "起始日期",
    "end": "起始日期",
}


class _Rollback(Exception):
    pass


class _Applier:
    def __init__(self, register: Register, by: User | None, ip: str | None) -> None:
        self.register, self.by, self.ip = register, by, ip
        self.result = ImportResult()
        self.units: dict[str, Unit] = {}
        self.failed_units: set[str] = set()

    def error(self, sheet: str, row: int, column: str, message: str) -> None:
        letter = self.register.letters.get(sheet, {}).get(column, "")
        self.result.errors.append(RegisterError(sheet, row, letter, column, message))

    def workflow_error(
        self, sheet: str, row: int, exc: ValidationError, fields: dict[str, str], default: str
    ) -> None:
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                for message in messages:
                    self.error(sheet, row, fields.get(name, default), message)
        else:
            for message in exc.messages:
                self.error(sheet, row, default, message)

    def unit_for(self, code: str) -> Unit | None:
        if code not in self.units:
            unit = Unit.objects.filter(code=code).first()
            if unit is not None:
                self.units[code] = unit
        return self.units.get(code)

    def create_units(self) -> None:
        for row in self.register.units:
            if row.parent_code in self.failed_units:
                self.failed_units.add(row.code)
                self.error(
                    UNIT_SHEET,
                    row.row,
                    "上级单位编码",
                    gettext("上级单位“%(code)s”未能导入。") % {"code": row.parent_code},
                )
                continue
            parent = self.unit_for(row.parent_code) if row.parent_code else None
            try:
                unit = workflow.create_unit(
                    by=self.by,
                    parent=parent,
                    code=row.code,
                    name=row.name,
                    short_name=row.short_name,
                    level=row.level,
                    sort_order=row.sort_order,
                    ip=self.ip,
                )
            except PermissionDenied as exc:
                self.failed_units.add(row.code)
                self.error(
                    UNIT_SHEET, row.row, "上级单位编码", str(exc) or gettext("无权新建该单位。")
                )
            except ValidationError as exc:
                self.failed_units.add(row.code)
                self.workflow_error(UNIT_SHEET, row.row, exc, UNIT_FIELDS, "单位编码")
            else:
                self.units[unit.code] = unit
                self.result.units_created += 1

    def create_people(self) -> None:
        people: dict[str, User] = {}
        for row in self.register.people:
            if row.unit_code in self.failed_units:
                self.error(
                    PERSON_SHEET,
                    row.row,
                    "所属单位编码",
                    gettext("所属单位“%(code)s”未能导入。") % {"code": row.unit_code},
                )
                continue
            unit = self.unit_for(row.unit_code)
            if unit is None:
                self.error(PERSON_SHEET, row.row, "所属单位编码", gettext("所属单位不存在。"))
                continue
            try:
                people[row.username.lower()] = self.create_person(
                    row, unit, people.get(row.username.lower())
                )
            except PermissionDenied as exc:
                self.error(
                    PERSON_SHEET, row.row, "所属单位编码", str(exc) or gettext("无权添加该人员。")
                )
            except ValidationError as exc:
                self.workflow_error(PERSON_SHEET, row.row, exc, PERSON_FIELDS, "登录名")

    @transaction.atomic
    def create_person(self, row: PersonRow, unit: Unit, person: User | None) -> User:
        roles = list(row.roles)
        if person is None and row.existing:
            person = User.objects.get(username__iexact=row.username)
        if person is None:
            person = workflow.create_person(
                by=self.by,
                username=row.username,
                real_name=row.real_name,
                mobile=row.mobile,
                email=row.email,
                unit=unit,
                role=roles.pop(0),
                start=row.start,
                ip=self.ip,
            )
            self.result.people_created += 1
            self.result.memberships_created += 1
        for role in roles:
            workflow.add_membership(
                by=self.by, person=person, unit=unit, role=role, start=row.start, ip=self.ip
            )
            self.result.memberships_created += 1
        return person

    def record(self) -> None:
        result = self.result
        by = self.by
        record(
            "register.import",
            actor=by,
            role=actor_role(by) if by else workflow.SYSTEM,
            ip=self.ip,
            object_type="register",
            object_repr=(
                f"导入台账：单位 {result.units_created} 个，人员 {result.people_created} 名，"
                f"任职 {result.memberships_created} 条"
            ),
            unit_path=actor_unit_path(by) if by else "",
            after={
                "units": result.units_created,
                "people": result.people_created,
                "memberships": result.memberships_created,
                "unit_codes": [row.code for row in self.register.units][:500],
                "logins": sorted({row.username for row in self.register.people})[:500],
            },
        )


def apply_register(register: Register, *, by: User | None, ip: str | None = None) -> ImportResult:
    """Create the register's units (parents first) and people through the workflow, in one
    transaction; if any row is refused — including for lack of permission — nothing is kept."""
    if register.errors:
        return ImportResult(errors=list(register.errors))
    applier = _Applier(register, by, ip)
    try:
        with transaction.atomic():
            applier.create_units()
            applier.create_people()
            if applier.result.errors:
                raise _Rollback
            applier.record()
    except _Rollback:
        return ImportResult(errors=applier.result.errors)
    return applier.result


# Writing ------------------------------------------------------------------------------------------

UNIT_WIDTHS = (16, 36, 20, 16, 10, 8)
PERSON_WIDTHS = (18, 12, 15, 28, 16, 24, 12)
TEXT_COLUMNS = {UNIT_SHEET: ("A", "D"), PERSON_SHEET: ("A", "C", "E")}


def _new_workbook() -> Any:
    wb = openpyxl.Workbook()
    wb.active.title = UNIT_SHEET
    wb.create_sheet(PERSON_SHEET)
    return wb


def _unit_cells(unit: Unit) -> list[CellValue]:
    return [
        unit.code,
        unit.name,
        unit.short_name,
        unit.parent.code if unit.parent else "",
        LABEL_BY_LEVEL.get(unit.level, unit.level),
        unit.sort_order,
    ]


TEMPLATE_NOTES = (
    gettext_lazy("“单位”和“人员”两张工作表各有一行示例，导入前请删除或改成真实数据。"),
    gettext_lazy("第 1 行是列名，列的顺序可以调整；带 * 的列名也能识别。空行会被忽略。"),
    gettext_lazy(
        "单位：单位编码、单位全称、单位简称、层级必填；层级可选 中央、省、市、县、乡镇、科室。"
    ),
    gettext_lazy(
        "单位：上级单位编码可以是本表中的单位，也可以是系统中已有的单位；留空表示顶级单位（仅系统管理员）。"
    ),
    gettext_lazy("人员：登录名、姓名、所属单位编码、角色必填。"),
    gettext_lazy("人员：角色可选 信息员、通讯员、审核人、编辑、单位管理员，多个用“、”分隔。"),
    gettext_lazy("人员：手机为 11 位中国大陆手机号；起始日期写成 2026-01-05，留空为导入当天。"),
    gettext_lazy("同一人在多个单位任职时，每个单位写一行，姓名、手机、邮箱保持一致。"),
    gettext_lazy("单元格中不能有公式。任何一行有错，整个文件都不会导入。"),
)


def register_template() -> bytes:
    """An empty register with one example row per sheet and a sheet of instructions."""
    wb = _new_workbook()
    units, people = wb[UNIT_SHEET], wb[PERSON_SHEET]
    write_table(
        units,
        UNIT_COLUMNS,
        [["EX-COUNTY", "示例县委组织部", "示例县", "EX-CITY", "县", 10]],
        UNIT_WIDTHS,
    )
    write_table(
        people,
        PERSON_COLUMNS,
        [
            [
                "zhangsan",
                "张三",
                "13800138000",
                "zhangsan@example.com",
                "EX-COUNTY",
                "信息员、审核人",
                dt.date(2026, 1, 1),
            ]
        ],
        PERSON_WIDTHS,
    )
    for ws in (units, people):
        for letter in TEXT_COLUMNS[ws.title]:
            ws.column_dimensions[letter].number_format = "@"
    levels = DataValidation(type="list", formula1=f'"{",".join(LEVEL_BY_LABEL)}"', allow_blank=True)
    levels.error = gettext("请选择层级：%(choices)s") % {"choices": "、".join(LEVEL_BY_LABEL)}
    units.add_data_validation(levels)
    levels.add(f"E2:E{MAX_DATA_ROWS + 1}")
    notes = wb.create_sheet("说明")
    write_table(notes, ("说明",), [[str(line)] for line in TEMPLATE_NOTES], (100,))
    return workbook_bytes(wb)


@dataclass
class RegisterRows:
    units: list[list[CellValue]]
    people: list[list[CellValue]]

    @property
    def people_count(self) -> int:
        return len({row[0] for row in self.people})


def register_rows(units: QuerySet[Unit], people: QuerySet[User]) -> RegisterRows:
    """The active units and the current roles of the active people in them, in the import shape:
    one row per person and unit, the roles held there joined with 、."""
    unit_rows = list(units.filter(is_active=True).select_related("parent").order_by("path"))
    memberships = (
        Membership.objects.current()
        .filter(
            user__in=people.filter(is_active=True),
            unit__in=units.filter(is_active=True).values("pk"),
        )
        .select_related("user", "unit")
        .order_by("unit__path", "user__username", "start")
    )
    grouped: dict[tuple[int, int], list[Membership]] = {}
    for membership in memberships:
        grouped.setdefault((membership.unit_id, membership.user_id), []).append(membership)
    role_order = list(LABEL_BY_ROLE)
    person_rows: list[list[CellValue]] = []
    for group in grouped.values():
        first = group[0]
        roles = sorted({m.role for m in group}, key=role_order.index)
        person_rows.append(
            [
                first.user.username,
                first.user.real_name,
                first.user.mobile,
                first.user.email,
                first.unit.code,
                "、".join(LABEL_BY_ROLE[role] for role in roles),
                min(m.start for m in group),
            ]
        )
    return RegisterRows(units=[_unit_cells(unit) for unit in unit_rows], people=person_rows)


def register_workbook(rows: RegisterRows) -> bytes:
    wb = _new_workbook()
    write_table(wb[UNIT_SHEET], UNIT_COLUMNS, rows.units, UNIT_WIDTHS)
    write_table(wb[PERSON_SHEET], PERSON_COLUMNS, rows.people, PERSON_WIDTHS)
    return workbook_bytes(wb)


def export_register(units: QuerySet[Unit], people: QuerySet[User]) -> bytes:
    """The register as .xlsx, every text cell neutralized so Excel never evaluates it."""
    return register_workbook(register_rows(units, people))
