"""The use cases: what a user can do, whatever drives the core and wherever data lives.

Every write is retried once when a concurrent write got in its way (a deadlock or a
serialization failure); creations take an optional idempotency key that makes a retried
request return the first one's result instead of creating again.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Final, TypeVar
from uuid import UUID

from todo_core.entities import KEEP, TOGGLE, Keep, Task, TaskChanges, User
from todo_core.errors import EmailTaken, TaskNotFound, UserIdTaken, UserNotFound
from todo_core.idempotency import IdempotentRequest, OnceOnly, Replayable, retry_once_on_conflict
from todo_core.ids import Clock, IdFactory, UUIDv7Factory, utc_now
from todo_core.listing import TaskPage, TaskQuery
from todo_core.ports import Storage, UnitOfWork
from todo_core.rules import (
    FieldCollector,
    InvalidValue,
    clean_description,
    clean_email,
    clean_idempotency_key,
    clean_title,
    clean_user_id,
)

__all__ = ["DEFAULT_KEY_RETENTION", "TaskService", "UserService"]

DEFAULT_KEY_RETENTION: Final = timedelta(hours=24)

R = TypeVar("R")
T = TypeVar("T", Task, User)


class _Service:
    def __init__(
        self,
        storage: Storage,
        *,
        clock: Clock = utc_now,
        new_id: IdFactory | None = None,
        key_retention: timedelta = DEFAULT_KEY_RETENTION,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._new_id = new_id or UUIDv7Factory()
        self._once = OnceOnly(storage, clock=clock, retention=key_retention)

    async def purge_idempotency_keys(self) -> int:
        """Forget idempotency keys past their retention (24 hours by default); returns how many."""
        return await self._once.purge()

    async def _write(self, operation: Callable[[UnitOfWork], Awaitable[R]]) -> R:
        async def attempt() -> R:
            async with self._storage.unit_of_work() as uow:
                return await operation(uow)

        return await retry_once_on_conflict(attempt)

    async def _create(
        self, create: Callable[[UnitOfWork], Awaitable[T]], request: IdempotentRequest | None
    ) -> Replayable[T]:
        if request is None:
            return Replayable(await self._write(create), replayed=False)
        return await retry_once_on_conflict(lambda: self._once.run(request, create))


class UserService(_Service):
    """Register, look up, change and delete users."""

    async def register_user(
        self, email: str, *, user_id: str | None = None, idempotency_key: str | None = None, key_scope: str = ""
    ) -> User:
        """Create a user; the id is generated when not given. Raises ValidationFailed, UserIdTaken, EmailTaken.

        Under ``idempotency_key`` (which belongs to ``key_scope``, the caller's id or "" when
        anonymous) a repeat of the same request returns the same user and creates nothing.
        """
        registered = await self.register_user_once(
            email, user_id=user_id, idempotency_key=idempotency_key, key_scope=key_scope
        )
        return registered.value

    async def register_user_once(
        self, email: str, *, user_id: str | None = None, idempotency_key: str | None = None, key_scope: str = ""
    ) -> Replayable[User]:
        """``register_user``, also telling whether the user came from an earlier request with the key.
        Raises RequestInProgress and IdempotencyKeyReused as well."""
        fields = FieldCollector()
        email = fields.check("email", clean_email, email)
        if user_id is not None:
            user_id = fields.check("id", clean_user_id, user_id)
        if idempotency_key is not None:
            idempotency_key = fields.check("Idempotency-Key", clean_idempotency_key, idempotency_key)
        fields.raise_if_any()
        request = None
        if idempotency_key is not None:
            request = IdempotentRequest.of(
                scope=key_scope, key=idempotency_key, operation="register_user", email=email, id=user_id
            )
        user = User(id=user_id or str(self._new_id()), email=email, created_at=self._clock())

        async def add(uow: UnitOfWork) -> User:
            await uow.users.add(user)
            return user

        return await self._create(add, request)

    async def provision_user(self, user_id: str, *, email: str | None = None) -> None:
        """Make sure a user with this id exists, creating it on first sight (an identity provider
        vouches for the id). An email that is malformed or already someone else's is left off."""
        user_id = _checked_user_id(user_id)
        try:
            email = None if email is None else clean_email(email)
        except InvalidValue:
            email = None
        user = User(id=user_id, email=email, created_at=self._clock())

        async def add(uow: UnitOfWork) -> None:
            # Mostly the user exists (another process provisioned them): a read says so
            # without the failed insert a database would log and leave behind.
            if await uow.users.get(user_id) is not None:
                return
            try:
                await uow.users.add(user)
            except UserIdTaken:
                return
            except EmailTaken:
                with contextlib.suppress(UserIdTaken):
                    await uow.users.add(dataclasses.replace(user, email=None))

        await self._write(add)

    async def change_email(self, user_id: str, email: str) -> User:
        """Give the user a new email; how a user provisioned without one gets one. Setting the
        email they already have changes nothing. Raises ValidationFailed, UserNotFound, EmailTaken."""
        fields = FieldCollector()
        user_id = fields.check("user_id", clean_user_id, user_id)
        email = fields.check("email", clean_email, email)
        fields.raise_if_any()
        user = await self._write(lambda uow: uow.users.set_email(user_id, email))
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def get_user(self, user_id: str) -> User:
        """The user. Raises UserNotFound."""
        user_id = _checked_user_id(user_id)
        async with self._storage.unit_of_work() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    async def delete_user(self, user_id: str) -> None:
        """Delete the user and all their tasks. Raises UserNotFound."""
        user_id = _checked_user_id(user_id)
        if not await self._write(lambda uow: uow.users.remove(user_id)):
            raise UserNotFound(user_id)


