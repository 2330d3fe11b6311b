"""Scoring schemes (计分办法) in the UI: list and create, read every rule of a version, edit a
draft in ordinary form fields, adopt it, and try it on a past period (what-if) before adopting.
Thin views over access.py and workflow.py; the what-if only reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from baosong.lib.http import client_ip
from baosong.orgs.access import scope_for
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import Role, Unit, User
from baosong.scoring import access, engine, history, ledger, rankings, workflow
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
from baosong.scoring.models import (
    AssessmentEvent,
    Decision,
    QuotaSettlement,
    Scheme,
    SchemeVersion,
    VersionStatus,
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _say(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _today() -> dt.date:
    return dt.datetime.now(ledger.local_tz()).date()


def _in_force(version: SchemeVersion, day: dt.date) -> bool:
    return (
        version.status == VersionStatus.ADOPTED
        and version.effective_from is not None
        and version.effective_from <= day
        and (version.effective_to is None or day <= version.effective_to)
    )


def _shown_version(scheme: Scheme, versions: list[SchemeVersion]) -> SchemeVersion:
    """The version in force today, else the newest one."""
    today = _today()
    return next((v for v in versions if _in_force(v, today)), versions[-1])


# List and create -------------------------------------------------------------------------------


def scheme_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    managed = scope_for(user).units_with(Role.EDITOR, Role.UNIT_ADMIN)
    units = [(u.pk, u.short_name) for u in Unit.objects.filter(pk__in=managed).order_by("path")]
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
            v.in_force = _in_force(v, today)  # type: ignore[attr-defined]
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
        v.in_force = _in_force(v, today)  # type: ignore[attr-defined]
    can_manage = access.can_manage_scheme(_user(request), scheme)
    context = {
        "scheme": scheme,
        "version": version,
        "versions": versions,
        "rules": describe(version.data),
        "can_manage": can_manage,
        "has_draft": any(v.status == VersionStatus.DRAFT for v in versions),
        "adopt_form": adopt_form or AdoptForm(initial={"effective_from": _next_month_start(today)}),
    }
    return render(request, "scoring/scheme_version.html", context)


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
    version = workflow.new_version(by=user, scheme=scheme, ip=client_ip(request))
    messages.success(request, gettext("已新建第 %d 版草稿，规则复制自上一版本。") % version.number)
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
            return redirect("scheme_version", pk=version.pk)
    versions = list(
        version.scheme.versions.select_related("created_by", "adopted_by").order_by("number")
    )
    shown = next(v for v in versions if v.pk == version.pk)
    return _version_page(request, version.scheme, versions, shown, adopt_form=form)


# What-if ----------------------------------------------------------------------------------------


@dataclass
class WhatIfRow:
    unit: Unit
    rank: int
    points: Decimal
    submitted: int
    adopted: int
    current_rank: int | None
    current_points: Decimal | None
    change: int | None  # positive: the tried version moves the unit up that many places

    @property
    def delta(self) -> Decimal | None:
        return None if self.current_points is None else self.points - self.current_points


def whatif_ranking(
    scheme: Scheme, version: SchemeVersion, parent: Unit, period: engine.Period
) -> list[WhatIfRow]:
    """Rank the child units of `parent` (each with its subtree) under `version`'s rules over what
    was recorded in `period` (events of items touched in it, imported adoption records, deductions
    against units, the quota windows the ledger has settled) beside the ranking the ledger holds,
    so that trying the version in force gives back the current ranking. Only reads.

    Only items with an event inside the period are loaded (with their whole history up to its
    end), so a year at a city replays a few thousand events, not the city's whole archive."""
    rules = engine.scheme_from_data({**version.data, "version": f"whatif-{version.code}"})
    children, owner = rankings.subtree(parent)
    units = {str(u.pk): u for u in children}
    child_of = {  # unit code → key of the child whose subtree holds it
        code: str(owner[pk])
        for code, pk in Unit.objects.filter(path__startswith=parent.path).values_list("code", "pk")
        if pk in owner
    }
    items = Q(unit__path__startswith=parent.path) & workflow._items_with_events(
        period.start, period.end
    )
    facts = ledger.load_facts(items, until=period.end)
    facts += history.historic_facts(scheme, period.start, period.end)
    facts += _unit_deductions(scheme, parent, period)
    entries = [
        e._replace(unit=child_of[e.unit])
        for e in engine.score(rules, facts, period)
        if not e.person and e.unit in child_of
    ]
    totals = engine.unit_totals(entries)
    quota = _quota_deductions(scheme, rules, facts, period, child_of)
    tried = []
    for key in units:
        total = totals.get(key, engine.Total(key=key, points=engine.ZERO))
        tried.append(replace(total, points=total.points - quota.get(key, engine.ZERO)))
    current = {
        row.key: row for row in rankings.unit_ranking(scheme, parent, period, with_previous=False)
    }
    ranked = engine.rank(
        tried,
        tie_break=rankings.tie_break_of(scheme),
        previous={key: row.rank for key, row in current.items()},
    )
    return [
        WhatIfRow(
            unit=units[r.key],
            rank=r.rank,
            points=r.total.points,
            submitted=r.total.submitted,
            adopted=r.total.adopted,
            current_rank=r.previous_rank,
            current_points=engine.q2(current[r.key].figures.points) if r.key in current else None,
            change=r.change,
        )
        for r in ranked
    ]


