"""Publications (刊物) and composing their issues (期): thin views over access.py and workflow.py."""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from baosong.lib.http import client_ip
from baosong.orgs.access import scope_for
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import Role, Unit, User
from baosong.publications import access, workflow
from baosong.publications.models import (
    Adoption,
    AdoptionSource,
    Issue,
    IssueRevision,
    IssueStatus,
    PublicationKind,
)

ISSUES_PER_PAGE = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _say(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _with_sources(adoptions: QuerySet[Adoption]) -> QuerySet[Adoption]:
    sources = AdoptionSource.objects.select_related("origin_unit", "submission").order_by(
        "-is_lead_source", "-share", "id"
    )
    return adoptions.prefetch_related(Prefetch("sources", queryset=sources))


# Forms -------------------------------------------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PublicationForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("所属单位"), coerce=int)
    name = forms.CharField(label=_("刊物名称"), max_length=60, help_text=_("如：组工信息"))
    kind = forms.ChoiceField(label=_("类别"), choices=PublicationKind.choices)
    masthead = forms.CharField(
        label=_("刊头单位署名"), max_length=80, required=False, help_text=_("留空则用单位全称。")
    )
    distribution = forms.CharField(
        label=_("报送范围（报/送/发）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "wide"}),
        help_text=_("每行一项，如：报：省委组织部"),
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(u.pk, u.short_name) for u in units]


class PublicationEditForm(forms.Form):
    name = forms.CharField(label=_("刊物名称"), max_length=60)
    masthead = forms.CharField(label=_("刊头单位署名"), max_length=80, required=False)
    distribution = forms.CharField(
        label=_("报送范围（报/送/发）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "wide"}),
        help_text=_("每行一项，如：报：省委组织部"),
    )
    is_active = forms.BooleanField(
        label=_("启用"), required=False, help_text=_("停用后不能再采用到这个刊物，已有各期保留。")
    )


class IssueCreateForm(forms.Form):
    issue_date = forms.DateField(label=_("出刊日期"), widget=DATE)


class IssueSettingsForm(forms.Form):
    issue_date = forms.DateField(label=_("出刊日期"), widget=DATE)
    show_toc = forms.BooleanField(label=_("本期导读"), required=False)
    editor_note = forms.CharField(
        label=_("编者按"), required=False, widget=forms.Textarea(attrs={"rows": 3, "class": "wide"})
    )
    distribution = forms.CharField(
        label=_("报送范围（报/送/发）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "wide"}),
        help_text=_("每行一项，如：报：省委组织部"),
    )


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label=_("更正原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "class": "wide"}),
    )


class WithdrawAdoptionForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "class": "wide"}),
    )


class AdoptionTextForm(forms.Form):
    title = forms.CharField(
        label=_("标题"), max_length=200, widget=forms.TextInput(attrs={"class": "wide"})
    )
    is_lead = forms.BooleanField(label=_("头条"), required=False)
    body = forms.CharField(
        label=_("采用稿正文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "data-rich": "1", "class": "wide"}),
    )


# Publications ------------------------------------------------------------------------------------


def _managed_units(user: User) -> list[Unit]:
    ids = scope_for(user).units_with(Role.EDITOR, Role.UNIT_ADMIN)
    return list(Unit.objects.filter(pk__in=ids).order_by("path"))


def _count(model: type[Issue] | type[Adoption], **filters: Any) -> Coalesce:
    rows = (
        model.objects.filter(publication=OuterRef("pk"), **filters)
        .order_by()
        .values("publication")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def publication_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    units = _managed_units(user)
    form = PublicationForm(request.POST or None, units=units, initial={"kind": "journal"})
    if request.method == "POST" and form.is_valid():
        unit = next(u for u in units if u.pk == form.cleaned_data["unit"])
        try:
            publication = workflow.create_publication(
                by=user,
                unit=unit,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                masthead=form.cleaned_data["masthead"],
                distribution=form.cleaned_data["distribution"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("刊物“%s”已创建。") % publication.name)
            return redirect("publication_detail", pk=publication.pk)
    latest = Issue.objects.filter(publication=OuterRef("pk")).order_by("-total_number")
    publications = (
        access.publications_for(user)
        .select_related("unit")
        .annotate(
            issue_count=_count(Issue),
            adoption_count=_count(Adoption),
            unplaced_count=_count(Adoption, issue=None),
            last_pk=Subquery(latest.values("pk")[:1]),
            last_year=Subquery(latest.values("year")[:1]),
            last_number=Subquery(latest.values("number")[:1]),
            last_total=Subquery(latest.values("total_number")[:1]),
            last_date=Subquery(latest.values("issue_date")[:1]),
            last_status=Subquery(latest.values("status")[:1]),
        )
        .order_by("unit__path", "-is_active", "name")
    )
    context = {
        "publications": publications,
        "form": form,
        "can_create": bool(units),
        "editor_units": set(access.editor_unit_ids(user)),
    }
    return render(request, "publications/publication_list.html", context)


def publication_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    publication = access.get_publication_for(user, pk)
    form = PublicationEditForm(
        request.POST or None,
        initial={
            "name": publication.name,
            "masthead": publication.masthead,
            "distribution": publication.distribution,
            "is_active": publication.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            workflow.update_publication(
                by=user, publication=publication, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("刊物设置已保存。"))
            return redirect("publication_detail", pk=publication.pk)
    return render(
        request,
        "publications/publication_edit.html",
        {"publication": publication, "form": form},
    )


@require_GET
def publication_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    publication = access.get_publication_for(user, pk)
    context: dict[str, Any] = {
        "publication": publication,
        "can_compose": publication.unit_id in access.editor_unit_ids(user),
        "can_manage": access.can_manage_publications(user, publication.unit),
        "distribution_lines": publication.distribution.splitlines(),
    }
    if publication.is_channel:
        adoptions = _with_sources(
            publication.adoptions.select_related("created_by").order_by("-published_on", "-id")
        )
        context["page"] = Paginator(adoptions, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    else:
        issues = publication.issues.annotate(item_count=Count("adoptions")).order_by(
            "-year", "-number"
        )
        context["page"] = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
        context["unplaced"] = _with_sources(
            publication.adoptions.filter(issue=None).order_by("-created_at", "-id")
        )
        context["create_form"] = IssueCreateForm(initial={"issue_date": timezone.localdate()})
    return render(request, "publications/publication_detail.html", context)


@require_POST
def issue_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    publication = access.get_publication_for(user, pk)
    form = IssueCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("请选择有效的出刊日期。"))
        return redirect("publication_detail", pk=publication.pk)
    try:
        issue = workflow.create_issue(
            by=user,
            publication=publication,
            issue_date=form.cleaned_data["issue_date"],
            ip=client_ip(request),
        )
    except ValidationError as exc:
        messages.error(request, _say(exc))
        return redirect("publication_detail", pk=publication.pk)
    messages.success(request, gettext("已新建%s。") % issue.label)
    return redirect("issue_compose", pk=issue.pk)


# Composing an issue ------------------------------------------------------------------------------


def _compose_context(request: HttpRequest, issue: Issue, **forms_: Any) -> dict[str, Any]:
    user = _user(request)
    publication = issue.publication
    can_compose = publication.unit_id in access.editor_unit_ids(user)
    is_draft = issue.status == IssueStatus.DRAFT
    items = list(_with_sources(issue.adoptions.order_by("position", "id")))
    unplaced: list[Adoption] = []
    if is_draft and can_compose:
        unplaced = list(
            _with_sources(publication.adoptions.filter(issue=None).order_by("-created_at", "-id"))
        )
    settings_form = forms_.get("settings_form") or IssueSettingsForm(
        initial={
            "issue_date": issue.issue_date,
            "show_toc": issue.show_toc,
            "editor_note": issue.editor_note,
            "distribution": issue.distribution,
        }
    )
    return {
        "issue": issue,
        "publication": publication,
        "items": items,
        "unplaced": unplaced,
        "can_compose": can_compose,
        "can_edit": can_compose and is_draft,
        "is_draft": is_draft,
        "revisions": list(
            IssueRevision.objects.filter(issue=issue)
            .select_related("published_by")
            .order_by("-revision")
        ),
        "settings_form": settings_form,
        "correction_form": forms_.get("correction_form") or CorrectionForm(),
    }


@require_GET
def issue_compose(request: HttpRequest, pk: int) -> HttpResponse:
    issue = access.get_issue_for(_user(request), pk)
    return render(request, "publications/issue_compose.html", _compose_context(request, issue))


def _back(issue: Issue, anchor: str = "") -> HttpResponse:
    return redirect(reverse("issue_compose", args=[issue.pk]) + anchor)


def _adoption_of(request: HttpRequest, issue: Issue, field: str = "adoption") -> Adoption:
    """An adoption of the issue's publication named in the form (404 for anything else)."""
    try:
        return Adoption.objects.select_related("publication", "issue").get(
            pk=int(request.POST.get(field, "")), publication=issue.publication
        )
    except (Adoption.DoesNotExist, ValueError) as exc:
        raise Http404("adoption") from exc


@require_POST
def issue_order(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole order from a drag (JSON answer), or one step up/down from a button (redirect)."""
    user = _user(request)
    issue = access.get_issue_for(user, pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if "move" in request.POST:
        moved = _adoption_of(request, issue, "move")
        order = list(issue.adoptions.order_by("position", "id").values_list("pk", flat=True))
        if moved.pk not in order:
            raise Http404("adoption")
        at = order.index(moved.pk)
        to = at - 1 if request.POST.get("direction") == "up" else at + 1
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    else:
        try:
            order = [int(value) for value in request.POST.getlist("order")]
        except ValueError:
            order = []
    try:
        workflow.reorder_issue(by=user, issue=issue, adoption_ids=order, ip=client_ip(request))
    except ValidationError as exc:
        if wants_json:
            return JsonResponse({"ok": False, "error": _say(exc)}, status=409)
        messages.error(request, _say(exc))
        return _back(issue, "#items")
    if wants_json:
        return JsonResponse({"ok": True, "order": order})
    return _back(issue, "#items")


@require_POST
def issue_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    issue = access.get_issue_for(user, pk)
    try:
        ids = [int(value) for value in request.POST.getlist("adoption")]
    except ValueError as exc:
        raise Http404("adoption") from exc
    adoptions = list(
        Adoption.objects.filter(pk__in=ids, publication=issue.publication).order_by(
            "created_at", "id"
        )
    )
    if not adoptions:
        messages.error(request, gettext("请勾选要编入本期的稿件。"))
        return _back(issue, "#add")
    try:
        with transaction.atomic():
            for adoption in adoptions:
                workflow.place_in_issue(
                    by=user, adoption=adoption, issue=issue, ip=client_ip(request)
                )
    except ValidationError as exc:
        messages.error(request, _say(exc))
    else:
        messages.success(request, gettext("已编入 %d 篇。") % len(adoptions))
    return _back(issue, "#items")


@require_POST
def issue_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    issue = access.get_issue_for(user, pk)
    adoption = _adoption_of(request, issue)
    if adoption.issue_id != issue.pk:
        raise Http404("adoption")
    try:
        workflow.place_in_issue(by=user, adoption=adoption, issue=None, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, _say(exc))
    else:
        messages.success(request, gettext("《%s》已移出本期，仍可编入其他期。") % adoption.title)
    return _back(issue, "#items")


@require_POST
def issue_settings(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    issue = access.get_issue_for(user, pk)
    form = IssueSettingsForm(request.POST)
    if form.is_valid():
        try:
            workflow.update_issue(by=user, issue=issue, ip=client_ip(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("本期设置已保存。"))
            return _back(issue, "#settings")
    context = _compose_context(request, issue, settings_form=form)
    return render(request, "publications/issue_compose.html", context, status=400)


@require_POST
def issue_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    issue = access.get_issue_for(user, pk)
    try:
        issue = workflow.publish_issue(by=user, issue=issue, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, _say(exc))
    else:
        messages.success(
            request,
            gettext("%(label)s已印发（第 %(n)d 版）。")
            % {"label": issue.label, "n": issue.revision},
        )
    return _back(issue)


@require_POST
def issue_correct(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    issue = access.get_issue_for(user, pk)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            workflow.start_correction(
                by=user, issue=issue, reason=form.cleaned_data["reason"], ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("已开始更正：修改后再次印发，将生成新的版本。"))
            return _back(issue)
    context = _compose_context(request, issue, correction_form=form)
    return render(request, "publications/issue_compose.html", context, status=400)


def _edit_page(
    request: HttpRequest,
    adoption: Adoption,
    form: AdoptionTextForm | None = None,
    withdraw_form: WithdrawAdoptionForm | None = None,
) -> HttpResponse:
    """The adoption's edit page: its text form and the 撤销采用 section."""
    adoption = _with_sources(Adoption.objects.select_related("publication", "issue")).get(
        pk=adoption.pk
    )
    initial = {"title": adoption.title, "is_lead": adoption.is_lead, "body": adoption.body}
    context = {
        "adoption": adoption,
        "form": form or AdoptionTextForm(initial=initial),
        "frozen": adoption.in_published_issue,
        "withdraw_form": withdraw_form or WithdrawAdoptionForm(),
        "withdraw_refused": workflow.withdrawal_refused(adoption),
    }
    status = 400 if (form or withdraw_form) is not None else 200
    return render(request, "publications/issue_item_edit.html", context, status=status)


def adoption_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the adopted title, text and lead flag; the source items keep their own text."""
    user = _user(request)
    adoption = access.get_adoption_for(user, pk, need="edit")
    if request.method != "POST":
        return _edit_page(request, adoption)
    form = AdoptionTextForm(request.POST)
    if form.is_valid():
        try:
            workflow.edit_adopted_text(
                by=user, adoption=adoption, ip=client_ip(request), **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("《%s》已保存。") % form.cleaned_data["title"])
            if adoption.issue is not None:
                return _back(adoption.issue, f"#item-{adoption.pk}")
            return redirect("publication_detail", pk=adoption.publication_id)
    return _edit_page(request, adoption, form=form)


@require_POST
def adoption_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """撤销采用 with a reason; the page shows the refusal if the adoption cannot be withdrawn."""
    user = _user(request)
    adoption = access.get_adoption_for(user, pk, need="edit")
    form = WithdrawAdoptionForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            workflow.withdraw_adoption(
                by=user, adoption=adoption, reason=reason, ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            done = gettext("已撤销对《%s》的采用，计分已相应冲减。") % adoption.title
            messages.success(request, done)
            return redirect("publication_detail", pk=adoption.publication_id)
    return _edit_page(request, adoption, withdraw_form=form)


# Preview in the official look --------------------------------------------------------------------


@require_GET
def issue_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The issue as it will be printed; ?revision=N shows a published revision's frozen copy."""
    issue = access.get_issue_for(_user(request), pk)
    wanted = request.GET.get("revision", "")
    revision: IssueRevision | None = None
    if wanted.isdigit():
        revision = IssueRevision.objects.filter(issue=issue, revision=int(wanted)).first()
        if revision is None:
            raise Http404("revision")
    snapshot = revision.snapshot if revision else workflow.issue_snapshot(issue)
    issue_date = dt.date.fromisoformat(snapshot["issue_date"])
    items = snapshot["items"]
    for number, item in enumerate(items, start=1):
        item["number"] = number
    context = {
        "issue": issue,
        "publication": issue.publication,
        "revision": revision,
        "snapshot": snapshot,
        "items": items,
        "issue_date": gettext("%(y)d年%(m)d月%(d)d日")
        % {"y": issue_date.year, "m": issue_date.month, "d": issue_date.day},
        "masthead": issue.publication.masthead or issue.publication.unit.name,
        "distribution_lines": [
            line.strip() for line in snapshot["distribution"].splitlines() if line.strip()
        ],
    }
    return render(request, "publications/issue_preview.html", context)


urlpatterns: list[URLPattern] = [
    path("publications/", publication_list, name="publication_list"),
    path("publications/<int:pk>/", publication_detail, name="publication_detail"),
    path("publications/<int:pk>/edit/", publication_edit, name="publication_edit"),
    path("publications/<int:pk>/issues/new/", issue_create, name="issue_create"),
    path("issues/<int:pk>/", issue_compose, name="issue_compose"),
    path("issues/<int:pk>/order/", issue_order, name="issue_order"),
    path("issues/<int:pk>/add/", issue_add, name="issue_add"),
    path("issues/<int:pk>/remove/", issue_remove, name="issue_remove"),
    path("issues/<int:pk>/settings/", issue_settings, name="issue_settings"),
    path("issues/<int:pk>/publish/", issue_publish, name="issue_publish"),
    path("issues/<int:pk>/correct/", issue_correct, name="issue_correct"),
    path("issues/<int:pk>/preview/", issue_preview, name="issue_preview"),
    path("adoptions/<int:pk>/edit/", adoption_edit, name="adoption_edit"),
    path("adoptions/<int:pk>/withdraw/", adoption_withdraw, name="adoption_withdraw"),
]
