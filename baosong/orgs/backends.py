"""Django's model backend, reading the signed-in user's current memberships with the user.

Every signed-in request loads the user from the session and nearly every one then reads the
user's memberships (`access.scope_for`); one statement with a JSON subquery does both.
"""

import json
from typing import Any

from django.contrib.auth import backends
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from baosong.orgs.access import scope_from_rows
from baosong.orgs.models import Membership, Unit, User


def _memberships_json() -> RawSQL:
    """The user's current memberships in active units as a JSON array of [unit id, unit path,
    role], in the order `scope_for` reads them (unit path, role, start)."""
    m, u, q = Membership._meta.db_table, Unit._meta.db_table, connection.ops.quote_name
    rows = (
        f"SELECT m.unit_id, u.path, m.role, m.start FROM {m} m JOIN {u} u ON u.id = m.unit_id "
        f"WHERE m.user_id = {q(User._meta.db_table)}.id AND u.is_active "
        f"AND m.start <= %s AND (m.{q('end')} IS NULL OR m.{q('end')} >= %s)"
    )
    if connection.vendor == "postgresql":
        sql = (
            "SELECT json_agg(json_build_array(x.unit_id, x.path, x.role) "
            f"ORDER BY x.path, x.role, x.start) FROM ({rows}) x"
        )
    else:  # SQLite's json_group_array keeps the order of the rows it is fed
        sql = (
            "SELECT json_group_array(json_array(x.unit_id, x.path, x.role)) "
            f"FROM ({rows} ORDER BY u.path, m.role, m.start) x"
        )
    day = timezone.localdate()
    return RawSQL(f"({sql})", (day, day))


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = (
            User._default_manager.annotate(scope_rows=_memberships_json())
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        rows = user.scope_rows
        if isinstance(rows, str | bytes):
            rows = json.loads(rows)
        scope_from_rows(user, [tuple(r) for r in rows or ()])
        return user
