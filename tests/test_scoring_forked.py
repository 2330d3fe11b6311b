"""A recompute's check on several cores (baosong.lib.forked): children read committed rows on
their own connections and give back the same cells as one process; a disagreement found there is
put right by the full replay, as before. These tests commit (transaction=True): a child cannot
see an open transaction, which is also why forking is off inside one."""

import datetime as dt
import os
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from baosong.lib import forked
from baosong.orgs.models import Role, Unit
from baosong.publications import workflow as pubs
from baosong.publications.models import Action as PubAction
from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.publications.models import Event as PubEvent
from baosong.publications.workflow import SourceInput
from baosong.scoring import engine, ledger, workflow
from baosong.scoring.models import LedgerEntry, Scheme
from baosong.submissions.models import Submission
from conftest import make_person
from tests.test_publication_scenarios import submitted
from tests.test_scoring_ledger import (
    append_stray_line,
    assert_rollup_equals_ledger,
    city_journal,
    unit_points,
)

D = Decimal

# A child opens its own connection: the in-memory SQLite test database would be another, empty
# database there (and the append-only triggers refuse the flush that ends a committing test on
# SQLite). CI runs these on PostgreSQL; bench/scoring.py runs the forked recompute on SQLite.
forking = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="内存中的 SQLite 测试库不能跨进程读取：在 PostgreSQL 上测试",
)
committing = pytest.mark.django_db(transaction=True)


def _count_units(prefix: str) -> int:
    return Unit.objects.filter(code__startswith=prefix).count()


def _fail(part: str) -> int:
    if part == "x":
        raise ValueError(f"坏的部分 {part}")
    return _count_units(part)


@forking
@committing
def test_children_read_on_their_own_connections_and_the_parent_carries_on(world: Any) -> None:
    if forked.workers() < 2:
        pytest.skip("只有一个处理器或不能 fork：不分进程")
    results = forked.run(_count_units, ["C", "CA", "P"])
    assert results == [_count_units("C"), _count_units("CA"), _count_units("P")]
    assert results[0] > results[1] > 0
    # The parent's connection was neither used nor closed by the children.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@forking
@committing
def test_a_childs_error_comes_back_with_its_traceback(world: Any) -> None:
    if forked.workers() < 2:
        pytest.skip("只有一个处理器或不能 fork：不分进程")
    with pytest.raises(forked.ChildFailed, match="坏的部分 x"):
        forked.run(_fail, ["x", "CA"])
    assert Unit.objects.filter(code="CA1").exists()


def _kept_after(n: int) -> int:
    forked.keep(list(range(n)))
    return len(forked._kept or [])


def test_what_a_share_keeps_stays_in_a_child_and_nothing_is_kept_here() -> None:
    """`keep` holds a child's large results until its exit (no freeing object by object while
    the parent waits); in the parent it holds nothing."""
    if not hasattr(os, "fork"):
        pytest.skip("不能 fork")
    assert forked.run(_kept_after, [3, 4]) == [1, 0]  # the child kept it; here, nothing
    assert forked._kept is None


@forking
@committing
def test_no_forking_inside_a_transaction(settings: Any) -> None:
    settings.BAOSONG_WORKERS = 2
    if forked.workers() < 2:
        pytest.skip("只有一个处理器或不能 fork：不分进程")
    with transaction.atomic():
        assert forked.workers() == 1
    settings.BAOSONG_WORKERS = 1
    assert forked.workers() == 1


def _stray_line(scheme: Scheme) -> Decimal:
    """Appends 7 points that the rules do not give to 安平县 (CA1); its points before."""
    before = unit_points(scheme, "CA1")
    wrong = LedgerEntry.objects.filter(
        scheme=scheme, unit__code="CA1", person__isnull=True, category="adopt"
    ).first()
    assert wrong is not None
    append_stray_line(scheme, wrong, "7.00")
    assert unit_points(scheme, "CA1") == before + D("7.00")
    return before


