"""Who may see and change scores. The only door to schemes, rankings, entries and circulars.

- Editors and unit admins of the unit that owns a scheme manage it: edit drafts, adopt versions,
  run what-ifs, record deductions and confirmed copying, generate circulars, recompute.
- Rankings and circulars of a scheme are circulated: anyone serving in the owner unit, above it,
  or anywhere in its subtree may read them.
- Drill-down: staff of the owner unit (or above) see every unit's and person's entries; anyone else
  sees only the entries of units inside their own units' subtrees, and their own as an author.
- Platform admins (三员) hold no unit roles and see no scores.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from baosong.orgs.access import scope_for
from baosong.orgs.models import Role, Unit, User
from baosong.scoring.models import Circular, Recompute, Scheme, SchemeVersion

MANAGERS = (Role.EDITOR, Role.UNIT_ADMIN)


def _above(user: User, path: str) -> bool:
    """Serving in the unit with this path or in one of its ancestors."""
    return any(path.startswith(p) for p in scope_for(user).member_paths)


def _inside(user: User, path: str) -> bool:
    """Serving somewhere in the subtree of the unit with this path."""
    return any(p.startswith(path) for p in scope_for(user).member_paths)


def can_manage_scheme(user: User, scheme: Scheme) -> bool:
    return bool(scope_for(user).unit_roles.get(scheme.unit_id, set()).intersection(MANAGERS))


def can_create_scheme(user: User, unit: Unit) -> bool:
    return bool(scope_for(user).unit_roles.get(unit.pk, set()).intersection(MANAGERS))


def schemes_for(user: User) -> QuerySet[Scheme]:
    """Schemes whose rankings the user may read."""
    paths = scope_for(user).member_paths
    if not paths:
        return Scheme.objects.none()
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(unit__path__startswith=path)  # schemes of units inside the user's subtree
        ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i > 0]
        q |= Q(unit__path__in=ancestors)  # and of the user's unit and its ancestors
    return Scheme.objects.filter(q).select_related("unit")


def get_scheme_for(user: User, pk: int, need: str = "view") -> Scheme:
    """A scheme the user may read (404 otherwise); need="manage" also requires managing it (403)."""
    try:
        scheme = schemes_for(user).get(pk=pk)
    except (Scheme.DoesNotExist, ValueError) as exc:
        raise Http404("scheme") from exc
    if need == "manage" and not can_manage_scheme(user, scheme):
        raise PermissionDenied(gettext("只有本单位的编辑或单位管理员可以管理计分办法。"))
    return scheme


def get_version_for(user: User, pk: int, need: str = "view") -> SchemeVersion:
    try:
        version = SchemeVersion.objects.select_related("scheme__unit").get(pk=pk)
    except (SchemeVersion.DoesNotExist, ValueError) as exc:
        raise Http404("version") from exc
    get_scheme_for(user, version.scheme_id, need)
    return version


def get_recompute_for(user: User, pk: int, need: str = "view") -> Recompute:
    """A recompute of a scheme the user may read (404 otherwise); need="manage" as for schemes."""
    try:
        job = Recompute.objects.select_related("version__scheme__unit").get(pk=pk)
    except (Recompute.DoesNotExist, ValueError) as exc:
        raise Http404("recompute") from exc
    get_scheme_for(user, job.version.scheme_id, need)
    return job


def can_see_all_entries(user: User, scheme: Scheme) -> bool:
    return _above(user, scheme.unit.path)


def can_drill_unit(user: User, scheme: Scheme, unit: Unit) -> bool:
    """Entries of a unit: staff of the owner (or above) for any unit of the subtree, others for
    units inside their own subtrees."""
    if not unit.path.startswith(scheme.unit.path):
        return False
    return can_see_all_entries(user, scheme) or _above(user, unit.path)


def get_drill_unit_for(user: User, scheme: Scheme, pk: int) -> Unit:
    try:
        unit = Unit.objects.get(pk=pk)
    except (Unit.DoesNotExist, ValueError) as exc:
        raise Http404("unit") from exc
    if not unit.path.startswith(scheme.unit.path):
        raise Http404("unit")
    if not can_drill_unit(user, scheme, unit):
        raise PermissionDenied(gettext("您只能查看本单位及下属单位的计分明细。"))
    return unit


def can_drill_person(user: User, scheme: Scheme, person: User) -> bool:
    if person.pk == user.pk or can_see_all_entries(user, scheme):
        return True
    admin_paths = scope_for(user).admin_paths
    person_paths = scope_for(person).member_paths
    return any(p.startswith(a) for p in person_paths for a in admin_paths)


def get_circular_for(user: User, pk: int) -> Circular:
    try:
        return Circular.objects.select_related("scheme__unit", "unit").get(
            pk=pk, scheme__in=schemes_for(user)
        )
    except (Circular.DoesNotExist, ValueError) as exc:
        raise Http404("circular") from exc


def can_decide(user: User, scheme: Scheme, target: Unit) -> bool:
    """Deductions and confirmed copying: managers of the owner, for units of its subtree."""
    return can_manage_scheme(user, scheme) and target.path.startswith(scheme.unit.path)
