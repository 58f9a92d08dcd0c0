"""Bearer token verification with PyJWT: a shared secret (HS256) or the keys of a JWKS endpoint.

The algorithms a token may use are fixed by configuration, never read from the token, so
``alg: none`` and HS/RS confusion are refused by construction. A verified token names its
caller by ``sub``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
import jwt
from jwt.exceptions import InvalidSubjectError, PyJWTError

from todo_adapters.http.expiring import ExpiringCache
from todo_adapters.http.reserved import RESERVED_USER_IDS
from todo_core.rules import InvalidValue, clean_email, clean_user_id

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "Caller",
    "InvalidToken",
    "JwksVerifier",
    "SecretVerifier",
    "TokenVerifier",
]

logger = logging.getLogger("todo.auth")

ASYMMETRIC_ALGORITHMS: Final = ("EdDSA", "ES256", "RS256", "PS256")
MINIMUM_SECRET_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a verified token speaks for, and until when (its ``exp``, seconds since the epoch)."""

    id: str
    email: str | None
    expires_at: float = float("inf")


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, without repeating the token."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Caller: ...

    async def start(self) -> None:
        """Prepare before serving (fetch keys); failures are logged, not raised."""
        ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ClaimRules:
    """What every token must satisfy besides its signature."""

    issuer: str | None = None
    audience: str | None = None
    leeway: float = 30.0

    def decode(self, token: str, key: Any, algorithms: Sequence[str]) -> Caller:
        """The caller ``token`` speaks for, if ``key`` signed it and its claims hold; else InvalidToken."""
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(algorithms),
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("The token is not valid yet (nbf or iat lies in the future).") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("The token was issued for another audience.") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("The token was issued by an untrusted issuer.") from None
        except jwt.MissingRequiredClaimError as missing:
            raise InvalidToken(f"The token has no '{missing.claim}' claim.") from None
        except InvalidSubjectError:
            raise InvalidToken(_UNUSABLE_SUBJECT) from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken(
                f"The token is not signed with an accepted algorithm ({', '.join(algorithms)})."
            ) from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("The token's signature does not verify.") from None
        except PyJWTError:
            raise InvalidToken("The token is malformed.") from None
        return _caller(claims)


_UNUSABLE_SUBJECT: Final = "The token's 'sub' is not a usable user id (1-64 letters, digits, '-', '_', '.')."


def _caller(claims: Mapping[str, Any]) -> Caller:
    subject = claims.get("sub")
    try:
        user_id = clean_user_id(subject) if isinstance(subject, str) else ""
    except InvalidValue:
        user_id = ""
    if not user_id or user_id in RESERVED_USER_IDS:
        raise InvalidToken(_UNUSABLE_SUBJECT)
    email = claims.get("email")
    try:
        email = clean_email(email) if isinstance(email, str) else None
    except InvalidValue:
        email = None
    return Caller(id=user_id, email=email, expires_at=float(claims["exp"]))


