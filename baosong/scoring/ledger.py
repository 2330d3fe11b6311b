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
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import Model
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
    VersionStatus,
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
    PublicationAction.RELEAD,
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


T = TypeVar("T")


def per_moment(convert: Callable[[dt.datetime], T]) -> Callable[[dt.datetime], T]:
    """`convert` for the many entries of a period: those of one fact share its moment object,
    which is converted once (by identity: hashing an aware moment costs a time zone conversion;
    the cache holds the moments, so an id is never reused meanwhile)."""
    seen: dict[int, tuple[dt.datetime, T]] = {}

    def converted(at: dt.datetime) -> T:
        hit = seen.get(id(at))
        if hit is None or hit[0] is not at:
            hit = seen[id(at)] = (at, convert(at))
        return hit[1]

    return converted


def months_in(tz: dt.tzinfo) -> Callable[[dt.datetime], int]:
    """`month_of` in `tz` for many moments, mostly in time order (a replay's entries, lines read
    by moment): the last month's bounds are kept, in the moments' own time zone, so that most
    calls are two comparisons (eight times faster than converting each distinct moment)."""
    low: dt.datetime | None = None
    high = low
    month = 0

    def convert(at: dt.datetime) -> int:
        nonlocal low, high, month
        if low is not None and low <= at < high:  # type: ignore[operator]
            return month
        local = at.astimezone(tz)
        month = local.year * 100 + local.month
        first = dt.datetime(local.year, local.month, 1, tzinfo=tz)
        following = dt.datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=tz)
        low, high = first.astimezone(at.tzinfo), following.astimezone(at.tzinfo)
        return month

    return convert


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


class _Item(NamedTuple):  # a recompute makes one per item: a tuple is cheap to make
    unit_code: str
    item_type: str
    kind: str
    authors: tuple[engine.Author, ...]


def items_touched(start: dt.datetime, end: dt.datetime, unit_path: str) -> list[int]:
    """The items of the units under `unit_path` with a scored event in [start, end), in id
    order: one statement (the ORM's OR of three IN subqueries costs twice as much)."""
    return sorted(touched_heads(start, end, unit_path))


Head = tuple[int, str, str | None]  # an item's unit id, type and kind


def touched_heads(
    start: dt.datetime,
    end: dt.datetime,
    unit_path: str,
    *,
    units: Collection[int] | None = None,
    but: bool = False,
    forwarded_by: Collection[int] = (),
) -> dict[int, Head]:
    """`items_touched` by id, each with its unit, type and kind (what `facts_of_items` would
    read again). With `units`, only the items of those units, or with `but` of every unit but
    those, and then also the items that a unit of `forwarded_by` forwarded (a share of a
    recompute's check)."""
    adapt = connection.ops.adapt_datetimefield_value
    window = [adapt(start), adapt(end)]
    actions = [str(a) for a in SCORED_PUBLICATION_ACTIONS]
    sql = f"""
        SELECT x.id, x.unit_id, x.item_type, x.kind FROM {Submission._meta.db_table} x
          JOIN {Unit._meta.db_table} u ON u.id = x.unit_id
         WHERE u.path LIKE %s AND x.id IN (
               SELECT submission_id FROM {SubmissionEvent._meta.db_table}
                WHERE action = %s AND at >= %s AND at < %s
               UNION
               SELECT submission_id FROM {PublicationEvent._meta.db_table}
                WHERE at >= %s AND at < %s AND action IN ({", ".join(["%s"] * len(actions))})
               UNION
               SELECT submission_id FROM {AssessmentEvent._meta.db_table}
                WHERE at >= %s AND at < %s AND submission_id IS NOT NULL)"""
    # Paths are digits and slashes: nothing in them is a LIKE wildcard.
    params = [f"{unit_path}%", SubmissionAction.SUBMIT.value, *window, *window, *actions, *window]
    if units is not None:
        mine, mine_params = _any("x.unit_id", list(units)) if units else ("1 = 0", [])
        if not but:
            sql += f" AND {mine}"
            params += mine_params
        else:
            sql += f" AND (NOT ({mine})"
            params += mine_params
            if forwarded_by:
                sent, sent_params = _any("forwarded_from_id", list(forwarded_by))
                sql += (
                    f" OR x.id IN (SELECT submission_id FROM {Addressee._meta.db_table} "
                    f"WHERE {sent})"
                )
                params += sent_params
            sql += ")"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk: (unit_id, item_type, kind) for pk, unit_id, item_type, kind in cursor}


def forwards_received(units: Collection[int], start: dt.datetime, end: dt.datetime) -> int:
    """How many items these units forwarded in [start, end) (receipts higher up naming them)."""
    if not units:
        return 0
    where, params = _any("forwarded_from_id", list(units))
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {Addressee._meta.db_table} "
            f"WHERE {where} AND received_at >= %s AND received_at < %s",
            [*params, adapt(start), adapt(end)],
        )
        return int(cursor.fetchone()[0])


def _aware(value: Any) -> dt.datetime:
    """A datetime from a raw query: naive UTC text from SQLite, text with its offset (`AT`) or
    an aware value from PostgreSQL."""
    if isinstance(value, str):
        # Naive UTC text from SQLite, 'YYYY-MM-DD HH:MM:SS[.ffffff]'. PostgreSQL's text drops the
        # fraction's trailing zeros and ends in its offset: '… 05:11:54.822+00' is 26 long too.
        if len(value) in (19, 26) and value[-3] not in "+-":
            # Parsed with its offset: datetime.replace(tzinfo=…) costs eight times the parse.
            return dt.datetime.fromisoformat(value + "+00:00")
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


