"""The score ledger in the database: entries appear with the events that cause them, the monthly
rollup always equals the raw sum, recompute is idempotent, and corrections are reversals."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baosong.lib.append_only import lifted
from baosong.orgs.models import Role
from baosong.publications import workflow as pubs
from baosong.publications.models import AdoptionForm, LeaderLevel, PublicationKind
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.scoring import engine, ledger, rankings, workflow
from baosong.scoring.models import (
    Decision,
    LedgerEntry,
    PersonMonth,
    Scheme,
    SchemeVersion,
    UnitMonth,
)
from baosong.submissions.models import Submission
from conftest import make_person
from tests.test_publication_scenarios import submitted

D = Decimal


def adopted_scheme(world: Any, name: str, rules: engine.Scheme) -> Scheme:
    """A scheme of 临江市 with these rules, in force from 2026-01-01."""
    scheme = workflow.create_scheme(
        by=world.editor_city, unit=world.city_a, name=name, data=engine.scheme_as_data(rules)
    )
    workflow.adopt_version(
        by=world.editor_city, version=scheme.versions.get(), effective_from=dt.date(2026, 1, 1)
    )
    return scheme


@pytest.fixture
def city_scheme(world: Any) -> Scheme:
    """临江市 scores its counties with the demo 'highest level only' rules from 2026-01-01."""
    return adopted_scheme(world, "临江市信息工作计分办法", engine.CITY_HIGHEST)


def unit_points(scheme: Scheme, code: str) -> Decimal:
    total = LedgerEntry.objects.filter(
        scheme=scheme, unit__code=code, person__isnull=True
    ).aggregate(t=Sum("points"))["t"]
    return total or D(0)


def assert_rollup_equals_ledger(scheme: Scheme) -> None:
    raw = {
        (r["unit_id"], r["month"]): r
        for r in LedgerEntry.objects.filter(scheme=scheme, person__isnull=True)
        .values("unit_id", "month")
        .annotate(p=Sum("points"), s=Sum("d_submitted"), a=Sum("d_adopted"), lead=Sum("d_lead"))
    }
    rolled = {(r.unit_id, r.month): r for r in UnitMonth.objects.filter(scheme=scheme)}
    assert set(raw) == set(rolled)
    for cell, r in raw.items():
        m = rolled[cell]
        assert (m.points, m.submitted, m.adopted, m.lead_items) == (
            r["p"],
            r["s"],
            r["a"],
            r["lead"],
        )
    people = LedgerEntry.objects.filter(scheme=scheme, person__isnull=False).aggregate(
        t=Sum("points")
    )["t"] or D(0)
    assert people == (
        PersonMonth.objects.filter(scheme=scheme).aggregate(t=Sum("points"))["t"] or D(0)
    )


def city_journal(world: Any) -> Any:
    return pubs.create_publication(
        by=world.editor_city, unit=world.city_a, name="临江组工信息", kind=PublicationKind.JOURNAL
    )


def adopt_whole(world: Any, journal: Any, item: Any) -> Any:
    return pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
        is_lead=False,
        published_url="",
    )


def append_stray_line(
    scheme: Scheme, line: LedgerEntry, points: str, category: str | None = None
) -> None:
    """A line the rules do not give, for the same event (as if written by an older bug)."""
    version = scheme.versions.get()
    ledger.append(
        version,
        [
            engine.Entry(
                event_id=line.event_key,
                unit="CA1",
                person="",
                points=D(points),
                rule="错误",
                item_id=line.item_id,
                period="x",
                at=line.at,
                category=category or line.category,
                scheme=version.code,
            )
        ],
        scheme.unit.path,
        {},
        ledger.local_tz(),
    )


def test_submitting_and_a_lead_adoption_by_the_city_are_scored_as_they_happen(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "安平县党建")
    # 报送信息 5 分 (the city is not a level with reach points)
    assert unit_points(city_scheme, "CA1") == D("5.00")
    journal = city_journal(world)
    pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
        is_lead=True,
        published_url="",
    )
    # 市级采用 10 × 信息刊物 1 × 全文 1 × 头条 1.5 = 15; total 5 + 15 = 20
    assert unit_points(city_scheme, "CA1") == D("20.00")
    # The only author holds 100%: the person entries add up to the unit's.
    person_total = LedgerEntry.objects.filter(
        scheme=city_scheme, person=world.officer_county_a
    ).aggregate(t=Sum("points"))["t"]
    assert person_total == D("20.00")
    version = city_scheme.versions.get()
    assert version.used_at is not None
    assert_rollup_equals_ledger(city_scheme)

    ranking = rankings.unit_ranking(city_scheme, world.city_a, rankings.current_period("year"))
    top = ranking[0]
    assert top.unit == world.county_a and top.figures.points == D("20.00")
    assert (top.figures.submitted, top.figures.adopted, top.figures.lead_items) == (1, 1, 1)


def test_a_forwarded_item_adopted_by_the_province_with_an_instruction_supersedes_the_city(
    world: Any, city_scheme: Scheme
) -> None:
    editor_province = make_person("editor_province", world.province, Role.EDITOR)
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "人才回引")
    journal = city_journal(world)
    pubs.adopt(
        by=world.editor_city,
        sources=[SourceInput(item)],
        publication=journal,
        form=AdoptionForm.WHOLE,
        title=item.title,
    )
    pubs.forward(by=world.editor_city, item=item, comment="建议省里采用")
    special = pubs.create_publication(
        by=editor_province, unit=world.province, name="组工专报", kind=PublicationKind.SPECIAL
    )
    adoption = pubs.adopt(
        by=editor_province,
        sources=[SourceInput(item)],
        publication=special,
        form=AdoptionForm.EXCERPT,
        title="人才回引的安平做法",
        body="<p>摘编</p>",
    )
    pubs.add_instruction(
        by=editor_province,
        adoption=adoption,
        data=InstructionInput(
            leader_name="王建华",
            leader_position="省委常委、组织部部长",
            level=LeaderLevel.PROVINCE,
            text="经验很好。",
            instructed_on=dt.date(2026, 11, 22),
            is_principal=True,
        ),
    )
    # The fast single-item reader gives exactly the facts of the general one.
    fast, units, booked, _held, _versions = ledger.item_state(
        item.pk,
        dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1),
        [city_scheme.versions.get().pk],
    )
    general = ledger.facts_of_items([item.pk], ledger.ALL_TIME.end)
    assert sorted(fast, key=lambda f: f.event_id) == sorted(general, key=lambda f: f.event_id)
    assert {f.kind for f in fast} == {"submit", "adopt", "forward", "instruct"}
    assert {"CA1", "CA"} <= set(units)
    # Every event is booked, and the unit lines name their units by code.
    events, _credited, lines = booked[city_scheme.versions.get().pk]
    assert events == {f.event_id for f in fast}
    assert all(line[1] in ("CA1", "CA") for line in lines)
    # 报送 5; 报送省级 (forwarded to the province) +5; 市级采用 10, then 只计最高级别:
    # -10 and 省级专报摘编 40 × 1.5 × 0.6 = 36; 省级主要领导批示 +60.  5 + 5 + 36 + 60 = 106.
    assert unit_points(city_scheme, "CA1") == D("106.00")
    # 转报 credit goes to the forwarding city itself (inside its own scheme's subtree): 5.
    assert unit_points(city_scheme, "CA") == D("5.00")
    assert_rollup_equals_ledger(city_scheme)
    row = rankings.unit_ranking(city_scheme, world.city_a, rankings.current_period("year"))[0]
    # 只计最高级别: one adoption counted, one instruction.
    assert (row.figures.adopted, row.figures.instructions) == (1, 1)


def test_confirmed_copying_reverses_the_items_points_and_adds_the_penalty(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "照搬稿件")
    before = LedgerEntry.objects.count()
    workflow.decide(
        by=world.editor_city,
        scheme=city_scheme,
        action=Decision.CONFIRMED_COPY,
        item=item,
        reason="与外省信息雷同",
    )
    # 5 (报送) - 5 (冲减) - 20 (抄袭另扣) = -20; nothing was edited, only lines added.
    assert unit_points(city_scheme, "CA1") == D("-20.00")
    assert LedgerEntry.objects.count() > before
    assert_rollup_equals_ledger(city_scheme)
    with pytest.raises(ValidationError):
        workflow.decide(
            by=world.editor_city,
            scheme=city_scheme,
            action=Decision.CONFIRMED_COPY,
            item=item,
            reason="again",
        )


def test_a_county_officer_cannot_record_deductions(world: Any, city_scheme: Scheme) -> None:
    with pytest.raises(PermissionDenied):
        workflow.decide(
            by=world.officer_county_a,
            scheme=city_scheme,
            action=Decision.DEDUCT,
            target=world.county_a,
            points=5,
            reason="迟报",
        )


def test_the_ledger_refuses_edits_and_deletes(world: Any, city_scheme: Scheme) -> None:
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "一条")
    entry = LedgerEntry.objects.first()
    assert entry is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(points=D("999"))
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_an_adopted_version_is_frozen_and_a_new_one_starts_after_the_scored_days(
    world: Any, city_scheme: Scheme
) -> None:
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "一条")
    v1 = city_scheme.versions.get()
    with pytest.raises(ValidationError):
        workflow.save_draft(by=world.editor_city, version=v1, data=v1.data)
    v2 = workflow.new_version(by=world.editor_city, scheme=city_scheme)
    assert v2.number == 2 and v2.data == v1.data
    with pytest.raises(ValidationError):
        workflow.adopt_version(by=world.editor_city, version=v2, effective_from=dt.date(2026, 1, 2))
    tomorrow = dt.datetime.now(tz=ledger.local_tz()).date() + dt.timedelta(days=2)
    workflow.adopt_version(by=world.editor_city, version=v2, effective_from=tomorrow)
    v1.refresh_from_db()
    assert v1.effective_to == tomorrow - dt.timedelta(days=1)


def test_recompute_is_idempotent_and_puts_a_wrong_line_right_with_a_reversal(
    world: Any, city_scheme: Scheme
) -> None:
    for title in ("一", "二", "三"):
        submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, title)
    version = city_scheme.versions.get()
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    assert workflow.recompute(version, start, end)["corrected"] == 0
    # A line that the rules do not give (as if written by an older bug): recompute reverses it.
    wrong = LedgerEntry.objects.filter(scheme=city_scheme, person__isnull=True).first()
    assert wrong is not None
    append_stray_line(city_scheme, wrong, "7.00")
    assert unit_points(city_scheme, "CA1") == D("22.00")
    stats = workflow.recompute(version, start, end)
    assert stats["corrected"] > 0
    assert unit_points(city_scheme, "CA1") == D("15.00")
    assert workflow.recompute(version, start, end)["corrected"] == 0
    assert_rollup_equals_ledger(city_scheme)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(st.tuples(st.sampled_from(["CA1", "CA2"]), st.booleans()), max_size=4))
def test_rollup_always_equals_the_raw_sum_of_the_ledger(
    world: Any, city_scheme: Scheme, plan: list[tuple[str, bool]]
) -> None:
    reviewer_a2 = make_person(f"rv{len(plan)}{id(plan)}", world.county_a2, Role.REVIEWER)
    officer_a2 = make_person(f"of{len(plan)}{id(plan)}", world.county_a2, Role.OFFICER)
    journal = pubs.create_publication(
        by=world.editor_city, unit=world.city_a, name=f"刊{id(plan)}", kind=PublicationKind.BULLETIN
    )
    for n, (code, adopt) in enumerate(plan):
        if code == "CA1":
            item = submitted(
                world.county_a, world.officer_county_a, world.reviewer_county_a, f"稿{n}"
            )
        else:
            item = submitted(world.county_a2, officer_a2, reviewer_a2, f"稿{n}")
        if adopt:
            pubs.adopt(
                by=world.editor_city,
                sources=[SourceInput(item)],
                publication=journal,
                form=AdoptionForm.ONE_LINE,
                title=item.title,
                body="<p>一句话</p>",
            )
    assert_rollup_equals_ledger(city_scheme)
    ranking = rankings.unit_ranking(city_scheme, world.city_a, rankings.current_period("year"))
    assert sum(r.figures.points for r in ranking) == sum(
        unit_points(city_scheme, code) for code in ("CA1", "CA2")
    )


def test_versions_list_is_reachable(city_scheme: Scheme) -> None:
    assert SchemeVersion.objects.filter(scheme=city_scheme).count() == 1


def test_a_draft_with_broken_rules_is_refused_with_the_engines_reason(
    world: Any, city_scheme: Scheme
) -> None:
    draft = workflow.new_version(by=world.editor_city, scheme=city_scheme)
    bad = {**draft.data, "lead_fraction": "1.5"}
    with pytest.raises(ValidationError) as refused:
        workflow.save_draft(by=world.editor_city, version=draft, data=bad)
    assert "主报单位所占比例应在 0 到 1 之间。" in refused.value.messages
    draft.refresh_from_db()
    assert draft.data["lead_fraction"] != "1.5"


def test_a_new_version_for_a_later_period_never_changes_an_earlier_periods_scores(
    world: Any, city_scheme: Scheme
) -> None:
    submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "一")
    this_year = rankings.current_period("year")
    before = [
        (r.key, r.figures.points)
        for r in rankings.unit_ranking(city_scheme, world.city_a, this_year)
    ]
    draft = workflow.new_version(by=world.editor_city, scheme=city_scheme)
    data = {**draft.data, "submit_points": {"info": "50", "news": "3", "special": "8"}}
    workflow.save_draft(by=world.editor_city, version=draft, data=data)
    later = dt.datetime.now(tz=ledger.local_tz()).date() + dt.timedelta(days=3)
    workflow.adopt_version(by=world.editor_city, version=draft, effective_from=later)
    after = [
        (r.key, r.figures.points)
        for r in rankings.unit_ranking(city_scheme, world.city_a, this_year)
    ]
    assert after == before
    v1 = city_scheme.versions.get(number=1)
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    assert workflow.recompute(v1, start, dt.datetime.now(tz=dt.UTC))["corrected"] == 0


def test_only_a_submitted_item_can_be_ruled_plagiarised(world: Any, city_scheme: Scheme) -> None:
    from baosong.submissions import workflow as items
    from baosong.submissions.workflow import DraftInput

    draft = items.create_draft(
        by=world.officer_county_a,
        unit=world.county_a,
        data=DraftInput(item_type="info", kind="dynamic", title="草稿", body="<p>草稿</p>"),
    )
    with pytest.raises(ValidationError) as refused:
        workflow.decide(
            by=world.editor_city,
            scheme=city_scheme,
            action=Decision.CONFIRMED_COPY,
            item=draft,
            reason="雷同",
        )
    assert refused.value.message_dict == {"item": ["只能认定已报送的稿件。"]}
    assert not LedgerEntry.objects.filter(category="void").exists()


@pytest.fixture
def capped_scheme(world: Any) -> Scheme:
    """The demo 'highest level only' rules with a monthly cap of 20 points per unit."""
    rules = replace(engine.CITY_HIGHEST, period_cap=D(20), period_cap_per="month")
    return adopted_scheme(world, "临江市计分办法（每月上限）", rules)


def test_a_reversal_under_a_period_cap_takes_back_what_was_credited(
    world: Any, capped_scheme: Scheme
) -> None:
    journal = city_journal(world)

    def adopt(item: Any) -> None:
        adopt_whole(world, journal, item)

    def copied(item: Any) -> None:
        workflow.decide(
            by=world.editor_city,
            scheme=capped_scheme,
            action=Decision.CONFIRMED_COPY,
            item=item,
            reason="与外省信息雷同",
        )

    second = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "二")
    adopt(second)
    first = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "一")
    adopt(first)
    # 报送 5 + 采用 10 + 报送 5 = 20 this month: the cap of 20 leaves the second adoption 0.
    assert unit_points(capped_scheme, "CA1") == D("20.00")
    copied(second)
    # Item 二 loses 5 + 10 and pays the 20 penalty (outside the cap): 20 - 15 - 20 = -15.
    assert unit_points(capped_scheme, "CA1") == D("-15.00")
    copied(first)
    # Item 一 was credited 5 + 0, so only 5 is taken back (not 15, as a replay against the
    # month's credit as it stands now, 5, would find room for its adoption): -15 - 5 - 20 = -40.
    voided = LedgerEntry.objects.filter(
        scheme=capped_scheme, item=first, category="void", person__isnull=True
    ).aggregate(t=Sum("points"))["t"]
    assert voided == D("-5.00")
    assert unit_points(capped_scheme, "CA1") == D("-40.00")
    assert_rollup_equals_ledger(capped_scheme)
    # The recompute (one replay of everything) agrees with what was recorded event by event.
    version = capped_scheme.versions.get()
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    assert workflow.recompute(version, start, end)["corrected"] == 0


def test_a_recompute_correction_keeps_the_item_counts_right(
    world: Any, city_scheme: Scheme
) -> None:
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "一")
    adopt_whole(world, city_journal(world), item)
    version = city_scheme.versions.get()
    adopted = LedgerEntry.objects.get(
        scheme=city_scheme, item=item, category="adopt", person__isnull=True
    )
    # A second adoption line for the same event (as if written twice by an older bug).
    append_stray_line(city_scheme, adopted, "10.00")
    this_year = rankings.current_period("year")
    county = next(
        r
        for r in rankings.unit_ranking(city_scheme, world.city_a, this_year)
        if r.unit == world.county_a
    )
    assert (county.figures.points, county.figures.adopted) == (D("25.00"), 2)
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    assert workflow.recompute(version, start, end)["corrected"] == 2  # reversal + replacement
    county = next(
        r
        for r in rankings.unit_ranking(city_scheme, world.city_a, this_year)
        if r.unit == world.county_a
    )
    # 5 + 10 again, adopted once: the reversal took back both lines' counts, the replacement
    # counts one adoption.
    assert (county.figures.points, county.figures.adopted) == (D("15.00"), 1)
    assert workflow.recompute(version, start, end)["corrected"] == 0
    assert_rollup_equals_ledger(city_scheme)


def test_a_forwarders_credit_under_a_period_cap_counts_its_other_items(world: Any) -> None:
    """The city forwards two items that the province adopts; 转报 earns it 5 each, but its
    monthly cap of 8 leaves the second 3. Recording the second adoption must read the city's
    credit in the month from the first item (the forwarder's cap window), as a recompute does."""
    rules = replace(engine.CITY_HIGHEST, period_cap=D(8), period_cap_per="month")
    scheme = adopted_scheme(world, "临江市计分办法（每月上限 8 分）", rules)
    editor_province = make_person("editor_province", world.province, Role.EDITOR)
    special = pubs.create_publication(
        by=editor_province, unit=world.province, name="组工专报", kind=PublicationKind.SPECIAL
    )
    for title in ("一", "二"):
        item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, title)
        pubs.forward(by=world.editor_city, item=item, comment="建议省里采用")
        pubs.adopt(
            by=editor_province,
            sources=[SourceInput(item)],
            publication=special,
            form=AdoptionForm.EXCERPT,
            title=title,
            body="<p>摘编</p>",
        )
    forwards = list(
        LedgerEntry.objects.filter(
            scheme=scheme, unit=world.city_a, category="forward", person__isnull=True
        ).values_list("points", flat=True)
    )
    assert forwards == [D("5.00"), D("3.00")]
    assert unit_points(scheme, "CA") == D("8.00")
    assert_rollup_equals_ledger(scheme)
    version = scheme.versions.get()
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    assert workflow.recompute(version, start, end)["corrected"] == 0


