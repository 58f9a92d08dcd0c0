"""Where time and new ids come from; both are injectable so tests can be deterministic."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

__all__ = ["Clock", "IdFactory", "UUIDv7Factory", "utc_now"]

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""

IdFactory = Callable[[], UUID]
"""Returns a new, unique task id."""


def utc_now() -> datetime:
    """The system clock, in UTC."""
    return datetime.now(UTC)


class UUIDv7Factory:
    """Time-ordered UUIDs (RFC 9562 version 7), so new rows land at the end of an index.

    Ids made by one factory strictly increase: within one millisecond the 12-bit
    ``rand_a`` field counts up (RFC 9562, method 1); the remaining 62 bits are random,
    which keeps ids from different processes apart. Python 3.11 has no ``uuid.uuid7``.
    """

    __slots__ = ("_counter", "_last_ms", "_lock", "_now_ms")

    def __init__(self, now_ms: Callable[[], int] | None = None) -> None:
        self._now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)
        self._last_ms = -1
        self._counter = 0
        self._lock = threading.Lock()

    def __call__(self) -> UUID:
        random_bits = int.from_bytes(os.urandom(10))
        with self._lock:
            ms = self._now_ms()
            if ms > self._last_ms:
                # Start low in the 12-bit range so the counter has room to climb.
                self._counter = (random_bits >> 62) & 0x7FF
            else:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:
                    ms += 1
                    self._counter = 0
            self._last_ms = ms
            counter = self._counter
        value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random_bits & (2**62 - 1)
        return UUID(int=value)
