"""PostgreSQL storage: a psycopg 3 connection pool, and units of work that borrow one connection each."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, LiteralString
from weakref import WeakKeyDictionary

import psycopg
from psycopg import AsyncConnection
from psycopg import errors as pg_errors
from psycopg_pool import AsyncConnectionPool, TooManyRequests

from todo_adapters.postgres.admission import Admission
from todo_adapters.postgres.errors import domain_error
from todo_adapters.postgres.idempotency import PostgresIdempotencyRepository
from todo_adapters.postgres.migrations import migration_ids
from todo_adapters.postgres.tasks import PostgresTaskRepository
from todo_adapters.postgres.users import PostgresUserRepository
from todo_core import Storage, UnitOfWork

__all__ = ["PoolSettings", "PostgresStorage", "PostgresUnitOfWork", "Readiness"]

_READINESS_BUDGET: Final = 2.0
"""Seconds a readiness probe may take in all, so that an orchestrator's probe never times out first."""
READINESS: Final[LiteralString] = """
    SELECT current_setting('fsync'), current_setting('synchronous_commit'),
           (SELECT array_agg(migration_id) FROM _yoyo_migration)
"""


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How many connections to keep and how long a request may wait for one."""

    min_size: int = 1
    max_size: int = 16
    """Connections at most. More than the cores, because a worker's requests spend most of their
    wait on the database's round trips: with more statements in flight, each wake-up of the
    event loop (and of PostgreSQL) serves several, and concurrent commits share a WAL flush. At
    64 concurrent requests on two cores, 16 per worker served 13-23 % more gets and creates than 4.
    The pool grows to it only under load; workers times this must fit the server's
    ``max_connections``."""
    timeout: float = 5.0
    """Seconds a request waits for a free connection before it is answered as unavailable."""
    max_waiting: int = 1024
    """Requests allowed to wait for a connection at once (0: no limit); beyond it they are refused
    at once. Enough for a thousand users' requests piling up on one worker while the database
    stalls for a second (a checkpoint, a slow disk); a bound all the same, so that an outage
    answers the excess at once instead of holding it for the whole ``timeout``."""
    prepare_threshold: int | None = 5
    """Executions before a statement is prepared server-side; None behind PgBouncer in transaction mode."""
    check_connections: bool = True
    """Check each connection as it leaves the pool, so a dead one is replaced rather than used."""
    check_after_idle: float = 5.0
    """Seconds of idleness after which that check asks the server (a round trip); see ``LivenessCheck``."""
    statement_timeout: float | None = 5.0
    """Seconds PostgreSQL lets one statement run; None leaves the server's setting."""
    connect_timeout: int = 5
    """Seconds to wait for a new connection to be established."""
    reconnect_timeout: float = 5.0
    """Seconds the pool keeps retrying a failed connection before it gives the attempt up; the
    next request starts a fresh one. Kept short: psycopg_pool doubles the wait between tries
    without a ceiling, which after a long outage would delay recovery by as long again."""

    @property
    def statement_budget(self) -> float:
        """How long a unit of work's statements may take, enforced on this side too (see ``_severed_after``),
        so a database that stops answering (a cut network, a hung server) cannot hold a request longer."""
        return (self.statement_timeout or 30.0) + 1.0

    @property
    def deadline(self) -> float:
        """The longest a unit of work can take in all: the wait for a connection, then its statements."""
        return self.timeout + self.statement_budget


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether storage can serve, and if not, why."""

    ready: bool
    reasons: tuple[str, ...] = ()


class LivenessCheck:
    """Whether a pooled connection still works, at the cost of a round trip only when needed.

    A connection whose server went away (backend terminated, server restarted) has the
    server's goodbye or end-of-file waiting on its socket: seen for free. One that sat idle
    for ``idle`` seconds or more may have been dropped silently by the network, so it is
    asked to answer an empty query as well.
    """

    def __init__(self, idle: float) -> None:
        self._idle = idle
        self._last_used: WeakKeyDictionary[AsyncConnection[Any], float] = WeakKeyDictionary()

    async def works(self, connection: AsyncConnection[Any], *, within: float) -> bool:
        """Whether ``connection`` works; a round trip, when needed, may take ``within`` seconds."""
        if connection.closed:
            return False
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
        if readable:  # an idle connection receives nothing unless the server is closing it
            return False
        if time.monotonic() - self._last_used.get(connection, 0.0) >= self._idle:
            try:
                with _severed_after(connection, within):
                    await AsyncConnectionPool.check_connection(connection)
            except psycopg.Error:
                return False
        return True

    def used(self, connection: AsyncConnection[Any]) -> None:
        self._last_used[connection] = time.monotonic()


class PostgresUnitOfWork(UnitOfWork):
    """Repositories sharing one autocommit connection: each statement commits on its own
    unless it runs inside ``atomic()``."""

    __slots__ = ("_connection", "_idempotency", "_tasks", "_users")

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self._connection = connection
        self._users = PostgresUserRepository(connection)
        self._tasks = PostgresTaskRepository(connection)
        self._idempotency = PostgresIdempotencyRepository(connection)

    @property
    def users(self) -> PostgresUserRepository:
        return self._users

    @property
    def tasks(self) -> PostgresTaskRepository:
        return self._tasks

    @property
    def idempotency(self) -> PostgresIdempotencyRepository:
        return self._idempotency

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[None]:
        async with self._connection.transaction():
            yield


class PostgresStorage(Storage):
    """Users and tasks in PostgreSQL. ``open()`` before use and ``close()`` after; the HTTP app
    does both in its lifespan."""

    def __init__(self, url: str, pool: PoolSettings | None = None, *, development: bool = False) -> None:
        settings = pool or PoolSettings()
        self._settings = settings
        self._development = development
        self._expected_migrations = migration_ids()
        options = "-c TimeZone=UTC"  # timestamps come back in UTC whatever the server's own zone
        if settings.statement_timeout is not None:
            options += f" -c statement_timeout={int(settings.statement_timeout * 1000)}"
        self._pool = AsyncConnectionPool(
            url,
            open=False,
            name="todo",
            min_size=settings.min_size,
            max_size=settings.max_size,
            timeout=settings.timeout,
            max_waiting=settings.max_waiting,
            reconnect_timeout=settings.reconnect_timeout,
            kwargs={
                "autocommit": True,
                "prepare_threshold": settings.prepare_threshold,
                "application_name": "todo",
                "options": options,
                "connect_timeout": settings.connect_timeout,
                # Notice a peer that vanished without closing (a cut network) within ~25 s.
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
        liveness = LivenessCheck(settings.check_after_idle) if settings.check_connections else None
        self._connections = _Connections(self._pool, liveness, settings)

    async def open(self, *, wait: bool = False, wait_seconds: float = 30.0) -> None:
        """Start the pool. Without ``wait`` it connects in the background, so the service can
        start while the database is still coming up; with it, up to ``wait_seconds`` for
        ``min_size`` connections (psycopg_pool.PoolTimeout after that)."""
        await self._pool.open(wait=wait, timeout=wait_seconds)

    async def close(self) -> None:
        await self._pool.close()

    def unit_of_work(self) -> _Lease:
        return _Lease(self._connections, self._settings)

    async def readiness(self) -> Readiness:
        """Ready when a connection answers, every migration is applied, and the server keeps
        acknowledged writes (fsync and synchronous_commit on), unless in development."""
        answer_by = time.monotonic() + _READINESS_BUDGET
        try:
            connection = await self._connections.borrow(_READINESS_BUDGET)
            try:
                with _severed_after(connection, max(answer_by - time.monotonic(), 0.1)):
                    cursor = await connection.execute(READINESS)
                    row = await cursor.fetchone()
            finally:
                await self._connections.give_back(connection)
        except pg_errors.UndefinedTable:
            return Readiness(False, ("the schema is not migrated: run 'todo migrate'",))
        except psycopg.Error as error:
            return Readiness(False, (f"the database cannot be reached ({type(error).__name__})",))
        assert row is not None
        fsync, synchronous_commit, applied = row
        reasons = []
        pending = [m for m in self._expected_migrations if m not in set(applied or ())]
        if pending:
            reasons.append(f"pending migrations: {', '.join(pending)} (run 'todo migrate')")
        if not self._development:
            if fsync == "off":
                reasons.append("the server runs with fsync=off: an acknowledged write can be lost")
            if synchronous_commit == "off":
                reasons.append("the server runs with synchronous_commit=off: an acknowledged write can be lost")
        return Readiness(not reasons, tuple(reasons))


class _Connections:
    """Borrowing and returning the pool's connections, checked, within a bounded wait.

    Requests beyond the pool's size queue here (see ``Admission``) rather than inside
    psycopg_pool, whose queue costs every waiter a task and a condition: at 64 concurrent
    requests on 4 connections per worker that was a tenth of a request's CPU. The pool's
    ``timeout`` bounds the whole wait, and at most ``max_waiting`` requests (0: no limit,
    as in psycopg_pool) wait for a connection at once; beyond that they are refused at once.
    """

    __slots__ = ("_admission", "_liveness", "_pool", "_settings", "_waiting")

    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection[Any]], liveness: LivenessCheck | None, settings: PoolSettings
    ) -> None:
        self._pool, self._liveness, self._settings = pool, liveness, settings
        self._admission = Admission(settings.max_size)
        self._waiting = 0

    async def borrow(self, wait: float) -> AsyncConnection[Any]:
        """A connection that works, waiting at most ``wait`` seconds for one."""
        limit = self._settings.max_waiting
        if limit and self._waiting >= limit:
            raise TooManyRequests(f"{self._waiting} requests are already waiting for a connection")
        give_up_at = time.monotonic() + wait
        self._waiting += 1
        try:
            await self._admission.enter(wait)
            try:
                return await self._working_connection(give_up_at)
            except BaseException:
                self._admission.leave()
                raise
        finally:
            self._waiting -= 1

    async def give_back(self, connection: AsyncConnection[Any]) -> None:
        try:
            await self._pool.putconn(connection)
        finally:
            self._admission.leave()
        if self._liveness is not None:
            self._liveness.used(connection)

    async def _working_connection(self, give_up_at: float) -> AsyncConnection[Any]:
        # The pool's own check backs off a second or more after each dead connection, so a
        # pool of connections killed at once would hold the next request for seconds: dead
        # ones are closed and handed back here instead (the pool replaces them) and the
        # next one is tried at once. The pool's own timeout bounds its wait, never a
        # cancellation: cancelling psycopg_pool while it waits can upset its bookkeeping.
        while True:
            connection = await self._pool.getconn(timeout=max(give_up_at - time.monotonic(), 0.001))
            if self._liveness is None:
                return connection
            if await self._liveness.works(connection, within=max(give_up_at - time.monotonic(), 0.5)):
                return connection
            await connection.close()
            await self._pool.putconn(connection)


class _Lease:
    """A unit of work's hold on one connection: borrowed on entry and given back on exit, the
    statements in between bounded by the statement budget, driver errors translated. A plain
    class rather than stacked generator-based context managers: every request goes through it."""

    __slots__ = ("_connection", "_connections", "_settings", "_timer")

    def __init__(self, connections: _Connections, settings: PoolSettings) -> None:
        self._connections, self._settings = connections, settings

    async def __aenter__(self) -> PostgresUnitOfWork:
        try:
            connection = await self._connections.borrow(self._settings.timeout)
        except Exception as error:
            if (translated := domain_error(error)) is not None:
                raise translated from error
            raise
        self._connection = connection
        self._timer = asyncio.get_running_loop().call_later(self._settings.statement_budget, _sever, connection)
        return PostgresUnitOfWork(connection)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._timer.cancel()
        await self._connections.give_back(self._connection)
        if error is not None and (translated := domain_error(error)) is not None:
            raise translated from error


@contextmanager
def _severed_after(connection: AsyncConnection[Any], seconds: float) -> Iterator[None]:
    """Cut the connection's socket if the block is still waiting on it after ``seconds``.

    The waiting statement then fails at once as a lost connection (the pool replaces it).
    Cancelling the statement instead would make psycopg spend up to ten more seconds
    asking a server that does not answer to cancel it.
    """
    timer = asyncio.get_running_loop().call_later(seconds, _sever, connection)
    try:
        yield
    finally:
        timer.cancel()


def _sever(connection: AsyncConnection[Any]) -> None:
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(connection.fileno())) as severed:
        severed.shutdown(socket.SHUT_RDWR)
