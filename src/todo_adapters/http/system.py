"""Routes about the service itself rather than its data."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

__all__ = ["Health", "health", "openapi_document"]


class Health(msgspec.Struct, frozen=True):
    status: str


@get("/health", operation_id="health", summary="Liveness", tags=["service"])
async def health() -> Health:
    return Health(status="ok")


@get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """The OpenAPI 3.1 document of this API."""
    return Response(request.app.openapi_schema.to_schema())