def _json(value: Any) -> dict[str, Any]:
    """A `facts` document from a raw query (text; a dict if the driver parsed it). orjson parses
    a publication event's document in a quarter of json's time (a recompute reads ~30,000)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else dict(value or {})


CHUNK = 5000  # ids per statement on SQLite (well under its limit on bound values)


def _chunk() -> int:
    """Ids per statement. PostgreSQL takes any number as one array; there, batches of a few
    thousand made it plan and scan once per batch (a year's 60,000 items: 12 scans of each
    event table instead of one)."""
    return CHUNK if connection.vendor != "postgresql" else 1 << 30


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    """The ids in batches of `_chunk()`, one statement each."""
    chunk = _chunk()
    for start in range(0, len(ids), chunk):
        yield list(ids[start : start + chunk])


def _any(column: str, values: Sequence[object]) -> tuple[str, list[Any]]:
    """`column IN (…)` for a list of values: one array parameter on PostgreSQL (psycopg parses
    a statement with thousands of placeholders slowly), a placeholder each elsewhere. Ids go as
    one array literal: psycopg dumps a list element by element in Python (a recompute's id lists
    took longer to send than the rows took to read)."""
    if connection.vendor != "postgresql":
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)
    if all(type(v) is int for v in values):
        return f"{column} = ANY(%s::bigint[])", [_array_text(values)]
    return f"{column} = ANY(%s)", [list(values)]


# A moment as text, which `_aware` parses: the database's own conversion to datetime costs
# several times more per row on both databases (PostgreSQL's session time zone is UTC).
AT = "CAST(at AS TEXT)"


def facts_of_items(
    item_ids: Sequence[int],
    until: dt.datetime,
    units_out: UnitRef | None = None,
    *,
    authors: bool = True,
    heads: Mapping[int, Head] | None = None,
) -> list[engine.Fact]:
    """The facts of these items before `until`, read with plain statements (a recompute reads
    hundreds of thousands of rows: the ORM's per-row conversions would cost more than scoring).
    Without `authors` the facts name no co-authors: scoring them gives the same unit entries and
    no person entries (what a recompute compares with the unit rollup). `heads`, when the items
    were found with them (`touched_heads`), are not read again."""
    facts: list[engine.Fact] = []
    moment = connection.ops.adapt_datetimefield_value(until)
    sub, unit_t = Submission._meta.db_table, Unit._meta.db_table
    actions = [str(a) for a in SCORED_PUBLICATION_ACTIONS]
    unit_refs: dict[int, tuple[str, str]] = {}  # unit id → (code, level)
    with connection.cursor() as cursor:
        for ids in _batches(item_ids):
            # No joins: with a long IN list SQLite would drive the join from the unit table.
            if heads is None:
                where, params = _any("id", ids)
                cursor.execute(
                    f"SELECT id, unit_id, item_type, kind FROM {sub} WHERE {where}", params
                )
                found = cursor.fetchall()
            else:
                found = [(pk, *heads[pk]) for pk in ids if pk in heads]
                ids = [pk for pk, *_head in found]
            if not found:
                continue
            where, params = _any("submission_id", ids)
            cursor.execute(
                f"SELECT a.submission_id, a.unit_id, a.forwarded_from_id "
                f"FROM {Addressee._meta.db_table} a WHERE {where}",
                params,
            )
            receipts = cursor.fetchall()
            wanted = ({h[1] for h in found} | {r[1] for r in receipts}) - set(unit_refs)
            if wanted:
                unit_where, unit_params = _any("id", list(wanted))
                cursor.execute(
                    f"SELECT id, code, level, path FROM {unit_t} WHERE {unit_where}", unit_params
                )
                for pk, code, level, path in cursor.fetchall():
                    unit_refs[pk] = (code, level)
                    if units_out is not None:
                        units_out[code] = (pk, path)
            by_item: dict[int, list[engine.Author]] = defaultdict(list)
            if authors:
                cursor.execute(
                    f"SELECT submission_id, user_id, share FROM {Author._meta.db_table} "
                    f"WHERE {where} ORDER BY submission_id, position, id",
                    params,
                )
                for item_id, user, share in cursor.fetchall():
                    by_item[item_id].append(engine.Author(str(user), share))
            items = {
                pk: _Item(
                    unit_refs[unit_id][0], item_type, kind or "dynamic", tuple(by_item.get(pk, ()))
                )
                for pk, unit_id, item_type, kind in found
            }
            # The levels an item was first submitted to (forwarded receipts are not counted here).
            levels_of: dict[int, list[str]] = defaultdict(list)
            for item_id, unit_id, forwarded_from in receipts:
                if forwarded_from is None:
                    levels_of[item_id].append(unit_refs[unit_id][1])
            first_levels = {item_id: tuple(levels) for item_id, levels in levels_of.items()}
            cursor.execute(
                f"SELECT id, submission_id, {AT} FROM {SubmissionEvent._meta.db_table} "
                f"WHERE {where} AND action = %s AND at < %s",
                [*params, SubmissionAction.SUBMIT.value, moment],
            )
            fact, submit, no_adoption = engine.Fact, engine.SUBMIT, ("", "", None, "", "whole")
            for pk, item_id, at in cursor.fetchall():
                info = items[item_id]
                # Positional (the hot path of a recompute): kind, event, moment, item, its type,
                # kind, unit and authors, then no adoption, and the levels it was submitted to.
                facts.append(
                    fact(
                        submit, f"s{pk}", _aware(at), item_id, info.item_type, info.kind,
                        info.unit_code, info.authors, *no_adoption, False, (),
                        first_levels.get(item_id, ()),
                    )
                )  # fmt: skip
            cursor.execute(
                f"SELECT id, submission_id, action, {AT}, adoption_id, facts "
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
                f"SELECT id, submission_id, action, {AT}, points, reason "
                f"FROM {AssessmentEvent._meta.db_table} "
                f"WHERE {where} AND at < %s",
                [*params, moment],
            )
            for pk, item_id, action, at, points, reason in cursor.fetchall():
                amount = engine.q2(Decimal(str(points)))
                facts.append(
                    _item_fact(
                        items[item_id], item_id, action, f"c{pk}", at, points=amount, note=reason
                    )
                )
    return facts


class ItemState(NamedTuple):
    facts: list[engine.Fact]
    units: UnitRef
    booked: Booked
    held: dict[int, Decimal]
    versions: list[InForce]  # in force for `in_force` (empty without it)


def item_state(
    item_id: int,
    until: dt.datetime,
    version_ids: Sequence[int] | None = None,
    windows: Sequence[CapWindow] = (),
    in_force: tuple[dt.date, str] | None = None,
) -> ItemState:
    """What recording an event of one item reads, in one statement (a round trip costs more
    than the reading): the item's facts before `until` as `facts_of_items` gives them, the units
    met on the way (code → id, path), per version of `version_ids` what the ledger booked for
    the item (see `_booked`), and per cap window of `windows` the net points other items hold
    in it for the item's own unit (what `_window_seeds` gives for that unit). With `in_force`
    (a day and the unit's path) it also reads the adopted versions effective that day whose owner's
    subtree holds the unit, and `version_ids` default to theirs."""
    moment = connection.ops.adapt_datetimefield_value(until)
    t = {
        "s": Submission._meta.db_table,
        "u": Unit._meta.db_table,
        "a": Addressee._meta.db_table,
        "w": Author._meta.db_table,
        "e": SubmissionEvent._meta.db_table,
        "p": PublicationEvent._meta.db_table,
        "c": AssessmentEvent._meta.db_table,
        "l": LedgerEntry._meta.db_table,
    }
    actions = [str(a) for a in SCORED_PUBLICATION_ACTIONS]
    # SQLite's statistics can make a scan look cheaper than the item index when most lines have
    # no item (unit deductions, imported scaffolding); an item has a few dozen lines at most.
    by_item = " INDEXED BY ledger_item" if connection.vendor == "sqlite" else ""
    # Columns: tag, i1, i2, i3, i4, s1, s2, s3, s4, at, d, b. PostgreSQL types a UNION's columns
    # pairwise from the left, so the first branch names the types its NULLs stand for.
    stamp = "TIMESTAMP WITH TIME ZONE" if connection.vendor == "postgresql" else "TEXT"
    sql = f"""
        SELECT 'h', x.id, x.unit_id, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), x.item_type,
               x.kind, u.code, u.level, CAST(NULL AS {stamp}), u.path, CAST(NULL AS BOOLEAN)
          FROM {t["s"]} x JOIN {t["u"]} u ON u.id = x.unit_id WHERE x.id = %s
        UNION ALL
        SELECT 'r', a.id, a.unit_id, a.forwarded_from_id, NULL, NULL, NULL,
               (SELECT u.code FROM {t["u"]} u WHERE u.id = a.unit_id),
               (SELECT u.level FROM {t["u"]} u WHERE u.id = a.unit_id), NULL,
               (SELECT u.path FROM {t["u"]} u WHERE u.id = a.unit_id), NULL
          FROM {t["a"]} a WHERE a.submission_id = %s
        UNION ALL
        SELECT 'w', w.id, w.user_id, w.share, w.position, NULL, NULL, NULL, NULL, NULL, NULL, NULL
          FROM {t["w"]} w WHERE w.submission_id = %s
        UNION ALL
        SELECT 's', e.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, e.at, NULL, NULL
          FROM {t["e"]} e WHERE e.submission_id = %s AND e.action = %s AND e.at < %s
        UNION ALL
        SELECT 'p', p.id, p.adoption_id, NULL, NULL, p.action, NULL, NULL, NULL, p.at,
               CAST(p.facts AS TEXT), NULL
          FROM {t["p"]} p WHERE p.submission_id = %s AND p.at < %s
           AND p.action IN ({", ".join(["%s"] * len(actions))})
        UNION ALL
        SELECT 'c', c.id, NULL, NULL, NULL, c.action, CAST(c.points AS TEXT), NULL, NULL, c.at,
               c.reason, NULL
          FROM {t["c"]} c WHERE c.submission_id = %s AND c.at < %s
        UNION ALL
        SELECT 'l', l.id, l.version_id, l.unit_id, l.person_id, l.event_key, l.category, l.ref,
               (SELECT u.code FROM {t["u"]} u WHERE u.id = l.unit_id), l.at,
               CAST(l.points AS TEXT), l.lead
          FROM {t["l"]} l{by_item} WHERE l.item_id = %s
    """
    params = [
        item_id, item_id, item_id,
        item_id, SubmissionAction.SUBMIT.value, moment,
        item_id, moment, *actions,
        item_id, moment,
        item_id,
    ]  # fmt: skip
    own_unit = f"(SELECT x.unit_id FROM {t['s']} x WHERE x.id = %s)"
    for version_id, scheme_id, start, end in windows:
        where, where_params = _window_credit(scheme_id, own_unit, [item_id], start, end, item_id)
        sql += (
            " UNION ALL SELECT 'q', CAST(%s AS BIGINT), NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            f"NULL, CAST(SUM(l.points) AS TEXT), NULL {where}"
        )
        params += [version_id, *where_params]
    if in_force is not None:
        where, where_params = _in_force_where(*in_force)
        sql += (
            " UNION ALL SELECT 'v', v.id, v.scheme_id, v.number, NULL, "
            f"CAST(v.adopted_at AS TEXT), NULL, NULL, NULL, v.used_at, u.path, NULL {where}"
        )
        params += where_params
    # Compact text: psycopg keeps its parsing of statements up to 4 kB (and 50 parameters).
    rows = _prepared(" ".join(sql.split()), params)
    versions = _in_force((r[1], r[2], r[3], r[9], r[5], r[10]) for r in rows if r[0] == "v")
    if version_ids is None:
        version_ids = [v.version.pk for v in versions]
    units: UnitRef = {}
    heads = [r for r in rows if r[0] == "h"]
    if not heads:
        return ItemState([], units, {v: (set(), {}, []) for v in version_ids}, {}, versions)
    _t, _id, _unit_id, _, _, item_type, kind, code, _level, _, path, _b = heads[0]
    units[code] = (_unit_id, path)
    authors = tuple(
        engine.Author(str(r[2]), r[3])
        for r in sorted((r for r in rows if r[0] == "w"), key=lambda r: (r[4], r[1]))
    )
    info = _Item(code, item_type, kind or "dynamic", authors)
    first_levels: list[str] = []
    for r in sorted((r for r in rows if r[0] == "r"), key=lambda r: r[1]):
        units[r[7]] = (r[2], r[10])
        if r[3] is None:
            first_levels.append(r[8])
    facts: list[engine.Fact] = []
    publications: list[tuple[int, str, dt.datetime, int | None, dict[str, Any]]] = []
    lines = []
    for r in rows:
        tag = r[0]
        if tag == "s":
            facts.append(
                _item_fact(
                    info, item_id, engine.SUBMIT, f"s{r[1]}", r[9], to_levels=tuple(first_levels)
                )
            )
        elif tag == "p":
            publications.append((r[1], r[5], _aware(r[9]), r[2], _json(r[10])))
        elif tag == "l":
            lines.append(r)
    codes = {
        c for p in publications if p[1] == PublicationAction.FORWARD for c in p[4].get("to", ())
    }
    levels: dict[str, str] = {}
    if codes:
        levels = dict(Unit.objects.filter(code__in=codes).values_list("code", "level"))
    for pk, action, at, adoption, data in publications:
        facts.append(_publication_fact(pk, info, item_id, action, at, adoption, data, levels))
    for r in rows:
        if r[0] == "c":
            points = engine.q2(Decimal(r[6]))
            facts.append(
                _item_fact(info, item_id, r[5], f"c{r[1]}", r[9], points=points, note=r[10])
            )
    lines.sort(key=lambda r: (_aware(r[9]), r[1]))
    wanted = set(version_ids)
    so_far = _booked(
        (
            (r[2], r[5], r[3], r[4], r[6], Decimal(r[10]), r[7], r[8], bool(r[11]))
            for r in lines
            if r[2] in wanted
        ),
        version_ids,
    )
    held = {r[1]: engine.q2(Decimal(r[10])) for r in rows if r[0] == "q" and r[10] is not None}
    return ItemState(facts, units, so_far, held, versions)


def _item_fact(
    info: _Item, item_id: int, kind: str, event_id: str, at: Any, **more: Any
) -> engine.Fact:
    """A fact about the item: submitting, or a decision (认定抄袭 …) about it."""
    return engine.Fact(
        kind=kind,
        event_id=event_id,
        at=_aware(at),
        item_id=item_id,
        item_type=info.item_type,
        item_kind=info.kind,
        origin_unit=info.unit_code,
        authors=info.authors,
        **more,
    )


def _prepared(sql: str, params: Sequence[Any], fetch: bool = True) -> list[tuple[Any, ...]]:
    """Run a statement that every recorded event runs (its rows, if `fetch`). On PostgreSQL it
    goes through a server-side prepared statement kept by the connection (which Django keeps
    for DB_CONN_MAX_AGE seconds), so that the server does not plan it again each time: planning
    cost more than running these. Django's own cursors bind on the client and prepare nothing.
    settings.BAOSONG_DB_PREPARE = False (DB_PREPARE=0) turns this off, say behind a connection
    pooler in transaction mode."""
    if connection.vendor != "postgresql" or not settings.BAOSONG_DB_PREPARE:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    threshold = raw.prepare_threshold
    raw.prepare_threshold = 0
    server_bound: Any = psycopg.Cursor(raw)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    try:
        with wrap(server_bound) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch else []
    finally:
        raw.prepare_threshold = threshold


ADOPTION_KIND: dict[str, str] = {
    PublicationAction.ADOPT: engine.ADOPT,
    PublicationAction.WITHDRAW_ADOPTION: engine.UNADOPT,
    PublicationAction.RELEAD: engine.RELEAD,
}


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
    """The fact of a publication event (its `facts` document as `data`). Made positionally, in
    `engine.Fact`'s order (a recompute makes one per adoption; keywords cost twice as much):
    kind, event, moment, item, its type, kind, unit and authors, then the acting unit and level,
    the adoption, publication kind, form, lead, sources, levels forwarded to, and for an
    instruction its level and whether principal."""
    get = data.get
    head = (f"p{pk}", at, item_id, info.item_type, info.kind, info.unit_code, info.authors)
    if action == PublicationAction.FORWARD:
        to = tuple([levels.get(code, "") for code in get("to", ())])
        return engine.Fact(
            engine.FORWARD, *head, get("forwarder", ""), get("forwarder_level", ""),
            adoption_id, "", "whole", False, (), to,
        )  # fmt: skip
    source = engine.Source
    sources = tuple(
        [
            source(
                s["item"],
                s["origin_unit"],
                s.get("share", 100),
                bool(s.get("lead_source")),
                s.get("forwarded_by"),
            )
            for s in get("sources", ())
        ]
    )
    if action == PublicationAction.INSTRUCT:
        return engine.Fact(
            engine.INSTRUCT, *head, get("adopting_unit", ""), get("adopting_level", ""),
            adoption_id, "", "whole", False, sources, (),
            get("instruction_level") or get("level", ""), bool(get("principal")),
        )  # fmt: skip
    return engine.Fact(
        ADOPTION_KIND[action], *head, get("adopting_unit", ""), get("adopting_level", ""),
        adoption_id, get("publication_kind", ""), get("form", "whole"), bool(get("is_lead")),
        sources,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Versions in force


@dataclass(frozen=True)
class InForce:
    """An adopted version in force, as recording an event needs it: the row (without its rules
    data), its owner's path and its engine scheme."""

    version: SchemeVersion
    owner_path: str
    rules: engine.Scheme


# An adopted version's rules never change: (version id, adoption moment) → engine scheme.
_rules_cache: dict[tuple[int, str], engine.Scheme] = {}
# The versions with a period cap met by recording on a day, by id (a guess, checked each time).
_capped_seen: dict[dt.date, dict[int, InForce]] = {}


def _in_force_where(day: dt.date, unit_path: str) -> tuple[str, list[Any]]:
    """FROM … WHERE of the adopted versions effective on `day` whose owner's subtree holds the
    unit (the rule of `SchemeVersion.objects.in_force`), as `v`, with its scheme `s` and owner `u`."""
    v, s, u = SchemeVersion._meta.db_table, Scheme._meta.db_table, Unit._meta.db_table
    return (
        f"FROM {v} v JOIN {s} s ON s.id = v.scheme_id JOIN {u} u ON u.id = s.unit_id "
        "WHERE v.status = %s AND v.effective_from <= %s "
        "AND (v.effective_to IS NULL OR v.effective_to >= %s) "
        "AND substr(%s, 1, length(u.path)) = u.path",
        [
            VersionStatus.ADOPTED.value,
            *[connection.ops.adapt_datefield_value(day)] * 2,
            unit_path,
        ],
    )


def _in_force(rows: Iterable[tuple[Any, ...]]) -> list[InForce]:
    """Versions in force from rows (id, scheme id, number, used at, adopted at, owner's path), in
    the order of their owners' paths, schemes and numbers; the rules are parsed once per version
    and process."""
    rows = sorted(rows, key=lambda r: (r[5], r[1], r[2]))
    if not rows:
        return []
    keys = {
        pk: (pk, str(_aware(adopted)) if adopted is not None else "")
        for pk, _s, _n, _u, adopted, _p in rows
    }
    missing = [pk for pk, key in keys.items() if key not in _rules_cache]
    if missing:
        if len(_rules_cache) > 256:
            _rules_cache.clear()
        for version in SchemeVersion.objects.filter(pk__in=missing).only(
            "id", "scheme_id", "number", "data"
        ):
            _rules_cache[keys[version.pk]] = scheme_of(version)
    return [
        InForce(
            SchemeVersion(
                id=pk,
                scheme_id=scheme_id,
                number=number,
                status=VersionStatus.ADOPTED,
                used_at=_aware(used_at) if used_at is not None else None,
            ),
            path,
            _rules_cache[keys[pk]],
        )
        for pk, scheme_id, number, used_at, _adopted, path in rows
    ]


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
Booked = dict[int, tuple[set[str], Credited, list[engine.Recorded]]]
# A period-cap window to sum the item's own unit's credit in: version id, scheme id, start, end.
CapWindow = tuple[int, int, dt.datetime, dt.datetime]
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
    """Append the entries and add them to the monthly rollups."""
    write_all([(version, rows)])


def write_all(batches: Sequence[tuple[SchemeVersion, Sequence[_Row]]]) -> None:
    """Append the entries of several versions and add them to the monthly rollups: one statement
    for the lines and one per rollup table, whatever the number of versions (recording one event
    is a few lines; a recompute appends hundreds of thousands, by COPY on PostgreSQL)."""
    adapt = _moment_adapter()
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
        for version, rows in batches
        for r in rows
    ]
    if not values:
        return
    table, cols = LedgerEntry._meta.db_table, ", ".join(LEDGER_COLUMNS)
    statements: list[_Statement] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(values) > 200:
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # psycopg 3
                for value in values:
                    copy.write_row(value)
        elif connection.vendor == "postgresql":
            statements.append(_unnest(LedgerEntry, LEDGER_COLUMNS, values))
        else:
            statements.append(_insert(f"INSERT INTO {table} ({cols})", values))
        statements += _rollups([(version.scheme_id, rows) for version, rows in batches])
        _run(cursor, statements)
    for version, rows in batches:
        if rows:
            _mark_used(version)


