"""Template context for the navigation bell."""

from django.http import HttpRequest

from baosong.orgs.models import User
from baosong.submissions.models import Notification


def notifications(request: HttpRequest) -> dict[str, int]:
    """The unread count for the bell: one COUNT on the (user, read_at) index; 0 when signed out."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"unread_notifications": 0}
    count = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"unread_notifications": count}
