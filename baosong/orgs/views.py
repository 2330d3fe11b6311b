"""Units, people and memberships: thin views over access.py and workflow.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from baosong.audit.models import Event
from baosong.lib.http import client_ip
from baosong.orgs import access, workflow
from baosong.orgs.forms import (
    EndMembershipForm,
    MembershipForm,
    MoveForm,
    NewPersonForm,
    PersonEditForm,
    PersonFilterForm,
    PlatformRoleForm,
    UnitForm,
    apply_errors,
)
from baosong.orgs.models import Membership, PlatformRole, Role, Unit, User
from baosong.orgs.selectors import (
    build_tree,
    children_nodes,
    current_memberships_of,
    is_locked_out,
    locked_out_logins,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def home_context(user: User) -> dict[str, object]:
    """The unit-tree, account and audit panels of the home page (baosong/home.py adds the rest)."""
    scope = access.scope_for(user)
    memberships = (
        Membership.objects.current().filter(user=user).select_related("unit").order_by("unit__path")
    )
    context: dict[str, object] = {"memberships": memberships, "roles": scope.roles}
    if scope.admin_paths or user.platform_role == PlatformRole.SYSTEM_ADMIN:
        context["tree"] = build_tree(access.manageable_units(user), _manage_paths(user))
    if user.platform_role == PlatformRole.SECURITY_ADMIN:
        locked = locked_out_logins()
        locked_people = list(User.objects.filter(username__in=locked))
        context["locked_people"] = locked_people
        context["locked_unknown"] = sorted(set(locked) - {p.username for p in locked_people})
        context["people_total"] = User.objects.count()
        context["people_inactive"] = User.objects.filter(is_active=False).count()
        context["recent_people"] = User.objects.order_by("-date_joined")[:8]
        context["platform_admins"] = User.objects.exclude(platform_role="").order_by(
            "platform_role"
        )
    if access.can_read_audit(user):
        context["recent_events"] = Event.objects.all()[:15]
    return context


# Units -------------------------------------------------------------------------------------------


@require_GET
def unit_tree(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_browse_units(user):
        raise PermissionDenied
    units = access.visible_units(user)
    q = request.GET.get("q", "").strip()
    matches: list[Unit] = []
    if q:
        matches = list(
            units.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__icontains=q))
            .select_related("parent")
            .order_by("path")[:50]
        )
    context = {
        "tree": build_tree(units, _manage_paths(user)),
        "q": q,
        "matches": matches,
        "can_create_root": user.platform_role == PlatformRole.SYSTEM_ADMIN,
    }
    return render(request, "orgs/unit_tree.html", context)


@require_GET
def unit_children(request: HttpRequest, pk: int) -> HttpResponse:
    """The next level of the tree under one unit (loaded by htmx when a branch opens)."""
    user = _user(request)
    unit = access.get_unit_for(user, pk)
    nodes = children_nodes(access.visible_units(user), unit, _manage_paths(user))
    return render(request, "orgs/_tree.html", {"nodes": nodes})


def _manage_paths(user: User) -> list[str]:
    if user.platform_role == PlatformRole.SYSTEM_ADMIN:
        return ["/"]
    return access.scope_for(user).admin_paths


@require_GET
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    unit = access.get_unit_for(user, pk)
    ancestors = Unit.objects.filter(pk__in=unit.ancestor_ids()).order_by("depth")
    children = access.visible_units(user).filter(parent=unit).order_by("sort_order", "code")
    context = {
        "unit": unit,
        "ancestors": ancestors,
        "children": children,
        "members": current_memberships_of(unit) if access.can_browse_people(user) else None,
        "can_manage": access.unit_manager_role(user, unit) is not None,
        "can_restructure": access.unit_strict_manager_role(user, unit) is not None,
        "can_add_member": access.membership_manager_role(user, unit) is not None,
    }
    return render(request, "orgs/unit_detail.html", context)


def unit_create(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    parent = access.get_unit_for(user, pk, need="manage") if pk is not None else None
    if parent is None and user.platform_role != PlatformRole.SYSTEM_ADMIN:
        raise PermissionDenied
    form = UnitForm(request.POST or None, initial={"level": _default_child_level(parent)})
    if request.method == "POST" and form.is_valid():
        try:
            unit = workflow.create_unit(
                by=user, parent=parent, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("已新建单位“%(name)s”。") % {"name": unit.short_name})
            return redirect("unit_detail", pk=unit.pk)
    return render(request, "orgs/unit_form.html", {"form": form, "parent": parent, "unit": None})


def _default_child_level(parent: Unit | None) -> str:
    order = ["central", "province", "city", "county", "township"]
    if parent is None:
        return "province"
    if parent.level in order[:-1]:
        return order[order.index(parent.level) + 1]
    return "internal"


def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    unit = access.get_unit_for(user, pk, need="manage")
    initial = {f: getattr(unit, f) for f in ("code", "name", "short_name", "level", "sort_order")}
    form = UnitForm(request.POST or None, initial=initial)
    if access.unit_strict_manager_role(user, unit) is None:
        # The level places the unit in the tree: only an admin of the parent changes it.
        form.fields["level"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            workflow.update_unit(by=user, unit=unit, ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("单位信息已保存。"))
            return redirect("unit_detail", pk=unit.pk)
    return render(
        request, "orgs/unit_form.html", {"form": form, "parent": unit.parent, "unit": unit}
    )


def unit_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    unit = access.get_unit_for(user, pk)
    if access.unit_strict_manager_role(user, unit) is None:
        raise PermissionDenied
    parents = (
        access.manageable_units(user).filter(is_active=True).exclude(path__startswith=unit.path)
    )
    form = MoveForm(request.POST or None, parents=parents.order_by("path"))
    if request.method == "POST" and form.is_valid():
        try:
            workflow.move_unit(
                by=user,
                unit=unit,
                new_parent=form.cleaned_data["new_parent"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("已将“%(name)s”及其下级单位移至新的上级单位。") % {"name": unit.short_name},
            )
            return redirect("unit_detail", pk=unit.pk)
    return render(request, "orgs/unit_move.html", {"form": form, "unit": unit})


@require_POST
def unit_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _unit_set_active(request, pk, active=False)


@require_POST
def unit_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _unit_set_active(request, pk, active=True)


def _unit_set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    user = _user(request)
    unit = access.get_unit_for(user, pk)
    change = workflow.reactivate_unit if active else workflow.deactivate_unit
    try:
        change(by=user, unit=unit, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        message = gettext("已启用“%(name)s”。") if active else gettext("已停用“%(name)s”。")
        messages.success(request, message % {"name": unit.short_name})
    return redirect("unit_detail", pk=unit.pk)


# People ------------------------------------------------------------------------------------------

PAGE_SIZE = 25


@require_GET
def person_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_browse_people(user):
        raise PermissionDenied
    units = access.visible_units(user).order_by("path")
    form = PersonFilterForm(request.GET or None, units=units)
    people = access.visible_people(user)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            people = people.filter(
                Q(real_name__icontains=q) | Q(username__icontains=q) | Q(mobile__contains=q)
            )
        if data["unit"] is not None or data["role"]:
            # One membership must match both, so "editor in city A" means exactly that.
            held = Membership.objects.all()
            if data["unit"] is not None:
                held = held.filter(unit__path__startswith=data["unit"].path)
            if data["role"]:
                held = held.filter(role=data["role"])
            people = people.filter(pk__in=held.values("user_id"))
        if data["active"] in ("0", "1"):
            people = people.filter(is_active=data["active"] == "1")
    current = Membership.objects.current().select_related("unit").order_by("unit__path", "role")
    people = people.order_by("real_name", "username").prefetch_related(
        Prefetch("memberships", queryset=current, to_attr="current_memberships")
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_create": access.can_set_platform_roles(user)
        or bool(access.scope_for(user).admin_paths),
    }
    template = "orgs/person_list.html#rows" if request.htmx else "orgs/person_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def person_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not (access.can_set_platform_roles(user) or access.scope_for(user).admin_paths):
        raise PermissionDenied
    units = _grantable_units(user)
    form = NewPersonForm(
        request.POST or None, units=units, initial={"unit": request.GET.get("unit")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = workflow.create_person(
                by=user,
                username=data["username"],
                real_name=data["real_name"],
                mobile=data["mobile"],
                email=data["email"],
                unit=data["unit"],
                role=data["role"],
                start=data["start"],
                ip=client_ip(request),
            )
            temporary = workflow.reset_password(by=user, person=person, ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                gettext(
                    "已新建人员“%(name)s”。初始密码：%(password)s（首次登录须修改，仅显示一次）"
                )
                % {"name": person.real_name, "password": temporary},
            )
            return redirect("person_detail", pk=person.pk)
    return render(request, "orgs/person_form.html", {"form": form, "person": None})


def _grantable_units(user: User) -> "QuerySet[Unit]":
    if access.can_set_platform_roles(user):
        return Unit.objects.filter(is_active=True).order_by("path")
    return (
        access.manageable_units(user).filter(is_active=True).order_by("path")
        if access.scope_for(user).admin_paths
        else Unit.objects.none()
    )


@require_GET
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk)
    memberships = (
        Membership.objects.filter(user=person).select_related("unit").order_by("-end", "unit__path")
    )
    rows = [
        (m, m.is_current(), access.membership_manager_role(user, m.unit) is not None)
        for m in memberships
    ]
    can_manage = access.person_manager_role(user, person) is not None
    context = {
        "person": person,
        "rows": rows,
        "can_manage": can_manage and person.pk != user.pk,
        "can_edit": can_manage,
        "can_set_platform_role": access.can_set_platform_roles(user) and person.pk != user.pk,
        "can_add_membership": bool(_grantable_units(user).exists()) and not person.platform_role,
        "locked_out": is_locked_out(person.username),
        "platform_form": PlatformRoleForm(initial={"platform_role": person.platform_role}),
    }
    return render(request, "orgs/person_detail.html", context)


def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk, need="manage")
    initial = {"real_name": person.real_name, "mobile": person.mobile, "email": person.email}
    form = PersonEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.update_person(
                by=user, person=person, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("人员信息已保存。"))
            return redirect("person_detail", pk=person.pk)
    return render(request, "orgs/person_form.html", {"form": form, "person": person})


@require_POST
def person_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _person_set_active(request, pk, active=False)


@require_POST
def person_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _person_set_active(request, pk, active=True)


def _person_set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk, need="manage")
    try:
        workflow.set_person_active(by=user, person=person, active=active, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        message = (
            gettext("已启用账号“%(username)s”。")
            if active
            else gettext("已停用账号“%(username)s”。")
        )
        messages.success(request, message % {"username": person.username})
    return redirect("person_detail", pk=person.pk)


@require_POST
def person_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk, need="manage")
    temporary = workflow.reset_password(by=user, person=person, ip=client_ip(request))
    messages.success(
        request,
        gettext("“%(name)s”的临时密码：%(password)s（首次登录须修改，仅显示一次）")
        % {"name": person.real_name, "password": temporary},
    )
    return redirect("person_detail", pk=person.pk)


@require_POST
def person_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk, need="manage")
    workflow.unlock_person(by=user, person=person, ip=client_ip(request))
    messages.success(request, gettext("已解除“%(name)s”的登录锁定。") % {"name": person.real_name})
    return redirect("person_detail", pk=person.pk)


@require_POST
def person_platform_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk)
    if not access.can_set_platform_roles(user):
        raise PermissionDenied
    form = PlatformRoleForm(request.POST)
    if form.is_valid():
        try:
            workflow.set_platform_role(
                by=user,
                person=person,
                platform_role=form.cleaned_data["platform_role"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("平台角色已更新。"))
    return redirect("person_detail", pk=person.pk)


def membership_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    person = access.get_person_for(user, pk)
    units = _grantable_units(user)
    if not units.exists():
        raise PermissionDenied
    form = MembershipForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.add_membership(
                by=user, person=person, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("已添加任职。"))
            return redirect("person_detail", pk=person.pk)
    return render(
        request, "orgs/membership_form.html", {"form": form, "person": person, "roles": Role}
    )


@require_POST
def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    membership = get_object_or_404(Membership.objects.select_related("unit", "user"), pk=pk)
    # Visibility first: the person must be visible to the actor, else the membership does not exist.
    access.get_person_for(user, membership.user_id)
    form = EndMembershipForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("请填写有效的终止日期。"))
    else:
        try:
            workflow.end_membership(
                by=user, membership=membership, end=form.cleaned_data["end"], ip=client_ip(request)
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("任职已结束，记录保留在历史中。"))
    return redirect("person_detail", pk=membership.user_id)
