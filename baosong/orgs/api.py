"""Units, people and memberships over JSON: as thin as the views, over access.py and workflow.py."""

import datetime as dt
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from baosong.lib.http import client_ip
from baosong.orgs import access, workflow
from baosong.orgs.models import Level, Membership, Role, Unit, User

router = Router()

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


# Schemas -----------------------------------------------------------------------------------------


class Error(Schema):
    detail: str


class InvalidInput(Schema):
    detail: str
    errors: dict[str, list[str]]


ERRORS: dict[int, type[Schema]] = {401: Error, 403: Error, 404: Error, 422: InvalidInput}


class Input(Schema):
    # Read-only fields (id, path, is_active, platform_role, password…) are refused, never applied.
    model_config = ConfigDict(extra="forbid")


class UnitRef(Schema):
    id: int
    code: str
    short_name: str


class UnitOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    level: str
    level_label: str
    parent_id: int | None
    path: str
    depth: int
    sort_order: int
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class UnitDetail(UnitOut):
    ancestors: list[UnitRef]
    children: list[UnitRef]
    can_manage: bool
    can_restructure: bool


class UnitPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[UnitOut]


class Paging(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class UnitFilter(Paging):
    q: str = Field("", description="单位全称、简称或编码包含")
    level: Level | None = None
    parent: int | None = Field(None, description="直接上级单位 id")
    active: bool | None = None
    under: int | None = Field(None, description="该单位及其全部下级单位")


class UnitCreate(Input):
    parent_id: int | None = Field(None, description="上级单位；为空则新建顶级单位（仅系统管理员）")
    code: str = Field(max_length=32)
    name: str = Field(max_length=120)
    short_name: str = Field(max_length=40)
    level: Level
    sort_order: int = Field(0, ge=-9999, le=9999)


class UnitPatch(Input):
    code: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=120)
    short_name: str | None = Field(None, max_length=40)
    level: Level | None = None
    sort_order: int | None = Field(None, ge=-9999, le=9999)
    parent_id: int | None = Field(None, description="移到该上级单位之下（连同全部下级单位）")


class MembershipOut(Schema):
    id: int
    person_id: int
    unit: UnitRef
    role: str
    role_label: str
    start: dt.date
    end: dt.date | None
    is_current: bool


class PersonOut(Schema):
    id: int
    username: str
    real_name: str
    mobile: str
    email: str
    is_active: bool
    platform_role: str
    date_joined: dt.datetime
    memberships: list[MembershipOut] = Field(description="当前任职")


class PersonDetail(PersonOut):
    history: list[MembershipOut] = Field(description="全部任职，含已结束的")
    can_manage: bool


class PersonPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PersonOut]


class PersonFilter(Paging):
    q: str = Field("", description="姓名、登录名或手机包含")
    unit: int | None = Field(None, description="在该单位及其下级单位任职过")
    role: Role | None = None
    active: bool | None = None


class PersonCreate(Input):
    username: str = Field(max_length=64)
    real_name: str = Field(max_length=40)
    mobile: str = Field("", max_length=11)
    email: str = Field("", max_length=254)
    unit_id: int | None = None
    role: Role | None = None
    start: dt.date | None = None


class PersonCreated(Schema):
    person: PersonDetail
    temporary_password: str = Field(description="一次性初始密码，首次登录须修改；仅返回这一次")


class PersonPatch(Input):
    real_name: str | None = Field(None, max_length=40)
    mobile: str | None = Field(None, max_length=11)
    email: str | None = Field(None, max_length=254)


class MembershipCreate(Input):
    unit_id: int
    role: Role
    start: dt.date | None = None
    end: dt.date | None = None


class MembershipEnd(Input):
    end: dt.date | None = Field(None, description="终止日期，默认今天")


class MeOut(Schema):
    id: int
    username: str
    real_name: str
    mobile: str
    email: str
    platform_role: str
    platform_role_label: str
    must_change_password: bool
    memberships: list[MembershipOut]


# Helpers -----------------------------------------------------------------------------------------

M = TypeVar("M", bound=Model)


