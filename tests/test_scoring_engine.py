"""The pure scoring engine: hand-computed scenarios (arithmetic in the comments) and invariants.

No database: the engine takes plain facts and returns plain entries.
"""

import datetime as dt
import random
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from baosong.scoring import engine
from baosong.scoring.engine import (
    Author,
    Entry,
    Fact,
    Quota,
    Scheme,
    Source,
    Total,
    month_period,
    person_totals,
    quarter_period,
    quota_status,
    rank,
    score,
    unit_totals,
)

TZ = ZoneInfo("Asia/Shanghai")
MARCH = month_period(2026, 3, TZ)
APRIL = month_period(2026, 4, TZ)
Q1 = quarter_period(2026, 1, TZ)
H1 = engine.Period("2026-H1", Q1.start, quarter_period(2026, 2, TZ).end)
D = Decimal


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=TZ)


# The figures of the issue: submitted 5, city adoption 10, submitted to the province 5, province
# adoption 40, State Council office (central) 80, a city principal leader's instruction +30.
BASE = Scheme(
    version="test-v1",
    label="测试计分办法",
    submit_points={"info": D(5), "news": D(3)},
    reach_points={"province": D(5)},
    adoption_base={"city": D(10), "province": D(40), "central": D(80)},
    form_factor={"combined": D("0.8"), "one_line": D("0.3325")},
    lead_multiplier=D("1.5"),
    instruction_points={("city", True): D(30), ("province", True): D(60)},
    forward_credit={"province": D(5), "central": D(10)},
)
HIGHEST = replace(BASE, version="test-highest", level_policy="highest")

SOLO = (Author("zhang", 100),)


def submit(
    eid: str,
    when: dt.datetime,
    item: int,
    unit: str,
    *,
    item_kind: str = "dynamic",
    authors: tuple[Author, ...] = SOLO,
) -> Fact:
    return Fact(
        kind="submit",
        event_id=eid,
        at=when,
        item_id=item,
        item_kind=item_kind,
        origin_unit=unit,
        authors=authors,
        to_levels=("city",),
    )


def forward(eid: str, when: dt.datetime, item: int, unit: str, by: str, to: str) -> Fact:
    return Fact(
        kind="forward",
        event_id=eid,
        at=when,
        item_id=item,
        origin_unit=unit,
        authors=SOLO,
        adopting_unit=by,
        to_levels=(to,),
    )


def adopt(
    eid: str,
    when: dt.datetime,
    item: int,
    unit: str,
    level: str,
    *,
    adoption: int,
    kind: str = "journal",
    form: str = "whole",
    lead: bool = False,
    sources: tuple[Source, ...] | None = None,
    authors: tuple[Author, ...] = SOLO,
    forwarded_by: str | None = None,
) -> Fact:
    return Fact(
        kind="adopt",
        event_id=eid,
        at=when,
        item_id=item,
        origin_unit=unit,
        authors=authors,
        adopting_unit=f"{level}-office",
        adopting_level=level,
        adoption_id=adoption,
        publication_kind=kind,
        form=form,
        is_lead=lead,
        sources=sources or (Source(item, unit, 100, lead_source=True, forwarded_by=forwarded_by),),
    )


def points_of(entries: list[Entry], unit: str) -> Decimal:
    return sum((e.points for e in entries if e.unit == unit and not e.person), D(0))


def unit_only(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.person]


def unit_rows(entries: list[Entry]) -> list[tuple[str, str, Decimal]]:
    return [(e.event_id, e.category, e.points) for e in entries if not e.person]


# The item of county A in scenario 1: submitted to the city, adopted there, forwarded to the
# province and adopted there too.
LADDER = [
    submit("s1", at(3, 2), 1, "A"),
    adopt("a1", at(3, 5), 1, "A", "city", adoption=11),
    forward("f1", at(3, 6), 1, "A", by="CITY", to="province"),
    adopt("a2", at(3, 20), 1, "A", "province", adoption=12, forwarded_by="CITY"),
]


def test_adding_levels_counts_every_adoption() -> None:
    entries = score(BASE, LADDER, MARCH)
    # submitted 5 + city adoption 10 + submitted to the province 5 + province adoption 40 = 60
    assert unit_rows([e for e in entries if e.unit == "A"]) == [
        ("s1", "submit", D(5)),
        ("a1", "adopt", D(10)),
        ("f1", "reach", D(5)),
        ("a2", "adopt", D(40)),
    ]
    assert points_of(entries, "A") == D(60)
    # The city forwarded an item the province adopted: forwarding credit 5.
    assert points_of(entries, "CITY") == D(5)
    assert unit_only(entries)[1].rule == "市级信息刊物全文采用 10 分"


def test_highest_level_only_reverses_the_lower_adoption_when_the_item_climbs() -> None:
    entries = score(HIGHEST, LADDER, MARCH)
    # submitted 5 + city 10 + submitted to the province 5 + province 40 − city 10 = 50
    assert unit_rows([e for e in entries if e.unit == "A"]) == [
        ("s1", "submit", D(5)),
        ("a1", "adopt", D(10)),
        ("f1", "reach", D(5)),
        ("a2", "supersede", D(-10)),
        ("a2", "adopt", D(40)),
    ]
    assert points_of(entries, "A") == D(50)
    supersede = next(e for e in entries if e.category == "supersede" and not e.person)
    assert supersede.ref == "a1"
    assert "只计最高级别" in supersede.rule


