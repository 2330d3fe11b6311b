"""Read-side helpers: trees and lists built from querysets already filtered by access.py."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from baosong.orgs.models import Membership, Unit

# Levels of the tree rendered at once; deeper branches load when opened (htmx), so a province of
# two thousand units renders as fast as a county.
TREE_EAGER_LEVELS = 3
TREE_EAGER_MAX = 150


@dataclass
class TreeNode:
    unit: Unit
    children: list["TreeNode"] = field(default_factory=list)
    members: int = 0
    manageable: bool = False
    lazy: bool = False


def _annotated(units: QuerySet[Unit]) -> QuerySet[Unit]:
    members = (
        Membership.objects.current()
        .filter(unit=OuterRef("pk"))
        .values("unit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return units.annotate(
        current_members=Coalesce(Subquery(members, output_field=IntegerField()), 0),
        has_children=Exists(Unit.objects.filter(parent=OuterRef("pk"))),
    ).order_by("depth", "sort_order", "code")


def build_tree(
    units: QuerySet[Unit],
    manageable_paths: list[str] | None = None,
    eager_levels: int = TREE_EAGER_LEVELS,
) -> list[TreeNode]:
    """Nest the visible units (one query) by parent, siblings ordered by sort order then code.

    Only the top `eager_levels` levels below the shallowest visible unit are loaded; nodes at the
    edge that have children are marked lazy."""
    top = units.order_by("depth").values_list("depth", flat=True).first()
    if top is None:
        return []
    # A whole province opens two levels deep (cities); smaller trees show three.
    while eager_levels > 2 and units.filter(depth__lt=top + eager_levels).count() > TREE_EAGER_MAX:
        eager_levels -= 1
    rows = list(_annotated(units.filter(depth__lt=top + eager_levels)))
    return _nest(rows, manageable_paths, edge_depth=top + eager_levels - 1)


def children_nodes(
    units: QuerySet[Unit], parent: Unit, manageable_paths: list[str] | None
) -> list[TreeNode]:
    """The visible children of one unit, each lazy if it has children of its own."""
    rows = list(_annotated(units.filter(parent=parent)))
    return _nest(rows, manageable_paths, edge_depth=parent.depth + 1, roots_ok=True)


def _nest(
    rows: list[Unit],
    manageable_paths: list[str] | None,
    edge_depth: int,
    roots_ok: bool = False,
) -> list[TreeNode]:
    nodes = {
        unit.pk: TreeNode(unit=unit, members=unit.current_members)  # type: ignore[attr-defined]
        for unit in rows
    }
    roots: list[TreeNode] = []
    for node in nodes.values():
        unit = node.unit
        if manageable_paths is not None:
            node.manageable = any(unit.path.startswith(p) for p in manageable_paths)
        node.lazy = unit.depth >= edge_depth and bool(unit.has_children)  # type: ignore[attr-defined]
        parent = nodes.get(unit.parent_id) if unit.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


def current_memberships_of(unit: Unit) -> QuerySet[Membership]:
    return (
        Membership.objects.current()
        .filter(unit=unit)
        .select_related("user")
        .order_by("role", "user__real_name")
    )


def is_locked_out(person_username: str) -> bool:
    """Whether sign-in is currently locked for this login name (django-axes attempts)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return bool(
        AccessAttempt.objects.filter(
            username=person_username,
            attempt_time__gte=since,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        ).exists()
    )


def locked_out_logins() -> list[str]:
    """Login names whose sign-in is locked right now (for the security admin's home page)."""
    from axes.models import AccessAttempt

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(
        attempt_time__gte=since, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exclude(username__isnull=True)
    return sorted({str(name) for name in rows.values_list("username", flat=True) if name})
