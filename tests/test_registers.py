"""Register import and export (.xlsx): validation, all-or-nothing import, export, permissions."""

import datetime as dt
import io
import time
import zipfile
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from baosong.audit.models import Event
from baosong.orgs import registers, workflow
from baosong.orgs.models import Level, Membership, Role, Unit, User
from baosong.orgs.registers import (
    PERSON_COLUMNS,
    PERSON_SHEET,
    UNIT_COLUMNS,
    UNIT_SHEET,
    RegisterError,
)
from conftest import World, client_for, make_person, make_unit

IMPORT_URL = "/registers/import/"
TEMPLATE_URL = "/registers/template.xlsx"
EXPORT_URL = "/registers/export.xlsx"

Rows = list[list[Any]]


def workbook(
    units: Rows | None = None,
    people: Rows | None = None,
    unit_headers: tuple[str, ...] | list[str] = UNIT_COLUMNS,
    person_headers: tuple[str, ...] | list[str] = PERSON_COLUMNS,
) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = UNIT_SHEET
    if units is not None:
        ws.append(list(unit_headers))
        for row in units:
            ws.append(row)
    ws = wb.create_sheet(PERSON_SHEET)
    if people is not None:
        ws.append(list(person_headers))
        for row in people:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client: Client, data: bytes, name: str = "台账.xlsx") -> Any:
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data)})


def counts() -> tuple[int, int, int, int]:
    return (
        Unit.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Event.objects.count(),
    )


def where(errors: list[RegisterError]) -> set[tuple[str, int | None, str]]:
    return {(e.sheet, e.row, e.column_letter) for e in errors}


