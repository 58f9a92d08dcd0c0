"""Storage in this process's memory: the zero-setup default and the reference the contract tests hold
PostgreSQL to. Data lives as long as the process.

Every call runs under one lock, so each is atomic and sees only finished writes; an
``atomic()`` block holds the lock throughout and records how to undo each write, which it
replays backwards if the block fails.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from todo_core import (
    EmailTaken,
    IdempotencyRecord,
    PreconditionFailed,
    Task,
    TaskChanges,
    TaskNotFound,
    TaskQuery,
    TaskRepository,
    UnitOfWork,
    User,
    UserIdTaken,
    UserNotFound,
    UserRepository,
)
from todo_core.listing import ordering_key, sort_value
from todo_core.ports import IdempotencyRepository
from todo_core.rules import email_key

__all__ = [
    "InMemoryIdempotencyRepository",
    "InMemoryStorage",
    "InMemoryTaskRepository",
    "InMemoryUnitOfWork",
    "InMemoryUserRepository",
]

_ABSENT: Any = object()


@dataclass(slots=True)
class _Tables:
    users: dict[str, User] = field(default_factory=dict)
    user_id_by_email: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, dict[UUID, Task]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class _Writer:
    """Writes to the tables, remembering the previous values while an atomic block is open."""

    __slots__ = ("undo",)

    def __init__(self) -> None:
        self.undo: list[tuple[MutableMapping[Any, Any], Any, Any]] | None = None

    def put(self, table: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        if self.undo is not None:
            self.undo.append((table, key, table.get(key, _ABSENT)))
        table[key] = value

    def delete(self, table: MutableMapping[Any, Any], key: Any) -> None:
        if self.undo is not None:
            self.undo.append((table, key, table[key]))
        del table[key]

    def roll_back(self, undo: list[tuple[MutableMapping[Any, Any], Any, Any]]) -> None:
        for table, key, previous in reversed(undo):
            if previous is _ABSENT:
                table.pop(key, None)
            else:
                table[key] = previous


class _Repository:
    __slots__ = ("_tables", "_writer")

    def __init__(self, tables: _Tables, writer: _Writer) -> None:
        self._tables = tables
        self._writer = writer

    def _exclusive(self) -> AbstractAsyncContextManager[Any]:
        # Inside its own atomic block the unit of work already holds the lock.
        return nullcontext() if self._writer.undo is not None else self._tables.lock


class InMemoryUserRepository(_Repository, UserRepository):
    """Users in memory."""

    async def add(self, user: User) -> None:
        async with self._exclusive():
            tables = self._tables
            if user.id in tables.users:
                raise UserIdTaken(user.id)
            if user.email is not None:
                if email_key(user.email) in tables.user_id_by_email:
                    raise EmailTaken(user.email)
                self._writer.put(tables.user_id_by_email, email_key(user.email), user.id)
            self._writer.put(tables.users, user.id, user)
            self._writer.put(tables.tasks, user.id, {})

    async def get(self, user_id: str) -> User | None:
        async with self._exclusive():
            return self._tables.users.get(user_id)

    async def set_email(self, user_id: str, email: str) -> User | None:
        async with self._exclusive():
            tables = self._tables
            user = tables.users.get(user_id)
            if user is None:
                return None
            if tables.user_id_by_email.get(email_key(email)) not in (None, user_id):
                raise EmailTaken(email)
            if user.email is not None:
                self._writer.delete(tables.user_id_by_email, email_key(user.email))
            self._writer.put(tables.user_id_by_email, email_key(email), user_id)
            changed = replace(user, email=email)
            self._writer.put(tables.users, user_id, changed)
            return changed

    async def remove(self, user_id: str) -> bool:
        async with self._exclusive():
            tables = self._tables
            user = tables.users.get(user_id)
            if user is None:
                return False
            self._writer.delete(tables.users, user_id)
            if user.email is not None:
                self._writer.delete(tables.user_id_by_email, email_key(user.email))
            self._writer.delete(tables.tasks, user_id)
            return True


class InMemoryTaskRepository(_Repository, TaskRepository):
    """Tasks in memory, held per owner."""

    async def add(self, task: Task) -> None:
        async with self._exclusive():
            owned = self._tables.tasks.get(task.user_id)
            if owned is None:
                raise UserNotFound(task.user_id)
            self._writer.put(owned, task.id, task)

    async def get(self, user_id: str, task_id: UUID) -> Task | None:
        async with self._exclusive():
            return self._tables.tasks.get(user_id, {}).get(task_id)

    async def list(self, user_id: str, query: TaskQuery) -> list[Task] | None:
        async with self._exclusive():
            owned = self._tables.tasks.get(user_id)
            if owned is None:
                return None
            candidates = [task for task in owned.values() if query.matches(task)]
        field, descending = query.order.field, query.order.descending

        def position(task: Task) -> tuple[Any, UUID]:
            return ordering_key(sort_value(task, field), field), task.id

        if query.after is not None:
            after = (ordering_key(query.after.key, field), query.after.task_id)
            candidates = [t for t in candidates if (position(t) < after if descending else position(t) > after)]
        pick = heapq.nlargest if descending else heapq.nsmallest
        return pick(query.limit, candidates, key=position)

    async def update(
        self,
        user_id: str,
        task_id: UUID,
        changes: TaskChanges,
        *,
        now: datetime,
        expected_versions: frozenset[int] | None = None,
    ) -> Task:
        async with self._exclusive():
            owned, task = self._owned(user_id, task_id, expected_versions)
            changed = task.apply(changes, now=now)
            if changed is not task:
                self._writer.put(owned, task_id, changed)
            return changed

    async def remove(self, user_id: str, task_id: UUID, *, expected_versions: frozenset[int] | None = None) -> None:
        async with self._exclusive():
            owned, _ = self._owned(user_id, task_id, expected_versions)
            self._writer.delete(owned, task_id)

    def _owned(
        self, user_id: str, task_id: UUID, expected_versions: frozenset[int] | None
    ) -> tuple[dict[UUID, Task], Task]:
        owned = self._tables.tasks.get(user_id, {})
        task = owned.get(task_id)
        if task is None:
            raise TaskNotFound(user_id=user_id, task_id=task_id)
        if expected_versions is not None and task.version not in expected_versions:
            raise PreconditionFailed(task_id=task_id, current_version=task.version)
        return owned, task


class InMemoryIdempotencyRepository(_Repository, IdempotencyRepository):
    """Idempotency records in memory."""

    async def lock(self, scope: str, key: str) -> bool:
        # An atomic block holds the one lock of the tables: no other block can hold the key.
        return True

    async def find(self, scope: str, key: str, *, now: datetime) -> IdempotencyRecord | None:
        async with self._exclusive():
            record = self._tables.idempotency.get((scope, key))
        return record if record is not None and record.expires_at > now else None

    async def save(self, record: IdempotencyRecord) -> None:
        async with self._exclusive():
            live = self._tables.idempotency.get((record.scope, record.key))
            if live is None or live.expires_at <= record.created_at:
                self._writer.put(self._tables.idempotency, (record.scope, record.key), record)

    async def purge(self, *, now: datetime) -> int:
        async with self._exclusive():
            table = self._tables.idempotency
            expired = [key for key, record in table.items() if record.expires_at <= now]
            for key in expired:
                self._writer.delete(table, key)
            return len(expired)


class InMemoryUnitOfWork(UnitOfWork):
    """One use case's view of the in-memory tables."""

    __slots__ = ("_idempotency", "_tables", "_tasks", "_users", "_writer")

    def __init__(self, tables: _Tables) -> None:
        self._tables = tables
        self._writer = _Writer()
        self._users = InMemoryUserRepository(tables, self._writer)
        self._tasks = InMemoryTaskRepository(tables, self._writer)
        self._idempotency = InMemoryIdempotencyRepository(tables, self._writer)

    @property
    def users(self) -> InMemoryUserRepository:
        return self._users

    @property
    def tasks(self) -> InMemoryTaskRepository:
        return self._tasks

    @property
    def idempotency(self) -> InMemoryIdempotencyRepository:
        return self._idempotency

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        if self._writer.undo is not None:
            yield  # already atomic: the outer block decides
            return
        async with self._tables.lock:
            undo = self._writer.undo = []
            try:
                yield
            except BaseException:
                self._writer.roll_back(undo)
                raise
            finally:
                self._writer.undo = None


class InMemoryStorage:
    """Users and tasks in memory. Create one per process (or per test) and share it."""

    def __init__(self) -> None:
        self._tables = _Tables()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[InMemoryUnitOfWork]:
        yield InMemoryUnitOfWork(self._tables)
