"""In-app notifications and optional email (sent after the transaction commits)."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from baosong.orgs.models import User
from baosong.submissions.models import Notification, NotificationPreference, Submission


def send(kind: str, users: Iterable[User], item: Submission, message: str) -> None:
    """One notification per user (the actor's own actions included, so history is complete);
    email unless the user turned this kind off."""
    people = {u.pk: u for u in users if u.is_active}
    if not people:
        return
    Notification.objects.bulk_create(
        Notification(user_id=pk, kind=kind, submission=item, message=message[:300]) for pk in people
    )
    muted = set(
        NotificationPreference.objects.filter(
            user_id__in=people, kind=kind, email=False
        ).values_list("user_id", flat=True)
    )
    recipients = [u.email for pk, u in people.items() if u.email and pk not in muted]
    if recipients:
        subject = f"[报送] {message[:60]}"
        body = f"{message}\n\n{settings.BAOSONG_BASE_URL}/items/{item.pk}/"
        # One message per person, so co-authors do not see each other's addresses.
        messages = [(subject, body, None, [address]) for address in recipients]
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
