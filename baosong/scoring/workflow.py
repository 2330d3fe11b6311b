"""Every change to schemes, assessing decisions, quota settlements, recomputes and circulars."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext

from baosong.audit.record import record
from baosong.lib import forked
from baosong.orgs.models import Unit, User
from baosong.scoring import access, engine, ledger
from baosong.scoring.models import (
    AssessmentEvent,
    Circular,
    Decision,
    LedgerEntry,
    QuotaSettlement,
    Recompute,
    RecomputeStatus,
    Scheme,
    SchemeVersion,
    UnitMonth,
    VersionStatus,
)
from baosong.submissions.models import Status, Submission

log = logging.getLogger(__name__)


def _audit(action: str, by: User, ip: str | None, obj: Any, unit: Unit, after: Any = None) -> None:
    record(
        f"scoring.{action}",
        actor=by,
        role=f"manager@{unit.code}",
        ip=ip,
        obj=obj,
        unit_path=unit.path,
        after=after,
    )


def _manage(by: User, scheme: Scheme) -> None:
    if not access.can_manage_scheme(by, scheme):
        raise PermissionDenied(gettext("只有本单位的编辑或单位管理员可以管理计分办法。"))


def _checked_data(data: dict[str, Any]) -> dict[str, Any]:
    try:
        scheme = engine.scheme_from_data({**data, "version": data.get("version") or "draft"})
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise ValidationError(gettext("计分办法的内容不完整或格式不对。")) from exc
    except ValueError as exc:
        # The engine explains what is wrong in Chinese; anything else is a malformed value.
        reasons = [
            r
            for r in str(exc).split("；")
            if "<" not in r and any("\u4e00" <= ch <= "\u9fff" for ch in r)
        ]
        raise ValidationError(reasons or gettext("计分办法的内容不完整或格式不对。")) from exc
    errors = engine.validate(scheme)
    if errors:
        raise ValidationError(errors)
    return engine.scheme_as_data(scheme)


# ---------------------------------------------------------------------------------------------
# Schemes and versions


@transaction.atomic
def create_scheme(
    *,
    by: User,
    unit: Unit,
    name: str,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Scheme:
    """A new scheme owned by `unit`, with a first draft version (the demo rules unless given)."""
    if not access.can_create_scheme(by, unit):
        raise PermissionDenied(gettext("只有本单位的编辑或单位管理员可以制定计分办法。"))
    if not name.strip():
        raise ValidationError({"name": gettext("请填写计分办法名称。")})
    rules = _checked_data(data or engine.scheme_as_data(engine.CITY_HIGHEST))
    scheme = Scheme.objects.create(unit=unit, name=name.strip()[:120], created_by=by)
    version = SchemeVersion.objects.create(
        scheme=scheme, number=1, status=VersionStatus.DRAFT, data=rules, created_by=by
    )
    _audit("scheme_create", by, ip, scheme, unit, {"version": version.number})
    return scheme


@transaction.atomic
def save_draft(
    *,
    by: User,
    version: SchemeVersion,
    data: dict[str, Any],
    note: str = "",
    ip: str | None = None,
) -> SchemeVersion:
    """Change the rules of a draft version; adopted versions never change."""
    version = (
        SchemeVersion.objects.select_for_update().select_related("scheme__unit").get(pk=version.pk)
    )
    _manage(by, version.scheme)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(gettext("已启用的版本不能修改，请新建版本。"))
    version.data = _checked_data(data)
    version.note = note.strip()[:300]
    version.save(update_fields=["data", "note"])
    _audit("draft_save", by, ip, version, version.scheme.unit, {"note": version.note})
    return version


@transaction.atomic
def new_version(
    *, by: User, scheme: Scheme, base: SchemeVersion | None = None, ip: str | None = None
) -> SchemeVersion:
    """A new draft copied from `base` (default: the newest version). One draft at a time."""
    scheme = Scheme.objects.select_for_update().select_related("unit").get(pk=scheme.pk)
    _manage(by, scheme)
    draft = scheme.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        return draft
    base = base or scheme.versions.order_by("-number").first()
    number = (scheme.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = SchemeVersion.objects.create(
        scheme=scheme,
        number=number,
        status=VersionStatus.DRAFT,
        data=base.data if base else engine.scheme_as_data(engine.CITY_HIGHEST),
        created_by=by,
    )
    _audit("version_new", by, ip, version, scheme.unit, {"number": number})
    return version


@transaction.atomic
def adopt_version(
    *, by: User, version: SchemeVersion, effective_from: dt.date, ip: str | None = None
) -> SchemeVersion:
    """Put a draft in force from a day on. The day may not lie before any entry already scored
    under the scheme (earlier periods never change); the version before it ends the day before.
    Events already recorded from that day on are scored at once."""
    version = (
        SchemeVersion.objects.select_for_update().select_related("scheme__unit").get(pk=version.pk)
    )
    scheme = version.scheme
    _manage(by, scheme)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(gettext("该版本已启用。"))
    if pending_recompute(scheme) is not None:
        # Its effective range would change under a replay that is still running.
        raise ValidationError(gettext("计分正在重算，请在重算完成后再启用新版本。"))
    _checked_data(version.data)
    last = LedgerEntry.objects.filter(scheme=scheme).aggregate(at=Max("at"))["at"]
    if last is not None:
        last_day = last.astimezone(ledger.local_tz()).date()
        if effective_from <= last_day:
            raise ValidationError(
                {
                    "effective_from": gettext(
                        "生效日期须晚于已计分的最后一天（%(day)s），以免改变已有期间的得分。"
                    )
                    % {"day": last_day.isoformat()}
                }
            )
    for earlier in scheme.versions.select_for_update().filter(status=VersionStatus.ADOPTED):
        if earlier.effective_from and earlier.effective_from >= effective_from:
            raise ValidationError({"effective_from": gettext("生效日期须晚于上一版本的生效日期。")})
        if earlier.effective_to is None or earlier.effective_to >= effective_from:
            earlier.effective_to = effective_from - dt.timedelta(days=1)
            earlier.save(update_fields=["effective_to"])
    version.status = VersionStatus.ADOPTED
    version.effective_from = effective_from
    version.adopted_by, version.adopted_at = by, timezone.now()
    version.save(update_fields=["status", "effective_from", "adopted_by", "adopted_at"])
    _audit("version_adopt", by, ip, version, scheme.unit, {"from": effective_from.isoformat()})
    start = dt.datetime.combine(effective_from, dt.time(), ledger.local_tz())
    if start < timezone.now():
        reason = gettext("启用第 %(n)d 版（自 %(day)s 起生效）") % {
            "n": version.number,
            "day": effective_from.isoformat(),
        }
        _recompute_since(version, start, by, reason, ip)
    return version


# ---------------------------------------------------------------------------------------------
# Recomputes asked for from the web


def _recompute_since(
    version: SchemeVersion, start: dt.datetime, by: User, reason: str, ip: str | None
) -> Recompute | None:
    """Score under `version` the events recorded from `start` on. A few thousand items are
    replayed at once, inside the caller's transaction (recorded unless there was nothing to
    replay); more (a province's year: tens of seconds) in the background once the transaction
    has committed (`jobs.start`), so that the page answers and events recorded meanwhile
    already see the version."""
    from baosong.scoring import jobs

    now = timezone.now()
    end = now + dt.timedelta(seconds=1)
    items = len(ledger.touched_heads(start, end, version.scheme.unit.path))
    job = Recompute(version=version, start=start, end=end, reason=reason[:200], requested_by=by)
    if items <= settings.BAOSONG_RECOMPUTE_INLINE_ITEMS:
        stats = recompute(version, start, end)
        if not stats["facts"] and not stats["corrected"]:
            return None
        job.started_at = now
        _finish(job, stats)
        _audit("recompute", by, ip, job, version.scheme.unit, _done(job))
        return job
    job.background = True
    job.save()
    transaction.on_commit(lambda: jobs.start(job.pk))
    return job


def _finish(job: Recompute, stats: dict[str, int]) -> None:
    job.status, job.finished_at = RecomputeStatus.DONE, timezone.now()
    job.facts, job.corrected = stats["facts"], stats["corrected"]
    job.save()


def _done(job: Recompute) -> dict[str, Any]:
    return {"facts": job.facts, "corrected": job.corrected, "background": job.background}


def run_recompute(pk: int) -> Recompute | None:
    """Run a queued recompute (the background thread, or `recompute_scores --pending`); None if
    another process has taken it. It replays up to the moment it starts (the adoption that
    asked for it has committed: every later event is recorded under the version as it comes),
    outside a transaction, so that the check may run on several cores where it can."""
    now = timezone.now()
    claimed = Recompute.objects.filter(pk=pk, status=RecomputeStatus.QUEUED).update(
        status=RecomputeStatus.RUNNING, started_at=now, end=now + dt.timedelta(seconds=1)
    )
    if not claimed:
        return None
    job = Recompute.objects.select_related("version__scheme__unit", "requested_by").get(pk=pk)
    try:
        stats = recompute(job.version, job.start, job.end)
    except Exception as exc:
        log.exception("recompute %s failed", job.pk)
        job.status, job.finished_at = RecomputeStatus.FAILED, timezone.now()
        job.error = (str(exc) or exc.__class__.__name__)[:500]
        job.save()
        _audit("recompute_failed", job.requested_by, None, job, job.version.scheme.unit)
        return job
    _finish(job, stats)
    _audit("recompute", job.requested_by, None, job, job.version.scheme.unit, _done(job))
    return job


def interrupted(job: Recompute, now: dt.datetime | None = None) -> bool:
    """A background recompute whose process went away (a restart): queued and never started, or
    running for longer than any replay takes."""
    now = now or timezone.now()
    limit = dt.timedelta(minutes=settings.BAOSONG_RECOMPUTE_STALE_MINUTES)
    if job.status == RecomputeStatus.QUEUED:
        return job.requested_at < now - min(limit, dt.timedelta(minutes=10))
    return job.status == RecomputeStatus.RUNNING and (job.started_at or now) < now - limit


def restart_refused(
    job: Recompute, *, newer: bool | None = None, now: dt.datetime | None = None
) -> str | None:
    """Why the recompute cannot be started again, or None: only one that failed or was
    interrupted, and only the version's latest. `newer` (a later recompute of the same version
    exists) is looked up unless the caller knows it."""
    if job.status != RecomputeStatus.FAILED and not interrupted(job, now):
        return gettext("只有未完成或已中断的重算可以重新开始。")
    if newer is None:
        newer = Recompute.objects.filter(version_id=job.version_id, pk__gt=job.pk).exists()
    if newer:
        return gettext("该版本已有更新的重算。")
    return None


@transaction.atomic
def restart_recompute(*, by: User, job: Recompute, ip: str | None = None) -> Recompute:
    """Ask again for a recompute that failed or was interrupted: a new one, in the background."""
    from baosong.scoring import jobs

    job = (
        Recompute.objects.select_for_update().select_related("version__scheme__unit").get(pk=job.pk)
    )
    _manage(by, job.version.scheme)
    refused = restart_refused(job)
    if refused:
        raise ValidationError(refused)
    if job.status != RecomputeStatus.FAILED:
        job.status, job.finished_at = RecomputeStatus.FAILED, timezone.now()
        job.error = gettext("已中断（处理进程已退出）")
        job.save(update_fields=["status", "finished_at", "error"])
    again = Recompute.objects.create(
        version=job.version,
        start=job.start,
        end=timezone.now(),
        reason=(gettext("重新开始：") + job.reason)[:200],
        requested_by=by,
        background=True,
    )
    _audit("recompute_restart", by, ip, again, job.version.scheme.unit, {"after": job.pk})
    transaction.on_commit(lambda: jobs.start(again.pk))
    return again


def recomputes_of(scheme: Scheme, limit: int) -> list[Recompute]:
    """The scheme's latest recomputes, newest first."""
    return list(
        Recompute.objects.filter(version__scheme=scheme)
        .select_related("version", "requested_by")
        .order_by("-requested_at", "-id")[:limit]
    )


