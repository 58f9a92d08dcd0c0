"""The composition root of the HTTP service: ``create_app`` wires storage, use cases and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from todo_adapters.http.bodies import require_json_body
from todo_adapters.http.problems import exception_handlers
from todo_adapters.http.system import health, openapi_document
from todo_adapters.http.tasks import task_router
from todo_adapters.http.users import user_router
from todo_adapters.memory import InMemoryStorage
from todo_adapters.postgres import PoolSettings, PostgresStorage
from todo_adapters.settings import Settings
from todo_core import Clock, IdFactory, Storage, TaskService, UserService, utc_now

__all__ = ["create_app", "create_app_from_env"]

logger = logging.getLogger("todo")


def create_app(
    *,
    settings: Settings | None = None,
    storage: Storage | None = None,
    clock: Clock = utc_now,
    new_id: IdFactory | None = None,
) -> Litestar:
    """The API as an ASGI app. Every dependency has a default: with none given it serves from memory.

    Storage built here from ``settings`` is opened and closed with the app; storage passed
    in belongs to the caller, who opens and closes it.
    """
    settings = settings or Settings()
    owned_storage = storage is None
    storage = storage or storage_from_settings(settings)
    task_service = TaskService(storage, clock=clock, new_id=new_id)
    user_service = UserService(storage, clock=clock, new_id=new_id)

    @asynccontextmanager
    async def storage_lifespan(_: Litestar) -> AsyncIterator[None]:
        if isinstance(storage, InMemoryStorage):
            logger.warning("Serving from the in-memory store: data lives only as long as this process.")
        if not (owned_storage and isinstance(storage, PostgresStorage)):
            yield
            return
        await storage.open()
        try:
            yield
        finally:
            await storage.close()

    return Litestar(
        route_handlers=[
            user_router(),
            task_router("/api/{user_id:str}/tasks"),
            task_router("/users/{user_id:str}/tasks", deprecated=True),
            health,
            openapi_document,
        ],
        dependencies={
            "tasks": Provide(lambda: task_service, use_cache=True, sync_to_thread=False),
            "users": Provide(lambda: user_service, use_cache=True, sync_to_thread=False),
        },
        lifespan=[storage_lifespan],
        exception_handlers=exception_handlers,
        before_request=require_json_body,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="todo",
            version=version("todo"),
            description="A multi-user task service. Every error answers with one body: "
            '`{"error": {"code", "message", "details"}}`.',
            # Served under /docs (Swagger UI at its root); /openapi.json is a route of our own.
            path="/docs",
            render_plugins=[SwaggerRenderPlugin(path="/"), JsonRenderPlugin(path="/openapi.json")],
        ),
    )


def storage_from_settings(settings: Settings) -> InMemoryStorage | PostgresStorage:
    """PostgreSQL when ``TODO_DATABASE_URL`` is set, else memory."""
    if settings.database_url is None:
        return InMemoryStorage()
    pool = PoolSettings(
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        timeout=settings.db_pool_timeout,
        max_waiting=settings.db_pool_max_waiting,
        prepare_threshold=settings.db_prepare_threshold,
        check_connections=settings.db_check_connections,
    )
    return PostgresStorage(settings.database_url, pool)


def create_app_from_env() -> Litestar:
    """The app configured from ``TODO_*`` environment variables: what ``todo serve`` runs in each worker."""
    return create_app(settings=Settings.from_env())
