"""In-app notifications and optional email (sent after the transaction commits)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from baosong.orgs.models import User
from baosong.submissions.models import Notification, NotificationPreference, Submission


@dataclass(frozen=True)
class Recipients:
    """The active users of a query, not yet read: sending writes their notifications straight
    from it (INSERT … SELECT … RETURNING, SQLite ≥ 3.35 and PostgreSQL) and gets back each one's
    email address and whether they turned email off for the kind, in one statement."""

    users: "QuerySet[User]"


Note = tuple[str, "Iterable[User] | Recipients", Submission, str]  # kind, to whom, item, message


def send(kind: str, users: "Iterable[User] | Recipients", item: Submission, message: str) -> None:
    """One notification per user (the actor's own actions included, so history is complete);
    email unless the user turned this kind off."""
    send_each([(kind, users, item, message)])


def send_each(notes: Iterable[Note]) -> None:
    """Several notes of one change (say, "approved" to the authors and "to review" to the next
    stage): the notes to Recipients one statement each; those to users already read in one
    insert, with their email preferences read in one query."""
    mail: list[tuple[str, int, str, Submission, str]] = []  # kind, user, email, item, message
    batches = []
    queried = []
    for kind, users, item, message in notes:
        if isinstance(users, Recipients):
            queried.append((kind, users.users, item, message))
            continue
        people = {u.pk: u for u in users if u.is_active}
        if people:
            batches.append((kind, people, item, message))
    if queried:
        mail += _write_from_queries(queried)
    if batches:
        Notification.objects.bulk_create(
            Notification(user_id=pk, kind=kind, submission=item, message=message[:300])
            for kind, people, item, message in batches
            for pk in people
        )
        wanted = {pk for _, people, _, _ in batches for pk, user in people.items() if user.email}
        muted = set(
            NotificationPreference.objects.filter(
                user_id__in=wanted, kind__in={kind for kind, _, _, _ in batches}, email=False
            ).values_list("user_id", "kind")
            if wanted
            else []
        )
        mail += [
            (kind, pk, user.email, item, message)
            for kind, people, item, message in batches
            for pk, user in people.items()
            if user.email and (pk, kind) not in muted
        ]
    # One message per person, so co-authors do not see each other's addresses.
    messages = [
        (
            gettext("[报送] %(message)s") % {"message": message[:60]},
            f"{message}\n\n{settings.BAOSONG_BASE_URL}/items/{item.pk}/",
            None,
            [email],
        )
        for _kind, _pk, email, item, message in mail
    ]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def _write_from_queries(
    notes: list[tuple[str, "QuerySet[User]", Submission, str]],
) -> list[tuple[str, int, str, Submission, str]]:
    """Insert one note per active user of each note's query, in one statement for notes of
    different kinds (the kind tells the returned rows apart); returns (kind, user id, email,
    item, message) of those who get it by email too."""
    by_kind = {kind: (item, message) for kind, _users, item, message in notes}
    if len(by_kind) < len(notes):  # two notes of one kind: one statement each
        return [mail for note in notes for mail in _write_from_queries([note])]
    table, user_table = Notification._meta.db_table, User._meta.db_table
    prefs = NotificationPreference._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    selects, params = [], []
    for kind, users, item, message in notes:
        select, select_params = users.filter(is_active=True).values("id").query.sql_with_params()
        selects.append(f"SELECT x.id, %s, %s, %s, %s FROM ({select}) x")
        params += [kind, item.pk, message[:300], now, *select_params]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, kind, submission_id, message, created_at) "
            f"{' UNION ALL '.join(selects)} RETURNING user_id, kind, "
            f"(SELECT email FROM {user_table} WHERE id = {table}.user_id), "
            f"EXISTS (SELECT 1 FROM {prefs} p WHERE p.user_id = {table}.user_id "
            f"AND p.kind = {table}.kind AND p.email = %s)",
            [*params, False],
        )
        rows = cursor.fetchall()
    return [
        (kind, pk, email, *by_kind[kind]) for pk, kind, email, muted in rows if email and not muted
    ]
