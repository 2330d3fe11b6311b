"""Read-side helpers: trees and lists built from querysets already filtered by access.py."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from baosong.orgs.models import Membership, Unit


@dataclass
class TreeNode:
    unit: Unit
    children: list["TreeNode"] = field(default_factory=list)
    members: int = 0
    manageable: bool = False


def build_tree(units: QuerySet[Unit], manageable_paths: list[str] | None = None) -> list[TreeNode]:
    """Nest units (one query) by parent, siblings ordered by sort order then code."""
    rows = list(
        units.annotate(
            current_members=Count(
                "memberships",
                filter=Q(memberships__end__isnull=True),
            )
        ).order_by("depth", "sort_order", "code")
    )
    nodes = {unit.pk: TreeNode(unit=unit, members=unit.current_members) for unit in rows}  # type: ignore[attr-defined]
    roots: list[TreeNode] = []
    for node in nodes.values():
        if manageable_paths is not None:
            node.manageable = any(node.unit.path.startswith(p) for p in manageable_paths)
        parent = nodes.get(node.unit.parent_id) if node.unit.parent_id else None
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
