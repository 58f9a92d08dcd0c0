"""Who may call the API at all: a bearer token verified against a JWKS or a shared secret.

Every token here is really signed (``tests.tokens``), and the JWKS is served over real HTTP
by a local ``JwksServer``, whose fetch count is how these tests see what the service asked
of the sign-in service. A refused token answers 401 UNAUTHENTICATED with a
``WWW-Authenticate`` challenge and a message saying what is wrong, never the token itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.e2e.server import free_port
from tests.http.conftest import assert_error
from tests.tokens import (
    AUDIENCE,
    ISSUER,
    SECRET,
    JwksServer,
    SigningKey,
    bearer,
    claims,
    mint,
    mint_with_secret,
)
from todo_adapters.http import create_app
from todo_adapters.memory import InMemoryStorage
from todo_adapters.settings import Settings, SettingsError
from todo_core import Storage, UserNotFound, UserService

KEY = SigningKey.generate("key-1")
IMPOSTOR = SigningKey.generate("key-1")  # the published kid, but not the published key
UNPUBLISHED = SigningKey.generate("key-never-published")
WRONG_ALGORITHM = SigningKey.generate("key-1", "ES256")  # names the published kid, signs with ES256
RSA_KEY = SigningKey.generate("rsa-1", "RS256")
OTHER_SECRET = "another-secret-that-is-long-enough-too!!"

CHALLENGE = 'Bearer realm="todo"'
TASKS = "/api/ada/tasks"


# --- tokens crafted by hand, the way an attacker would ---------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(part: dict[str, Any]) -> str:
    return _b64url(json.dumps(part, separators=(",", ":")).encode())


def unsigned(payload: dict[str, Any], **header: Any) -> str:
    """``alg: none``: a header, a payload and an empty signature."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT', **header})}.{_segment(payload)}."


_DIGESTS = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}


def hmac_signed(material: bytes, payload: dict[str, Any], *, algorithm: str = "HS256", kid: str = KEY.kid) -> str:
    """An HMAC token keyed with ``material``: HS/RS confusion signs with a public key this way."""
    signing_input = f"{_segment({'alg': algorithm, 'typ': 'JWT', 'kid': kid})}.{_segment(payload)}"
    signature = hmac.new(material, signing_input.encode(), _DIGESTS[algorithm]).digest()
    return f"{signing_input}.{_b64url(signature)}"


def public_pem(key: SigningKey) -> bytes:
    return bytes(key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))


