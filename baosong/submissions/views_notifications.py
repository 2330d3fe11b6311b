"""The user's notifications (the bell) and their email preferences."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baosong.lib.http import client_ip
from baosong.orgs.models import User
from baosong.submissions import workflow
from baosong.submissions.models import Notification, NotificationKind

PAGE_SIZE = 30


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class PreferencesForm(forms.Form):
    """One checkbox per notification kind: email on or off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(label=kind.label, required=False)

    def email_kinds(self) -> list[str]:
        return [kind for kind in NotificationKind.values if self.cleaned_data.get(kind)]


@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    notifications = Notification.objects.filter(user=user).order_by("-created_at", "-id")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return render(request, "submissions/notifications.html", {"page": page, "unread": unread})


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item_id = workflow.mark_notification_read(by=_user(request), notification_id=pk)
    except Notification.DoesNotExist as exc:
        raise Http404("notification") from exc
    return redirect("items_detail", pk=item_id)


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = workflow.mark_all_notifications_read(by=_user(request))
    if count:
        messages.success(request, gettext("已将 %(count)s 条通知标为已读。") % {"count": count})
    return redirect("notifications")


@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            workflow.set_notification_preferences(
                by=user, email_kinds=form.email_kinds(), ip=client_ip(request)
            )
            messages.success(request, gettext("通知设置已保存。"))
            return redirect("notification_preferences")
    else:
        form = PreferencesForm(initial=dict.fromkeys(workflow.email_kinds_for(user), True))
    return render(
        request,
        "submissions/notification_preferences.html",
        {"form": form, "has_email": bool(user.email)},
    )