@forking
@committing
def test_the_forked_check_agrees_with_one_process_and_a_wrong_line_is_put_right(
    world: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    if forked.workers() < 2:
        pytest.skip("只有一个处理器或不能 fork：不分进程")
    monkeypatch.setattr(workflow, "FORK_FROM", 1)
    scheme, start, end = _province_world(world)
    version = scheme.versions.get()
    split = workflow.recompute(version, start, end)
    assert split["processes"] == 2 and split["corrected"] == 0
    settings.BAOSONG_WORKERS = 1
    single = workflow.recompute(version, start, end)
    assert single["processes"] == 1 and single["corrected"] == 0
    # The same events replayed and the same cells compared.
    assert (split["facts"], split["cells"]) == (single["facts"], single["cells"])
    assert split["facts"] >= 8  # six submissions, two adoptions
    settings.BAOSONG_WORKERS = 2
    # A line the rules do not give: the children's cells disagree, the full replay reverses it.
    before = _stray_line(scheme)
    fixed = workflow.recompute(version, start, end)
    assert fixed["processes"] == 1 and fixed["corrected"] > 0
    assert unit_points(scheme, "CA1") == before
    again = workflow.recompute(version, start, end)
    assert again["processes"] == 2 and again["corrected"] == 0
    assert_rollup_equals_ledger(scheme)


def _replays_here(monkeypatch: pytest.MonkeyPatch, name: str = "unit_sums") -> list[int]:
    """The process ids of the replays (`engine.<name>` calls: the check's sums by default)
    made in this process from now on (a child's are counted in its own memory)."""
    replays: list[int] = []
    replay = getattr(engine, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        replays.append(os.getpid())
        return replay(*args, **kwargs)

    monkeypatch.setattr(engine, name, counted)
    return replays


def _province_world(world: Any, cap: str = "8") -> tuple[Scheme, dt.datetime, dt.datetime]:
    """A province scheme adding every level, capped at `cap` points a unit a month (8: the caps
    bind), with 20% of the province's adoption points to the forwarding city: items of three
    counties in two cities; the cities adopt some and forward some, which the province adopts."""
    editor_province = make_person("editor_province", world.province, Role.EDITOR)
    editor_city_b = make_person("editor_city_b", world.city_b, Role.EDITOR)
    people = {
        "CA2": (
            make_person("officer_a2", world.county_a2, Role.OFFICER),
            make_person("reviewer_a2", world.county_a2, Role.REVIEWER),
        ),
        "CB1": (
            make_person("officer_b", world.county_b, Role.OFFICER),
            make_person("reviewer_b", world.county_b, Role.REVIEWER),
        ),
    }
    rules = replace(engine.PROVINCE_ADD, period_cap=D(cap), period_cap_per="month")
    scheme = workflow.create_scheme(
        by=editor_province,
        unit=world.province,
        name="省计分（封顶）",
        data=engine.scheme_as_data(rules),
    )
    workflow.adopt_version(
        by=editor_province, version=scheme.versions.get(), effective_from=dt.date(2026, 1, 1)
    )
    special = pubs.create_publication(
        by=editor_province, unit=world.province, name="组工专报", kind=PublicationKind.SPECIAL
    )
    journal_a = city_journal(world)
    journal_b = pubs.create_publication(
        by=editor_city_b, unit=world.city_b, name="白河组工", kind=PublicationKind.JOURNAL
    )
    plan = [  # (county, adopted by its city, forwarded and adopted by the province)
        ("CA1", True, True), ("CA1", True, False), ("CA1", False, True), ("CA1", True, False),
        ("CA2", True, True), ("CA2", False, False), ("CB1", True, True), ("CB1", False, True),
    ]  # fmt: skip
    for n, (code, by_city, by_province) in enumerate(plan):
        if code == "CA1":
            item = submitted(
                world.county_a, world.officer_county_a, world.reviewer_county_a, f"稿{n}"
            )
        else:
            unit = world.county_a2 if code == "CA2" else world.county_b
            item = submitted(unit, *people[code], f"稿{n}")
        editor, journal = (
            (world.editor_city, journal_a) if code != "CB1" else (editor_city_b, journal_b)
        )
        if by_city:
            pubs.adopt(
                by=editor,
                sources=[SourceInput(item)],
                publication=journal,
                form=AdoptionForm.WHOLE,
                title=item.title,
            )
        if by_province:
            pubs.forward(by=editor, item=item, comment="建议省里采用")
            pubs.adopt(
                by=editor_province,
                sources=[SourceInput(item)],
                publication=special,
                form=AdoptionForm.EXCERPT,
                title=item.title,
                body="<p>摘编</p>",
            )
    start = dt.datetime(2026, 1, 1, tzinfo=ledger.local_tz())
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    return scheme, start, end


@forking
@committing
@pytest.mark.parametrize("processes", [2, 3])
def test_under_a_period_cap_the_forwarders_are_replayed_with_what_they_forwarded(
    world: Any, processes: int
) -> None:
    scheme, start, end = _province_world(world)
    rules = ledger.scheme_of(scheme.versions.get())
    period = engine.Period("recompute", start, end)
    touched = ledger.items_touched(start, end, scheme.unit.path)
    paths = dict(Unit.objects.values_list("code", "id"))
    one = workflow._cells(
        engine.score(rules, ledger.facts_of_items(touched, end), period),
        paths,
        ledger.local_tz(),
    )
    _stored, activity = workflow._stored_cells(scheme, start, end)
    split, replayed, used = workflow._forked_cells(
        rules, period, scheme.unit.path, activity, [], paths, processes
    )
    assert used == 3 if processes == 3 else used == 2
    assert replayed == len(ledger.facts_of_items(touched, end))
    assert split == {cell: points for cell, points in one.items() if points}
    # The caps bound, and both cities earned forwarding credit (replayed again with their items).
    assert any(
        "上限" in rule
        for rule in LedgerEntry.objects.filter(scheme=scheme).values_list("rule", flat=True)
    )
    assert {code for code, pk in paths.items() if any(c[0] == pk for c in one)} >= {
        "CA1",
        "CA2",
        "CB1",
        "CA",
        "CB",
    }
    # 临江市 forwarded items of 安平县 and 青石县, which go to different processes: it is replayed
    # here with them (without, it would be credited twice up to the cap: 12.80 against 8.00).
    assert max(v for (u, _), v in one.items() if u == paths["CA"]) == D("8.00")


@forking
@committing
def test_the_forwarders_are_replayed_once_with_what_they_forwarded(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cities replayed here read the items they forwarded beforehand (from the receipts):
    no second replay after the children's results."""
    scheme, start, end = _province_world(world)
    rules = ledger.scheme_of(scheme.versions.get())
    paths = dict(Unit.objects.values_list("code", "id"))
    _stored, activity = workflow._stored_cells(scheme, start, end)
    replays = _replays_here(monkeypatch)
    split, _replayed, used = workflow._forked_cells(
        rules, engine.Period("recompute", start, end), scheme.unit.path, activity, [], paths, 3
    )
    assert used == 3 and replays == [os.getpid()]  # the children's are in their own memory
    assert max(v for (u, _), v in split.items() if u == paths["CA"]) == D("8.00")


@forking
@committing
def test_recompute_uses_the_split_check_under_a_period_cap(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow, "FORK_FROM", 1)
    scheme, start, end = _province_world(world)
    stats = workflow.recompute(scheme.versions.get(), start, end)
    assert stats["processes"] == 2 and stats["corrected"] == 0
    assert_rollup_equals_ledger(scheme)


@pytest.mark.django_db
def test_when_a_child_fails_the_check_runs_in_one_process(
    world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    scheme, start, end = _province_world(world)

    def failing(fn: Any, parts: Any) -> list[Any]:
        raise forked.ChildFailed("child process 1 ended with status 9 and no result")

    monkeypatch.setattr(workflow, "FORK_FROM", 1)
    monkeypatch.setattr(forked, "workers", lambda: 2)
    monkeypatch.setattr(forked, "run", failing)
    stats = workflow.recompute(scheme.versions.get(), start, end)
    assert stats["processes"] == 1 and stats["corrected"] == 0 and stats["facts"] > 10
    assert "several processes failed" in caplog.text


@pytest.mark.django_db
def test_in_one_process_the_check_comes_first_and_a_wrong_line_is_still_put_right(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one process the unit sums are compared first too (no co-authors read, no entries
    made); only a disagreement replays in full. Runs on SQLite as well: nothing is forked."""
    monkeypatch.setattr(workflow, "FORK_FROM", 1)
    monkeypatch.setattr(forked, "workers", lambda: 1)
    scheme, start, end = _province_world(world)
    version = scheme.versions.get()
    checks = _replays_here(monkeypatch)
    scores = _replays_here(monkeypatch, "score")
    agreed = workflow.recompute(version, start, end)
    assert (agreed["processes"], agreed["corrected"]) == (1, 0) and agreed["facts"] >= 8
    assert (len(checks), len(scores)) == (1, 0)  # checked, not replayed in full
    before = _stray_line(scheme)
    fixed = workflow.recompute(version, start, end)
    assert fixed["corrected"] > 0 and (len(checks), len(scores)) == (2, 1)
    assert unit_points(scheme, "CA1") == before
    assert workflow.recompute(version, start, end)["corrected"] == 0
    assert_rollup_equals_ledger(scheme)


def _province_adopts(world: Any, item: Submission, *, forwarded_by: str, lead: bool) -> None:
    """An adoption event by the province naming a forwarder, written as an imported or synced
    event may be: no receipt of a forward behind it."""
    PubEvent.objects.create(
        action=PubAction.ADOPT,
        by=world.editor_city,
        unit=world.province,
        submission=item,
        facts={
            "adopting_unit": "P", "adopting_level": "province", "publication_kind": "special",
            "form": "excerpt", "is_lead": lead,
            "sources": [{"item": item.pk, "origin_unit": "CA1", "share": 100,
                         "lead_source": True, "forwarded_by": forwarded_by}],
        },
    )  # fmt: skip


@forking
@committing
def test_a_forwarder_replayed_in_another_process_is_read_again(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit with no units below it that forwarded an item (as an imported or synced event may
    say) was replayed by a child: its second replay reads its own items again."""
    scheme, start, end = _province_world(world, cap="1000")
    item = Submission.objects.filter(unit=world.county_a).order_by("id").first()
    assert item is not None
    for n in range(2):  # 24 × 20% = 4.80 (× 1.5 for the lead) to 青石县
        _province_adopts(world, item, forwarded_by="CA2", lead=n == 0)
    # … and an item of 安平县 that no receipt says was forwarded, adopted as forwarded by 白河市
    # (a city, replayed here, that did not read it beforehand): 白河市 is replayed again.
    unforwarded = (
        Submission.objects.filter(unit=world.county_a)
        .exclude(addressees__forwarded_from__isnull=False)
        .exclude(pk=item.pk)
        .order_by("id")
        .first()
    )
    assert unforwarded is not None
    _province_adopts(world, unforwarded, forwarded_by="CB", lead=False)
    end = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=1)
    rules = ledger.scheme_of(scheme.versions.get())
    period = engine.Period("recompute", start, end)
    touched = ledger.items_touched(start, end, scheme.unit.path)
    paths = dict(Unit.objects.values_list("code", "id"))
    one = workflow._cells(
        engine.score(rules, ledger.facts_of_items(touched, end), period),
        paths,
        ledger.local_tz(),
    )
    _stored, activity = workflow._stored_cells(scheme, start, end)
    replays = _replays_here(monkeypatch)
    # Four processes: each county in a child, the cities and the province here.
    split, _replayed, used = workflow._forked_cells(
        rules, period, scheme.unit.path, activity, [], paths, 4
    )
    assert used == 4 and len(replays) == 2  # this share's, then 青石县's and 白河市's again
    assert split == {cell: points for cell, points in one.items() if points}
    # 青石县's second replay reads its item that nobody forwarded again: without it, 5 less.
    assert sum(v for (u, _), v in one.items() if u == paths["CA2"]) > D("5.00")
