"""Calls from browser pages on other origins (CORS): who may make them, and refusals in the one error body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec
from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Method, Receive, Scope, Send

from todo_adapters.http.problems import ErrorBody, ErrorDetail

__all__ = ["PreflightRefusals", "cors_config"]

_METHODS: Final[list[Method]] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_REQUEST_HEADERS: Final = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
_RESPONSE_HEADERS: Final = [
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "X-Request-ID",
    "Idempotent-Replayed",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
]
_REFUSED_PREFIX: Final = "Disallowed CORS "


def cors_config(origins: Sequence[str]) -> CORSConfig | None:
    """What pages on ``origins`` may send and read; None (no cross-origin calls) when there are none."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=list(_METHODS),
        allow_headers=list(_REQUEST_HEADERS),
        expose_headers=list(_RESPONSE_HEADERS),
        max_age=600,
    )


class PreflightRefusals:
    """ASGI wrapper that answers a refused preflight in the one error body.

    Litestar's CORS middleware answers every preflight itself, before routing and the app's
    exception handlers, and a refusal as 400 text/plain ``Disallowed CORS Origin``. A browser
    never shows that body, but the person running curl to find out why their page is refused
    does: here it becomes ``CORS_REFUSED`` naming each refused header and what is allowed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
            await self._app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        if "origin" not in headers:  # not a preflight: the app answers OPTIONS itself
            await self._app(scope, receive, send)
            return
        refusal: list[bytes] | None = None

        async def send_refusal_as_error(message: Message) -> None:
            nonlocal refusal
            if message["type"] == "http.response.start" and message["status"] == 400:
                refusal = []
            elif refusal is None:
                await send(message)
            elif message["type"] == "http.response.body":
                refusal.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _send_error(send, _refusal(b"".join(refusal).decode(errors="replace"), headers))

        await self._app(scope, receive, send_refusal_as_error)


def _refusal(text: str, headers: dict[str, str]) -> ErrorDetail:
    """The error for Litestar's refusal ``text`` ("Disallowed CORS method, Origin") of a preflight with ``headers``."""
    refused = {part.strip().lower() for part in text.removeprefix(_REFUSED_PREFIX).split(",")}
    details = {}
    if "origin" in refused:
        details["Origin"] = f"{headers['origin']} is not an origin this API accepts calls from"
    if "method" in refused:
        method = headers.get("access-control-request-method", "")
        details["Access-Control-Request-Method"] = f"{method} is not allowed (allowed: {', '.join(_METHODS)})"
    if "headers" in refused:
        details["Access-Control-Request-Headers"] = (
            f"names a header that is not allowed (allowed: {', '.join(_REQUEST_HEADERS)})"
        )
    summary = "; ".join(f"{name}: {reason}" for name, reason in details.items()) or text
    return ErrorDetail(code="CORS_REFUSED", message=f"This cross-origin request is refused. {summary}", details=details)


async def _send_error(send: Send, error: ErrorDetail) -> None:
    body = msgspec.json.encode(ErrorBody(error))
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
