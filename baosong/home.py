"""The home page: each role's panels, gathered from the apps (the project may import them all)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from baosong.orgs.models import User
from baosong.orgs.views import home_context
from baosong.submissions.selectors import home_panels


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context = home_context(user)
    context.update(home_panels(user))
    return render(request, "orgs/home.html", context)
