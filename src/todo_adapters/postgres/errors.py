"""Driver errors become domain errors here, so no psycopg exception leaves the adapter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import psycopg
from psycopg import errors as pg_errors

from todo_core import StorageUnavailable, ValidationFailed, WriteConflict

__all__ = ["field_of_check", "storage_errors"]

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


@contextmanager
def storage_errors() -> Iterator[None]:
    """Translate what is left after the repositories have translated what they expect."""
    try:
        yield
    except pg_errors.CheckViolation as violation:
        raise field_of_check(violation) from violation
    except pg_errors.UndefinedTable as missing:
        raise StorageUnavailable("The database schema is not migrated yet; run 'todo migrate'.") from missing
    except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as conflict:
        # Before OperationalError, which they are too: the use case retries these once.
        raise WriteConflict() from conflict
    except (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError) as error:
        # Connection refused or lost, pool exhausted or timed out, server shutting down,
        # statement timeout: nothing a client did wrong, and worth retrying shortly.
        raise StorageUnavailable() from error
