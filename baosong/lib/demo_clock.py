"""The clock the demo's stories are told by.

The demo items are written, reviewed, submitted and handled through the real workflows, which
stamp every row (events, versions, receipts, notifications, audit events, ledger lines) with
`timezone.now()`. Loaded in one go, everything would show the same minute. While a `Clock` is
running, `timezone.now()` reads it instead: the items' stories in office hours (09:00 to 17:30)
on the working days before their handling, each step a little after the one before, then the
handling (adoptions, issues and their dates, forwards, instructions) over the last working days,
all before the real present. Steps come in the order they are told, so events stay in time order
(the ledger records them as they happen) and ids grow with time.

Only for loading the demo, from a management command or a test: the patch is process-wide.
"""

import datetime as dt
import random
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from chinese_calendar import is_workday
from django.conf import settings
from django.utils import timezone

OPEN, CLOSE = dt.time(9, 0), dt.time(17, 30)
ITEM_GAP = 20  # minutes between two steps of the items' stories, on average
HANDLING_GAP = 12  # minutes between two acts of the handling, on average


def _working(day: dt.date) -> bool:
    try:
        return bool(is_workday(day))
    except NotImplementedError:  # a year the calendar does not know yet: Monday to Friday
        return day.weekday() < 5


def _next_working(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not _working(day):
        day += dt.timedelta(days=1)
    return day


class Clock:
    """Moments in office hours from `start`, about `gap` minutes apart (seeded, so a load is
    reproducible); `timezone.now()` gives the current one, a millisecond later at each call, so
    that the rows one step writes keep their order. Never at or after `limit`."""

    def __init__(self, start: dt.datetime, gap: int, limit: dt.datetime, seed: int) -> None:
        self.at, self.gap, self.limit = start, gap, limit
        self.random = random.Random(seed)
        self.calls = 0
        self.started = False
        self.steps = 0  # taken so far

    def step(self) -> dt.datetime:
        """Move to the next moment (the first call stays at `start`)."""
        if self.started:
            at = self.at + dt.timedelta(minutes=self.random.uniform(self.gap / 2, self.gap * 3 / 2))
            if at.time() > CLOSE:
                opening = dt.datetime.combine(_next_working(at.date()), OPEN, at.tzinfo)
                at = opening + dt.timedelta(minutes=self.random.uniform(0, 20))
            self.at = min(at, self.limit - dt.timedelta(seconds=1))
        self.started, self.calls = True, 0
        self.steps += 1
        return self.at

    def now(self) -> dt.datetime:
        self.calls += 1
        return (self.at + dt.timedelta(milliseconds=self.calls)).astimezone(dt.UTC)

    def moments(self, steps: int) -> list[dt.datetime]:
        """The next `steps` moments, without moving (what `step()` would give)."""
        state = (self.at, self.random.getstate(), self.started, self.steps)
        out = [self.step() for _ in range(steps)]
        self.at, self.started, self.steps = state[0], state[2], state[3]
        self.random.setstate(state[1])
        return out


class Plan:
    """When the demo's stories are told: `handling_steps` acts of handling as late as they fit
    before now, the items' `item_steps` steps before them."""

    def __init__(
        self, item_steps: int, handling_steps: int, now: dt.datetime | None = None
    ) -> None:
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.now = (now or timezone.now()).astimezone(tz)
        self._handling = _latest(
            self.now.date() + dt.timedelta(days=1),
            lambda start: Clock(start, HANDLING_GAP, self.now, seed=11),
            handling_steps,
            self.now - dt.timedelta(minutes=HANDLING_GAP),
        )
        self.handling_start = self._handling.at
        self._items = _latest(
            self.handling_start.date(),
            lambda start: Clock(start, ITEM_GAP, self.handling_start, seed=2026),
            item_steps,
            self.handling_start - dt.timedelta(minutes=ITEM_GAP),
        )
        self.items_start = self._items.at

    @contextmanager
    def items(self) -> Iterator[Clock]:
        with _running(self._items) as clock:
            yield clock

    @contextmanager
    def handling(self) -> Iterator[Clock]:
        with _running(self._handling) as clock:
            yield clock


def _latest(
    before: dt.date, clock: Callable[[dt.datetime], Clock], steps: int, end: dt.datetime
) -> Clock:
    """`clock` from the opening of the latest working day before `before` from which its next
    `steps` moments all come before `end`."""
    day = before
    while True:
        day -= dt.timedelta(days=1)
        if not _working(day):
            continue
        candidate = clock(dt.datetime.combine(day, OPEN, end.tzinfo))
        moments = candidate.moments(steps)
        if candidate.at < end and (not moments or moments[-1] < end):
            return candidate


_current: Clock | None = None


def today() -> dt.date | None:
    """The running clock's local date (a demo story's dates follow it), or None."""
    return None if _current is None else timezone.localtime(_current.at).date()


@contextmanager
def _running(clock: Clock) -> Iterator[Clock]:
    global _current
    real = timezone.now
    timezone.now, _current = clock.now, clock
    try:
        yield clock
    finally:
        timezone.now, _current = real, None
