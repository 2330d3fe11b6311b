"""The score ledger: entries derived from recorded events by the pure engine, kept in step with
the monthly rollups in the same transaction.

Every event that can earn or cost points (报送, 转报, 采用, 批示, an assessing decision) reaches
`record_event` inside the transaction that wrote it. For each adopted scheme version in force at
that moment whose owner's subtree holds the item's unit, the item's facts so far are replayed by
the engine and the entries caused by the new event are appended, with their rollup rows. A
recompute replays a whole period and corrects any difference by a reversal plus a new entry.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from baosong.orgs.models import Unit
from baosong.publications.models import Action as PublicationAction
from baosong.publications.models import Event as PublicationEvent
from baosong.scoring import engine
from baosong.scoring.models import (
    AssessmentEvent,
    LedgerEntry,
    PersonMonth,
    Scheme,
    SchemeVersion,
    UnitMonth,
)
from baosong.submissions.models import Addressee, Author, Submission
from baosong.submissions.models import Event as SubmissionEvent
from baosong.submissions.models import EventAction as SubmissionAction

# Calendar windows (caps, quotas) are counted in the configured local time zone.
ALL_TIME = engine.Period(
    "all",
    dt.datetime(2000, 1, 1, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)),
    dt.datetime(2200, 1, 1, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)),
)
SCORED_PUBLICATION_ACTIONS = (
    PublicationAction.ADOPT,
    PublicationAction.FORWARD,
    PublicationAction.INSTRUCT,
    PublicationAction.WITHDRAW_ADOPTION,
)
UnitRef = dict[str, tuple[int, str]]  # unit code → (id, path)
KIND_FIELDS = {
    "dynamic": "k_dynamic",
    "experience": "k_experience",
    "problem": "k_problem",
    "analysis": "k_analysis",
}


def local_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def month_of(at: dt.datetime, tz: dt.tzinfo) -> int:
    local = at.astimezone(tz)
    return local.year * 100 + local.month


_scheme_cache: dict[tuple[int, int], engine.Scheme] = {}


def scheme_of(version: SchemeVersion) -> engine.Scheme:
    """The engine scheme of a version (cached while the version is frozen)."""
    key = (version.pk, hash(str(version.data)))
    cached = _scheme_cache.get(key)
    if cached is None:
        data = dict(version.data)
        data["version"] = version.code
        cached = engine.scheme_from_data(data)
        if len(_scheme_cache) > 256:
            _scheme_cache.clear()
        _scheme_cache[key] = cached
    return cached


# ---------------------------------------------------------------------------------------------
# Facts from event rows


@dataclass(frozen=True)
class _Item:
    unit_code: str
    item_type: str
    kind: str
    authors: tuple[engine.Author, ...]


def load_facts(item_filter: Q, until: dt.datetime | None = None) -> list[engine.Fact]:
    """The engine facts of every item matching `item_filter` (a Q on Submission), up to `until`."""
    ids = list(Submission.objects.filter(item_filter).values_list("pk", flat=True))
    return facts_of_items(ids, until or ALL_TIME.end)


def _aware(value: Any) -> dt.datetime:
    """A datetime from a raw query: SQLite hands back naive UTC text, PostgreSQL aware values."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str | bytes) else dict(value or {})


def item_facts(
    item_id: int, until: dt.datetime, units_out: UnitRef | None = None
) -> list[engine.Fact]:
    """The facts of one item up to `until` (recording an event must cost a few milliseconds);
    `units_out` receives code → (id, path) of the units read on the way."""
    return facts_of_items([item_id], until, units_out)


CHUNK = 5000  # ids per statement (well under SQLite's limit on bound values)


