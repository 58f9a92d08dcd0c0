"""PostgreSQL storage: a psycopg 3 connection pool, and units of work that borrow one connection each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from todo_adapters.postgres.errors import storage_errors
from todo_adapters.postgres.tasks import PostgresTaskRepository
from todo_adapters.postgres.users import PostgresUserRepository
from todo_core import Storage, UnitOfWork

__all__ = ["PoolSettings", "PostgresStorage", "PostgresUnitOfWork"]


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How many connections to keep and how long a request may wait for one."""

    min_size: int = 1
    max_size: int = 4
    timeout: float = 5.0
    """Seconds a request waits for a free connection before it is answered as unavailable."""
    max_waiting: int = 64
    """Requests allowed to queue for a connection; beyond it they are refused at once."""
    prepare_threshold: int | None = 5
    """Executions before a statement is prepared server-side; None behind PgBouncer in transaction mode."""
    check_connections: bool = True
    """Check each connection as it leaves the pool, so a dead one is replaced rather than used."""


class PostgresUnitOfWork(UnitOfWork):
    """Repositories sharing one autocommit connection: each statement commits on its own
    unless it runs inside ``atomic()``."""

    __slots__ = ("_connection", "_tasks", "_users")

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self._connection = connection
        self._users = PostgresUserRepository(connection)
        self._tasks = PostgresTaskRepository(connection)

    @property
    def users(self) -> PostgresUserRepository:
        return self._users

    @property
    def tasks(self) -> PostgresTaskRepository:
        return self._tasks

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        async with self._connection.transaction():
            yield


class PostgresStorage(Storage):
    """Users and tasks in PostgreSQL. ``open()`` before use and ``close()`` after; the HTTP app
    does both in its lifespan."""

    def __init__(self, url: str, pool: PoolSettings | None = None) -> None:
        settings = pool or PoolSettings()
        self._pool = AsyncConnectionPool(
            url,
            open=False,
            name="todo",
            min_size=settings.min_size,
            max_size=settings.max_size,
            timeout=settings.timeout,
            max_waiting=settings.max_waiting,
            check=AsyncConnectionPool.check_connection if settings.check_connections else None,
            kwargs={
                "autocommit": True,
                "prepare_threshold": settings.prepare_threshold,
                "application_name": "todo",
                # Timestamps come back in UTC whatever the server's own time zone is.
                "options": "-c TimeZone=UTC",
            },
        )

    async def open(self, *, wait: bool = False) -> None:
        """Start the pool. Without ``wait`` it connects in the background, so the service can
        start while the database is still coming up; with it, up to 30 s for ``min_size`` connections."""
        await self._pool.open(wait=wait, timeout=30.0)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[PostgresUnitOfWork]:
        with storage_errors():
            async with self._pool.connection() as connection:
                yield PostgresUnitOfWork(connection)
