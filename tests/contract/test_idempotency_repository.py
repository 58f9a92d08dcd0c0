"""The idempotency repository contract: every storage adapter must pass every case here, unchanged.

Runs once per adapter through the parametrized ``storage`` fixture. The lock is PostgreSQL's
alone to prove: in memory an atomic block holds the one lock of the tables, so a second block
cannot even start until the first ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from todo_core import IdempotencyRecord, Storage, Task, UnitOfWork, User

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
DAY = timedelta(hours=24)
# Every character a key may hold, quotes and backslash included.
EVERY_KEY_CHARACTER = "".join(chr(code) for code in range(0x20, 0x7F))


def a_task(*, user_id: str = "ada", number: int = 1, title: str = "Write the report") -> Task:
    return Task(
        id=UUID(int=0x7 << 76 | 0b10 << 62 | number),
        user_id=user_id,
        title=title,
        description=None,
        completed=False,
        completed_at=None,
        created_at=T0,
        updated_at=T0,
        version=1,
    )


def record(
    outcome: Task | User,
    *,
    scope: str = "ada",
    key: str = "key-1",
    fingerprint: str = "f" * 64,
    created_at: datetime = T0,
    retention: timedelta = DAY,
) -> IdempotencyRecord:
    return IdempotencyRecord(
        scope=scope,
        key=key,
        fingerprint=fingerprint,
        outcome=outcome,
        created_at=created_at,
        expires_at=created_at + retention,
    )


async def save(storage: Storage, *records: IdempotencyRecord) -> None:
    async with storage.unit_of_work() as uow:
        for item in records:
            await uow.idempotency.save(item)


class Interrupted(Exception):
    """What leaves an atomic block early in these tests."""


async def interrupted_atomic_block(storage: Storage, work: Callable[[UnitOfWork], Awaitable[object]]) -> None:
    """Do ``work`` inside an atomic block, then leave the block by an exception."""
    async with storage.unit_of_work() as uow, uow.atomic():
        await work(uow)
        raise Interrupted


async def find(storage: Storage, scope: str, key: str, *, now: datetime) -> IdempotencyRecord | None:
    async with storage.unit_of_work() as uow:
        return await uow.idempotency.find(scope, key, now=now)


async def test_a_saved_task_outcome_is_found_with_every_field_as_it_was(storage: Storage) -> None:
    task = Task(
        id=UUID("0195f7a4-8a1e-7c3d-9b2a-4f6e8d0c1b2a"),
        user_id="ada",
        title="Ünïcödé ✈ 日本語 👩‍💻 עברית",
        description='line one\nline "two"\twith a tab \\ and a backslash',
        completed=True,
        completed_at=datetime(2026, 3, 1, 12, 30, 45, 999999, tzinfo=UTC),
        # Given at another UTC offset: the instant must come back, whatever offset it comes back in.
        created_at=datetime(2026, 3, 1, 13, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
        updated_at=datetime(2026, 3, 1, 12, 30, 45, 999999, tzinfo=UTC),
        version=7,
    )
    saved = record(task, key=EVERY_KEY_CHARACTER, fingerprint="0123456789abcdef" * 4)

    await save(storage, saved)
    found = await find(storage, "ada", EVERY_KEY_CHARACTER, now=T0)

    assert found == saved  # dataclass equality: every field of the record and of the task


async def test_a_saved_user_outcome_is_found_with_every_field_as_it_was(storage: Storage) -> None:
    saved = record(User(id="grace", email="Grace.Hopper+ñ@Example.com", created_at=T0), scope="")

    await save(storage, saved)

    assert await find(storage, "", "key-1", now=T0) == saved


async def test_a_user_outcome_without_an_email_round_trips(storage: Storage) -> None:
    saved = record(User(id="grace", email=None, created_at=T0), scope="grace")

    await save(storage, saved)

    assert await find(storage, "grace", "key-1", now=T0) == saved


async def test_a_task_outcome_with_an_empty_description_round_trips_as_empty_not_absent(storage: Storage) -> None:
    saved = record(a_task()._replace(description=""))

    await save(storage, saved)

    assert await find(storage, "ada", "key-1", now=T0) == saved


async def test_finding_a_key_never_saved_finds_nothing(storage: Storage) -> None:
    assert await find(storage, "ada", "never-used", now=T0) is None


async def test_a_record_is_found_until_it_expires_and_not_from_its_expiry_on(storage: Storage) -> None:
    saved = record(a_task())
    await save(storage, saved)

    assert await find(storage, "ada", "key-1", now=saved.expires_at - timedelta(microseconds=1)) == saved
    assert await find(storage, "ada", "key-1", now=saved.expires_at) is None
    assert await find(storage, "ada", "key-1", now=saved.expires_at + DAY) is None


async def test_saving_over_an_expired_record_replaces_it(storage: Storage) -> None:
    first = record(a_task(number=1, title="First"), fingerprint="1" * 64)
    await save(storage, first)
    later = first.expires_at + timedelta(minutes=5)
    second = record(a_task(number=2, title="Second"), fingerprint="2" * 64, created_at=later)

    await save(storage, second)

    assert await find(storage, "ada", "key-1", now=later) == second


async def test_purging_deletes_only_the_expired_records_and_counts_them(storage: Storage) -> None:
    expired = [record(a_task(number=n), key=f"old-{n}", retention=timedelta(hours=n)) for n in (1, 2, 3)]
    live = [record(a_task(number=n), key=f"live-{n}", retention=DAY + timedelta(hours=n)) for n in (1, 2)]
    await save(storage, *expired, *live)
    now = T0 + DAY

    async with storage.unit_of_work() as uow:
        purged = await uow.idempotency.purge(now=now)
        purged_again = await uow.idempotency.purge(now=now)

    assert (purged, purged_again) == (3, 0)
    for gone in expired:
        # Looked up as of before its expiry: only purging can explain its absence.
        assert await find(storage, "ada", gone.key, now=T0) is None
    for kept in live:
        assert await find(storage, "ada", kept.key, now=now) == kept


async def test_a_record_is_purged_from_its_expiry_on_just_as_it_stops_being_found(storage: Storage) -> None:
    saved = record(a_task())
    await save(storage, saved)

    async with storage.unit_of_work() as uow:
        before = await uow.idempotency.purge(now=saved.expires_at - timedelta(microseconds=1))
        at_expiry = await uow.idempotency.purge(now=saved.expires_at)

    assert (before, at_expiry) == (0, 1)


async def test_purging_with_nothing_expired_deletes_nothing(storage: Storage) -> None:
    saved = record(a_task())
    await save(storage, saved)

    async with storage.unit_of_work() as uow:
        assert await uow.idempotency.purge(now=T0) == 0

    assert await find(storage, "ada", "key-1", now=T0) == saved


async def test_the_same_key_in_two_scopes_is_two_independent_records(storage: Storage) -> None:
    adas = record(a_task(user_id="ada", number=1), scope="ada", key="shared", fingerprint="a" * 64)
    bobs = record(a_task(user_id="bob", number=2), scope="bob", key="shared", fingerprint="b" * 64)

    await save(storage, adas)
    assert await find(storage, "bob", "shared", now=T0) is None
    await save(storage, bobs)

    assert await find(storage, "ada", "shared", now=T0) == adas
    assert await find(storage, "bob", "shared", now=T0) == bobs
    assert await find(storage, "", "shared", now=T0) is None


async def test_keys_compare_exactly_not_ignoring_case_or_spaces(storage: Storage) -> None:
    saved = record(a_task(), key="Key-1")
    await save(storage, saved)

    for other in ("key-1", "KEY-1", " Key-1", "Key-1 "):
        assert await find(storage, "ada", other, now=T0) is None, other
    assert await find(storage, "ada", "Key-1", now=T0) == saved


async def test_a_record_saved_in_a_failed_atomic_block_is_gone_with_the_task_saved_beside_it(
    storage: Storage,
) -> None:
    async with storage.unit_of_work() as uow:
        await uow.users.add(User(id="ada", email="ada@example.com", created_at=T0))
    task = a_task()

    async def create(uow: UnitOfWork) -> None:
        await uow.tasks.add(task)
        await uow.idempotency.save(record(task))

    with pytest.raises(Interrupted):
        await interrupted_atomic_block(storage, create)

    assert await find(storage, "ada", "key-1", now=T0) is None
    async with storage.unit_of_work() as uow:
        assert await uow.tasks.get("ada", task.id) is None


async def test_a_record_saved_in_a_finished_atomic_block_is_kept_with_its_task(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        await uow.users.add(User(id="ada", email="ada@example.com", created_at=T0))
    task = a_task()
    saved = record(task)

    async with storage.unit_of_work() as uow, uow.atomic():
        assert await uow.idempotency.lock("ada", "key-1")
        await uow.tasks.add(task)
        await uow.idempotency.save(saved)

    assert await find(storage, "ada", "key-1", now=T0) == saved
    async with storage.unit_of_work() as uow:
        assert await uow.tasks.get("ada", task.id) == task


async def test_purging_inside_a_failed_atomic_block_deletes_nothing(storage: Storage) -> None:
    saved = record(a_task(), retention=timedelta(hours=1))
    await save(storage, saved)
    purged: list[int] = []

    async def purge(uow: UnitOfWork) -> None:
        purged.append(await uow.idempotency.purge(now=T0 + DAY))

    with pytest.raises(Interrupted):
        await interrupted_atomic_block(storage, purge)

    assert purged == [1]

    assert await find(storage, "ada", "key-1", now=T0) == saved


@pytest.mark.postgres
@pytest.mark.parametrize("storage", ["postgres"], indirect=True)
async def test_a_key_locked_in_one_open_atomic_block_cannot_be_locked_by_another_until_it_ends(
    storage: Storage,
) -> None:
    locked = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> bool:
        async with storage.unit_of_work() as uow, uow.atomic():
            held = await uow.idempotency.lock("ada", "key-1")
            locked.set()
            await release.wait()
            return held

    async def contender() -> dict[str, bool]:
        await locked.wait()
        try:
            async with storage.unit_of_work() as uow, uow.atomic():
                return {
                    "same key": await uow.idempotency.lock("ada", "key-1"),
                    "another key": await uow.idempotency.lock("ada", "key-2"),
                    "same key, another scope": await uow.idempotency.lock("bob", "key-1"),
                    # Twice in its own block, the holder's key is still refused.
                    "same key again": await uow.idempotency.lock("ada", "key-1"),
                }
        finally:
            release.set()

    async with asyncio.timeout(30):  # a hang guard, not a measurement
        held, seen = await asyncio.gather(holder(), contender())

    assert held is True
    assert seen == {"same key": False, "another key": True, "same key, another scope": True, "same key again": False}
    async with storage.unit_of_work() as uow, uow.atomic():
        assert await uow.idempotency.lock("ada", "key-1") is True


@pytest.mark.postgres
@pytest.mark.parametrize("storage", ["postgres"], indirect=True)
async def test_a_lock_is_released_when_its_atomic_block_fails(storage: Storage) -> None:
    held: list[bool] = []

    async def lock(uow: UnitOfWork) -> None:
        held.append(await uow.idempotency.lock("ada", "key-1"))

    with pytest.raises(Interrupted):
        await interrupted_atomic_block(storage, lock)

    assert held == [True]

    async with storage.unit_of_work() as uow, uow.atomic():
        assert await uow.idempotency.lock("ada", "key-1") is True


async def test_keys_may_hold_every_printable_ascii_character_and_up_to_255_of_them(storage: Storage) -> None:
    keys = [EVERY_KEY_CHARACTER, "k" * 255, " ", "~"]
    saved = [record(a_task(number=n), key=key) for n, key in enumerate(keys, start=1)]

    await save(storage, *saved)

    for item in saved:
        assert await find(storage, "ada", item.key, now=T0) == item
