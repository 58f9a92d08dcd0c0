"""``todo serve`` as users start it: it refuses to serve without a way to verify tokens, and says what to set.

Each server stores in memory and reads its authentication settings from the environment given
here alone, whatever the developer's shell exports.
"""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from tests.e2e.server import TODO, free_port, running_server
from tests.tokens import AUDIENCE, ISSUER, SECRET, JwksServer, SigningKey, bearer, claims, mint, mint_with_secret

AUTH_VARIABLES = ("TODO_AUTH", "TODO_JWKS_URL", "TODO_JWT_SECRET", "BETTER_AUTH_SECRET")
# Empty means unset to ``Settings.from_env``; running_server would otherwise disable authentication.
NO_AUTH_SETTINGS = {
    **dict.fromkeys(AUTH_VARIABLES, ""),
    "TODO_JWT_ISSUER": "",
    "TODO_JWT_AUDIENCE": "",
    "TODO_DATABASE_URL": "",
}


def serve_and_fail(**env: str) -> subprocess.CompletedProcess[str]:
    """Run ``todo serve`` where it is expected to refuse to start; the timeout only bounds a failure."""
    environment = {name: value for name, value in os.environ.items() if name not in AUTH_VARIABLES}
    environment.update({"TODO_DATABASE_URL": "", **env})
    return subprocess.run(
        [str(TODO), "serve", "--port", str(free_port())],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_without_auth_settings_exits_2_saying_what_to_set() -> None:
    finished = serve_and_fail()

    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("todo: ")
    for remedy in ("TODO_JWKS_URL", "TODO_JWT_SECRET", "TODO_AUTH=disabled"):
        assert remedy in finished.stderr


@pytest.mark.parametrize("name", ["TODO_JWT_SECRET", "BETTER_AUTH_SECRET"])
def test_serve_with_a_31_byte_secret_exits_2_saying_how_long_it_must_be(name: str) -> None:
    short = "s" * 31

    finished = serve_and_fail(**{name: short})

    assert finished.returncode == 2, finished.stderr
    assert "32 bytes" in finished.stderr
    assert short not in finished.stderr + finished.stdout


def test_serve_with_auth_disabled_lets_anyone_in_and_health_says_so() -> None:
    with (
        running_server(env={**NO_AUTH_SETTINGS, "TODO_AUTH": "disabled"}) as base_url,
        httpx.Client(base_url=base_url, timeout=10) as client,
    ):
        health = client.get("/health")
        registered = client.post("/api/users", json={"id": "ada", "email": "ada@example.com"})

    assert health.json() == {"status": "ok", "auth": "disabled"}
    assert registered.status_code == 201, registered.text


@pytest.mark.parametrize("name", ["TODO_JWT_SECRET", "BETTER_AUTH_SECRET"])
def test_serve_with_a_secret_verifies_hs256_tokens_and_health_says_secret(name: str) -> None:
    settings = {**NO_AUTH_SETTINGS, name: SECRET, "TODO_JWT_ISSUER": ISSUER, "TODO_JWT_AUDIENCE": AUDIENCE}
    with running_server(env=settings) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        health = client.get("/health")
        anonymous = client.get("/api/ada/tasks")
        signed_in = client.get("/api/ada/tasks", headers=bearer(mint_with_secret(claims("ada"))))

    assert health.json() == {"status": "ok", "auth": "secret"}
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="todo"'
    assert (signed_in.status_code, signed_in.json()) == (200, [])


def test_serve_with_a_jwks_url_verifies_eddsa_tokens_and_health_says_jwks() -> None:
    key = SigningKey.generate("key-1")
    with JwksServer([key]).serving() as jwks:
        settings = {**NO_AUTH_SETTINGS, "TODO_JWKS_URL": jwks.url, "TODO_JWT_ISSUER": ISSUER}
        with running_server(env=settings) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
            health = client.get("/health")
            signed_in = client.get("/api/ada/tasks", headers=bearer(mint(claims("ada"), key)))
            forged = client.get("/api/ada/tasks", headers=bearer(mint(claims("ada"), SigningKey.generate("key-1"))))

    assert health.json() == {"status": "ok", "auth": "jwks"}
    assert (signed_in.status_code, signed_in.json()) == (200, [])
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"] == 'Bearer realm="todo", error="invalid_token"'
    assert jwks.fetches >= 1
