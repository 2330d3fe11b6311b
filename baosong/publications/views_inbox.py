"""The editors' inbox (收件箱) and the decisions on one receipt: claim, adopt (also 综合 from
several items), keep for reference, return, forward; instructions (批示) on adoptions.
Thin views: access → form → workflow → redirect, or the page again with the errors."""

import html
from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from baosong.lib.http import client_ip, is_htmx
from baosong.lib.widgets import FastSelect
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import Level, Unit, User
from baosong.publications import access, selectors, workflow
from baosong.publications.models import (
    CHANNEL_KINDS,
    AdoptionForm,
    Instruction,
    Issue,
    IssueStatus,
    LeaderLevel,
    Publication,
)
from baosong.publications.workflow import InstructionInput, SourceInput
from baosong.submissions import uploads
from baosong.submissions import workflow as items_workflow
from baosong.submissions.models import Addressee, Attachment, Handling, ItemType, Kind

PAGE_SIZE = 20
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# Forms ------------------------------------------------------------------------------------------


class OriginChoices(ModelChoiceIterator):  # type: ignore[type-arg]
    """The units as (pk, indented name) read as plain values: a province editor's select lists
    about two thousand units, and building a model instance for each took most of the page's
    time (bench/inbox.py)."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        queryset = self.queryset.values_list("pk", "short_name", "depth")
        for pk, name, depth in queryset:
            yield (pk, f"{'　' * depth}{name}")


class OriginSelect(FastSelect):
    """FastSelect with the options joined as escaped strings, without format_html per option."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        chosen = "" if value is None else str(value)
        options = "".join(
            f'<option value="{html.escape(str(key))}"{" selected" if str(key) == chosen else ""}>'
            f"{html.escape(str(label))}</option>"
            for key, label in self.choices
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(final), SafeString(options)
        )


class OriginChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    widget = OriginSelect
    iterator = OriginChoices


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("标题关键字"), required=False, max_length=100)
    item_type = forms.ChoiceField(
        label=gettext_lazy("类型"),
        choices=[("", gettext_lazy("全部类型")), *ItemType.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("类别"),
        choices=[("", gettext_lazy("全部类别")), *Kind.choices],
        required=False,
    )
    origin = OriginChoiceField(
        label=gettext_lazy("报送单位（含下级）"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部单位"),
    )
    start = forms.DateField(label=gettext_lazy("收到日期自"), required=False, widget=DATE)
    end = forms.DateField(label=gettext_lazy("至"), required=False, widget=DATE)
    sort = forms.ChoiceField(
        label=gettext_lazy("排序"),
        required=False,
        choices=[
            ("-received", gettext_lazy("最近收到")),
            ("received", gettext_lazy("最早收到")),
            ("origin", gettext_lazy("报送单位")),
            ("title", gettext_lazy("标题")),
        ],
    )

    def __init__(self, *args: Any, origins: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["origin"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = origins


class IssueChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Issue) -> str:
        return gettext("%(year)s年第%(number)s期（总第%(total)s期，%(date)s）") % {
            "year": obj.year,
            "number": obj.number,
            "total": obj.total_number,
            "date": obj.issue_date.strftime("%m-%d"),
        }


class PublicationChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Publication) -> str:
        return f"《{obj.name}》（{obj.get_kind_display()}）"


class AdoptForm(forms.Form):
    """Where and how to adopt; the issue or the channel fields follow the chosen publication."""

    publication = PublicationChoiceField(
        label=gettext_lazy("刊物"), queryset=Publication.objects.none()
    )
    issue = IssueChoiceField(
        label=gettext_lazy("编入期次"),
        queryset=Issue.objects.none(),
        required=False,
        empty_label=gettext_lazy("暂不编入"),
    )
    published_url = forms.URLField(
        label=gettext_lazy("发布网址"), required=False, max_length=200, assume_scheme="https"
    )
    published_on = forms.DateField(label=gettext_lazy("发布日期"), required=False, widget=DATE)
    form = forms.ChoiceField(
        label=gettext_lazy("采用形式"),
        choices=[(c, AdoptionForm(c).label) for c in ("whole", "excerpt", "one_line")],
        widget=forms.RadioSelect,
        initial=AdoptionForm.WHOLE,
    )
    is_lead = forms.BooleanField(label=gettext_lazy("头条"), required=False)
    title = forms.CharField(
        label=gettext_lazy("标题"), max_length=200, widget=forms.TextInput(attrs={"class": "wide"})
    )
    body = forms.CharField(
        label=gettext_lazy("采用稿正文"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "data-rich": "1"}),
        help_text=gettext_lazy("全文采用保留原文；摘编、一句话采用请在此改写。"),
    )

    def __init__(
        self, *args: Any, publications: QuerySet[Publication], chosen: Publication | None, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        field = self.fields["publication"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = publications
        self.chosen = chosen
        if chosen is None or chosen.kind in CHANNEL_KINDS:
            del self.fields["issue"]
        else:
            issue = self.fields["issue"]
            assert isinstance(issue, forms.ModelChoiceField)
            issue.queryset = Issue.objects.filter(
                publication=chosen, status=IssueStatus.DRAFT
            ).order_by("-year", "-number")
        if chosen is not None and chosen.kind not in CHANNEL_KINDS:
            del self.fields["published_url"], self.fields["published_on"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("form") in (AdoptionForm.EXCERPT, AdoptionForm.ONE_LINE)
            and not (data.get("body") or "").strip()
        ):
            self.add_error("body", gettext("摘编和一句话采用须填写采用稿正文。"))
        return data

    def adopt_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        whole = data["form"] == AdoptionForm.WHOLE
        return {
            "publication": data["publication"],
            "issue": data.get("issue"),
            "published_url": data.get("published_url") or "",
            "published_on": data.get("published_on"),
            "form": data["form"],
            "is_lead": data["is_lead"],
            "title": data["title"],
            # Whole adoption keeps the item's own text; the workflow copies it.
            "body": "" if whole else data["body"],
        }


class CombinedForm(AdoptForm):
    """综合: one piece from several items, each credited with a share and one lead source."""

    def __init__(self, *args: Any, sources: list[Addressee], **kw: Any) -> None:
        super().__init__(*args, **kw)
        del self.fields["form"]
        self.fields["body"].required = True
        self.fields["body"].help_text = gettext("综合稿正文。")
        self.sources = sources
        equal, rest = divmod(100, len(sources))
        for i, receipt in enumerate(sources):
            self.fields[f"share_{receipt.submission_id}"] = forms.IntegerField(
                label=gettext("《%(title)s》（%(unit)s）份额")
                % {"title": receipt.submission.title, "unit": receipt.submission.unit.short_name},
                min_value=1,
                max_value=100,
                initial=equal + (rest if i == 0 else 0),
            )
        self.fields["lead_source"] = forms.ChoiceField(
            label=gettext("主报单位"),
            widget=forms.RadioSelect,
            choices=[
                (str(r.submission_id), f"{r.submission.unit.short_name}《{r.submission.title}》")
                for r in sources
            ],
            initial=str(sources[0].submission_id),
        )

    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self) or {}
        shares = [data.get(f"share_{r.submission_id}") for r in self.sources]
        if all(isinstance(s, int) for s in shares) and sum(s or 0 for s in shares) != 100:
            self.add_error(
                None,
                gettext("各来源份额之和应为 100，现为 %(total)s。")
                % {"total": sum(s or 0 for s in shares)},
            )
        return data

    def share_rows(self) -> list[tuple[Addressee, forms.BoundField]]:
        return [(r, self[f"share_{r.submission_id}"]) for r in self.sources]

    def source_inputs(self) -> list[SourceInput]:
        lead = self.cleaned_data["lead_source"]
        return [
            SourceInput(
                item=r.submission,
                share=self.cleaned_data[f"share_{r.submission_id}"],
                is_lead_source=str(r.submission_id) == lead,
            )
            for r in self.sources
        ]

    def adopt_kwargs(self) -> dict[str, Any]:
        self.cleaned_data["form"] = AdoptionForm.COMBINED
        kwargs = super().adopt_kwargs()
        kwargs["body"] = self.cleaned_data["body"]
        return kwargs


class ReferenceForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("说明（可选）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("退回意见"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("退回须写明意见。")},
    )


class UnitChoices(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class ForwardForm(forms.Form):
    targets = UnitChoices(
        label=gettext_lazy("转报至"),
        queryset=Unit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("请选择转报的上级单位。")},
    )
    comment = forms.CharField(
        label=gettext_lazy("转报说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["targets"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = (
            Unit.objects.filter(pk__in=unit.ancestor_ids(), is_active=True)
            .exclude(level=Level.INTERNAL)
            .order_by("-depth")
        )
        if unit.parent_id:
            field.initial = [unit.parent_id]


class InstructionForm(forms.Form):
    leader_name = forms.CharField(label=gettext_lazy("领导姓名"), max_length=40)
    leader_position = forms.CharField(label=gettext_lazy("职务"), max_length=80)
    level = forms.ChoiceField(label=gettext_lazy("批示级别"), choices=LeaderLevel.choices)
    is_principal = forms.BooleanField(label=gettext_lazy("主要领导"), required=False)
    text = forms.CharField(label=gettext_lazy("批示内容"), widget=forms.Textarea(attrs={"rows": 4}))
    instructed_on = forms.DateField(label=gettext_lazy("批示日期"), widget=DATE)
    scan = forms.FileField(
        label=gettext_lazy("批示扫描件（可选）"),
        required=False,
        help_text=gettext_lazy("图片（JPG、PNG）或 PDF。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.gif,.webp,.pdf"}),
    )

    def to_input(self) -> InstructionInput:
        data = self.cleaned_data
        return InstructionInput(
            leader_name=data["leader_name"],
            leader_position=data["leader_position"],
            level=data["level"],
            text=data["text"],
            instructed_on=data["instructed_on"],
            is_principal=data["is_principal"],
        )


# Inbox ------------------------------------------------------------------------------------------


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tab = request.GET.get("tab", Handling.PENDING)
    if tab not in dict(selectors.INBOX_TABS):
        tab = Handling.PENDING
    form = InboxFilterForm(request.GET or None, origins=selectors.inbox_origin_units(user))
    filters = form.cleaned_data if form.is_valid() else {}
    counts = selectors.inbox_counts(user, filters)
    rows = selectors.inbox_rows(user, filters, tab, filters.get("sort") or "-received")
    page, total = _capped_page(rows, counts[tab], request.GET.get("page"))
    page.object_list = selectors.with_units(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("tab", None)
    context = {
        "tab": tab,
        "tabs": [(key, label, counts[key]) for key, label in selectors.INBOX_TABS],
        "form": form,
        "page": page,
        "total": total,
        "pages": f"{page.paginator.num_pages}+" if total.more else page.paginator.num_pages,
        "query": query.urlencode(),
        "can_combine": tab in (Handling.PENDING, Handling.REFERENCE, Handling.ADOPTED, "all"),
        "multiple_units": len(access.editor_unit_ids(user)) > 1,
    }
    template = "publications/inbox.html#rows" if is_htmx(request) else "publications/inbox.html"
    return render(request, template, context)


def _capped_page(
    rows: QuerySet[Addressee], total: selectors.Tally | None, wanted: str | None
) -> tuple[Page[Addressee], selectors.Tally]:
    """A page of a list whose count stops at a cap (beyond it, counted as far as the page asked
    for and one row more, to know whether a next page exists), or is not counted at all (None:
    the page is read with one row more, and the total is what has been seen)."""
    number = int(wanted) if wanted and wanted.isdigit() and 0 < int(wanted) < 100_000 else 1
    paginator = Paginator(rows, PAGE_SIZE)
    if total is None:
        start = (number - 1) * PAGE_SIZE
        seen = list(rows[start : start + PAGE_SIZE + 1])
        if not seen and number > 1:
            return _capped_page(rows, None, None)
        more = len(seen) > PAGE_SIZE
        total = selectors.Tally(start + min(len(seen), PAGE_SIZE), more=more)
        paginator.count = total.n + 1 if more else total.n
        return Page(seen[:PAGE_SIZE], number, paginator), total
    if total.more and number * PAGE_SIZE >= total.n:
        total = selectors.capped_count(rows, number * PAGE_SIZE)
    paginator.count = total.n + 1 if total.more else total.n
    return paginator.get_page(number), total


# Deciding on one receipt --------------------------------------------------------------------------


def _publications(unit: Unit) -> QuerySet[Publication]:
    return Publication.objects.filter(unit=unit, is_active=True).order_by("name")


def _chosen(publications: QuerySet[Publication], wanted: str | None) -> Publication | None:
    listed = list(publications)
    for publication in listed:
        if wanted and str(publication.pk) == wanted:
            return publication
    return listed[0] if listed else None


def _wanted(request: HttpRequest) -> str | None:
    """The publication picked in the select (htmx) or by the no-script 更换 button."""
    return request.GET.get("adopt-publication") or request.GET.get("publication")


def _adopt_form(receipt: Addressee, data: Any = None, wanted: str | None = None) -> AdoptForm:
    publications = _publications(receipt.unit)
    chosen = _chosen(publications, (data or {}).get("adopt-publication") or wanted)
    item = receipt.submission
    return AdoptForm(
        data,
        publications=publications,
        chosen=chosen,
        initial={"publication": chosen, "title": item.title, "body": item.body},
        prefix="adopt",
    )


def _decision_page(
    request: HttpRequest, user: User, receipt: Addressee, status: int = 200, **bound: Any
) -> HttpResponse:
    item = receipt.submission
    claimed_by_other = bool(receipt.claimed_by_id and receipt.claimed_by_id != user.pk)
    open_states = (Handling.PENDING, Handling.REFERENCE, Handling.ADOPTED)
    adoptions = selectors.adoptions_by_unit(item, receipt.unit)
    context = {
        "receipt": receipt,
        "item": item,
        "authors": item.authors.select_related("user"),
        "attachments": Attachment.objects.filter(
            submission=item, removed_at__isnull=True
        ).select_related("uploaded_by"),
        "can_attach": False,
        "adoptions": adoptions,
        "scan_adoptions": {a.pk for a in adoptions},
        "claimed_by_other": claimed_by_other,
        # With the forms hidden (claimed by a colleague) their refusals show at the top.
        "refusals": [e for f in bound.values() for e in f.non_field_errors()],
        "can_decide": not claimed_by_other,
        "can_adopt": receipt.state in open_states,
        "can_settle": receipt.state == Handling.PENDING,
        "can_forward": receipt.state in open_states,
        "adopt_form": bound.get("adopt_form") or _adopt_form(receipt, wanted=_wanted(request)),
        "reference_form": bound.get("reference_form") or ReferenceForm(prefix="reference"),
        "return_form": bound.get("return_form") or ReturnForm(prefix="return"),
        "forward_form": bound.get("forward_form")
        or ForwardForm(unit=receipt.unit, prefix="forward"),
    }
    return render(request, "publications/inbox_item.html", context, status=status)


@require_GET
def inbox_item(request: HttpRequest, item_pk: int) -> HttpResponse:
    user = _user(request)
    receipt = access.get_receipt_for(user, item_pk)
    if is_htmx(request) and _wanted(request):
        # The publication select swaps in the fields that depend on it (issue, or URL and date).
        form = _adopt_form(receipt, wanted=_wanted(request))
        context = {"adopt_form": form, "receipt": receipt, "item": receipt.submission}
        return render(request, "publications/inbox_item.html#adopt_fields", context)
    if items_workflow.mark_opened(by=user, item=receipt.submission, ip=client_ip(request)):
        receipt = access.get_receipt_for(user, item_pk)
    return _decision_page(request, user, receipt)


def _claim_action(request: HttpRequest, item_pk: int, verb: str) -> HttpResponse:
    user = _user(request)
    receipt = access.get_receipt_for(user, item_pk)
    try:
        if verb == "claim":
            workflow.claim(by=user, item=receipt.submission, ip=client_ip(request))
            messages.success(request, gettext("已认领，其他编辑会看到您正在处理。"))
        else:
            workflow.release(by=user, item=receipt.submission, ip=client_ip(request))
            messages.success(request, gettext("已放弃认领。"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("inbox_item", item_pk=item_pk)


@require_POST
def inbox_claim(request: HttpRequest, item_pk: int) -> HttpResponse:
    return _claim_action(request, item_pk, "claim")


@require_POST
def inbox_release(request: HttpRequest, item_pk: int) -> HttpResponse:
    return _claim_action(request, item_pk, "release")


@require_POST
def inbox_adopt(request: HttpRequest, item_pk: int) -> HttpResponse:
    user = _user(request)
    receipt = access.get_receipt_for(user, item_pk)
    form = _adopt_form(receipt, request.POST)
    if form.is_valid():
        try:
            adoption = workflow.adopt(
                by=user,
                sources=[SourceInput(receipt.submission)],
                ip=client_ip(request),
                **form.adopt_kwargs(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("已采用到%(place)s（%(form)s）。")
                % {"place": selectors.where_placed(adoption), "form": adoption.get_form_display()},
            )
            return redirect("inbox_item", item_pk=item_pk)
    return _decision_page(request, user, receipt, status=422, adopt_form=form)


def _commented_decision(
    request: HttpRequest,
    item_pk: int,
    form_class: type[forms.Form],
    prefix: str,
    act: Callable[..., object],
    done: str,
) -> HttpResponse:
    """仅供参考 and 退回: one comment form, one workflow call, back to the inbox."""
    user = _user(request)
    receipt = access.get_receipt_for(user, item_pk)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            act(
                by=user,
                item=receipt.submission,
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done % {"title": receipt.submission.title})
            return redirect("inbox")
    return _decision_page(request, user, receipt, status=422, **{f"{prefix}_form": form})


@require_POST
def inbox_reference(request: HttpRequest, item_pk: int) -> HttpResponse:
    return _commented_decision(
        request,
        item_pk,
        ReferenceForm,
        "reference",
        workflow.keep_for_reference,
        gettext("《%(title)s》已作仅供参考处理。"),
    )


@require_POST
def inbox_return(request: HttpRequest, item_pk: int) -> HttpResponse:
    return _commented_decision(
        request,
        item_pk,
        ReturnForm,
        "return",
        workflow.return_to_origin,
        gettext("《%(title)s》已退回报送单位。"),
    )


@require_POST
def inbox_forward(request: HttpRequest, item_pk: int) -> HttpResponse:
    user = _user(request)
    receipt = access.get_receipt_for(user, item_pk)
    form = ForwardForm(request.POST, unit=receipt.unit, prefix="forward")
    if form.is_valid():
        targets = list(form.cleaned_data["targets"])
        try:
            workflow.forward(
                by=user,
                item=receipt.submission,
                targets=targets,
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            names = "、".join(t.short_name for t in targets)
            messages.success(
                request,
                gettext("《%(title)s》已转报%(names)s。")
                % {"title": receipt.submission.title, "names": names},
            )
            return redirect("inbox")
    return _decision_page(request, user, receipt, status=422, forward_form=form)


# Combined adoption --------------------------------------------------------------------------------


def _combined_receipts(user: User, raw: list[str]) -> list[Addressee]:
    pks = list(dict.fromkeys(int(v) for v in raw if v.isdigit()))
    return [access.get_receipt_for(user, pk) for pk in pks]


def inbox_combine(request: HttpRequest) -> HttpResponse:
    """综合采用: the items ticked in the inbox, each credited with its share."""
    user = _user(request)
    source = request.POST if request.method == "POST" else request.GET
    receipts = _combined_receipts(user, source.getlist("items"))
    if len(receipts) < 2:
        messages.error(request, gettext("综合采用须在收件箱中勾选至少两篇稿件。"))
        return redirect("inbox")
    unit = receipts[0].unit
    if any(r.unit_id != unit.pk for r in receipts):
        messages.error(request, gettext("所选稿件不是报送到同一单位的，不能综合采用。"))
        return redirect("inbox")
    publications = _publications(unit)
    chosen = _chosen(publications, request.POST.get("adopt-publication") or _wanted(request))
    initial = {
        "publication": chosen,
        "body": "".join(r.submission.body for r in receipts),
    }
    data = request.POST if request.method == "POST" else None
    form = CombinedForm(
        data,
        sources=receipts,
        publications=publications,
        chosen=chosen,
        initial=initial,
        prefix="adopt",
    )
    if data is not None and form.is_valid():
        try:
            adoption = workflow.adopt(
                by=user, sources=form.source_inputs(), ip=client_ip(request), **form.adopt_kwargs()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                gettext("已综合采用 %(count)s 篇稿件到%(place)s。")
                % {"count": len(receipts), "place": selectors.where_placed(adoption)},
            )
            return redirect("inbox")
    context = {
        "form": form,
        "receipts": receipts,
        "unit": unit,
    }
    if is_htmx(request) and request.method == "GET":
        return render(request, "publications/decide_combined.html#adopt_fields", context)
    status = 422 if data is not None else 200
    return render(request, "publications/decide_combined.html", context, status=status)


# Instructions -------------------------------------------------------------------------------------


def instruction_new(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    adoption = access.get_adoption_for(user, pk, need="edit")
    form = InstructionForm(
        request.POST or None, request.FILES or None, initial={"instructed_on": timezone.localdate()}
    )
    source = adoption.sources.select_related("submission").order_by("id").first()
    if request.method == "POST" and form.is_valid():
        try:
            workflow.add_instruction(
                by=user,
                adoption=adoption,
                data=form.to_input(),
                scan=form.cleaned_data.get("scan"),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("批示已登记，报送单位和作者会收到通知。"))
            if source is not None and _still_received(user, source.submission_id):
                return redirect("inbox_item", item_pk=source.submission_id)
            return redirect("inbox")
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "adoption": adoption, "source": source}
    return render(request, "publications/decide_instruction.html", context, status=status)


def _still_received(user: User, item_pk: int) -> bool:
    try:
        access.get_receipt_for(user, item_pk)
    except Http404:
        return False
    return True


@require_GET
def instruction_scan(request: HttpRequest, pk: int) -> FileResponse:
    """The scan of an instruction, for whoever may view the adoption; always a download."""
    user = _user(request)
    instruction = Instruction.objects.filter(pk=pk).only("adoption_id").first()
    if instruction is None:
        raise Http404("instruction")
    access.get_adoption_for(user, instruction.adoption_id)
    instruction = Instruction.objects.get(pk=pk)
    if not instruction.scan_storage:
        raise Http404("scan")
    try:
        handle = uploads.path_for(instruction.scan_storage).open("rb")
    except (OSError, ValueError) as exc:
        raise Http404("scan file") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=instruction.scan_name or gettext("批示扫描件"),
        content_type=instruction.scan_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns: list[URLPattern] = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/combine/", inbox_combine, name="inbox_combine"),
    path("inbox/<int:item_pk>/", inbox_item, name="inbox_item"),
    path("inbox/<int:item_pk>/claim/", inbox_claim, name="inbox_claim"),
    path("inbox/<int:item_pk>/release/", inbox_release, name="inbox_release"),
    path("inbox/<int:item_pk>/adopt/", inbox_adopt, name="inbox_adopt"),
    path("inbox/<int:item_pk>/reference/", inbox_reference, name="inbox_reference"),
    path("inbox/<int:item_pk>/return/", inbox_return, name="inbox_return"),
    path("inbox/<int:item_pk>/forward/", inbox_forward, name="inbox_forward"),
    path("adoptions/<int:pk>/instructions/new/", instruction_new, name="instruction_new"),
    path("instructions/<int:pk>/scan/", instruction_scan, name="instruction_scan"),
]
