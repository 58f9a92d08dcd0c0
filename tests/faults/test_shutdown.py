"""``todo serve`` stops gracefully on SIGTERM: it refuses new connections, lets the requests in
flight finish within TODO_SHUTDOWN_GRACE seconds, closes its pool and exits 0.

The server runs as a real process over PostgreSQL reached through a ``FaultProxy``; holding the
proxy in ``hang`` is how a request is kept in flight until the signal has arrived.
"""

from __future__ import annotations

import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.faults.process import serving_process, until
from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.postgres

GRACE = 10


def settings(database_url: str) -> dict[str, str]:
    return {
        "TODO_DATABASE_URL": database_url,
        "TODO_SHUTDOWN_GRACE": str(GRACE),
        "TODO_DB_POOL_TIMEOUT": "5",
        "TODO_DB_STATEMENT_TIMEOUT": "5",
    }


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def stored_titles(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as connection:
        return {title for (title,) in connection.execute("SELECT title FROM tasks WHERE user_id = 'ada'")}


def test_a_request_in_flight_at_sigterm_completes_while_new_connections_are_refused(postgres_url: str) -> None:
    with FaultProxy.to(postgres_url) as proxy, serving_process(settings(proxy.url(postgres_url))) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            assert client.post("/api/users", json={"id": "ada", "email": "ada@example.com"}).status_code == 201

        with ThreadPoolExecutor(1) as executor:
            proxy.hang()
            sent = proxy.bytes_from_clients
            in_flight = executor.submit(
                httpx.post, f"{server.base_url}/api/ada/tasks", json={"title": "In flight"}, timeout=30
            )
            until(lambda: proxy.bytes_from_clients > sent, within=5.0, what="the request to reach the database")

            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            until(lambda: refuses_connections(server.port), within=5.0, what="the server to stop accepting")
            assert not in_flight.done()
            proxy.heal()

            response = in_flight.result(timeout=GRACE)
            server.process.wait(timeout=GRACE)
            stopped_after = time.monotonic() - signalled

        output = server.output()

    assert response.status_code == 201, response.text
    assert stored_titles(postgres_url) == {"In flight"}
    assert stopped_after <= GRACE
    assert "Traceback" not in output
    assert [line for line in output.splitlines() if re.search(r"todo\.access: .* 5\d\d [\d.]+ ms$", line)] == []


def test_on_sigterm_the_server_closes_its_database_connections_properly(postgres_url: str) -> None:
    with FaultProxy.to(postgres_url) as proxy, serving_process(settings(proxy.url(postgres_url))) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            assert client.post("/api/users", json={"id": "ada", "email": "ada@example.com"}).status_code == 201
        closed_before = proxy.connections_closed_properly
        held = proxy.open_connections
        assert held >= 1

        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=GRACE)
        output = server.output()
        until(lambda: proxy.open_connections == 0, within=5.0, what="the server's connections to end")

    # A pool that is closed says goodbye on each connection; a process that just ends drops them.
    assert proxy.connections_closed_properly - closed_before == held
    assert "Traceback" not in output


def test_on_sigterm_the_server_exits_with_status_0(postgres_url: str) -> None:
    with serving_process(settings(postgres_url)) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            assert client.post("/api/users", json={"id": "ada", "email": "ada@example.com"}).status_code == 201

        server.process.send_signal(signal.SIGTERM)
        exit_code = server.process.wait(timeout=GRACE)
        output = server.output()

    assert exit_code == 0, output
