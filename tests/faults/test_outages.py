"""With PostgreSQL cut off, refusing or hanging, the service stays up, answers data requests 503
SERVICE_UNAVAILABLE with Retry-After within its deadline, says it is not ready, never answers
500, and serves again once the database is back, without a restart.

The service runs in this process with ``create_app`` building and opening its own storage
from settings, and reaches this test's database through a ``FaultProxy``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.databases import Databases, database_of
from tests.faults.conftest import HEALED_WITHIN, Service, serving
from tests.faults.proxy import FaultProxy
from tests.http.conftest import assert_error
from todo_adapters.postgres import Migrator, PoolSettings

pytestmark = pytest.mark.postgres

POOL_TIMEOUT = 1.0
STATEMENT_TIMEOUT = 1.0
SHORT_TIMEOUTS: dict[str, Any] = {"db_pool_timeout": POOL_TIMEOUT, "db_statement_timeout": STATEMENT_TIMEOUT}
DEADLINE = PoolSettings(timeout=POOL_TIMEOUT, statement_timeout=STATEMENT_TIMEOUT).deadline
"""What the product promises a unit of work may take in all: 3 s here."""
ANSWERED_WITHIN = DEADLINE + 1.0
"""The deadline, and a second for the app's own work around it."""


def data_requests(task_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """List, get and create: what a client of the API does most."""
    return [
        ("GET", "/api/ada/tasks", None),
        ("GET", f"/api/ada/tasks/{task_id}", None),
        ("POST", "/api/ada/tasks", {"title": "During the outage"}),
    ]


def break_database(proxy: FaultProxy, fault: str) -> None:
    {"cut": proxy.cut, "refuse": proxy.refuse, "hang": proxy.hang}[fault]()


def server_errors(service: Service) -> set[int]:
    """Statuses of 500 and above, 503 excepted, the service answered during the test."""
    return {status for status in service.statuses if status >= 500 and status != 503}


def assert_unavailable(response: Any) -> None:
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("fault", ["cut", "refuse", "hang"])
async def test_data_requests_answer_503_with_retry_after_within_the_deadline_while_the_database_fails(
    proxy: FaultProxy, proxied_url: str, fault: str
) -> None:
    async with serving(proxied_url, **SHORT_TIMEOUTS) as service:
        await service.register()
        task = await service.create()
        break_database(proxy, fault)

        # The first round meets the connections the pool already holds, the second an empty pool.
        for _ in range(2):
            for response, seconds in await service.at_once(*data_requests(task["id"])):
                assert_unavailable(response)
                assert seconds <= ANSWERED_WITHIN, f"{response.request.method} {response.request.url} {seconds:.1f} s"
        ready, seconds = await service.timed("GET", "/health/ready")
        assert_error(ready, 503, "NOT_READY")
        assert seconds <= ANSWERED_WITHIN

    assert server_errors(service) == set()


@pytest.mark.parametrize("fault", ["cut", "refuse", "hang"])
async def test_readiness_answers_503_within_the_deadline_while_the_database_fails(
    proxy: FaultProxy, proxied_url: str, fault: str
) -> None:
    async with serving(proxied_url, **SHORT_TIMEOUTS) as service:
        await service.register()
        break_database(proxy, fault)
        ready, seconds = await service.timed("GET", "/health/ready")

    assert assert_error(ready, 503, "NOT_READY")["reasons"]
    assert seconds <= ANSWERED_WITHIN


@pytest.mark.parametrize("fault", ["cut", "refuse", "hang"])
async def test_the_service_stays_up_while_the_database_fails_and_serves_again_once_it_heals(
    proxy: FaultProxy, proxied_url: str, fault: str
) -> None:
    async with serving(proxied_url, **SHORT_TIMEOUTS) as service:
        await service.register()
        before = await service.create(title="Before the outage")
        break_database(proxy, fault)

        *data, (health, _), (ready, _) = await service.at_once(
            *data_requests(before["id"]), ("GET", "/health", None), ("GET", "/health/ready", None)
        )
        for response, _ in data:
            assert_unavailable(response)
        assert (health.status_code, health.json()["status"]) == (200, "ok")
        assert assert_error(ready, 503, "NOT_READY")["reasons"]

        proxy.heal()
        after = await service.until(
            lambda: service.request("POST", "/api/ada/tasks", {"title": "After the outage"}),
            lambda response: response.status_code == 201,
            within=HEALED_WITHIN,
        )
        listing = await service.request("GET", "/api/ada/tasks")
        lookup = await service.request("GET", f"/api/ada/tasks/{before['id']}")
        ready = await service.request("GET", "/health/ready")

    assert listing.status_code == 200
    assert {before["id"], after.json()["id"]} <= {task["id"] for task in listing.json()}
    assert (lookup.status_code, lookup.json()) == (200, before)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert server_errors(service) == set()


async def test_after_a_longer_outage_the_service_serves_again_within_ten_seconds_of_the_database(
    proxy: FaultProxy, proxied_url: str
) -> None:
    outage = 17.0  # just past the pool's fifth reconnection attempt (at 13.5-16.5 s), long before its sixth
    async with serving(proxied_url, **SHORT_TIMEOUTS) as service:
        await service.register()
        proxy.cut()
        back_at = time.monotonic() + outage
        while time.monotonic() < back_at - ANSWERED_WITHIN:  # clients keep trying, and keep being answered 503
            assert_unavailable(await service.request("GET", "/api/ada/tasks"))
        while time.monotonic() < back_at:
            assert (await service.request("GET", "/health")).status_code == 200
            await asyncio.sleep(0.1)  # a poll interval
        proxy.heal()

        await service.until(
            lambda: service.request("POST", "/api/ada/tasks", {"title": "After the outage"}),
            lambda response: response.status_code == 201,
            within=HEALED_WITHIN,
        )

    assert server_errors(service) == set()


async def test_requests_beyond_max_waiting_are_answered_503_at_once_during_a_hang_and_none_hangs(
    proxy: FaultProxy, proxied_url: str
) -> None:
    pool_timeout, max_waiting, requests = 2.0, 3, 20
    settings = {"db_pool_min": 0, "db_pool_max": 2, "db_pool_max_waiting": max_waiting}
    # No connection is made before the hang, so every request must wait for the pool.
    async with serving(proxied_url, db_pool_timeout=pool_timeout, db_statement_timeout=1.0, **settings) as service:
        proxy.hang()
        answers = await service.at_once(*[("GET", "/api/ada/tasks", None)] * requests)

    for response, _ in answers:
        assert_unavailable(response)
    refused_at_once = [seconds for _, seconds in answers if seconds < pool_timeout / 2]
    assert len(refused_at_once) >= requests - max_waiting
    deadline = PoolSettings(timeout=pool_timeout, statement_timeout=1.0).deadline
    assert max(seconds for _, seconds in answers) <= deadline + 1.0
    assert server_errors(service) == set()


async def test_a_service_started_while_the_database_is_down_becomes_ready_once_it_is_up_without_a_restart(
    proxy: FaultProxy, proxied_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="todo.readiness")

    def readiness_lines() -> list[tuple[int, str]]:
        return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == "todo.readiness"]

    proxy.cut()
    async with serving(proxied_url, **SHORT_TIMEOUTS) as service:
        health = await service.request("GET", "/health")
        not_ready = await service.request("GET", "/health/ready")
        data = await service.request("GET", "/api/ada/tasks")
        down_lines = readiness_lines()

        proxy.heal()
        ready = await service.until(
            lambda: service.request("GET", "/health/ready"),
            lambda response: response.status_code == 200,
            within=HEALED_WITHIN,
        )
        up_lines = readiness_lines()
        await service.request("GET", "/health/ready")
        await service.register()
        created = await service.request("POST", "/api/ada/tasks", {"title": "First"})

    assert (health.status_code, health.json()["status"]) == (200, "ok")
    reasons = assert_error(not_ready, 503, "NOT_READY")["reasons"]
    assert reasons
    assert all("cannot be reached" in reason for reason in reasons)
    assert_unavailable(data)
    assert down_lines[0] == (logging.WARNING, f"not ready: {reasons[0]}")
    assert ready.json() == {"status": "ready"}
    assert up_lines[-1] == (logging.INFO, "ready to serve")
    assert readiness_lines() == up_lines  # ready again: nothing changed, nothing logged
    assert created.status_code == 201
    assert server_errors(service) == set()


