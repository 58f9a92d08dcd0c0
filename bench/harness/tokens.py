"""Sign-in for load runs: an Ed25519 key, its JWKS served on a local port, one token per user."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

KID = "bench-1"


class Jwks:
    """A fresh signing key and a JWKS endpoint publishing its public half, while ``serving``."""

    def __init__(self) -> None:
        self._key = ed25519.Ed25519PrivateKey.generate()
        public = {**json.loads(OKPAlgorithm.to_jwk(self._key.public_key())), "kid": KID, "use": "sig", "alg": "EdDSA"}
        body = json.dumps({"keys": [public]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/api/auth/jwks"
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)

    def __enter__(self) -> Jwks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()

    def mint(self, user: str, lifetime_s: int) -> str:
        now = int(time.time())
        claims = {"sub": user, "iat": now, "exp": now + lifetime_s}
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": KID})

    def write_tokens(self, users_file: Path, tokens_file: Path, lifetime_s: int) -> int:
        """One token per user of ``users_file``, as ``<user> <token>`` lines; returns how many."""
        users = users_file.read_text().split()
        tokens_file.write_text("".join(f"{user} {self.mint(user, lifetime_s)}\n" for user in users))
        return len(users)