def public_raw(key: SigningKey) -> bytes:
    return bytes(key.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def with_payload_of(token: str, payload: dict[str, Any]) -> str:
    """The token with its payload swapped and its signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(payload)}.{signature}"


def without(name: str, **extra: Any) -> dict[str, Any]:
    payload = claims(**extra)
    del payload[name]
    return payload


def now() -> int:
    return int(time.time())


# --- what a refusal must look like ---------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A request's credentials: headers, query parameters, and what must never be echoed."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    credential: str | None = None


def presenting(token: str) -> Attempt:
    return Attempt(headers=bearer(token), credential=token)


def in_the_query_string(token: str) -> Attempt:
    return Attempt(params={"access_token": token}, credential=token)


def assert_unauthenticated(
    response: httpx.Response, *, error: str | None, mentions: str, credential: str | None = None
) -> None:
    """401 with the one error body, the challenge for ``error``, a message naming the problem, no credential."""
    assert_error(response, 401, "UNAUTHENTICATED")
    expected = CHALLENGE if error is None else f'{CHALLENGE}, error="{error}"'
    assert response.headers["www-authenticate"] == expected
    message = response.json()["error"]["message"]
    assert mentions.lower() in message.lower(), message
    if credential:
        echoed = response.text + response.headers["www-authenticate"]
        assert credential not in echoed
        for part in credential.split("."):
            assert len(part) < 16 or part not in echoed


async def assert_no_user(storage: Storage, user_id: str) -> None:
    with pytest.raises(UserNotFound):
        await UserService(storage).get_user(user_id)


# --- services under test -------------------------------------------------------------------


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with JwksServer([KEY]).serving() as server:
        yield server


def jwks_settings(jwks: JwksServer, **overrides: Any) -> Settings:
    return Settings(**{"jwks_url": jwks.url, "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE, **overrides})


SECRET_SETTINGS = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)


@pytest.fixture
def memory() -> InMemoryStorage:
    return InMemoryStorage()


@asynccontextmanager
async def serving(settings: Settings, storage: Storage | None = None) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(settings=settings, storage=storage or InMemoryStorage())) as client:
        yield client


@asynccontextmanager
async def racing(settings: Settings, storage: Storage) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose gathered requests are really in flight together (see tests/postgres/test_races.py)."""
    app = create_app(settings=settings, storage=storage)
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def jwks_client(jwks: JwksServer, memory: InMemoryStorage) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with serving(jwks_settings(jwks), memory) as client:
        yield client


@pytest.fixture
async def secret_client(memory: InMemoryStorage) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with serving(SECRET_SETTINGS, memory) as client:
        yield client


# --- 1. tokens that are refused --------------------------------------------------------------

Case = Callable[[], Attempt]

JWKS_CORPUS = [
    pytest.param(Attempt, None, "Authorization: Bearer", id="no Authorization header"),
    pytest.param(
        lambda: Attempt(headers={"Authorization": "Basic YWRhOmxvdmVsYWNl"}, credential="YWRhOmxvdmVsYWNl"),
        None,
        "must read 'Bearer <token>'",
        id="the Basic scheme",
    ),
    pytest.param(
        lambda: Attempt(headers={"Authorization": "Bearer"}), None, "must read 'Bearer <token>'", id="Bearer alone"
    ),
    pytest.param(
        lambda: Attempt(headers={"Authorization": "Bearer    "}),
        None,
        "must read 'Bearer <token>'",
        id="Bearer and blanks",
    ),
    pytest.param(lambda: presenting("this-is-no-jwt-at-all"), "invalid_token", "malformed", id="garbage"),
    pytest.param(lambda: presenting("a.b.c"), "invalid_token", "malformed", id="three garbage segments"),
    pytest.param(
        lambda: presenting(unsigned(claims(), kid=KEY.kid)), "invalid_token", "accepted algorithm", id="alg none"
    ),
    pytest.param(
        lambda: presenting(unsigned(claims())), "invalid_token", "accepted algorithm", id="alg none without a kid"
    ),
    pytest.param(
        lambda: presenting(mint(claims(), IMPOSTOR)),
        "invalid_token",
        "signature does not verify",
        id="signed by another key under the published kid",
    ),
    pytest.param(
        lambda: presenting(with_payload_of(mint(claims("grace"), KEY), claims("ada"))),
        "invalid_token",
        "signature does not verify",
        id="payload swapped after signing",
    ),
    pytest.param(
        lambda: presenting(mint(claims(lifetime=-60), KEY)), "invalid_token", "expired", id="expired beyond the leeway"
    ),
    pytest.param(
        lambda: presenting(mint(claims(nbf=now() + 120), KEY)),
        "invalid_token",
        "not valid yet",
        id="nbf beyond the leeway",
    ),
    pytest.param(
        lambda: presenting(mint(claims(iat=now() + 120, exp=now() + 600), KEY)),
        "invalid_token",
        "not valid yet",
        id="iat beyond the leeway",
    ),
    pytest.param(
        lambda: presenting(mint(claims(iss="https://evil.example"), KEY)), "invalid_token", "issuer", id="wrong issuer"
    ),
    pytest.param(lambda: presenting(mint(without("iss"), KEY)), "invalid_token", "'iss'", id="no issuer"),
    pytest.param(
        lambda: presenting(mint(claims(aud="https://other.example"), KEY)),
        "invalid_token",
        "audience",
        id="wrong audience",
    ),
    pytest.param(lambda: presenting(mint(without("aud"), KEY)), "invalid_token", "'aud'", id="no audience"),
    pytest.param(lambda: presenting(mint(without("sub"), KEY)), "invalid_token", "'sub'", id="no sub"),
    pytest.param(
        lambda: presenting(mint(claims("ada grace"), KEY)),
        "invalid_token",
        "'sub' is not a usable user id",
        id="sub with a space",
    ),
    pytest.param(
        lambda: presenting(mint(claims("a" * 65), KEY)),
        "invalid_token",
        "'sub' is not a usable user id",
        id="sub of 65 characters",
    ),
    pytest.param(
        lambda: presenting(mint(claims(""), KEY)), "invalid_token", "'sub' is not a usable user id", id="empty sub"
    ),
    pytest.param(
        lambda: presenting(mint(claims(42), KEY)),
        "invalid_token",
        "'sub'",
        id="sub that is a number",
    ),
    pytest.param(lambda: presenting(mint(without("exp"), KEY)), "invalid_token", "'exp'", id="no exp"),
    pytest.param(lambda: presenting(mint(claims(), UNPUBLISHED)), "invalid_token", "unknown key", id="unknown kid"),
    pytest.param(
        lambda: presenting(mint(claims(), WRONG_ALGORITHM)),
        "invalid_token",
        "accepted algorithm",
        id="ES256 where only EdDSA is configured",
    ),
    pytest.param(
        lambda: presenting(hmac_signed(public_pem(KEY), claims())),
        "invalid_token",
        "accepted algorithm",
        id="HS256 keyed with the public key as PEM",
    ),
    pytest.param(
        lambda: presenting(hmac_signed(json.dumps(KEY.jwk).encode(), claims())),
        "invalid_token",
        "accepted algorithm",
        id="HS256 keyed with the public JWK",
    ),
    pytest.param(
        lambda: presenting(hmac_signed(public_raw(KEY), claims())),
        "invalid_token",
        "accepted algorithm",
        id="HS256 keyed with the raw public key",
    ),
    pytest.param(
        lambda: in_the_query_string(mint(claims(), KEY)),
        "invalid_request",
        "Authorization header",
        id="a valid token in the query string",
    ),
]


@pytest.mark.parametrize(("attempt", "error", "mentions"), JWKS_CORPUS)
async def test_a_jwks_service_refuses_a_bad_token_saying_why_without_repeating_it(
    jwks_client: AsyncTestClient[Litestar], memory: InMemoryStorage, attempt: Case, error: str | None, mentions: str
) -> None:
    request = attempt()

    response = await jwks_client.get(TASKS, headers=request.headers, params=request.params)

    assert_unauthenticated(response, error=error, mentions=mentions, credential=request.credential)
    await assert_no_user(memory, "ada")


SECRET_CORPUS = [
    pytest.param(
        lambda: presenting(mint_with_secret(claims(), OTHER_SECRET)),
        "signature does not verify",
        id="HS256 with another secret",
    ),
    pytest.param(lambda: presenting(mint(claims(), KEY)), "accepted algorithm", id="an EdDSA token"),
    pytest.param(lambda: presenting(mint(claims(), RSA_KEY)), "accepted algorithm", id="an RS256 token"),
    pytest.param(
        lambda: presenting(hmac_signed(SECRET.encode(), claims(), algorithm="HS512")),
        "accepted algorithm",
        id="HS512 with the right secret",
    ),
    pytest.param(lambda: presenting(unsigned(claims())), "accepted algorithm", id="alg none"),
    pytest.param(
        lambda: presenting(mint_with_secret(claims(lifetime=-60))), "expired", id="expired, with the right secret"
    ),
    pytest.param(
        lambda: presenting(mint_with_secret(claims(aud="https://other.example"))),
        "audience",
        id="wrong audience, with the right secret",
    ),
    pytest.param(lambda: presenting(mint_with_secret(without("sub"))), "'sub'", id="no sub, with the right secret"),
]


@pytest.mark.parametrize(("attempt", "mentions"), SECRET_CORPUS)
async def test_a_secret_service_refuses_a_bad_token_saying_why_without_repeating_it(
    secret_client: AsyncTestClient[Litestar], memory: InMemoryStorage, attempt: Case, mentions: str
) -> None:
    request = attempt()

    response = await secret_client.get(TASKS, headers=request.headers)

    assert_unauthenticated(response, error="invalid_token", mentions=mentions, credential=request.credential)
    await assert_no_user(memory, "ada")


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256", "PS256"])
async def test_an_hs256_token_keyed_with_the_services_own_public_key_is_refused(algorithm: str) -> None:
    key = SigningKey.generate(f"{algorithm}-key", algorithm)
    with JwksServer([key]).serving() as jwks:
        async with serving(jwks_settings(jwks, jwt_algorithms=(algorithm,))) as client:
            for material in (public_pem(key), json.dumps(key.jwk).encode()):
                token = hmac_signed(material, claims(), kid=key.kid)

                response = await client.get(TASKS, headers=bearer(token))

                assert_unauthenticated(response, error="invalid_token", mentions="accepted algorithm", credential=token)


@pytest.mark.parametrize(
    ("sub", "path"),
    [("users", "/api/users/tasks"), (".", TASKS), ("..", TASKS)],
    ids=["users, on its own task list", "., on any path", ".., on any path"],
)
async def test_a_token_whose_sub_is_a_reserved_user_id_is_refused_and_creates_no_user(
    secret_client: AsyncTestClient[Litestar], memory: InMemoryStorage, sub: str, path: str
) -> None:
    response = await secret_client.get(path, headers=bearer(mint_with_secret(claims(sub))))

    assert_unauthenticated(response, error="invalid_token", mentions="'sub'")
    await assert_no_user(memory, sub)


# --- 2. tokens that are accepted ------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256", "PS256"])
async def test_a_token_signed_by_a_published_key_of_the_configured_algorithm_is_accepted(algorithm: str) -> None:
    key = SigningKey.generate(f"{algorithm}-key", algorithm)
    with JwksServer([key]).serving() as jwks:
        async with serving(jwks_settings(jwks, jwt_algorithms=(algorithm,))) as client:
            listing = await client.get(TASKS, headers=bearer(mint(claims("ada"), key)))
            user = await client.get("/api/users/ada", headers=bearer(mint(claims("ada"), key)))

    assert (listing.status_code, listing.json()) == (200, [])
    assert user.json()["id"] == "ada"


async def test_a_service_configured_for_two_algorithms_accepts_a_token_from_each_published_key() -> None:
    ed25519, p256 = SigningKey.generate("ed-key"), SigningKey.generate("ec-key", "ES256")
    with JwksServer([ed25519, p256]).serving() as jwks:
        async with serving(jwks_settings(jwks, jwt_algorithms=("EdDSA", "ES256"))) as client:
            answers = [
                (await client.get(TASKS, headers=bearer(mint(claims(), key)))).status_code for key in (ed25519, p256)
            ]

    assert answers == [200, 200]


async def test_an_hs256_token_signed_with_the_shared_secret_is_accepted(
    secret_client: AsyncTestClient[Litestar],
) -> None:
    response = await secret_client.get(TASKS, headers=bearer(mint_with_secret(claims())))

    assert (response.status_code, response.json()) == (200, [])


async def test_the_scheme_name_is_case_insensitive(jwks_client: AsyncTestClient[Litestar]) -> None:
    response = await jwks_client.get(TASKS, headers={"Authorization": f"bearer {mint(claims(), KEY)}"})

    assert response.status_code == 200, response.text


SKEWED = [
    pytest.param(lambda: claims(iat=now() - 300, exp=now() - 10), id="expired 10 s ago"),
    pytest.param(lambda: claims(nbf=now() + 10), id="nbf 10 s ahead"),
    pytest.param(lambda: claims(iat=now() + 10), id="iat 10 s ahead"),
]


@pytest.mark.parametrize("payload", SKEWED)
async def test_a_clock_skew_within_the_leeway_is_accepted(
    jwks_client: AsyncTestClient[Litestar], payload: Callable[[], dict[str, Any]]
) -> None:
    response = await jwks_client.get(TASKS, headers=bearer(mint(payload(), KEY)))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("payload", SKEWED)
async def test_a_service_configured_without_leeway_refuses_the_same_skew(
    jwks: JwksServer, payload: Callable[[], dict[str, Any]]
) -> None:
    async with serving(jwks_settings(jwks, jwt_leeway=0.0)) as client:
        response = await client.get(TASKS, headers=bearer(mint(payload(), KEY)))

    assert_unauthenticated(response, error="invalid_token", mentions="token")


async def test_a_service_configured_without_issuer_or_audience_accepts_tokens_naming_any(jwks: JwksServer) -> None:
    async with serving(Settings(jwks_url=jwks.url)) as client:
        response = await client.get(TASKS, headers=bearer(mint(claims(iss="anyone", aud="anything"), KEY)))

    assert response.status_code == 200, response.text


# --- 3. the key set: rotation, floods, outages ----------------------------------------------


async def test_a_rotated_in_key_is_accepted_after_exactly_one_refetch(jwks: JwksServer) -> None:
    rotated_in = SigningKey.generate("key-2")
    async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
        assert (await client.get(TASKS, headers=bearer(mint(claims(), KEY)))).status_code == 200
        jwks.keys = [KEY, rotated_in]
        before = jwks.fetches

        first = await client.get(TASKS, headers=bearer(mint(claims(), rotated_in)))
        after_first = jwks.fetches
        again = await client.get(TASKS, headers=bearer(mint(claims(), rotated_in)))
        old = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert (first.status_code, again.status_code, old.status_code) == (200, 200, 200)
    assert after_first == before + 1
    assert jwks.fetches == after_first  # a known kid is never fetched again


async def test_requests_racing_with_a_rotated_in_key_share_one_refetch(jwks: JwksServer) -> None:
    rotated_in = SigningKey.generate("key-2")
    async with racing(jwks_settings(jwks, jwks_cooldown=0.0), InMemoryStorage()) as client:
        jwks.keys = [KEY, rotated_in]
        before = jwks.fetches

        responses = await asyncio.gather(
            *(client.get(TASKS, headers=bearer(mint(claims(), rotated_in))) for _ in range(50))
        )

    assert [response.status_code for response in responses] == [200] * 50
    assert jwks.fetches == before + 1


async def test_a_key_withdrawn_from_the_jwks_is_refused_once_the_set_is_fetched_again(jwks: JwksServer) -> None:
    successor = SigningKey.generate("key-2")
    async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
        assert (await client.get(TASKS, headers=bearer(mint(claims(), KEY)))).status_code == 200
        jwks.keys = [successor]
        assert (await client.get(TASKS, headers=bearer(mint(claims(), successor)))).status_code == 200

        withdrawn = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert_unauthenticated(withdrawn, error="invalid_token", mentions="unknown key")


async def test_a_token_that_verified_before_is_refused_once_its_key_is_withdrawn(jwks: JwksServer) -> None:
    same_token = bearer(mint(claims(), KEY))
    successor = SigningKey.generate("key-2")
    async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
        assert (await client.get(TASKS, headers=same_token)).status_code == 200
        jwks.keys = [successor]
        assert (await client.get(TASKS, headers=bearer(mint(claims(), successor)))).status_code == 200

        again = await client.get(TASKS, headers=same_token)

    assert_unauthenticated(again, error="invalid_token", mentions="unknown key")


async def test_a_thousand_tokens_with_made_up_kids_cost_at_most_a_couple_of_fetches(
    jwks_client: AsyncTestClient[Litestar], jwks: JwksServer
) -> None:
    statuses = set()
    for _ in range(1000):
        token = mint(claims(), KEY, headers={"kid": secrets.token_hex(8)})
        statuses.add((await jwks_client.get(TASKS, headers=bearer(token))).status_code)

    assert statuses == {401}
    assert jwks.fetches <= 2  # the fetch at start, and at most one more
    assert (await jwks_client.get(TASKS, headers=bearer(mint(claims(), KEY)))).status_code == 200


async def test_a_cached_key_keeps_working_while_the_jwks_endpoint_is_down(jwks: JwksServer) -> None:
    async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
        jwks.down = True
        before = jwks.fetches

        unknown = await client.get(TASKS, headers=bearer(mint(claims(), UNPUBLISHED)))
        known = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert jwks.fetches > before  # the unknown kid did make the service ask, and the endpoint failed
    assert_unauthenticated(unknown, error="invalid_token", mentions="unknown key")
    assert (known.status_code, known.json()) == (200, [])


async def test_a_service_started_while_the_jwks_endpoint_is_down_answers_401_until_it_is_back(
    jwks: JwksServer,
) -> None:
    jwks.down = True
    async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
        health = await client.get("/health")
        while_down = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))
        jwks.down = False
        once_back = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert health.status_code == 200
    assert_unauthenticated(while_down, error="invalid_token", mentions="unknown key")
    assert once_back.status_code == 200, once_back.text