def run_pending_recomputes() -> list[Recompute]:
    """Run every queued recompute here, oldest first (`recompute_scores --pending`); those another
    process takes meanwhile are left to it."""
    queued = Recompute.objects.filter(status=RecomputeStatus.QUEUED).order_by("requested_at", "id")
    ran = (run_recompute(pk) for pk in list(queued.values_list("pk", flat=True)))
    return [job for job in ran if job is not None]


def pending_recompute(scheme: Scheme) -> Recompute | None:
    """The scheme's recompute still to finish, if any (its scores may not be up to date)."""
    return (
        Recompute.objects.filter(
            version__scheme=scheme,
            status__in=[RecomputeStatus.QUEUED, RecomputeStatus.RUNNING],
        )
        .order_by("requested_at", "id")
        .first()
    )


# ---------------------------------------------------------------------------------------------
# Assessing decisions


@transaction.atomic
def decide(
    *,
    by: User,
    scheme: Scheme,
    action: str,
    target: Unit | None = None,
    item: Submission | None = None,
    points: Decimal | str | int = 0,
    reason: str,
    ip: str | None = None,
) -> AssessmentEvent:
    """Record a deduction (扣分) from a unit, or an item confirmed as copied (认定抄袭) or falsified
    (认定虚假): its points are reversed and the scheme's penalty taken, never edited away."""
    scheme = Scheme.objects.select_related("unit").get(pk=scheme.pk)
    if action not in Decision.values:
        raise ValidationError(gettext("未知的认定类型。"))
    if not reason.strip():
        raise ValidationError({"reason": gettext("请写明理由。")})
    if action == Decision.DEDUCT:
        if target is None:
            raise ValidationError({"target": gettext("请选择被扣分的单位。")})
        try:
            amount = engine.q2(Decimal(str(points)))
        except InvalidOperation as exc:
            raise ValidationError({"points": gettext("扣分应为数字。")}) from exc
        if amount <= 0 or amount > 1000:
            raise ValidationError({"points": gettext("扣分应大于 0 且不超过 1000。")})
    else:
        if item is None:
            raise ValidationError({"item": gettext("请选择被认定的稿件。")})
        item = Submission.objects.select_for_update().select_related("unit").get(pk=item.pk)
        if item.status != Status.SUBMITTED:
            raise ValidationError({"item": gettext("只能认定已报送的稿件。")})
        target, amount = item.unit, Decimal(0)
        if AssessmentEvent.objects.filter(
            submission=item, action__in=[Decision.CONFIRMED_COPY, Decision.FALSIFIED]
        ).exists():
            raise ValidationError(gettext("该稿件已被认定过。"))
    if not access.can_decide(by, scheme, target):
        raise PermissionDenied(gettext("只能对本单位计分范围内的单位作出认定。"))
    event = AssessmentEvent.objects.create(
        action=action,
        by=by,
        ip=ip,
        unit=scheme.unit,
        scheme=scheme if item is None else None,
        target=target,
        submission=item,
        points=amount,
        reason=reason.strip()[:300],
    )
    _audit(
        f"decide_{action}",
        by,
        ip,
        event,
        scheme.unit,
        {"target": target.code, "item": item.pk if item else None, "points": str(amount)},
    )
    if item is not None:
        ledger.on_event("assessment", event)
    else:
        version = ledger.version_on(scheme, event.at.astimezone(ledger.local_tz()).date())
        if version is None:
            raise ValidationError(gettext("该日期没有生效的计分办法版本。"))
        ledger.record_unit_decision(event, version)
    return event