def sheet_rows(ws: Any) -> list[list[Any]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


# A good import ------------------------------------------------------------------------------------


def test_unit_admin_imports_units_and_people_of_own_subtree(world: World) -> None:
    client = client_for(world.unit_admin_city)
    before = Event.objects.count()
    data = workbook(
        units=[
            # The child comes first: parents are created first whatever the row order.
            ["CA3-T1", "东岭镇党委", "东岭镇", "CA3", "乡镇", 2],
            ["CA3", "新安县委组织部", "新安县", "CA", "县", 1],
        ],
        people=[
            [
                "zhangsan",
                "张三",
                "13800138000",
                "zs@example.com",
                "CA3",
                "信息员、审核人",
                "2026-01-05",
            ],
            ["lisi", "李四", 13900139000, "", "CA3-T1", "通讯员", None],
            ["officer_county_a", "officer_county_a", "", "", "CA3", "编辑", None],
        ],
    )

    response = upload(client, data)

    assert response.status_code == 200
    body = response.content.decode()
    assert "导入成功" in body and "新建单位 2 个，新建人员 2 名，新增任职 4 条" in body
    county = Unit.objects.get(code="CA3")
    township = Unit.objects.get(code="CA3-T1")
    assert county.parent == world.city_a and county.level == Level.COUNTY
    assert county.sort_order == 1
    assert township.parent == county and township.level == Level.TOWNSHIP
    zhangsan = User.objects.get(username="zhangsan")
    assert (zhangsan.real_name, zhangsan.mobile, zhangsan.email) == (
        "张三",
        "13800138000",
        "zs@example.com",
    )
    assert not zhangsan.has_usable_password()
    assert set(zhangsan.memberships.values_list("unit__code", "role", "start")) == {
        ("CA3", Role.OFFICER, dt.date(2026, 1, 5)),
        ("CA3", Role.REVIEWER, dt.date(2026, 1, 5)),
    }
    assert User.objects.get(username="lisi").mobile == "13900139000"
    assert world.officer_county_a.memberships.filter(unit=county, role=Role.EDITOR).exists()
    actions = [e.action for e in Event.objects.order_by("id")][before:]
    assert actions.count("unit.create") == 2
    assert actions.count("person.create") == 2
    assert actions.count("membership.create") == 4
    assert actions[-1] == "register.import"
    summary = Event.objects.get(action="register.import")
    assert summary.actor == world.unit_admin_city
    assert summary.actor_role == f"unit_admin@{world.city_a.path}"
    assert summary.after is not None and summary.after["units"] == 2
    assert summary.after["people"] == 2 and summary.after["memberships"] == 4


def test_the_example_in_the_docs_imports(world: World) -> None:
    data = workbook(
        units=[
            ["CA3", "新安县委组织部", "新安县", "CA", "县", 1],
            ["CA3-T1", "东岭镇党委", "东岭镇", "CA3", "乡镇", 1],
            ["CA3-OFF", "新安县委组织部办公室", "办公室", "CA3", "科室", 2],
        ],
        people=[
            [
                "zhangsan",
                "张三",
                "13800138000",
                "zhangsan@example.com",
                "CA3",
                "信息员、审核人",
                "2026-01-05",
            ],
            ["lisi", "李四", "13900139000", None, "CA3-T1", "通讯员", None],
            ["lisi", "李四", "13900139000", None, "CA3", "编辑", "2026-02-01"],
        ],
    )

    result = registers.apply_register(registers.parse_register(data), by=world.unit_admin_city)

    assert result.ok, result.errors
    assert (result.units_created, result.people_created, result.memberships_created) == (3, 2, 4)
    assert set(
        Membership.objects.filter(user__username="lisi").values_list("unit__code", "role")
    ) == {
        ("CA3-T1", Role.CORRESPONDENT),
        ("CA3", Role.EDITOR),
    }


def test_text_starting_with_equals_is_refused_even_when_not_a_formula(world: World) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = UNIT_SHEET
    ws.append(list(UNIT_COLUMNS))
    ws.append(["CA3", "新安县委组织部", "新安县", "CA", "县", 1])
    ws["C2"].value = "=cmd|' /C calc'!A0"
    ws["C2"].data_type = "s"
    buffer = io.BytesIO()
    wb.save(buffer)
    reread = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert reread[UNIT_SHEET]["C2"].data_type == "s"

    errors = registers.parse_register(buffer.getvalue()).errors

    assert [(e.row, e.column_letter, e.column_name, e.message) for e in errors] == [
        (2, "C", "单位简称", "不允许公式。")
    ]


def test_headers_in_any_order_blank_rows_and_aliases_are_accepted(world: World) -> None:
    data = workbook(
        units=[
            [None, None, None, None, None, None],
            ["县级", "CA3", "新安县", "CA", "新安县委组织部", "  "],
        ],
        unit_headers=["层级", "单位编码*", "单位简称", "上级单位编码", "单位全称", "排序"],
        people=[
            ["信息员，审核人/编辑", "王五", "CA3", "wangwu"],
            ["", "", "", ""],
        ],
        person_headers=["角色", "姓名", "所属单位编码", "登录名"],
    )

    register = registers.parse_register(data)

    assert register.errors == []
    assert [(u.code, u.level, u.sort_order) for u in register.units] == [("CA3", "county", 0)]
    (person,) = register.people
    assert person.roles == [Role.OFFICER, Role.REVIEWER, Role.EDITOR]
    assert person.start is None and person.row == 2
    result = registers.apply_register(register, by=world.unit_admin_city)
    assert result.ok
    assert Membership.objects.filter(user__username="wangwu").count() == 3


# Bad rows: everything reported, nothing imported --------------------------------------------------


def test_bad_rows_are_all_reported_with_place_and_nothing_is_imported(world: World) -> None:
    client = client_for(world.unit_admin_city)
    data = workbook(
        units=[
            ["CA3", "新安县委组织部", "新安县", "CA", "县", 1],  # fine on its own
            ["CA4", "无上级县委组织部", "无上级县", "NOPE", "县", 2],  # missing parent
            ["CA1", "重复县委组织部", "重复县", "CA", "县", 3],  # code already in the DB
            ["CA3", "再次新安县", "再次新安", "CA", "县", 4],  # duplicate within the sheet
            ["CA5", "层级错误", "层级错误", "CA", "省", 5],  # province under a city
            ["CA6", "未知层级", "未知层级", "CA", "区", 6],  # unknown level
        ],
        people=[
            ["zhangsan", "张三", "12345", "", "CA3", "信息员", None],  # bad mobile
            ["lisi", '=HYPERLINK("http://x","y")', "", "", "CA3", "信息员", None],  # formula
            ["wangwu", "王五", "", "not-an-email", "CA3", "局长", "2026-13-40"],
            ["", "无名", "", "", "CA3", "信息员", None],  # missing login
        ],
    )
    before = counts()

    response = upload(client, data)

    assert response.status_code == 200
    assert counts() == before
    body = response.content.decode()
    assert "未导入任何数据" in body and "导入成功" not in body
    assert "不允许公式" in body and "NOPE" in body
    register = registers.parse_register(data)
    found = where(register.errors)
    assert {
        (UNIT_SHEET, 3, "D"),  # 上级单位编码 NOPE
        (UNIT_SHEET, 4, "A"),  # CA1 exists
        (UNIT_SHEET, 5, "A"),  # CA3 again
        (UNIT_SHEET, 6, "E"),  # 省 under 市
        (UNIT_SHEET, 7, "E"),  # 区
        (PERSON_SHEET, 2, "C"),  # mobile
        (PERSON_SHEET, 3, "B"),  # formula
        (PERSON_SHEET, 4, "D"),  # email
        (PERSON_SHEET, 4, "F"),  # role
        (PERSON_SHEET, 4, "G"),  # date
        (PERSON_SHEET, 5, "A"),  # login missing
    } <= found
    messages = {(e.sheet, e.row, e.column_name): e.message for e in register.errors}
    assert "NOPE" in messages[(UNIT_SHEET, 3, "上级单位编码")]
    assert "已存在" in messages[(UNIT_SHEET, 4, "单位编码")]
    assert "第 2 行重复" in messages[(UNIT_SHEET, 5, "单位编码")]
    assert "11 位" in messages[(PERSON_SHEET, 2, "手机")]
    assert messages[(PERSON_SHEET, 3, "姓名")] == "不允许公式。"
    assert "不能为空" in messages[(PERSON_SHEET, 5, "登录名")]
    # The row with a formula is not also reported as missing its name.
    formula_row = [e.message for e in register.errors if (e.sheet, e.row) == (PERSON_SHEET, 3)]
    assert formula_row == ["不允许公式。"]


def test_duplicate_login_in_same_unit_or_with_different_details_is_refused(world: World) -> None:
    data = workbook(
        people=[
            ["zhangsan", "张三", "", "", "CA1", "信息员", None],
            ["zhangsan", "张三", "", "", "CA1", "审核人", None],
            ["ZhangSan", "张叁", "", "", "CA2", "信息员", None],
            ["officer_county_a", "别人", "", "", "CA2", "信息员", None],
        ]
    )

    errors = registers.parse_register(data).errors

    assert where(errors) == {(PERSON_SHEET, 3, "A"), (PERSON_SHEET, 4, "A"), (PERSON_SHEET, 5, "B")}


def test_cycle_and_internal_root_are_refused(db: None) -> None:
    data = workbook(
        units=[
            ["A", "甲", "甲", "B", "科室", 0],
            ["B", "乙", "乙", "A", "科室", 0],
            ["K", "科室", "科室", "", "科室", 0],
            ["S", "排序", "排序", "", "省", "第一"],
        ]
    )

    errors = registers.parse_register(data).errors

    assert where(errors) == {
        (UNIT_SHEET, 2, "D"),
        (UNIT_SHEET, 3, "D"),
        (UNIT_SHEET, 4, "E"),
        (UNIT_SHEET, 5, "F"),
    }


def test_an_error_while_applying_rolls_back_every_row(world: World) -> None:
    """The sheet is valid, but the city admin may not create under another city."""
    client = client_for(world.unit_admin_county_a)
    data = workbook(
        units=[
            ["CA1-T1", "安平镇党委", "安平镇", "CA1", "乡镇", 1],  # inside the own subtree
            ["CB1-T1", "云溪镇党委", "云溪镇", "CB1", "乡镇", 1],  # outside it
            ["CB1-T2", "云溪二镇党委", "云溪二镇", "CB1-T1", "科室", 1],  # child of the refused one
        ],
        people=[
            ["zhangsan", "张三", "", "", "CA1-T1", "信息员", None],
            ["lisi", "李四", "", "", "CB1", "信息员", None],  # outside the subtree
            ["wangwu", "王五", "", "", "CA1", "单位管理员", None],  # fine
        ],
    )
    before = counts()

    response = upload(client, data)

    assert response.status_code == 200
    assert counts() == before
    assert not Unit.objects.filter(code="CA1-T1").exists()
    assert not User.objects.filter(username__in=["zhangsan", "wangwu"]).exists()
    body = response.content.decode()
    assert "无权在该单位下新建单位" in body and "无权在该单位下添加人员" in body
    result = registers.apply_register(registers.parse_register(data), by=world.unit_admin_county_a)
    assert where(result.errors) == {
        (UNIT_SHEET, 3, "D"),
        (UNIT_SHEET, 4, "D"),
        (PERSON_SHEET, 3, "E"),
    }
    assert result.units_created == 0 and result.people_created == 0
    assert counts() == before


def test_system_admin_may_import_units_but_not_people(world: World) -> None:
    data = workbook(
        units=[["R", "新省委组织部", "新省", "", "省", 0]],
        people=[["zhangsan", "张三", "", "", "R", "信息员", None]],
    )
    before = counts()

    result = registers.apply_register(registers.parse_register(data), by=world.system_admin)

    assert [e.message for e in result.errors] == ["无权在该单位下添加人员。"]
    assert counts() == before
    units_only = workbook(units=[["R", "新省委组织部", "新省", "", "省", 0]])
    assert registers.apply_register(registers.parse_register(units_only), by=world.system_admin).ok
    assert Unit.objects.get(code="R").parent is None


def test_security_admin_imports_people_into_existing_units(world: World) -> None:
    client = client_for(world.security_admin)
    data = workbook(people=[["zhangsan", "张三", "", "", "CB1", "信息员、通讯员", "2026/2/3"]])

    response = upload(client, data)

    assert "导入成功" in response.content.decode()
    person = User.objects.get(username="zhangsan")
    assert set(person.memberships.values_list("unit__code", "role", "start")) == {
        ("CB1", Role.OFFICER, dt.date(2026, 2, 3)),
        ("CB1", Role.CORRESPONDENT, dt.date(2026, 2, 3)),
    }
    summary = Event.objects.get(action="register.import")
    assert summary.actor == world.security_admin and summary.actor_role == "security_admin"


# Files that are not registers ---------------------------------------------------------------------


def test_an_empty_workbook_gives_one_clear_error(world: World) -> None:
    for data in (workbook(), workbook(units=[], people=[])):
        errors = registers.parse_register(data).errors
        assert len(errors) == 1
        assert "没有可导入的数据" in errors[0].message
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["单位编码"])
    buffer = io.BytesIO()
    wb.save(buffer)
    (error,) = registers.parse_register(buffer.getvalue()).errors
    assert "单位" in error.message and "模板" in error.message


