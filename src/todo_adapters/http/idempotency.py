"""The Idempotency-Key request header, and how a replayed answer says it is one."""

from __future__ import annotations

from typing import Annotated, Final

from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter

from todo_core import Replayable, Task, User
from todo_core.rules import IDEMPOTENCY_KEY_PATTERN

__all__ = ["IDEMPOTENT_CREATE", "REPLAYED", "IdempotencyKey", "replayed"]

IDEMPOTENT_CREATE: Final = (
    "Send an `Idempotency-Key` (1-255 printable ASCII characters, e.g. a UUID) to make the request safe to "
    "retry: a repeat with the same key and body within the retention (24 hours by default) answers the first "
    "response again, with "
    "`Idempotent-Replayed: true`, and creates nothing. The same key with another body answers 422 "
    "`IDEMPOTENCY_KEY_REUSED`; a repeat while the first is still running answers 409 `REQUEST_IN_PROGRESS`."
)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        description="Makes a retry of this request return the first response instead of creating again.",
        schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
    ),
]

REPLAYED: Final = ResponseHeader(
    name="Idempotent-Replayed",
    description="`true` when this answer repeats an earlier request's with the same Idempotency-Key.",
    documentation_only=True,
)


def replayed(result: Replayable[Task] | Replayable[User], headers: dict[str, str]) -> dict[str, str]:
    """``headers``, plus ``Idempotent-Replayed: true`` when ``result`` was replayed."""
    return {**headers, "Idempotent-Replayed": "true"} if result.replayed else headers