# ---------------------------------------------------------------------------------------------
# Quotas


@transaction.atomic
def settle_quotas(
    *, by: User | None, scheme: Scheme, period: engine.Period, ip: str | None = None
) -> list[QuotaSettlement]:
    """Judge every quota window that has closed inside the period for each child unit of the
    scheme's owner, once: a missed window with a deduction becomes a ledger entry."""
    scheme = Scheme.objects.select_related("unit").get(pk=scheme.pk)
    if by is not None:
        _manage(by, scheme)
    now = timezone.now()
    end = min(period.end, now)
    children = {
        u.path: u
        for u in Unit.objects.filter(parent=scheme.unit, is_active=True)
        .exclude(level="internal")
        .order_by("path")
    }
    created: list[QuotaSettlement] = []
    for version in scheme.versions.select_related("scheme__unit").filter(
        status=VersionStatus.ADOPTED
    ):
        rules = ledger.scheme_of(version)
        if not rules.quotas:
            continue
        vstart = dt.datetime.combine(version.effective_from, dt.time(), ledger.local_tz())  # type: ignore[arg-type]
        vend = (
            dt.datetime.combine(
                version.effective_to + dt.timedelta(days=1), dt.time(), ledger.local_tz()
            )
            if version.effective_to
            else end
        )
        start, stop = max(period.start, vstart), min(end, vend)
        if start >= stop:
            continue
        facts = _first_submissions(scheme, children, start - dt.timedelta(days=370), stop)
        window = engine.Period(period.key, start, stop, period.grain)
        done = set(
            QuotaSettlement.objects.filter(version=version).values_list(
                "unit_id", "quota", "window"
            )
        )
        rows: list[engine.Entry] = []
        for status in engine.quota_status(
            rules, facts, window, [u.code for u in children.values()]
        ):
            unit = next(u for u in children.values() if u.code == status.unit)
            if not status.closed or (unit.pk, status.quota, status.window) in done:
                continue
            if status.start < vstart:
                continue  # the window began under an earlier version
            created.append(
                QuotaSettlement.objects.create(
                    version=version,
                    unit=unit,
                    quota=status.quota,
                    window=status.window,
                    met=status.met,
                    submitted=status.submitted,
                    reason=status.reason[:300],
                    deduction=status.deduction,
                )
            )
            if status.deduction:
                rows.append(
                    engine.Entry(
                        event_id=f"quota:{status.window}:{status.quota}:{status.unit}"[:80],
                        unit=status.unit,
                        person="",
                        points=-status.deduction,
                        rule=f"{status.reason}，扣 {engine.fmt(status.deduction)} 分",
                        item_id=None,
                        period=status.window,
                        at=status.end - dt.timedelta(microseconds=1),
                        category="quota",
                        scheme=version.code,
                    )
                )
        ledger.append(version, rows, scheme.unit.path, {}, ledger.local_tz(), item_kinds={})
    if by is not None and created:
        _audit(
            "quota_settle", by, ip, scheme, scheme.unit, {"period": period.key, "n": len(created)}
        )
    return created


