"""A synchronous, explicit hook through which an app higher in the import order (scoring) follows
the event rows that lower apps (submissions, publications) write, inside the same transaction.

Apps import downward only (orgs ← submissions ← publications ← scoring), yet the score ledger
must change in the same transaction as the adoption that causes it. The lower app calls
`event_written(source, event)` right after creating its event row; scoring registers one listener
in its AppConfig.ready(). There is no other subscriber, no ordering and no async delivery.
"""

from collections.abc import Callable
from typing import Any

Listener = Callable[[str, Any], None]

_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def event_written(source: str, event: Any) -> None:
    for listener in _listeners:
        listener(source, event)
