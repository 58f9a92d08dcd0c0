"""Requests that are safe to retry: an idempotency key makes a create happen at most once.

The first request with a key stores what it created together with the creation, in one
atomic block; a repeat with the same key and the same request gets that result again and
creates nothing. The same key with a different request is refused, and a repeat that
arrives while the first is still running is told to retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar, cast

from todo_core.entities import IdempotencyRecord, Task, User
from todo_core.errors import IdempotencyKeyReused, RequestInProgress, WriteConflict
from todo_core.ids import Clock
from todo_core.ports import Storage, UnitOfWork

__all__ = [
    "IdempotentRequest",
    "OnceOnly",
    "Replayable",
    "retry_once_on_conflict",
]


T = TypeVar("T", Task, User)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A request made under an idempotency key: whose key, which key, and what was asked."""

    scope: str
    """Whose key it is: the requesting user's id, or "" for an anonymous caller."""
    key: str
    fingerprint: str

    @classmethod
    def of(cls, *, scope: str, key: str, operation: str, **fields: object) -> IdempotentRequest:
        """The request ``operation(**fields)`` under ``key`` (already checked by ``clean_idempotency_key``)."""
        asked = json.dumps([operation, fields], sort_keys=True, ensure_ascii=False)
        return cls(scope=scope, key=key, fingerprint=hashlib.sha256(asked.encode()).hexdigest())


@dataclass(frozen=True, slots=True)
class Replayable(Generic[T]):
    """A result, and whether it was replayed from an earlier request with the same key."""

    value: T
    replayed: bool


class OnceOnly:
    """Runs creations at most once per idempotency key."""

    def __init__(self, storage: Storage, *, clock: Clock, retention: timedelta) -> None:
        self._storage = storage
        self._clock = clock
        self._retention = retention

    async def run(self, request: IdempotentRequest, create: Callable[[UnitOfWork], Awaitable[T]]) -> Replayable[T]:
        """Create with ``create`` inside one atomic block with the key's record, or replay the record.

        Raises RequestInProgress while another block holds the key, and
        IdempotencyKeyReused when the key was first used for a different request.
        """
        async with self._storage.unit_of_work() as uow, uow.atomic():
            if not await uow.idempotency.lock(request.scope, request.key):
                raise RequestInProgress(request.key)
            now = self._clock()
            record = await uow.idempotency.find(request.scope, request.key, now=now)
            if record is not None:
                if record.fingerprint != request.fingerprint:
                    raise IdempotencyKeyReused(request.key)
                return Replayable(cast("T", record.outcome), replayed=True)
            outcome = await create(uow)
            await uow.idempotency.save(
                IdempotencyRecord(
                    scope=request.scope,
                    key=request.key,
                    fingerprint=request.fingerprint,
                    outcome=outcome,
                    created_at=now,
                    expires_at=now + self._retention,
                )
            )
            return Replayable(outcome, replayed=False)

    async def purge(self) -> int:
        """Forget the keys past their retention; returns how many."""
        async with self._storage.unit_of_work() as uow:
            return await uow.idempotency.purge(now=self._clock())


async def retry_once_on_conflict(operation: Callable[[], Awaitable[R]]) -> R:
    """Run ``operation``; when a concurrent write got in its way, run it once more before giving up."""
    try:
        return await operation()
    except WriteConflict:
        return await operation()
