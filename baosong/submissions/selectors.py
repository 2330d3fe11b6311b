"""List queries for items, each built on access.visible_submissions and a constant query count."""

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from baosong.orgs.access import scope_for
from baosong.orgs.models import Role, User
from baosong.submissions.models import Addressee, Assignee, Author, Handling, Status, Submission

MY_TABS: list[tuple[str, str]] = [
    ("draft", "草稿"),
    ("returned", "被退回"),
    ("in_review", "审核中"),
    ("submitted", "已报送"),
    ("rejected", "未通过"),
    ("all", "全部"),
]


def my_items(user: User) -> QuerySet[Submission]:
    return Submission.objects.filter(
        pk__in=Author.objects.filter(user=user).values("submission_id")
    )


# The roles a review stage can name (StageConfig.role).
STAGE_ROLES = frozenset({Role.REVIEWER.value, Role.UNIT_ADMIN.value})


def review_queue(user: User) -> QuerySet[Submission]:
    """Items whose current stage the user acts on: by role in the origin unit, or as a named
    person (the same rule as access.acts_on_current_stage).

    Each branch carries its own status test, and the named items come as a list of ids read
    first, so every branch is one index lookup. A join, or an `IN (subquery)` branch, made both
    databases scan every item in review (60–130 ms at 100,000 items; see bench/items.py)."""
    scope = scope_for(user)
    # Named in a stage counts only while the person still serves in the item's unit.
    waiting = Q(
        status=Status.IN_REVIEW,
        stage_named=True,
        pk__in=_assigned_ids(user),
        unit_id__in=list(scope.unit_roles),
    )
    for unit_id, roles in scope.unit_roles.items():
        for role in sorted(roles & STAGE_ROLES):
            waiting |= Q(
                unit_id=unit_id, status=Status.IN_REVIEW, stage_role=role, stage_named=False
            )
    return Submission.objects.filter(waiting)


def _assigned_ids(user: User) -> list[int]:
    """Items whose current stage names the user; read once per request (lists count and page)."""
    cached: list[int] | None = getattr(user, "_baosong_assigned", None)
    if cached is None:
        cached = list(Assignee.objects.filter(user=user).values_list("submission_id", flat=True))
        user._baosong_assigned = cached  # type: ignore[attr-defined]
    return cached


def incoming(user: User) -> QuerySet[Submission]:
    """Submitted items addressed to a unit where the user is editor."""
    units = scope_for(user).units_with(Role.EDITOR)
    return Submission.objects.filter(
        status=Status.SUBMITTED,
        pk__in=Addressee.objects.filter(unit_id__in=units).values("submission_id"),
    )


def for_list(items: QuerySet[Submission]) -> QuerySet[Submission]:
    """What list rows show, fetched in a fixed number of queries whatever the row count."""
    return items.select_related("unit").prefetch_related(
        Prefetch("authors", queryset=Author.objects.select_related("user"))
    )


def apply_filters(items: QuerySet[Submission], data: dict[str, Any]) -> QuerySet[Submission]:
    if data.get("q"):
        items = items.filter(title__icontains=data["q"].strip())
    if data.get("item_type"):
        items = items.filter(item_type=data["item_type"])
    if data.get("kind"):
        items = items.filter(kind=data["kind"])
    if data.get("status"):
        items = items.filter(status=data["status"])
    if data.get("author"):
        name = data["author"].strip()
        items = items.filter(
            pk__in=Author.objects.filter(
                Q(user__real_name__icontains=name) | Q(user__username__iexact=name)
            ).values("submission_id")
        )
    zone = timezone.get_current_timezone()
    if data.get("start"):
        items = items.filter(updated_at__gte=dt.datetime.combine(data["start"], dt.time.min, zone))
    if data.get("end"):
        end = data["end"] + dt.timedelta(days=1)
        items = items.filter(updated_at__lt=dt.datetime.combine(end, dt.time.min, zone))
    order = data.get("sort") or "-updated_at"
    return items.order_by(order, "-id")


NAV_COUNT_CAP = 99


def nav_counts(user: User) -> dict[str, int | str]:
    """Counts for the navigation: returned to me, awaiting my review, unopened incoming (shown
    as "99+" beyond 99)."""
    counts: dict[str, int | str] = {"returned": 0, "review": 0, "incoming": 0, "drafts": 0}
    scope = scope_for(user)
    if scope.roles.intersection({Role.OFFICER, Role.CORRESPONDENT}):
        mine = my_items(user)
        counts["drafts"] = mine.filter(status=Status.DRAFT).count()
        counts["returned"] = mine.filter(status=Status.RETURNED).count()
    if scope.roles.intersection({Role.REVIEWER, Role.UNIT_ADMIN}) or _named(user):
        counts["review"] = review_queue(user).count()
    if Role.EDITOR in scope.roles:
        units = scope.units_with(Role.EDITOR)
        # Capped like the bell: each unopened receipt is checked against its item, and a
        # province may hold tens of thousands (bench/inbox.py).
        unopened = (
            Addressee.objects.filter(
                unit_id__in=units, opened_at__isnull=True, submission__status=Status.SUBMITTED
            )
            .values("submission_id")
            .distinct()[: NAV_COUNT_CAP + 1]
            .count()
        )
        counts["incoming"] = f"{NAV_COUNT_CAP}+" if unopened > NAV_COUNT_CAP else unopened
    return counts


def _named(user: User) -> bool:
    from baosong.submissions.models import Assignee

    return Assignee.objects.filter(user=user).exists()


def home_panels(user: User) -> dict[str, Any]:
    """Officers see their drafts and returned items, reviewers their queue, editors their inbox."""
    scope = scope_for(user)
    panels: dict[str, Any] = {}
    if scope.roles.intersection({Role.OFFICER, Role.CORRESPONDENT}):
        mine = for_list(my_items(user))
        panels["my_drafts"] = list(
            mine.filter(status__in=[Status.DRAFT, Status.RETURNED]).order_by("-updated_at")[:8]
        )
        panels["my_recent"] = list(
            mine.filter(status__in=[Status.IN_REVIEW, Status.SUBMITTED]).order_by("-updated_at")[:5]
        )
    if scope.roles.intersection({Role.REVIEWER, Role.UNIT_ADMIN}) or _named(user):
        panels["queue"] = list(for_list(review_queue(user)).order_by("updated_at")[:8])
    if Role.EDITOR in scope.roles:
        units = scope.units_with(Role.EDITOR)
        pending = Addressee.objects.filter(
            unit_id__in=units, state=Handling.PENDING, received_at__isnull=False
        ).values("submission_id")
        waiting = incoming(user).filter(pk__in=pending)
        panels["inbox"] = list(for_list(waiting).order_by("-submitted_at")[:8])
    return panels
