"""todo_core: the task service's domain, ports and use cases, in the standard library only.

Drive it from any Python program by giving the services a ``Storage``; the in-memory and
PostgreSQL ones live in ``todo_adapters``.
"""

from todo_core.entities import KEEP, TOGGLE, IdempotencyRecord, Task, TaskChanges, User
from todo_core.errors import (
    Conflict,
    EmailTaken,
    IdempotencyKeyReused,
    NotFound,
    PreconditionFailed,
    RequestInProgress,
    StorageUnavailable,
    TaskNotFound,
    TodoError,
    UserIdTaken,
    UserNotFound,
    ValidationFailed,
    WriteConflict,
)
from todo_core.idempotency import Replayable
from todo_core.ids import Clock, IdFactory, UUIDv7Factory, utc_now
from todo_core.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PagePosition,
    SortField,
    StatusFilter,
    TaskOrder,
    TaskPage,
    TaskQuery,
)
from todo_core.ports import IdempotencyRepository, Storage, TaskRepository, UnitOfWork, UserRepository
from todo_core.rules import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from todo_core.services import TaskService, UserService

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DESCRIPTION_MAX_LENGTH",
    "KEEP",
    "MAX_PAGE_SIZE",
    "TITLE_MAX_LENGTH",
    "TOGGLE",
    "Clock",
    "Conflict",
    "EmailTaken",
    "IdFactory",
    "IdempotencyKeyReused",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "NotFound",
    "PagePosition",
    "PreconditionFailed",
    "Replayable",
    "RequestInProgress",
    "SortField",
    "StatusFilter",
    "Storage",
    "StorageUnavailable",
    "Task",
    "TaskChanges",
    "TaskNotFound",
    "TaskOrder",
    "TaskPage",
    "TaskQuery",
    "TaskRepository",
    "TaskService",
    "TodoError",
    "UUIDv7Factory",
    "UnitOfWork",
    "User",
    "UserIdTaken",
    "UserNotFound",
    "UserRepository",
    "UserService",
    "ValidationFailed",
    "WriteConflict",
    "utc_now",
]
