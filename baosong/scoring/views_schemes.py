"""Scoring schemes (计分办法) in the UI: list and create, read every rule of a version, edit a
draft in ordinary form fields, adopt it, and try it on a past period (what-if) before adopting.
Thin views over access.py and workflow.py; the what-if only reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from baosong.lib.http import client_ip
from baosong.orgs.access import scope_for
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import Role, Unit, User
from baosong.scoring import access, engine, ledger, rankings, whatif, workflow
from baosong.scoring.forms import (
    AdoptForm,
    AdoptionTableFormSet,
    QuotaFormSet,
    RulesForm,
    SchemeCreateForm,
    WhatIfForm,
    rules_data,
    rules_initial,
)
from baosong.scoring.models import Scheme, SchemeVersion, VersionStatus


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _say(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _today() -> dt.date:
    return dt.datetime.now(ledger.local_tz()).date()


def _shown_version(scheme: Scheme, versions: list[SchemeVersion]) -> SchemeVersion:
    """The version in force today, else the newest one."""
    today = _today()
    return next((v for v in versions if v.covers(today)), versions[-1])


# List and create -------------------------------------------------------------------------------


def scheme_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    managed = scope_for(user).units_with(Role.EDITOR, Role.UNIT_ADMIN)
    units = [(u.pk, u.short_name) for u in Unit.objects.filter(pk__in=managed).order_by("path")]
    if request.method == "POST" and not units:
        raise PermissionDenied(gettext("只有编辑或单位管理员可以为本单位制定计分办法。"))
    form = SchemeCreateForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        unit = Unit.objects.get(pk=form.cleaned_data["unit"])
        try:
            scheme = workflow.create_scheme(
                by=user,
                unit=unit,
                name=form.cleaned_data["name"],
                data=form.rules(),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("计分办法已创建，第 1 版为草稿，请核对各项规则。"))
            return redirect("scheme_version_edit", pk=scheme.versions.get().pk)
    versions = SchemeVersion.objects.select_related("adopted_by").order_by("number")
    schemes = list(
        access.schemes_for(user).prefetch_related(Prefetch("versions", queryset=versions))
    )
    today = _today()
    for scheme in schemes:
        scheme.can_manage = access.can_manage_scheme(user, scheme)  # type: ignore[attr-defined]
        scheme.draft = next(  # type: ignore[attr-defined]
            (v for v in scheme.versions.all() if v.status == VersionStatus.DRAFT), None
        )
        for v in scheme.versions.all():
            v.in_force = v.covers(today)  # type: ignore[attr-defined]
    context = {"schemes": schemes, "form": form, "can_create": bool(units)}
    return render(request, "scoring/scheme_list.html", context)


# Reading a version ------------------------------------------------------------------------------


def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = access.get_scheme_for(_user(request), pk)
    versions = list(scheme.versions.select_related("created_by", "adopted_by").order_by("number"))
    return _version_page(request, scheme, versions, _shown_version(scheme, versions))


def scheme_version(request: HttpRequest, pk: int) -> HttpResponse:
    version = access.get_version_for(_user(request), pk)
    scheme = version.scheme
    versions = list(scheme.versions.select_related("created_by", "adopted_by").order_by("number"))
    return _version_page(request, scheme, versions, next(v for v in versions if v.pk == pk))


def _version_page(
    request: HttpRequest,
    scheme: Scheme,
    versions: list[SchemeVersion],
    version: SchemeVersion,
    adopt_form: AdoptForm | None = None,
) -> HttpResponse:
    today = _today()
    for v in versions:
        v.in_force = v.covers(today)  # type: ignore[attr-defined]
    can_manage = access.can_manage_scheme(_user(request), scheme)
    context = {
        "scheme": scheme,
        "version": version,
        "versions": versions,
        "rules": describe(version.data),
        "can_manage": can_manage,
        "has_draft": any(v.status == VersionStatus.DRAFT for v in versions),
        "adopt_form": adopt_form or AdoptForm(initial={"effective_from": _next_month_start(today)}),
        **_recompute_context(scheme, can_manage),
    }
    return render(request, "scoring/scheme_version.html", context)


def _recompute_context(scheme: Scheme, can_manage: bool) -> dict[str, Any]:
    """The scheme's latest recomputes (重算记录), each marked interrupted where it is."""
    jobs = workflow.recomputes_of(scheme, 5)
    now = timezone.now()
    listed: set[int] = set()  # versions with a newer recompute above (newest first)
    for job in jobs:
        job.interrupted = workflow.interrupted(job, now)  # type: ignore[attr-defined]
        job.restartable = (  # type: ignore[attr-defined]
            can_manage
            and workflow.restart_refused(job, newer=job.version_id in listed, now=now) is None
        )
        listed.add(job.version_id)
    return {
        "scheme": scheme,
        "recomputes": jobs,
        "recompute_pending": any(j.pending and not j.interrupted for j in jobs),  # type: ignore[attr-defined]
        "can_manage": can_manage,
    }


