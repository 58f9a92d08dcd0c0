"""Who is calling (authentication) and whether they may touch this path (authorisation).

Every route requires a bearer token unless its handler is marked ``opt={"public": True}``
(health and the API documentation), whatever the method: HEAD and OPTIONS included.
A token for user A on a path of user B is refused with 403 before anything is looked up,
so the answer never depends on what B owns.
"""

from __future__ import annotations

import time
from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_401_UNAUTHORIZED, HTTP_403_FORBIDDEN
from litestar.types import ASGIApp, Receive, Scope, Send

from todo_adapters.http.expiring import ExpiringCache
from todo_adapters.http.problems import HTTPProblem
from todo_adapters.http.throttling import PerCallerRateLimit
from todo_adapters.http.tokens import Caller, InvalidToken, TokenVerifier
from todo_core import UserService

__all__ = ["PUBLIC", "BearerAuthentication", "KnownCallers", "caller_of", "owner_only"]

PUBLIC: Final = {"public": True}
_REALM: Final = 'Bearer realm="todo"'


class KnownCallers:
    """Callers whose user record this process has already made sure of, for a while.

    The first authenticated call of a new ``sub`` creates its user, so a signed-in user never
    meets USER_NOT_FOUND on their own path; remembering it spares the database that check
    on every later call. Entries expire so a user deleted through another process comes
    back on their next call, as a new one would.
    """

    def __init__(self, users: UserService, *, ttl: float = 600.0, capacity: int = 100_000) -> None:
        self._users = users
        self._ttl = ttl
        self._known: ExpiringCache[str, bool] = ExpiringCache(capacity=capacity, clock=time.monotonic)

    async def ensure(self, caller: Caller) -> None:
        if self._known.get(caller.id):
            return
        await self._users.provision_user(caller.id, email=caller.email)
        self._known.put(caller.id, True, until=self._known.clock() + self._ttl)

    def forget(self, user_id: str) -> None:
        self._known.forget(user_id)


class BearerAuthentication(ASGIMiddleware):
    """Verify ``Authorization: Bearer <jwt>`` and put the caller in ``scope["user"]``."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "public"

    def __init__(self, verifier: TokenVerifier, known: KnownCallers, limit: PerCallerRateLimit | None = None) -> None:
        self._verifier = verifier
        self._known = known
        self._limit = limit

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        try:
            caller = await self._verifier.verify(_bearer_token(scope))
        except InvalidToken as invalid:
            await self._refused(scope)
            raise _unauthenticated(str(invalid), error="invalid_token") from None
        except HTTPProblem:
            await self._refused(scope)
            raise
        if scope["route_handler"].opt.get("provision", True):
            await self._known.ensure(caller)
        scope["user"] = caller
        await next_app(scope, receive, send)

    async def _refused(self, scope: Scope) -> None:
        # Refused requests have no caller to limit, so their address pays: guessing is limited too.
        if self._limit is not None:
            await self._limit.admit_refused(scope)


def _bearer_token(scope: Scope) -> str:
    header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    if header is None:
        if b"access_token=" in scope.get("query_string", b""):
            raise _unauthenticated(
                "Send the token in the Authorization header; tokens in URLs leak into logs.", error="invalid_request"
            )
        raise _unauthenticated("This request needs 'Authorization: Bearer <token>'.")
    scheme, _, token = header.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated("The Authorization header must read 'Bearer <token>'.")
    return token.strip()


def _unauthenticated(message: str, *, error: str | None = None) -> HTTPProblem:
    challenge = _REALM if error is None else f'{_REALM}, error="{error}"'
    return HTTPProblem(HTTP_401_UNAUTHORIZED, "UNAUTHENTICATED", message, headers={"WWW-Authenticate": challenge})


def owner_only(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """A path's ``user_id``, when it has one, must be the caller's own.

    Called first thing in the app's ``before_request`` rather than registered as a route
    guard: Litestar copies the route handler for every guard call, 5 % of an authenticated
    get's CPU. Both run inside the route, after the middleware, so a refusal still carries
    the rate limit's headers."""
    caller = caller_of(connection)
    path_user = connection.scope["path_params"].get("user_id")
    if caller is not None and path_user is not None and path_user != caller.id:
        raise HTTPProblem(HTTP_403_FORBIDDEN, "FORBIDDEN", "This token may only reach its own user's data.")


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller | None:
    """The authenticated caller, or None when authentication is disabled."""
    user = connection.scope.get("user")
    return user if isinstance(user, Caller) else None
