"""A synchronous, explicit hook through which apps higher in the import order follow what lower
apps write, inside the same transaction.

Apps import downward only (orgs ← submissions ← publications ← scoring), yet the score ledger
must change in the same transaction as the adoption that causes it, and the receipts' copies of
their items' unit paths when a unit moves. The lower app calls `event_written(source, event)`
right after writing: submissions, publications and assessment their event rows, orgs a
`UnitMoved`. Scoring and submissions each register one listener in their AppConfig.ready(); a
listener ignores the sources it does not follow. No ordering, no async delivery.
"""

from collections.abc import Callable
from typing import Any, NamedTuple


class UnitMoved(NamedTuple):
    """A unit and its subtree moved (source "orgs"): every path that began with `old_path` now
    begins with `new_path`."""

    old_path: str
    new_path: str


Listener = Callable[[str, Any], None]

_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def event_written(source: str, event: Any) -> None:
    for listener in _listeners:
        listener(source, event)