def test_the_quota_column_counts_each_windows_own_months() -> None:
    """Quarterly quota of 5 items with at least one 研判: Q1 has 3 + 2 items (one 研判, in
    February), Q2 only 4 in April; the December before never leaks into Q1."""
    fig = rankings.Figures()
    # values: points, submitted, adopted, lead, instructions, then submitted per kind
    # (动态, 经验, 问题, 研判)
    fig.add([D(15), 3, 0, 0, 0, 3, 0, 0, 0], 202501)
    fig.add([D(10), 2, 0, 0, 0, 1, 0, 0, 1], 202502)
    fig.add([D(20), 4, 0, 0, 0, 2, 0, 0, 2], 202504)
    fig.add([D(50), 9, 0, 0, 0, 0, 0, 0, 9], 202412)
    quarterly = engine.Quota("季度报送任务", "quarter", 5, (("analysis", 1),))
    monthly = engine.Quota("月度报送任务", "month", 3)
    windows = [
        (quarterly, [(202501, 202503), (202504, 202506), (202511, 202602)]),
        (monthly, [(202501, 202501), (202502, 202502), (202503, 202503), (202504, 202504)]),
    ]
    summary, missed = rankings.quota_summary(None, fig, rankings.current_period("year"), windows)
    # Q1: 5 items, one 研判 → met; Q2: 4 → missed; Nov 2025–Feb 2026 holds none of these months
    # (202502 is February 2025, 202412 December 2024) → missed. Months: January 3 and April 4
    # meet 3, February 2 and March 0 do not.
    assert (summary, missed) == ("季度报送任务 1/3；月度报送任务 2/4", True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL 的数组字面量")
def test_array_literals_for_postgresql_keep_every_value(db: None) -> None:
    texts = ['a"b', "c\\d", "NULL", "", "{x,y}", " 前后 ", "“引号”，逗号,", '\\"', "end\\"]
    moment = dt.datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[], %s::boolean[], %s::numeric[], %s::timestamptz[]",
            [
                ledger._array_text(texts),
                ledger._array_text([1, None, -3]),
                ledger._array_text([True, False, None]),
                ledger._array_text([D("1.50"), D("-0.01")]),
                ledger._array_text([moment]),
            ],
        )
        row = cursor.fetchone()
    assert row == (texts, [1, None, -3], [True, False, None], [D("1.50"), D("-0.01")], [moment])


