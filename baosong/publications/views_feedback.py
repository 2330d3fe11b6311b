"""Feedback to the origin (采用反馈): where one item went, and a unit's outcomes over a period."""

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from baosong.lib.widgets import FastSelect
from baosong.orgs.access import scope_for
from baosong.orgs.models import Role, Unit, User
from baosong.publications import access, selectors
from baosong.submissions import access as items_access
from baosong.submissions.models import Submission

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def parse_month(value: str) -> dt.date | None:
    """ "2026-11" → 2026-11-01, or None when it is not a month."""
    match = MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        return None
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


# Where one item went ------------------------------------------------------------------------------


def _item_for(user: User, pk: int) -> tuple[Submission, bool]:
    """The item, and whether the user reads it as its origin unit (or an admin above it)."""
    origin = access.outcome_items(user).select_related("unit").filter(pk=pk).first()
    if origin is not None:
        return origin, True
    return items_access.get_submission_for(user, pk), False


@require_GET
def item_outcomes(request: HttpRequest, pk: int) -> HttpResponse:
    """The outcomes partial the item page loads: for whoever may see the item or its unit's
    outcomes."""
    user = _user(request)
    item, as_origin = _item_for(user, pk)
    outcomes = selectors.item_outcomes(item)
    if not outcomes.steps and not outcomes.adoptions:
        return HttpResponse("")
    editor_units = set(access.editor_unit_ids(user))
    scans = {a.pk for a in outcomes.adoptions if as_origin or a.unit_id in editor_units}
    context = {"item": item, "outcomes": outcomes, "scan_adoptions": scans}
    return render(request, "publications/_item_outcomes.html", context)


# A unit's outcomes over a period ----------------------------------------------------------------


class UnitField(forms.ModelChoiceField):  # type: ignore[type-arg]
    widget = FastSelect

    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class PeriodForm(forms.Form):
    unit = UnitField(
        label=gettext_lazy("单位"), queryset=Unit.objects.none(), required=False, empty_label=None
    )
    month = forms.CharField(
        label=gettext_lazy("月份"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )
    start = forms.DateField(
        label=gettext_lazy("或自"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("至"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = units

    def clean_month(self) -> str:
        value: str = self.cleaned_data.get("month") or ""
        if value and parse_month(value) is None:
            raise forms.ValidationError(gettext("月份格式应为 2026-11。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if bool(start) != bool(end):
            self.add_error("end" if start else "start", gettext("按日期查询请同时填写起止日期。"))
        elif start and end and end < start:
            self.add_error("end", gettext("截止日期不能早于起始日期。"))
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("start") and data.get("end"):
            return data["start"], data["end"]
        month = parse_month(data.get("month") or "") or timezone.localdate().replace(day=1)
        return selectors.month_bounds(month)


def _default_unit(user: User) -> Unit:
    own = list(scope_for(user).unit_roles)
    unit = Unit.objects.filter(pk__in=own).order_by("path").first()
    if unit is None:
        raise PermissionDenied(gettext("您不属于任何单位，没有采用反馈可查看。"))
    return unit


@require_GET
def feedback(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    wanted = request.GET.get("unit", "")
    unit = access.get_feedback_unit_for(user, int(wanted)) if wanted.isdigit() else None
    unit = unit or _default_unit(user)
    units = access.outcome_units(user).order_by("path")
    form = PeriodForm(request.GET or None, units=units, initial={"unit": unit})
    start, end = form.period()
    result = selectors.unit_feedback(access.outcome_items(user), unit, start, end)
    ids = [row.item.pk for row in result.rows]
    openable = set(
        items_access.visible_submissions(user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    context = {
        "form": form,
        "unit": unit,
        "feedback": result,
        "openable": openable,
        "month": start.strftime("%Y-%m") if start.day == 1 else "",
        "is_editor": Role.EDITOR in scope_for(user).roles,
    }
    return render(request, "publications/feedback.html", context)


urlpatterns: list[URLPattern] = [
    path("items/<int:pk>/outcomes/", item_outcomes, name="item_outcomes"),
    path("feedback/", feedback, name="feedback"),
]
