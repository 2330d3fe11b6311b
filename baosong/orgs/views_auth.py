"""Sign-in, sign-out, lockout page and the own profile (password, API tokens)."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from baosong.lib.http import client_ip
from baosong.orgs import workflow
from baosong.orgs.forms import PasswordChangeForm, TokenForm, apply_errors
from baosong.orgs.models import ApiToken, Membership, User


class SignInForm(AuthenticationForm):
    error_messages = {
        # One message whether the login name is unknown or the password is wrong.
        "invalid_login": _("登录名或密码不正确。"),
        "inactive": _("登录名或密码不正确。"),
    }


login_view = LoginView.as_view(
    template_name="registration/login.html",
    authentication_form=SignInForm,
    redirect_authenticated_user=True,
)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, gettext("您已安全退出。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "memberships": Membership.objects.filter(user=user)
        .select_related("unit")
        .order_by("-end", "unit__path"),
        "tokens": ApiToken.objects.filter(user=user),
        "token_form": TokenForm(),
        "new_token": request.session.pop("new_token", None),
    }
    return render(request, "orgs/profile.html", context)


def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.change_password(
                by=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # Keeps this session; every other session of the user stops working.
            update_session_auth_hash(request, user)
            messages.success(request, gettext("密码已修改，其他设备上的登录已失效。"))
            return redirect("profile")
    return render(
        request, "orgs/password_change.html", {"form": form, "forced": user.must_change_password}
    )


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            _token, raw = workflow.create_api_token(
                by=user, name=form.cleaned_data["name"], ip=client_ip(request)
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            request.session["new_token"] = raw
    else:
        messages.error(request, gettext("请填写令牌名称。"))
    return redirect("profile")


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    token = get_object_or_404(ApiToken, pk=pk, user=user)
    workflow.revoke_api_token(by=user, token=token, ip=client_ip(request))
    messages.success(request, gettext("令牌“%(name)s”已撤销。") % {"name": token.name})
    return redirect("profile")
