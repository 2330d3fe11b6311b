"""Register import/export views (filled in by the import/export module)."""

from django.http import HttpRequest, HttpResponse


def register_import(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def register_template(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def register_export(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
