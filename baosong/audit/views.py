from django.http import HttpRequest, HttpResponse


def event_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def event_export(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