def test_highest_level_only_across_months_corrects_in_the_later_month() -> None:
    facts = [*LADDER[:3], LADDER[3]._replace(at=at(4, 8))]
    march, april = score(HIGHEST, facts, MARCH), score(HIGHEST, facts, APRIL)
    # March: 5 + 10 + 5 = 20, and scoring April (with all facts) leaves March as it was.
    assert points_of(march, "A") == D(20)
    assert march == score(HIGHEST, facts[:3], MARCH)
    # April: province 40 − city 10 already counted in March = 30; in all 20 + 30 = 50.
    assert points_of(april, "A") == D(30)
    assert points_of(score(HIGHEST, facts, H1), "A") == D(50)


def test_highest_level_only_a_lower_or_equal_adoption_earns_nothing_but_says_why() -> None:
    facts = [
        submit("s1", at(3, 2), 1, "A"),
        adopt("a1", at(3, 5), 1, "A", "province", adoption=11),
        adopt("a2", at(3, 6), 1, "A", "city", adoption=12, kind="special"),
        adopt("a3", at(3, 7), 1, "A", "province", adoption=13, kind="website"),
    ]
    entries = score(HIGHEST, facts, MARCH)
    # 5 + province 40; the later city adoption and the equal-level website adoption add 0.
    assert points_of(entries, "A") == D(45)
    notes = [e for e in entries if e.event_id in ("a2", "a3")]
    assert [e.points for e in notes] == [D(0), D(0)]
    assert all("已按省级信息刊物采用计分" in e.rule for e in notes)


def test_withdrawing_the_credited_adoption_falls_back_to_the_next_highest() -> None:
    facts = [
        *LADDER,
        Fact(
            kind="unadopt",
            event_id="u2",
            at=at(3, 25),
            item_id=1,
            origin_unit="A",
            authors=SOLO,
            adoption_id=12,
        ),
    ]
    entries = score(HIGHEST, facts, MARCH)
    # 50 as above, then the province adoption is withdrawn: −40 and its forwarding credit −5,
    # and the city adoption counts again: +10. A: 50 − 40 + 10 = 20; the city: 5 − 5 = 0.
    assert unit_rows([e for e in entries if e.event_id == "u2"]) == [
        ("u2", "withdraw", D(-40)),
        ("u2", "withdraw", D(-5)),
        ("u2", "adopt", D(10)),
    ]
    assert points_of(entries, "A") == D(20)
    assert points_of(entries, "CITY") == D(0)


def test_lead_item_multiplier_is_written_in_the_rule() -> None:
    facts = [
        submit("s1", at(3, 2), 1, "A"),
        adopt("a1", at(3, 5), 1, "A", "city", adoption=1, lead=True),
    ]
    entry = unit_only(score(BASE, facts, MARCH))[1]
    # 10 × 1.5 = 15
    assert entry.points == D(15)
    assert entry.rule == "市级信息刊物全文采用 10 分 × 头条 1.5 = 15 分"
    assert unit_totals(score(BASE, facts, MARCH))["A"].lead_items == 1


COMBINED_SOURCES = (
    Source(1, "A", 50, lead_source=True),
    Source(2, "B", 30),
    Source(3, "C", 20),
)


def combined_facts() -> list[Fact]:
    return [
        adopt(
            f"a{i}",
            at(3, 10),
            i,
            unit,
            "city",
            adoption=7,
            form="combined",
            sources=COMBINED_SOURCES,
        )
        for i, unit in ((1, "A"), (2, "B"), (3, "C"))
    ]


def test_combined_piece_from_three_units_split_by_recorded_shares() -> None:
    entries = score(BASE, combined_facts(), MARCH)
    # city adoption 10 × combined 0.8 = 8 points for the piece;
    # A 8 × 50% = 4, B 8 × 30% = 2.40, C 8 × 20% = 1.60; 4 + 2.40 + 1.60 = 8
    assert [points_of(entries, u) for u in "ABC"] == [D(4), D("2.40"), D("1.60")]
    assert (
        unit_only(entries)[0].rule == "市级信息刊物综合采用 10 分 × 综合 0.8 × 综合份额 50% = 4 分"
    )


def test_combined_piece_from_three_units_lead_split() -> None:
    scheme = replace(BASE, combined_credit="lead_split", lead_fraction=D("0.5"))
    entries = score(scheme, combined_facts(), MARCH)
    # 8 points: the lead unit A 8 × 0.5 = 4; B and C share the rest: (8 − 4) / 2 = 2 each
    assert [points_of(entries, u) for u in "ABC"] == [D(4), D(2), D(2)]
    assert "主报 50%" in unit_only(entries)[0].rule
    assert "协报均分 25%" in unit_only(entries)[1].rule


def test_combined_piece_lead_split_keeps_every_cent() -> None:
    scheme = replace(BASE, combined_credit="lead_split", lead_fraction=D("0.4"))
    facts = [f._replace(is_lead=True) for f in combined_facts()]
    entries = score(scheme, facts, MARCH)
    # 10 × 0.8 × 1.5 (lead item) = 12; A 12 × 0.4 = 4.80; B and C (12 × 0.6) / 2 = 3.60 each
    assert [points_of(entries, u) for u in "ABC"] == [D("4.80"), D("3.60"), D("3.60")]
    odd = replace(scheme, lead_fraction=D("0.5"), adoption_base={"city": D("10.01")})
    entries = score(odd, combined_facts(), MARCH)
    # 10.01 × 0.8 = 8.008 → 8.01; A 4.005 and B, C 2.0025 each: 801 cents by largest remainder
    # are 400.5 → 401 (largest remainder, first listed), 200.25 → 200, 200.25 → 200
    assert [points_of(entries, u) for u in "ABC"] == [D("4.01"), D("2.00"), D("2.00")]


