"""Run ``todo serve`` as a process the test controls: it sends the signals, reads the exit status
and the output. (``tests.e2e.server.running_server`` stops the server itself and keeps its output.)"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx

from tests.e2e.server import TODO, free_port

__all__ = ["ServerProcess", "serving_process", "until"]


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: IO[str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """Everything the server wrote so far, stdout and stderr."""
        self.log.seek(0)
        return self.log.read()


@contextmanager
def serving_process(env: Mapping[str, str]) -> Iterator[ServerProcess]:
    """``todo serve`` with authentication disabled and ``env`` on top, once healthy; killed on exit if it
    is still running."""
    port = free_port()
    environment = {**os.environ, "TODO_AUTH": "disabled", **env}
    # Output goes to a file: a pipe nobody reads would fill up and stall the server.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [str(TODO), "serve", "--port", str(port)], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        server = ServerProcess(process, port, log)
        try:
            until(lambda: _is_healthy(server), within=20.0, what="todo serve to answer /health")
            yield server
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _is_healthy(server: ServerProcess) -> bool:
    assert server.process.poll() is None, f"todo serve exited with {server.process.returncode}:\n{server.output()}"
    try:
        return httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def until(condition: Callable[[], bool], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"waited {within} s for {what}"
        time.sleep(0.02)  # a poll interval
