"""Recomputes in the background: a thread of the web process runs one after its request's
transaction has committed (`workflow._recompute_since`, `workflow.restart_recompute`).

The thread has its own database connection, closed when it ends. A process that stops meanwhile
(a restart) leaves the recompute queued or running: the scheme page offers to start it again once
it is taken as interrupted (`workflow.interrupted`), and `manage.py recompute_scores --pending`
runs whatever is queued (docs/scoring.md).
"""

import logging
import threading

from django.db import connections

log = logging.getLogger(__name__)


def start(pk: int) -> threading.Thread:
    """Run recompute `pk` in a new daemon thread; returns the thread (tests join it)."""
    thread = threading.Thread(target=_run, args=(pk,), name=f"recompute-{pk}", daemon=True)
    thread.start()
    return thread


def _run(pk: int) -> None:
    from baosong.scoring import workflow

    try:
        workflow.run_recompute(pk)
    except Exception:  # run_recompute records its own failures; this is for the unexpected
        log.exception("background recompute %s", pk)
    finally:
        connections.close_all()  # this thread's own connections
