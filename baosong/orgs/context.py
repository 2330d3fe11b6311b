"""Navigation flags for the base template, computed from access.py (never in templates)."""

from typing import Any

from django.http import HttpRequest

from baosong.orgs import access
from baosong.orgs.models import User


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "units": access.can_browse_units(user),
            "people": access.can_browse_people(user),
            "audit": access.can_read_audit(user),
            "roles": access.scope_for(user).roles,
        }
    }
