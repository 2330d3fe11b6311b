"""Assessing decisions (扣分与认定) in the UI: the scheme's deductions and confirmed copied or
falsified items with the ledger lines they produced, and the two forms that record new ones.
Managers of the scheme only; the ledger work is workflow.decide's."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from baosong.lib.http import client_ip
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import Level, Unit, User
from baosong.scoring import access, ledger, workflow
from baosong.scoring.models import AssessmentEvent, Decision, LedgerEntry, Scheme
from baosong.submissions.models import Status, Submission

DECISIONS_SHOWN = 200
RECENT_ITEMS_SHOWN = 30
MAX_DEDUCTION = Decimal(1000)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _target_units(scheme: Scheme) -> list[tuple[int, str]]:
    # Internal sections are not scored on their own: their items count for the unit above them.
    units = (
        Unit.objects.active()
        .within(scheme.unit.path)
        .exclude(level=Level.INTERNAL)
        .order_by("path")
    )
    return [(u.pk, "　" * (u.depth - scheme.unit.depth) + u.short_name) for u in units]


class DeductForm(forms.Form):
    target = forms.TypedChoiceField(
        label=_("被扣分单位"),
        coerce=int,
        error_messages={
            "required": _("请选择被扣分的单位。"),
            "invalid_choice": _("请选择本计分办法范围内的单位。"),
        },
    )
    points = forms.DecimalField(
        label=_("扣分"),
        max_digits=7,
        decimal_places=2,
        help_text=_("大于 0、不超过 1000，最多两位小数。"),
        error_messages={
            "required": _("请填写扣分。"),
            "invalid": _("扣分应为数字。"),
            "max_decimal_places": _("扣分最多两位小数。"),
            "max_digits": _("扣分应大于 0 且不超过 1000。"),
            "max_whole_digits": _("扣分应大于 0 且不超过 1000。"),
        },
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "1000"}),
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请写明理由。")},
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *units]

    def clean_points(self) -> Decimal:
        points: Decimal = self.cleaned_data["points"]
        if not Decimal(0) < points <= MAX_DEDUCTION:
            raise ValidationError(gettext("扣分应大于 0 且不超过 1000。"))
        return points


class ConfirmForm(forms.Form):
    item = forms.IntegerField(
        label=_("稿件编号"),
        min_value=1,
        help_text=_("稿件页面地址中的数字，或从最近报送的稿件中选择。"),
        error_messages={
            "required": _("请填写被认定稿件的编号。"),
            "invalid": _("稿件编号应为数字。"),
            "min_value": _("稿件编号应为正整数。"),
        },
        widget=forms.NumberInput(attrs={"list": "recent-items"}),
    )
    action = forms.ChoiceField(
        label=_("认定为"),
        choices=[
            (Decision.CONFIRMED_COPY.value, Decision.CONFIRMED_COPY.label),
            (Decision.FALSIFIED.value, Decision.FALSIFIED.label),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择认定类型。")},
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请写明理由。")},
    )

    def __init__(self, *args: Any, scheme: Scheme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scheme = scheme

    def clean_item(self) -> Submission:
        pk: int = self.cleaned_data["item"]
        item = (
            Submission.objects.select_related("unit")
            .filter(pk=pk, unit__path__startswith=self.scheme.unit.path)
            .first()
        )
        # The same answer for a missing item and one outside the subtree: ids are not a way to
        # learn what other units have written.
        if item is None:
            raise ValidationError(
                gettext("编号为 %(pk)d 的稿件不存在，或不属于本计分办法范围内的单位。") % {"pk": pk}
            )
        return item


@dataclass
class Row:
    event: AssessmentEvent
    unit: Unit
    points: Decimal | None  # sum of the unit lines under this scheme; None when there are none
    drill_query: str


def _events(scheme: Scheme) -> list[AssessmentEvent]:
    # A deduction belongs to one scheme; a confirmed item is voided under every scheme whose
    # subtree holds its unit, whoever decided it.
    return list(
        AssessmentEvent.objects.filter(
            Q(scheme=scheme)
            | Q(scheme__isnull=True, submission__unit__path__startswith=scheme.unit.path)
        )
        .select_related("by", "target", "submission__unit")
        .order_by("-at", "-id")[:DECISIONS_SHOWN]
    )


def _rows(scheme: Scheme) -> list[Row]:
    events = _events(scheme)
    keys = [f"c{e.pk}" for e in events]
    # Person lines share out the unit's points: only the unit lines make the unit's total.
    totals: dict[str, Decimal] = {
        r["event_key"]: r["total"]
        # By version, so the (version, event_key) index finds the lines among millions.
        for r in LedgerEntry.objects.filter(
            version__in=scheme.versions.values("pk"), event_key__in=keys, person__isnull=True
        )
        .values("event_key")
        .annotate(total=Sum("points"))
    }
    tz = ledger.local_tz()
    rows = []
    for e in events:
        unit = e.submission.unit if e.submission is not None else e.target
        month = e.at.astimezone(tz)
        rows.append(
            Row(
                event=e,
                unit=unit,
                points=totals.get(f"c{e.pk}"),
                drill_query=f"grain=month&key={month.year}-{month.month:02d}",
            )
        )
    return rows


def _recent_items(scheme: Scheme) -> list[Submission]:
    return list(
        Submission.objects.filter(status=Status.SUBMITTED, unit__path__startswith=scheme.unit.path)
        .exclude(submitted_at__isnull=True)
        # Already confirmed items cannot be confirmed again: offering them only invites an error.
        .exclude(
            pk__in=AssessmentEvent.objects.filter(submission__isnull=False).values("submission")
        )
        .select_related("unit")
        .order_by("-submitted_at")[:RECENT_ITEMS_SHOWN]
    )


@require_http_methods(["GET", "POST"])
def scheme_decisions(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    user = _user(request)
    scheme = access.get_scheme_for(user, scheme_pk, need="manage")
    units = _target_units(scheme)
    which = request.POST.get("form") if request.method == "POST" else None
    deduct = DeductForm(request.POST if which == "deduct" else None, units=units)
    confirm = ConfirmForm(request.POST if which == "confirm" else None, scheme=scheme)
    if which == "deduct" and deduct.is_valid():
        c = deduct.cleaned_data
        try:
            workflow.decide(
                by=user,
                scheme=scheme,
                action=Decision.DEDUCT,
                target=Unit.objects.get(pk=c["target"]),
                points=c["points"],
                reason=c["reason"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(deduct, exc)
        else:
            messages.success(request, gettext("扣分已记录。"))
            return redirect("scheme_decisions", scheme_pk=scheme.pk)
    if which == "confirm" and confirm.is_valid():
        c = confirm.cleaned_data
        try:
            workflow.decide(
                by=user,
                scheme=scheme,
                action=c["action"],
                item=c["item"],
                reason=c["reason"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(confirm, exc)
        else:
            messages.success(
                request,
                gettext("已认定：稿件的得分已冲减，并按计分办法扣分。"),
            )
            return redirect("scheme_decisions", scheme_pk=scheme.pk)
    context = {
        "scheme": scheme,
        "rows": _rows(scheme),
        "shown": DECISIONS_SHOWN,
        "deduct": deduct,
        "confirm": confirm,
        "recent_items": _recent_items(scheme),
    }
    status = 400 if which in ("deduct", "confirm") else 200
    return render(request, "scoring/decisions.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("scoring/<int:scheme_pk>/decisions/", scheme_decisions, name="scheme_decisions"),
]