def _any(column: str, values: Sequence[object]) -> tuple[str, list[Any]]:
    """`column IN (…)` for a list of values: one array parameter on PostgreSQL (psycopg parses
    a statement with thousands of placeholders slowly), a placeholder each elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def facts_of_items(
    item_ids: Sequence[int], until: dt.datetime, units_out: UnitRef | None = None
) -> list[engine.Fact]:
    """The facts of these items before `until`, read with plain statements (a recompute reads
    hundreds of thousands of rows: the ORM's per-row conversions would cost more than scoring)."""
    facts: list[engine.Fact] = []
    moment = connection.ops.adapt_datetimefield_value(until)
    sub, unit_t = Submission._meta.db_table, Unit._meta.db_table
    actions = [str(a) for a in SCORED_PUBLICATION_ACTIONS]
    unit_refs: dict[int, tuple[str, str]] = {}  # unit id → (code, level)
    with connection.cursor() as cursor:
        for start in range(0, len(item_ids), CHUNK):
            ids = list(item_ids[start : start + CHUNK])
            # No joins: with a long IN list SQLite would drive the join from the unit table.
            where, params = _any("id", ids)
            cursor.execute(f"SELECT id, unit_id, item_type, kind FROM {sub} WHERE {where}", params)
            where, params = _any("submission_id", ids)
            heads = cursor.fetchall()
            if not heads:
                continue
            cursor.execute(
                f"SELECT a.submission_id, a.unit_id, a.forwarded_from_id "
                f"FROM {Addressee._meta.db_table} a WHERE {where}",
                params,
            )
            receipts = cursor.fetchall()
            wanted = ({h[1] for h in heads} | {r[1] for r in receipts}) - set(unit_refs)
            if wanted:
                unit_where, unit_params = _any("id", list(wanted))
                cursor.execute(
                    f"SELECT id, code, level, path FROM {unit_t} WHERE {unit_where}", unit_params
                )
                for pk, code, level, path in cursor.fetchall():
                    unit_refs[pk] = (code, level)
                    if units_out is not None:
                        units_out[code] = (pk, path)
            cursor.execute(
                f"SELECT submission_id, user_id, share FROM {Author._meta.db_table} "
                f"WHERE {where} ORDER BY submission_id, position, id",
                params,
            )
            authors: dict[int, list[engine.Author]] = defaultdict(list)
            for item_id, user, share in cursor.fetchall():
                authors[item_id].append(engine.Author(str(user), share))
            items = {
                pk: _Item(
                    unit_refs[unit_id][0], item_type, kind or "dynamic", tuple(authors.get(pk, ()))
                )
                for pk, unit_id, item_type, kind in heads
            }
            # The levels an item was first submitted to (forwarded receipts are not counted here).
            first_levels: dict[int, list[str]] = defaultdict(list)
            for item_id, unit_id, forwarded_from in receipts:
                if forwarded_from is None:
                    first_levels[item_id].append(unit_refs[unit_id][1])
            cursor.execute(
                f"SELECT id, submission_id, at FROM {SubmissionEvent._meta.db_table} "
                f"WHERE {where} AND action = %s AND at < %s",
                [*params, SubmissionAction.SUBMIT.value, moment],
            )
            for pk, item_id, at in cursor.fetchall():
                info = items[item_id]
                facts.append(
                    engine.Fact(
                        kind=engine.SUBMIT,
                        event_id=f"s{pk}",
                        at=_aware(at),
                        item_id=item_id,
                        item_type=info.item_type,
                        item_kind=info.kind,
                        origin_unit=info.unit_code,
                        authors=info.authors,
                        to_levels=tuple(first_levels.get(item_id, ())),
                    )
                )
            cursor.execute(
                "SELECT id, submission_id, action, at, adoption_id, facts "
                f"FROM {PublicationEvent._meta.db_table} WHERE {where} "
                f"AND at < %s AND action IN ({', '.join(['%s'] * len(actions))})",
                [*params, moment, *actions],
            )
            rows = [
                (pk, item_id, action, _aware(at), adoption, _json(data))
                for pk, item_id, action, at, adoption, data in cursor.fetchall()
            ]
            codes = {
                c for r in rows if r[2] == PublicationAction.FORWARD for c in r[5].get("to", ())
            }
            levels: dict[str, str] = {}
            if codes:
                code_where, code_params = _any("code", list(codes))
                cursor.execute(f"SELECT code, level FROM {unit_t} WHERE {code_where}", code_params)
                levels = dict(cursor.fetchall())
            for pk, item_id, action, at, adoption, data in rows:
                facts.append(
                    _publication_fact(
                        pk, items[item_id], item_id, action, at, adoption, data, levels
                    )
                )
            cursor.execute(
                f"SELECT id, submission_id, action, at, points, reason "
                f"FROM {AssessmentEvent._meta.db_table} "
                f"WHERE {where} AND at < %s",
                [*params, moment],
            )
            for pk, item_id, action, at, points, reason in cursor.fetchall():
                info = items[item_id]
                facts.append(
                    engine.Fact(
                        kind=action,
                        event_id=f"c{pk}",
                        at=_aware(at),
                        item_id=item_id,
                        item_type=info.item_type,
                        item_kind=info.kind,
                        origin_unit=info.unit_code,
                        authors=info.authors,
                        points=engine.q2(Decimal(str(points))),
                        note=reason,
                    )
                )
    return facts


def _publication_fact(
    pk: int,
    info: _Item,
    item_id: int,
    action: str,
    at: dt.datetime,
    adoption_id: int | None,
    data: dict[str, Any],
    levels: dict[str, str],
) -> engine.Fact:
    common: dict[str, Any] = {
        "event_id": f"p{pk}",
        "at": at,
        "item_id": item_id,
        "item_type": info.item_type,
        "item_kind": info.kind,
        "origin_unit": info.unit_code,
        "authors": info.authors,
        "adoption_id": adoption_id,
    }
    if action == PublicationAction.FORWARD:
        return engine.Fact(
            kind=engine.FORWARD,
            adopting_unit=data.get("forwarder", ""),
            adopting_level=data.get("forwarder_level", ""),
            to_levels=tuple(levels.get(code, "") for code in data.get("to", ())),
            **common,
        )
    sources = tuple(
        engine.Source(
            item=s["item"],
            origin_unit=s["origin_unit"],
            share=s.get("share", 100),
            lead_source=bool(s.get("lead_source")),
            forwarded_by=s.get("forwarded_by"),
        )
        for s in data.get("sources", ())
    )
    if action == PublicationAction.INSTRUCT:
        return engine.Fact(
            kind=engine.INSTRUCT,
            adopting_unit=data.get("adopting_unit", ""),
            adopting_level=data.get("adopting_level", ""),
            sources=sources,
            instruction_level=data.get("instruction_level") or data.get("level", ""),
            principal=bool(data.get("principal")),
            **common,
        )
    return engine.Fact(
        kind=engine.ADOPT if action == PublicationAction.ADOPT else engine.UNADOPT,
        adopting_unit=data.get("adopting_unit", ""),
        adopting_level=data.get("adopting_level", ""),
        publication_kind=data.get("publication_kind", ""),
        form=data.get("form", "whole"),
        is_lead=bool(data.get("is_lead")),
        sources=sources,
        **common,
    )


# ---------------------------------------------------------------------------------------------
# Versions in force


def versions_in_force(at: dt.datetime, unit_path: str) -> list[SchemeVersion]:
    """Adopted versions effective on the local day of `at` whose owner's subtree holds the unit."""
    day = at.astimezone(local_tz()).date()
    rows = SchemeVersion.objects.in_force(day).select_related("scheme__unit")
    return [v for v in rows if unit_path.startswith(v.scheme.unit.path)]


def version_on(scheme: Scheme, day: dt.date) -> SchemeVersion | None:
    """The scheme's version in force on the day (ranges never overlap)."""
    return scheme.versions.in_force(day).select_related("scheme__unit").order_by("-number").first()


# ---------------------------------------------------------------------------------------------
# Writing entries and rollups


@dataclass
class _Row:
    entry: engine.Entry
    unit_id: int
    person_id: int | None
    month: int
    d_submitted: int = 0
    d_adopted: int = 0
    d_lead: int = 0
    d_instructions: int = 0
    kind: str = ""


Credited = dict[tuple[str, int, int | None], tuple[str, bool, Decimal]]
# What a line adds to the item counts: submitted, adopted, lead items, instructions, item kind.
Counts = tuple[int, int, int, int, str]


def counters(row: _Row, credited: Credited, item_kind: str) -> None:
    """What a line adds to the item counts: 报送 for a first submission, 采用 (and 头条) for a
    scored adoption, 批示 for a scored instruction; a reversal takes back what it reverses."""
    e = row.entry
    key = (e.event_id, row.unit_id, row.person_id)
    if e.category == "submit" and not e.ref:
        row.d_submitted, row.kind = 1, item_kind
    elif e.category == "adopt" and e.points > 0:
        row.d_adopted, row.d_lead = 1, int(e.lead)
        if e.event_id.startswith("h") and not e.ref:
            # An imported adoption record stands for an item that was submitted too, so that
            # adoption rates and quotas of imported periods mean something (no submit points).
            row.d_submitted, row.kind = 1, item_kind
        credited[(e.ref or e.event_id, row.unit_id, row.person_id)] = ("adopt", e.lead, e.points)
        return
    elif e.category == "instruct" and e.points > 0:
        row.d_instructions = 1
    elif e.points < 0 and e.ref:
        before = credited.get((e.ref, row.unit_id, row.person_id))
        if before is not None and before[0] == "adopt":
            row.d_adopted, row.d_lead = -1, -int(before[1])
            del credited[(e.ref, row.unit_id, row.person_id)]
        elif before is not None and before[0] == "instruct":
            row.d_instructions = -1
            del credited[(e.ref, row.unit_id, row.person_id)]
        return
    if e.points > 0 or e.category == "submit":
        credited.setdefault(key, (e.category, e.lead, e.points))


LEDGER_COLUMNS = (
    "scheme_id",
    "version_id",
    "event_key",
    "unit_id",
    "person_id",
    "item_id",
    "points",
    "category",
    "rule",
    "ref",
    "lead",
    "at",
    "month",
    "d_submitted",
    "d_adopted",
    "d_lead",
    "d_instructions",
    "item_kind",
    "recorded_at",
)


def write(version: SchemeVersion, rows: Sequence[_Row]) -> None:
    """Append the entries and add them to the monthly rollups (one statement each)."""
    if not rows:
        return
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    values = [
        (
            version.scheme_id,
            version.pk,
            r.entry.event_id,
            r.unit_id,
            r.person_id,
            r.entry.item_id,
            str(r.entry.points),
            r.entry.category,
            r.entry.rule[:400],
            r.entry.ref,
            r.entry.lead,
            adapt(r.entry.at),
            r.month,
            r.d_submitted,
            r.d_adopted,
            r.d_lead,
            r.d_instructions,
            r.kind,
            now,
        )
        for r in rows
    ]
    # Plain executemany (COPY for big batches on PostgreSQL): a recompute appends hundreds of
    # thousands of lines.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(values) > 200:
            table = LedgerEntry._meta.db_table
            with cursor.cursor.copy(  # psycopg 3
                f"COPY {table} ({', '.join(LEDGER_COLUMNS)}) FROM STDIN"
            ) as copy:
                for value in values:
                    copy.write_row(value)
            add_to_rollups(version.scheme_id, rows)
            _mark_used(version)
            return
        cursor.executemany(
            f"INSERT INTO {LedgerEntry._meta.db_table} ({', '.join(LEDGER_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(LEDGER_COLUMNS))})",
            values,
        )
    add_to_rollups(version.scheme_id, rows)
    _mark_used(version)


def _mark_used(version: SchemeVersion) -> None:
    """The first ledger line freezes the version."""
    if version.used_at is None:
        SchemeVersion.objects.filter(pk=version.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        version.used_at = timezone.now()


def _sums(
    rows: Iterable[_Row],
) -> tuple[dict[tuple[int, int], list[Any]], dict[tuple[int, int, int], list[Any]]]:
    units: dict[tuple[int, int], list[Any]] = {}
    people: dict[tuple[int, int, int], list[Any]] = {}
    for r in rows:
        kinds = [int(r.kind == k) for k in KIND_FIELDS]
        figures = [
            r.entry.points,
            r.d_submitted,
            r.d_adopted,
            r.d_lead,
            r.d_instructions,
            *kinds,
            1,
        ]
        target: list[Any] | None
        if r.person_id is None:
            target = units.setdefault((r.unit_id, r.month), [Decimal(0), 0, 0, 0, 0, 0, 0, 0, 0, 0])
        else:
            target = people.setdefault(
                (r.person_id, r.unit_id, r.month), [Decimal(0), 0, 0, 0, 0, 0, 0, 0, 0, 0]
            )
        for i, value in enumerate(figures):
            target[i] += value
    return units, people


FIGURES = (
    "points",
    "submitted",
    "adopted",
    "lead_items",
    "instructions",
    *KIND_FIELDS.values(),
    "entries",
)


def add_to_rollups(scheme_id: int, rows: Iterable[_Row]) -> None:
    """INSERT … ON CONFLICT DO UPDATE adding the figures (SQLite ≥ 3.24 and PostgreSQL)."""
    units, people = _sums(rows)
    if units:
        _upsert(
            UnitMonth._meta.db_table,
            ("scheme_id", "unit_id", "month"),
            [(scheme_id, unit_id, month, *figures) for (unit_id, month), figures in units.items()],
        )
    if people:
        _upsert(
            PersonMonth._meta.db_table,
            ("scheme_id", "person_id", "unit_id", "month"),
            [
                (scheme_id, person_id, unit_id, month, *figures)
                for (person_id, unit_id, month), figures in people.items()
            ],
        )


# PostgreSQL array types of the key and figure columns, for the one-statement bulk upsert.
_PG_TYPES = {"points": "numeric", **{f: "int" for f in FIGURES if f != "points"}}


def _upsert(table: str, keys: tuple[str, ...], values: list[tuple[Any, ...]]) -> None:
    cols = ", ".join((*keys, *FIGURES))
    adds = ", ".join(f"{f} = {table}.{f} + excluded.{f}" for f in FIGURES)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(values) > 50:
            # One statement over arrays instead of a round trip per row (a recompute adds
            # tens of thousands of person-month rows).
            types = ["bigint"] * len(keys) + [_PG_TYPES[f] for f in FIGURES]
            columns = [list(c) for c in zip(*values, strict=True)]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT * FROM unnest({arrays}) {conflict}",
                [[str(v) if isinstance(v, Decimal) else v for v in c] for c in columns],
            )
            return
        marks = ", ".join(["%s"] * (len(keys) + len(FIGURES)))
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks}) {conflict}", values)