async def test_a_service_started_while_the_jwks_endpoint_is_down_does_not_hammer_it(jwks: JwksServer) -> None:
    jwks.down = True
    async with serving(jwks_settings(jwks)) as client:
        statuses = {(await client.get(TASKS, headers=bearer(mint(claims(), KEY)))).status_code for _ in range(100)}

    assert statuses == {401}
    assert jwks.fetches <= 2


async def test_a_service_whose_jwks_url_refuses_connections_starts_and_answers_401() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/auth/jwks"
    async with serving(Settings(jwks_url=nowhere)) as client:
        health = await client.get("/health")
        refused = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert health.json() == {"status": "ok", "auth": "jwks"}
    assert_unauthenticated(refused, error="invalid_token", mentions="unknown key")


async def test_a_service_started_while_the_jwks_is_empty_starts_and_answers_401_until_a_key_is_published() -> None:
    with JwksServer([]).serving() as jwks:
        async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
            while_empty = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))
            jwks.keys = [KEY]
            once_published = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert_unauthenticated(while_empty, error="invalid_token", mentions="unknown key")
    assert once_published.status_code == 200, once_published.text


async def test_a_jwks_that_turns_empty_refuses_unknown_kids_with_401_and_keeps_the_cached_keys(
    jwks: JwksServer,
) -> None:
    async with serving(jwks_settings(jwks, jwks_cooldown=0.0)) as client:
        jwks.keys = []
        unknown = await client.get(TASKS, headers=bearer(mint(claims(), UNPUBLISHED)))
        known = await client.get(TASKS, headers=bearer(mint(claims(), KEY)))

    assert_unauthenticated(unknown, error="invalid_token", mentions="unknown key")
    assert known.status_code == 200, known.text


