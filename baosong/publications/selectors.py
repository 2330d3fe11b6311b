"""Read-side queries of upper-level handling: the editors' inbox, where one item went, and a
unit's outcomes over a period. Each is built on access.py and runs a fixed number of queries
whatever the number of rows."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
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
    "origin": ("submission__unit__path", "-received_at", "-id"),
    "title": ("submission__title", "-id"),
}


def inbox(user: User) -> QuerySet[Addressee]:
    """Every receipt of the user's editor units: the submitted items (access.receipts_of) and
    the ones this unit returned, which leave the submitted state until the origin resubmits."""
    returned = Addressee.objects.filter(
        unit_id__in=access.editor_unit_ids(user), state=Handling.RETURNED
    )
    return access.receipts_of(user) | returned


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
    if data.get("q"):
        receipts = receipts.filter(submission__title__icontains=data["q"].strip())
    if data.get("item_type"):
        receipts = receipts.filter(submission__item_type=data["item_type"])
    if data.get("kind"):
        receipts = receipts.filter(submission__kind=data["kind"])
    origin: Unit | None = data.get("origin")
    if origin is not None:
        receipts = receipts.filter(submission__unit__path__startswith=origin.path)
    zone = timezone.get_current_timezone()
    if data.get("start"):
        start = dt.datetime.combine(data["start"], dt.time.min, zone)
        receipts = receipts.filter(received_at__gte=start)
    if data.get("end"):
        end = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time.min, zone)
        receipts = receipts.filter(received_at__lt=end)
    return receipts


def inbox_counts(receipts: QuerySet[Addressee]) -> dict[str, int]:
    rows = receipts.order_by().values("state").annotate(n=Count("id"))
    counts = {row["state"]: row["n"] for row in rows}
    counts["all"] = sum(counts.values())
    return counts


def inbox_rows(receipts: QuerySet[Addressee], tab: str, sort: str) -> QuerySet[Addressee]:
    if tab != "all":
        receipts = receipts.filter(state=tab)
    return receipts.select_related(
        "submission__unit", "unit", "claimed_by", "forwarded_from", "forwarded_by"
    ).order_by(*INBOX_SORTS.get(sort, INBOX_SORTS["-received"]))


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


def _adoptions(condition: Q) -> QuerySet[Adoption]:
    return (
        Adoption.objects.filter(condition)
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
    adoptions = {a.pk: a for a in _adoptions(Q(sources__submission=item))}
    outcomes.adoptions = list(adoptions.values())
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
                queryset=AdoptionSource.objects.select_related(
                    "adoption__unit", "adoption__publication", "adoption__issue"
                ).prefetch_related("adoption__instructions"),
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