def _units_by_code(codes: Iterable[str]) -> UnitRef:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return {
        code: (pk, path)
        for code, pk, path in Unit.objects.filter(code__in=wanted).values_list("code", "id", "path")
    }


def _so_far(
    versions: Sequence[SchemeVersion], item_id: int
) -> dict[int, tuple[set[str], Credited, list[engine.Recorded]]]:
    """Per version: the events already scored for the item, what stands credited, and the
    item's unit lines in ledger order as the engine takes them (`score(recorded=…)`: under a
    period cap a later reversal must take back what was credited, not what a replay gives now).
    One statement for all versions."""
    result: dict[int, tuple[set[str], Credited, list[engine.Recorded]]] = {
        v.pk: (set(), {}, []) for v in versions
    }
    where, params = _any("l.version_id", [v.pk for v in versions])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.version_id, l.event_key, l.unit_id, l.person_id, l.category, l.lead, "
            f"l.points, l.ref, u.code FROM {LedgerEntry._meta.db_table} l "
            f"JOIN {Unit._meta.db_table} u ON u.id = l.unit_id "
            f"WHERE l.item_id = %s AND {where} ORDER BY l.at, l.id",
            [item_id, *params],
        )
        rows = cursor.fetchall()
    for version_id, key, unit_id, person_id, category, lead, points, ref, code in rows:
        seen, credited, recorded = result[version_id]
        seen.add(key)
        amount = Decimal(str(points))
        if person_id is None:
            if ref == key:
                # A recompute's correction (workflow._correct) reverses one earlier line of the
                # same event, unit and category; its replacement follows as a line of its own.
                for i in range(len(recorded) - 1, -1, -1):
                    line = recorded[i]
                    if line[:3] == (key, code, category) and line[4] == -amount:
                        del recorded[i]
                        break
            else:
                recorded.append((key, code, category, ref, amount))
        if amount > 0 and category in ("adopt", "instruct"):
            credited[(ref or key, unit_id, person_id)] = (category, bool(lead), amount)
        elif amount < 0 and ref:
            credited.pop((ref, unit_id, person_id), None)
    return result


