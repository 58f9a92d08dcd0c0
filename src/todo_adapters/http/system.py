"""Routes about the service itself rather than its data."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State

from todo_adapters.http.auth import PUBLIC

__all__ = ["Health", "health", "openapi_document"]


class Health(msgspec.Struct, frozen=True):
    status: str
    auth: Literal["jwks", "secret", "disabled"]
    """How bearer tokens are verified; "disabled" means anyone can reach every user's data."""


@get("/health", operation_id="health", summary="Liveness", tags=["service"], opt=PUBLIC, security=[{}])
async def health(state: State) -> Health:
    return Health(status="ok", auth=state.auth)


@get("/openapi.json", include_in_schema=False, opt=PUBLIC)
async def openapi_document(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The OpenAPI 3.1 document of this API."""
    return Response(request.app.openapi_schema.to_schema())
