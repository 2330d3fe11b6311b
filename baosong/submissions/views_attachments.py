"""Attachments of an item (upload, download, remove) and the upload limits page: thin views over
access.py, uploads.py and workflow.py."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from baosong.lib.http import client_ip, is_htmx
from baosong.orgs.forms import apply_errors
from baosong.orgs.models import User
from baosong.submissions import access, uploads, workflow
from baosong.submissions.models import Attachment, AttachmentCategory, Submission

PARTIAL = "submissions/_attachments.html"
# Multipart framing and the CSRF field on top of the file itself.
REQUEST_OVERHEAD = 64 * 1024


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def attachment_context(user: User, item: Submission, error: str = "") -> dict[str, Any]:
    """What the _attachments partial needs; the editor and detail pages may use it as is."""
    current = uploads.limits()
    return {
        "item": item,
        "attachments": Attachment.objects.filter(
            submission=item, removed_at__isnull=True
        ).select_related("uploaded_by"),
        "can_attach": access.edit_role(user, item) is not None,
        "upload_error": error,
        "upload_accept": uploads.ACCEPT,
        "upload_limits": [
            (AttachmentCategory(c).label, uploads.CATEGORY_TYPES[c], uploads.human_size(current[c]))
            for c in AttachmentCategory.values
        ],
    }


def inline_url(attachment: Attachment) -> str:
    """The address an image inserted into the rich text points to."""
    url = reverse("items_attachment", args=[attachment.submission_id, attachment.pk])
    return f"{url}?inline=1"


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json"


def _done(
    request: HttpRequest,
    user: User,
    item: Submission,
    *,
    ok: str = "",
    error: str = "",
    status: int = 200,
    attachment: Attachment | None = None,
) -> HttpResponse:
    """JSON for the editor's image button, the partial for htmx, otherwise back to the editor."""
    if _wants_json(request):
        if error:
            return JsonResponse({"ok": False, "error": error}, status=status)
        assert attachment is not None
        return JsonResponse(
            {
                "ok": True,
                "id": attachment.pk,
                "name": attachment.original_name,
                "category": attachment.category,
                "url": inline_url(attachment)
                if attachment.category == AttachmentCategory.IMAGE
                else reverse("items_attachment", args=[item.pk, attachment.pk]),
            }
        )
    if is_htmx(request):
        # htmx swaps only 2xx responses, so a refusal is a 200 that shows the message.
        return render(request, PARTIAL, attachment_context(user, item, error))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ok)
    return redirect("items_edit", pk=item.pk)


