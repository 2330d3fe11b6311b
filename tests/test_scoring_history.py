"""Importing last year's adoption records (.xlsx): validation, all-or-nothing, scoring, access.

The scheme is the demo 市委 scheme (只计最高级别, CITY_HIGHEST): adoption points are
base[level] × kind factor × form factor, with base 市级 10 / 省级 40, 专报 × 1.5, 综合 × 0.8, and a
combined piece split 50% to the 主报 unit and the rest equally among the other units.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from baosong.audit.models import Event
from baosong.scoring import engine, history, ledger, rankings, workflow
from baosong.scoring.history import HistoryRejected
from baosong.scoring.models import HistoricAdoption, HistoryImport, LedgerEntry, Scheme
from conftest import World, client_for

HEADERS = list(history.COLUMNS)


def workbook(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers or HEADERS)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def row(
    title: str,
    level: str = "市级",
    kind: str = "信息刊物",
    day: Any = "2025-03-04",
    lead: str = "CA1",
    others: str = "",
) -> list[Any]:
    return ["2025年第1期", title, level, kind, day, lead, "市委办公室", others, ""]


def city_scheme(world: World, effective_from: dt.date = dt.date(2025, 1, 1)) -> Scheme:
    scheme = workflow.create_scheme(by=world.editor_city, unit=world.city_a, name="市委计分办法")
    workflow.adopt_version(
        by=world.editor_city, version=scheme.versions.get(number=1), effective_from=effective_from
    )
    return scheme


def do_import(world: World, scheme: Scheme, data: bytes) -> HistoryImport:
    return history.import_history(
        by=world.editor_city, scheme=scheme, file_name="2025年采用.xlsx", data=data
    )


def url(scheme: Scheme) -> str:
    return f"/scoring/{scheme.pk}/history/"


def upload(client: Client, scheme: Scheme, data: bytes, name: str = "采用记录.xlsx") -> Any:
    return client.post(url(scheme), {"file": SimpleUploadedFile(name, data)})


def test_good_workbook_imports_every_record_and_the_ranking_counts_them(world: World) -> None:
    scheme = city_scheme(world)
    data = workbook(
        [
            # CA1: 市级信息刊物全文 10 × 1 × 1 = 10
            row("甲", "市级", "信息刊物", "2025-03-04", "安平县委组织部"),
            # CA2: 省级专报全文 40 × 1.5 × 1 = 60 (unit named by code, text date with slashes)
            row("乙", "省", "专报", "2025/3/20", "CA2"),
            # 综合: 市级简报 10 × 1 × 0.8 = 8, 主报 CA1 50% = 4, CA2 the other 4
            row("丙", "市", "简报", dt.date(2025, 4, 1), "CA1", "青石县委组织部"),
        ]
    )
    batch = do_import(world, scheme, data)

    assert batch.rows == 3
    assert HistoricAdoption.objects.filter(batch=batch).count() == 3
    combined = HistoricAdoption.objects.get(title="丙")
    assert list(combined.other_units.all()) == [world.county_a2]
    assert combined.level == "city" and combined.publication_kind == "bulletin"
    assert HistoricAdoption.objects.get(title="乙").adopted_on == dt.date(2025, 3, 20)

    entries = LedgerEntry.objects.filter(scheme=scheme, event_key__startswith="h")
    assert sorted((e.unit.code, e.points) for e in entries) == [
        ("CA1", Decimal("4.00")),
        ("CA1", Decimal("10.00")),
        ("CA2", Decimal("4.00")),
        ("CA2", Decimal("60.00")),
    ]
    assert all(e.item_id is None for e in entries)
    assert {e.month for e in entries} == {202503, 202504}

    ranking = rankings.unit_ranking(scheme, world.city_a, rankings.period_for("year", "2025"))
    by_unit = {r.key: r for r in ranking}
    ca1, ca2 = by_unit[str(world.county_a.pk)], by_unit[str(world.county_a2.pk)]
    # CA1 = 10 + 4 = 14, CA2 = 60 + 4 = 64
    assert ca2.figures.points == Decimal("64.00")
    assert ca1.figures.points == Decimal("14.00")
    assert (ca2.rank, ca1.rank) == (1, 2)
    assert (ca1.figures.adopted, ca2.figures.adopted) == (2, 2)

    audit = Event.objects.get(action="scoring.history_import")
    assert audit.actor == world.editor_city
    assert audit.after == {
        "scheme": scheme.pk,
        "rows": 3,
        "scored": 3,
        "unscored": 0,
        "entries": 4,
    }
    assert history.summary(batch, scheme) == history.Summary(3, 3, 0, Decimal("78.00"))


def test_a_bad_row_imports_nothing_and_each_error_names_row_and_column(world: World) -> None:
    scheme = city_scheme(world)
    data = workbook(
        [
            row("好的一行"),
            row("单位不对", lead="不存在的县"),
            row("日期不对", day="2025-02-30"),
            row("级别不对", level="乡级"),
            row("外单位", others="白河市委组织部"),  # outside the owner's subtree
        ]
    )
    with pytest.raises(HistoryRejected) as caught:
        do_import(world, scheme, data)

    found = [(e.row, e.column_letter, e.column_name) for e in caught.value.errors]
    assert found == [
        (3, "F", "主报单位"),
        (4, "E", "采用时间"),
        (5, "C", "级别"),
        (6, "H", "其他单位"),
    ]
    messages = [e.message for e in caught.value.errors]
    assert "不存在的县" in messages[0]
    assert "2025-02-30" in messages[1]
    assert "乡级" in messages[2] and "省级" in messages[2]
    assert "白河市委组织部" in messages[3]
    assert "第 3 行 F（主报单位）" in str(caught.value.errors[0])
    assert not HistoryImport.objects.exists()
    assert not HistoricAdoption.objects.exists()
    assert not LedgerEntry.objects.filter(event_key__startswith="h").exists()
    assert not Event.objects.filter(action="scoring.history_import").exists()


def test_errors_are_listed_on_the_upload_page(world: World) -> None:
    scheme = city_scheme(world)
    client = client_for(world.editor_city)
    response = upload(client, scheme, workbook([row("好的一行"), row("坏", day="明天")]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "发现 1 处错误，未导入任何记录" in page
    assert "采用时间" in page and "明天" in page
    assert not HistoricAdoption.objects.exists()


@pytest.mark.parametrize("separator", ["，", "、", "/", ",", "／", " , "])
def test_other_units_may_be_separated_by_any_listed_mark(world: World, separator: str) -> None:
    owner = world.city_a
    cell = separator.join(["青石县委组织部", "CA"])
    parsed = history.parse_history(workbook([row("综合", others=cell)]), owner)

    assert parsed.ok, parsed.errors
    assert parsed.records[0].others == [world.county_a2, world.city_a]


def test_three_unit_piece_is_split_by_the_combined_credit_rule(world: World) -> None:
    scheme = city_scheme(world)
    # 市级信息刊物综合 10 × 0.8 = 8: 主报 CA1 50% = 4, CA2 and CA 25% = 2 each
    do_import(world, scheme, workbook([row("三家", others="CA2、CA1、CA")]))

    record = HistoricAdoption.objects.get()
    assert sorted(u.code for u in record.other_units.all()) == ["CA", "CA2"]  # lead not repeated
    points = {e.unit.code: e.points for e in LedgerEntry.objects.filter(event_key__startswith="h")}
    assert points == {"CA1": Decimal("4.00"), "CA2": Decimal("2.00"), "CA": Decimal("2.00")}


def test_columns_in_any_order_and_extra_columns_are_ignored(world: World) -> None:
    headers = ["备注", "主报单位", "说明（自用）", "采用时间", "载体", "级别", "标题"]
    data = workbook([["", "CA1", "随便写", "2025年3月4日", "微信公众号", "国家级", "甲"]], headers)
    parsed = history.parse_history(data, world.city_a)

    assert parsed.ok, parsed.errors
    record = parsed.records[0]
    assert (record.level, record.kind, record.adopted_on) == (
        "central",
        "wechat",
        dt.date(2025, 3, 4),
    )
    assert record.issue_label == "" and record.others == []


def test_a_missing_required_column_is_reported(world: World) -> None:
    headers = [h for h in HEADERS if h != "主报单位"]
    parsed = history.parse_history(
        workbook([["1", "甲", "市级", "简报", "2025-03-04"]], headers), world.city_a
    )

    assert [(e.row, e.column_name) for e in parsed.errors] == [(1, "主报单位")]


def test_a_file_that_is_not_xlsx_is_refused_by_its_content(world: World) -> None:
    scheme = city_scheme(world)
    pdf = b"%PDF-1.4\n" + b"0" * 200
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    for data in (pdf, buffer.getvalue(), b""):
        with pytest.raises(HistoryRejected) as caught:
            do_import(world, scheme, data)
        assert caught.value.errors[0].row is None

    response = upload(client_for(world.editor_city), scheme, pdf, name="采用记录.xlsx")
    assert response.status_code == 200
    assert "不是有效的 .xlsx 工作簿" in response.content.decode()
    assert not HistoryImport.objects.exists()


def test_a_zip_bomb_is_refused_before_parsing(world: World) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<" + b" " * 60_000_000 + b">")
    problem = history.check_container(buffer.getvalue())
    assert problem is not None and "过大" in problem


def test_a_formula_cell_is_refused(world: World) -> None:
    scheme = city_scheme(world)
    data = workbook(
        [row("甲"), ["1", '=HYPERLINK("http://x")', "市级", "简报", "2025-03-04", "CA1"]]
    )
    with pytest.raises(HistoryRejected) as caught:
        do_import(world, scheme, data)

    assert [(e.row, e.column_letter, e.message) for e in caught.value.errors] == [
        (3, "B", "不允许公式。")
    ]
    assert not HistoricAdoption.objects.exists()


def test_rows_on_days_no_version_covers_are_kept_but_earn_nothing(world: World) -> None:
    scheme = city_scheme(world, effective_from=dt.date(2025, 1, 1))
    batch = do_import(world, scheme, workbook([row("早", day="2024-06-01"), row("晚")]))

    assert HistoricAdoption.objects.filter(batch=batch).count() == 2
    assert history.summary(batch, scheme) == history.Summary(2, 1, 1, Decimal("10.00"))
    early = HistoricAdoption.objects.get(title="早")
    assert not LedgerEntry.objects.filter(event_key=f"h{early.pk}").exists()

    page = client_for(world.editor_city).get(url(scheme)).content.decode()
    assert "1 条不计分" in page


def test_each_record_is_scored_under_the_version_in_force_on_its_day(world: World) -> None:
    scheme = city_scheme(world, effective_from=dt.date(2024, 1, 1))
    v2 = workflow.new_version(by=world.editor_city, scheme=scheme)
    data = dict(v2.data)
    data["adoption_base"] = {**data["adoption_base"], "city": "20"}
    workflow.save_draft(by=world.editor_city, version=v2, data=data, note="市级采用加分")
    workflow.adopt_version(by=world.editor_city, version=v2, effective_from=dt.date(2025, 1, 1))

    do_import(world, scheme, workbook([row("旧", day="2024-12-31"), row("新", day="2025-01-01")]))

    # v1: 市级 10; v2: 市级 20
    got = {
        e.event_key: (e.version.number, e.points)
        for e in LedgerEntry.objects.filter(event_key__startswith="h").select_related("version")
    }
    old, new = (HistoricAdoption.objects.get(title=t).pk for t in ("旧", "新"))
    assert got == {f"h{old}": (1, Decimal("10.00")), f"h{new}": (2, Decimal("20.00"))}


def test_the_same_records_cannot_be_imported_twice(world: World) -> None:
    scheme = city_scheme(world)
    data = workbook([row("甲"), row("乙")])
    do_import(world, scheme, data)
    with pytest.raises(HistoryRejected) as caught:
        do_import(world, scheme, data)

    assert [(e.row, e.column_name) for e in caught.value.errors] == [(2, "标题"), (3, "标题")]
    assert "已在" in caught.value.errors[0].message
    assert HistoricAdoption.objects.count() == 2

    parsed = history.parse_history(workbook([row("丙"), row("丙")]), world.city_a)
    assert [(e.row, e.message) for e in parsed.errors] == [(3, "与第 2 行重复。")]


def test_the_template_downloads_and_its_sample_rows_are_not_imported(world: World) -> None:
    scheme = city_scheme(world)
    client = client_for(world.editor_city)
    response = client.get(f"/scoring/{scheme.pk}/history/template.xlsx")

    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [c.value for c in wb.worksheets[0][1]] == HEADERS
    with pytest.raises(HistoryRejected) as caught:
        do_import(world, scheme, response.content)
    assert {e.message for e in caught.value.errors} == {"这是模板中的示例行，请删除后再导入。"}

    # The template's sample units and values are otherwise valid.
    ws = wb.worksheets[0]
    for (cell,) in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.value = str(cell.value).replace(history.SAMPLE_MARK, "")
    buffer = io.BytesIO()
    wb.save(buffer)
    assert history.parse_history(buffer.getvalue(), world.city_a).ok


def test_a_manager_uploads_through_the_page_and_sees_the_result(world: World) -> None:
    scheme = city_scheme(world)
    client = client_for(world.unit_admin_city)
    response = upload(client, scheme, workbook([row("甲", level="省级", kind="专报")]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "导入成功" in page and "共 60 分" in page  # 省级 40 × 专报 1.5
    assert HistoryImport.objects.get().by == world.unit_admin_city
    assert "采用记录.xlsx" in page  # in the list of past imports


def test_only_managers_of_the_scheme_may_import(world: World) -> None:
    scheme = city_scheme(world)
    data = workbook([row("甲")])
    # A county officer sees the city's rankings but does not manage the scheme: 403.
    officer = client_for(world.officer_county_a)
    assert officer.get(url(scheme)).status_code == 403
    assert upload(officer, scheme, data).status_code == 403
    assert officer.get(f"/scoring/{scheme.pk}/history/template.xlsx").status_code == 403
    # A county admin is a manager of its own unit only.
    assert client_for(world.unit_admin_county_a).get(url(scheme)).status_code == 403
    # Someone in another city cannot see the scheme at all: 404.
    assert client_for(world.outsider).get(url(scheme)).status_code == 404
    assert not HistoryImport.objects.exists()

    with pytest.raises(PermissionDenied):
        history.import_history(
            by=world.officer_county_a, scheme=scheme, file_name="x.xlsx", data=data
        )


def test_engine_facts_for_a_combined_record_share_the_sources(world: World) -> None:
    scheme = city_scheme(world)
    do_import(world, scheme, workbook([row("合", others="CA2")]))
    record = HistoricAdoption.objects.get()
    facts = history.facts_for([record])

    assert [(f.event_id, f.origin_unit, f.form) for f in facts] == [
        (f"h{record.pk}", "CA1", "combined"),
        (f"h{record.pk}/1", "CA2", "combined"),
    ]
    assert [(s.origin_unit, s.share, s.lead_source) for s in facts[0].sources] == [
        ("CA1", 50, True),
        ("CA2", 50, False),
    ]
    assert facts[0].at == dt.datetime(2025, 3, 4, 12, tzinfo=facts[0].at.tzinfo)
    assert facts[0].kind == engine.ADOPT


def test_a_shortened_unit_name_is_not_guessed_but_suggested(world: World) -> None:
    parsed = history.parse_history(workbook([row("甲", lead="青石县")]), world.city_a)

    assert [(e.row, e.column_name) for e in parsed.errors] == [(2, "主报单位")]
    assert "是否指“青石县委组织部”（编码 CA2）" in parsed.errors[0].message
    assert not parsed.records


def test_historic_facts_give_a_recompute_the_imported_records_of_a_period(world: World) -> None:
    scheme = city_scheme(world, effective_from=dt.date(2024, 1, 1))
    do_import(world, scheme, workbook([row("旧", day="2024-06-01"), row("新", others="CA2")]))
    tz = ledger.local_tz()
    start, end = (dt.datetime(2025, 1, 1, tzinfo=tz), dt.datetime(2026, 1, 1, tzinfo=tz))

    facts = history.historic_facts(scheme, start, end)
    new = HistoricAdoption.objects.get(title="新")
    assert [(f.event_id, f.origin_unit) for f in facts] == [
        (f"h{new.pk}", "CA1"),
        (f"h{new.pk}/1", "CA2"),
    ]
    assert all(f.item_id is not None and f.item_id < 0 for f in facts)  # never a real item's id
    entries = engine.score(ledger.scheme_of(scheme.versions.get(number=1)), facts, ledger.ALL_TIME)
    assert {e.item_id for e in history.unlinked(entries)} == {None}


def test_a_recompute_keeps_the_entries_of_imported_records(world: World) -> None:
    scheme = city_scheme(world)
    do_import(world, scheme, workbook([row("甲")]))
    start = dt.datetime(2025, 1, 1, tzinfo=ledger.local_tz())

    workflow.recompute(scheme.versions.get(number=1), start, timezone.now())

    total = LedgerEntry.objects.filter(scheme=scheme).aggregate(total=Sum("points"))["total"]
    assert total == Decimal("10.00")


def test_the_period_cap_counts_what_the_ledger_already_holds(world: World) -> None:
    rules = dataclasses.replace(engine.CITY_HIGHEST, period_cap=Decimal(15), period_cap_per="month")
    scheme = workflow.create_scheme(
        by=world.editor_city,
        unit=world.city_a,
        name="每月封顶 15 分",
        data=engine.scheme_as_data(rules),
    )
    workflow.adopt_version(
        by=world.editor_city,
        version=scheme.versions.get(number=1),
        effective_from=dt.date(2025, 1, 1),
    )
    # March for CA1: 10, then 10 capped to the 5 left of 15
    do_import(world, scheme, workbook([row("一", day="2025-03-04"), row("二", day="2025-03-05")]))
    # A later import into the same month finds the window full: 0; April starts again: 10
    do_import(world, scheme, workbook([row("三", day="2025-03-20"), row("四", day="2025-04-02")]))

    points = {
        r.title: LedgerEntry.objects.filter(scheme=scheme, event_key=f"h{r.pk}").aggregate(
            total=Sum("points")
        )["total"]
        for r in HistoricAdoption.objects.all()
    }
    assert points == {
        "一": Decimal("10.00"),
        "二": Decimal("5.00"),
        "三": Decimal("0.00"),
        "四": Decimal("10.00"),
    }