@require_GET
def scheme_recomputes(request: HttpRequest, pk: int) -> HttpResponse:
    """The recompute record alone: the scheme page polls it while one is running."""
    user = _user(request)
    scheme = access.get_scheme_for(user, pk)
    context = _recompute_context(scheme, access.can_manage_scheme(user, scheme))
    return render(request, "scoring/scheme_recomputes.html", context)


@require_POST
def recompute_restart(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    job = access.get_recompute_for(user, pk, need="manage")
    try:
        workflow.restart_recompute(by=user, job=job, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, _say(exc))
    else:
        messages.success(request, gettext("已重新开始重算，完成后本页显示结果。"))
    return redirect("scheme_detail", pk=job.version.scheme_id)


def _next_month_start(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _n(value: Decimal | None) -> str:
    return "" if value is None else engine.fmt(value)


@dataclass
class Rules:
    """A version's rules laid out for reading: labels in Chinese, numbers as short strings
    ("" where the scheme lists nothing)."""

    scheme: engine.Scheme
    submit: list[tuple[str, str]]
    levels: list[tuple[str, str, str, str]]
    kinds: list[tuple[str, str]]
    forms: list[tuple[str, str]]
    table: list[tuple[str, str, str, str]]
    instructions: list[tuple[str, str, str]]
    quotas: list[dict[str, Any]]
    lead_multiplier: str
    lead_fraction: str
    copy_penalty: str
    falsify_penalty: str
    item_cap: str
    period_cap: str
    period_cap_per: str


def describe(data: dict[str, Any]) -> Rules | None:
    """None when the stored data no longer passes the engine (shown as such, never guessed)."""
    try:
        s = engine.scheme_from_data({**data, "version": data.get("version") or "draft"})
    except ValueError:
        return None
    any_label = gettext("任意")
    return Rules(
        scheme=s,
        submit=[(engine.ITEM_TYPE_LABEL[t], _n(s.submit_points.get(t))) for t in engine.ITEM_TYPES],
        levels=[
            (
                engine.LEVEL_LABEL[lv],
                _n(s.reach_points.get(lv)),
                _n(s.adoption_base.get(lv)),
                _n(s.forward_credit.get(lv)),
            )
            for lv in engine.LEVELS
        ],
        kinds=[
            (engine.KIND_LABEL[k], _n(s.kind_factor.get(k, engine.ONE)))
            for k in engine.PUBLICATION_KINDS
        ],
        forms=[(engine.FORM_LABEL[f], _n(s.form_factor.get(f, engine.ONE))) for f in engine.FORMS],
        table=[
            (
                engine.LEVEL_LABEL.get(level, level),
                any_label if kind == engine.WILDCARD else engine.KIND_LABEL.get(kind, kind),
                any_label if form == engine.WILDCARD else engine.FORM_LABEL.get(form, form),
                _n(points),
            )
            for (level, kind, form), points in sorted(
                s.adoption_table.items(), key=lambda kv: (engine.LEVEL_RANK.get(kv[0][0], 9), kv[0])
            )
        ],
        instructions=[
            (
                engine.LEVEL_LABEL[lv],
                _n(s.instruction_points.get((lv, True))),
                _n(s.instruction_points.get((lv, False))),
            )
            for lv in engine.LEADER_LEVELS
        ],
        quotas=[
            {
                "label": q.label,
                "per": engine.GRAIN_LABEL.get(q.per, q.per),
                "min_items": q.min_items,
                "kinds": "、".join(
                    gettext("%(kind)s %(n)d 条")
                    % {"kind": engine.ITEM_KIND_LABEL.get(k, k), "n": n}
                    for k, n in q.min_kinds
                ),
                "deduction": _n(q.deduction),
            }
            for q in s.quotas
        ],
        lead_multiplier=_n(s.lead_multiplier),
        lead_fraction=_n(s.lead_fraction),
        copy_penalty=_n(s.copy_penalty),
        falsify_penalty=_n(s.falsify_penalty),
        item_cap=_n(s.item_cap),
        period_cap=_n(s.period_cap),
        period_cap_per=engine.GRAIN_LABEL.get(s.period_cap_per, s.period_cap_per),
    )


# Editing, new versions, adopting ----------------------------------------------------------------


def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = access.get_version_for(user, pk, need="manage")
    if version.status != VersionStatus.DRAFT:
        messages.error(request, gettext("已启用的版本不能修改，请新建版本。"))
        return redirect("scheme_version", pk=version.pk)
    initial, table_rows, quota_rows = rules_initial(version.data)
    initial["note"] = version.note
    post = request.POST if request.method == "POST" else None
    form = RulesForm(post, initial=initial)
    table = AdoptionTableFormSet(post, initial=table_rows, prefix="table")
    quotas = QuotaFormSet(post, initial=quota_rows, prefix="quota")
    if post is not None and all([form.is_valid(), table.is_valid(), quotas.is_valid()]):
        data = rules_data(form, table, quotas, version.data)
        try:
            # workflow.save_draft re-checks, but reports engine errors only as one generic line.
            engine.scheme_from_data(data)
            workflow.save_draft(
                by=user,
                version=version,
                data=data,
                note=form.cleaned_data["note"],
                ip=client_ip(request),
            )
        except ValueError as exc:
            for message in str(exc).split("；"):
                form.add_error(None, message)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("草稿已保存。"))
            return redirect("scheme_version", pk=version.pk)
    context = {
        "scheme": version.scheme,
        "version": version,
        "form": form,
        "table": table,
        "quotas": quotas,
    }
    return render(request, "scoring/scheme_edit.html", context, status=400 if post else 200)


@require_POST
def scheme_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    scheme = access.get_scheme_for(user, pk, need="manage")
    existing = scheme.versions.filter(status=VersionStatus.DRAFT).first()
    version = workflow.new_version(by=user, scheme=scheme, ip=client_ip(request))
    if existing is not None:
        messages.info(request, gettext("已有第 %d 版草稿，请在草稿上修改。") % version.number)
    else:
        messages.success(
            request, gettext("已新建第 %d 版草稿，规则复制自上一版本。") % version.number
        )
    return redirect("scheme_version_edit", pk=version.pk)


@require_POST
def version_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    version = access.get_version_for(user, pk, need="manage")
    form = AdoptForm(request.POST)
    if form.is_valid():
        try:
            workflow.adopt_version(
                by=user,
                version=version,
                effective_from=form.cleaned_data["effective_from"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            messages.error(request, _say(exc))
        else:
            messages.success(
                request,
                gettext("第 %(n)d 版已启用，自 %(day)s 起计分。")
                % {"n": version.number, "day": form.cleaned_data["effective_from"].isoformat()},
            )
            if workflow.pending_recompute(version.scheme) is not None:
                messages.info(
                    request,
                    gettext(
                        "生效日期以来的事件较多，正在后台重算得分，完成后本页“重算记录”显示结果。"
                    ),
                )
            return redirect("scheme_version", pk=version.pk)
    versions = list(
        version.scheme.versions.select_related("created_by", "adopted_by").order_by("number")
    )
    shown = next(v for v in versions if v.pk == version.pk)
    return _version_page(request, version.scheme, versions, shown, adopt_form=form)


# What-if ----------------------------------------------------------------------------------------


def _whatif_parents(owner: Unit) -> list[tuple[int, str]]:
    units = (
        Unit.objects.filter(path__startswith=owner.path, is_active=True)
        .filter(Q(pk=owner.pk) | Q(children__is_active=True, children__level__in=engine.LEVELS))
        .distinct()
        .order_by("path")
    )
    return [(u.pk, "　" * (u.depth - owner.depth) + u.short_name) for u in units]


def scheme_whatif(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = access.get_scheme_for(_user(request), pk, need="manage")
    versions = list(scheme.versions.order_by("-number"))
    labels: dict[str, str] = {
        VersionStatus.DRAFT.value: gettext("草稿"),
        VersionStatus.ADOPTED.value: gettext("已启用"),
    }
    choices = [
        (
            v.pk,
            gettext("第 %(number)d 版（%(status)s）")
            % {"number": v.number, "status": labels[v.status]},
        )
        for v in versions
    ]
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), versions[0])
    defaults = {
        "version": draft.pk,
        "grain": "year",
        "key": str(_today().year),
        "parent": scheme.unit_id,
    }
    # A link may name only the version (试算 on a version page): the rest take their defaults.
    data = {**defaults, **request.GET.dict()} if request.GET else defaults
    form = WhatIfForm(data, versions=choices, parents=_whatif_parents(scheme.unit))
    context: dict[str, Any] = {"scheme": scheme, "form": form, "rows": None}
    if form.is_valid():
        c = form.cleaned_data
        try:
            period = rankings.period_for(
                c["grain"],
                c["key"] or "",
                c["start"].isoformat() if c["start"] else "",
                c["end"].isoformat() if c["end"] else "",
            )
        except ValueError as exc:
            form.add_error("key" if c["grain"] != "custom" else "start", str(exc))
        else:
            version = next(v for v in versions if v.pk == c["version"])
            parent = Unit.objects.get(pk=c["parent"])
            context.update(
                rows=whatif.compare(scheme, version, parent, period),
                version=version,
                parent=parent,
                period=period,
                in_force=rankings.versions_used(scheme, period),
            )
    return render(request, "scoring/whatif.html", context)


urlpatterns: list[URLPattern] = [
    path("scoring/schemes/", scheme_list, name="scheme_list"),
    path("scoring/schemes/<int:pk>/", scheme_detail, name="scheme_detail"),
    path("scoring/schemes/<int:pk>/new-version/", scheme_new_version, name="scheme_new_version"),
    path("scoring/schemes/<int:pk>/whatif/", scheme_whatif, name="scheme_whatif"),
    path("scoring/versions/<int:pk>/", scheme_version, name="scheme_version"),
    path("scoring/versions/<int:pk>/edit/", version_edit, name="scheme_version_edit"),
    path("scoring/versions/<int:pk>/adopt/", version_adopt, name="scheme_version_adopt"),
    path("scoring/schemes/<int:pk>/recomputes/", scheme_recomputes, name="scheme_recomputes"),
    path("scoring/recomputes/<int:pk>/restart/", recompute_restart, name="recompute_restart"),
]
