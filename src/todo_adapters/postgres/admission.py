"""Admission to a fixed number of connections: first come, first served, each wait bounded.

``asyncio.Semaphore`` inside ``asyncio.timeout`` does the same job, but arms, reschedules
and cancels a timer for every waiter, and under load many requests wait (in ``make bench``
64 concurrent requests share 32 connections): replacing it took 2.8 % off the instructions a
GET costs in the application (callgrind, measured when they shared 8). Here a waiter is one
future in a queue, and a single timer, armed for the earliest deadline, turns away whoever
waited too long: a request that gets in within its deadline never touches a timer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from psycopg_pool import PoolTimeout

__all__ = ["Admission"]

_LATE: Final = 0.005
"""Seconds by which the sweep may trail a deadline: one sweep then turns away several at once."""
_TOO_LONG: Final = "no database connection became free within the time allowed (TODO_DB_POOL_TIMEOUT)"


class Admission:
    """At most ``size`` holders at once; ``enter()`` waits its turn, ``leave()`` passes the place on."""

    __slots__ = ("_free", "_queue", "_sweep")

    def __init__(self, size: int) -> None:
        self._free = size
        self._queue: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._sweep: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        """Callers in the queue (a few may have given up already and not been swept yet)."""
        return len(self._queue)

    async def enter(self, wait: float) -> None:
        """Take a place, waiting at most ``wait`` seconds for one (PoolTimeout after that)."""
        if self._free and not self._queue:
            self._free -= 1  # a free place and nobody ahead: taken without suspending
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        turn = loop.create_future()
        self._queue.append((deadline, turn))
        if self._sweep is None or self._sweep.when() > deadline + _LATE:
            self._arm_sweep(loop, deadline)
        try:
            await turn
        except asyncio.CancelledError:
            # The place may have been handed over just before the cancellation: pass it on.
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self.leave()
            raise

    def leave(self) -> None:
        """Give the place back: to the first caller still waiting, else to the free ones."""
        queue = self._queue
        while queue:
            _, turn = queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1

    def _turn_away_late_waiters(self) -> None:
        self._sweep = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        kept: deque[tuple[float, asyncio.Future[None]]] = deque()
        for deadline, turn in self._queue:
            if turn.done():
                continue
            if deadline <= now:
                turn.set_exception(PoolTimeout(_TOO_LONG))
            else:
                kept.append((deadline, turn))
        self._queue = kept
        if kept:
            self._arm_sweep(loop, min(deadline for deadline, _ in kept))

    def _arm_sweep(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
        self._sweep = loop.call_at(deadline + _LATE, self._turn_away_late_waiters)