async def test_readiness_is_503_while_the_database_has_no_schema(postgres_databases: Databases) -> None:
    empty = postgres_databases.empty()
    try:
        async with serving(postgres_databases.url(empty)) as service:
            ready = await service.request("GET", "/health/ready")
            health = await service.request("GET", "/health")
    finally:
        postgres_databases.drop(empty)

    reasons = assert_error(ready, 503, "NOT_READY")["reasons"]
    assert len(reasons) == 1
    assert "todo migrate" in reasons[0]
    assert health.status_code == 200


async def test_readiness_is_503_naming_the_pending_migration_while_the_schema_is_behind(postgres_url: str) -> None:
    (rolled_back,) = Migrator(postgres_url).rollback(count=1)

    async with serving(postgres_url) as service:
        ready = await service.request("GET", "/health/ready")

    reasons = assert_error(ready, 503, "NOT_READY")["reasons"]
    assert len(reasons) == 1
    assert rolled_back in reasons[0]


def switch_off_synchronous_commit(database_url: str) -> None:
    """For this test's own database only: the server's settings are not ours to change."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(database_of(database_url)))
        )


async def test_readiness_is_503_when_acknowledged_writes_can_be_lost_outside_development(postgres_url: str) -> None:
    switch_off_synchronous_commit(postgres_url)

    async with serving(postgres_url, environment="production") as service:
        ready = await service.request("GET", "/health/ready")

    reasons = assert_error(ready, 503, "NOT_READY")["reasons"]
    assert len(reasons) == 1
    assert "synchronous_commit=off" in reasons[0]


async def test_readiness_accepts_a_database_that_can_lose_writes_in_development(postgres_url: str) -> None:
    switch_off_synchronous_commit(postgres_url)

    async with serving(postgres_url, environment="development") as service:
        ready = await service.request("GET", "/health/ready")

    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
