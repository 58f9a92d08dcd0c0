"""Admission to the database connections: first come, first served, no place ever lost."""

from __future__ import annotations

import asyncio

import pytest
from psycopg_pool import PoolTimeout

from todo_adapters.postgres.admission import Admission

LONG = 30.0  # a wait that never runs out within a test


async def _settle() -> None:
    """Let every task that can run do so."""
    for _ in range(5):
        await asyncio.sleep(0)


async def _queue_up(
    admission: Admission, names: list[str], wait: float = LONG
) -> tuple[list[str], list[asyncio.Task[None]]]:
    admitted: list[str] = []

    async def caller(name: str) -> None:
        await admission.enter(wait)
        admitted.append(name)

    tasks = []
    for name in names:
        tasks.append(asyncio.create_task(caller(name)))
        await _settle()
    return admitted, tasks


async def test_callers_up_to_the_size_get_in_and_the_rest_wait_their_turn_in_arrival_order() -> None:
    admission = Admission(2)
    admitted, tasks = await _queue_up(admission, ["a", "b", "c", "d", "e"])
    assert admitted == ["a", "b"]
    assert admission.waiting == 3

    for expected in (["a", "b", "c"], ["a", "b", "c", "d"], ["a", "b", "c", "d", "e"]):
        admission.leave()
        await _settle()
        assert admitted == expected
    await asyncio.gather(*tasks)


async def test_a_caller_that_waits_too_long_is_turned_away_and_no_place_is_lost() -> None:
    admission = Admission(1)
    await admission.enter(LONG)

    with pytest.raises(PoolTimeout, match="TODO_DB_POOL_TIMEOUT"):
        await admission.enter(0.05)

    admission.leave()
    await asyncio.wait_for(admission.enter(LONG), 5)  # the one place is free again
    assert admission.waiting == 0


async def test_a_short_wait_behind_a_long_one_ends_at_its_own_deadline() -> None:
    admission = Admission(1)
    await admission.enter(LONG)
    _, patient = await _queue_up(admission, ["patient"], wait=LONG)

    with pytest.raises(PoolTimeout):
        await asyncio.wait_for(admission.enter(0.05), 5)

    admission.leave()
    await asyncio.wait_for(patient[0], 5)  # the patient caller still gets the place


async def test_a_caller_cancelled_while_waiting_neither_holds_nor_loses_a_place() -> None:
    admission = Admission(1)
    await admission.enter(LONG)
    admitted, tasks = await _queue_up(admission, ["gone", "next"])

    tasks[0].cancel()
    await _settle()
    admission.leave()
    await _settle()

    assert admitted == ["next"]
    admission.leave()
    await asyncio.wait_for(admission.enter(LONG), 5)


async def test_a_place_handed_to_a_caller_cancelled_before_it_resumes_passes_to_the_next() -> None:
    admission = Admission(1)
    await admission.enter(LONG)
    admitted, tasks = await _queue_up(admission, ["cancelled", "next"])

    admission.leave()  # hands the place to the first waiter...
    tasks[0].cancel()  # ...which is cancelled before it runs again
    await _settle()

    assert tasks[0].cancelled()
    assert admitted == ["next"]
