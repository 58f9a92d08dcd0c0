"""Users in PostgreSQL."""

from __future__ import annotations

from typing import Any, Final, LiteralString

from psycopg import AsyncConnection, AsyncCursor
from psycopg import errors as pg_errors

from todo_core import EmailTaken, User, UserIdTaken, UserRepository

__all__ = ["PostgresUserRepository"]

INSERT_USER: Final[LiteralString] = """
    INSERT INTO users (id, email, created_at) VALUES (%(id)s, %(email)s, %(created_at)s)
"""
SELECT_USER: Final[LiteralString] = "SELECT id, email, created_at FROM users WHERE id = %(id)s"
UPDATE_EMAIL: Final[LiteralString] = """
    UPDATE users SET email = %(email)s WHERE id = %(id)s RETURNING id, email, created_at
"""
# Tasks go with their owner through the ON DELETE CASCADE foreign key.
DELETE_USER: Final[LiteralString] = "DELETE FROM users WHERE id = %(id)s"


class PostgresUserRepository(UserRepository):
    """Users through one connection of the pool."""

    __slots__ = ("_connection",)

    def __init__(self, connection: AsyncConnection[Any]) -> None:
        self._connection = connection

    async def add(self, user: User) -> None:
        try:
            await self._connection.execute(
                INSERT_USER, {"id": user.id, "email": user.email, "created_at": user.created_at}
            )
        except pg_errors.UniqueViolation as violation:
            if violation.diag.constraint_name == "users_email_key" and user.email is not None:
                raise EmailTaken(user.email) from None
            raise UserIdTaken(user.id) from None

    async def get(self, user_id: str) -> User | None:
        cursor = await self._connection.execute(SELECT_USER, {"id": user_id})
        return await _user_of(cursor)

    async def set_email(self, user_id: str, email: str) -> User | None:
        try:
            cursor = await self._connection.execute(UPDATE_EMAIL, {"id": user_id, "email": email})
        except pg_errors.UniqueViolation:  # users_email_key: the only unique index an email change can break
            raise EmailTaken(email) from None
        return await _user_of(cursor)

    async def remove(self, user_id: str) -> bool:
        cursor = await self._connection.execute(DELETE_USER, {"id": user_id})
        return cursor.rowcount == 1


async def _user_of(cursor: AsyncCursor[Any]) -> User | None:
    """The user in the cursor's row (id, email, created_at), or None when the statement found none."""
    row = await cursor.fetchone()
    return None if row is None else User(id=row[0], email=row[1], created_at=row[2])