def _caller(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _page(queryset: QuerySet[M], paging: Paging) -> tuple[int, list[M]]:
    count = queryset.count()
    start = (paging.page - 1) * paging.page_size
    return count, list(queryset[start : start + paging.page_size])


def _unit_ref(unit: Unit) -> UnitRef:
    return UnitRef(id=unit.pk, code=unit.code, short_name=unit.short_name)


def _unit_fields(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name": unit.name,
        "short_name": unit.short_name,
        "level": unit.level,
        "level_label": str(unit.get_level_display()),
        "parent_id": unit.parent_id,
        "path": unit.path,
        "depth": unit.depth,
        "sort_order": unit.sort_order,
        "is_active": unit.is_active,
        "created_at": unit.created_at,
        "updated_at": unit.updated_at,
    }


def _unit_detail(user: User, unit: Unit) -> UnitDetail:
    ancestors = Unit.objects.filter(pk__in=unit.ancestor_ids()).order_by("depth")
    children = access.visible_units(user).filter(parent=unit).order_by("sort_order", "code")
    return UnitDetail(
        **_unit_fields(unit),
        ancestors=[_unit_ref(u) for u in ancestors],
        children=[_unit_ref(u) for u in children],
        can_manage=access.unit_manager_role(user, unit) is not None,
        can_restructure=access.unit_strict_manager_role(user, unit) is not None,
    )


def _membership_out(membership: Membership) -> MembershipOut:
    return MembershipOut(
        id=membership.pk,
        person_id=membership.user_id,
        unit=_unit_ref(membership.unit),
        role=membership.role,
        role_label=str(membership.get_role_display()),
        start=membership.start,
        end=membership.end,
        is_current=membership.is_current(),
    )


def _person_fields(person: User, current: list[Membership]) -> dict[str, Any]:
    return {
        "id": person.pk,
        "username": person.username,
        "real_name": person.real_name,
        "mobile": person.mobile,
        "email": person.email,
        "is_active": person.is_active,
        "platform_role": person.platform_role,
        "date_joined": person.date_joined,
        "memberships": [_membership_out(m) for m in current],
    }


def _person_detail(user: User, person: User) -> PersonDetail:
    history = list(
        Membership.objects.filter(user=person).select_related("unit").order_by("-start", "pk")
    )
    current = sorted((m for m in history if m.is_current()), key=lambda m: (m.unit.path, m.role))
    return PersonDetail(
        **_person_fields(person, current),
        history=[_membership_out(m) for m in history],
        can_manage=access.person_manager_role(user, person) is not None,
    )


# Units -------------------------------------------------------------------------------------------


@router.get("/units", response={200: UnitPage, **ERRORS}, tags=["单位"], summary="单位列表")
def list_units(request: HttpRequest, filters: Query[UnitFilter]) -> UnitPage:
    user = _caller(request)
    if not access.can_browse_units(user):
        raise PermissionDenied(gettext("无权查看单位。"))
    units = access.visible_units(user)
    if filters.q.strip():
        q = filters.q.strip()
        units = units.filter(
            Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__icontains=q)
        )
    if filters.level is not None:
        units = units.filter(level=filters.level)
    if filters.parent is not None:
        units = units.filter(parent_id=filters.parent)
    if filters.active is not None:
        units = units.filter(is_active=filters.active)
    if filters.under is not None:
        top = access.get_unit_for(user, filters.under)
        units = units.filter(path__startswith=top.path)
    count, rows = _page(units.order_by("path"), filters)
    return UnitPage(
        count=count,
        page=filters.page,
        page_size=filters.page_size,
        items=[UnitOut(**_unit_fields(u)) for u in rows],
    )


@router.get("/units/{unit_id}", response={200: UnitDetail, **ERRORS}, tags=["单位"])
def get_unit(request: HttpRequest, unit_id: int) -> UnitDetail:
    user = _caller(request)
    return _unit_detail(user, access.get_unit_for(user, unit_id))


@router.post("/units", response={201: UnitDetail, **ERRORS}, tags=["单位"], summary="新建单位")
def create_unit(request: HttpRequest, payload: UnitCreate) -> Status[UnitDetail]:
    user = _caller(request)
    parent = None
    if payload.parent_id is not None:
        parent = access.get_unit_for(user, payload.parent_id, need="manage")
    unit = workflow.create_unit(
        by=user,
        parent=parent,
        code=payload.code,
        name=payload.name,
        short_name=payload.short_name,
        level=payload.level,
        sort_order=payload.sort_order,
        ip=client_ip(request),
    )
    return Status(201, _unit_detail(user, unit))