def test_the_fast_moment_adapter_gives_what_djangos_gives(db: None) -> None:
    fast = ledger._moment_adapter()
    shanghai = ledger.local_tz()
    moments = [
        dt.datetime(2025, 1, 1, 0, 0, tzinfo=shanghai),
        dt.datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2024, 2, 29, 12, 0, 0, 5, tzinfo=shanghai),
        dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ]
    # PostgreSQL's text drops a fraction's trailing zeros: every length of it, with the offset.
    moments += [
        dt.datetime(2026, 12, 7, 5, 11, 54, micro, tzinfo=dt.UTC)
        for micro in (800000, 820000, 822000, 822100, 822120, 822123)
    ]
    for moment in moments:
        assert fast(moment) == connection.ops.adapt_datetimefield_value(moment)
        # … and what the database gives back as text is read as the same moment.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {ledger.AT} FROM (SELECT %s AS at) t",
                [connection.ops.adapt_datetimefield_value(moment)],
            )
            (text,) = cursor.fetchone()
        assert ledger._aware(text) == moment and ledger._aware(text).utcoffset() is not None


def test_facts_read_in_batches_equal_facts_read_at_once(
    world: Any, city_scheme: Scheme, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recompute reads thousands of items in batches (on SQLite): batch edges lose nothing."""
    items = [
        submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, f"分批读取{n}")
        for n in range(3)
    ]
    ids = [item.pk for item in items]
    whole = ledger.facts_of_items(ids, ledger.ALL_TIME.end)
    monkeypatch.setattr(ledger, "_chunk", lambda: 1)
    one_by_one = ledger.facts_of_items(ids, ledger.ALL_TIME.end)
    assert len(whole) == 3
    assert sorted(one_by_one) == sorted(whole)


def test_facts_read_with_the_heads_found_equal_facts_read_alone(world: Any) -> None:
    """A recompute's check finds the items with their unit, type and kind and does not read them
    again: the same facts, and an id the heads do not name is not read."""
    special = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "专报稿")
    Submission.objects.filter(pk=special.pk).update(item_type="special", kind="analysis")
    news = submitted(
        world.county_b,
        make_person("officer_b", world.county_b, Role.OFFICER),
        make_person("reviewer_b", world.county_b, Role.REVIEWER),
        "新闻稿",
    )
    start, end = ledger.ALL_TIME.start, dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    found = [
        (pk, *head) for pk, head in ledger.touched_heads(start, end, world.province.path).items()
    ]
    assert {(pk, unit_id) for pk, unit_id, _t, _k in found} == {
        (special.pk, world.county_a.pk),
        (news.pk, world.county_b.pk),
    }
    assert (special.pk, world.county_a.pk, "special", "analysis") in found
    heads = {pk: (unit_id, item_type, kind) for pk, unit_id, item_type, kind in found}
    ids = sorted(heads)
    alone = ledger.facts_of_items(ids, end, authors=False)
    assert {(f.item_type, f.item_kind) for f in alone} == {
        ("special", "analysis"),
        ("info", "dynamic"),
    }
    assert sorted(ledger.facts_of_items(ids, end, authors=False, heads=heads)) == sorted(alone)
    del heads[news.pk]
    assert [f.item_id for f in ledger.facts_of_items(ids, end, heads=heads)] == [special.pk]


def test_a_capped_version_adopted_between_two_events_of_a_unit_counts_its_window(
    world: Any,
) -> None:
    """Recording reads the versions in force with the item and guesses, from the unit's last
    event that day, which of them have a period cap to sum. Here the province's capped scheme
    comes into force between two submissions of 安平县: the second is capped by what the first
    already holds in the province's window, although the guess did not know the version."""
    capped = replace(engine.CITY_HIGHEST, period_cap=D("8"), period_cap_per="month")
    city = workflow.create_scheme(
        by=world.editor_city,
        unit=world.city_a,
        name="临江市计分（月封顶12分）",
        data=engine.scheme_as_data(replace(capped, period_cap=D("12"))),
    )
    today = dt.datetime.now(ledger.local_tz()).date()
    workflow.adopt_version(by=world.editor_city, version=city.versions.get(), effective_from=today)
    officer, reviewer = world.officer_county_a, world.reviewer_county_a
    submitted(world.county_a, officer, reviewer, "封顶前的第一篇")  # 5 under the city's scheme
    editor_province = make_person("editor_province_cap", world.province, Role.EDITOR)
    province = workflow.create_scheme(
        by=editor_province,
        unit=world.province,
        name="江川省计分（月封顶8分）",
        data=engine.scheme_as_data(capped),
    )
    workflow.adopt_version(
        by=editor_province, version=province.versions.get(), effective_from=today
    )
    # Adopting it from today scored the first submission under it: 5 of its 8.
    assert unit_points(province, "CA1") == D("5.00")
    submitted(world.county_a, officer, reviewer, "封顶后的第二篇")
    # City: 5 + 5 = 10 (cap 12). Province: 5 + 3 = 8, the second cut to the room left.
    assert unit_points(city, "CA1") == D("10.00")
    assert unit_points(province, "CA1") == D("8.00")
    for scheme in (city, province):
        version = scheme.versions.get()
        start = dt.datetime.combine(today, dt.time(), ledger.local_tz())
        stats = workflow.recompute(version, start, start + dt.timedelta(days=1))
        assert stats["corrected"] == 0
        assert_rollup_equals_ledger(scheme)


def test_a_wrong_guess_of_the_versions_in_force_changes_no_score(world: Any) -> None:
    """The guess is only trusted for a version in force with the same scheme and rules: an id
    seen before with another scheme (SQLite gives ids back after a rollback) is read again."""
    today = dt.datetime.now(ledger.local_tz()).date()
    # Another scheme over the same county, 9 points a submission: its window sums differ.
    other = workflow.create_scheme(
        by=world.editor_city,
        unit=world.city_a,
        name="临江市另一计分办法",
        data=engine.scheme_as_data(replace(engine.CITY_HIGHEST, submit_points={"info": D(9)})),
    )
    workflow.adopt_version(by=world.editor_city, version=other.versions.get(), effective_from=today)
    rules = replace(engine.CITY_HIGHEST, period_cap=D("12"), period_cap_per="month")
    scheme = workflow.create_scheme(
        by=world.editor_city,
        unit=world.city_a,
        name="临江市计分（月封顶12分）",
        data=engine.scheme_as_data(rules),
    )
    version = workflow.adopt_version(
        by=world.editor_city, version=scheme.versions.get(), effective_from=today
    )
    officer, reviewer = world.officer_county_a, world.reviewer_county_a
    submitted(world.county_a, officer, reviewer, "第一篇")  # 5 here, 9 there
    seen = ledger._capped_seen[today]
    # The capped version's id, but the other scheme's: trusted, its window would hold 9 and
    # leave the second submission 3 instead of 5.
    seen[version.pk] = ledger.InForce(
        SchemeVersion(id=version.pk, scheme_id=other.pk),
        seen[version.pk].owner_path,
        replace(seen[version.pk].rules, label="旧的"),
    )
    submitted(world.county_a, officer, reviewer, "第二篇")
    assert unit_points(scheme, "CA1") == D("10.00")
    submitted(world.county_a, officer, reviewer, "第三篇")  # 5 + 5 + 5 = 15, capped at 12
    assert unit_points(scheme, "CA1") == D("12.00")
    assert unit_points(other, "CA1") == D("27.00")
    stats = workflow.recompute(
        version,
        dt.datetime.combine(today, dt.time(), ledger.local_tz()),
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
    )
    assert stats["corrected"] == 0


_ZONES = [
    dt.UTC,
    ledger.local_tz(),
    dt.timezone(dt.timedelta(hours=-5)),
    ZoneInfo("America/New_York"),  # with daylight saving time
]


@settings(max_examples=200, deadline=None)
@given(
    moments=st.lists(
        # Naive bounds (hypothesis draws naive moments); each is given a zone below.
        st.datetimes(
            min_value=dt.datetime(2020, 1, 1),  # noqa: DTZ001
            max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001
        ).flatmap(
            # Near a month's turn as often as not: the bounds are what could go wrong.
            lambda d: st.sampled_from(
                [
                    d,
                    d.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
                    d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                    - dt.timedelta(microseconds=1),
                    d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                    - dt.timedelta(minutes=30),
                ]
            )
        ),
        max_size=60,
    ),
    order=st.sampled_from(["sorted", "as drawn"]),
    zone=st.sampled_from(range(len(_ZONES))),
    moments_zone=st.sampled_from(range(len(_ZONES))),
)
def test_months_of_many_moments_are_each_moments_month(
    moments: list[dt.datetime], order: str, zone: int, moments_zone: int
) -> None:
    """`months_in` keeps the last month's bounds: in or out of time order, in any time zone of
    the moments and of the months, each moment gets `month_of`'s month."""
    tz = _ZONES[zone]
    aware = [m.replace(tzinfo=_ZONES[moments_zone]) for m in moments]
    if order == "sorted":
        aware.sort()
    month = ledger.months_in(tz)
    assert [month(at) for at in aware] == [ledger.month_of(at, tz) for at in aware]


def test_a_moment_just_before_the_last_months_start_is_in_the_month_before() -> None:
    tz = ledger.local_tz()
    february = dt.datetime(2025, 2, 1, tzinfo=tz)
    month = ledger.months_in(tz)
    assert month(february.astimezone(dt.UTC)) == 202502
    assert month((february - dt.timedelta(microseconds=1)).astimezone(dt.UTC)) == 202501
    assert month(dt.datetime(2025, 2, 28, 23, 59, tzinfo=tz)) == 202502
    assert month(dt.datetime(2025, 3, 1, tzinfo=tz)) == 202503


def test_the_authors_ranking_has_each_authors_ledger_sums(world: Any, city_scheme: Scheme) -> None:
    """Whole months come from the person rollup, a partial month's days from the ledger lines;
    either way each author's figures are the sums of their lines in the period."""
    officer_a2 = make_person("officer_a2", world.county_a2, Role.OFFICER)
    reviewer_a2 = make_person("reviewer_a2", world.county_a2, Role.REVIEWER)
    journal = city_journal(world)
    for n in range(3):
        item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, f"甲{n}")
        if n:
            adopt_whole(world, journal, item)
    adopt_whole(world, journal, submitted(world.county_a2, officer_a2, reviewer_a2, "乙"))
    now = dt.datetime.now(tz=dt.UTC)
    periods = [
        rankings.current_period("year"),  # whole months: the rollup
        engine.Period("custom", now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)),
    ]
    for period in periods:
        lines = (
            LedgerEntry.objects.filter(
                scheme=city_scheme,
                person__isnull=False,
                at__gte=period.start,
                at__lt=period.end,
            )
            .values("person_id")
            .annotate(p=Sum("points"), s=Sum("d_submitted"), a=Sum("d_adopted"))
        )
        expected = {str(r["person_id"]): (r["p"], r["s"], r["a"]) for r in lines}
        rows = rankings.person_ranking(city_scheme, world.city_a, period)
        got = {r.key: (r.figures.points, r.figures.submitted, r.figures.adopted) for r in rows}
        assert got == expected
        assert got[str(world.officer_county_a.pk)] == (D("35.00"), 3, 2)  # 3 × 5 + 2 × 10
        assert rows[0].key == str(world.officer_county_a.pk)


