"""``todo serve --workers 2``: each worker listens on a socket of its own, so both get connections.

What the processes hold is read from /proc, as ``ss -tlnp`` would show it to an operator.
"""

from __future__ import annotations

import http.client
import os
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import running_server
from todo_adapters.listeners import spreads_connections

pytestmark = [
    pytest.mark.postgres,  # more than one worker needs a shared store
    pytest.mark.skipif(not spreads_connections(), reason="the kernel balances SO_REUSEPORT sockets on Linux"),
]

CLIENTS = 100
_LISTEN, _ESTABLISHED = "0A", "01"


def sockets_on(port: int, state: str) -> set[str]:
    """The inodes of the IPv4 TCP sockets whose local port is ``port``, in ``state``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def holders(inodes: set[str]) -> Counter[int]:
    """How many of these sockets each process holds."""
    held = Counter[int]()
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (process / "fd").iterdir()]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        held[int(process.name)] += sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
    return +held


def both_workers_listening(port: int, within: float = 20.0) -> set[str]:
    deadline = time.monotonic() + within
    while len(listening := sockets_on(port, _LISTEN)) < 2:
        if time.monotonic() > deadline:
            pytest.fail(
                f"{len(listening)} socket(s) listening on port {port} after {within} s; expected one per worker"
            )
        time.sleep(0.05)
    return listening


def test_each_worker_listens_on_its_own_socket_and_is_handed_its_share_of_connections(postgres_url: str) -> None:
    with running_server("--workers", "2", env={"TODO_DATABASE_URL": postgres_url}) as base_url:
        port = urlsplit(base_url).port
        assert port is not None
        listening = both_workers_listening(port)
        assert len(listening) == 2
        assert list(holders(listening).values()) == [1, 1], "each worker holds one listening socket"

        clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(CLIENTS)]
        try:
            for client in clients:
                client.request("GET", "/health")
                response = client.getresponse()
                response.read()
                assert response.status == 200
            served = holders(sockets_on(port, _ESTABLISHED))
        finally:
            for client in clients:
                client.close()
    # The kernel hashes each connection's addresses to a worker's socket: about half each.
    # Fewer than 25 of 100 happens about once in 5 million runs.
    assert sum(served.values()) == CLIENTS
    assert len(served) == 2, served
    assert min(served.values()) >= 25, served