@router.patch("/units/{unit_id}", response={200: UnitDetail, **ERRORS}, tags=["单位"])
def update_unit(request: HttpRequest, unit_id: int, payload: UnitPatch) -> UnitDetail:
    """Only the fields sent change; `parent_id` moves the unit with its whole subtree."""
    user, ip = _caller(request), client_ip(request)
    sent = payload.model_fields_set
    unit = access.get_unit_for(user, unit_id)
    with transaction.atomic():
        if sent & {"code", "name", "short_name", "level", "sort_order"}:
            unit = access.get_unit_for(user, unit_id, need="manage")
            workflow.update_unit(
                by=user,
                unit=unit,
                code=payload.code if payload.code is not None else unit.code,
                name=payload.name if payload.name is not None else unit.name,
                short_name=payload.short_name
                if payload.short_name is not None
                else unit.short_name,
                sort_order=payload.sort_order
                if payload.sort_order is not None
                else unit.sort_order,
                level=payload.level,
                ip=ip,
            )
        if "parent_id" in sent:
            if payload.parent_id is None:
                raise ValidationError({"parent_id": gettext("不能把已有单位改为顶级单位。")})
            new_parent = access.get_unit_for(user, payload.parent_id)
            workflow.move_unit(by=user, unit=unit, new_parent=new_parent, ip=ip)
    return _unit_detail(user, access.get_unit_for(user, unit_id))


@router.post("/units/{unit_id}/deactivate", response={200: UnitDetail, **ERRORS}, tags=["单位"])
def deactivate_unit(request: HttpRequest, unit_id: int) -> UnitDetail:
    user = _caller(request)
    unit = access.get_unit_for(user, unit_id)
    unit = workflow.deactivate_unit(by=user, unit=unit, ip=client_ip(request))
    return _unit_detail(user, unit)


@router.post("/units/{unit_id}/reactivate", response={200: UnitDetail, **ERRORS}, tags=["单位"])
def reactivate_unit(request: HttpRequest, unit_id: int) -> UnitDetail:
    user = _caller(request)
    unit = access.get_unit_for(user, unit_id)
    unit = workflow.reactivate_unit(by=user, unit=unit, ip=client_ip(request))
    return _unit_detail(user, unit)


# People ------------------------------------------------------------------------------------------


@router.get("/people", response={200: PersonPage, **ERRORS}, tags=["人员"], summary="人员列表")
def list_people(request: HttpRequest, filters: Query[PersonFilter]) -> PersonPage:
    user = _caller(request)
    if not access.can_browse_people(user):
        raise PermissionDenied(gettext("无权查看人员。"))
    people = access.visible_people(user)
    if filters.q.strip():
        q = filters.q.strip()
        people = people.filter(
            Q(real_name__icontains=q) | Q(username__icontains=q) | Q(mobile__contains=q)
        )
    if filters.unit is not None or filters.role is not None:
        # Unit and role apply to the same membership (a reviewer *in* that subtree).
        served = Membership.objects.all()
        if filters.unit is not None:
            served = served.filter(
                unit__path__startswith=access.get_unit_for(user, filters.unit).path
            )
        if filters.role is not None:
            served = served.filter(role=filters.role)
        people = people.filter(pk__in=served.values("user_id"))
    if filters.active is not None:
        people = people.filter(is_active=filters.active)
    current = Membership.objects.current().select_related("unit").order_by("unit__path", "role")
    people = people.order_by("real_name", "username").prefetch_related(
        Prefetch("memberships", queryset=current, to_attr="current_memberships")
    )
    count, rows = _page(people, filters)
    return PersonPage(
        count=count,
        page=filters.page,
        page_size=filters.page_size,
        items=[PersonOut(**_person_fields(p, p.current_memberships)) for p in rows],  # type: ignore[attr-defined]
    )


@router.get("/people/{person_id}", response={200: PersonDetail, **ERRORS}, tags=["人员"])
def get_person(request: HttpRequest, person_id: int) -> PersonDetail:
    user = _caller(request)
    return _person_detail(user, access.get_person_for(user, person_id))


