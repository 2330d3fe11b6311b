"""Every change to units, people, memberships and tokens: one function per verb.

Each function checks permission through access.py, runs in one transaction with the changed
rows locked, and appends one audit event. `by=None` means the platform itself (management
commands such as load_demo or an import run from the shell); views always pass the signed-in user.
"""

import datetime as dt
import hashlib
import secrets
import uuid

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from baosong.audit.record import record
from baosong.lib import hooks
from baosong.orgs import access
from baosong.orgs.models import (
    LEVEL_RANK,
    ApiToken,
    Level,
    Membership,
    PlatformRole,
    Role,
    Unit,
    User,
    code_validator,
    login_validator,
    mobile_validator,
    moved_path,
)

SYSTEM = "system"


def _role_or_deny(by: User | None, role: str | None, message: str) -> str:
    if by is None:
        return SYSTEM
    if role is None:
        raise PermissionDenied(message)
    return role


# Units -------------------------------------------------------------------------------------------


def _check_level(parent: Unit | None, level: str) -> None:
    if level not in Level.values:
        raise ValidationError({"level": gettext("层级无效。")})
    if parent is None:
        if level == Level.INTERNAL:
            raise ValidationError({"level": gettext("科室必须隶属于某个单位。")})
        return
    if level == Level.INTERNAL:
        return
    if parent.level == Level.INTERNAL:
        raise ValidationError({"level": gettext("科室之下只能设科室。")})
    if LEVEL_RANK[level] <= LEVEL_RANK[parent.level]:
        child, above = Level(level).label, parent.get_level_display()
        raise ValidationError(
            {
                "level": gettext("“%(child)s”级单位不能隶属于“%(above)s”级单位。")
                % {"child": child, "above": above}
            }
        )


def _check_unit_fields(code: str, name: str, short_name: str, exclude_pk: int | None) -> None:
    errors: dict[str, str] = {}
    try:
        code_validator(code)
    except ValidationError:
        errors["code"] = gettext("单位编码只能包含字母、数字、下划线和连字符，最长 32 位。")
    if not errors and Unit.objects.filter(code=code).exclude(pk=exclude_pk or 0).exists():
        errors["code"] = gettext("单位编码“%(code)s”已被使用。") % {"code": code}
    if not name.strip() or len(name) > 120:
        errors["name"] = gettext("请填写单位全称（不超过 120 字）。")
    if not short_name.strip() or len(short_name) > 40:
        errors["short_name"] = gettext("请填写单位简称（不超过 40 字）。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_unit(
    *,
    by: User | None,
    parent: Unit | None,
    code: str,
    name: str,
    short_name: str,
    level: str,
    sort_order: int = 0,
    ip: str | None = None,
) -> Unit:
    """Create a unit under a parent the actor manages (a root unit only by the platform)."""
    if parent is not None:
        parent = Unit.objects.select_for_update().get(pk=parent.pk)
        role = _role_or_deny(
            by,
            access.unit_manager_role(by, parent) if by else None,
            gettext("无权在该单位下新建单位。"),
        )
        if not parent.is_active:
            raise ValidationError({"parent": gettext("上级单位已停用。")})
    else:
        is_sysadmin = by is not None and by.platform_role == PlatformRole.SYSTEM_ADMIN
        role = _role_or_deny(
            by,
            PlatformRole.SYSTEM_ADMIN.value if is_sysadmin else None,
            gettext("只有系统管理员可以新建顶级单位。"),
        )
    code, name, short_name = code.strip(), name.strip(), short_name.strip()
    _check_unit_fields(code, name, short_name, None)
    _check_level(parent, level)
    unit = Unit.objects.create(
        code=code,
        name=name,
        short_name=short_name,
        level=level,
        parent=parent,
        sort_order=sort_order,
        path=f"/new-{uuid.uuid4().hex}/",
        depth=(parent.depth + 1) if parent else 0,
    )
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    record(
        "unit.create",
        actor=by,
        role=role,
        ip=ip,
        obj=unit,
        unit_path=unit.path,
        after=unit.snapshot(),
    )
    return unit