@csrf_exempt
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Sizes are checked before the body is read: the declared length against the largest limit,
    then each file against its category's limit while it arrives. The CSRF middleware would read
    the body first, so the CSRF check runs in the inner view (Django's documented pattern)."""
    user = _user(request)
    item = access.get_submission_for(user, pk, need="edit")
    limit_bytes = uploads.limits()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    largest = max(limit_bytes.values())
    if declared.isdigit() and int(declared) > largest + REQUEST_OVERHEAD:
        error = gettext("文件过大：附件不能超过 %(limit)s，未保存。") % {
            "limit": uploads.human_size(largest)
        }
        return _done(request, user, item, error=error, status=413)
    handler = uploads.LimitedUploadHandler(request, limit_bytes)
    request.upload_handlers.insert(0, handler)
    return _receive(request, user, item, handler)


@csrf_protect
def _receive(
    request: HttpRequest, user: User, item: Submission, handler: uploads.LimitedUploadHandler
) -> HttpResponse:
    # The editor's image button may name the field differently; one file per request.
    field = "file" if "file" in request.FILES else next(iter(request.FILES), "")
    upload = request.FILES.get(field)
    if handler.refusal is not None:
        status = 413 if handler.refusal.code == "too_large" else 422
        return _done(request, user, item, error=" ".join(handler.refusal.messages), status=status)
    if upload is None:
        return _done(request, user, item, error=gettext("请选择要上传的文件。"), status=422)
    try:
        attachment = workflow.add_attachment(
            by=user, item=item, upload=upload, ip=client_ip(request)
        )
    except ValidationError as exc:
        status = 413 if exc.code == "too_large" else 422
        return _done(request, user, item, error=" ".join(exc.messages), status=status)
    return _done(
        request,
        user,
        item,
        ok=gettext("已上传附件“%(name)s”。") % {"name": attachment.original_name},
        attachment=attachment,
    )


def _attachment_of(item: Submission, aid: int) -> Attachment:
    attachment = Attachment.objects.filter(submission=item, pk=aid, removed_at__isnull=True).first()
    if attachment is None:
        raise Http404("attachment")
    return attachment


@require_GET
def attachment_download(request: HttpRequest, pk: int, aid: int) -> FileResponse:
    """Anyone who may view the item downloads its attachments; images may be shown inline."""
    item = access.get_submission_for(_user(request), pk)
    attachment = _attachment_of(item, aid)
    try:
        handle = uploads.path_for(attachment.storage_name).open("rb")
    except (OSError, ValueError) as exc:
        raise Http404("attachment file") from exc
    inline = request.GET.get("inline") == "1" and attachment.category == AttachmentCategory.IMAGE
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser ignored the type, nothing in the file may run or load anything.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
def attachment_remove(request: HttpRequest, pk: int, aid: int) -> HttpResponse:
    user = _user(request)
    item = access.get_submission_for(user, pk, need="edit")
    attachment = _attachment_of(item, aid)
    try:
        workflow.remove_attachment(by=user, item=item, attachment=attachment, ip=client_ip(request))
    except ValidationError as exc:
        return _done(request, user, item, error=" ".join(exc.messages), status=422)
    return _done(
        request,
        user,
        item,
        ok=gettext("已删除附件“%(name)s”。") % {"name": attachment.original_name},
    )


# Upload limits (system admin) --------------------------------------------------------------------


class UploadLimitsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        top = uploads.MAX_LIMIT // uploads.MB
        for category in AttachmentCategory.values:
            self.fields[category] = forms.IntegerField(
                label=f"{AttachmentCategory(category).label}（{uploads.CATEGORY_TYPES[category]}）",
                min_value=1,
                max_value=top,
                help_text=gettext("默认 %(size)s")
                % {"size": uploads.human_size(uploads.DEFAULT_LIMITS[category])},
                error_messages={
                    "required": gettext("请填写上限。"),
                    "invalid": gettext("请填写整数（MB）。"),
                    "min_value": gettext("上限至少 1 MB。"),
                    "max_value": gettext("上限不超过 %(top)s MB。") % {"top": top},
                },
            )

    def to_bytes(self) -> dict[str, int]:
        return {c: int(self.cleaned_data[c]) * uploads.MB for c in AttachmentCategory.values}


def upload_limits(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not uploads.can_set_upload_limits(user):
        raise PermissionDenied(gettext("只有系统管理员可以设置附件大小上限。"))
    current = uploads.limits()
    initial = {c: max(1, round(current[c] / uploads.MB)) for c in AttachmentCategory.values}
    form = UploadLimitsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.set_upload_limits(by=user, limits=form.to_bytes(), ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, gettext("附件大小上限已保存，之后的上传按新上限检查。"))
            return redirect("upload_limits")
    rows = [
        {
            "field": form[c],
            "label": AttachmentCategory(c).label,
            "types": uploads.CATEGORY_TYPES[c],
            "default": uploads.human_size(uploads.DEFAULT_LIMITS[c]),
            "current": uploads.human_size(current[c]),
        }
        for c in AttachmentCategory.values
    ]
    context = {
        "form": form,
        "rows": rows,
        "max_image_megapixels": uploads.MAX_IMAGE_PIXELS // 1_000_000,
        "max_attachments": uploads.MAX_ATTACHMENTS_PER_ITEM,
    }
    return render(request, "submissions/upload_limits.html", context)
