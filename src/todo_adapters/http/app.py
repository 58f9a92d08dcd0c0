"""The composition root of the HTTP service: ``create_app`` wires storage, use cases, security and routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from limits import RateLimitItem
from litestar import Litestar, Request, Response
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.types import Middleware

from todo_adapters.http.allow import AllowedMethods
from todo_adapters.http.auth import BearerAuthentication, KnownCallers, owner_only
from todo_adapters.http.bodies import require_json_body
from todo_adapters.http.cors import PreflightRefusals, cors_config
from todo_adapters.http.observability import RequestContext, configure_logging
from todo_adapters.http.openapi import openapi_config, refine_openapi
from todo_adapters.http.problems import exception_handlers
from todo_adapters.http.readiness import ReadinessProbe
from todo_adapters.http.system import health, openapi_document, ready
from todo_adapters.http.tasks import task_router
from todo_adapters.http.throttling import PerCallerRateLimit, parse_rate
from todo_adapters.http.tokens import ClaimRules, JwksVerifier, SecretVerifier, TokenVerifier
from todo_adapters.http.users import user_router
from todo_adapters.memory import InMemoryStorage
from todo_adapters.postgres import PoolSettings, PostgresStorage
from todo_adapters.settings import Settings, SettingsError
from todo_core import Clock, IdFactory, Storage, TaskService, TodoError, UserService, utc_now

__all__ = ["create_app", "create_app_from_env", "storage_from_settings", "verifier_from_settings"]

logger = logging.getLogger("todo")

_NO_AUTHENTICATION = (
    "Authentication is DISABLED (TODO_AUTH=disabled): anyone who can reach this server can read and change "
    "every user's tasks. Use it on your own machine only."
)


def create_app(
    *,
    settings: Settings | None = None,
    storage: Storage | None = None,
    clock: Clock = utc_now,
    new_id: IdFactory | None = None,
) -> Litestar:
    """The API as an ASGI app, configured by ``settings`` (``Settings()`` when omitted).

    Authentication fails closed: unless ``settings.auth`` is ``"disabled"``, a JWKS URL or a
    shared secret must be configured, else SettingsError. Storage built here from
    ``settings`` is opened and closed with the app; storage passed in belongs to the caller.
    """
    settings = settings or Settings()
    verifier = verifier_from_settings(settings)
    rate_limit = _rate_limit(settings)
    owned_storage = storage is None
    storage = storage or storage_from_settings(settings)
    retention = timedelta(hours=settings.idempotency_retention_hours)
    task_service = TaskService(storage, clock=clock, new_id=new_id, key_retention=retention)
    user_service = UserService(storage, clock=clock, new_id=new_id, key_retention=retention)
    readiness = ReadinessProbe(storage)
    known_callers = None if verifier is None else KnownCallers(user_service)

    middleware: list[Middleware] = []
    limit = None if rate_limit is None else PerCallerRateLimit(rate_limit)
    if verifier is not None and known_callers is not None:
        middleware.append(BearerAuthentication(verifier, known_callers, limit))
    if limit is not None:
        middleware.append(limit)

    allowed = AllowedMethods()
    cors = cors_config(settings.cors_origins)

    async def before_request(request: Request[Any, Any, Any]) -> Response[None] | None:
        owner_only(request)  # first, as a guard would be: another user's path is refused whatever else
        if (options := allowed.answer(request)) is not None:
            return options
        await require_json_body(request)
        return None

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if verifier is None:
            logger.warning(_NO_AUTHENTICATION)
        if isinstance(storage, InMemoryStorage):
            logger.warning("Serving from the in-memory store: data lives only as long as this process.")
        if verifier is not None:
            await verifier.start()
        if owned_storage and isinstance(storage, PostgresStorage):
            await storage.open()
        purging = asyncio.create_task(_purge_expired_keys(task_service))
        try:
            yield
        finally:
            purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purging
            if owned_storage and isinstance(storage, PostgresStorage):
                await storage.close()
            if verifier is not None:
                await verifier.stop()

    app = Litestar(
        route_handlers=[
            user_router(),
            task_router("/api/{user_id:str}/tasks", task_service),
            task_router("/users/{user_id:str}/tasks", task_service, deprecated=True),
            health,
            ready,
            openapi_document,
        ],
        dependencies={
            "users": Provide(lambda: user_service, use_cache=True, sync_to_thread=False),
            "known_callers": Provide(lambda: known_callers, use_cache=True, sync_to_thread=False),
            "readiness": Provide(lambda: readiness, use_cache=True, sync_to_thread=False),
        },
        state=State({"auth": _auth_mode(settings)}),
        middleware=middleware,
        lifespan=[lifespan],
        exception_handlers=exception_handlers,
        before_request=before_request,
        request_max_body_size=settings.max_body_bytes,
        cache_control=CacheControlHeader(no_store=True),
        cors_config=cors,
        openapi_config=openapi_config(authenticated=verifier is not None),
        on_startup=[refine_openapi, allowed.learn],
        logging_config=None,  # logging belongs to the process (configure_logging), not to one app
    )
    # Outermost, so routing errors (404, 405) and refused preflights get a request id and an access log line too.
    app.asgi_handler = RequestContext(app.asgi_handler if cors is None else PreflightRefusals(app.asgi_handler))
    return app


def create_app_from_env() -> Litestar:
    """The app configured from ``TODO_*`` environment variables: what ``todo serve`` runs in each worker."""
    settings = Settings.from_env()
    configure_logging(level=settings.log_level, json_lines=settings.log_format == "json")
    app = create_app(settings=settings)
    app.on_startup.append(_freeze_startup_objects)  # last: after the pool, the routes and the schema exist
    return app


def _freeze_startup_objects() -> None:
    """Take what the worker built at startup out of the garbage collector's full collections.

    A worker starts with some 75,000 objects (modules, the app, its routes and schema) that
    live as long as it does, and every full collection walked all of them: 84 ms on an idle
    worker, up to 200 ms under load, while every request of that worker waited. Frozen, they
    are never walked again (``gc.freeze``), while reference counting still frees them; the
    garbage made while starting is collected first, so none of it stays behind for good.
    This is the serving process's policy, so only ``todo serve``'s app applies it, not
    ``create_app``, which may run inside someone else's process.
    """
    gc.collect()
    gc.freeze()


async def _purge_expired_keys(tasks: TaskService, every: float = 3600.0) -> None:
    """Forget expired idempotency keys every ``every`` seconds; a failure waits for the next round."""
    while True:
        await asyncio.sleep(every)
        try:
            if purged := await tasks.purge_idempotency_keys():
                logger.info("purged %d expired idempotency keys", purged)
        except TodoError as error:
            logger.warning("could not purge expired idempotency keys: %s", error.message)
        except Exception:  # housekeeping must not take the server down; the next round tries again
            logger.exception("purging expired idempotency keys failed")


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
        statement_timeout=settings.db_statement_timeout,
    )
    return PostgresStorage(settings.database_url, pool, development=settings.environment == "development")


def verifier_from_settings(settings: Settings) -> TokenVerifier | None:
    """How bearer tokens are checked, or None when authentication is disabled. Raises SettingsError
    when authentication is on but nothing to trust tokens by is configured."""
    if settings.auth == "disabled":
        return None
    rules = ClaimRules(issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway=settings.jwt_leeway)
    if settings.jwks_url is not None:
        try:
            return JwksVerifier(
                settings.jwks_url, rules, algorithms=settings.jwt_algorithms, cooldown=settings.jwks_cooldown
            )
        except ValueError as error:
            raise SettingsError(f"TODO_JWT_ALGORITHMS={','.join(settings.jwt_algorithms)}: {error}") from None
    if settings.jwt_secret is not None:
        try:
            return SecretVerifier(settings.jwt_secret, rules)
        except ValueError as error:
            raise SettingsError(f"TODO_JWT_SECRET (or BETTER_AUTH_SECRET): {error}") from None
    raise SettingsError(
        "authentication is on but nothing to verify tokens with is configured. Set TODO_JWKS_URL to your "
        "sign-in service's JWKS endpoint (e.g. https://app.example/api/auth/jwks), or TODO_JWT_SECRET "
        "(or BETTER_AUTH_SECRET, at least 32 bytes) to verify HS256 tokens; or set TODO_AUTH=disabled to "
        "run without authentication on your own machine."
    )


def _auth_mode(settings: Settings) -> str:
    if settings.auth == "disabled":
        return "disabled"
    return "jwks" if settings.jwks_url is not None else "secret"


def _rate_limit(settings: Settings) -> RateLimitItem | None:
    if settings.rate_limit is None or settings.rate_limit.lower() in {"off", "none", "0"}:
        return None
    try:
        return parse_rate(settings.rate_limit)
    except ValueError:
        raise SettingsError(
            f"TODO_RATE_LIMIT={settings.rate_limit!r}: must read like 100/minute, 10/second or off"
        ) from None
