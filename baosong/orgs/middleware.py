"""Sign-in required by default, absolute session lifetime, forced password change."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext

# Paths open without signing in. Every other URL requires a session (the API uses its own auth).
PUBLIC_PREFIXES = ("/login/", "/healthz", "/static/", "/i18n/", "/api/")
PASSWORD_CHANGE_PATHS = ("/profile/password/", "/logout/")


class LoginRequiredByDefaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(PUBLIC_PREFIXES):
            if not request.user.is_authenticated:
                if request.headers.get("HX-Request") == "true":
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = settings.LOGIN_URL
                    return response
                return redirect_to_login(request.get_full_path())
            if getattr(request.user, "must_change_password", False) and not path.startswith(
                PASSWORD_CHANGE_PATHS
            ):
                return redirect("password_change")
        return self.get_response(request)


class SessionLimitsMiddleware:
    """Ends a session after 30 minutes idle and 12 hours after sign-in whatever the activity."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = int(timezone.now().timestamp())
            started = int(session.get("login_at", 0))
            seen = int(session.get("seen_at", started))
            if (
                now - started > settings.SESSION_ABSOLUTE_SECONDS
                or now - seen > settings.SESSION_IDLE_SECONDS
            ):
                logout(request)
                if request.path_info.startswith("/api/"):
                    return JsonResponse({"detail": gettext("会话已过期，请重新登录。")}, status=401)
            elif now - seen >= settings.SESSION_TOUCH_SECONDS:
                session["seen_at"] = now  # saving the session also moves its expiry date
        return self.get_response(request)