class VerifiedTokens:
    """Tokens that verified lately, remembered with the key that verified them.

    A signed-in client sends the same token with every call until it expires, and checking
    its signature and claims each time was half of a request's CPU. A remembered token is
    trusted again only under the very key object that verified it (a key withdrawn from
    the JWKS, or any refetch, starts over), and only until its ``exp`` or ``ttl`` seconds
    after the check, whichever comes first; a token that fails is never remembered.
    """

    def __init__(self, *, ttl: float = 300.0, capacity: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl
        self._verified: ExpiringCache[str, tuple[Caller, Any]] = ExpiringCache(capacity=capacity, clock=clock)

    def recall(self, token: str) -> tuple[Caller, Any] | None:
        """The caller of ``token`` and the key that verified it, if remembered and not expired."""
        return self._verified.get(token)

    def verify(self, token: str, key: Any, check: Callable[[], Caller]) -> Caller:
        """The caller of ``token`` under ``key``: remembered, or found by ``check`` (which raises when invalid)."""
        remembered = self._verified.get(token)
        if remembered is not None and remembered[1] is key:
            return remembered[0]
        caller = check()
        self._verified.put(token, (caller, key), until=min(caller.expires_at, self._verified.clock() + self._ttl))
        return caller


def _kid(token: str) -> str | None:
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError:
        raise InvalidToken("The token is malformed.") from None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


class SecretVerifier(TokenVerifier):
    """Tokens signed with a shared secret (HS256), as Better Auth's secret can sign them."""

    def __init__(self, secret: str, rules: ClaimRules) -> None:
        if len(secret.encode()) < MINIMUM_SECRET_BYTES:
            raise ValueError(f"the shared secret must be at least {MINIMUM_SECRET_BYTES} bytes")
        self._secret = secret.encode()
        self._rules = rules
        self._verified = VerifiedTokens()

    async def verify(self, token: str) -> Caller:
        return self._verified.verify(token, self._secret, lambda: self._rules.decode(token, self._secret, ("HS256",)))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class JwksVerifier(TokenVerifier):
    """Tokens signed by keys published at a JWKS URL (Better Auth's JWT plugin: EdDSA by default).

    Keys are cached by ``kid``. An unknown ``kid`` refetches the set at most once per
    ``cooldown`` (a flood of made-up kids costs one fetch), concurrent requests share one
    fetch, fetching never blocks the event loop, and known keys keep working while the
    endpoint is down.
    """

    def __init__(
        self,
        url: str,
        rules: ClaimRules,
        *,
        algorithms: Sequence[str] = ("EdDSA",),
        cooldown: float = 30.0,
        max_age: float = 3600.0,
        fetch_timeout: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        unknown = set(algorithms) - set(ASYMMETRIC_ALGORITHMS)
        if unknown or not algorithms:
            raise ValueError(f"JWKS algorithms must be among {', '.join(ASYMMETRIC_ALGORITHMS)}")
        self._url = url
        self._rules = rules
        self._algorithms = tuple(algorithms)
        self._cooldown = cooldown
        self._max_age = max_age
        self._monotonic = monotonic
        self._client = httpx.AsyncClient(timeout=fetch_timeout, transport=transport)
        self._keys: dict[str, Any] = {}
        self._last_fetch: float | None = None
        self._loaded_at: float | None = None
        self._fetching = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._verified = VerifiedTokens()
        self.fetches = 0
        """How many times the key set was requested; for operators and tests."""

    async def start(self) -> None:
        await self._refresh()

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        await self._client.aclose()

    async def verify(self, token: str) -> Caller:
        if self._is_stale():
            # Picks up revoked keys without making this request wait for the fetch.
            task = asyncio.create_task(self._refresh_once())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        remembered = self._verified.recall(token)
        if remembered is not None and any(remembered[1] is key for key in self._keys.values()):
            # Its key object is still the one this process holds (a refetch replaces them all),
            # so reading the token's header again to find the key would find that same one: 23 µs.
            return remembered[0]
        key = await self._key(_kid(token))
        return self._verified.verify(token, key, lambda: self._rules.decode(token, key, self._algorithms))

    async def _key(self, kid: str | None) -> Any:
        if kid is None:
            if len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise InvalidToken("The token names no signing key ('kid').")
        if kid not in self._keys and self._may_fetch():
            await self._refresh_once(unless_known=kid)
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken("The token is signed with an unknown key.") from None

    def _may_fetch(self) -> bool:
        # With no key at all (the endpoint was down at start) retry sooner than the cooldown.
        wait = self._cooldown if self._keys else min(self._cooldown, 5.0)
        return self._last_fetch is None or self._monotonic() - self._last_fetch >= wait

    def _is_stale(self) -> bool:
        return (
            self._loaded_at is not None and self._monotonic() - self._loaded_at >= self._max_age and self._may_fetch()
        )

    async def _refresh_once(self, unless_known: str | None = None) -> None:
        async with self._fetching:
            # Requests that queued behind a fetch use its result instead of fetching again.
            if (unless_known is None or unless_known not in self._keys) and self._may_fetch():
                await self._refresh()

    async def _refresh(self) -> None:
        self._last_fetch = self._monotonic()
        self.fetches += 1
        try:
            response = await self._client.get(self._url)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("the JWKS is not a JSON object")
            key_set = jwt.PyJWKSet.from_dict(document)
        except (httpx.HTTPError, ValueError, PyJWTError) as error:
            logger.warning(
                "could not refresh the JWKS from %s (%s); keeping %d known keys", self._url, error, len(self._keys)
            )
            return
        keys = {jwk.key_id: jwk.key for jwk in key_set.keys if jwk.key_id and _usable(jwk, self._algorithms)}
        if keys:
            self._keys = keys
            self._loaded_at = self._monotonic()
        logger.info("loaded %d signing keys from %s", len(keys), self._url)


_KEY_TYPE_OF: Final = {"EdDSA": "OKP", "ES256": "EC", "RS256": "RSA", "PS256": "RSA"}


def _usable(jwk: jwt.PyJWK, algorithms: Sequence[str]) -> bool:
    """A signing key of a type one of our algorithms uses."""
    return jwk.public_key_use in (None, "sig") and jwk.key_type in {_KEY_TYPE_OF[a] for a in algorithms}
