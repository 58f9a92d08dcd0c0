"""Start a server under test in its own process group, wait until it answers, and stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from harness import procs


class ServerFailed(RuntimeError):
    """The server did not start, or died."""


class Server:
    """One server process (and its workers), its log in a file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        port: int,
        workers: int,
        log: Path,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.argv, self.env, self.port, self.log, self.cwd = name, list(argv), dict(env), port, log, cwd
        self.expected_workers = workers
        self.url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, f"{self.name} is not running"
        return self._process.pid

    def start(self, timeout: float = 60.0) -> None:
        if _listening(self.port):
            raise ServerFailed(f"port {self.port} is already in use: stop what listens there or choose another port")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv,
                # Nothing of the caller's TODO_* settings leaks in: a run is configured here only.
                env={**{k: v for k, v in os.environ.items() if not k.startswith("TODO_")}, **self.env},
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and its workers, nothing else
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with {self._process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            self.stop()
            raise ServerFailed(f"{self.name} did not answer /health within {timeout:.0f} s; see {self.log}")
        # Wait until every worker process exists, so that their usage can be read.
        while len(procs.workers(self.pid)) < self.expected_workers and time.monotonic() < deadline + 10:
            time.sleep(0.1)

    def workers(self) -> list[int]:
        return procs.workers(self.pid)

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group may be gone already
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._process = None


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
