"""Deterministic time and ids for tests, and small helpers shared by the suites."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


class TickingClock:
    """A clock that moves one millisecond every time it is read, so every write gets its own instant."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.now = start
        self._step = step

    def __call__(self) -> datetime:
        self.now += self._step
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class SequentialIds:
    """Version-7-shaped UUIDs that count up: 00000000-0000-7000-8000-000000000001, ...2, ..."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> UUID:
        return UUID(int=0x7 << 76 | 0b10 << 62 | next(self._counter))