def _first_submissions(
    scheme: Scheme, children: dict[str, Unit], since: dt.datetime, until: dt.datetime
) -> list[engine.Fact]:
    """Submit facts per child unit (each child counts its whole subtree), from the ledger."""
    facts = []
    rows = LedgerEntry.objects.filter(
        scheme=scheme,
        category="submit",
        person__isnull=True,
        d_submitted__gt=0,
        at__gte=since,
        at__lt=until,
    ).values_list("event_key", "at", "unit__path", "item_id", "item_kind")
    for key, at, path, item_id, kind in rows:
        child = next((u for p, u in children.items() if path.startswith(p)), None)
        if child is None:
            continue
        facts.append(
            engine.Fact(
                kind=engine.SUBMIT,
                event_id=key,
                at=at,
                item_id=item_id,
                item_kind=kind or "dynamic",
                origin_unit=child.code,
            )
        )
    return facts


# ---------------------------------------------------------------------------------------------
# Recompute


Cells = dict[tuple[int, int], Decimal]  # (unit id, month) → points

# Below this many items (submitted and adopted, as the rollup counts them) a recompute replays
# in full at once: checking first, or forking, would cost more than it saves.
FORK_FROM = 2000


def recompute(version: SchemeVersion, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Replay every event of [start, end) under `version` and make the ledger agree: cells
    (unit × month) whose sums already agree are left alone; in the others each difference is put
    right by a reversal of what was recorded plus the recomputed entry. Idempotent.

    The check that every cell agrees comes first, on several cores when it can
    (`_forked_cells`); only when a cell disagrees (or nothing is stored yet) are the entries
    computed in full, here."""
    tz = ledger.local_tz()
    scheme = version.scheme
    owner = scheme.unit.path
    vstart = dt.datetime.combine(version.effective_from, dt.time(), tz)  # type: ignore[arg-type]
    start = max(start, vstart)
    if version.effective_to is not None:
        end = min(
            end, dt.datetime.combine(version.effective_to + dt.timedelta(days=1), dt.time(), tz)
        )
    stats = {"facts": 0, "cells": 0, "corrected": 0, "processes": 1}
    if start >= end:
        return stats
    from baosong.scoring import history

    rules = ledger.scheme_of(version)
    with engine.bulk_objects():
        paths = dict(Unit.objects.filter(path__startswith=owner).values_list("code", "id"))
        stored, activity = _stored_cells(scheme, start, end)
        others = history.historic_facts(scheme, start, end) + ledger.unit_decision_facts(
            scheme, start, end
        )
        processes = forked.workers()
        # The check first (with one process too: it reads no co-authors and makes no entries,
        # so agreeing cells cost two thirds of a full replay), unless nothing is stored yet.
        if stored and sum(activity.values()) >= FORK_FROM:
            period = engine.Period("recompute", start, end)
            try:
                computed, stats["facts"], stats["processes"] = _forked_cells(
                    rules, period, owner, activity, others, paths, processes
                )
            except forked.ChildFailed:
                # A child that failed (say, killed for memory) costs time, not the result.
                log.exception("recompute of %s: the check in several processes failed", version)
            else:
                stats["cells"] = len(set(computed) | set(stored))
                if not _disagreeing(computed, stored):
                    return stats
        heads = ledger.touched_heads(start, end, owner)
        facts = ledger.facts_of_items(sorted(heads), end, heads=heads) + others
        return _verify(version, facts, start, end, stats, stored, paths)


class _Part(NamedTuple):
    units: frozenset[int]  # whose items this share replays …
    but: bool  # … or, for the share replayed here, every unit but these
    facts: list[engine.Fact]  # already at hand (imported records, unit deductions)


class _Share(NamedTuple):
    cells: Cells
    replayed: int
    forwarded: dict[str, list[int]]  # forwarding unit → items it forwarded
    # For the share replayed here only: its items and their facts.
    items: frozenset[int]
    facts: list[engine.Fact]


def _forked_cells(
    rules: engine.Scheme,
    period: engine.Period,
    owner_path: str,
    activity: dict[int, int],
    others: list[engine.Fact],
    paths: dict[str, int],
    processes: int,
) -> tuple[Cells, int, int]:
    """The unit cells of the period, computed by `processes` processes side by side: (cells,
    facts replayed, processes used).

    What a unit earns depends only on the facts that credit it, replayed in time order (the
    period cap counts a unit's window, the item cap a unit's credit from one item): the facts of
    its own items, and, for a unit that forwarded items, the adoptions of those items. So the
    units are shared out (by their `activity`, items submitted and adopted as the rollup counts
    them) with their imported records and deductions, and each share finds its units' items
    touched in the period, reads them without co-authors (cells are unit sums), replays them
    and keeps the cells of its own units only. Only a unit with units below it receives items
    to forward: those units are replayed here, together with the items they forwarded (found
    from the receipts higher up), so that their forwarding credit is counted with their own.
    Each share also reports which items were forwarded by whom, from the facts themselves. A
    forwarder whose forwarded items were not all replayed with it (a unit without units below
    it named as a forwarder, say by an imported event) is replayed once more here with its own
    items and every item it forwarded, and its cells replace the others. Same cells as one
    replay of everything (tested)."""
    tz = ledger.local_tz()
    start, end = period.start, period.end
    above = set(
        Unit.objects.filter(id__in=paths.values(), parent__isnull=False).values_list(
            "parent_id", flat=True
        )
    )
    # Units with units below them, and units with nothing in the rollup, here (the last
    # share, with the items they forwarded: a submission and the forward each, most of them
    # adopted by nobody higher up); the others, busiest first, each to the least loaded process.
    last = processes - 1
    load = [0] * processes
    load[last] = sum(n for u, n in activity.items() if u in above)
    load[last] += 2 * ledger.forwards_received(above, start, end)
    owner_of: dict[int, int] = {}
    for unit_id in sorted(set(activity) - above, key=lambda u: (-activity[u], u)):
        k = load.index(min(load))
        owner_of[unit_id] = k
        load[k] += activity[unit_id]
    units: list[set[int]] = [set() for _ in range(processes)]
    known: list[list[engine.Fact]] = [[] for _ in range(processes)]
    for unit_id, k in owner_of.items():
        units[k].add(unit_id)
    for fact in others:
        known[owner_of.get(paths.get(fact.origin_unit, -1), last)].append(fact)
    children = [
        _Part(frozenset(units[k]), False, known[k]) for k in range(last) if units[k] or known[k]
    ]
    away = frozenset().union(*(p.units for p in children))  # the children's units
    parts = [*children, _Part(away, True, known[last])]

    def share(part: _Part) -> _Share:
        # Each share finds its own items (side by side, on its own connection); the one here
        # also the items that the units replayed here forwarded.
        heads = ledger.touched_heads(
            start, end, owner_path, units=part.units, but=part.but,
            forwarded_by=above if part.but else (),
        )  # fmt: skip
        facts = ledger.facts_of_items(sorted(heads), end, authors=False, heads=heads) + part.facts
        forwarded: dict[str, list[int]] = defaultdict(list)
        for fact in facts:
            for src in fact.sources:
                if src.forwarded_by in paths and src.item == fact.item_id:
                    forwarded[src.forwarded_by].append(src.item)
        cells = {
            cell: points
            for cell, points in _unit_cells(rules, facts, period, paths, tz).items()
            if (cell[0] in part.units) != part.but
        }
        if not part.but:
            forked.keep(facts)  # a child's, freed at once by its exit
            return _Share(cells, len(facts), dict(forwarded), frozenset(), [])
        # Items of the children's units are here only for their forwarders.
        only_forwarded = {pk for pk, (unit_id, *_rest) in heads.items() if unit_id in part.units}
        replayed = sum(1 for f in facts if f.item_id not in only_forwarded)
        return _Share(cells, replayed, dict(forwarded), frozenset(heads), facts)

    computed: Cells = defaultdict(Decimal)
    replayed = 0
    forwarders: dict[str, set[int]] = defaultdict(set)
    shares = forked.run(share, parts)
    for result in shares:
        replayed += result.replayed
        for cell, points in result.cells.items():
            computed[cell] += points
        for code, forwarded_items in result.forwarded.items():
            forwarders[code].update(forwarded_items)
    here, here_facts = shares[-1].items, shares[-1].facts
    again = {
        paths[code]
        for code, items in forwarders.items()
        if paths[code] in away or not items <= here
    }
    if again:
        # Normally never: the forwarders again, each with its own items and records and every
        # item it forwarded, taken from here or read again.
        wanted = set().union(*forwarders.values())
        facts = [f for f in here_facts if f.item_id in wanted or paths.get(f.origin_unit) in again]
        elsewhere = set(ledger.touched_heads(start, end, owner_path, units=again & away))
        facts += ledger.facts_of_items(sorted((wanted | elsewhere) - here), end, authors=False)
        facts += [f for f in others if paths.get(f.origin_unit) in again & away]
        for cell in [c for c in computed if c[0] in again]:
            del computed[cell]
        for cell, points in _unit_cells(rules, facts, period, paths, tz).items():
            if cell[0] in again:
                computed[cell] += points
    return dict(computed), replayed, len(parts)


def _cells(entries: Iterable[engine.Entry], paths: dict[str, int], tz: dt.tzinfo) -> Cells:
    """The unit entries' sums per (unit, month); quota entries are not replayed."""
    cells: Cells = defaultdict(Decimal)
    month = ledger.months_in(tz)
    for e in entries:
        if e.person or e.category == "quota":
            continue
        unit_id = paths.get(e.unit)
        if unit_id is not None:
            cells[(unit_id, month(e.at))] += e.points
    return dict(cells)


def _unit_cells(
    rules: engine.Scheme,
    facts: list[engine.Fact],
    period: engine.Period,
    paths: dict[str, int],
    tz: dt.tzinfo,
) -> Cells:
    """`_cells` of scoring the facts, summed by the engine without making the entries (what
    the check needs; a fifth of its replay was making, summing and dropping them)."""
    cells: Cells = {}
    for (code, month), cents in engine.unit_sums(
        rules, facts, period, ledger.months_in(tz)
    ).items():
        unit_id = paths.get(code)
        if unit_id is not None:
            cells[(unit_id, month)] = Decimal(cents).scaleb(-2)
    return cells


def _stored_cells(
    scheme: Scheme, start: dt.datetime, end: dt.datetime
) -> tuple[Cells, dict[int, int]]:
    """The rollup's sums per (unit, month) of [start, end)'s months, quota entries left out,
    and each unit's activity there (items submitted and adopted)."""
    tz = ledger.local_tz()
    first, last = (
        ledger.month_of(start, tz),
        ledger.month_of(end - dt.timedelta(microseconds=1), tz),
    )
    stored: Cells = defaultdict(Decimal)
    activity: dict[int, int] = defaultdict(int)
    for unit_id, month, points, submitted, adopted in UnitMonth.objects.filter(
        scheme=scheme, month__gte=first, month__lte=last
    ).values_list("unit_id", "month", "points", "submitted", "adopted"):
        stored[(unit_id, month)] = points
        activity[unit_id] += max(submitted, 0) + max(adopted, 0)
    quota = (
        LedgerEntry.objects.filter(
            scheme=scheme, category="quota", at__gte=start, at__lt=end, person__isnull=True
        )
        .values_list("unit_id", "month")
        .annotate(total=Sum("points"))
    )
    for unit_id, month, total in quota:
        stored[(unit_id, month)] -= total
    return dict(stored), dict(activity)


def _disagreeing(computed: Cells, stored: Cells) -> set[tuple[int, int]]:
    zero = Decimal(0)
    return {
        cell
        for cell in set(computed) | {c for c, v in stored.items() if v}
        if computed.get(cell, zero) != stored.get(cell, zero)
    }


def _verify(
    version: SchemeVersion,
    facts: list[engine.Fact],
    start: dt.datetime,
    end: dt.datetime,
    stats: dict[str, int],
    stored: Cells,
    paths: dict[str, int],
) -> dict[str, int]:
    """Score `facts` under `version` and correct the cells of [start, end) whose sums differ."""
    stats["facts"] = len(facts)
    stats["processes"] = 1
    rules = ledger.scheme_of(version)
    period = engine.Period("recompute", start, end)
    entries = [e for e in engine.score(rules, facts, period) if e.category != "quota"]
    computed = _cells(entries, paths, ledger.local_tz())
    # Only cells wholly inside [start, end) can be compared with the monthly rollup.
    bad = _disagreeing(computed, stored)
    stats["cells"] = len(set(computed) | set(stored))
    if bad:
        with transaction.atomic():
            stats["corrected"] = _correct(version, entries, bad, start, end, paths)
    return stats


def _correct(
    version: SchemeVersion,
    entries: list[engine.Entry],
    bad: set[tuple[int, int]],
    start: dt.datetime,
    end: dt.datetime,
    unit_ids: dict[str, int],
) -> int:
    """Within the cells that disagree, compare line groups (event, unit, person, category, ref):
    reverse what was recorded and append what the replay gives. The reversal takes back the item
    counts the group added; the replacement counts as a recorded line would, except that one
    taking back another event's credit (撤销采用 …) counts as the group's first line did."""
    tz = ledger.local_tz()
    month = ledger.months_in(tz)
    bad_units = {u for u, _ in bad}
    Key = tuple[str, int, int | None, str, str]
    recorded: dict[Key, Decimal] = defaultdict(Decimal)
    counted: dict[Key, list[Any]] = {}
    first: dict[Key, ledger.Counts] = {}
    credited: ledger.Credited = {}
    # (event, unit, person, category) → its first group, where a correction's reversal belongs.
    groups: dict[tuple[str, int, int | None, str], Key] = {}
    lines = (
        LedgerEntry.objects.filter(
            version=version, unit_id__in=bad_units, at__gte=start, at__lt=end
        )
        .exclude(category="quota")
        .order_by("at", "id")
        .values_list(
            "event_key", "unit_id", "person_id", "category", "ref", "points", "at", "lead",
            "d_submitted", "d_adopted", "d_lead", "d_instructions", "item_kind",
        )
    )  # fmt: skip
    for event_key, unit_pk, person_id, category, ref, points, at, lead, *counts, kind in lines:
        if (unit_pk, month(at)) not in bad:
            continue
        prefix = (event_key, unit_pk, person_id, category)
        # An earlier correction's reversal (ref = its own event) belongs to the group it reversed.
        group = groups.setdefault(prefix, (*prefix, "" if ref == event_key else ref))
        if ref != event_key:
            group = (*prefix, ref)
        recorded[group] += points
        first.setdefault(group, (*counts, kind))  # type: ignore[arg-type]
        tally = counted.setdefault(group, [0, 0, 0, 0, ""])
        for i, value in enumerate(counts):
            tally[i] += value
        tally[4] = tally[4] or kind
        if points > 0 and category in ("adopt", "instruct"):
            credited[(ref or event_key, unit_pk, person_id)] = (category, bool(lead), points)
    wanted: dict[Key, Decimal] = defaultdict(Decimal)
    by_key: dict[Key, engine.Entry] = {}
    for e in entries:
        unit_id = unit_ids.get(e.unit)
        if unit_id is None or (unit_id, month(e.at)) not in bad:
            continue
        wanted_key: Key = (
            e.event_id,
            unit_id,
            int(e.person) if e.person else None,
            e.category,
            e.ref,
        )
        wanted[wanted_key] += e.points
        by_key.setdefault(wanted_key, e)
    out: list[engine.Entry] = []
    fixed: dict[int, ledger.Counts] = {}
    codes = {v: k for k, v in unit_ids.items()}
    # In the replay's order (the entries' time order), then what only the ledger holds: a line's
    # item counts take back those of the credit it reverses, which must come first (sorting the
    # keys as text put event p10's withdrawal before p9's adoption, and the adoption stayed
    # counted).
    order = [*by_key, *sorted(set(recorded) - set(by_key), key=str)]
    for key in order:
        have, want = recorded.get(key, Decimal(0)), wanted.get(key, Decimal(0))
        if have == want:
            continue
        base = by_key.get(key)
        at = base.at if base else end - dt.timedelta(microseconds=1)
        if have:
            if key in counted:
                n = counted[key]
                fixed[len(out)] = (-n[0], -n[1], -n[2], -n[3], n[4])
            out.append(
                engine.Entry(
                    event_id=key[0],
                    unit=codes[key[1]],
                    person=str(key[2]) if key[2] else "",
                    points=-have,
                    rule="重算更正：冲减原记录",
                    item_id=base.item_id if base else None,
                    period="recompute",
                    at=at,
                    category=key[3],
                    scheme=version.code,
                    ref=key[0],
                )
            )
        if want and base is not None:
            if want < 0 and base.ref and key in first:
                fixed[len(out)] = first[key]
            out.append(base._replace(points=want, rule=f"重算：{base.rule}"))
    from baosong.scoring import history

    ledger.append(
        version, history.unlinked(out), version.scheme.unit.path, credited, tz, fixed=fixed
    )
    return len(out)


# ---------------------------------------------------------------------------------------------
# Circulars


@transaction.atomic
def generate_circular(
    *,
    by: User,
    scheme: Scheme,
    parent: Unit,
    grain: str,
    period: engine.Period,
    ip: str | None = None,
) -> Circular:
    """Settle the period's quotas, rank the child units and archive the circular (.docx, .xlsx)
    with the scheme versions used."""
    from baosong.scoring import exports, rankings

    scheme = Scheme.objects.select_related("unit").get(pk=scheme.pk)
    _manage(by, scheme)
    if not parent.path.startswith(scheme.unit.path):
        raise PermissionDenied(gettext("只能对本计分办法范围内的单位发通报。"))
    if period.start >= timezone.now():
        raise ValidationError(gettext("该期间尚未开始。"))
    if pending_recompute(scheme) is not None:
        raise ValidationError(gettext("计分正在重算，请在重算完成后再生成通报。"))
    settle_quotas(by=None, scheme=scheme, period=period)
    ranking = rankings.unit_ranking(scheme, parent, period)
    versions = rankings.versions_used(scheme, period)
    title = exports.circular_title(scheme, parent, grain, period)
    summary = exports.circular_summary(ranking)
    circular = Circular.objects.create(
        scheme=scheme,
        unit=parent,
        grain=grain,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        title=title,
        versions=",".join(v.code for v in versions),
        summary=summary,
        docx=exports.circular_docx(scheme, parent, grain, period, ranking, summary, versions),
        xlsx=exports.ranking_xlsx(scheme, parent, period, ranking, versions),
        created_by=by,
    )
    _audit("circular", by, ip, circular, scheme.unit, {"period": period.key})
    return circular
