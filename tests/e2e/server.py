"""Run ``todo serve`` as a real process, the way users start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

TODO = Path(sys.executable).with_name("todo")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(
    *args: str, env: Mapping[str, str] | None = None, port: int | None = None, ready_within: float = 20.0
) -> Iterator[str]:
    """Start ``todo serve`` and yield its base URL once ``/health`` answers; stop it on exit.

    Authentication is disabled, as ``make run`` does, unless ``env`` says otherwise.
    """
    port = port or free_port()
    environment = {**os.environ, "TODO_AUTH": "disabled", **(env or {})}
    # Output goes to a file: a pipe nobody reads would fill up and stall the server.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [str(TODO), "serve", "--port", str(port), *args], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_healthy(process, log, base_url, ready_within)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_healthy(process: subprocess.Popen[bytes], log: IO[str], base_url: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"todo serve exited with {process.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise TimeoutError(f"todo serve did not become healthy within {within} s")