CAPPED = sorted(engine.CAP_CATEGORIES)


def _window_seed(
    version: SchemeVersion,
    scheme: engine.Scheme,
    item_id: int,
    units: UnitRef,
    at: dt.datetime,
) -> dict[tuple[str, str], Decimal]:
    """Net points already credited in the cap window of `at` to these units by other items."""
    tz = local_tz()
    window = engine.period_containing(scheme.period_cap_per, at.astimezone(tz))
    codes = {pk: code for code, (pk, _path) in units.items()}
    if not codes:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT unit_id, SUM(points) FROM {LedgerEntry._meta.db_table} "
            f"WHERE scheme_id = %s AND unit_id IN ({', '.join(['%s'] * len(codes))}) "
            "AND person_id IS NULL AND at >= %s AND at < %s "
            "AND (item_id IS NULL OR item_id <> %s) "
            f"AND category IN ({', '.join(['%s'] * len(CAPPED))}) GROUP BY unit_id",
            [
                version.scheme_id,
                *codes,
                connection.ops.adapt_datetimefield_value(window.start),
                connection.ops.adapt_datetimefield_value(window.end),
                item_id,
                *CAPPED,
            ],
        )
        totals = [(unit_id, engine.q2(Decimal(str(total)))) for unit_id, total in cursor.fetchall()]
    return {(codes[unit_id], window.key): total for unit_id, total in totals}


