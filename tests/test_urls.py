"""Every URL needs a signed-in user, except a short explicit list.

The test walks the whole URLconf, so a URL added tomorrow is checked without anyone touching
this file: it must send an anonymous visitor to the sign-in page (htmx: 401 with HX-Redirect), or,
under /api/v1/, answer 401. Only ALLOWLIST is open, and every entry in it must still exist.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path
from django.urls.resolvers import RegexPattern

from baosong.orgs import workflow
from baosong.urls import urlpatterns as project_urlpatterns
from conftest import World

# Route (as written in the URLconf) → what an anonymous visitor gets.
ALLOWLIST: dict[str, dict[str, int]] = {
    "login/": {"GET": 200},
    "healthz": {"GET": 200},
    "i18n/setlang/": {"POST": 302},
    "api/v1/openapi.json": {"GET": 200},
    "api/v1/docs": {"GET": 200},
    # Django Ninja's placeholder for the API root: no content, only a 404.
    "api/v1/": {"GET": 404},
}
API_PREFIX = "api/v1/"
PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass
class Route:
    route: str
    pattern: URLPattern


def walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry.pattern, RegexPattern):
            raise AssertionError(
                f"regex route {prefix}{entry.pattern}: give test_urls.py an example path for it"
            )
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield Route(prefix + str(entry.pattern), entry)


def concrete(route: str, samples: dict[str, int]) -> str:
    """The route with every placeholder filled by the pk of an existing object of its kind."""

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        for prefix, key in (
            ("units/", "unit"),
            ("people/", "person"),
            ("memberships/", "membership"),
            ("profile/tokens/", "token"),
            (f"{API_PREFIX}units/", "unit"),
            (f"{API_PREFIX}people/", "person"),
            (f"{API_PREFIX}memberships/", "membership"),
        ):
            if route.startswith(prefix):
                return str(samples[key])
        # Unknown kinds get any number: an anonymous request never reaches the view.
        return str(samples.get(name, 1))

    return "/" + PLACEHOLDER.sub(fill, route)


def api_methods(pattern: URLPattern) -> list[str]:
    """The HTTP methods a Django Ninja path serves (read from its PathView); GET and POST for
    anything else mounted under the API prefix."""
    for cell in getattr(pattern.callback, "__closure__", None) or ():
        operations = getattr(cell.cell_contents, "operations", None)
        if operations is not None:
            return sorted({m for op in operations for m in op.methods})
    return ["GET", "POST"]


def anonymous_problems(samples: dict[str, int]) -> list[str]:
    """Every URL that does not refuse an anonymous visitor the way it should."""
    problems: list[str] = []
    client = Client()
    for found in walk(get_resolver().url_patterns):
        url = concrete(found.route, samples)
        if found.route in ALLOWLIST:
            for method, status in ALLOWLIST[found.route].items():
                response = client.generic(method, url)
                if response.status_code != status:
                    problems.append(f"{method} {url}: {response.status_code}, expected {status}")
        elif found.route.startswith(API_PREFIX):
            for method in api_methods(found.pattern):
                response = client.generic(method, url)
                if response.status_code != 401:
                    problems.append(f"{method} {url}: {response.status_code}, expected 401")
                elif "detail" not in response.json():
                    problems.append(f"{method} {url}: 401 without a JSON detail")
        else:
            login = f"/login/?next={quote(url)}"
            for method in ("GET", "POST"):
                response = client.generic(method, url)
                if response.status_code != 302 or response["Location"] != login:
                    where = response.get("Location", "")
                    problems.append(f"{method} {url}: {response.status_code} {where}")
            response = client.get(url, headers={"HX-Request": "true"})
            if response.status_code != 401 or response.get("HX-Redirect") != "/login/":
                problems.append(f"htmx GET {url}: {response.status_code}")
    return problems


@pytest.fixture
def samples(world: World) -> dict[str, int]:
    token, _raw = workflow.create_api_token(by=world.officer_county_a, name="脚本")
    return {
        "unit": world.county_a.pk,
        "person": world.officer_county_a.pk,
        "membership": world.officer_county_a.memberships.get().pk,
        "token": token.pk,
    }


def test_every_url_except_the_allowlist_sends_an_anonymous_visitor_to_sign_in(
    samples: dict[str, int],
) -> None:
    assert anonymous_problems(samples) == []


def test_the_walk_sees_the_whole_urlconf_and_the_allowlist_is_not_stale() -> None:
    routes = {found.route for found in walk(get_resolver().url_patterns)}
    assert set(ALLOWLIST) <= routes
    for expected in ("", "units/<int:pk>/edit/", "people/<int:pk>/", "audit/export.xlsx"):
        assert expected in routes
    assert any(route.startswith(API_PREFIX + "units") for route in routes)
    assert len(routes) > 30


def test_a_url_filled_with_an_existing_object_really_reaches_its_view_when_signed_in(
    samples: dict[str, int], world: World
) -> None:
    # The anonymous redirect above must not be a 404 in disguise: the same paths resolve.
    client = Client()
    client.force_login(world.security_admin, backend="baosong.orgs.backends.ModelBackend")
    assert client.get(concrete("people/<int:pk>/", samples)).status_code == 200
    assert client.get(concrete("units/<int:pk>/", samples)).status_code == 200


def test_static_files_and_the_health_check_are_open(db: None) -> None:
    client = Client()
    response = client.get("/static/css/baosong.css")
    assert not (response.status_code == 302 and response["Location"].startswith("/login/"))
    assert client.get("/healthz").status_code == 200


def _leak(request: HttpRequest) -> HttpResponse:
    return HttpResponse("no sign-in needed")


urlpatterns = [
    *project_urlpatterns,
    path("login/help/", _leak),
    path("api/v1/leak", _leak),
]


@override_settings(ROOT_URLCONF="tests.test_urls")
def test_the_walk_catches_a_new_url_that_skips_sign_in(samples: dict[str, int]) -> None:
    problems = anonymous_problems(samples)
    assert "GET /login/help/: 200 " in problems
    assert "GET /api/v1/leak: 200, expected 401" in problems
    assert all("/login/help/" in p or "/api/v1/leak" in p for p in problems)