class TaskService(_Service):
    """Create, read, list, change and delete a user's tasks.

    Writes take ``expected_versions``: when given, the write happens only if the task is
    still at one of those versions, else PreconditionFailed (a lost update prevented).
    """

    async def create_task(
        self, user_id: str, title: str, description: str | None = None, *, idempotency_key: str | None = None
    ) -> Task:
        """Create an open task. Raises ValidationFailed, UserNotFound.

        Under ``idempotency_key`` a repeat of the same request returns the task the first one
        created and creates nothing; see ``create_task_once``.
        """
        return (await self.create_task_once(user_id, title, description, idempotency_key=idempotency_key)).value

    async def create_task_once(
        self, user_id: str, title: str, description: str | None = None, *, idempotency_key: str | None = None
    ) -> Replayable[Task]:
        """``create_task``, also telling whether the task came from an earlier request with the key.
        Raises RequestInProgress and IdempotencyKeyReused as well."""
        fields = FieldCollector()
        user_id = fields.check("user_id", clean_user_id, user_id)
        cleaned_title = fields.check("title", clean_title, title)
        description = fields.check("description", clean_description, description)
        if idempotency_key is not None:
            idempotency_key = fields.check("Idempotency-Key", clean_idempotency_key, idempotency_key)
        fields.raise_if_any()
        request = None
        if idempotency_key is not None:
            # The request as sent, so that a repeat must send the same to be a repeat.
            request = IdempotentRequest.of(
                scope=user_id, key=idempotency_key, operation="create_task", title=title, description=description
            )
        task = Task.new(
            id=self._new_id(), user_id=user_id, title=cleaned_title, description=description, now=self._clock()
        )

        async def add(uow: UnitOfWork) -> Task:
            await uow.tasks.add(task)
            return task

        return await self._create(add, request)

    async def get_task(self, user_id: str, task_id: UUID) -> Task:
        """The user's task. Raises TaskNotFound."""
        user_id = _checked_user_id(user_id)
        async with self._storage.unit_of_work() as uow:
            task = await uow.tasks.get(user_id, task_id)
        if task is None:
            raise TaskNotFound(user_id=user_id, task_id=task_id)
        return task

    async def list_tasks(self, user_id: str, query: TaskQuery | None = None) -> TaskPage:
        """One page of the user's tasks (build ``query`` with ``TaskQuery.parse``). Raises UserNotFound."""
        user_id = _checked_user_id(user_id)
        query = query or TaskQuery()
        # One extra row tells whether another page follows, without counting.
        async with self._storage.unit_of_work() as uow:
            tasks = await uow.tasks.list(user_id, query.with_limit(query.limit + 1))
        if tasks is None:
            raise UserNotFound(user_id)
        if len(tasks) <= query.limit:
            return TaskPage(tasks, next_cursor=None)
        del tasks[query.limit :]
        return TaskPage(tasks, next_cursor=query.cursor_after(tasks[-1]))

    async def replace_task(
        self,
        user_id: str,
        task_id: UUID,
        *,
        title: str,
        description: str | None = None,
        completed: bool | None = None,
        expected_versions: frozenset[int] | None = None,
    ) -> Task:
        """Replace title and description (absent description clears it); completion changes only when given."""
        return await self.update_task(
            user_id,
            task_id,
            title=title,
            description=description,
            completed=completed,
            expected_versions=expected_versions,
        )

    async def update_task(
        self,
        user_id: str,
        task_id: UUID,
        *,
        title: str | None = None,
        description: str | Keep | None = KEEP,
        completed: bool | None = None,
        expected_versions: frozenset[int] | None = None,
    ) -> Task:
        """Change the given fields only; ``description=None`` clears it. Raises ValidationFailed,
        TaskNotFound, PreconditionFailed."""
        fields = FieldCollector()
        user_id = fields.check("user_id", clean_user_id, user_id)
        if title is not None:
            title = fields.check("title", clean_title, title)
        if description is not KEEP:
            description = fields.check("description", clean_description, description)
        fields.raise_if_any()
        changes = TaskChanges(title=title, description=description, completed=completed)
        return await self._change(user_id, task_id, changes, expected_versions)

    async def set_completion(
        self, user_id: str, task_id: UUID, completed: bool, *, expected_versions: frozenset[int] | None = None
    ) -> Task:
        """Mark the task complete or open; doing it twice is the same as once."""
        changes = TaskChanges(completed=completed)
        return await self._change(_checked_user_id(user_id), task_id, changes, expected_versions)

    async def toggle_completion(
        self, user_id: str, task_id: UUID, *, expected_versions: frozenset[int] | None = None
    ) -> Task:
        """Flip completion. Not safe to retry blindly: pass ``expected_versions`` or use set_completion."""
        changes = TaskChanges(completed=TOGGLE)
        return await self._change(_checked_user_id(user_id), task_id, changes, expected_versions)

    async def delete_task(
        self, user_id: str, task_id: UUID, *, expected_versions: frozenset[int] | None = None
    ) -> None:
        """Delete the task. Raises TaskNotFound, PreconditionFailed."""
        user_id = _checked_user_id(user_id)
        await self._write(lambda uow: uow.tasks.remove(user_id, task_id, expected_versions=expected_versions))

    async def _change(
        self, user_id: str, task_id: UUID, changes: TaskChanges, expected_versions: frozenset[int] | None
    ) -> Task:
        now = self._clock()
        return await self._write(
            lambda uow: uow.tasks.update(user_id, task_id, changes, now=now, expected_versions=expected_versions)
        )


def _checked_user_id(user_id: str) -> str:
    fields = FieldCollector()
    user_id = fields.check("user_id", clean_user_id, user_id)
    fields.raise_if_any()
    return user_id