# --- 4. failing closed ---------------------------------------------------------------------


def test_authentication_on_with_nothing_to_verify_tokens_by_refuses_to_build_the_app() -> None:
    with pytest.raises(SettingsError) as refused:
        create_app(settings=Settings(), storage=InMemoryStorage())

    message = str(refused.value)
    for remedy in ("TODO_JWKS_URL", "TODO_JWT_SECRET", "TODO_AUTH=disabled"):
        assert remedy in message


def test_a_shared_secret_of_31_bytes_refuses_to_build_the_app() -> None:
    with pytest.raises(SettingsError) as refused:
        create_app(settings=Settings(jwt_secret="s" * 31), storage=InMemoryStorage())

    assert "TODO_JWT_SECRET" in str(refused.value)
    assert "32" in str(refused.value)
    assert "s" * 31 not in str(refused.value)


async def test_a_shared_secret_of_32_bytes_is_enough() -> None:
    secret = "s" * 32
    async with serving(Settings(jwt_secret=secret)) as client:
        response = await client.get(TASKS, headers=bearer(mint_with_secret(claims(), secret)))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ()])
def test_jwks_algorithms_other_than_the_asymmetric_ones_refuse_to_build_the_app(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(SettingsError) as refused:
        create_app(settings=Settings(jwks_url="https://app.example/jwks", jwt_algorithms=algorithms))

    assert "TODO_JWT_ALGORITHMS" in str(refused.value)


@pytest.mark.parametrize(
    ("settings", "mode"),
    [
        (Settings(jwks_url="https://app.example/api/auth/jwks"), "jwks"),
        (Settings(jwt_secret=SECRET), "secret"),
        (Settings(auth="disabled"), "disabled"),
    ],
)
async def test_health_answers_without_a_token_and_says_how_tokens_are_verified(settings: Settings, mode: str) -> None:
    async with serving(settings) as client:
        response = await client.get("/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok", "auth": mode})


