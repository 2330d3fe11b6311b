"""Items: writing, lists, review actions, incoming list and review-stage settings (thin views)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from baosong.lib.http import client_ip
from baosong.orgs import access as org_access
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import Membership, Unit, User
from baosong.submissions import access, selectors, workflow
from baosong.submissions.forms import DecisionForm, EditForm, ItemFilterForm, ItemForm, StagesForm
from baosong.submissions.models import (
    EventAction,
    ItemType,
    StageConfig,
    Status,
    Submission,
)
from baosong.submissions.views_attachments import attachment_context

PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _page(request: HttpRequest, items: QuerySet[Submission]) -> tuple[Any, str]:
    page = Paginator(selectors.for_list(items), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


# Lists -------------------------------------------------------------------------------------------


@require_GET
def my_items(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tab = request.GET.get("tab", "draft")
    if tab not in dict(selectors.MY_TABS):
        tab = "draft"
    mine = selectors.my_items(user)
    form = ItemFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    items = mine if tab == "all" else mine.filter(status=tab)
    page, query = _page(request, selectors.apply_filters(items, filters))
    counts = {
        row["status"]: row["n"] for row in mine.order_by().values("status").annotate(n=Count("id"))
    }
    counts["all"] = sum(counts.values())
    context = {
        "tab": tab,
        "tabs": [(key, label, counts.get(key, 0)) for key, label in selectors.MY_TABS],
        "form": form,
        "page": page,
        "query": query,
        "can_write": bool(access.can_write_for(user)),
    }
    template = "submissions/my_items.html#rows" if request.htmx else "submissions/my_items.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ItemFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters.setdefault("sort", "updated_at")
    page, query = _page(request, selectors.apply_filters(selectors.review_queue(user), filters))
    context = {
        "form": form,
        "page": page,
        "query": query,
        "title": gettext("待我审核"),
    }
    template = "submissions/queue.html#rows" if request.htmx else "submissions/queue.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def incoming(request: HttpRequest) -> HttpResponse:
    """The editors' inbox moved to the publications app (/inbox/); old links land there."""
    return redirect("inbox")


# Writing -----------------------------------------------------------------------------------------


def _writer_unit(request: HttpRequest, user: User) -> Unit:
    units = access.can_write_for(user)
    if not units:
        raise PermissionDenied(gettext("您不是任何单位的信息员或通讯员。"))
    wanted = request.GET.get("unit") or request.POST.get("unit")
    if wanted and wanted.isdigit() and int(wanted) in units:
        return Unit.objects.get(pk=int(wanted))
    return Unit.objects.get(pk=units[0])