@router.post("/people", response={201: PersonCreated, **ERRORS}, tags=["人员"], summary="新建人员")
def create_person(request: HttpRequest, payload: PersonCreate) -> Status[PersonCreated]:
    """Creates the account (with a first role when unit_id and role are given) and returns a
    one-time password that must be changed at the first sign-in, as the UI does."""
    user, ip = _caller(request), client_ip(request)
    if not (access.can_set_platform_roles(user) or access.scope_for(user).admin_paths):
        raise PermissionDenied(gettext("无权新建人员。"))
    if (payload.unit_id is None) != (payload.role is None):
        raise ValidationError({"role": gettext("请同时指定所在单位（unit_id）和角色（role）。")})
    unit = access.get_unit_for(user, payload.unit_id) if payload.unit_id is not None else None
    with transaction.atomic():
        person = workflow.create_person(
            by=user,
            username=payload.username,
            real_name=payload.real_name,
            mobile=payload.mobile,
            email=payload.email,
            unit=unit,
            role=payload.role,
            start=payload.start,
            ip=ip,
        )
        temporary = workflow.reset_password(by=user, person=person, ip=ip)
    created = PersonCreated(person=_person_detail(user, person), temporary_password=temporary)
    return Status(201, created)


@router.patch("/people/{person_id}", response={200: PersonDetail, **ERRORS}, tags=["人员"])
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> PersonDetail:
    user = _caller(request)
    person = access.get_person_for(user, person_id, need="manage")
    person = workflow.update_person(
        by=user,
        person=person,
        real_name=payload.real_name if payload.real_name is not None else person.real_name,
        mobile=payload.mobile if payload.mobile is not None else person.mobile,
        email=payload.email if payload.email is not None else person.email,
        ip=client_ip(request),
    )
    return _person_detail(user, person)


@router.post(
    "/people/{person_id}/deactivate", response={200: PersonDetail, **ERRORS}, tags=["人员"]
)
def deactivate_person(request: HttpRequest, person_id: int) -> PersonDetail:
    return _set_person_active(request, person_id, active=False)


@router.post(
    "/people/{person_id}/reactivate", response={200: PersonDetail, **ERRORS}, tags=["人员"]
)
def reactivate_person(request: HttpRequest, person_id: int) -> PersonDetail:
    return _set_person_active(request, person_id, active=True)


def _set_person_active(request: HttpRequest, person_id: int, *, active: bool) -> PersonDetail:
    user = _caller(request)
    person = access.get_person_for(user, person_id, need="manage")
    person = workflow.set_person_active(
        by=user, person=person, active=active, ip=client_ip(request)
    )
    return _person_detail(user, person)


@router.post(
    "/people/{person_id}/memberships", response={201: MembershipOut, **ERRORS}, tags=["人员"]
)
def add_membership(
    request: HttpRequest, person_id: int, payload: MembershipCreate
) -> Status[MembershipOut]:
    user = _caller(request)
    person = access.get_person_for(user, person_id)
    unit = access.get_unit_for(user, payload.unit_id)
    membership = workflow.add_membership(
        by=user,
        person=person,
        unit=unit,
        role=payload.role,
        start=payload.start,
        end=payload.end,
        ip=client_ip(request),
    )
    return Status(201, _membership_out(membership))


@router.post(
    "/memberships/{membership_id}/end", response={200: MembershipOut, **ERRORS}, tags=["人员"]
)
def end_membership(
    request: HttpRequest, membership_id: int, payload: MembershipEnd | None = None
) -> MembershipOut:
    """The body may be left out: the role then ends today."""
    user = _caller(request)
    membership = Membership.objects.select_related("unit", "user").filter(pk=membership_id).first()
    if membership is None:
        raise Http404("membership")
    # As in the UI: a membership exists for the caller only if its person is visible.
    access.get_person_for(user, membership.user_id)
    membership = workflow.end_membership(
        by=user, membership=membership, end=payload.end if payload else None, ip=client_ip(request)
    )
    return _membership_out(membership)


@router.get("/me", response={200: MeOut, **ERRORS}, tags=["人员"], summary="当前用户")
def me(request: HttpRequest) -> MeOut:
    user = _caller(request)
    current = Membership.objects.current().filter(user=user).select_related("unit")
    return MeOut(
        id=user.pk,
        username=user.username,
        real_name=user.real_name,
        mobile=user.mobile,
        email=user.email,
        platform_role=user.platform_role,
        platform_role_label=str(user.get_platform_role_display()),
        must_change_password=user.must_change_password,
        memberships=[_membership_out(m) for m in current.order_by("unit__path", "role")],
    )