async def test_with_authentication_disabled_the_service_warns_and_serves_anyone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service_log = logging.getLogger("todo")
    # Litestar's logging set-up replaces the root handlers, caplog's among them: listen on ours directly.
    service_log.addHandler(caplog.handler)
    try:
        async with serving(Settings(auth="disabled")) as client:
            response = await client.get("/api/users/ada")
    finally:
        service_log.removeHandler(caplog.handler)

    assert_error(response, 404, "USER_NOT_FOUND")  # past authentication: no token was needed
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("Authentication is DISABLED" in warning for warning in warnings), warnings


# --- 5. a signed-in user exists from their first call ---------------------------------------


@pytest.fixture
async def provisioning_client(storage: Storage) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with serving(SECRET_SETTINGS, storage) as client:
        yield client


def token_for(sub: str, **extra: Any) -> dict[str, str]:
    return bearer(mint_with_secret(claims(sub, **extra)))


async def test_a_new_users_first_call_finds_an_empty_list_and_a_user_with_the_tokens_email(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    ada = token_for("ada", email="ada@example.com")

    listing = await provisioning_client.get("/api/ada/tasks", headers=ada)
    user = await provisioning_client.get("/api/users/ada", headers=ada)

    assert (listing.status_code, listing.json()) == (200, [])
    assert user.status_code == 200, user.text
    assert (user.json()["id"], user.json()["email"]) == ("ada", "ada@example.com")


@pytest.mark.parametrize(
    "extra", [{}, {"email": "not an email"}, {"email": 42}], ids=["no email", "a malformed email", "a number"]
)
async def test_a_token_without_a_usable_email_provisions_a_user_without_one(
    provisioning_client: AsyncTestClient[Litestar], extra: dict[str, Any]
) -> None:
    user = await provisioning_client.get("/api/users/ada", headers=token_for("ada", **extra))

    assert user.status_code == 200, user.text
    assert user.json()["email"] is None


async def test_a_token_whose_email_belongs_to_another_user_still_provisions_without_the_email(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    grace = token_for("grace")
    registered = await provisioning_client.post("/api/users", json={"email": "shared@example.com"}, headers=grace)
    assert registered.status_code == 201, registered.text
    ada = token_for("ada", email="Shared@Example.com")

    listing = await provisioning_client.get("/api/ada/tasks", headers=ada)
    adas = await provisioning_client.get("/api/users/ada", headers=ada)
    graces = await provisioning_client.get("/api/users/grace", headers=grace)

    assert (listing.status_code, listing.json()) == (200, [])
    assert adas.json()["email"] is None
    assert graces.json()["email"] == "shared@example.com"


async def test_a_user_provisioned_without_an_email_gives_one_later(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    ada = token_for("ada")
    assert (await provisioning_client.get("/api/ada/tasks", headers=ada)).status_code == 200

    changed = await provisioning_client.patch("/api/users/ada", json={"email": "ada@example.com"}, headers=ada)
    user = await provisioning_client.get("/api/users/ada", headers=ada)

    assert changed.status_code == 200, changed.text
    assert changed.json() == user.json()
    assert user.json()["email"] == "ada@example.com"


async def test_a_newcomers_first_call_may_be_giving_their_email(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    changed = await provisioning_client.patch(
        "/api/users/ada", json={"email": "ada@example.com"}, headers=token_for("ada")
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["id"], changed.json()["email"]) == ("ada", "ada@example.com")


async def test_a_token_registers_its_own_user_when_the_body_names_no_id(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    ada = token_for("ada", email="token@example.com")

    registered = await provisioning_client.post("/api/users", json={"email": "chosen@example.com"}, headers=ada)
    user = await provisioning_client.get("/api/users/ada", headers=ada)

    assert registered.status_code == 201, registered.text
    assert registered.headers["location"] == "/api/users/ada"
    assert registered.json()["id"] == "ada"
    assert user.json()["email"] == "chosen@example.com"  # what was registered, not the token's claim


async def test_a_token_registers_its_own_user_when_the_body_names_its_own_id(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    registered = await provisioning_client.post(
        "/api/users", json={"id": "ada", "email": "ada@example.com"}, headers=token_for("ada")
    )

    assert registered.status_code == 201, registered.text
    assert registered.json()["id"] == "ada"


async def test_a_token_may_not_register_another_id_and_that_id_stays_free(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    refused = await provisioning_client.post(
        "/api/users", json={"id": "grace", "email": "grace@example.com"}, headers=token_for("ada")
    )
    graces_own = await provisioning_client.post(
        "/api/users", json={"email": "grace@example.com"}, headers=token_for("grace")
    )

    assert_error(refused, 403, "FORBIDDEN")
    assert graces_own.status_code == 201, graces_own.text


async def test_a_user_who_deleted_themselves_is_created_afresh_on_their_next_call(
    provisioning_client: AsyncTestClient[Litestar],
) -> None:
    ada = token_for("ada", email="ada@example.com")
    created = await provisioning_client.post("/api/ada/tasks", json={"title": "Before"}, headers=ada)
    assert created.status_code == 201, created.text

    deleted = await provisioning_client.delete("/api/users/ada", headers=ada)
    listing = await provisioning_client.get("/api/ada/tasks", headers=ada)
    user = await provisioning_client.get("/api/users/ada", headers=ada)

    assert deleted.status_code == 204, deleted.text
    assert (listing.status_code, listing.json()) == (200, [])
    assert (user.status_code, user.json()["email"]) == (200, "ada@example.com")


async def test_a_new_users_first_calls_racing_each_other_all_succeed_and_make_one_user(storage: Storage) -> None:
    ada = token_for("ada", email="ada@example.com")
    async with racing(SECRET_SETTINGS, storage) as client:
        responses = await asyncio.gather(*(client.get("/api/ada/tasks", headers=ada) for _ in range(20)))
        user = await client.get("/api/users/ada", headers=ada)

    assert [response.status_code for response in responses] == [200] * 20
    assert user.json()["email"] == "ada@example.com"


# --- 6. what is open without a token, and nothing else ---------------------------------------

PUBLIC_PATHS = ["/health", "/openapi.json", "/docs", "/docs/openapi.json"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
@pytest.mark.parametrize("credentials", [{}, {"Authorization": "Bearer this-is-no-jwt"}], ids=["no token", "garbage"])
async def test_the_health_and_documentation_routes_answer_without_a_valid_token(
    jwks_client: AsyncTestClient[Litestar], path: str, credentials: dict[str, str]
) -> None:
    response = await jwks_client.get(path, headers=credentials)

    assert response.status_code == 200, response.text


TASK = "/api/ada/tasks/00000000-0000-7000-8000-000000000001"
PROTECTED = [
    ("GET", TASKS),
    ("POST", TASKS),
    ("GET", TASK),
    ("PUT", TASK),
    ("PATCH", TASK),
    ("PATCH", f"{TASK}/complete"),
    ("DELETE", TASK),
    ("GET", "/users/ada/tasks"),
    ("POST", "/users/ada/tasks"),
    ("POST", "/api/users"),
    ("GET", "/api/users/ada"),
    ("DELETE", "/api/users/ada"),
    ("OPTIONS", TASKS),
    ("OPTIONS", TASK),
    ("OPTIONS", "/api/users"),
    ("OPTIONS", "/api/users/ada"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_every_api_route_refuses_a_request_without_a_token_whatever_the_method(
    jwks_client: AsyncTestClient[Litestar], memory: InMemoryStorage, method: str, path: str
) -> None:
    body = {"title": "Sneaked in", "email": "ada@example.com"} if method in {"POST", "PUT", "PATCH"} else None

    response = await jwks_client.request(method, path, json=body)

    assert_unauthenticated(response, error=None, mentions="Authorization: Bearer")
    await assert_no_user(memory, "ada")


@pytest.mark.parametrize("path", [TASKS, TASK, "/api/users/ada"])
async def test_head_on_an_api_route_without_a_token_is_not_answered_with_success(
    jwks_client: AsyncTestClient[Litestar], path: str
) -> None:
    response = await jwks_client.head(path)

    assert not 200 <= response.status_code < 300
    assert response.content == b""


@pytest.mark.parametrize(("method", "path"), [("GET", TASKS), ("POST", "/api/users"), ("DELETE", "/api/users/ada")])
async def test_a_cors_preflight_from_an_allowed_origin_needs_no_token_but_the_request_itself_does(
    jwks: JwksServer, method: str, path: str
) -> None:
    origin = "https://app.example"
    async with serving(jwks_settings(jwks, cors_origins=(origin,))) as client:
        preflight = await client.options(
            path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        request = await client.request(method, path, headers={"Origin": origin})

    # Browsers never send credentials on a preflight: refusing it would lock out every browser client.
    assert 200 <= preflight.status_code < 300, preflight.text
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert_unauthenticated(request, error=None, mentions="Authorization: Bearer")
