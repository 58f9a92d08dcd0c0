"""The nemesis: SIGKILL PostgreSQL at random moments, leave it down a random while, restart it,
and time how long the service takes to acknowledge a write again."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Final

import psycopg
from cluster import PostgresServer
from workload import History

__all__ = ["Crash", "plan_crashes", "run_nemesis"]

_WARMUP_SHARE: Final = 0.1
_COOLDOWN: Final = 15.0
_SHORTEST_SLOT: Final = 15.0
_STALLED_AFTER: Final = 10.0


@dataclass
class Crash:
    """One SIGKILL and restart; times are seconds since the run started."""

    number: int
    killed_at: float
    down_for: float
    during_load: bool = True
    pid: int | None = None
    survivors: int = 0
    """Processes that outlived the postmaster and were killed after it."""
    requests_in_flight: int = 0
    restarted_at: float | None = None
    accepting_after: float | None = None
    """Seconds from the restart until PostgreSQL accepted connections (crash recovery)."""
    recovery: float | None = None
    """Seconds from the restart until the first 201."""
    stalled: list[str] = field(default_factory=list)
    """When no 201 came for a while after PostgreSQL was back: its processes and connections then."""


def plan_crashes(rng: random.Random, *, duration: float, kills: int, longest_down: float) -> list[Crash]:
    """One kill at a random moment in the first half of each of ``kills`` equal slots, so that
    each restart has time to recover before the next kill and the last before the load ends."""
    if kills == 0:
        return []
    warmup = duration * _WARMUP_SHARE
    slot = (duration - warmup - _COOLDOWN) / kills
    if slot < max(_SHORTEST_SLOT, 2 * longest_down):
        raise ValueError(f"{kills} kills do not fit in {duration:g} s: allow at least {_SHORTEST_SLOT:g} s per kill")
    return [
        Crash(
            number=i + 1,
            killed_at=round(warmup + i * slot + rng.uniform(0, slot / 2), 1),
            down_for=round(rng.uniform(0, longest_down), 1),
        )
        for i in range(kills)
    ]


async def run_nemesis(server: PostgresServer, crashes: list[Crash], history: History, *, load_ends: float) -> None:
    """Carry out ``crashes`` in order, each at its moment."""
    for index, crash in enumerate(crashes):
        await asyncio.sleep(max(0.0, crash.killed_at - history.now()))
        next_kill = crashes[index + 1].killed_at if index + 1 < len(crashes) else load_ends
        await crash_and_restart(server, crash, history, watch_until=next_kill)


async def crash_and_restart(
    server: PostgresServer, crash: Crash, history: History, *, watch_until: float | None = None
) -> None:
    """SIGKILL the server, restart it after ``crash.down_for``, wait until it accepts connections
    and, during the load, until the service acknowledges a write again (or ``watch_until``)."""
    crash.pid = server.pid
    crash.requests_in_flight = len(history.in_flight)
    crash.killed_at = round(history.now(), 2)
    crash.survivors = server.crash()
    _say(
        history,
        f"kill #{crash.number}: SIGKILL postmaster pid {crash.pid}, then {crash.survivors} of its processes "
        f"still alive; {crash.requests_in_flight} intended tasks in flight; down for {crash.down_for:.1f} s",
    )
    await asyncio.sleep(crash.down_for)
    restarted_at = history.now()
    crash.restarted_at = round(restarted_at, 2)
    pid = server.start()
    _say(history, f"restart #{crash.number}: PostgreSQL pid {pid} on the same data directory")
    await server.wait_ready()
    crash.accepting_after = round(history.now() - restarted_at, 2)
    _say(history, f"restart #{crash.number}: accepting connections after {crash.accepting_after:.2f} s")
    if not crash.during_load:
        return
    stalled_at = history.now() + _STALLED_AFTER
    while (first := history.first_ack_after(restarted_at)) is None:
        if history.now() >= stalled_at:
            stalled_at = float("inf")
            await _show_stall(server, crash, history)
        if watch_until is not None and history.now() >= watch_until:
            _say(history, f"restart #{crash.number}: NO write acknowledged before the next kill or the end")
            return
        await asyncio.sleep(0.05)
    crash.recovery = round(first - restarted_at, 2)
    _say(history, f"restart #{crash.number}: first 201 after {crash.recovery:.2f} s (recovery time)")


async def _show_stall(server: PostgresServer, crash: Crash, history: History) -> None:
    """Evidence for a service that does not recover: PostgreSQL's processes and its connections."""
    _say(history, f"restart #{crash.number}: STALLED: PostgreSQL is up but no 201 for {_STALLED_AFTER:g} s")
    try:
        activity = await server.activity()
    except psycopg.Error as error:
        activity = [f"cannot read pg_stat_activity: {error}"]
    crash.stalled = [
        "PostgreSQL's processes:",
        *server.processes(),
        "connections to the todo database (pg_stat_activity):",
        *(activity or ["none"]),
    ]
    for line in crash.stalled:
        print(f"           {line}", flush=True)


def _say(history: History, message: str) -> None:
    print(f"[{history.now():7.1f}s] {message}", flush=True)
