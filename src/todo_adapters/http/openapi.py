"""The OpenAPI 3.1 document: what Litestar generates, plus what its generator cannot say."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from typing import get_args

import msgspec
from litestar import Litestar, Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Reference, RequestBody, SecurityScheme

from todo_adapters.http.auth import PUBLIC
from todo_adapters.http.bodies import BODY_OPTIONAL, body_type
from todo_adapters.http.tasks import IF_NONE_MATCH

__all__ = ["openapi_config", "refine_openapi"]

# Headers a handler reads from the request itself, which Litestar therefore cannot document.
_HEADERS_READ_BY_HAND = {"getTask": IF_NONE_MATCH, "getTaskDeprecated": IF_NONE_MATCH}


def openapi_config(*, authenticated: bool) -> OpenAPIConfig:
    bearer: dict[str, SecurityScheme | Reference] = {
        "BearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
    }
    return OpenAPIConfig(
        title="todo",
        version=version("todo"),
        description="A multi-user task service. Every error answers with one body: "
        '`{"error": {"code", "message", "details"}}`.',
        components=Components(security_schemes=bearer) if authenticated else Components(),
        security=[{"BearerAuth": []}] if authenticated else None,
        # Swagger UI at /docs, open without a token; /openapi.json is a route of our own.
        path="/docs",
        render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin(path="/openapi.json")],
        openapi_router=Router("/docs", route_handlers=[], opt=PUBLIC, include_in_schema=False),
    )


def refine_openapi(app: Litestar) -> None:
    """Run at start-up, before the document is first served."""
    schemas = app.openapi_schema.components.schemas or {}
    handlers = list(_route_handlers(app))
    # Request bodies refuse unknown fields; the document must say so, or clients and test
    # generators would take extra fields for allowed ones.
    for body in {body for handler in handlers for body in _body_structs(handler)}:
        schema = schemas.get(body.__name__)
        if body.__struct_config__.forbid_unknown_fields and schema is not None and not isinstance(schema, Reference):
            schema.additional_properties = False
    # Litestar marks every body required; some routes also answer without one.
    optional = {
        handler.operation_id for handler in handlers if handler.opt.get("json_body") == BODY_OPTIONAL["json_body"]
    }
    for path in (app.openapi_schema.paths or {}).values():
        for operation in (path.get, path.put, path.post, path.patch, path.delete):
            if operation is None:
                continue
            if operation.operation_id in optional and isinstance(operation.request_body, RequestBody):
                operation.request_body.required = False
            if header := _HEADERS_READ_BY_HAND.get(operation.operation_id or ""):
                operation.parameters = [*(operation.parameters or []), header]


def _route_handlers(app: Litestar) -> Iterator[HTTPRouteHandler]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                yield handler


def _body_structs(handler: HTTPRouteHandler) -> list[type[msgspec.Struct]]:
    """The Structs a route's body may be (``A | None`` names A)."""
    kind = body_type(handler)
    if kind is None:
        return []
    candidates = get_args(kind) or (kind,)
    return [kind for kind in candidates if isinstance(kind, type) and issubclass(kind, msgspec.Struct)]
