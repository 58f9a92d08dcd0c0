"""The OpenAPI 3.1 document: what Litestar generates, plus what its generator cannot say."""

from __future__ import annotations

from importlib.metadata import version

from litestar import Litestar, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Reference, SecurityScheme

from todo_adapters.http.auth import PUBLIC
from todo_adapters.http.schemas import CompletionChange, NewTask, NewUser, TaskPatch, TaskReplacement
from todo_adapters.http.tasks import IF_NONE_MATCH

__all__ = ["openapi_config", "refine_openapi"]

# Request bodies refuse unknown fields; the document must say so, or clients and test
# generators would take extra fields for allowed ones.
_CLOSED_BODIES = (NewTask, TaskReplacement, TaskPatch, CompletionChange, NewUser)
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
    for body in _CLOSED_BODIES:
        schema = schemas.get(body.__name__)
        if schema is not None and not isinstance(schema, Reference):
            schema.additional_properties = False
    for path in (app.openapi_schema.paths or {}).values():
        operation = path.get
        if operation is not None and (header := _HEADERS_READ_BY_HAND.get(operation.operation_id or "")):
            operation.parameters = [*(operation.parameters or []), header]