def test_forwarded_item_adopted_by_the_province_with_a_principal_leader_instruction() -> None:
    facts = [
        submit("s1", at(3, 2), 1, "A"),
        forward("f1", at(3, 3), 1, "A", by="CITY", to="province"),
        adopt("a1", at(3, 9), 1, "A", "province", adoption=5, forwarded_by="CITY"),
        Fact(
            kind="instruct",
            event_id="i1",
            at=at(3, 12),
            item_id=1,
            origin_unit="A",
            authors=SOLO,
            adopting_unit="province-office",
            adopting_level="province",
            adoption_id=5,
            sources=(Source(1, "A", 100, lead_source=True),),
            instruction_level="province",
            principal=True,
        ),
    ]
    entries = score(BASE, facts, MARCH)
    # A: submitted 5 + submitted to the province 5 + province adoption 40 + principal 60 = 110
    assert points_of(entries, "A") == D(110)
    # The city forwarded it: forwarding credit for a province adoption, 5 points.
    assert points_of(entries, "CITY") == D(5)
    assert unit_rows([e for e in entries if e.event_id == "a1"]) == [
        ("a1", "adopt", D(40)),
        ("a1", "forward", D(5)),
    ]
    instruction = next(e for e in entries if e.event_id == "i1")
    assert instruction.rule == "省级主要领导批示 +60 分"
    totals = unit_totals(entries)
    assert (totals["A"].submitted, totals["A"].adopted, totals["A"].instructions) == (1, 1, 1)
    # As a fraction instead: 20% of the adoption's 40 points = 8 for the city.
    fraction = replace(BASE, forward_credit={"province": D("0.2")}, forward_credit_mode="fraction")
    assert points_of(score(fraction, facts, MARCH), "CITY") == D(8)


def test_co_author_shares_split_odd_points_exactly() -> None:
    authors = (Author("li", 60), Author("wang", 40))
    facts = [
        submit("s1", at(3, 2), 1, "A", authors=authors),
        adopt("a1", at(3, 5), 1, "A", "city", adoption=1, form="one_line", authors=authors),
    ]
    entries = score(BASE, facts, MARCH)
    # submit 5: li 5 × 60% = 3, wang 5 × 40% = 2.
    # one-line city adoption 10 × 0.3325 = 3.325 → 3.33 (half up; banker's rounding gives 3.32).
    # 333 cents: li 199.8, wang 133.2 → floors 199 + 133 = 332; the one cent left goes to the
    # larger remainder (li, .8): li 2.00, wang 1.33; 2.00 + 1.33 = 3.33.
    adoption = [e for e in entries if e.event_id == "a1"]
    assert [(e.person, e.points) for e in adoption] == [
        ("", D("3.33")),
        ("li", D("2.00")),
        ("wang", D("1.33")),
    ]
    people = person_totals(entries)
    # li 3 + 2.00 = 5.00, wang 2 + 1.33 = 3.33; together 8.33 = the unit's points
    assert people["li"].points == D("5.00")
    assert people["wang"].points == D("3.33")
    assert people["li"].points + people["wang"].points == unit_totals(entries)["A"].points
    assert adoption[1].rule.endswith("作者份额 60/100")


QUOTA_SCHEME = replace(
    BASE,
    quotas=(
        Quota("每周报送任务", "week", 1),  # flagged only
        Quota("每月报送任务", "month", 2, deduction=D(5)),
        Quota("季度研判任务", "quarter", 0, min_kinds=(("analysis", 1),), deduction=D(10)),
    ),
)
QUOTA_FACTS = [
    submit("s1", at(3, 2), 1, "A", item_kind="analysis"),
    submit("s2", at(3, 10), 2, "A"),
    submit("s3", at(3, 3), 3, "B"),
]


def test_missed_quota_is_deducted_and_flagged() -> None:
    entries = score(QUOTA_SCHEME, QUOTA_FACTS, MARCH, units=["A", "B", "Z"])
    # A: 2 items this month (one of them 研判): 5 + 5 = 10, nothing deducted.
    assert points_of(entries, "A") == D(10)
    # B: 1 item: 5 − 5 (month: 1 < 2) − 10 (Q1 ends in March: no 研判) = −10
    assert points_of(entries, "B") == D(-10)
    # Z submitted nothing: − 5 − 10 = −15
    assert points_of(entries, "Z") == D(-15)
    quota = [e for e in entries if e.unit == "B" and e.category == "quota"]
    assert [e.points for e in quota] == [D(-5), D(-10)]
    assert quota[0].rule == "2026-03每月报送任务未完成（本月报送 1 条，少于 2 条），扣 5 分"
    assert quota[0].at == MARCH.end - dt.timedelta(microseconds=1)
    assert "研判类 0 条，少于 1 条" in quota[1].rule
    # The weekly quota is only flagged. Weeks ending in March: W09 (ends Mon 2 March) … W13;
    # W14 (30 March – 5 April) is still open at the end of March.
    weekly = [
        s
        for s in quota_status(QUOTA_SCHEME, QUOTA_FACTS, MARCH, ["A"])
        if s.quota == "每周报送任务"
    ]
    assert [(s.window, s.closed, s.met) for s in weekly] == [
        ("2026-W09", True, False),
        ("2026-W10", True, True),
        ("2026-W11", True, True),
        ("2026-W12", True, False),
        ("2026-W13", True, False),
        ("2026-W14", False, False),
    ]
    assert all(s.deduction == 0 for s in weekly)
    # February judges neither the March month nor Q1.
    assert score(QUOTA_SCHEME, QUOTA_FACTS, month_period(2026, 2, TZ), units=["B"]) == [
        e
        for e in score(QUOTA_SCHEME, [], month_period(2026, 2, TZ), units=["B"])
        if e.category == "quota"
    ]


