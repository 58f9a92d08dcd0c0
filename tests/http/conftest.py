from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response
from litestar.testing import AsyncTestClient


class Api:
    """A thin, readable client over the test client for the calls most tests make."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def register(self, user_id: str, email: str | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/api/users", json={"id": user_id, "email": email or f"{user_id}@example.com"}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def create(self, user_id: str, title: str = "Write", **fields: Any) -> dict[str, Any]:
        response = await self.client.post(f"/api/{user_id}/tasks", json={"title": title, **fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def get(self, user_id: str, task_id: str) -> Response:
        return await self.client.get(f"/api/{user_id}/tasks/{task_id}")


@pytest.fixture
def api(client: AsyncTestClient) -> Api:
    return Api(client)


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is the one error body with this status and code; returns its ``details``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"]["details"])
