"""The schema's history, applied and rolled back with yoyo-migrations over psycopg 3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from yoyo import get_backend, read_migrations
from yoyo.backends import DatabaseBackend
from yoyo.migrations import MigrationList

__all__ = ["MigrationStatus", "Migrator", "migration_ids", "migrations_directory"]


def migrations_directory() -> Path:
    """Where the SQL migrations are: inside an installed package, or at the top of a checkout."""
    if override := os.environ.get("TODO_MIGRATIONS_DIR"):
        return Path(override)
    packaged = Path(str(files("todo_adapters.postgres"))) / "schema"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def migration_ids(directory: Path | None = None) -> list[str]:
    """The ids of the migrations this version of the service expects, oldest first."""
    scripts = (directory or migrations_directory()).glob("*.sql")
    return sorted(path.stem for path in scripts if not path.name.endswith(".rollback.sql"))


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    id: str
    applied: bool


class Migrator:
    """Apply, roll back and list the migrations of one database."""

    def __init__(self, database_url: str, directory: Path | None = None) -> None:
        self._url = _yoyo_url(database_url)
        self._directory = directory or migrations_directory()

    def status(self) -> list[MigrationStatus]:
        with self._backend() as backend:
            migrations = self._migrations()
            return [MigrationStatus(m.id, backend.is_applied(m)) for m in migrations]

    def pending(self) -> list[str]:
        with self._backend() as backend:
            return [m.id for m in backend.to_apply(self._migrations())]

    def apply(self) -> list[str]:
        """Apply every pending migration, under yoyo's lock; returns their ids."""
        with self._backend() as backend, backend.lock():
            pending = backend.to_apply(self._migrations())
            backend.apply_migrations(pending)
            return [m.id for m in pending]

    def rollback(self, *, count: int | None = 1) -> list[str]:
        """Roll back the latest ``count`` applied migrations (all of them when None); returns their ids."""
        with self._backend() as backend, backend.lock():
            applied = backend.to_rollback(self._migrations())
            chosen = applied if count is None else applied[:count]
            backend.rollback_migrations(chosen)
            return [m.id for m in chosen]

    def _migrations(self) -> MigrationList:
        if not self._directory.is_dir():
            raise FileNotFoundError(f"no migrations directory at {self._directory}")
        return read_migrations(str(self._directory))

    @contextmanager
    def _backend(self) -> Iterator[DatabaseBackend]:
        backend = get_backend(self._url)
        try:
            yield backend
        finally:
            backend.connection.close()


def _yoyo_url(database_url: str) -> str:
    # yoyo picks its driver from the scheme; postgresql+psycopg selects psycopg 3.
    scheme, separator, rest = database_url.partition("://")
    if not separator or scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise ValueError("the database URL must look like postgresql://user@host:5432/database")
    return f"postgresql+psycopg://{rest}"
