"""Idempotency records in PostgreSQL, and the transaction-scoped lock that makes a key single-use."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, LiteralString
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from todo_core import IdempotencyRecord, Task, User
from todo_core.ports import IdempotencyRepository

__all__ = ["PostgresIdempotencyRepository"]

# A transaction-scoped advisory lock on the key: released when the transaction ends, so a
# crash cannot leave a key locked. A newline cannot occur in a key, so (scope, key) pairs
# cannot collide by concatenation; two keys sharing a 64-bit hash merely wait for each other.
LOCK_KEY: Final[LiteralString] = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended(%(scope)s || chr(10) || %(key)s, 0))"
)
FIND_KEY: Final[LiteralString] = """
    SELECT fingerprint, outcome, created_at, expires_at FROM idempotency_keys
    WHERE scope = %(scope)s AND key = %(key)s AND expires_at > %(now)s
"""
# A record past its retention is replaced; a live one never is (the lock and the lookup
# before this statement rule that out).
SAVE_KEY: Final[LiteralString] = """
    INSERT INTO idempotency_keys (scope, key, fingerprint, outcome, created_at, expires_at)
    VALUES (%(scope)s, %(key)s, %(fingerprint)s, %(outcome)s, %(created_at)s, %(expires_at)s)
    ON CONFLICT (scope, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, outcome = EXCLUDED.outcome,
            created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
"""
PURGE_KEYS: Final[LiteralString] = "DELETE FROM idempotency_keys WHERE expires_at <= %(now)s"


class PostgresIdempotencyRepository(IdempotencyRepository):
    """Idempotency records through one connection of the pool."""

    __slots__ = ("_connection",)

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self._connection = connection

    async def lock(self, scope: str, key: str) -> bool:
        cursor = await self._connection.execute(LOCK_KEY, {"scope": scope, "key": key})
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def find(self, scope: str, key: str, *, now: datetime) -> IdempotencyRecord | None:
        cursor = await self._connection.execute(FIND_KEY, {"scope": scope, "key": key, "now": now})
        row = await cursor.fetchone()
        if row is None:
            return None
        fingerprint, outcome, created_at, expires_at = row
        return IdempotencyRecord(
            scope=scope,
            key=key,
            fingerprint=fingerprint,
            outcome=_outcome_from_json(outcome),
            created_at=created_at,
            expires_at=expires_at,
        )

    async def save(self, record: IdempotencyRecord) -> None:
        await self._connection.execute(
            SAVE_KEY,
            {
                "scope": record.scope,
                "key": record.key,
                "fingerprint": record.fingerprint,
                "outcome": Jsonb(_outcome_to_json(record.outcome)),
                "created_at": record.created_at,
                "expires_at": record.expires_at,
            },
        )

    async def purge(self, *, now: datetime) -> int:
        cursor = await self._connection.execute(PURGE_KEYS, {"now": now})
        return cursor.rowcount


def _outcome_to_json(outcome: Task | User) -> dict[str, Any]:
    if isinstance(outcome, Task):
        return {
            "kind": "task",
            "id": str(outcome.id),
            "user_id": outcome.user_id,
            "title": outcome.title,
            "description": outcome.description,
            "completed": outcome.completed,
            "completed_at": None if outcome.completed_at is None else outcome.completed_at.isoformat(),
            "created_at": outcome.created_at.isoformat(),
            "updated_at": outcome.updated_at.isoformat(),
            "version": outcome.version,
        }
    return {"kind": "user", "id": outcome.id, "email": outcome.email, "created_at": outcome.created_at.isoformat()}


def _outcome_from_json(data: dict[str, Any]) -> Task | User:
    if data["kind"] == "task":
        completed_at = data["completed_at"]
        return Task(
            id=UUID(data["id"]),
            user_id=data["user_id"],
            title=data["title"],
            description=data["description"],
            completed=data["completed"],
            completed_at=None if completed_at is None else datetime.fromisoformat(completed_at),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            version=data["version"],
        )
    return User(id=data["id"], email=data["email"], created_at=datetime.fromisoformat(data["created_at"]))