@transaction.atomic
def update_unit(
    *,
    by: User | None,
    unit: Unit,
    code: str,
    name: str,
    short_name: str,
    sort_order: int,
    level: str | None = None,
    ip: str | None = None,
) -> Unit:
    """Rename a unit, change its code, short name, order or level within the tree rules."""
    unit = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    role = _role_or_deny(
        by, access.unit_manager_role(by, unit) if by else None, gettext("无权修改该单位。")
    )
    before = unit.snapshot()
    code, name, short_name = code.strip(), name.strip(), short_name.strip()
    _check_unit_fields(code, name, short_name, unit.pk)
    if level is not None and level != unit.level:
        # The level places the unit in the tree (and scoring depends on it), like a move.
        if by is not None and access.unit_strict_manager_role(by, unit) is None:
            raise PermissionDenied(gettext("修改单位层级须由上级单位的管理员办理。"))
        _check_level(unit.parent, level)
        for child in unit.children.all():
            _check_level_against(child, level)
        unit.level = level
    unit.code, unit.name, unit.short_name, unit.sort_order = code, name, short_name, sort_order
    unit.save()
    after = unit.snapshot()
    if after != before:
        record(
            "unit.update",
            actor=by,
            role=role,
            ip=ip,
            obj=unit,
            unit_path=unit.path,
            before=before,
            after=after,
        )
    return unit


def _check_level_against(child: Unit, parent_level: str) -> None:
    probe = Unit(level=parent_level)
    try:
        _check_level(probe, child.level)
    except ValidationError as exc:
        raise ValidationError(
            {
                "level": gettext("下级单位“%(name)s”的层级与新层级不相容。")
                % {"name": child.short_name}
            }
        ) from exc


@transaction.atomic
def move_unit(*, by: User | None, unit: Unit, new_parent: Unit, ip: str | None = None) -> Unit:
    """Re-home a unit and its whole subtree under a new parent, in one transaction."""
    unit = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    new_parent = Unit.objects.select_for_update().get(pk=new_parent.pk)
    role = _role_or_deny(
        by, access.unit_strict_manager_role(by, unit) if by else None, gettext("无权移动该单位。")
    )
    if by is not None and access.unit_manager_role(by, new_parent) is None:
        raise PermissionDenied(gettext("无权把单位移到目标单位之下。"))
    if new_parent.is_within(unit):
        raise ValidationError({"parent": gettext("不能把单位移到它自己或它的下级单位之下。")})
    if not new_parent.is_active:
        raise ValidationError({"parent": gettext("目标上级单位已停用。")})
    if unit.parent_id == new_parent.pk:
        return unit
    _check_level(new_parent, unit.level)
    before = unit.snapshot()
    old_path, new_path = unit.path, f"{new_parent.path}{unit.pk}/"
    delta = new_parent.depth + 1 - unit.depth
    Unit.objects.filter(path__startswith=old_path).update(
        path=moved_path("path", old_path, new_path), depth=F("depth") + delta
    )
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    hooks.event_written("orgs", hooks.UnitMoved(old_path, new_path))
    record(
        "unit.move",
        actor=by,
        role=role,
        ip=ip,
        obj=unit,
        unit_path=unit.path,
        before={**before, "path": old_path},
        after={**unit.snapshot(), "path": unit.path},
    )
    return unit


@transaction.atomic
def deactivate_unit(*, by: User | None, unit: Unit, ip: str | None = None) -> Unit:
    """Deactivate a unit with no active child units and no current members; never delete it."""
    unit = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    role = _role_or_deny(
        by, access.unit_strict_manager_role(by, unit) if by else None, gettext("无权停用该单位。")
    )
    if not unit.is_active:
        return unit
    active_children = unit.children.filter(is_active=True).count()
    if active_children:
        raise ValidationError(
            ngettext(
                "该单位还有 %(count)d 个启用的下级单位，请先停用或移走。",
                "该单位还有 %(count)d 个启用的下级单位，请先停用或移走。",
                active_children,
            )
            % {"count": active_children}
        )
    # A role ending today still counts today, but does not keep the unit from closing.
    members = (
        Membership.objects.filter(unit=unit, start__lte=timezone.localdate())
        .filter(Q(end__isnull=True) | Q(end__gt=timezone.localdate()))
        .count()
    )
    if members:
        raise ValidationError(
            ngettext(
                "该单位还有 %(count)d 条在任任职，请先结束这些任职。",
                "该单位还有 %(count)d 条在任任职，请先结束这些任职。",
                members,
            )
            % {"count": members}
        )
    before = unit.snapshot()
    unit.is_active = False
    unit.save(update_fields=["is_active", "updated_at"])
    record(
        "unit.deactivate",
        actor=by,
        role=role,
        ip=ip,
        obj=unit,
        unit_path=unit.path,
        before=before,
        after=unit.snapshot(),
    )
    return unit


