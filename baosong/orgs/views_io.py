"""Register import and export: upload, template download, export download."""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from baosong.audit.record import record
from baosong.lib.http import attachment, client_ip
from baosong.orgs import access, registers
from baosong.orgs.models import User
from baosong.orgs.registers import RegisterError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 500


class RegisterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("台账文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        help_text=_("Excel 或 WPS 保存的 .xlsx 文件。"),
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_http_methods(["GET", "POST"])
def register_import(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_import_register(user):
        raise PermissionDenied
    form = RegisterUploadForm(request.POST or None, request.FILES or None)
    errors: list[RegisterError] = []
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            limit = settings.IMPORT_MAX_BYTES / 1048576
            message = gettext("文件过大，上限为 %(limit).1f MB。") % {"limit": limit}
            errors = [RegisterError("", None, "", "", message)]
        else:
            register = registers.parse_register(upload.read())
            result = registers.apply_register(register, by=user, ip=client_ip(request))
            errors = result.errors
    context = {
        "form": form,
        "errors": errors[:ERRORS_SHOWN],
        "errors_total": len(errors),
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
        "result": result if result is not None and result.ok else None,
        "can_export": access.can_export_register(user),
        "unit_columns": registers.UNIT_COLUMNS,
        "person_columns": registers.PERSON_COLUMNS,
        "max_mb": settings.IMPORT_MAX_BYTES / 1048576,
    }
    return render(request, "orgs/register_import.html", context)


@require_GET
def register_template(request: HttpRequest) -> HttpResponse:
    if not access.can_import_register(_user(request)):
        raise PermissionDenied
    return attachment(registers.register_template(), "单位与人员台账导入模板.xlsx")


@require_GET
def register_export(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_export_register(user):
        raise PermissionDenied
    rows = registers.register_rows(access.visible_units(user), access.visible_people(user))
    data = registers.register_workbook(rows)
    record(
        "register.export",
        actor=user,
        role=registers.actor_role(user),
        ip=client_ip(request),
        object_type="register",
        object_repr="导出单位与人员台账",
        unit_path=registers.actor_unit_path(user),
        after={"units": len(rows.units), "people": rows.people_count, "rows": len(rows.people)},
    )
    today = timezone.localdate().strftime("%Y%m%d")
    return attachment(data, f"单位与人员台账-{today}.xlsx")
