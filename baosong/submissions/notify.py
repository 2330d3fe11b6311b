"""In-app notifications and optional email (sent after the transaction commits)."""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from baosong.orgs.models import User
from baosong.submissions.access import exists_fact
from baosong.submissions.models import Notification, NotificationPreference, Submission

Note = tuple[str, Iterable[User], Submission, str]  # kind, recipients, item, message


def recipients(users: "QuerySet[User]", kind: str) -> list[User]:
    """The active users of `users` (only what sending needs), each read with whether they turned
    email off for `kind`, so that sending them a note of that kind needs no second query for the
    preferences."""
    muted = exists_fact(
        NotificationPreference,
        "{t}.user_id = {row}.id AND {t}.kind = %s AND {t}.email = %s",
        kind,
        False,
        of=User,
    )
    rows = users.filter(is_active=True).only("id", "email", "is_active")
    found: list[User] = []
    for user in rows.annotate(email_muted=muted):
        user._baosong_email_muted = (kind, bool(user.email_muted))  # type: ignore[attr-defined]
        found.append(user)
    return found


def _known_muted(user: User, kind: str) -> bool | None:
    known: tuple[str, bool] | None = getattr(user, "_baosong_email_muted", None)
    return known[1] if known is not None and known[0] == kind else None


def send(kind: str, users: Iterable[User], item: Submission, message: str) -> None:
    """One notification per user (the actor's own actions included, so history is complete);
    email unless the user turned this kind off."""
    send_each([(kind, users, item, message)])


def send_each(notes: Iterable[Note]) -> None:
    """Several notes of one change (say, "approved" to the authors and "to review" to the next
    stage), as send() each, written in one insert; the email preferences are read in one query,
    and not at all for people that come from recipients()."""
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
    unknown = {
        pk
        for kind, people, _, _ in batches
        for pk, user in people.items()
        if user.email and _known_muted(user, kind) is None
    }
    muted = set(
        NotificationPreference.objects.filter(
            user_id__in=unknown, kind__in={kind for kind, _, _, _ in batches}, email=False
        ).values_list("user_id", "kind")
        if unknown
        else []
    )

    def wants_email(pk: int, user: User, kind: str) -> bool:
        known = _known_muted(user, kind)
        return bool(user.email) and not (known if known is not None else (pk, kind) in muted)

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
        if wants_email(pk, user, kind)
    ]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
