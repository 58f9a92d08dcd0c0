"""Driver errors become domain errors here, so no psycopg exception leaves the adapter."""

from __future__ import annotations

from typing import Final

import psycopg
from psycopg import errors as pg_errors

from todo_core import StorageUnavailable, TodoError, ValidationFailed, WriteConflict

__all__ = ["domain_error", "field_of_check"]

_FIELD_OF_CHECK: Final = {
    "users_id_format": "id",
    "users_email_format": "email",
    "tasks_title_check": "title",
    "tasks_description_check": "description",
}


def field_of_check(violation: pg_errors.CheckViolation) -> ValidationFailed:
    """A row the domain let through but the schema refuses: answer it as invalid input, naming the field."""
    field = _FIELD_OF_CHECK.get(violation.diag.constraint_name or "", "body")
    return ValidationFailed({field: "is not accepted by the storage rules"})


def domain_error(error: BaseException) -> TodoError | None:
    """The domain's name for what is left after the repositories translated what they expect,
    or None for an error that is not the driver's."""
    if isinstance(error, pg_errors.CheckViolation):
        return field_of_check(error)
    if isinstance(error, pg_errors.UndefinedTable):
        return StorageUnavailable("The database schema is not migrated yet; run 'todo migrate'.")
    if isinstance(error, pg_errors.SerializationFailure | pg_errors.DeadlockDetected):
        # Before OperationalError, which they are too: the use case retries these once.
        return WriteConflict()
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError | TimeoutError):
        # Connection refused or lost, pool exhausted or timed out, server shutting down,
        # statement timeout: nothing a client did wrong, and worth retrying shortly.
        return StorageUnavailable()
    return None