def item_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    unit = _writer_unit(request, user)
    form = ItemForm(
        request.POST or None,
        unit=unit,
        writer=user,
        initial={"addressed": [unit.parent_id] if unit.parent_id else []},
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = workflow.create_draft(
                by=user, unit=unit, data=form.to_input(), ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("草稿已保存，之后的修改会自动保存。"))
            return redirect("items_edit", pk=item.pk)
    units = Unit.objects.filter(pk__in=access.can_write_for(user)).order_by("path")
    return render(
        request,
        "submissions/item_edit.html",
        {"form": form, "item": None, "unit": unit, "units": units},
    )


def _form_initial(item: Submission) -> dict[str, Any]:
    authors = list(item.authors.select_related("user"))
    initial: dict[str, Any] = {
        "item_type": item.item_type,
        "kind": item.kind,
        "title": item.title,
        "body": item.body,
        "event_date": item.event_date,
        "keywords": item.keywords,
        "addressed": [a.unit_id for a in item.addressees.all()],
        "own_share": authors[0].share if authors else 100,
        "base_version": item.version_number,
    }
    for i, author in enumerate(authors[1:], start=1):
        initial[f"coauthor_{i}"] = author.user_id
        initial[f"share_{i}"] = author.share
    return initial


def item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = access.get_submission_for(user, pk, need="edit")
    writer = item.authors.select_related("user").first()
    form = EditForm(
        request.POST or None,
        unit=item.unit,
        writer=writer.user if writer else user,
        initial=_form_initial(item),
    )
    is_author = access.is_author(user, item)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        try:
            result = workflow.save_content(
                by=user,
                item=item,
                base_version=form.cleaned_data["base_version"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                ip=ip,
            )
            if is_author and not result.conflict:
                workflow.update_details(by=user, item=item, data=form.to_input(), ip=ip)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if result.conflict:
                assert result.version is not None
                messages.error(
                    request,
                    gettext(
                        "保存冲突：他人已在您打开之后保存了新版本。您的文本已另存为第 %(number)s 版，请在“版本”中比较后合并。"
                    )
                    % {"number": result.version.number},
                )
            else:
                messages.success(request, gettext("已保存。"))
            if request.POST.get("then") == "submit" and not result.conflict:
                return _submit_after_save(request, user, item)
            return redirect("items_edit", pk=item.pk)
    context = {
        **attachment_context(user, item),
        "form": form,
        "unit": item.unit,
        "is_author": is_author,
    }
    return render(request, "submissions/item_edit.html", context)


def _submit_after_save(request: HttpRequest, user: User, item: Submission | int) -> HttpResponse:
    pk = item if isinstance(item, int) else item.pk
    try:
        workflow.submit_for_review(by=user, item=item, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("items_edit", pk=pk)
    messages.success(request, gettext("已提交审核。"))
    return redirect("items_detail", pk=pk)


@require_POST
def item_autosave(request: HttpRequest, pk: int) -> JsonResponse:
    """Autosave from the editor: JSON in, JSON out; never raises for a conflict."""
    user = _user(request)
    item = access.get_submission_for(user, pk, need="edit")
    try:
        base = int(request.POST.get("base_version", ""))
    except ValueError:
        return JsonResponse({"ok": False, "error": gettext("缺少版本号。")}, status=400)
    try:
        result = workflow.save_content(
            by=user,
            item=item,
            base_version=base,
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
            autosave=True,
            ip=client_ip(request),
        )
    except ValidationError as exc:
        return JsonResponse({"ok": False, "error": " ".join(exc.messages)}, status=422)
    saved_at = timezone.localtime().strftime("%H:%M:%S")
    if result.conflict:
        assert result.version is not None
        return JsonResponse(
            {
                "ok": False,
                "conflict": True,
                "version": result.item.version_number,
                "kept_as": result.version.number,
                "error": gettext("他人已保存了新版本，您的文本已另存为第 %(number)s 版。")
                % {"number": result.version.number},
            },
            status=409,
        )
    return JsonResponse(
        {
            "ok": True,
            "version": result.item.version_number,
            "changed": result.version is not None,
            "saved_at": saved_at,
        }
    )


# Detail and decisions ----------------------------------------------------------------------------


@require_GET
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    item = access.get_submission_for(user, pk)
    is_author = access.is_author(user, item)
    if item.status == Status.SUBMITTED and not is_author:
        workflow.mark_opened(by=user, item=item, ip=client_ip(request))
    context = {
        **attachment_context(user, item),
        "authors": item.authors.select_related("user"),
        "addressees": item.addressees.select_related("unit", "opened_by"),
        "events": item.events.select_related("by", "unit"),
        "is_author": is_author,
        "can_edit": access.edit_role(user, item) is not None,
        "can_decide": access.acts_on_current_stage(user, item) is not None,
        "can_submit": is_author and item.status in (Status.DRAFT, Status.RETURNED),
        "can_withdraw": is_author
        and item.status in (Status.IN_REVIEW, Status.SUBMITTED)
        and not item.addressees.filter(opened_at__isnull=False).exists(),
        "decision_form": DecisionForm(),
    }
    return render(request, "submissions/item_detail.html", context)


# The decisions, submit and withdraw hand the key to the workflow, whose locked read of the item
# is also the access check (404 when not visible): one read of the row per request, not two.


def _decide(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    user = _user(request)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        access.get_submission_for(user, pk)  # 404 for what the user may not see, form or not
        messages.error(request, gettext("意见不超过 2000 字。"))
        return redirect("items_detail", pk=pk)
    comment, anchor, ip = (
        form.cleaned_data["comment"],
        form.cleaned_data["anchor"],
        client_ip(request),
    )
    try:
        if verb == EventAction.APPROVE:
            item = workflow.approve(by=user, item=pk, comment=comment, ip=ip)
            done = (
                gettext("已报送上级单位。")
                if item.status == Status.SUBMITTED
                else gettext("已通过，转入下一审核环节。")
            )
        elif verb == EventAction.RETURN:
            workflow.return_to_authors(by=user, item=pk, comment=comment, anchor=anchor, ip=ip)
            done = gettext("已退回作者修改。")
        else:
            workflow.reject(by=user, item=pk, reason=comment, ip=ip)
            done = gettext("已作不予通过处理。")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("items_detail", pk=pk)
    messages.success(request, done)
    return redirect("review_queue")


@require_POST
def item_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, EventAction.APPROVE)


@require_POST
def item_return(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, EventAction.RETURN)


@require_POST
def item_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, EventAction.REJECT)


@require_POST
def item_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _submit_after_save(request, _user(request), pk)


@require_POST
def item_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        workflow.withdraw(by=user, item=pk, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, gettext("已撤回为草稿。"))
    return redirect("items_detail", pk=pk)


# Review stages -----------------------------------------------------------------------------------


def review_stages(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    unit = org_access.get_unit_for(user, pk, need="manage")
    item_type = (
        request.GET.get("type", "") if request.method == "GET" else request.POST.get("type", "")
    )
    if item_type not in ("", *ItemType.values):
        item_type = ""
    members = User.objects.filter(
        pk__in=Membership.objects.current().filter(unit=unit).values("user_id"), is_active=True
    ).order_by("real_name")
    current = list(
        StageConfig.objects.filter(unit=unit, item_type=item_type).prefetch_related("people")
    )
    initial: dict[str, Any] = {}
    for i, stage in enumerate(current, start=1):
        initial.update(
            {
                f"name_{i}": stage.name,
                f"role_{i}": stage.role,
                f"people_{i}": [p.pk for p in stage.people.all()],
                f"can_edit_{i}": stage.can_edit,
            }
        )
    form = StagesForm(request.POST or None, members=members, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.set_stages(
                by=user,
                unit=unit,
                item_type=item_type,
                stages=form.to_input(),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("审核流程已保存，新提交审核的稿件按新流程办理。"))
            return redirect(f"{request.path}?type={item_type}")
    context = {
        "unit": unit,
        "form": form,
        "item_type": item_type,
        "types": [("", gettext("全部类型（默认）")), *ItemType.choices],
        "effective": workflow.stage_plan_for(unit, item_type or ItemType.INFO),
        "configured": bool(current),
    }
    return render(request, "submissions/review_stages.html", context)