@transaction.atomic
def reactivate_unit(*, by: User | None, unit: Unit, ip: str | None = None) -> Unit:
    unit = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    role = _role_or_deny(
        by, access.unit_strict_manager_role(by, unit) if by else None, gettext("无权启用该单位。")
    )
    if unit.is_active:
        return unit
    if unit.parent is not None and not unit.parent.is_active:
        raise ValidationError(gettext("上级单位已停用，请先启用上级单位。"))
    before = unit.snapshot()
    unit.is_active = True
    unit.save(update_fields=["is_active", "updated_at"])
    record(
        "unit.reactivate",
        actor=by,
        role=role,
        ip=ip,
        obj=unit,
        unit_path=unit.path,
        before=before,
        after=unit.snapshot(),
    )
    return unit


# People ------------------------------------------------------------------------------------------


def _check_person_fields(
    username: str, real_name: str, mobile: str, email: str, exclude_pk: int | None
) -> None:
    errors: dict[str, str] = {}
    try:
        login_validator(username)
    except ValidationError:
        errors["username"] = gettext("登录名只能包含字母、数字、点、下划线和连字符，2 至 64 位。")
    if (
        "username" not in errors
        and User.objects.filter(username__iexact=username).exclude(pk=exclude_pk or 0).exists()
    ):
        errors["username"] = gettext("登录名“%(username)s”已被使用。") % {"username": username}
    if not real_name.strip() or len(real_name) > 40:
        errors["real_name"] = gettext("请填写姓名（不超过 40 字）。")
    if mobile:
        try:
            mobile_validator(mobile)
        except ValidationError:
            errors["mobile"] = gettext("手机号码应为 11 位中国大陆手机号。")
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = gettext("邮箱格式不正确。")
    if errors:
        raise ValidationError(errors)


def _unit_for_person(by: User | None, person: User) -> str:
    path = (
        Membership.objects.filter(user=person)
        .order_by("-start")
        .values_list("unit__path", flat=True)
        .first()
    )
    return path or ""


@transaction.atomic
def create_person(
    *,
    by: User | None,
    username: str,
    real_name: str,
    mobile: str = "",
    email: str = "",
    password: str | None = None,
    unit: Unit | None = None,
    role: str | None = None,
    start: dt.date | None = None,
    ip: str | None = None,
) -> User:
    """Create an account; a unit admin must give it a first role in the own subtree."""
    if unit is not None and role:
        actor_role = _role_or_deny(
            by,
            access.membership_manager_role(by, unit) if by else None,
            gettext("无权在该单位下添加人员。"),
        )
    else:
        is_sec = by is not None and access.can_set_platform_roles(by)
        actor_role = _role_or_deny(
            by,
            PlatformRole.SECURITY_ADMIN.value if is_sec else None,
            gettext("新建人员时须指定所在单位和角色。"),
        )
    username, real_name, mobile, email = (
        username.strip(),
        real_name.strip(),
        mobile.strip(),
        email.strip(),
    )
    _check_person_fields(username, real_name, mobile, email, None)
    if password:
        probe = User(username=username, real_name=real_name, email=email)
        try:
            validate_password(password, probe)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
    person = User.objects.create_user(
        username, password=password or None, real_name=real_name, mobile=mobile, email=email
    )
    record(
        "person.create",
        actor=by,
        role=actor_role,
        ip=ip,
        obj=person,
        unit_path=unit.path if unit else "",
        after=person.snapshot(),
    )
    if unit is not None and role:
        add_membership(by=by, person=person, unit=unit, role=role, start=start, ip=ip)
    return person


@transaction.atomic
def update_person(
    *, by: User | None, person: User, real_name: str, mobile: str, email: str, ip: str | None = None
) -> User:
    person = User.objects.select_for_update().get(pk=person.pk)
    role = _role_or_deny(
        by, access.person_manager_role(by, person) if by else None, gettext("无权修改该人员。")
    )
    real_name, mobile, email = real_name.strip(), mobile.strip(), email.strip()
    _check_person_fields(person.username, real_name, mobile, email, person.pk)
    before = person.snapshot()
    person.real_name, person.mobile, person.email = real_name, mobile, email
    person.save(update_fields=["real_name", "mobile", "email"])
    if person.snapshot() != before:
        record(
            "person.update",
            actor=by,
            role=role,
            ip=ip,
            obj=person,
            unit_path=_unit_for_person(by, person),
            before=before,
            after=person.snapshot(),
        )
    return person


