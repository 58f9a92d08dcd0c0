"""Routes about the service itself rather than its data."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from todo_adapters.http.auth import PUBLIC
from todo_adapters.http.problems import ErrorBody, HTTPProblem
from todo_adapters.http.readiness import ReadinessProbe

__all__ = ["Health", "Ready", "health", "openapi_document", "ready"]


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


class Ready(msgspec.Struct, frozen=True):
    status: Literal["ready"]


@get(
    "/health/ready",
    operation_id="ready",
    summary="Readiness",
    description="200 when storage can serve (reachable, schema current, writes durable), else 503 with the reasons.",
    tags=["service"],
    opt=PUBLIC,
    security=[{}],
    responses={503: ResponseSpec(data_container=ErrorBody, description="Not ready; `details.reasons` says why.")},
)
async def ready(readiness: NamedDependency[ReadinessProbe]) -> Ready:
    state = await readiness.check()
    if not state.ready:
        raise HTTPProblem(
            HTTP_503_SERVICE_UNAVAILABLE,
            "NOT_READY",
            "The service cannot serve data yet: " + "; ".join(state.reasons),
            details={"reasons": list(state.reasons)},
            headers={"Retry-After": "2"},
        )
    return Ready(status="ready")
