"""todo_core: the task service's domain, ports and use cases, in the standard library only.

Drive it from any Python program by giving the services a ``Storage``; the in-memory and
PostgreSQL ones live in ``todo_adapters``.
"""

from todo_core.entities import KEEP, TOGGLE, Task, TaskChanges, User
from todo_core.errors import (
    Conflict,
    EmailTaken,
    NotFound,
    PreconditionFailed,
    StorageUnavailable,
    TaskNotFound,
    TodoError,
    UserIdTaken,
    UserNotFound,
    ValidationFailed,
)
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
from todo_core.ports import Storage, TaskRepository, UnitOfWork, UserRepository
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
    "NotFound",
    "PagePosition",
    "PreconditionFailed",
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
    "utc_now",
]