def _unit_deductions(scheme: Scheme, parent: Unit, period: engine.Period) -> list[engine.Fact]:
    """Deductions the scheme's owner decided against units (not items) during the period."""
    rows = AssessmentEvent.objects.filter(
        unit=scheme.unit,
        action=Decision.DEDUCT,
        submission__isnull=True,
        target__path__startswith=parent.path,
        at__gte=period.start,
        at__lt=period.end,
    ).values_list("pk", "at", "target__code", "points", "reason")
    return [
        engine.Fact(
            kind=engine.DEDUCT, event_id=f"c{pk}", at=at, origin_unit=code, points=points, note=note
        )
        for pk, at, code, points, note in rows
    ]


def _quota_deductions(
    scheme: Scheme,
    rules: engine.Scheme,
    facts: list[engine.Fact],
    period: engine.Period,
    child_of: dict[str, str],
) -> dict[str, Decimal]:
    """Quota windows of the period that the ledger has settled, judged again under the tried
    rules per child unit (with its subtree): child key → points to take off. Windows not yet
    settled count in neither ranking."""
    settled = set(
        QuotaSettlement.objects.filter(version__scheme=scheme).values_list("window", flat=True)
    )
    end = min(period.end, dt.datetime.now(ledger.local_tz()))
    if not rules.quotas or not settled or end <= period.start:
        return {}
    submits = [
        engine.Fact(
            kind=engine.SUBMIT,
            event_id=f.event_id,
            at=f.at,
            item_id=f.item_id,
            item_kind=f.item_kind,
            origin_unit=child_of[f.origin_unit],
        )
        for f in facts
        if f.kind == engine.SUBMIT and f.origin_unit in child_of
    ]
    window = engine.Period(period.key, period.start, end, period.grain)
    cuts: dict[str, Decimal] = {}
    for status in engine.quota_status(rules, submits, window, sorted(set(child_of.values()))):
        judged = status.closed and status.window in settled and status.start >= period.start
        if judged and not status.met:
            cuts[status.unit] = cuts.get(status.unit, engine.ZERO) + status.deduction
    return cuts


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
    choices = [(v.pk, f"{gettext('第 %d 版') % v.number}（{labels[v.status]}）") for v in versions]
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), versions[0])
    defaults = {
        "version": draft.pk,
        "grain": "year",
        "key": str(_today().year),
        "parent": scheme.unit_id,
    }
    form = WhatIfForm(
        request.GET or defaults, versions=choices, parents=_whatif_parents(scheme.unit)
    )
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
                rows=whatif_ranking(scheme, version, parent, period),
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
]
