"""Request ids and access logs.

Every response carries ``X-Request-ID``: the client's own when it sent a sane one, else a
new one. Each request is logged once, with its id, method, route template, status and
duration. Logs never contain tokens, bodies or query strings (a query can hold search text).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Final

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from pythonjsonlogger.json import JsonFormatter

__all__ = ["RequestContext", "configure_logging", "current_request_id"]

_SANE_REQUEST_ID: Final = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("todo.access")


def current_request_id() -> str | None:
    """The id of the request being handled, for log records."""
    return _request_id.get()


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def configure_logging(*, level: str, json_lines: bool) -> None:
    """Send every log record to stderr, as text or as one JSON object per line, with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if json_lines:
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class RequestContext:
    """ASGI wrapper around the whole app (routing errors included): ids every request and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        request_id = _request_id_of(scope)
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                duration_ms = round((time.perf_counter() - started) * 1000, 2)
                route = scope.get("path_template") or "(no route)"
                access_log.info(
                    "%s %s %s %.1f ms",
                    method,
                    route,
                    status,
                    duration_ms,
                    extra={"method": method, "route": route, "status": status, "duration_ms": duration_ms},
                )
            _request_id.reset(token)


# A new id is this process's random prefix (with its pid, in case of a fork) and a counter:
# unique without a system call per request, unlike uuid4.
_ID_PREFIX: Final = f"{secrets.token_hex(6)}{os.getpid():x}-"
_id_counter = itertools.count(1)


def _request_id_of(scope: HTTPScope) -> str:
    sent = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
    if sent is not None and _SANE_REQUEST_ID.fullmatch(sent):
        return sent.decode()
    return f"{_ID_PREFIX}{next(_id_counter):x}"
