"""Read-side queries of upper-level handling: the editors' inbox, where one item went, and a
unit's outcomes over a period. Each is built on access.py and runs a fixed number of queries
whatever the number of rows."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from baosong.orgs.models import Level, Unit, User
from baosong.publications import access
from baosong.publications.models import (
    CHANNEL_KINDS,
    Action,
    Adoption,
    AdoptionSource,
    Event,
    Instruction,
    LeaderLevel,
)
from baosong.submissions.models import Addressee, EventAction, Handling, Status, Submission
from baosong.submissions.models import Event as ItemEvent

# Inbox ------------------------------------------------------------------------------------------

INBOX_TABS: list[tuple[str, str]] = [
    (Handling.PENDING.value, "待处理"),
    (Handling.ADOPTED.value, "已采用"),
    (Handling.REFERENCE.value, "仅供参考"),
    (Handling.FORWARDED.value, "已转报"),
    (Handling.RETURNED.value, "已退回"),
    ("all", "全部"),
]

INBOX_SORTS: dict[str, tuple[str, ...]] = {
    "-received": ("-received_at", "-id"),
    "received": ("received_at", "id"),
    "origin": ("origin_path", "-received_at", "-id"),
    "title": ("sort_title", "-id"),
}


# Counting every receipt of a busy unit means checking each one's item (submitted or not, and
# the filters on its title, type or origin) in another table: 200,000 look-ups, most of the
# page's time at province scale (bench/inbox.py). Counts therefore stop at a cap and show
# "200+"; below it they are exact. With a filter on the item (title, type, origin) nothing is
# counted: a match may take hundreds of look-ups, and the list pages on without a total.
INBOX_COUNT_CAP = 200
ITEM_FILTERS = ("q", "item_type", "kind", "origin")


@dataclass(frozen=True)
class Tally:
    """A count that stops at a cap: exactly `n`, or more than `n` when `more`."""

    n: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.n}+" if self.more else str(self.n)


def inbox(user: User, tab: str = "all") -> QuerySet[Addressee]:
    """The receipts in one tab of the user's inbox. Every tab holds the receipts of the user's
    editor units whose item is submitted (access.receipts_of) in that handling state; the 已退回
    tab, the ones this unit returned, which leave the submitted state until the origin resubmits.
    One state per query, so each tab is a range of the (unit, state, received_at) index; every
    receipt of a submitted item has been received (submitting or forwarding sets received_at),
    and saying so keeps the unreceived receipts of drafts out of that range."""
    if tab == Handling.RETURNED:
        receipts = Addressee.objects.filter(
            unit_id__in=access.editor_unit_ids(user), state=Handling.RETURNED
        )
    elif tab == "all":
        receipts = Addressee.objects.filter(
            Q(submission__status=Status.SUBMITTED) | Q(state=Handling.RETURNED),
            unit_id__in=access.editor_unit_ids(user),
        )
    else:
        receipts = access.receipts_of(user).filter(state=tab)
    return receipts.filter(received_at__isnull=False)


def inbox_origin_units(user: User) -> QuerySet[Unit]:
    """Units items may come from: the subtrees below the user's editor units."""
    paths = list(
        Unit.objects.filter(pk__in=access.editor_unit_ids(user)).values_list("path", flat=True)
    )
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    return Unit.objects.filter(condition).exclude(level=Level.INTERNAL).order_by("path")


