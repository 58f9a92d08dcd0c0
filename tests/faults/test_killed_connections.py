"""When PostgreSQL terminates the service's connections (a failover, an administrator, an idle
timeout), the next requests succeed anyway: the pool notices the dead connections and replaces them.

Only this test's database is touched: the backends terminated are the service's own, found by
its application name in this database.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.databases import database_of
from tests.faults.conftest import Service, serving

pytestmark = pytest.mark.postgres

POOL = {"db_pool_min": 4, "db_pool_max": 4}


def terminate_the_service_connections(database_url: str) -> int:
    """Terminate every backend the service holds in this database, waiting until each is gone."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = 'todo'",
            (database_of(database_url),),
        ).fetchall()
    assert all(terminated for (terminated,) in rows)
    return len(rows)


async def warm_up(service: Service) -> str:
    """Ada with a task, and every connection of the pool used; returns the task's id."""
    await service.register()
    task = await service.create()
    reads = await service.at_once(*[("GET", f"/api/ada/tasks/{task['id']}", None)] * 8)
    assert {response.status_code for response, _ in reads} == {200}
    return str(task["id"])


def requests_of_every_kind(task_id: str, n: int) -> list[tuple[str, str, dict[str, str] | None]]:
    kinds: list[tuple[str, str, dict[str, str] | None]] = [
        ("GET", "/api/ada/tasks", None),
        ("GET", f"/api/ada/tasks/{task_id}", None),
        ("POST", "/api/ada/tasks", {"title": "After the kill"}),
        ("PATCH", f"/api/ada/tasks/{task_id}", {"description": "still here"}),
    ]
    return [kinds[i % len(kinds)] for i in range(n)]


async def test_twenty_requests_in_a_row_all_succeed_after_postgres_terminated_every_connection(
    postgres_url: str,
) -> None:
    async with serving(postgres_url, **POOL) as service:
        task_id = await warm_up(service)
        assert terminate_the_service_connections(postgres_url) == POOL["db_pool_max"]

        answers = [await service.request(*request) for request in requests_of_every_kind(task_id, 20)]

    assert [response.status_code for response in answers] == [
        201 if response.request.method == "POST" else 200 for response in answers
    ]


async def test_twenty_concurrent_requests_all_succeed_after_postgres_terminated_every_connection(
    postgres_url: str,
) -> None:
    async with serving(postgres_url, **POOL) as service:
        task_id = await warm_up(service)
        assert terminate_the_service_connections(postgres_url) == POOL["db_pool_max"]

        answers = await service.at_once(*requests_of_every_kind(task_id, 20))
        listing = await service.request("GET", "/api/ada/tasks")

    assert [response.status_code for response, _ in answers] == [
        201 if response.request.method == "POST" else 200 for response, _ in answers
    ]
    assert len(listing.json()) == 1 + 5  # the task from before, and the five created after the kill
