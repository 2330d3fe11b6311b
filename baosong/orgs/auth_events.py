"""Sign-in, sign-out, failure and lockout into the audit trail (Django and axes signals)."""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from baosong.audit.record import record
from baosong.lib.http import client_ip
from baosong.orgs.models import User


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    now = int(timezone.now().timestamp())
    request.session["login_at"] = now
    request.session["seen_at"] = now
    record("auth.login", actor=user, role=user.platform_role, ip=_ip(request), obj=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        record("auth.logout", actor=user, role=user.platform_role, ip=_ip(request), obj=user)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    login = str(credentials.get("username", ""))[:150]
    # The attempted name is recorded as given; whether such an account exists is not revealed.
    record(
        "auth.login_failed",
        actor=None,
        login=login or "?",
        ip=_ip(request),
        object_type="user",
        object_repr=login,
    )


@receiver(user_locked_out)
def _locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    record(
        "auth.lockout",
        actor=None,
        login=(username or "?")[:150],
        ip=ip_address,
        object_type="user",
        object_repr=username or "",
    )