def test_confirmed_copying_reverses_the_points_and_deducts() -> None:
    scheme = replace(BASE, copy_penalty=D(20))
    facts = [
        submit("s1", at(3, 2), 1, "A"),
        forward("f1", at(3, 3), 1, "A", by="CITY", to="province"),
        adopt("a1", at(3, 9), 1, "A", "province", adoption=5, forwarded_by="CITY"),
        Fact(
            kind="confirmed_copy",
            event_id="c1",
            at=at(4, 2),
            item_id=1,
            origin_unit="A",
            authors=SOLO,
        ),
        adopt("a2", at(4, 5), 1, "A", "central", adoption=6),
    ]
    march, april = score(scheme, facts, MARCH), score(scheme, facts, APRIL)
    # March: 5 + 5 + 40 = 50 for A, 5 forwarding credit for the city.
    assert (points_of(march, "A"), points_of(march, "CITY")) == (D(50), D(5))
    # April: copying confirmed: −5 −5 −40 reversed, −20 penalty; the later central adoption
    # earns 0. A: −70, so 50 − 70 = −20 over both months; the city's 5 is reversed too.
    assert unit_rows([e for e in april if e.unit == "A"]) == [
        ("c1", "void", D(-5)),
        ("c1", "void", D(-5)),
        ("c1", "void", D(-40)),
        ("c1", "penalty", D(-20)),
        ("a2", "adopt", D(0)),
    ]
    assert points_of(april, "CITY") == D(-5)
    assert [e.ref for e in april if e.category == "void" and not e.person] == [
        "s1",
        "f1",
        "a1",
        "a1",
    ]
    both = score(scheme, facts, H1)
    assert points_of(both, "A") == D(-20)
    assert unit_totals(both)["A"].adopted == 0


def test_manual_deduction_without_an_item() -> None:
    fact = Fact(
        kind="deduct", event_id="d1", at=at(3, 9), origin_unit="A", points=D(3), note="迟报"
    )
    [entry] = score(BASE, [fact], MARCH)
    assert (entry.points, entry.rule, entry.item_id) == (D(-3), "迟报，扣 3 分", None)


def test_caps_per_item_and_per_month() -> None:
    scheme = replace(BASE, item_cap=D(12), period_cap=D(20), period_cap_per="month")
    facts = [
        submit("s1", at(3, 2), 1, "A"),
        adopt("a1", at(3, 5), 1, "A", "city", adoption=1),
        submit("s2", at(3, 6), 2, "A"),
        adopt("a2", at(3, 9), 2, "A", "city", adoption=2),
        submit("s3", at(4, 1), 3, "A"),
    ]
    entries = score(scheme, facts, H1)
    # item 1: 5 + min(10, item cap 12 − 5 = 7) = 12 (month so far 12)
    # item 2: 5 (month 17) + min(10, item room 7, month room 20 − 17 = 3) = 3 (month 20)
    # April: a new month, 5.
    assert unit_rows(entries) == [
        ("s1", "submit", D(5)),
        ("a1", "adopt", D(7)),
        ("s2", "submit", D(5)),
        ("a2", "adopt", D(3)),
        ("s3", "submit", D(5)),
    ]
    assert unit_only(entries)[1].rule.endswith(
        "（受单条上限 12 分、每月上限 20 分限制，实计 7 分）"
    )
    assert points_of(entries, "A") == D(25)


def test_rank_uses_competition_ranking_and_reports_the_change() -> None:
    totals = [
        Total("D", D(30), adopted=1),
        Total("B", D(50), adopted=2),
        Total("A", D(50), adopted=2),
        Total("C", D(50), adopted=3),
        Total("E", D(10)),
    ]
    ranking = rank(totals, previous={"A": 1, "B": 2, "C": 4, "D": 3})
    # C 50/3 first; A and B 50/2 share second (listed by code); D fourth; E fifth.
    assert [(r.rank, r.key, r.change) for r in ranking] == [
        (1, "C", 3),
        (2, "A", -1),
        (2, "B", 0),
        (4, "D", -1),
        (5, "E", None),
    ]
    assert [r.rank for r in rank(totals, tie_break=("points",))] == [1, 1, 1, 4, 5]


def test_by_adoption_rate_a_unit_that_submitted_nothing_comes_last() -> None:
    totals = [
        Total("A", D(0)),  # no rate: nothing submitted
        Total("B", D(5), submitted=4, adopted=1),  # 25%
        Total("C", D(9), submitted=2, adopted=1),  # 50%
        Total("D", D(1), submitted=0, adopted=0),
    ]
    ranking = rank(totals, tie_break=("adoption_rate", "points"))
    # A and D have no rate; D's point decides between them.
    assert [(r.rank, r.key) for r in ranking] == [(1, "C"), (2, "B"), (3, "D"), (4, "A")]
    assert [(r.rank, r.key) for r in rank(totals, tie_break=("adoption_rate",))] == [
        (1, "C"),
        (2, "B"),
        (3, "A"),
        (3, "D"),
    ]


