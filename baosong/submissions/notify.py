"""In-app notifications and optional email (sent after the transaction commits)."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils.translation import gettext

from baosong.orgs.models import User
from baosong.submissions.models import Notification, NotificationPreference, Submission

Note = tuple[str, Iterable[User], Submission, str]  # kind, recipients, item, message


def send(kind: str, users: Iterable[User], item: Submission, message: str) -> None:
    """One notification per user (the actor's own actions included, so history is complete);
    email unless the user turned this kind off."""
    send_each([(kind, users, item, message)])


def send_each(notes: Iterable[Note]) -> None:
    """Several notes of one change (say, "approved" to the authors and "to review" to the next
    stage), as send() each, written in one insert with one read of the email preferences."""
    batches = []
    for kind, users, item, message in notes:
        people = {u.pk: u for u in users if u.is_active}
        if people:
            batches.append((kind, people, item, message))
    if not batches:
        return
    Notification.objects.bulk_create(
        Notification(user_id=pk, kind=kind, submission=item, message=message[:300])
        for kind, people, item, message in batches
        for pk in people
    )
    mailable = {pk for _, people, _, _ in batches for pk, user in people.items() if user.email}
    muted = set(
        NotificationPreference.objects.filter(
            user_id__in=mailable, kind__in={kind for kind, _, _, _ in batches}, email=False
        ).values_list("user_id", "kind")
        if mailable
        else []
    )
    # One message per person, so co-authors do not see each other's addresses.
    messages = [
        (
            gettext("[报送] %(message)s") % {"message": message[:60]},
            f"{message}\n\n{settings.BAOSONG_BASE_URL}/items/{item.pk}/",
            None,
            [user.email],
        )
        for kind, people, item, message in batches
        for pk, user in people.items()
        if user.email and (pk, kind) not in muted
    ]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