@pytest.mark.parametrize("action", ["adopt", "unadopt", "relead", "instruct", "forward"])
def test_a_publication_fact_made_positionally_names_every_field(action: str) -> None:
    """`_publication_fact` builds facts positionally (the hot path of a recompute): each field
    ends up where a fact made with keywords puts it."""
    author = engine.Author("7", 100)
    info = ledger._Item("CA1", "info", "problem", (author,))
    at = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    data: dict[str, Any] = {
        "adopting_unit": "CA",
        "adopting_level": "city",
        "publication_kind": "journal",
        "form": "excerpt",
        "is_lead": True,
        "sources": [
            {"item": 11, "origin_unit": "CA1", "share": 60, "lead_source": True},
            {"item": 12, "origin_unit": "CA2", "share": 40, "forwarded_by": "CA"},
        ],
        "instruction_level": "province",
        "principal": True,
        "forwarder": "CA",
        "forwarder_level": "city",
        "to": ["P", "X"],
    }
    fact = ledger._publication_fact(9, info, 11, action, at, 3, data, {"P": "province"})
    common: dict[str, Any] = dict(
        event_id="p9", at=at, item_id=11, item_type="info", item_kind="problem",
        origin_unit="CA1", authors=(author,), adoption_id=3,
    )  # fmt: skip
    sources = (
        engine.Source(item=11, origin_unit="CA1", share=60, lead_source=True),
        engine.Source(item=12, origin_unit="CA2", share=40, forwarded_by="CA"),
    )
    expected = {
        "forward": engine.Fact(
            kind=engine.FORWARD, adopting_unit="CA", adopting_level="city",
            to_levels=("province", ""), **common,
        ),
        "instruct": engine.Fact(
            kind=engine.INSTRUCT, adopting_unit="CA", adopting_level="city", sources=sources,
            instruction_level="province", principal=True, **common,
        ),
    }  # fmt: skip
    kind = ledger.ADOPTION_KIND.get(action, "")
    want = expected.get(action) or engine.Fact(
        kind=kind, adopting_unit="CA", adopting_level="city", publication_kind="journal",
        form="excerpt", is_lead=True, sources=sources, **common,
    )  # fmt: skip
    assert fact._asdict() == want._asdict()
    # Documents without the optional keys get the engine's defaults.
    bare = ledger._publication_fact(9, info, 11, action, at, None, {}, {})
    assert (bare.form, bare.is_lead, bare.principal, bare.sources) == ("whole", False, False, ())