@transaction.atomic
def set_person_active(
    *, by: User | None, person: User, active: bool, ip: str | None = None
) -> User:
    """Deactivate or reactivate an account; an inactive account's sessions and tokens are refused
    on their next request (the auth backend and the API check is_active)."""
    person = User.objects.select_for_update().get(pk=person.pk)
    role = _role_or_deny(
        by,
        access.person_manager_role(by, person) if by else None,
        gettext("无权停用或启用该人员。"),
    )
    if by is not None and by.pk == person.pk:
        raise ValidationError(gettext("不能停用自己的账号。"))
    if person.is_active == active:
        return person
    before = person.snapshot()
    person.is_active = active
    person.save(update_fields=["is_active"])
    action = "person.reactivate" if active else "person.deactivate"
    record(
        action,
        actor=by,
        role=role,
        ip=ip,
        obj=person,
        unit_path=_unit_for_person(by, person),
        before=before,
        after=person.snapshot(),
    )
    return person


@transaction.atomic
def reset_password(*, by: User | None, person: User, ip: str | None = None) -> str:
    """Give the account a one-time password that must be changed at the next sign-in."""
    person = User.objects.select_for_update().get(pk=person.pk)
    role = _role_or_deny(
        by,
        access.person_manager_role(by, person) if by else None,
        gettext("无权重置该人员的密码。"),
    )
    temporary = _temporary_password()
    person.set_password(temporary)
    person.must_change_password = True
    person.save(update_fields=["password", "must_change_password"])
    record(
        "person.password_reset",
        actor=by,
        role=role,
        ip=ip,
        obj=person,
        unit_path=_unit_for_person(by, person),
    )
    return temporary


@transaction.atomic
def unlock_person(*, by: User | None, person: User, ip: str | None = None) -> int:
    """Lift a sign-in lockout of the account before its 15 minutes are over."""
    from axes.utils import reset

    role = _role_or_deny(
        by,
        access.person_manager_role(by, person) if by else None,
        gettext("无权解除该账号的锁定。"),
    )
    removed = int(reset(username=person.username))
    record(
        "auth.unlock",
        actor=by,
        role=role,
        ip=ip,
        obj=person,
        unit_path=_unit_for_person(by, person),
        after={"attempts_removed": removed},
    )
    return removed


def _temporary_password() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    body = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{body}-{secrets.randbelow(90) + 10}Aa"


@transaction.atomic
def change_password(
    *, by: User, old_password: str, new_password: str, ip: str | None = None
) -> None:
    """The user's own password change; other sessions of the user stop working."""
    person = User.objects.select_for_update().get(pk=by.pk)
    if not person.check_password(old_password):
        raise ValidationError({"old_password": gettext("原密码不正确。")})
    try:
        validate_password(new_password, person)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    if old_password == new_password:
        raise ValidationError({"new_password": gettext("新密码不能与原密码相同。")})
    person.set_password(new_password)
    person.must_change_password = False
    person.save(update_fields=["password", "must_change_password"])
    by.password = person.password
    by.must_change_password = False
    record("person.password_change", actor=by, role="self", ip=ip, obj=person)


@transaction.atomic
def set_platform_role(
    *, by: User | None, person: User, platform_role: str, ip: str | None = None
) -> User:
    """三员分立: one platform role per person, none combined with unit roles, never one's own."""
    person = User.objects.select_for_update().get(pk=person.pk)
    is_sec = by is not None and access.can_set_platform_roles(by)
    role = _role_or_deny(
        by,
        PlatformRole.SECURITY_ADMIN.value if is_sec else None,
        gettext("只有安全管理员可以分配平台角色。"),
    )
    if platform_role not in PlatformRole.values:
        raise ValidationError({"platform_role": gettext("平台角色无效。")})
    if by is not None and by.pk == person.pk:
        raise ValidationError(gettext("不能修改自己的平台角色。"))
    if person.platform_role == platform_role:
        return person
    if platform_role and person.platform_role:
        raise ValidationError(
            gettext("%(name)s已是%(role)s，三员分立：一人不得兼任两个平台管理员角色。")
            % {"name": person.real_name, "role": person.get_platform_role_display()}
        )
    if platform_role and Membership.objects.current().filter(user=person).exists():
        raise ValidationError(
            gettext("该人员在单位中仍有在任角色；平台管理员账号须与业务账号分开。")
        )
    if person.platform_role == PlatformRole.SECURITY_ADMIN and not platform_role:
        others = User.objects.filter(
            platform_role=PlatformRole.SECURITY_ADMIN, is_active=True
        ).exclude(pk=person.pk)
        if not others.exists():
            raise ValidationError(gettext("这是最后一名安全管理员，不能撤销。"))
    before = person.snapshot()
    person.platform_role = platform_role
    person.save(update_fields=["platform_role"])
    record(
        "person.platform_role",
        actor=by,
        role=role,
        ip=ip,
        obj=person,
        before=before,
        after=person.snapshot(),
    )
    return person