def _ranked_plainly(totals: list[Total], tie_break: tuple[str, ...]) -> list[tuple[int, str]]:
    """Competition ranking written out the slow, obvious way."""

    def figures(t: Total) -> tuple[Decimal, ...]:
        return tuple(D(-1) if getattr(t, n) is None else D(getattr(t, n)) for n in tie_break)

    ordered = sorted(totals, key=lambda t: (tuple(-v for v in figures(t)), t.key))
    out: list[tuple[int, str]] = []
    for position, t in enumerate(ordered, start=1):
        same = out and figures(ordered[position - 2]) == figures(t)
        out.append((out[-1][0] if same else position, t.key))
    return out


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 300).map(lambda c: D(c).scaleb(-2)),  # few values: many ties
            st.integers(0, 4),
            st.integers(0, 4),
            st.integers(0, 2),
        ),
        max_size=40,
    ),
    tie_break=st.lists(st.sampled_from(engine.RANK_KEYS), min_size=1, max_size=3, unique=True),
)
def test_rank_equals_the_plain_competition_ranking(
    rows: list[tuple[Decimal, int, int, int]], tie_break: list[str]
) -> None:
    totals = [
        Total(f"U{n:02d}", points, submitted=sub, adopted=min(adopted, sub), lead_items=lead)
        for n, (points, sub, adopted, lead) in enumerate(rows)
    ]
    random.Random(len(rows)).shuffle(totals)
    got = [(r.rank, r.key) for r in rank(totals, tie_break=tuple(tie_break))]
    assert got == _ranked_plainly(totals, tuple(tie_break))


def test_demo_schemes_are_valid_and_survive_a_round_trip_through_data() -> None:
    for scheme in engine.DEMO_SCHEMES:
        assert engine.validate(scheme) == []
        assert engine.scheme_from_data(engine.scheme_as_data(scheme)) == scheme
    assert [s.level_policy for s in engine.DEMO_SCHEMES] == ["highest", "add"]


def test_invalid_scheme_data_is_refused_in_chinese() -> None:
    data = engine.scheme_as_data(engine.PROVINCE_ADD)
    data["level_policy"] = "max"
    data["submit_points"]["memo"] = "-1"
    with pytest.raises(ValueError, match="级别计分方式") as caught:
        engine.scheme_from_data(data)
    assert "报送分值中有未知的项目“memo”" in str(caught.value)
    with pytest.raises(ValueError, match="格式不正确"):
        engine.scheme_from_data({"label": "缺版本"})


def test_demo_schemes_score_the_issue_ladder() -> None:
    # 市委办 (highest only): 5 + 10 + 5 + 40 − 10 = 50; the city forwarding credit 5.
    city = score(engine.CITY_HIGHEST, LADDER, MARCH)
    assert (points_of(city, "A"), points_of(city, "CITY")) == (D(50), D(5))
    # 省委办 (add levels): 5 + 10 + 5 + 40 = 60; forwarding 40 × 0.2 = 8.
    province = score(engine.PROVINCE_ADD, LADDER, MARCH)
    assert (points_of(province, "A"), points_of(province, "CITY")) == (D(60), D(8))


def test_duplicate_event_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="重复"):
        score(BASE, [LADDER[0], LADDER[1]._replace(event_id="s1")], MARCH)
    # Out of time order (sorted first), and twice the same moment.
    with pytest.raises(ValueError, match="“s1”重复"):
        score(BASE, [LADDER[1]._replace(event_id="s1"), LADDER[0]], MARCH)
    with pytest.raises(ValueError, match="“s1”重复"):
        score(BASE, [LADDER[0], LADDER[0]], MARCH)


# ---------------------------------------------------------------------------------------------
# Invariants

UNITS = ("A", "B", "D")
PEOPLE = ("p1", "p2", "p3", "p4")


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    """Random but well-formed histories: items submitted, forwarded, adopted (sometimes as a
    combined piece), made or unmade the lead item, instructed, withdrawn, found copied, plus
    deductions."""
    facts: list[Fact] = []
    serial = iter(range(10**6))

    def moment() -> dt.datetime:
        return Q1.start + dt.timedelta(minutes=draw(st.integers(0, 180 * 24 * 60)))

    def eid() -> str:
        return f"e{next(serial)}"

    items: dict[int, tuple[str, tuple[Author, ...], dt.datetime]] = {}
    for item in range(1, draw(st.integers(1, 8)) + 1):
        unit = draw(st.sampled_from(UNITS))
        names = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3, unique=True))
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(1, 99),
                    min_size=len(names) - 1,
                    max_size=len(names) - 1,
                    unique=True,
                )
            )
        )
        shares = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
        authors = tuple(Author(n, s) for n, s in zip(names, shares, strict=True))
        when = moment()
        items[item] = (unit, authors, when)
        common = Fact(
            kind="", event_id="", at=when, item_id=item, origin_unit=unit, authors=authors
        )
        kind = draw(st.sampled_from(engine.ITEM_KINDS))
        facts.append(
            common._replace(
                kind="submit",
                event_id=eid(),
                at=when,
                item_kind=kind,
                to_levels=("city",),
            )
        )
        forwarded = draw(st.booleans())
        if forwarded:
            when += dt.timedelta(hours=draw(st.integers(1, 500)))
            facts.append(
                common._replace(
                    kind="forward",
                    event_id=eid(),
                    at=when,
                    adopting_unit="CITY",
                    to_levels=("province",),
                )
            )
        for adoption in range(draw(st.integers(0, 3))):
            when += dt.timedelta(hours=draw(st.integers(0, 500)))
            level = draw(st.sampled_from(("city", "province", "central", "county")))
            adoption_id = item * 10 + adoption
            adopted = common._replace(
                kind="adopt",
                event_id=eid(),
                at=when,
                adopting_level=level,
                adoption_id=adoption_id,
                publication_kind=draw(st.sampled_from(engine.PUBLICATION_KINDS)),
                form=draw(st.sampled_from(("whole", "excerpt", "one_line"))),
                is_lead=draw(st.booleans()),
                sources=(Source(item, unit, 100, True, "CITY" if forwarded else None),),
            )
            facts.append(adopted)
            for n in range(draw(st.integers(0, 2))):  # 调整头条 while the issue is composed
                facts.append(
                    adopted._replace(
                        kind="relead",
                        event_id=eid(),
                        at=when + dt.timedelta(minutes=30 + 20 * n),
                        is_lead=not adopted.is_lead if n == 0 else adopted.is_lead,
                    )
                )
            if draw(st.booleans()):
                facts.append(
                    common._replace(
                        kind="instruct",
                        event_id=eid(),
                        at=when + dt.timedelta(hours=1),
                        adopting_level=level,
                        adoption_id=adoption_id,
                        instruction_level=draw(st.sampled_from(("city", "province"))),
                        principal=draw(st.booleans()),
                    )
                )
            if draw(st.integers(0, 4)) == 0:
                facts.append(
                    common._replace(
                        kind="unadopt",
                        event_id=eid(),
                        at=when + dt.timedelta(hours=2),
                        adoption_id=adoption_id,
                    )
                )
        if draw(st.integers(0, 5)) == 0:
            facts.append(
                common._replace(
                    kind="confirmed_copy", event_id=eid(), at=when + dt.timedelta(days=3)
                )
            )
    if len(items) >= 2 and draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(sorted(items)), min_size=2, max_size=3, unique=True))
        split = (
            [50, 50] if len(chosen) == 2 else draw(st.sampled_from(([40, 35, 25], [34, 33, 33])))
        )
        sources = tuple(
            Source(i, items[i][0], s, lead_source=(n == 0))
            for n, (i, s) in enumerate(zip(chosen, split, strict=True))
        )
        when = max(items[i][2] for i in chosen) + dt.timedelta(days=1)
        for i in chosen:
            facts.append(
                Fact(
                    kind="adopt",
                    event_id=eid(),
                    at=when,
                    item_id=i,
                    origin_unit=items[i][0],
                    authors=items[i][1],
                    adopting_level="province",
                    adoption_id=999,
                    publication_kind="journal",
                    form="combined",
                    sources=sources,
                )
            )
    for _ in range(draw(st.integers(0, 2))):
        facts.append(
            Fact(
                kind="deduct",
                event_id=eid(),
                at=moment(),
                origin_unit=draw(st.sampled_from(UNITS)),
                points=D(draw(st.integers(1, 9))),
            )
        )
    return facts