def test_a_sheet_without_required_columns_is_refused(world: World) -> None:
    data = workbook(units=[["CA3", "新安县"]], unit_headers=["单位编码", "单位全称"])

    errors = registers.parse_register(data).errors

    assert {e.column_name for e in errors} == {"单位简称", "层级"}
    assert all(e.row == 1 for e in errors)


def test_a_file_that_is_not_xlsx_is_refused_with_one_error(world: World) -> None:
    client = client_for(world.unit_admin_city)
    before = counts()
    fake_doc = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w") as archive:
        archive.writestr("readme.txt", "不是工作簿")
    broken = workbook(units=[["X", "X", "X", "", "省", 0]])[:300]
    for data in (b"plain text, renamed", fake_doc, zip_buffer.getvalue(), broken, b""):
        errors = registers.parse_register(data).errors
        assert len(errors) == 1, data[:20]
        assert errors[0].sheet == "" and errors[0].row is None
    response = upload(client, b"plain text, renamed")
    assert response.status_code == 200
    assert "不是有效的 .xlsx 工作簿" in response.content.decode()
    assert counts() == before


def _bomb(entries: int, payload: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for index in range(entries):
            archive.writestr(f"xl/worksheets/sheet{index}.xml", "<worksheet/>")
        if payload:
            archive.writestr("xl/sharedStrings.xml", b"\0" * payload, compresslevel=9)
    return buffer.getvalue()


def test_zip_bombs_are_refused_before_parsing(world: World) -> None:
    many = _bomb(entries=registers.MAX_ZIP_ENTRIES + 5, payload=0)
    huge = _bomb(entries=1, payload=registers.MAX_UNCOMPRESSED_BYTES + 1024)
    assert len(huge) < 200_000

    for data, words in ((many, "条目过多"), (huge, "解压后过大")):
        started = time.monotonic()
        errors = registers.parse_register(data).errors
        assert time.monotonic() - started < 1
        assert len(errors) == 1 and words in errors[0].message


def test_a_file_over_the_size_limit_is_refused(world: World, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1000
    data = workbook(units=[["CA3", "新安县委组织部", "新安县", "CA", "县", 1]])
    assert len(data) > 1000
    client = client_for(world.unit_admin_city)
    before = counts()

    response = upload(client, data)

    assert "文件过大" in response.content.decode()
    assert counts() == before
    (error,) = registers.parse_register(data).errors
    assert "文件过大" in error.message


# Export -------------------------------------------------------------------------------------------


def test_export_writes_both_sheets_with_formulas_neutralized(world: World) -> None:
    workflow.create_person(
        by=None,
        username="formula",
        real_name="=1+2",
        mobile="13800138000",
        unit=world.county_a,
        role=Role.OFFICER,
    )
    workflow.add_membership(
        by=None, person=world.officer_county_a, unit=world.county_a, role=Role.REVIEWER
    )
    workflow.add_membership(
        by=None, person=world.officer_county_a, unit=world.city_b, role=Role.EDITOR
    )
    client = client_for(world.security_admin)

    response = client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "%E5%8F%B0%E8%B4%A6" in response["Content-Disposition"]  # 台账
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    units, people = wb[UNIT_SHEET], wb[PERSON_SHEET]
    unit_rows, person_rows = sheet_rows(units), sheet_rows(people)
    assert tuple(unit_rows[0]) == UNIT_COLUMNS
    assert tuple(person_rows[0]) == PERSON_COLUMNS
    assert units["A1"].font.bold and units.freeze_panes == "A2"
    assert ["CA1", "安平县委组织部", "安平县委组织部", "CA", "县", 0] in unit_rows
    assert {row[0] for row in unit_rows[1:]} == set(Unit.objects.values_list("code", flat=True))
    formula_row = next(row for row in person_rows if row[0] == "formula")
    assert formula_row[1] == "'=1+2"
    assert formula_row[2] == "13800138000"
    assert people.cell(row=person_rows.index(formula_row) + 1, column=2).data_type == "s"
    officer_rows = [row for row in person_rows if row[0] == "officer_county_a"]
    assert sorted((row[4], row[5]) for row in officer_rows) == [
        ("CA1", "信息员、审核人"),
        ("CB", "编辑"),
    ]
    assert isinstance(officer_rows[0][6], dt.datetime)
    assert not any(row[0] in ("system_admin", "security_admin") for row in person_rows)
    event = Event.objects.get(action="register.export")
    assert event.actor == world.security_admin
    assert event.after is not None and event.after["units"] == Unit.objects.count()


def test_unit_admin_exports_only_what_they_may_see(world: World) -> None:
    client = client_for(world.unit_admin_county_a)

    response = client.get(EXPORT_URL)

    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {row[0] for row in sheet_rows(wb[UNIT_SHEET])[1:]} == {"P", "CA", "CA1"}
    assert {row[0] for row in sheet_rows(wb[PERSON_SHEET])[1:]} == {
        "officer_county_a",
        "reviewer_county_a",
        "unit_admin_county_a",
    }
    assert Event.objects.filter(action="register.export", actor=world.unit_admin_county_a).exists()


def test_template_has_headers_and_one_example_row_each(world: World) -> None:
    response = client_for(world.unit_admin_city).get(TEMPLATE_URL)

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert tuple(sheet_rows(wb[UNIT_SHEET])[0]) == UNIT_COLUMNS
    assert tuple(sheet_rows(wb[PERSON_SHEET])[0]) == PERSON_COLUMNS
    assert len(sheet_rows(wb[UNIT_SHEET])) == 2 and len(sheet_rows(wb[PERSON_SHEET])) == 2
    errors = registers.parse_register(response.content).errors
    # The example unit hangs under a placeholder parent, which the check reports.
    assert [(e.sheet, e.row, e.column_name) for e in errors] == [(UNIT_SHEET, 2, "上级单位编码")]


def test_export_then_import_into_an_empty_database_gives_the_same_register(db: None) -> None:
    with transaction.atomic():
        province = make_unit(None, "P", Level.PROVINCE, "江川省委组织部")
        city = make_unit(province, "CA", Level.CITY, "临江市委组织部")
        make_unit(city, "CA-OFF", Level.INTERNAL, "办公室")
        county = make_unit(city, "CA1", Level.COUNTY, "安平县委组织部")
        person = make_person("zhangsan", county, Role.OFFICER)
        workflow.add_membership(by=None, person=person, unit=county, role=Role.REVIEWER)
        workflow.add_membership(by=None, person=person, unit=city, role=Role.EDITOR)
        workflow.create_person(
            by=None,
            username="formula",
            real_name="=1+2",
            email="f@example.com",
            unit=city,
            role=Role.UNIT_ADMIN,
            start=dt.date(2025, 3, 1),
        )
        exported = registers.export_register(Unit.objects.all(), User.objects.all())
        transaction.set_rollback(True)
    assert Unit.objects.count() == 0 and User.objects.count() == 0

    register = registers.parse_register(exported)
    result = registers.apply_register(register, by=None)

    assert result.ok, result.errors
    assert (result.units_created, result.people_created, result.memberships_created) == (4, 2, 4)
    assert User.objects.get(username="formula").real_name == "=1+2"
    assert Unit.objects.get(code="CA-OFF").parent == Unit.objects.get(code="CA")
    again = registers.export_register(Unit.objects.all(), User.objects.all())
    first, second = (openpyxl.load_workbook(io.BytesIO(data)) for data in (exported, again))
    for sheet in (UNIT_SHEET, PERSON_SHEET):
        assert sheet_rows(first[sheet]) == sheet_rows(second[sheet])
    today = timezone.localdate()
    assert Membership.objects.get(user__username="zhangsan", role=Role.EDITOR).start == today


# Permissions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["officer_county_a", "reviewer_county_a", "audit_admin"])
def test_people_without_register_rights_get_403(world: World, persona: str) -> None:
    client = client_for(getattr(world, persona))
    before = counts()

    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, workbook(units=[["X", "X", "X", "CA", "县", 0]])).status_code == 403
    assert client.get(TEMPLATE_URL).status_code == 403
    assert client.get(EXPORT_URL).status_code == 403
    assert counts() == before


def test_anonymous_visitors_are_sent_to_login() -> None:
    client = Client()
    for url in (IMPORT_URL, TEMPLATE_URL, EXPORT_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("persona", ["unit_admin_county_a", "security_admin", "system_admin"])
def test_import_page_shows_the_form_to_register_managers(world: World, persona: str) -> None:
    response = client_for(getattr(world, persona)).get(IMPORT_URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'accept=".xlsx"' in body and 'enctype="multipart/form-data"' in body
    assert TEMPLATE_URL in body