def filter_inbox(receipts: QuerySet[Addressee], data: dict[str, Any]) -> QuerySet[Addressee]:
    keyword = (data.get("q") or "").strip()
    if keyword and keyword.upper() == keyword.lower():
        # Without letters that have a case (the usual Chinese keyword) both lookups match the
        # same titles, and PostgreSQL estimates a LIKE on the column from its statistics: it
        # then walks the newest receipts until the page is full. Its guess for UPPER(title) is
        # a handful of rows, so it read all 300,000 items first (bench/inbox.py, 430 ms).
        receipts = receipts.filter(submission__title__contains=keyword)
    elif keyword:
        receipts = receipts.filter(submission__title__icontains=keyword)
    if data.get("item_type"):
        receipts = receipts.filter(submission__item_type=data["item_type"])
    if data.get("kind"):
        receipts = receipts.filter(submission__kind=data["kind"])
    origin: Unit | None = data.get("origin")
    if origin is not None:
        # The subtree's ids, read once, spare a join to the units for every receipt looked at.
        subtree = list(
            Unit.objects.filter(path__startswith=origin.path).values_list("pk", flat=True)
        )
        receipts = receipts.filter(submission__unit_id__in=subtree)
    zone = timezone.get_current_timezone()
    if data.get("start"):
        start = dt.datetime.combine(data["start"], dt.time.min, zone)
        receipts = receipts.filter(received_at__gte=start)
    if data.get("end"):
        end = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time.min, zone)
        receipts = receipts.filter(received_at__lt=end)
    return receipts


def capped_count(receipts: QuerySet[Addressee], cap: int = INBOX_COUNT_CAP) -> Tally:
    # Newest first, as the list reads: PostgreSQL then walks the index and stops at the cap
    # instead of merging the whole unit's receipts with every item.
    n = receipts.order_by("-received_at").values("id")[: cap + 1].count()
    return Tally(cap, more=True) if n > cap else Tally(n)


def inbox_counts(user: User, data: dict[str, Any]) -> dict[str, Tally | None]:
    """The count of every tab under the filters, each capped, in one query; with a filter on
    the item, None."""
    if any(data.get(name) for name in ITEM_FILTERS):
        return dict.fromkeys(dict(INBOX_TABS))
    parts: list[str] = []
    params: list[Any] = []
    for state in Handling.values:
        rows = filter_inbox(inbox(user, state), data).order_by("-received_at").values("id")
        try:
            sql, values = rows[: INBOX_COUNT_CAP + 1].query.sql_with_params()
        except EmptyResultSet:  # no editor unit: nothing to count
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")
        params.extend(values)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        found = cursor.fetchone()
    tallies = {
        state: Tally(INBOX_COUNT_CAP, more=True) if n > INBOX_COUNT_CAP else Tally(n)
        for state, n in zip(Handling.values, found, strict=True)
    }
    total = Tally(sum(c.n for c in tallies.values()), any(c.more for c in tallies.values()))
    return {**tallies, "all": total}


def inbox_rows(user: User, data: dict[str, Any], tab: str, sort: str) -> QuerySet[Addressee]:
    """The receipts of one tab, sorted, with their items and people; their units come from
    with_units once the page is read."""
    return (
        filter_inbox(inbox(user, tab), data)
        .select_related("submission", "claimed_by", "forwarded_by")
        .defer("submission__body", "submission__stage_plan")
        .order_by(*INBOX_SORTS.get(sort, INBOX_SORTS["-received"]))
    )


def with_units(receipts: list[Addressee]) -> list[Addressee]:
    """Sets the receiving unit, the unit forwarded from and the item's unit of each receipt
    from one query. Joined into the page's query, three copies of the unit table made
    PostgreSQL spend more time choosing a plan than reading the page (6 ms of CPU; 3 with
    this query, at province scale, bench/inbox.py)."""
    ids = {r.unit_id for r in receipts} | {r.submission.unit_id for r in receipts}
    ids |= {r.forwarded_from_id for r in receipts if r.forwarded_from_id is not None}
    units = Unit.objects.in_bulk(ids)
    for receipt in receipts:
        receipt.unit = units[receipt.unit_id]
        receipt.submission.unit = units[receipt.submission.unit_id]
        if receipt.forwarded_from_id is not None:
            receipt.forwarded_from = units[receipt.forwarded_from_id]
    return receipts


# Where one item went ----------------------------------------------------------------------------


@dataclass
class Step:
    """One line of an item's outcome timeline."""

    at: dt.datetime
    kind: str  # submit, open, return, forward, reference, adopt, instruct, unadopt
    text: str
    by: str = ""
    comment: str = ""
    adoption: Adoption | None = None
    instruction: Instruction | None = None