def record_event(event_key: str, item_id: int | None, at: dt.datetime, unit_path: str) -> int:
    """Append the ledger entries caused by one event under every scheme version in force for
    the item's unit; returns how many lines were written. Idempotent per (version, event).

    The item's facts so far are replayed over the moment of the event only (so the engine judges
    no quota windows), seeded with what other items already hold in the period-cap window."""
    versions = versions_in_force(at, unit_path)
    if not versions or item_id is None:
        return 0
    units: UnitRef = {}
    facts = item_facts(item_id, at + dt.timedelta(microseconds=1), units)
    if not facts:
        return 0
    needed = (
        {f.origin_unit for f in facts}
        | {s.origin_unit for f in facts for s in f.sources}
        | {s.forwarded_by for f in facts for s in f.sources if s.forwarded_by}
    )
    if needed - set(units):
        units.update(_units_by_code(needed - set(units)))
    so_far = _so_far(versions, item_id)
    kinds = {item_id: facts[0].item_kind}
    tz = local_tz()
    local = at.astimezone(tz)
    moment = engine.Period("event", local, local + dt.timedelta(microseconds=1))
    written = 0
    for version in versions:
        seen, credited, recorded = so_far[version.pk]
        if event_key in seen:
            continue
        scheme = scheme_of(version)
        seed = None
        if scheme.period_cap is not None:
            seed = _window_seed(version, scheme, item_id, units, at)
        entries = [
            e
            for e in engine.score(
                scheme, facts, moment, window_seed=seed or None, recorded=recorded
            )
            if e.event_id == event_key
        ]
        written += append(
            version, entries, version.scheme.unit.path, credited, tz, item_kinds=kinds, units=units
        )
    return written


