"""Navigation counts for the base template (one context processor, a few COUNT queries)."""

from typing import Any

from django.http import HttpRequest

from baosong.orgs.models import User
from baosong.submissions.access import can_write_for
from baosong.submissions.selectors import nav_counts


def item_counts(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    return {"item_counts": nav_counts(user), "can_write_items": bool(can_write_for(user))}