SCHEMES = st.sampled_from(
    [
        BASE,
        HIGHEST,
        replace(
            HIGHEST,
            combined_credit="lead_split",
            item_cap=D(45),
            period_cap=D(70),
            copy_penalty=D(20),
        ),
        replace(
            QUOTA_SCHEME, forward_credit_mode="fraction", forward_credit={"province": D("0.3")}
        ),
        *engine.DEMO_SCHEMES,
    ]
)
PERIODS = [month_period(2026, m, TZ) for m in range(1, 7)]


@settings(max_examples=150, deadline=None)
@given(scheme=SCHEMES, facts=histories(), seed=st.integers(0, 2**32))
def test_scoring_is_deterministic_whatever_the_input_order(
    scheme: Scheme, facts: list[Fact], seed: int
) -> None:
    shuffled = list(facts)
    random.Random(seed).shuffle(shuffled)
    in_order = sorted(facts, key=lambda f: (f.at, f.event_id))
    entries = score(scheme, facts, H1, units=UNITS)
    assert entries == score(scheme, shuffled, H1, units=UNITS)
    assert entries == score(scheme, in_order, H1, units=UNITS)


@settings(max_examples=150, deadline=None)
@given(scheme=SCHEMES, facts=histories())
def test_unit_totals_equal_the_sum_of_entries(scheme: Scheme, facts: list[Fact]) -> None:
    entries = score(scheme, facts, H1, units=UNITS)
    totals = unit_totals(entries)
    for unit, total in totals.items():
        assert total.points == sum(
            (e.points for e in entries if e.unit == unit and not e.person), D(0)
        )
    assert sum((t.points for t in totals.values()), D(0)) == sum(
        (e.points for e in entries if not e.person), D(0)
    )
    assert all(e.points == e.points.quantize(D("0.01")) for e in entries)


@settings(max_examples=150, deadline=None)
@given(scheme=SCHEMES, facts=histories())
def test_person_totals_of_each_item_sum_to_the_unit_points(
    scheme: Scheme, facts: list[Fact]
) -> None:
    entries = score(scheme, facts, H1, units=UNITS)
    origin = {f.item_id: f.origin_unit for f in facts if f.item_id is not None}
    unit_sum: dict[int, Decimal] = defaultdict(Decimal)
    person_sum: dict[int, Decimal] = defaultdict(Decimal)
    for e in entries:
        if e.item_id is None:
            continue
        if e.person:
            person_sum[e.item_id] += e.points
        elif e.unit == origin[e.item_id]:
            unit_sum[e.item_id] += e.points
    assert {k: v for k, v in person_sum.items() if v} == {k: v for k, v in unit_sum.items() if v}
    people = person_totals(entries)
    units = unit_totals(entries)
    unit_item_points = sum(unit_sum.values(), D(0))
    assert sum((p.points for p in people.values()), D(0)) == unit_item_points
    assert set(units) <= {*UNITS, "CITY"}


@settings(max_examples=150, deadline=None)
@given(scheme=SCHEMES, facts=histories(), later=st.sampled_from(PERIODS))
def test_scoring_a_later_period_never_changes_an_earlier_one(
    scheme: Scheme, facts: list[Fact], later: engine.Period
) -> None:
    # Monthly entries are the same whether later facts are known or not, and together they are
    # exactly the half year's entries.
    months: list[Entry] = []
    for period in PERIODS:
        alone = score(scheme, [f for f in facts if f.at < period.end], period, units=UNITS)
        assert alone == score(scheme, facts, period, units=UNITS)
        months.extend(e._replace(period=H1.key) for e in alone)
    assert months == score(scheme, facts, H1, units=UNITS)
    # A different scheme for a later month does not touch an earlier month's entries.
    earlier = [p for p in PERIODS if p.end <= later.start]
    for period in earlier:
        before = score(scheme, facts, period, units=UNITS)
        score(engine.PROVINCE_ADD, facts, later, units=UNITS)
        assert score(scheme, facts, period, units=UNITS) == before


