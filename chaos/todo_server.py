"""``todo serve`` as a real process, configured the way production runs it, with signed tokens for its users."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

import httpx
import jwt

__all__ = ["TodoService"]

TODO: Final = Path(sys.executable).with_name("todo")


class TodoService:
    """The service under test: ``start()``, ``await wait_ready()``, ``stop()``."""

    def __init__(self, *, database_url: str, port: int, workers: int, log_path: Path) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self._port = port
        self._log_path = log_path
        self._secret = secrets.token_urlsafe(32)
        self._process: subprocess.Popen[bytes] | None = None
        # Nothing inherited from the caller's shell (a rate limit, another database) may change the test.
        inherited = {name: value for name, value in os.environ.items() if not name.startswith("TODO_")}
        inherited.pop("BETTER_AUTH_SECRET", None)
        self._env = {
            **inherited,
            "TODO_DATABASE_URL": database_url,
            "TODO_AUTH": "jwt",
            "TODO_JWT_SECRET": self._secret,
            "TODO_WORKERS": str(workers),
            "TODO_ENVIRONMENT": "production",  # readiness then insists on fsync and synchronous_commit
            # Answer 503 within a couple of seconds while the database is down.
            "TODO_DB_POOL_TIMEOUT": "2",
            "TODO_DB_STATEMENT_TIMEOUT": "2",
            "TODO_LOG_LEVEL": "warning",
        }

    def token(self, user_id: str) -> str:
        """A bearer token for ``user_id``, as a sign-in service would issue it."""
        now = int(time.time())
        claims = {"sub": user_id, "email": f"{user_id}@example.com", "iat": now, "exp": now + 24 * 3600}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def start(self) -> None:
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 -- the arguments are ours, not input
                [str(TODO), "serve", "--port", str(self._port), "--migrate"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, *, within: float = 60.0) -> None:
        """Return once ``/health/ready`` says storage can serve: reachable, migrated, durable."""
        deadline = time.monotonic() + within
        last = "no answer"
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    raise RuntimeError(f"todo serve exited:\n{self.log_tail()}")
                try:
                    response = await http.get("/health/ready")
                except httpx.TransportError as error:
                    last = type(error).__name__
                else:
                    if response.status_code == 200:
                        return
                    last = response.text
                await asyncio.sleep(0.1)
        raise TimeoutError(f"todo serve was not ready within {within} s ({last}):\n{self.log_tail()}")

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Its workers, should the supervisor have left any behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""
