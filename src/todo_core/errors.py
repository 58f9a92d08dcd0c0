"""Every error the core raises, in one tree.

    TodoError
    ├── NotFound
    │   ├── UserNotFound           USER_NOT_FOUND
    │   └── TaskNotFound           TASK_NOT_FOUND
    ├── ValidationFailed           VALIDATION_ERROR
    ├── Conflict
    │   ├── EmailTaken             EMAIL_TAKEN
    │   ├── UserIdTaken            USER_ID_TAKEN
    │   ├── WriteConflict          WRITE_CONFLICT
    │   └── RequestInProgress      REQUEST_IN_PROGRESS
    ├── IdempotencyKeyReused       IDEMPOTENCY_KEY_REUSED
    ├── PreconditionFailed         PRECONDITION_FAILED
    └── StorageUnavailable         SERVICE_UNAVAILABLE

Each class carries a stable machine ``code``; adapters map the classes to their own
vocabulary (HTTP statuses, exit codes) in one place. Messages are written for a person
and never carry storage internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

__all__ = [
    "Conflict",
    "EmailTaken",
    "IdempotencyKeyReused",
    "NotFound",
    "PreconditionFailed",
    "RequestInProgress",
    "StorageUnavailable",
    "TaskNotFound",
    "TodoError",
    "UserIdTaken",
    "UserNotFound",
    "ValidationFailed",
    "WriteConflict",
]


class TodoError(Exception):
    """Root of every error the core raises."""

    code: ClassVar[str] = "TODO_ERROR"

    def __init__(self, message: str, *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, object] = MappingProxyType(dict(details or {}))


class NotFound(TodoError):
    """Something addressed by the caller does not exist (or is not theirs)."""

    code = "NOT_FOUND"


class UserNotFound(NotFound):
    """No user has this id."""

    code = "USER_NOT_FOUND"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"User {user_id!r} does not exist.", details={"user_id": user_id})
        self.user_id = user_id


class TaskNotFound(NotFound):
    """The user has no task with this id."""

    code = "TASK_NOT_FOUND"

    def __init__(self, *, user_id: str, task_id: object) -> None:
        super().__init__(f"Task {task_id!s} does not exist.", details={"task_id": str(task_id)})
        self.user_id = user_id
        self.task_id = task_id


class ValidationFailed(TodoError):
    """Input breaks a domain rule; ``fields`` names each bad field and why."""

    code = "VALIDATION_ERROR"

    def __init__(self, fields: Mapping[str, str]) -> None:
        summary = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        super().__init__(f"Invalid input. {summary}", details=fields)
        self.fields: Mapping[str, str] = MappingProxyType(dict(fields))


class Conflict(TodoError):
    """The request clashes with the current state of stored data."""

    code = "CONFLICT"


class EmailTaken(Conflict):
    """Another user already registered this email (compared case-insensitively)."""

    code = "EMAIL_TAKEN"

    def __init__(self, email: str) -> None:
        super().__init__(f"The email {email!r} is already registered.", details={"email": email})
        self.email = email


class UserIdTaken(Conflict):
    """A user with this id already exists."""

    code = "USER_ID_TAKEN"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"A user with id {user_id!r} already exists.", details={"user_id": user_id})
        self.user_id = user_id


class WriteConflict(Conflict):
    """A concurrent write got in the way (a deadlock or serialization failure) and one retry did not help."""

    code = "WRITE_CONFLICT"

    def __init__(self) -> None:
        super().__init__("Another write to the same data got in the way; retry the request.")


class RequestInProgress(Conflict):
    """An earlier request with the same idempotency key has not finished yet."""

    code = "REQUEST_IN_PROGRESS"

    def __init__(self, key: str) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still in progress; retry after it finishes.",
            details={"idempotency_key": key},
        )
        self.key = key


class IdempotencyKeyReused(TodoError):
    """The idempotency key was first used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        super().__init__(
            "This Idempotency-Key was used for a different request; use a new key for a new request.",
            details={"idempotency_key": key},
        )
        self.key = key


class PreconditionFailed(TodoError):
    """The task changed since the version the caller based its write on."""

    code = "PRECONDITION_FAILED"

    def __init__(self, *, task_id: object, current_version: int) -> None:
        super().__init__(
            f"Task {task_id!s} is now at version {current_version}; fetch it again and retry.",
            details={"task_id": str(task_id), "current_version": current_version},
        )
        self.task_id = task_id
        self.current_version = current_version


class StorageUnavailable(TodoError):
    """Storage cannot be reached right now; retrying later may succeed."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "Storage is unavailable; retry shortly.", *, retry_after: int = 1) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after
