"""JSON API under /api/v1/ (Django Ninja). Routers live in each app's api.py.

Two ways in: a personal token (`Authorization: Bearer bs_…`, for scripts) or the browser session
(with the CSRF token on unsafe methods). Errors are JSON with a Chinese `detail`.
"""

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from baosong.orgs.api import router as orgs_router
from baosong.orgs.models import ApiToken, User
from baosong.orgs.workflow import token_digest
from baosong.publications.api import router as publications_router
from baosong.scoring.api import router as scoring_router
from baosong.submissions.api import router as items_router

# last_used_at is written at most this often, so a busy script does not write on every call.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: a personal token of an active account, not revoked."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        raw = token.strip()
        found = (
            ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
            if raw
            else None
        )
        # A token that was sent but does not work fails loudly, never falls back to the session.
        if found is None or found.revoked_at is not None:
            raise AuthenticationError(message=gettext("令牌无效或已撤销。"))
        if not found.user.is_active:
            raise AuthenticationError(message=gettext("该账号已停用。"))
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at >= TOKEN_TOUCH_INTERVAL:
            # Bookkeeping like Django's last_login, not a change of state: no audit event.
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods need the CSRF token (X-CSRFToken header).

    Like ninja.security.django_auth, but the CSRF check runs only for a signed-in session, so a
    request with neither token nor session gets 401 rather than a CSRF 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> User | None:
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, gettext("CSRF 校验失败，请刷新页面后重试。"))
        if user.must_change_password:
            raise PermissionDenied(gettext("请先在网页上修改初始密码。"))
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        return None  # __call__ does the work; required by the abstract base


class Renderer(JSONRenderer):
    # Chinese stays readable in the body (UTF-8, as the Content-Type says).
    json_dumps_params: Mapping[str, Any] = MappingProxyType({"ensure_ascii": False})


api = NinjaAPI(
    title="报送 API",
    version="1",
    description="单位与人员接口。认证：个人令牌（Authorization: Bearer …）或已登录的浏览器会话。",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=[TokenAuth(), SessionAuth()],
    renderer=Renderer(),
)
api.add_router("/", orgs_router)
api.add_router("/", items_router)
api.add_router("/", publications_router)
api.add_router("/", scoring_router)


def _json(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = (
        exc.message
        if exc.message != "Unauthorized"
        else gettext("未登录：请提供个人令牌或先登录。")
    )
    response = _json(request, 401, {"detail": message})
    response["WWW-Authenticate"] = 'Bearer realm="baosong"'
    return response


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _json(request, 403, {"detail": str(exc) or gettext("无权执行此操作。")})


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The same answer whether the object does not exist or lies outside what the caller may see.
    return _json(request, 404, {"detail": gettext("对象不存在或无权查看。")})


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja's own 400 is the one for a body that is not JSON; its message is English.
    detail = gettext("请求体不是有效的 JSON。") if exc.status_code == 400 else str(exc)
    return _json(request, exc.status_code, {"detail": detail})


# Input fields named in the API differ from the workflow's names for these two.
_FIELD_NAMES = {"unit": "unit_id", "parent": "parent_id"}


@api.exception_handler(DjangoValidationError)
def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.error_dict.items():
            messages = [m for e in field_errors for m in e.messages]
            errors[_FIELD_NAMES.get(field, field)] = messages
    detail = " ".join(exc.messages) or gettext("提交的数据有误。")
    return _json(request, 422, {"detail": detail, "errors": errors})


@api.exception_handler(NinjaValidationError)
def _malformed(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_of(error.get("loc", ())), []).append(pydantic_message(error))
    lines = [
        "；".join(msgs)
        if field == NON_FIELD_ERRORS
        else gettext("%(field)s：%(messages)s") % {"field": field, "messages": "；".join(msgs)}
        for field, msgs in errors.items()
    ]
    detail = gettext("请求数据有误。") + " ".join(lines)
    return _json(request, 422, {"detail": detail, "errors": errors})


def _field_of(loc: Any) -> str:
    # loc is (source, [param name,] field…); the last named part is what the client sent.
    names = [str(part) for part in loc[1:] if isinstance(part, str)]
    if names and names[0] in ("payload", "filters"):
        names = names[1:]
    return ".".join(names) or NON_FIELD_ERRORS


def pydantic_message(error: dict[str, Any]) -> str:
    """A Chinese message for the input errors a client can make."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": gettext("此项为必填项。"),
        "extra_forbidden": gettext("不支持该字段（只读或不存在），未作任何修改。"),
        "int_parsing": gettext("应为整数。"),
        "int_type": gettext("应为整数。"),
        "int_from_float": gettext("应为整数。"),
        "bool_parsing": gettext("应为 true 或 false。"),
        "bool_type": gettext("应为 true 或 false。"),
        "date_parsing": gettext("日期格式应为 YYYY-MM-DD。"),
        "date_from_datetime_parsing": gettext("日期格式应为 YYYY-MM-DD。"),
        "date_from_datetime_inexact": gettext("日期格式应为 YYYY-MM-DD。"),
        "date_type": gettext("日期格式应为 YYYY-MM-DD。"),
        "string_type": gettext("应为字符串。"),
        "json_invalid": gettext("JSON 格式不正确。"),
        "model_attributes_type": gettext("应为 JSON 对象。"),
        "dict_type": gettext("应为 JSON 对象。"),
        "enum": gettext("取值无效，可选：%(expected)s。") % {"expected": ctx.get("expected", "")},
        "literal_error": gettext("取值无效，可选：%(expected)s。")
        % {"expected": ctx.get("expected", "")},
        "string_too_long": gettext("不超过 %(max)s 字。") % {"max": ctx.get("max_length", "")},
        "greater_than_equal": gettext("不能小于 %(min)s。") % {"min": ctx.get("ge", "")},
        "less_than_equal": gettext("不能大于 %(max)s。") % {"max": ctx.get("le", "")},
    }
    return messages.get(kind) or gettext("取值无效。")
