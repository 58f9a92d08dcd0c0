"""Configuration, read once from environment variables into a frozen object.

Every setting has a default that serves a local, zero-setup run; a bad value stops the
service at start with a message naming the variable, never at the first request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from todo_adapters.postgres import PoolSettings

__all__ = ["Settings", "SettingsError"]

T = TypeVar("T")
_POOL = PoolSettings()  # the storage's own defaults: one place says what a pool does unless told otherwise


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """What the service is configured with. ``Settings.from_env()`` reads ``TODO_*`` variables."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    log_format: str = "text"
    environment: str = "production"
    shutdown_grace: float = 10.0
    max_body_bytes: int = 64 * 1024
    database_url: str | None = None
    db_pool_min: int = _POOL.min_size
    db_pool_max: int = _POOL.max_size
    db_pool_timeout: float = _POOL.timeout
    db_pool_max_waiting: int = _POOL.max_waiting
    db_prepare_threshold: int | None = _POOL.prepare_threshold
    db_check_connections: bool = _POOL.check_connections
    db_statement_timeout: float | None = _POOL.statement_timeout
    idempotency_retention_hours: float = 24.0
    auth: str = "jwt"
    jwks_url: str | None = None
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_algorithms: tuple[str, ...] = ("EdDSA",)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway: float = 30.0
    jwks_cooldown: float = 30.0
    rate_limit: str | None = None
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        read = _Reader(env)
        settings = cls(
            host=read.text("TODO_HOST", cls.host),
            port=read.integer("TODO_PORT", cls.port, minimum=0, maximum=65535),
            workers=read.integer("TODO_WORKERS", cls.workers, minimum=1),
            log_level=read.choice("TODO_LOG_LEVEL", cls.log_level, ("critical", "error", "warning", "info", "debug")),
            log_format=read.choice("TODO_LOG_FORMAT", cls.log_format, ("text", "json")),
            environment=read.choice("TODO_ENVIRONMENT", cls.environment, ("production", "development")),
            shutdown_grace=read.number("TODO_SHUTDOWN_GRACE", cls.shutdown_grace, minimum=1.0),
            max_body_bytes=read.integer("TODO_MAX_BODY_BYTES", cls.max_body_bytes, minimum=1024),
            database_url=read.optional_text("TODO_DATABASE_URL"),
            db_pool_min=read.integer("TODO_DB_POOL_MIN", cls.db_pool_min, minimum=0),
            db_pool_max=read.integer("TODO_DB_POOL_MAX", cls.db_pool_max, minimum=1),
            db_pool_timeout=read.number("TODO_DB_POOL_TIMEOUT", cls.db_pool_timeout, minimum=0.1),
            db_pool_max_waiting=read.integer("TODO_DB_POOL_MAX_WAITING", cls.db_pool_max_waiting, minimum=0),
            db_prepare_threshold=read.optional_integer("TODO_DB_PREPARE_THRESHOLD", cls.db_prepare_threshold),
            db_check_connections=read.flag("TODO_DB_CHECK_CONNECTIONS", cls.db_check_connections),
            db_statement_timeout=read.optional_number("TODO_DB_STATEMENT_TIMEOUT", cls.db_statement_timeout),
            idempotency_retention_hours=read.number(
                "TODO_IDEMPOTENCY_RETENTION_HOURS", cls.idempotency_retention_hours, minimum=24.0
            ),
            auth=read.choice("TODO_AUTH", cls.auth, ("jwt", "disabled")),
            jwks_url=read.optional_text("TODO_JWKS_URL"),
            jwt_secret=read.optional_text("TODO_JWT_SECRET") or read.optional_text("BETTER_AUTH_SECRET"),
            jwt_algorithms=read.items("TODO_JWT_ALGORITHMS", cls.jwt_algorithms),
            jwt_issuer=read.optional_text("TODO_JWT_ISSUER"),
            jwt_audience=read.optional_text("TODO_JWT_AUDIENCE"),
            jwt_leeway=read.number("TODO_JWT_LEEWAY", cls.jwt_leeway, minimum=0.0),
            jwks_cooldown=read.number("TODO_JWKS_REFRESH_COOLDOWN", cls.jwks_cooldown, minimum=0.0),
            rate_limit=read.optional_text("TODO_RATE_LIMIT"),
            cors_origins=read.items("TODO_CORS_ORIGINS", cls.cors_origins),
        )
        if settings.db_pool_min > settings.db_pool_max:
            raise SettingsError(
                f"TODO_DB_POOL_MIN={settings.db_pool_min} is above TODO_DB_POOL_MAX={settings.db_pool_max}"
            )
        return settings

    def describe(self) -> dict[str, Any]:
        """The settings with secrets hidden, for logs and start-up banners."""
        shown: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_secret") and value:
                value = "***"
            elif item.name.endswith("_url") and value:
                value = _redact_url(value)
            shown[item.name] = value
        return shown


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def _parse(self, name: str, default: T, parse: Callable[[str], T]) -> T:
        raw = self._env.get(name, "").strip()
        if not raw:
            return default
        try:
            return parse(raw)
        except ValueError as error:
            raise SettingsError(f"{name}={raw!r}: {error}") from None

    def text(self, name: str, default: str) -> str:
        return self._parse(name, default, str)

    def optional_text(self, name: str) -> str | None:
        return self._parse(name, None, str)

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        return self._parse(name, default, lambda raw: _bounded(_whole_number(raw), minimum, maximum))

    def optional_integer(self, name: str, default: int | None) -> int | None:
        """A whole number, or ``none`` to switch the feature off."""
        return self._parse(
            name, default, lambda raw: None if raw.lower() == "none" else _bounded(_whole_number(raw), 0)
        )

    def items(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        """A comma-separated list."""
        return self._parse(name, default, lambda raw: tuple(item.strip() for item in raw.split(",") if item.strip()))

    def number(self, name: str, default: float, *, minimum: float) -> float:
        def parse(raw: str) -> float:
            try:
                value = float(raw)
            except ValueError:
                raise ValueError("must be a number") from None
            return _bounded(value, minimum)

        return self._parse(name, default, parse)

    def optional_number(self, name: str, default: float | None) -> float | None:
        """A number of seconds, or ``none`` to leave it unset."""
        return self._parse(name, default, lambda raw: None if raw.lower() == "none" else _seconds(raw))

    def flag(self, name: str, default: bool) -> bool:
        def parse(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError("must be true or false")

        return self._parse(name, default, parse)

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            if raw.lower() not in choices:
                raise ValueError(f"must be one of {', '.join(choices)}")
            return raw.lower()

        return self._parse(name, default, parse)


N = TypeVar("N", int, float)


def _whole_number(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a whole number") from None


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number of seconds, or none") from None
    return _bounded(value, 0.001)


def _bounded(value: N, minimum: N, maximum: N | None = None) -> N:
    if not value >= minimum:
        raise ValueError(f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"must be at most {maximum}")
    return value


def _redact_url(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user = credentials.partition(":")[0]
    return f"{scheme}://{user}:***@{location}" if ":" in credentials else f"{scheme}://{user}@{location}"