def _moment_adapter() -> Callable[[dt.datetime], Any]:
    """The database's form of an aware moment, as Django's adapter gives it, fast where it can
    be: a recompute writes a line per entry, and on SQLite Django's adapter (naive UTC text)
    costs ten times more per value than the conversion itself."""
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite" or connection.timezone_name != "UTC":
        return adapt
    utc = dt.UTC

    def text(moment: dt.datetime) -> Any:
        if moment.tzinfo is None:
            return adapt(moment)  # Django's warning or error for a naive moment
        return str(moment.astimezone(utc).replace(tzinfo=None))

    return per_moment(text)


# Up to this many rows go in one multi-row INSERT (well under SQLite's limit on bound values).
SMALL = 40


# A statement to run: SQL, its parameters, and whether they are rows for executemany.
_Statement = tuple[str, list[Any], bool]


def _insert(head: str, values: list[tuple[Any, ...]], tail: str = "") -> _Statement:
    """`head` VALUES … `tail`: a few rows in one multi-row statement, more by executemany."""
    one = f"({', '.join(['%s'] * len(values[0]))})"
    if len(values) <= SMALL:
        flat = [v for value in values for v in value]
        return f"{head} VALUES {', '.join([one] * len(values))} {tail}", flat, False
    return f"{head} VALUES {one} {tail}", list(values), True