def append(
    version: SchemeVersion,
    entries: Sequence[engine.Entry],
    owner_path: str,
    credited: Credited,
    tz: dt.tzinfo,
    item_kinds: dict[int, str] | None = None,
    units: UnitRef | None = None,
    fixed: dict[int, Counts] | None = None,
) -> int:
    """Turn engine entries into ledger rows (dropping units outside the scheme owner's subtree).
    `fixed` gives the item counts of some entries (by index) instead of `counters`."""
    if not entries:
        return 0
    if units is None or any(e.unit not in units for e in entries):
        units = _units_by_code({e.unit for e in entries})
    kinds = item_kinds
    if kinds is None:
        kinds = dict(
            Submission.objects.filter(pk__in={e.item_id for e in entries if e.item_id}).values_list(
                "id", "kind"
            )
        )
    rows = []
    for i, e in enumerate(entries):
        ref = units.get(e.unit)
        if ref is None or not ref[1].startswith(owner_path):
            continue
        row = _Row(e, ref[0], int(e.person) if e.person else None, month_of(e.at, tz))
        if fixed is not None and i in fixed:
            row.d_submitted, row.d_adopted, row.d_lead, row.d_instructions, row.kind = fixed[i]
        else:
            counters(row, credited, (kinds.get(e.item_id) if e.item_id else "") or "dynamic")
        rows.append(row)
    write(version, rows)
    return len(rows)


