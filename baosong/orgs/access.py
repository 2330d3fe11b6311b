"""Who may see and do what with units, people and memberships. The only door to them.

Rules in one place:
- system admin (系统管理员) configures the unit tree everywhere and reads people;
- security admin (安全管理员) manages every account, membership and platform role, reads units;
- audit admin (审计管理员) reads the audit log and nothing else;
- a unit admin (单位管理员) manages units, people and memberships inside the own subtree;
- any member sees the units of the own subtrees and their ancestors.
Outside what a user may see: 404. Visible but not allowed: 403.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from baosong.audit import models as audit_models
from baosong.orgs.models import Membership, PlatformRole, Role, Unit, User


@dataclass
class Scope:
    platform_role: str = ""
    member_paths: list[str] = field(default_factory=list)
    admin_paths: list[str] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)
    unit_roles: dict[int, set[str]] = field(default_factory=dict)

    def units_with(self, *roles: str) -> list[int]:
        return [unit for unit, held in self.unit_roles.items() if held.intersection(roles)]


def scope_for(user: User) -> Scope:
    """The user's current memberships, read once per request and cached on the user object
    (the session's user arrives with them: see orgs.backends)."""
    cached: Scope | None = getattr(user, "_baosong_scope", None)
    if cached is not None:
        return cached
    rows: list[tuple[int, str, str]] = []
    if user.is_authenticated and user.is_active:
        found = Membership.objects.current().filter(user=user, unit__is_active=True)
        rows = list(found.values_list("unit_id", "unit__path", "role"))
    return scope_from_rows(user, rows)


def scope_from_rows(user: User, rows: list[tuple[int, str, str]]) -> Scope:
    """The scope of these current memberships (unit id, unit path, role), cached on the user."""
    scope = Scope(platform_role=user.platform_role)
    if user.is_authenticated and user.is_active:
        for unit_id, path, role in rows:
            scope.roles.add(role)
            scope.unit_roles.setdefault(unit_id, set()).add(role)
            if path not in scope.member_paths:
                scope.member_paths.append(path)
            if role == Role.UNIT_ADMIN:
                scope.admin_paths.append(path)
    user._baosong_scope = scope  # type: ignore[attr-defined]
    return scope


def forget_scope(user: User) -> None:
    if hasattr(user, "_baosong_scope"):
        del user._baosong_scope


def _within_any(path: str, prefixes: list[str]) -> str | None:
    for prefix in prefixes:
        if path.startswith(prefix):
            return prefix
    return None


def _is(user: User, role: PlatformRole) -> bool:
    return user.is_active and user.platform_role == role


# Units -------------------------------------------------------------------------------------------


def can_browse_units(user: User) -> bool:
    scope = scope_for(user)
    if _is(user, PlatformRole.SYSTEM_ADMIN) or _is(user, PlatformRole.SECURITY_ADMIN):
        return True
    return bool(scope.member_paths)


def visible_units(user: User) -> QuerySet[Unit]:
    """Units in the user's subtrees, with their ancestors; everything for system/security admins."""
    if _is(user, PlatformRole.SYSTEM_ADMIN) or _is(user, PlatformRole.SECURITY_ADMIN):
        return Unit.objects.all()
    scope = scope_for(user)
    if not scope.member_paths:
        return Unit.objects.none()
    condition = Q()
    ancestor_ids: set[int] = set()
    for path in scope.member_paths:
        condition |= Q(path__startswith=path)
        ancestor_ids.update(int(part) for part in path.strip("/").split("/"))
    return Unit.objects.filter(condition | Q(pk__in=ancestor_ids))


def unit_manager_role(user: User, unit: Unit) -> str | None:
    """The role under which the user may manage this unit, or None."""
    if _is(user, PlatformRole.SYSTEM_ADMIN):
        return PlatformRole.SYSTEM_ADMIN.value
    prefix = _within_any(unit.path, scope_for(user).admin_paths)
    if prefix is not None:
        return f"{Role.UNIT_ADMIN.value}@{prefix}"
    return None


def unit_strict_manager_role(user: User, unit: Unit) -> str | None:
    """Managing a unit's place in the tree (move, deactivate) needs rights over its parent."""
    if _is(user, PlatformRole.SYSTEM_ADMIN):
        return PlatformRole.SYSTEM_ADMIN.value
    if unit.parent is None:
        return None
    return unit_manager_role(user, unit.parent)


def get_unit_for(user: User, pk: int, need: str = "view") -> Unit:
    """A unit the user may see (404 otherwise); with need="manage", one they may manage (403)."""
    try:
        unit = visible_units(user).select_related("parent").get(pk=pk)
    except (Unit.DoesNotExist, ValueError) as exc:
        raise Http404("unit") from exc
    if need == "manage" and unit_manager_role(user, unit) is None:
        raise PermissionDenied(gettext("无权管理该单位。"))
    return unit


def manageable_units(user: User) -> QuerySet[Unit]:
    if _is(user, PlatformRole.SYSTEM_ADMIN):
        return Unit.objects.all()
    paths = scope_for(user).admin_paths
    if not paths:
        return Unit.objects.none()
    return Unit.objects.filter(_paths_q("path", paths))


# People ------------------------------------------------------------------------------------------


def can_browse_people(user: User) -> bool:
    if _is(user, PlatformRole.SECURITY_ADMIN) or _is(user, PlatformRole.SYSTEM_ADMIN):
        return True
    return bool(scope_for(user).admin_paths)


def visible_people(user: User) -> QuerySet[User]:
    """Security and system admins see everyone; a unit admin sees who ever served in the subtree."""
    if _is(user, PlatformRole.SECURITY_ADMIN) or _is(user, PlatformRole.SYSTEM_ADMIN):
        return User.objects.all()
    paths = scope_for(user).admin_paths
    if not paths:
        return User.objects.none()
    return User.objects.filter(
        pk__in=Membership.objects.filter(_paths_q("unit__path", paths)).values("user_id")
    )


def _paths_q(field_name: str, paths: list[str]) -> Q:
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{field_name}__startswith": path})
    return condition


def person_manager_role(user: User, person: User) -> str | None:
    """Changing an account: the security admin always; a unit admin only when every current
    membership of the person lies in the admin's subtree, and never for a platform admin."""
    if _is(user, PlatformRole.SECURITY_ADMIN):
        return PlatformRole.SECURITY_ADMIN.value
    if person.platform_role:
        return None
    admin_paths = scope_for(user).admin_paths
    if not admin_paths:
        return None
    paths = list(
        Membership.objects.current().filter(user=person).values_list("unit__path", flat=True)
    )
    if not paths:
        paths = list(Membership.objects.filter(user=person).values_list("unit__path", flat=True))
    if not paths:
        return None
    prefixes = {_within_any(path, admin_paths) for path in paths}
    if None in prefixes:
        return None
    return f"{Role.UNIT_ADMIN.value}@{sorted(p for p in prefixes if p)[0]}"


def get_person_for(user: User, pk: int, need: str = "view") -> User:
    try:
        person = visible_people(user).get(pk=pk)
    except (User.DoesNotExist, ValueError) as exc:
        raise Http404("person") from exc
    if need == "manage" and person_manager_role(user, person) is None:
        raise PermissionDenied(gettext("无权管理该人员。"))
    return person


def membership_manager_role(user: User, unit: Unit) -> str | None:
    """Granting or ending a role in a unit: the security admin, or an admin of that subtree."""
    if _is(user, PlatformRole.SECURITY_ADMIN):
        return PlatformRole.SECURITY_ADMIN.value
    prefix = _within_any(unit.path, scope_for(user).admin_paths)
    if prefix is not None:
        return f"{Role.UNIT_ADMIN.value}@{prefix}"
    return None


def can_set_platform_roles(user: User) -> bool:
    return _is(user, PlatformRole.SECURITY_ADMIN)


# Registers (Excel import and export) ------------------------------------------------------------


def can_import_register(user: User) -> bool:
    """Security admins (people anywhere), system admins (units) and unit admins (own subtree);
    the workflow decides row by row what each of them may actually create."""
    if not user.is_active:
        return False
    if user.platform_role in (PlatformRole.SECURITY_ADMIN, PlatformRole.SYSTEM_ADMIN):
        return True
    return bool(scope_for(user).admin_paths)


def can_export_register(user: User) -> bool:
    """The register lists people, so it is for those who may browse people."""
    return user.is_active and can_browse_people(user)


# Audit -------------------------------------------------------------------------------------------


def can_read_audit(user: User) -> bool:
    return audit_models.can_read_audit(user)
