"""What other Python services rely on when they import the core."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files

import todo_core


def test_importing_the_core_loads_no_third_party_module() -> None:
    probe = (
        "import sys; before = set(sys.modules); import todo_core; "
        "print('\\n'.join(sorted(m for m in set(sys.modules) - before)))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    stdlib = sys.stdlib_module_names
    foreign = [m for m in loaded if m.split(".")[0] not in stdlib and not m.startswith("todo_core")]
    assert foreign == []


def test_the_public_api_is_pinned() -> None:
    assert sorted(todo_core.__all__) == sorted([
        "DEFAULT_PAGE_SIZE", "DESCRIPTION_MAX_LENGTH", "KEEP", "MAX_PAGE_SIZE", "TITLE_MAX_LENGTH", "TOGGLE",
        "Clock", "Conflict", "EmailTaken", "IdFactory", "IdempotencyKeyReused", "IdempotencyRecord",
        "IdempotencyRepository", "NotFound", "PagePosition", "PreconditionFailed", "Replayable", "RequestInProgress",
        "SortField", "StatusFilter", "Storage", "StorageUnavailable", "Task", "TaskChanges", "TaskNotFound",
        "TaskOrder", "TaskPage", "TaskQuery", "TaskRepository", "TaskService", "TodoError", "UUIDv7Factory",
        "UnitOfWork", "User", "UserIdTaken", "UserNotFound", "UserRepository", "UserService", "ValidationFailed",
        "WriteConflict", "utc_now",
    ])  # fmt: skip
    for name in todo_core.__all__:
        assert hasattr(todo_core, name), name


def test_every_error_has_a_distinct_stable_code() -> None:
    errors = [obj for name in todo_core.__all__ if isinstance(obj := getattr(todo_core, name), type)
              and issubclass(obj, todo_core.TodoError)]  # fmt: skip
    codes = [error.code for error in errors]
    assert len(codes) == len(set(codes))
    assert all(code.isupper() for code in codes)


def test_the_packages_ship_type_information() -> None:
    assert files("todo_core").joinpath("py.typed").is_file()
    assert files("todo_adapters").joinpath("py.typed").is_file()