def test_a_recompute_from_empty_counts_a_withdrawn_adoption_as_withdrawn(
    world: Any, city_scheme: Scheme
) -> None:
    """The replacement lines are written in the replay's order: event p10's withdrawal after
    event p9's adoption, so the withdrawal takes back the adoption's count (as text, "p10" sorts
    before "p9", and the adoption stayed counted)."""
    with connection.cursor() as cursor:  # the next publication event is number 9
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('publications_event', 'id'), 8)")
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'publications_event'")
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('publications_event', 8)"
            )
    item = submitted(world.county_a, world.officer_county_a, world.reviewer_county_a, "一")
    adoption = adopt_whole(world, city_journal(world), item)
    pubs.withdraw_adoption(by=world.editor_city, adoption=adoption, reason="误采，撤销")
    assert set(
        LedgerEntry.objects.filter(
            scheme=city_scheme, category__in=("adopt", "withdraw")
        ).values_list("event_key", flat=True)
    ) == {"p9", "p10"}
    year = rankings.current_period("year")

    def county() -> tuple[Decimal, int, int]:
        row = next(
            r for r in rankings.unit_ranking(city_scheme, world.city_a, year)
            if r.unit == world.county_a
        )  # fmt: skip
        return row.figures.points, row.figures.submitted, row.figures.adopted

    assert county() == (D("5.00"), 1, 0)  # 报送 5; adopted and withdrawn
    with lifted(LedgerEntry._meta.db_table) as cursor:  # from an empty ledger
        for model in (LedgerEntry, UnitMonth, PersonMonth):
            cursor.execute(
                f"DELETE FROM {model._meta.db_table} WHERE scheme_id = %s", [city_scheme.pk]
            )
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    assert workflow.recompute(city_scheme.versions.get(), start, end)["corrected"] == 6
    assert county() == (D("5.00"), 1, 0)
    assert_rollup_equals_ledger(city_scheme)
