"""With the database unreachable, data requests answer 503 SERVICE_UNAVAILABLE with Retry-After and nothing
about the database; the service itself stays up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from tests.e2e.server import free_port
from tests.http.conftest import assert_error
from todo_adapters.http import create_app
from todo_adapters.postgres import PoolSettings, PostgresStorage
from todo_adapters.settings import Settings

NO_AUTH = Settings(auth="disabled")

pytestmark = pytest.mark.postgres

TASK = "00000000-0000-7000-8000-000000000001"


@pytest.fixture
def port() -> int:
    """A port nobody listens on."""
    return free_port()


@pytest.fixture
async def client(port: int) -> AsyncIterator[AsyncTestClient]:
    """This module's client: the app over PostgreSQL storage whose server never answers."""
    storage = PostgresStorage(
        f"postgresql://postgres@127.0.0.1:{port}/x", PoolSettings(min_size=1, max_size=2, timeout=1.0)
    )
    await storage.open()  # without waiting: the pool keeps trying in the background, as at a real start-up
    try:
        async with AsyncTestClient(create_app(settings=NO_AUTH, storage=storage)) as client:
            yield client
    finally:
        await storage.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/api/ada/tasks", None), ("GET", f"/api/ada/tasks/{TASK}", None),
     ("POST", "/api/ada/tasks", {"title": "Write"}), ("PATCH", f"/api/ada/tasks/{TASK}", {"title": "Rewrite"}),
     ("DELETE", f"/api/ada/tasks/{TASK}", None), ("POST", "/api/users", {"email": "ada@example.com"}),
     ("GET", "/api/users/ada", None)],
)  # fmt: skip
async def test_a_data_request_answers_503_with_retry_after_and_no_internals(
    client: AsyncTestClient, port: int, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await client.request(method, path, json=body)
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) >= 1
    for leak in ("psycopg", "pool", "postgresql", "127.0.0.1", str(port), "/x", "connection", "Traceback"):
        assert leak not in response.text.lower(), leak


async def test_health_answers_200_while_storage_is_down(client: AsyncTestClient) -> None:
    assert_error(await client.get("/api/ada/tasks"), 503, "SERVICE_UNAVAILABLE")
    response = await client.get("/health")
    assert (response.status_code, response.json()["status"]) == (200, "ok")
