"""The service in this process, over PostgreSQL reached through a proxy the tests can break.

Every answer the service gives is timed and kept, so a test can say what happened across its
whole run (no 500 at any point) as well as at each step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.faults.proxy import FaultProxy
from todo_adapters.http import create_app
from todo_adapters.settings import Settings

HEALED_WITHIN = 10.0
"""Seconds after the database is back by which the service must be serving again."""


@dataclass(frozen=True)
class Answer:
    method: str
    path: str
    status: int
    seconds: float


class Service:
    """An HTTP client over the app that times and keeps every answer."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[Answer] = []

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        started = time.perf_counter()
        response = await self.client.request(method, path, json=body)
        self.answers.append(Answer(method, path, response.status_code, time.perf_counter() - started))
        return response

    async def timed(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[httpx.Response, float]:
        response = await self.request(method, path, body)
        return response, self.answers[-1].seconds

    async def at_once(self, *calls: tuple[str, str, dict[str, Any] | None]) -> list[tuple[httpx.Response, float]]:
        """The calls sent concurrently, each with how long it took to answer."""
        return list(await asyncio.gather(*(self.timed(*call) for call in calls)))

    async def register(self, user_id: str = "ada") -> None:
        response = await self.request("POST", "/api/users", {"id": user_id, "email": f"{user_id}@example.com"})
        assert response.status_code == 201, response.text

    async def create(self, user_id: str = "ada", title: str = "Write") -> dict[str, Any]:
        response = await self.request("POST", f"/api/{user_id}/tasks", {"title": title})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def until(
        self, call: Callable[[], Any], accept: Callable[[httpx.Response], bool], *, within: float
    ) -> httpx.Response:
        """Repeat ``call`` until its answer is accepted; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while True:
            response: httpx.Response = await call()
            if accept(response):
                return response
            assert time.monotonic() < deadline, f"still {response.status_code} after {within} s: {response.text}"
            await asyncio.sleep(0.1)  # a poll interval, not a wait for something to happen

    @property
    def statuses(self) -> set[int]:
        return {answer.status for answer in self.answers}


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[FaultProxy]:
    """A proxy to this test's database server, forwarding until told otherwise."""
    with FaultProxy.to(postgres_url) as proxy:
        yield proxy


@pytest.fixture
def proxied_url(proxy: FaultProxy, postgres_url: str) -> str:
    """This test's database, reached through the proxy."""
    return proxy.url(postgres_url)


@asynccontextmanager
async def serving(database_url: str, **settings: Any) -> AsyncIterator[Service]:
    """The app as ``create_app`` builds it from settings, storage included, running its lifespan."""
    app = create_app(settings=Settings(auth="disabled", database_url=database_url, **settings))
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://todo", timeout=60) as client:
        yield Service(client)