@dataclass
class Outcomes:
    steps: list[Step] = field(default_factory=list)
    adoptions: list[Adoption] = field(default_factory=list)


ITEM_EVENT_ACTIONS = (EventAction.SUBMIT, EventAction.OPEN, EventAction.RETURN_FROM_UPPER)
HANDLING_ACTIONS = (
    Action.FORWARD,
    Action.REFERENCE,
    Action.ADOPT,
    Action.INSTRUCT,
    Action.WITHDRAW_ADOPTION,
)


def _adoptions(condition: Q, withdrawn: bool = False) -> QuerySet[Adoption]:
    manager = Adoption.all_objects if withdrawn else Adoption.objects
    return (
        manager.filter(condition)
        .select_related("unit", "publication", "issue")
        .prefetch_related(
            "instructions",
            Prefetch("sources", queryset=AdoptionSource.objects.select_related("origin_unit")),
        )
        .order_by("created_at", "id")
    )


def where_placed(adoption: Adoption) -> str:
    """《组工信息》2026年第3期, or the channel's address and date."""
    if adoption.publication_kind in CHANNEL_KINDS:
        day = adoption.published_on.isoformat() if adoption.published_on else ""
        return f"《{adoption.publication.name}》{day}"
    if adoption.withdrawn_at is not None:
        return f"《{adoption.publication.name}》"
    if adoption.issue is not None:
        return f"《{adoption.publication.name}》{adoption.issue.year}年第{adoption.issue.number}期"
    return f"《{adoption.publication.name}》（待编期）"


def item_outcomes(item: Submission) -> Outcomes:
    """The item's way upward: submitted to, opened by, forwarded, kept for reference, returned,
    adopted (where and how), instructions. Six queries."""
    outcomes = Outcomes()
    item_events = ItemEvent.objects.filter(
        submission=item, action__in=ITEM_EVENT_ACTIONS
    ).select_related("by", "unit")
    for step in item_events:
        where = step.unit.short_name if step.unit else ""
        if step.action == EventAction.SUBMIT:
            outcomes.steps.append(Step(step.at, "submit", step.comment or "报送", ""))
        elif step.action == EventAction.OPEN:
            outcomes.steps.append(Step(step.at, "open", f"{where}已阅"))
        else:
            outcomes.steps.append(
                Step(step.at, "return", f"{where}退回", step.by.real_name, step.comment)
            )
    adoptions = {a.pk: a for a in _adoptions(Q(sources__submission=item), withdrawn=True)}
    outcomes.adoptions = [a for a in adoptions.values() if a.withdrawn_at is None]
    handling = list(
        Event.objects.filter(submission=item, action__in=HANDLING_ACTIONS)
        .select_related("by", "unit", "instruction")
        .order_by("at", "id")
    )
    codes = {code for e in handling if e.action == Action.FORWARD for code in e.facts.get("to", [])}
    names = dict(Unit.objects.filter(code__in=codes).values_list("code", "short_name"))
    for event in handling:
        unit = event.unit.short_name
        if event.action == Action.FORWARD:
            to = "、".join(names.get(code, code) for code in event.facts.get("to", []))
            outcomes.steps.append(
                Step(event.at, "forward", f"{unit}转报{to}", event.by.real_name, event.comment)
            )
        elif event.action == Action.REFERENCE:
            outcomes.steps.append(
                Step(event.at, "reference", f"{unit}仅供参考", event.by.real_name, event.comment)
            )
        elif event.action == Action.ADOPT and event.adoption_id in adoptions:
            adoption = adoptions[event.adoption_id]
            text = f"{unit}{where_placed(adoption)}{adoption.get_form_display()}采用"
            if adoption.withdrawn_at is not None:
                text += "（已撤销）"
            outcomes.steps.append(Step(event.at, "adopt", text, adoption=adoption))
        elif event.action == Action.INSTRUCT and event.instruction is not None:
            instruction = event.instruction
            text = f"{instruction.leader_position}{instruction.leader_name}批示"
            outcomes.steps.append(Step(event.at, "instruct", text, instruction=instruction))
        elif event.action == Action.WITHDRAW_ADOPTION:
            outcomes.steps.append(
                Step(event.at, "unadopt", f"{unit}撤销采用", event.by.real_name, event.comment)
            )
    outcomes.steps.sort(key=lambda step: step.at)
    return outcomes


