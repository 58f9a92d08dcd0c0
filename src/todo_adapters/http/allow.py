"""OPTIONS answers that list every method of a path.

Litestar builds the OPTIONS handler of a path when its first handler is registered and
does not update it as others join, so its ``Allow`` header misses methods. This answers
OPTIONS from the finished routing table instead (after authentication, like any request).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT

__all__ = ["AllowedMethods"]


class AllowedMethods:
    def __init__(self) -> None:
        self._by_path: dict[str, str] = {}

    def learn(self, app: Litestar) -> None:
        """Read every path's methods once the app is built (an ``on_startup`` hook)."""
        self._by_path = {
            route.path_format: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)
        }

    def answer(self, request: Request[Any, Any, Any]) -> Response[None] | None:
        """The response to an OPTIONS request; None for any other method."""
        if request.method != "OPTIONS":
            return None
        allow = self._by_path.get(request.scope["path_template"], "OPTIONS")
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allow})
