"""Run the parts of a read-only computation side by side in forked processes.

A year's recompute reads and replays ~100,000 events in Python, which uses one core. Its parts
(independent sets of items) can run at once: every part but the last in a child process forked
from this one, on its own database connection, the last here; each child sends its result back
pickled through a pipe. Only for reading: a child sees what is committed, not the caller's
open transaction, so `workers()` is 1 inside one (and in a process with other threads, where
forking is unsafe, on an in-memory SQLite database, or with BAOSONG_WORKERS=1).
"""

import os
import pickle
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLite

P = TypeVar("P")
R = TypeVar("R")


_kept: list[object] | None = None  # in a child: what `keep` was given, until the exit


def keep(value: object) -> None:
    """In a child, keep `value` referenced until the process exits: the system then frees its
    memory at once, where letting go of a large structure of small objects (a share's facts)
    would free them one by one while the parent waits for the result. Nothing in the parent."""
    if _kept is not None:
        _kept.append(value)


class ChildFailed(RuntimeError):
    """A child process raised (its traceback is the message) or died."""


def workers() -> int:
    """How many processes a computation may use here (1: no forking)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    if any(c.in_atomic_block for c in connections.all(initialized_only=True)):
        return 1
    default = connections[DEFAULT_DB_ALIAS]
    if isinstance(default, SQLite) and default.is_in_memory_db():
        return 1  # a child's new connection would open an empty database
    return max(1, min(int(settings.BAOSONG_WORKERS), os.cpu_count() or 1))


def _child(fn: Callable[[P], R], part: P, out: int) -> None:
    """In the child: the parent's connections are left alone (neither used nor closed, which
    would end the parent's session); Django opens new ones on first use."""
    global _kept
    code = 0
    inherited = []  # kept referenced until the exit, so that no finalizer runs on them here
    _kept = []
    try:
        for conn in connections.all(initialized_only=True):
            inherited.append(conn.connection)
            conn.connection = None
        data = pickle.dumps((True, fn(part)), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        data = pickle.dumps((False, traceback.format_exc()))
        code = 1
    try:
        for conn in connections.all(initialized_only=True):
            if conn.connection is not None:
                conn.close()
        with os.fdopen(out, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(code)  # no atexit handlers, no finalizers of the parent's objects


def run(fn: Callable[[P], R], parts: Sequence[P]) -> list[R]:
    """[fn(part) for part in parts], the parts but the last in forked children."""
    if not parts:
        return []
    children: list[tuple[int, int]] = []
    try:
        for part in parts[:-1]:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover — runs in the child, which exits
                os.close(read)
                _child(fn, part, write)
            os.close(write)
            children.append((pid, read))
        last = fn(parts[-1])
    except BaseException:
        for pid, read in children:
            os.close(read)
            os.waitpid(pid, 0)
        raise
    results: list[R] = []
    failed = ""
    for pid, read in children:
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if not data:
            failed = failed or f"child process {pid} ended with status {status} and no result"
            continue
        ok, value = pickle.loads(data)
        if not ok:
            failed = failed or value
            continue
        results.append(value)
    if failed:
        raise ChildFailed(failed)
    results.append(last)
    return results
