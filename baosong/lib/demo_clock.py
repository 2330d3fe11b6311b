"""The clock the demo's stories are told by.

The demo items are written, reviewed, submitted and handled through the real workflows, which
stamp every row (events, versions, receipts, notifications, audit events, ledger lines) with
`timezone.now()`. Loaded in one go, everything would show the same minute. While a `Clock` is
running, `timezone.now()` reads it instead: the items' stories in office hours (09:00 to 17:30)
over the working days before the last one, each step a little after the one before, and their
handling (adoptions, issues, forwards) on the last working day, all before the real present.
Steps come in the order they are told, so events stay in time order (the ledger records them as
they happen) and ids grow with time.

Only for loading the demo, from a management command or a test: the patch is process-wide.
"""

import datetime as dt
import random
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager

from chinese_calendar import is_workday
from django.conf import settings
from django.utils import timezone

OPEN, CLOSE = dt.time(9, 0), dt.time(17, 30)
ITEM_GAP = 35  # minutes between two steps of the items' stories, on average
HANDLING_GAP = 3  # minutes between two acts of the handling day
HANDLING_HOURS = 6  # how long the handling day's acts take at most


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

    def step(self) -> dt.datetime:
        """Move to the next moment (the first call stays at `start`)."""
        if self.started:
            at = self.at + dt.timedelta(minutes=self.random.uniform(self.gap / 2, self.gap * 3 / 2))
            if at.time() > CLOSE:
                opening = dt.datetime.combine(_next_working(at.date()), OPEN, at.tzinfo)
                at = opening + dt.timedelta(minutes=self.random.uniform(0, 20))
            self.at = min(at, self.limit - dt.timedelta(seconds=1))
        self.started, self.calls = True, 0
        return self.at

    def now(self) -> dt.datetime:
        self.calls += 1
        return (self.at + dt.timedelta(milliseconds=self.calls)).astimezone(dt.UTC)

    def moments(self, steps: int) -> list[dt.datetime]:
        """The next `steps` moments, without moving (what `step()` would give)."""
        state = (self.at, self.random.getstate(), self.started)
        out = [self.step() for _ in range(steps)]
        self.at, self.started = state[0], state[2]
        self.random.setstate(state[1])
        return out


class Plan:
    """When the demo's stories are told: the items' `item_steps` steps end before the handling
    day (the last working day on which `HANDLING_HOURS` of office hours end before now)."""

    def __init__(self, item_steps: int, now: dt.datetime | None = None) -> None:
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.now = (now or timezone.now()).astimezone(tz)
        day = self.now.date() + dt.timedelta(days=1)
        while True:
            day -= dt.timedelta(days=1)
            start = dt.datetime.combine(day, OPEN, tz)
            if _working(day) and start + dt.timedelta(hours=HANDLING_HOURS) < self.now:
                break
        self.handling_start = start
        # The latest working day from which every step of the items fits before that.
        day = start.date()
        while True:
            day -= dt.timedelta(days=1)
            if not _working(day):
                continue
            clock = Clock(dt.datetime.combine(day, OPEN, tz), ITEM_GAP, start, seed=2026)
            moments = clock.moments(item_steps)
            if not moments or moments[-1] < start - dt.timedelta(minutes=ITEM_GAP):
                break
        self.items_start = clock.at

    @contextmanager
    def items(self) -> Iterator[Clock]:
        with _running(Clock(self.items_start, ITEM_GAP, self.handling_start, seed=2026)) as clock:
            yield clock

    @contextmanager
    def handling(self) -> Iterator[Clock]:
        with _running(Clock(self.handling_start, HANDLING_GAP, self.now, seed=11)) as clock:
            yield clock


@contextmanager
def _running(clock: Clock) -> Iterator[Clock]:
    real = timezone.now
    timezone.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = real