def _run(cursor: Any, statements: list[_Statement]) -> None:
    """Run the statements; on PostgreSQL the single ones go as one statement of data-modifying
    CTEs (they write different tables and read nothing), one round trip instead of three."""
    single = [(sql, params) for sql, params, many in statements if not many]
    for sql, params, many in statements:
        if many:
            cursor.executemany(sql, params)
    if connection.vendor == "postgresql" and len(single) > 1:
        *first, (last, last_params) = single
        ctes = ", ".join(f"w{i} AS ({sql})" for i, (sql, _p) in enumerate(first))
        values = [p for _s, params in first for p in params] + last_params
        # One parameter per column (see _unnest): the same text, prepared once, for any rows.
        _prepared(f"WITH {ctes} {last}", values, fetch=False)
        return
    for sql, params in single:
        cursor.execute(sql, params)


def _mark_used(version: SchemeVersion) -> None:
    """The first ledger line freezes the version."""
    if version.used_at is None:
        SchemeVersion.objects.filter(pk=version.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        version.used_at = timezone.now()


def _sums(
    batches: Iterable[tuple[int, Iterable[_Row]]],
) -> tuple[dict[tuple[int, int, int], list[Any]], dict[tuple[int, int, int, int], list[Any]]]:
    """Per rollup row: points, submitted, adopted, lead items, instructions, the four kinds'
    counts (a line of that item kind), lines. Written out: a recompute sums a line per entry."""
    units: dict[tuple[int, int, int], list[Any]] = {}
    people: dict[tuple[int, int, int, int], list[Any]] = {}
    kind_index = {kind: i for i, kind in enumerate(KIND_FIELDS, start=5)}
    zero = Decimal(0)
    for scheme_id, rows in batches:
        for r in rows:
            target: list[Any] | None
            if r.person_id is None:
                key = (scheme_id, r.unit_id, r.month)
                target = units.get(key)
                if target is None:
                    target = units[key] = [zero, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            else:
                person_key = (scheme_id, r.person_id, r.unit_id, r.month)
                target = people.get(person_key)
                if target is None:
                    target = people[person_key] = [zero, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            target[0] += r.entry.points
            target[1] += r.d_submitted
            target[2] += r.d_adopted
            target[3] += r.d_lead
            target[4] += r.d_instructions
            i = kind_index.get(r.kind)
            if i is not None:
                target[i] += 1
            target[9] += 1
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


def _rollups(batches: Iterable[tuple[int, Iterable[_Row]]]) -> list[_Statement]:
    """INSERT … ON CONFLICT DO UPDATE adding the figures (SQLite ≥ 3.24 and PostgreSQL) of
    (scheme id, rows) batches to the unit and person rollups."""
    units, people = _sums(batches)
    statements = []
    if units:
        statements.append(
            _upsert(
                UnitMonth,
                ("scheme_id", "unit_id", "month"),
                [(*key, *figures) for key, figures in units.items()],
            )
        )
    if people:
        statements.append(
            _upsert(
                PersonMonth,
                ("scheme_id", "person_id", "unit_id", "month"),
                [(*key, *figures) for key, figures in people.items()],
            )
        )
    return statements


def _upsert(model: type[Model], keys: tuple[str, ...], values: list[tuple[Any, ...]]) -> _Statement:
    table = model._meta.db_table
    cols = ", ".join((*keys, *FIGURES))
    adds = ", ".join(f"{f} = {table}.{f} + excluded.{f}" for f in FIGURES)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
    if connection.vendor == "postgresql":
        return _unnest(model, (*keys, *FIGURES), values, conflict)
    return _insert(f"INSERT INTO {model._meta.db_table} ({cols})", values, conflict)


def _unnest(
    model: type[Model], columns: Sequence[str], values: list[tuple[Any, ...]], tail: str = ""
) -> _Statement:
    """PostgreSQL: INSERT INTO the model's table SELECT * FROM unnest(one array per column, typed
    as the model's fields) `tail` — one parameter per column whatever the number of rows, so the
    text (and its prepared plan, see `_prepared`) is the same for one line as for thousands."""
    return (
        _unnest_sql(model, tuple(columns), tail),
        [_array_text(column) for column in zip(*values, strict=True)],
        False,
    )


def _array_text(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal ({1,"text",NULL,t}) of ints, bools, None and values written as
    text (str, Decimal, datetime), cast by the statement: psycopg dumps a list element by element
    (a millisecond of the few milliseconds that recording an event takes)."""
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
        elif v is True or v is False:
            out.append("t" if v else "f")
        elif type(v) is int:
            out.append(str(v))
        else:
            out.append('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(out) + "}"


@functools.cache
def _unnest_sql(model: type[Model], columns: tuple[str, ...], tail: str) -> str:
    """The text of `_unnest` (the fields' database types cost a millisecond to look up)."""
    fields = [model._meta.get_field(c) for c in columns]
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) {tail}"


def _units_by_code(codes: Iterable[str]) -> UnitRef:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return {
        code: (pk, path)
        for code, pk, path in Unit.objects.filter(code__in=wanted).values_list("code", "id", "path")
    }


def _booked(
    lines: Iterable[tuple[int, str, int, int | None, str, Decimal, str, str, bool]],
    version_ids: Sequence[int],
) -> dict[int, tuple[set[str], Credited, list[engine.Recorded]]]:
    """From an item's ledger lines in ledger order (version, event key, unit id, person id,
    category, points, ref, unit code, lead): per version the events scored, what stands credited, and
    the unit lines as `score(recorded=…)` takes them."""
    result: dict[int, tuple[set[str], Credited, list[engine.Recorded]]] = {
        v: (set(), {}, []) for v in version_ids
    }
    for version_id, key, unit_id, person_id, category, amount, ref, code, lead in lines:
        seen, credited, recorded = result[version_id]
        seen.add(key)
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
            credited[(ref or key, unit_id, person_id)] = (category, lead, amount)
        elif amount < 0 and ref:
            credited.pop((ref, unit_id, person_id), None)
    return result


# The categories the period cap counts, as SQL literals (fixed identifiers of the engine).
CAPPED_SQL = ", ".join(f"'{c}'" for c in sorted(engine.CAP_CATEGORIES))


def _window_credit(
    scheme_id: int,
    unit_sql: str,
    unit_params: list[Any],
    start: dt.datetime,
    end: dt.datetime,
    item_id: int,
) -> tuple[str, list[Any]]:
    """FROM … WHERE of the net points a unit (`unit_sql`, an expression with `unit_params`) holds
    in a cap window from items other than `item_id`, counting only what the period cap counts
    (`engine.window_credit`'s rule). Equalities on the index's first two columns: the planner
    never scans a whole scheme's part of it, even with stale statistics."""
    adapt = connection.ops.adapt_datetimefield_value
    return (
        f"FROM {LedgerEntry._meta.db_table} l WHERE l.scheme_id = %s AND l.unit_id = {unit_sql} "
        "AND l.person_id IS NULL AND l.at >= %s AND l.at < %s "
        f"AND (l.item_id IS NULL OR l.item_id <> %s) AND l.category IN ({CAPPED_SQL})",
        [scheme_id, *unit_params, adapt(start), adapt(end), item_id],
    )


def record_event(event_key: str, item_id: int | None, at: dt.datetime, unit_path: str) -> int:
    """Append the ledger entries caused by one event under every scheme version in force for
    the item's unit; returns how many lines were written. Idempotent per (version, event).

    The item's facts so far are replayed over the moment of the event only (so the engine judges
    no quota windows), seeded with what other items already hold in the period-cap window and
    with what the ledger booked for the item's earlier events. Two statements whatever the
    number of versions: the item (facts, booked lines, its unit's cap window) with the versions
    in force, then the lines and the two rollups; the cap seeds of other units (a forwarder's)
    when the event credits them."""
    if item_id is None:
        return 0
    tz = local_tz()
    local = at.astimezone(tz)
    # The versions in force are read with the item. Which of them have a period cap (whose
    # window the item's read sums) is guessed from the capped versions met that day whose owner
    # holds the unit, and checked against what the same statement found.
    day = local.date()
    seen = _capped_seen.setdefault(day, {})
    guessed = {v.version.pk: v for v in seen.values() if unit_path.startswith(v.owner_path)}
    guessed_windows = []
    for pk, v in guessed.items():
        window = engine.period_containing(v.rules.period_cap_per, local)
        guessed_windows.append((pk, v.version.scheme_id, window.start, window.end))
    facts, units, so_far, held, versions = item_state(
        item_id, at + dt.timedelta(microseconds=1), None, guessed_windows, (day, unit_path)
    )
    if not versions:
        return 0
    capped = [v for v in versions if v.rules.period_cap is not None]
    if len(_capped_seen) > 2:
        for other in [d for d in _capped_seen if d != day]:
            del _capped_seen[other]
    seen.update((v.version.pk, v) for v in capped)
    # A guessed window counts only if the version in force is the one guessed, same scheme and
    # same rules (an id can come back after a rolled-back transaction on SQLite).
    trusted = {
        v.version.pk
        for v in capped
        if (g := guessed.get(v.version.pk)) is not None
        and (g.version.scheme_id, g.rules) == (v.version.scheme_id, v.rules)
    }
    windows = {
        v.version.pk: engine.period_containing(v.rules.period_cap_per, local) for v in capped
    }
    if not facts:
        return 0
    needed = (
        {f.origin_unit for f in facts}
        | {s.origin_unit for f in facts for s in f.sources}
        | {s.forwarded_by for f in facts for s in f.sources if s.forwarded_by}
    )
    if needed - set(units):
        units.update(_units_by_code(needed - set(units)))
    todo = [v for v in versions if event_key not in so_far[v.version.pk][0]]
    # The cap seeds: the item's own unit's window credit came with the item (for the versions
    # guessed); only the units whose credit can change what the new event earns are read besides
    # (a forwarder's, and the own unit's when a version was not guessed).
    origin = facts[0].origin_unit
    seeds: dict[int, dict[tuple[str, str], Decimal]] = {
        pk: {(origin, windows[pk].key): total} for pk, total in held.items() if pk in trusted
    }
    if capped:
        new = [f for f in facts if f.event_id == event_key]
        named = {unit for unit, _w in engine.cap_windows(capped[0].rules, new, tz)} - {origin}
        if not trusted.issuperset(windows):
            named.add(origin)
        others = {c: ref for c, ref in units.items() if c in named}
        for pk, more in _window_seeds(capped, item_id, others, at).items():
            seeds.setdefault(pk, {}).update(more)
    kinds = {item_id: facts[0].item_kind}
    moment = engine.Period("event", local, local + dt.timedelta(microseconds=1))
    batches = []
    for in_force in todo:
        version, scheme = in_force.version, in_force.rules
        _seen, credited, recorded = so_far[version.pk]
        entries = [
            e
            for e in engine.score(
                scheme,
                facts,
                moment,
                window_seed=seeds.get(version.pk) or None,
                recorded=recorded,
            )
            if e.event_id == event_key
        ]
        rows = _rows(entries, in_force.owner_path, credited, tz, kinds, units)
        batches.append((version, rows))
    write_all(batches)
    return sum(len(rows) for _v, rows in batches)


def _window_seeds(
    versions: Sequence[InForce], item_id: int, units: UnitRef, at: dt.datetime
) -> dict[int, dict[tuple[str, str], Decimal]]:
    """Per version with a period cap: the net points already credited in the cap window of `at`
    to these units by other items (one statement for all versions)."""
    codes = {pk: code for code, (pk, _path) in units.items()}
    if not versions or not codes:
        return {}
    tz = local_tz()
    parts, params, windows = [], [], {}
    # One branch per version and unit (see _window_credit).
    for v in versions:
        window = engine.period_containing(v.rules.period_cap_per, at.astimezone(tz))
        windows[v.version.pk] = window.key
        for unit_id in codes:
            where, where_params = _window_credit(
                v.version.scheme_id, "%s", [unit_id], window.start, window.end, item_id
            )
            parts.append(f"SELECT %s, l.unit_id, SUM(l.points) {where} GROUP BY l.unit_id")
            params += [v.version.pk, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    seeds: dict[int, dict[tuple[str, str], Decimal]] = {}
    for version_id, unit_id, total in rows:
        seeds.setdefault(version_id, {})[(codes[unit_id], windows[version_id])] = engine.q2(
            Decimal(str(total))
        )
    return seeds


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
    """Turn engine entries into ledger rows (dropping units outside the scheme owner's subtree)
    and write them. `fixed` gives the item counts of some entries (by index) instead of
    `counters`."""
    rows = _rows(entries, owner_path, credited, tz, item_kinds, units, fixed)
    write(version, rows)
    return len(rows)


def _rows(
    entries: Sequence[engine.Entry],
    owner_path: str,
    credited: Credited,
    tz: dt.tzinfo,
    item_kinds: dict[int, str] | None = None,
    units: UnitRef | None = None,
    fixed: dict[int, Counts] | None = None,
) -> list[_Row]:
    if not entries:
        return []
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
    month = months_in(tz)
    for i, e in enumerate(entries):
        ref = units.get(e.unit)
        if ref is None or not ref[1].startswith(owner_path):
            continue
        row = _Row(e, ref[0], int(e.person) if e.person else None, month(e.at))
        if fixed is not None and i in fixed:
            row.d_submitted, row.d_adopted, row.d_lead, row.d_instructions, row.kind = fixed[i]
        else:
            counters(row, credited, (kinds.get(e.item_id) if e.item_id else "") or "dynamic")
        rows.append(row)
    return rows


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
