"""Request and response bodies on the wire, as msgspec Structs.

Request bodies refuse unknown fields, so a client sending ``id``, ``version`` or a typo
learns at once instead of having it silently ignored. Lengths and shapes are checked by
the core, which names every bad field in one answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from todo_core import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, Task, User
from todo_core.rules import DESCRIPTION_PATTERN, EMAIL_MAX_LENGTH, EMAIL_PATTERN, TITLE_PATTERN, USER_ID_PATTERN

__all__ = [
    "CompletionChange",
    "NewTask",
    "NewUser",
    "TaskPatch",
    "TaskReplacement",
    "TaskView",
    "UserView",
    "task_view",
    "user_view",
]


def _documented(description: str, **schema: object) -> Meta:
    # The core checks these rules (naming every bad field at once); the schema only publishes them.
    return Meta(description=description, extra_json_schema={"description": description, "extra": schema})


Title = Annotated[
    str,
    _documented(
        f"1-{TITLE_MAX_LENGTH} characters once surrounding whitespace is trimmed; no control characters.",
        pattern=TITLE_PATTERN,
    ),
]
Description = Annotated[
    str,
    _documented(
        f"At most {DESCRIPTION_MAX_LENGTH:,} characters; tabs and line breaks but no other control characters.",
        pattern=DESCRIPTION_PATTERN,
        maxLength=DESCRIPTION_MAX_LENGTH,
    ),
]
Email = Annotated[
    str,
    _documented("An email address, unique case-insensitively.", pattern=EMAIL_PATTERN, maxLength=EMAIL_MAX_LENGTH),
]
UserId = Annotated[str, _documented("1-64 letters, digits, '-', '_' or '.'.", pattern=USER_ID_PATTERN)]


class TaskView(msgspec.Struct, frozen=True):
    """A task as the API shows it; timestamps are RFC 3339 in UTC."""

    id: UUID
    user_id: str
    title: str
    description: str | None
    completed: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class UserView(msgspec.Struct, frozen=True):
    """A user as the API shows it; ``email`` is null for a user created from a token without one."""

    id: str
    email: str | None
    created_at: datetime


class NewTask(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A task to create."""

    title: Title
    description: Description | None = None


class TaskReplacement(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A whole new title and description; an absent description clears it. Completion changes only when given."""

    title: Title
    description: Description | None = None
    completed: bool | UnsetType = UNSET


class TaskPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The fields to change; the others stay. ``"description": null`` clears the description."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    completed: bool | UnsetType = UNSET


class CompletionChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Set completion to this value (safe to retry), instead of toggling it."""

    completed: bool


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A user to register; the id is generated when absent."""

    email: Email
    id: UserId | UnsetType = UNSET


class UserChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The user's new email."""

    email: Email


def task_view(task: Task) -> TaskView:
    return TaskView(
        id=task.id,
        user_id=task.user_id,
        title=task.title,
        description=task.description,
        completed=task.completed,
        completed_at=task.completed_at,
        created_at=task.created_at,
        updated_at=task.updated_at,
        version=task.version,
    )


def user_view(user: User) -> UserView:
    return UserView(id=user.id, email=user.email, created_at=user.created_at)