@settings(max_examples=200, deadline=None)
@given(
    totals=st.lists(
        st.builds(
            Total,
            key=st.text("ABCDEFGH", min_size=1, max_size=3),
            points=st.integers(-5, 5).map(D),
            adopted=st.integers(0, 3),
        ),
        unique_by=lambda t: t.key,
        max_size=12,
    ),
    seed=st.integers(0, 2**32),
)
def test_rank_ties_are_broken_deterministically(totals: list[Total], seed: int) -> None:
    shuffled = list(totals)
    random.Random(seed).shuffle(shuffled)
    ranking = rank(totals)
    assert ranking == rank(shuffled)
    for r in ranking:
        better = [t for t in totals if (t.points, t.adopted) > (r.total.points, r.total.adopted)]
        assert r.rank == 1 + len(better)
    keys = [(r.rank, r.key) for r in ranking]
    assert keys == sorted(keys)


def test_the_worked_example_of_the_scoring_guide() -> None:
    # docs/scoring.md: one item climbing from the city to the State Council office.
    authors = (Author("li", 60), Author("wang", 40))
    facts = [
        submit("s1", at(3, 2), 1, "XA", authors=authors),
        adopt("a1", at(3, 4), 1, "XA", "city", adoption=1, authors=authors),
        forward("f1", at(3, 5), 1, "XA", by="SHI", to="province")._replace(authors=authors),
        adopt("a2", at(3, 9), 1, "XA", "province", adoption=2, authors=authors, forwarded_by="SHI"),
        forward("f2", at(3, 10), 1, "XA", by="SHENG", to="central")._replace(authors=authors),
        adopt(
            "a3",
            at(3, 16),
            1,
            "XA",
            "central",
            adoption=3,
            kind="special",
            authors=authors,
            forwarded_by="SHENG",
        ),
        Fact(
            kind="instruct",
            event_id="i1",
            at=at(3, 18),
            item_id=1,
            origin_unit="XA",
            authors=authors,
            adopting_level="city",
            adoption_id=1,
            instruction_level="city",
            principal=True,
        ),
    ]
    highest = score(engine.CITY_HIGHEST, facts, MARCH)
    # 5 + 10 + 5 − 10 + 40 + 5 − 40 + 80 × 1.5 + 30 = 165; 李 99, 王 66; 市 5, 省 10
    assert {k: t.points for k, t in unit_totals(highest).items()} == {
        "SHENG": D(10),
        "SHI": D(5),
        "XA": D(165),
    }
    assert {k: t.points for k, t in person_totals(highest).items()} == {"li": D(99), "wang": D(66)}
    added = score(engine.PROVINCE_ADD, facts, MARCH)
    # 5 + 10 + 5 + 40 + 10 + 100 + 30 = 200; 李 120, 王 80; 市 40 × 0.2 = 8, 省 100 × 0.2 = 20
    assert {k: t.points for k, t in unit_totals(added).items()} == {
        "SHENG": D(20),
        "SHI": D(8),
        "XA": D(200),
    }
    assert {k: t.points for k, t in person_totals(added).items()} == {"li": D(120), "wang": D(80)}


# ---------------------------------------------------------------------------------------------
# Incremental scoring: one event at a time, as the ledger records them

ALL_TIME = engine.Period(
    "all", dt.datetime(2000, 1, 1, tzinfo=TZ), dt.datetime(2200, 1, 1, tzinfo=TZ)
)


def incrementally(scheme: Scheme, facts: list[Fact], *, recorded: bool = True) -> list[Entry]:
    """What the app records: for each new fact in time order, replay its item's facts so far
    (only the fact for a deduction without an item) with the other items' credit in the new
    fact's cap windows as the seed and the item's own ledger lines as recorded, and keep the
    entries of the new event."""
    ledger: list[Entry] = []
    seen: list[Fact] = []
    for fact in sorted(facts, key=lambda f: (f.at, f.event_id)):
        item = fact.item_id
        replay = [fact] if item is None else [*(f for f in seen if f.item_id == item), fact]
        seen.append(fact)
        others = [e for e in ledger if item is None or e.item_id != item]
        needed = engine.cap_windows(scheme, [fact], TZ)
        seed = {k: v for k, v in engine.window_credit(scheme, others, TZ).items() if k in needed}
        mine = [
            (e.event_id, e.unit, e.category, e.ref, e.points)
            for e in ledger
            if recorded and item is not None and e.item_id == item and not e.person
        ]
        entries = score(scheme, replay, ALL_TIME, window_seed=seed, recorded=mine)
        ledger.extend(e for e in entries if e.event_id == fact.event_id)
    return ledger


