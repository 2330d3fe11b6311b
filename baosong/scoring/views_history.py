"""Importing earlier adoption records (往年采用记录) for a scheme: upload, template, past imports."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from baosong.lib.http import attachment, client_ip
from baosong.orgs.models import User
from baosong.scoring import access, engine, history
from baosong.scoring.history import HistoryError, HistoryRejected
from baosong.scoring.models import HistoryImport

ERRORS_SHOWN = 500
PAST_IMPORTS_SHOWN = 50


class HistoryUploadForm(forms.Form):
    file = forms.FileField(
        label=_("采用记录文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        help_text=_("Excel 或 WPS 保存的 .xlsx 文件。"),
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_http_methods(["GET", "POST"])
def history_import(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = access.get_scheme_for(_user(request), scheme_pk, need="manage")
    form = HistoryUploadForm(request.POST or None, request.FILES or None)
    errors: list[HistoryError] = []
    done = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > history.MAX_BYTES:
            message = gettext("文件过大，上限为 %(limit).0f MB。") % {
                "limit": history.MAX_BYTES / 1048576
            }
            errors = [HistoryError(None, "", "", message)]
        else:
            try:
                batch = history.import_history(
                    by=_user(request),
                    scheme=scheme,
                    file_name=upload.name or "",
                    data=upload.read(),
                    ip=client_ip(request),
                )
            except HistoryRejected as exc:
                errors = exc.errors
            else:
                done = (batch, history.summary(batch, scheme))
                form = HistoryUploadForm()
    past = [
        (batch, history.summary(batch, scheme))
        for batch in HistoryImport.objects.filter(scheme=scheme).select_related("by")[
            :PAST_IMPORTS_SHOWN
        ]
    ]
    context = {
        "scheme": scheme,
        "form": form,
        "errors": errors[:ERRORS_SHOWN],
        "errors_total": len(errors),
        "errors_hidden": max(0, len(errors) - ERRORS_SHOWN),
        "done": done,
        "past": past,
        "columns": history.COLUMNS,
        "levels": "、".join(history.LEVEL_BY_LABEL),
        "kinds": "、".join(history.KIND_BY_LABEL),
        "max_rows": history.MAX_ROWS,
        "max_mb": history.MAX_BYTES / 1048576,
        "level_label": engine.LEVEL_LABEL,
    }
    return render(request, "scoring/history_import.html", context)


@require_GET
def history_template(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = access.get_scheme_for(_user(request), scheme_pk, need="manage")
    return attachment(history.history_template(scheme.unit), "往年采用记录导入模板.xlsx")


urlpatterns: list[URLPattern] = [
    path("scoring/<int:scheme_pk>/history/", history_import, name="history_import"),
    path(
        "scoring/<int:scheme_pk>/history/template.xlsx",
        history_template,
        name="history_template",
    ),
]
