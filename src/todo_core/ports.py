"""The ports: what the core needs from storage, as async protocols adapters implement.

Every task operation names the owner: no method reaches a task by its id alone, so an
adapter cannot leak one user's task to another by construction.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from todo_core.entities import IdempotencyRecord, Task, TaskChanges, User
from todo_core.listing import TaskQuery

__all__ = ["IdempotencyRepository", "Storage", "TaskRepository", "UnitOfWork", "UserRepository"]


class UserRepository(Protocol):
    """Users, by id."""

    async def add(self, user: User) -> None:
        """Store a new user. Raises UserIdTaken or EmailTaken (emails compare case-insensitively)."""
        ...

    async def get(self, user_id: str) -> User | None:
        """The user, or None."""
        ...

    async def set_email(self, user_id: str, email: str) -> User | None:
        """Give the user ``email`` in place of the one they had, if any; the user as now stored,
        or None when there is no such user. Raises EmailTaken when another user has it."""
        ...

    async def remove(self, user_id: str) -> bool:
        """Delete the user and every task they own; False when there was no such user."""
        ...


class TaskRepository(Protocol):
    """Tasks, always addressed through their owner."""

    async def add(self, task: Task) -> None:
        """Store a new task. Raises UserNotFound when its owner does not exist."""
        ...

    async def get(self, user_id: str, task_id: UUID) -> Task | None:
        """The user's task, or None (also when the id belongs to another user's task)."""
        ...

    async def list(self, user_id: str, query: TaskQuery) -> list[Task] | None:
        """Up to ``query.limit`` of the user's tasks that match ``query``, in its order and
        strictly after ``query.after``; None when the user does not exist."""
        ...

    async def update(
        self,
        user_id: str,
        task_id: UUID,
        changes: TaskChanges,
        *,
        now: datetime,
        expected_versions: frozenset[int] | None = None,
    ) -> Task:
        """Apply ``changes`` as ``Task.apply`` defines them, atomically, and return the result.

        With ``expected_versions``, change nothing unless the task is at one of them.
        Raises TaskNotFound, or PreconditionFailed when the version does not match.
        """
        ...

    async def remove(self, user_id: str, task_id: UUID, *, expected_versions: frozenset[int] | None = None) -> None:
        """Delete the task. Raises TaskNotFound, or PreconditionFailed when the version does not match."""
        ...


class IdempotencyRepository(Protocol):
    """What requests made under idempotency keys created, by (scope, key)."""

    async def lock(self, scope: str, key: str) -> bool:
        """Inside an atomic block, hold the key until the block ends; False when another block holds it."""
        ...

    async def find(self, scope: str, key: str, *, now: datetime) -> IdempotencyRecord | None:
        """The key's record, unless there is none or it expired before ``now``."""
        ...

    async def save(self, record: IdempotencyRecord) -> None:
        """Store the record, replacing an expired one with the same key; a live one is kept."""
        ...

    async def purge(self, *, now: datetime) -> int:
        """Delete the records that expired before ``now``; returns how many."""
        ...


class UnitOfWork(Protocol):
    """Repositories that share one connection to storage for the length of a use case.

    Each repository call is atomic by itself. Writes that must succeed or fail together
    go inside ``async with uow.atomic():``; leaving that block by an exception undoes them.
    """

    @property
    def users(self) -> UserRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    def atomic(self) -> AbstractAsyncContextManager[None]:
        """A block whose writes are all kept or all undone."""
        ...


class Storage(Protocol):
    """Where units of work come from; owned and closed by whoever created it."""

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Check out a unit of work; leaving the block returns its connection."""
        ...
