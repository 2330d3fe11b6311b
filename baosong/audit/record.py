"""The one way to write an audit event."""

from typing import Any, Protocol

from baosong.audit.models import Event


class _Audited(Protocol):
    pk: Any


def entry(
    action: str,
    *,
    actor: Any,
    role: str = "",
    ip: str | None = None,
    obj: _Audited | None = None,
    object_type: str = "",
    object_repr: str = "",
    unit_path: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    login: str = "",
) -> Event:
    """One audit event, not yet written (see `record` and `record_all`).

    `actor` is the signed-in user (anything with pk and get_username), or None for the platform.
    """
    return Event(
        action=action,
        actor=actor if actor is not None and actor.pk is not None else None,
        actor_login=login or (actor.get_username() if actor is not None else "system"),
        actor_role=role[:80],
        ip=ip,
        object_type=object_type or (type(obj).__name__.lower() if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        unit_path=unit_path,
        before=before,
        after=after,
    )


def record(action: str, **fields: Any) -> Event:
    """Append one event (fields as `entry` takes them); callers run it inside the transaction of
    the change it records."""
    event = entry(action, **fields)
    event.save(force_insert=True)
    return event


def record_all(events: list[Event]) -> list[Event]:
    """Append several events of one change in one statement, in order."""
    return Event.objects.bulk_create(events)
