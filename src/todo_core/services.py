"""The use cases: what a user can do, whatever drives the core and wherever data lives."""

from __future__ import annotations

import contextlib
import dataclasses
from uuid import UUID

from todo_core.entities import KEEP, TOGGLE, Keep, Task, TaskChanges, User
from todo_core.errors import EmailTaken, TaskNotFound, UserIdTaken, UserNotFound
from todo_core.ids import Clock, IdFactory, UUIDv7Factory, utc_now
from todo_core.listing import TaskPage, TaskQuery
from todo_core.ports import Storage
from todo_core.rules import FieldCollector, InvalidValue, clean_description, clean_email, clean_title, clean_user_id

__all__ = ["TaskService", "UserService"]


class UserService:
    """Register, look up and delete users."""

    def __init__(self, storage: Storage, *, clock: Clock = utc_now, new_id: IdFactory | None = None) -> None:
        self._storage = storage
        self._clock = clock
        self._new_id = new_id or UUIDv7Factory()

    async def register_user(self, email: str, *, user_id: str | None = None) -> User:
        """Create a user; the id is generated when not given. Raises ValidationFailed, UserIdTaken, EmailTaken."""
        fields = FieldCollector()
        email = fields.check("email", clean_email, email)
        if user_id is not None:
            user_id = fields.check("id", clean_user_id, user_id)
        fields.raise_if_any()
        user = User(id=user_id or str(self._new_id()), email=email, created_at=self._clock())
        async with self._storage.unit_of_work() as uow:
            await uow.users.add(user)
        return user

    async def provision_user(self, user_id: str, *, email: str | None = None) -> None:
        """Make sure a user with this id exists, creating it on first sight (an identity provider
        vouches for the id). An email that is malformed or already someone else's is left off."""
        user_id = _checked_user_id(user_id)
        try:
            email = None if email is None else clean_email(email)
        except InvalidValue:
            email = None
        user = User(id=user_id, email=email, created_at=self._clock())
        async with self._storage.unit_of_work() as uow:
            try:
                await uow.users.add(user)
            except UserIdTaken:
                return
            except EmailTaken:
                with contextlib.suppress(UserIdTaken):
                    await uow.users.add(dataclasses.replace(user, email=None))

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
        async with self._storage.unit_of_work() as uow:
            removed = await uow.users.remove(user_id)
        if not removed:
            raise UserNotFound(user_id)


class TaskService:
    """Create, read, list, change and delete a user's tasks.

    Writes take ``expected_versions``: when given, the write happens only if the task is
    still at one of those versions, else PreconditionFailed (a lost update prevented).
    """

    def __init__(self, storage: Storage, *, clock: Clock = utc_now, new_id: IdFactory | None = None) -> None:
        self._storage = storage
        self._clock = clock
        self._new_id = new_id or UUIDv7Factory()

    async def create_task(self, user_id: str, title: str, description: str | None = None) -> Task:
        """Create an open task. Raises ValidationFailed, UserNotFound."""
        fields = FieldCollector()
        user_id = fields.check("user_id", clean_user_id, user_id)
        title = fields.check("title", clean_title, title)
        description = fields.check("description", clean_description, description)
        fields.raise_if_any()
        task = Task.new(id=self._new_id(), user_id=user_id, title=title, description=description, now=self._clock())
        async with self._storage.unit_of_work() as uow:
            await uow.tasks.add(task)
        return task

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
            user_id, task_id, title=title, description=description, completed=completed,
            expected_versions=expected_versions,
        )  # fmt: skip

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
        async with self._storage.unit_of_work() as uow:
            await uow.tasks.remove(user_id, task_id, expected_versions=expected_versions)

    async def _change(
        self, user_id: str, task_id: UUID, changes: TaskChanges, expected_versions: frozenset[int] | None
    ) -> Task:
        async with self._storage.unit_of_work() as uow:
            return await uow.tasks.update(
                user_id, task_id, changes, now=self._clock(), expected_versions=expected_versions
            )


def _checked_user_id(user_id: str) -> str:
    fields = FieldCollector()
    user_id = fields.check("user_id", clean_user_id, user_id)
    fields.raise_if_any()
    return user_id
