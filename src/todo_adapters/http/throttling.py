"""Per-caller rate limiting with the ``limits`` library: 429 RATE_LIMITED with ``Retry-After`` and
``RateLimit-*`` headers (draft-ietf-httpapi-ratelimit-headers) on every limited route.

Counters live in this process's memory, so with N worker processes a caller may make up
to N times the configured rate in the worst case.
"""

from __future__ import annotations

import math
import time
from typing import Final

import limits
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from todo_adapters.http.problems import HTTPProblem
from todo_adapters.http.tokens import Caller

__all__ = ["PerCallerRateLimit", "parse_rate"]

_HEADER_NAMES: Final = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


def parse_rate(text: str) -> limits.RateLimitItem:
    """``100/minute``, ``10/second``, ``5000/hour``: raises ValueError for anything else."""
    return limits.parse(text)


class PerCallerRateLimit(ASGIMiddleware):
    """Limit each caller (by token subject, else by client address) to ``rate``."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "public"

    def __init__(self, rate: limits.RateLimitItem) -> None:
        self._rate = rate
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = await self.admit(_caller_key(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)

    async def admit_refused(self, scope: Scope) -> None:
        """Count a request refused before it had a caller (no or a bad token) against its address,
        so guessing tokens is limited too. Raises the 429 once the address is over the limit."""
        await self.admit(_address_key(scope))

    async def admit(self, key: str) -> dict[str, str]:
        """Count one request for ``key``: the RateLimit headers, or the 429 when over the limit."""
        allowed = await self._limiter.hit(self._rate, key)
        window = await self._limiter.get_window_stats(self._rate, key)
        reset = max(0, math.ceil(window.reset_time - time.time()))
        headers = dict(
            zip(
                _HEADER_NAMES,
                (
                    str(self._rate.amount),
                    str(window.remaining),
                    str(reset),
                    f"{self._rate.amount};w={self._rate.get_expiry()}",
                ),
                strict=True,
            )
        )
        if not allowed:
            raise HTTPProblem(
                HTTP_429_TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                f"Too many requests: the limit is {self._rate.amount} per {self._rate.get_expiry()} s; "
                f"retry in {reset} s.",
                headers={**headers, "Retry-After": str(max(reset, 1))},
            )
        return headers


def _caller_key(scope: Scope) -> str:
    user = scope.get("user")
    return f"user:{user.id}" if isinstance(user, Caller) else _address_key(scope)


def _address_key(scope: Scope) -> str:
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"
