"""The fault tests are only worth something if the proxy really injects the faults: these check it
against the real server, with nothing of ours in between."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.postgres


def answer(url: str) -> Any:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        return connection.execute("SELECT 1").fetchone()


def wait_until(condition: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.01)  # a poll interval


@pytest.mark.parametrize("fault", ["cut", "refuse"])
def test_a_cut_or_refusing_database_drops_open_connections_and_new_ones(
    proxy: FaultProxy, proxied_url: str, fault: str
) -> None:
    with psycopg.connect(proxied_url, autocommit=True) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
        proxy.cut() if fault == "cut" else proxy.refuse()
        assert proxy.open_connections == 0
        with pytest.raises(psycopg.OperationalError):
            connection.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError, match="refused" if fault == "cut" else "closed the connection"):
        answer(proxied_url)
    assert proxy.open_connections == 0

    proxy.heal()
    assert answer(proxied_url) == (1,)


def test_a_hanging_database_holds_queries_and_new_connections_until_it_heals(
    proxy: FaultProxy, proxied_url: str
) -> None:
    with psycopg.connect(proxied_url, autocommit=True) as connection, ThreadPoolExecutor(2) as pool:
        proxy.hang()
        sent = proxy.bytes_from_clients
        held_query = pool.submit(lambda: connection.execute("SELECT 1").fetchone())
        wait_until(lambda: proxy.bytes_from_clients > sent)
        accepted = proxy.connections_accepted
        held_connection = pool.submit(answer, proxied_url)
        wait_until(lambda: proxy.connections_accepted > accepted)
        assert not held_query.done()
        assert not held_connection.done()

        proxy.heal()
        assert held_query.result(timeout=5) == (1,)
        assert held_connection.result(timeout=5) == (1,)