def on_event(source: str, event: Any) -> None:
    """The listener registered with baosong.lib.hooks (see ScoringConfig.ready)."""
    if source == "submissions":
        if event.action != SubmissionAction.SUBMIT:
            return
        item = event.submission
        record_event(f"s{event.pk}", item.pk, event.at, item.unit.path)
    elif source == "publications":
        if event.action not in SCORED_PUBLICATION_ACTIONS or event.submission_id is None:
            return
        item = event.submission
        record_event(f"p{event.pk}", item.pk, event.at, item.unit.path)
    elif source == "assessment" and event.submission_id is not None:
        item = event.submission
        record_event(f"c{event.pk}", item.pk, event.at, item.unit.path)


def unit_decision_facts(scheme: Scheme, start: dt.datetime, end: dt.datetime) -> list[engine.Fact]:
    """The deductions taken under the scheme (not about an item) in [start, end)."""
    return [
        engine.Fact(
            kind=engine.DEDUCT,
            event_id=f"c{pk}",
            at=at,
            origin_unit=code,
            points=points,
            note=reason,
        )
        for pk, at, code, points, reason in AssessmentEvent.objects.filter(
            scheme=scheme, submission__isnull=True, at__gte=start, at__lt=end
        ).values_list("id", "at", "target__code", "points", "reason")
    ]


def record_unit_decision(event: AssessmentEvent, version: SchemeVersion) -> int:
    """A deduction without an item is scored under the deciding unit's scheme version only."""
    fact = engine.Fact(
        kind=engine.DEDUCT,
        event_id=f"c{event.pk}",
        at=event.at,
        origin_unit=event.target.code,
        points=event.points,
        note=event.reason,
    )
    entries = engine.score(scheme_of(version), [fact], ALL_TIME)
    return append(version, entries, version.scheme.unit.path, {}, local_tz())