def adoptions_by_unit(item: Submission, unit: Unit) -> list[Adoption]:
    """This unit's adoptions of the item, with their instructions (for the decision page)."""
    return list(_adoptions(Q(sources__submission=item, unit=unit)))


# A unit's outcomes over a period ----------------------------------------------------------------

LEVELS_SHOWN: list[tuple[str, str]] = [
    (Level.CENTRAL.value, "中央"),
    (Level.PROVINCE.value, "省级"),
    (Level.CITY.value, "市级"),
    (Level.COUNTY.value, "县级"),
]


@dataclass
class FeedbackRow:
    item: Submission
    receipts: list[Addressee]
    adoptions: list[Adoption]
    instructions: list[Instruction]


@dataclass
class Feedback:
    unit: Unit
    start: dt.date
    end: dt.date  # inclusive
    rows: list[FeedbackRow]
    submitted: int = 0
    adopted: int = 0
    adoptions: int = 0
    lead: int = 0
    instructions: int = 0
    by_level: list[tuple[str, int]] = field(default_factory=list)
    instructions_by_level: list[tuple[str, int]] = field(default_factory=list)

    @property
    def rate(self) -> str:
        if not self.submitted:
            return "—"
        return f"{self.adopted * 100 / self.submitted:.1f}%"


def unit_feedback(
    items: QuerySet[Submission], unit: Unit, start: dt.date, end: dt.date
) -> Feedback:
    """The unit's items submitted from start to end (inclusive), each with its receipts,
    adoptions and instructions; the counts are over these items. Four queries."""
    zone = timezone.get_current_timezone()
    lower = dt.datetime.combine(start, dt.time.min, zone)
    upper = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, zone)
    chosen = (
        items.filter(unit=unit, submitted_at__gte=lower, submitted_at__lt=upper)
        .exclude(status=Status.DRAFT)
        .order_by("submitted_at", "id")
        .prefetch_related(
            Prefetch(
                "addressees",
                queryset=Addressee.objects.select_related("unit", "forwarded_from").order_by(
                    "unit__depth", "id"
                ),
            ),
            Prefetch(
                "adoption_sources",
                queryset=AdoptionSource.objects.filter(adoption__withdrawn_at=None)
                .select_related("adoption__unit", "adoption__publication", "adoption__issue")
                .prefetch_related("adoption__instructions"),
            ),
        )
    )
    rows: list[FeedbackRow] = []
    levels: Counter[str] = Counter()
    instruction_levels: Counter[str] = Counter()
    feedback = Feedback(unit=unit, start=start, end=end, rows=rows)
    for item in chosen:
        adoptions = sorted(
            (s.adoption for s in item.adoption_sources.all()), key=lambda a: (a.created_at, a.pk)
        )
        instructions = [i for a in adoptions for i in a.instructions.all()]
        rows.append(FeedbackRow(item, list(item.addressees.all()), adoptions, instructions))
        feedback.submitted += 1
        feedback.adopted += bool(adoptions)
        feedback.adoptions += len(adoptions)
        feedback.lead += any(a.is_lead for a in adoptions)
        feedback.instructions += len(instructions)
        levels.update(a.unit_level for a in adoptions)
        instruction_levels.update(i.level for i in instructions)
    feedback.by_level = [(label, levels[key]) for key, label in LEVELS_SHOWN]
    feedback.instructions_by_level = [
        (str(label), instruction_levels[key]) for key, label in LeaderLevel.choices
    ]
    return feedback


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)