# Memberships -------------------------------------------------------------------------------------


@transaction.atomic
def add_membership(
    *,
    by: User | None,
    person: User,
    unit: Unit,
    role: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    ip: str | None = None,
) -> Membership:
    """Give a person a role in a unit from a start date; the same open role twice is refused."""
    person = User.objects.select_for_update().get(pk=person.pk)
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    actor_role = _role_or_deny(
        by,
        access.membership_manager_role(by, unit) if by else None,
        gettext("无权在该单位分配角色。"),
    )
    if role not in Role.values:
        raise ValidationError({"role": gettext("角色无效。")})
    if not unit.is_active:
        raise ValidationError({"unit": gettext("该单位已停用。")})
    if not person.is_active:
        raise ValidationError(gettext("该人员账号已停用。"))
    if person.platform_role:
        raise ValidationError(gettext("平台管理员账号不兼任单位角色（三员分立）。"))
    start = start or timezone.localdate()
    if end is not None and end < start:
        raise ValidationError({"end": gettext("终止日期不能早于起始日期。")})
    if Membership.objects.filter(user=person, unit=unit, role=role, end__isnull=True).exists():
        raise ValidationError(
            gettext("%(name)s已是%(unit)s的%(role)s。")
            % {"name": person.real_name, "unit": unit.short_name, "role": Role(role).label}
        )
    membership = Membership.objects.create(user=person, unit=unit, role=role, start=start, end=end)
    record(
        "membership.create",
        actor=by,
        role=actor_role,
        ip=ip,
        obj=membership,
        unit_path=unit.path,
        after=membership.snapshot(),
    )
    return membership


@transaction.atomic
def end_membership(
    *, by: User | None, membership: Membership, end: dt.date | None = None, ip: str | None = None
) -> Membership:
    """End a role on a date (today by default); the row stays as history."""
    membership = (
        Membership.objects.select_for_update().select_related("unit", "user").get(pk=membership.pk)
    )
    actor_role = _role_or_deny(
        by,
        access.membership_manager_role(by, membership.unit) if by else None,
        gettext("无权结束该任职。"),
    )
    if membership.end is not None and membership.end <= timezone.localdate():
        raise ValidationError(gettext("该任职已结束。"))
    end = end or timezone.localdate()
    if end < membership.start:
        raise ValidationError({"end": gettext("终止日期不能早于起始日期。")})
    before = membership.snapshot()
    membership.end = end
    membership.save(update_fields=["end"])
    record(
        "membership.end",
        actor=by,
        role=actor_role,
        ip=ip,
        obj=membership,
        unit_path=membership.unit.path,
        before=before,
        after=membership.snapshot(),
    )
    return membership


# API tokens --------------------------------------------------------------------------------------


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, by: User, name: str, ip: str | None = None) -> tuple[ApiToken, str]:
    """A new personal token; the raw value is returned once and never stored."""
    name = name.strip() or "API"
    if len(name) > 60:
        raise ValidationError({"name": gettext("名称不超过 60 字。")})
    raw = f"bs_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=by, name=name, prefix=raw[:10], digest=token_digest(raw))
    record("token.create", actor=by, role="self", ip=ip, obj=token)
    return token, raw


@transaction.atomic
def revoke_api_token(*, by: User, token: ApiToken, ip: str | None = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != by.pk:
        raise PermissionDenied(gettext("只能撤销自己的令牌。"))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record("token.revoke", actor=by, role="self", ip=ip, obj=token)
    return token
