"""The audit log: read and export by the audit admin only."""

import datetime as dt

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font

from baosong.audit.forms import EventFilterForm
from baosong.audit.models import Event, can_read_audit, role_label
from baosong.audit.record import record
from baosong.lib.http import attachment, client_ip
from baosong.lib.xlsx import neutralize, workbook_bytes

EXPORT_LIMIT = 100_000


def _unit_choices() -> list[tuple[str, str]]:
    # The unit tree lives in orgs; audit only needs code, name and path for the filter.
    unit_model = apps.get_model("orgs", "Unit")
    rows = unit_model.objects.order_by("path").values_list("path", "short_name", "depth")
    return [(path, f"{'　' * depth}{name}") for path, name, depth in rows]


def _filtered(request: HttpRequest) -> tuple[EventFilterForm, QuerySet[Event]]:
    if not can_read_audit(request.user):
        raise PermissionDenied(gettext("只有审计管理员可以查看审计日志。"))
    form = EventFilterForm(request.GET or None, units=_unit_choices())
    events = Event.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            events = events.filter(actor_login__iexact=data["actor"].strip())
        if data["unit"]:
            events = events.filter(unit_path__startswith=data["unit"])
        if data["action"]:
            events = events.filter(action=data["action"])
        zone = timezone.get_current_timezone()
        if data["start"]:
            events = events.filter(at__gte=dt.datetime.combine(data["start"], dt.time.min, zone))
        if data["end"]:
            day_after = data["end"] + dt.timedelta(days=1)
            events = events.filter(at__lt=dt.datetime.combine(day_after, dt.time.min, zone))
    return form, events


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form, events = _filtered(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    _label_roles(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = (
        "audit/event_list.html#rows"
        if request.headers.get("HX-Request")
        else "audit/event_list.html"
    )
    return render(request, template, context)


def _label_roles(events: list[Event]) -> None:
    """Attach a readable role (with the administered unit's name) to each event, one query."""
    paths = {e.actor_role.partition("@")[2] for e in events} - {""}
    unit_model = apps.get_model("orgs", "Unit")
    names = dict(unit_model.objects.filter(path__in=paths).values_list("path", "short_name"))
    for event in events:
        event.role_label = role_label(event.actor_role, names)  # type: ignore[attr-defined]


@require_GET
def event_export(request: HttpRequest) -> HttpResponse:
    _form, events = _filtered(request)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = gettext("审计日志")
    headers = [
        gettext("时间"),
        gettext("操作人"),
        gettext("角色"),
        gettext("来源IP"),
        gettext("操作"),
        gettext("操作代码"),
        gettext("对象类型"),
        gettext("对象ID"),
        gettext("对象"),
        gettext("单位路径"),
        gettext("变更前"),
        gettext("变更后"),
    ]
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    zone = timezone.get_current_timezone()
    names = dict(apps.get_model("orgs", "Unit").objects.values_list("path", "short_name"))
    for e in events[:EXPORT_LIMIT].iterator(chunk_size=2000):
        ws.append(
            [
                neutralize(e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S%z")),
                neutralize(e.actor_login),
                neutralize(role_label(e.actor_role, names)),
                neutralize(e.ip or ""),
                neutralize(e.action_label),
                neutralize(e.action),
                neutralize(e.object_type),
                neutralize(e.object_id),
                neutralize(e.object_repr),
                neutralize(e.unit_path),
                neutralize(_json(e.before)),
                neutralize(_json(e.after)),
            ]
        )
    ws.freeze_panes = "A2"
    for column, width in zip(
        "ABCDEFGHIJKL", [22, 16, 22, 16, 14, 22, 12, 10, 30, 16, 40, 40], strict=True
    ):
        ws.column_dimensions[column].width = width
    record(
        "audit.export",
        actor=request.user,
        role="audit_admin",
        ip=client_ip(request),
        object_type="event",
        object_repr=request.GET.urlencode()[:200],
    )
    filename = f"{gettext('审计日志')}-{timezone.localdate():%Y%m%d}.xlsx"
    return attachment(workbook_bytes(wb), filename)


def _json(value: object) -> str:
    import json

    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
