"""Real signed tokens for the tests: keys generated here, a JWKS served over real HTTP.

``mint`` signs claims the way Better Auth does (EdDSA with a ``kid`` by default);
``JwksServer`` publishes the public keys on a local port and counts the fetches.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

SECRET = "a-test-secret-that-is-long-enough-for-hs256!"  # 44 bytes
ISSUER = "https://app.example"
AUDIENCE = "https://app.example"


@dataclass
class SigningKey:
    """A private key, its algorithm and kid, and its public JWK."""

    kid: str
    algorithm: str
    private: Any
    jwk: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        public = self.private.public_key()
        to_jwk = {"EdDSA": OKPAlgorithm, "ES256": ECAlgorithm, "RS256": RSAAlgorithm, "PS256": RSAAlgorithm}
        self.jwk = {**json.loads(to_jwk[self.algorithm].to_jwk(public)), "kid": self.kid, "use": "sig"}

    @classmethod
    def generate(cls, kid: str, algorithm: str = "EdDSA") -> SigningKey:
        private: Any
        if algorithm == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid=kid, algorithm=algorithm, private=private)


def claims(sub: str = "ada", *, lifetime: float = 300, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "iat": now, "exp": now + int(lifetime), "iss": ISSUER, "aud": AUDIENCE, **extra}


def mint(payload: Mapping[str, Any], key: SigningKey, *, headers: Mapping[str, Any] | None = None) -> str:
    return jwt.encode(dict(payload), key.private, algorithm=key.algorithm, headers={"kid": key.kid, **(headers or {})})


def mint_with_secret(payload: Mapping[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(dict(payload), secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class JwksServer:
    """A JWKS endpoint on a local port: set ``keys`` to rotate, ``down`` to fail, read ``fetches``."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = keys
        self.down = False
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                if server.down:
                    self.send_error(503)
                    return
                body = json.dumps({"keys": [key.jwk for key in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/api/auth/jwks"

    @contextmanager
    def serving(self) -> Iterator[JwksServer]:
        thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join()
