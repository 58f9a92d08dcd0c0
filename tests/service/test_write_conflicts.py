"""Writes that a concurrent write got in the way of: the use cases retry them once, then give up with
WriteConflict, which HTTP answers 409 with Retry-After.

``ConflictingStorage`` is a fake of the Storage port: the in-memory adapter, except that the repository
calls it is told to fail raise WriteConflict first, as the PostgreSQL adapter does for a deadlock or a
serialization failure. Like those, a conflict aborts the call (and the atomic block around it) before it
changes anything. On PostgreSQL a real deadlock shows that the adapter raises exactly that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import assert_error
from tests.support import SequentialIds, TickingClock
from tests.tokens import AUDIENCE, ISSUER, SECRET, bearer, claims, mint_with_secret
from todo_adapters.http import create_app
from todo_adapters.memory import InMemoryStorage
from todo_adapters.settings import Settings
from todo_core import (
    Storage,
    StorageUnavailable,
    Task,
    TaskChanges,
    TaskService,
    UnitOfWork,
    UserNotFound,
    UserService,
    WriteConflict,
)


class ConflictingStorage(Storage):
    """In-memory storage whose chosen repository calls ("tasks.add", "idempotency.save", ...) first
    meet a conflicting write a given number of times."""

    def __init__(self) -> None:
        self._inner = InMemoryStorage()
        self._remaining: dict[str, int] = {}

    def conflict(self, call: str, *, times: int) -> None:
        """Make the next ``times`` calls of ``call`` raise WriteConflict."""
        self._remaining[call] = times

    def meet(self, call: str) -> None:
        if self._remaining.get(call, 0) > 0:
            self._remaining[call] -= 1
            raise WriteConflict()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self._inner.unit_of_work() as uow:
            yield _ConflictingUnitOfWork(uow, self)


class _ConflictingRepository:
    """Stands for a repository of any of the three ports: each method first meets its conflicts."""

    def __init__(self, name: str, inner: object, storage: ConflictingStorage) -> None:
        self._name = name
        self._inner = inner
        self._storage = storage

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        real = getattr(self._inner, method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._storage.meet(f"{self._name}.{method}")
            return await real(*args, **kwargs)

        return call


class _ConflictingUnitOfWork(UnitOfWork):
    def __init__(self, inner: UnitOfWork, storage: ConflictingStorage) -> None:
        self._inner = inner
        self._users: Any = _ConflictingRepository("users", inner.users, storage)
        self._tasks: Any = _ConflictingRepository("tasks", inner.tasks, storage)
        self._idempotency: Any = _ConflictingRepository("idempotency", inner.idempotency, storage)

    @property
    def users(self) -> Any:
        return self._users

    @property
    def tasks(self) -> Any:
        return self._tasks

    @property
    def idempotency(self) -> Any:
        return self._idempotency

    def atomic(self) -> AbstractAsyncContextManager[None]:
        return self._inner.atomic()


@pytest.fixture
def conflicting() -> ConflictingStorage:
    return ConflictingStorage()


@pytest.fixture
def users(conflicting: ConflictingStorage, clock: TickingClock, new_id: SequentialIds) -> UserService:
    return UserService(conflicting, clock=clock, new_id=new_id)


@pytest.fixture
def tasks(conflicting: ConflictingStorage, clock: TickingClock, new_id: SequentialIds) -> TaskService:
    return TaskService(conflicting, clock=clock, new_id=new_id)


@pytest.fixture
async def ada(users: UserService) -> None:
    await users.register_user("ada@example.com", user_id="ada")


async def all_tasks(tasks: TaskService) -> list[Task]:
    return (await tasks.list_tasks("ada")).tasks


# Creating


@pytest.mark.usefixtures("ada")
async def test_a_create_that_meets_a_conflict_once_succeeds_and_stores_one_task(
    tasks: TaskService, conflicting: ConflictingStorage
) -> None:
    conflicting.conflict("tasks.add", times=1)

    created = await tasks.create_task("ada", "Buy milk")

    assert await all_tasks(tasks) == [created]


@pytest.mark.usefixtures("ada")
async def test_a_create_that_meets_a_conflict_twice_raises_it_and_stores_nothing(
    tasks: TaskService, conflicting: ConflictingStorage
) -> None:
    conflicting.conflict("tasks.add", times=2)

    with pytest.raises(WriteConflict):
        await tasks.create_task("ada", "Buy milk")

    assert await all_tasks(tasks) == []


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize("call", ["idempotency.lock", "idempotency.find", "tasks.add", "idempotency.save"])
async def test_a_keyed_create_that_meets_a_conflict_once_stores_one_task_which_the_key_then_replays(
    tasks: TaskService, conflicting: ConflictingStorage, call: str
) -> None:
    conflicting.conflict(call, times=1)

    created = await tasks.create_task_once("ada", "Buy milk", idempotency_key="order-1")
    repeated = await tasks.create_task_once("ada", "Buy milk", idempotency_key="order-1")

    assert not created.replayed
    assert (repeated.value, repeated.replayed) == (created.value, True)
    assert await all_tasks(tasks) == [created.value]


@pytest.mark.usefixtures("ada")
async def test_a_keyed_create_whose_key_record_conflicts_twice_stores_neither_task_nor_key(
    tasks: TaskService, conflicting: ConflictingStorage
) -> None:
    # The task is written before the key's record in the same block: both go, or neither.
    conflicting.conflict("idempotency.save", times=2)

    with pytest.raises(WriteConflict):
        await tasks.create_task_once("ada", "Buy milk", idempotency_key="order-1")

    assert await all_tasks(tasks) == []
    retried = await tasks.create_task_once("ada", "Buy milk", idempotency_key="order-1")
    assert not retried.replayed
    assert await all_tasks(tasks) == [retried.value]


async def test_a_registration_that_meets_a_conflict_once_registers_the_user_once(
    users: UserService, conflicting: ConflictingStorage
) -> None:
    conflicting.conflict("users.add", times=1)

    registered = await users.register_user("grace@example.com", user_id="grace")

    assert await users.get_user("grace") == registered


async def test_a_registration_that_meets_a_conflict_twice_raises_it_and_registers_nobody(
    users: UserService, conflicting: ConflictingStorage
) -> None:
    conflicting.conflict("users.add", times=2)

    with pytest.raises(WriteConflict):
        await users.register_user("grace@example.com", user_id="grace", idempotency_key="signup-1")

    with pytest.raises(UserNotFound):
        await users.get_user("grace")


# Changing and deleting


@pytest.mark.usefixtures("ada")
async def test_a_change_that_meets_a_conflict_once_is_applied_exactly_once(
    tasks: TaskService, conflicting: ConflictingStorage
) -> None:
    task = await tasks.create_task("ada", "Buy milk")
    conflicting.conflict("tasks.update", times=1)

    # A toggle applied twice would leave the task as it was: once means completed.
    toggled = await tasks.toggle_completion("ada", task.id)

    assert (toggled.completed, toggled.version) == (True, 2)
    assert await tasks.get_task("ada", task.id) == toggled


@pytest.mark.usefixtures("ada")
async def test_a_change_that_meets_a_conflict_twice_raises_it_and_changes_nothing(
    tasks: TaskService, conflicting: ConflictingStorage
) -> None:
    task = await tasks.create_task("ada", "Buy milk")
    conflicting.conflict("tasks.update", times=2)

    with pytest.raises(WriteConflict):
        await tasks.update_task("ada", task.id, title="Buy bread")

    assert await tasks.get_task("ada", task.id) == task


@pytest.mark.usefixtures("ada")
async def test_a_delete_that_meets_a_conflict_once_deletes_and_twice_keeps_the_task(
    tasks: TaskService, conflicting: ConflictingStorage
) -> None:
    doomed = await tasks.create_task("ada", "Doomed")
    kept = await tasks.create_task("ada", "Kept")

    conflicting.conflict("tasks.remove", times=1)
    await tasks.delete_task("ada", doomed.id)
    conflicting.conflict("tasks.remove", times=2)
    with pytest.raises(WriteConflict):
        await tasks.delete_task("ada", kept.id)

    assert await all_tasks(tasks) == [kept]


async def test_deleting_a_user_that_meets_a_conflict_once_deletes_them(
    users: UserService, conflicting: ConflictingStorage
) -> None:
    await users.register_user("grace@example.com", user_id="grace")
    conflicting.conflict("users.remove", times=1)

    await users.delete_user("grace")

    with pytest.raises(UserNotFound):
        await users.get_user("grace")


# Through HTTP


@pytest.fixture
async def client(
    conflicting: ConflictingStorage, clock: TickingClock, new_id: SequentialIds
) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings=Settings(auth="disabled"), storage=conflicting, clock=clock, new_id=new_id)
    async with AsyncTestClient(app) as test_client:
        registered = await test_client.post("/api/users", json={"id": "ada", "email": "ada@example.com"})
        assert registered.status_code == 201, registered.text
        yield test_client


WRITES = {
    "create": ("tasks.add", "POST", "/api/ada/tasks", {"title": "Buy bread"}),
    "create with a key": ("idempotency.save", "POST", "/api/ada/tasks", {"title": "Buy bread"}),
    "replace": ("tasks.update", "PUT", "/api/ada/tasks/{id}", {"title": "Buy bread"}),
    "patch": ("tasks.update", "PATCH", "/api/ada/tasks/{id}", {"title": "Buy bread"}),
    "complete": ("tasks.update", "PATCH", "/api/ada/tasks/{id}/complete", None),
    "delete": ("tasks.remove", "DELETE", "/api/ada/tasks/{id}", None),
    "register": ("users.add", "POST", "/api/users", {"id": "grace", "email": "grace@example.com"}),
    "delete a user": ("users.remove", "DELETE", "/api/users/ada", None),
}


async def send(client: AsyncTestClient, write: str, task_id: str) -> Any:
    _, method, path, body = WRITES[write]
    headers = {"Idempotency-Key": "order-1"} if write == "create with a key" else {}
    return await client.request(method, path.format(id=task_id), json=body, headers=headers)


async def snapshot(client: AsyncTestClient) -> tuple[Any, ...]:
    ada, grace, listing = [await client.get(path) for path in ("/api/users/ada", "/api/users/grace", "/api/ada/tasks")]
    return ada.status_code, grace.status_code, listing.json()


@pytest.mark.parametrize("write", WRITES)
async def test_a_write_that_meets_a_conflict_twice_answers_409_write_conflict_with_retry_after_and_changes_nothing(
    client: AsyncTestClient, conflicting: ConflictingStorage, write: str
) -> None:
    task = (await client.post("/api/ada/tasks", json={"title": "Buy milk"})).json()
    before = await snapshot(client)
    conflicting.conflict(WRITES[write][0], times=2)

    response = await send(client, write, task["id"])

    assert_error(response, 409, "WRITE_CONFLICT")
    assert response.headers["retry-after"] == "1"
    assert await snapshot(client) == before


@pytest.mark.parametrize("write", WRITES)
async def test_a_write_that_meets_a_conflict_once_succeeds(
    client: AsyncTestClient, conflicting: ConflictingStorage, write: str
) -> None:
    task = (await client.post("/api/ada/tasks", json={"title": "Buy milk"})).json()
    conflicting.conflict(WRITES[write][0], times=1)

    response = await send(client, write, task["id"])

    assert response.status_code in {200, 201, 204}, response.text


@pytest.mark.parametrize(("times", "status"), [(1, 201), (2, 409)])
async def test_a_first_signed_in_call_whose_user_creation_meets_conflicts_is_retried_once_then_answers_409(
    conflicting: ConflictingStorage, clock: TickingClock, new_id: SequentialIds, times: int, status: int
) -> None:
    settings = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    app = create_app(settings=settings, storage=conflicting, clock=clock, new_id=new_id)
    conflicting.conflict("users.add", times=times)
    async with AsyncTestClient(app) as client:
        response = await client.post(
            "/api/grace/tasks", json={"title": "Buy milk"}, headers=bearer(mint_with_secret(claims("grace")))
        )

        assert response.status_code == status, response.text
        if status == 409:
            assert_error(response, 409, "WRITE_CONFLICT")
            assert response.headers["retry-after"] == "1"


# A real deadlock in PostgreSQL


@pytest.mark.postgres
@pytest.mark.parametrize("storage", ["postgres"], indirect=True)
async def test_the_loser_of_a_real_deadlock_surfaces_as_a_write_conflict_and_its_writes_are_undone(
    storage: Storage, clock: TickingClock, new_id: SequentialIds
) -> None:
    await UserService(storage, clock=clock, new_id=new_id).register_user("ada@example.com", user_id="ada")
    service = TaskService(storage, clock=clock, new_id=new_id)
    first, second = [await service.create_task("ada", title) for title in ("First", "Second")]
    each_holds_one_row = asyncio.Barrier(2)
    now = datetime(2026, 1, 2, tzinfo=UTC)

    async def change_both(writer: str, one: Task, other: Task) -> str:
        async with storage.unit_of_work() as uow, uow.atomic():
            await uow.tasks.update("ada", one.id, TaskChanges(title=f"By {writer}"), now=now)
            await each_holds_one_row.wait()
            # Each now waits for the row the other holds: PostgreSQL must pick a loser.
            await uow.tasks.update("ada", other.id, TaskChanges(title=f"By {writer}"), now=now)
        return writer

    async with asyncio.timeout(30):  # a hang guard, not a measurement
        outcomes = await asyncio.gather(
            change_both("A", first, second), change_both("B", second, first), return_exceptions=True
        )

    winners = [outcome for outcome in outcomes if isinstance(outcome, str)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    loser = losers[0]
    assert isinstance(loser, WriteConflict), repr(loser)
    assert not isinstance(loser, (psycopg.Error, StorageUnavailable))
    assert "deadlock" not in str(loser).lower()  # the person reading it gets no storage internals
    stored = [await service.get_task("ada", task.id) for task in (first, second)]
    assert [task.title for task in stored] == [f"By {winners[0]}"] * 2
    assert [task.version for task in stored] == [2, 2]