def test_incremental_scoring_needs_the_window_seed_and_the_recorded_lines() -> None:
    scheme = replace(BASE, period_cap=D(20), period_cap_per="month")
    unadopt = Fact(
        kind="unadopt",
        event_id="u2",
        at=at(3, 6),
        item_id=2,
        origin_unit="A",
        authors=SOLO,
        adoption_id=2,
    )
    copied = Fact(
        kind="confirmed_copy", event_id="c1", at=at(3, 7), item_id=1, origin_unit="A", authors=SOLO
    )
    facts = [
        submit("s2", at(3, 2), 2, "A"),
        adopt("a2", at(3, 3), 2, "A", "city", adoption=2),
        submit("s1", at(3, 4), 1, "A"),
        adopt("a1", at(3, 5), 1, "A", "city", adoption=1),
        unadopt,
        copied,
    ]
    full = score(scheme, facts, ALL_TIME)
    # A earns 5 + 10 + 5 = 20 in March, so the adoption of item 1 is cut to 0 by the monthly
    # cap of 20; item 2's adoption is withdrawn (−10) and item 1 found copied: only its 5 for
    # submitting is taken back, as the adoption earned nothing.
    assert unit_rows(full) == [
        ("s2", "submit", D(5)),
        ("a2", "adopt", D(10)),
        ("s1", "submit", D(5)),
        ("a1", "adopt", D(0)),
        ("u2", "withdraw", D(-10)),
        ("c1", "void", D(-5)),
    ]
    assert "每月上限 20 分限制，实计 0 分" in unit_only(full)[3].rule
    assert incrementally(scheme, facts) == full
    # Without the recorded lines, replaying item 1 against the March credit of item 2 as it is
    # now (5 after the withdrawal) would find room for the adoption and reverse 5 + 10.
    wrong = incrementally(scheme, facts, recorded=False)
    assert unit_rows([e for e in wrong if e.event_id == "c1"]) == [
        ("c1", "void", D(-5)),
        ("c1", "void", D(-10)),
    ]
    # Without the seed the adoption of item 1 would not see item 2's credit at all.
    alone = score(scheme, facts[2:4], ALL_TIME)
    assert unit_rows(alone)[1] == ("a1", "adopt", D(10))


CAPPED_SCHEMES = st.sampled_from(
    [
        *engine.DEMO_SCHEMES,
        replace(BASE, item_cap=D(40), period_cap=D(25), period_cap_per="month"),
        replace(
            HIGHEST,
            combined_credit="lead_split",
            item_cap=D(45),
            period_cap=D(30),
            period_cap_per="week",
            copy_penalty=D(20),
            forward_credit={"province": D("0.5"), "central": D("0.5")},
            forward_credit_mode="fraction",
        ),
        replace(engine.PROVINCE_ADD, period_cap=D(60), period_cap_per="quarter"),
    ]
)


@settings(max_examples=200, deadline=None)
@given(scheme=CAPPED_SCHEMES, facts=histories())
def test_recording_one_event_at_a_time_gives_the_full_recompute(
    scheme: Scheme, facts: list[Fact]
) -> None:
    # Quota entries are left out: the app writes them when a window closes.
    assert incrementally(scheme, facts) == score(scheme, facts, ALL_TIME)


@settings(max_examples=150, deadline=None)
@given(
    scheme=SCHEMES | CAPPED_SCHEMES,
    facts=histories(),
    period=st.sampled_from([H1, *PERIODS]),
    seed=st.integers(0, 2**32),
)
def test_unit_sums_are_the_sums_of_the_unit_entries_by_month(
    scheme: Scheme, facts: list[Fact], period: engine.Period, seed: int
) -> None:
    """What a recompute compares with the rollup, made without the entries, is what the
    entries add up to per unit and month (quota entries left out), in any input order."""
    entries = score(scheme, facts, period)
    expected: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for e in entries:
        if not e.person and e.category != "quota":
            expected[(e.unit, e.at.astimezone(TZ).month)] += e.points
    shuffled = list(facts)
    random.Random(seed).shuffle(shuffled)
    sums = engine.unit_sums(scheme, shuffled, period, lambda at: at.astimezone(TZ).month)
    assert {cell: Decimal(cents).scaleb(-2) for cell, cents in sums.items()} == {
        cell: points for cell, points in expected.items() if points
    }
    assert all(cents for cents in sums.values())


@settings(max_examples=100, deadline=None)
@given(scheme=SCHEMES | CAPPED_SCHEMES, facts=histories())
def test_moments_read_in_utc_score_as_the_same_moments_in_local_time(
    scheme: Scheme, facts: list[Fact]
) -> None:
    """The database gives moments in UTC, the period and the cap windows are local: the replay
    compares them in the facts' own zone, with the same result in any zone or mix of zones."""
    utc = [f._replace(at=f.at.astimezone(dt.UTC)) for f in facts]
    mixed = [f._replace(at=f.at.astimezone(dt.UTC)) if i % 2 else f for i, f in enumerate(facts)]
    expected = score(scheme, facts, H1, units=UNITS)
    assert score(scheme, utc, H1, units=UNITS) == expected
    assert score(scheme, mixed, H1, units=UNITS) == expected

    def month(at: dt.datetime) -> int:
        return at.astimezone(TZ).month

    sums = engine.unit_sums(scheme, facts, H1, month)
    assert engine.unit_sums(scheme, utc, H1, month) == sums
    assert engine.unit_sums(scheme, mixed, H1, month) == sums


def test_a_cap_window_seen_from_utc_moments_turns_at_local_midnight() -> None:
    """The window of a moment is the local calendar's, however the moment is written; the
    remembered bounds, kept in the moments' zone, stay those of the local window."""
    window_of = engine._WindowOf("month", TZ, Q1.start)
    before = dt.datetime(2026, 1, 31, 15, 59, tzinfo=dt.UTC)  # 23:59 on 31 January in Beijing
    after = dt.datetime(2026, 1, 31, 16, 1, tzinfo=dt.UTC)  # 00:01 on 1 February
    assert [window_of(before), window_of(after), window_of(before)] == [
        "2026-01",
        "2026-02",
        "2026-01",
    ]
    assert engine.window_key("month", after, TZ) == "2026-02"
