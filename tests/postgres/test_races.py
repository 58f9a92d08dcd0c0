"""Concurrent requests to one task or one user: conditional writes let exactly one writer win, and no
unconditional write is lost.

The requests go through an httpx client over ``ASGITransport``, which runs the app on the test's own event
loop, so requests gathered together really are in flight together. Litestar's ``AsyncTestClient`` (the
``client`` fixture) cannot race: it hands each request to a blocking portal and waits for the response before
the next request can start, so ``gather`` over it runs the requests one after another.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar, get

from tests.http.conftest import Api, assert_error
from tests.support import SequentialIds, TickingClock
from todo_adapters.http import create_app
from todo_adapters.settings import Settings
from todo_core import Storage

NO_AUTH = Settings(auth="disabled")

ROUNDS = 20


def racing_api(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def api(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> AsyncIterator[Api]:
    async with racing_api(create_app(settings=NO_AUTH, storage=storage, clock=clock, new_id=new_id)) as client:
        yield Api(client)  # Api needs only the httpx.AsyncClient interface


@pytest.fixture
async def task(api: Api) -> dict[str, Any]:
    await api.register("ada")
    return await api.create("ada", "Contended")


async def walk(api: Api, url: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for _ in range(100):  # a bound, so that a cursor which never advances fails instead of looping forever
        response = await api.client.get(url)
        assert response.status_code == 200, response.text
        seen.extend(response.json())
        url = response.links.get("next", {}).get("url")
        if url is None:
            return seen
    pytest.fail("the pages never ended")


async def test_requests_gathered_through_the_racing_client_are_in_flight_together() -> None:
    barrier = asyncio.Barrier(2)

    @get("/meet")
    async def meet() -> str:
        await barrier.wait()  # returns only once both requests are inside the app at the same time
        return "met"

    async with racing_api(Litestar([meet])) as client, asyncio.timeout(30):  # a hang guard, not a measurement
        responses = await asyncio.gather(client.get("/meet"), client.get("/meet"))
    assert [response.text for response in responses] == ["met", "met"]


async def test_of_two_puts_with_the_same_if_match_exactly_one_wins_and_its_write_is_stored(
    api: Api, task: dict[str, Any]
) -> None:
    url = f"/api/ada/tasks/{task['id']}"
    version = task["version"]
    for round_ in range(ROUNDS):
        bodies = [{"title": f"Round {round_} by {writer}", "description": writer} for writer in ("A", "B")]
        responses = await asyncio.gather(
            *(api.client.put(url, json=body, headers={"If-Match": f'"{version}"'}) for body in bodies)
        )
        assert sorted(response.status_code for response in responses) == [200, 412], round_
        winner = next(response for response in responses if response.status_code == 200)
        loser = next(response for response in responses if response.status_code == 412)
        details = assert_error(loser, 412, "PRECONDITION_FAILED")
        assert details["current_version"] == version + 1
        stored = await api.client.get(url)
        assert stored.json() == winner.json()
        assert stored.json()["version"] == version + 1
        assert stored.headers["etag"] == f'"{version + 1}"'
        version += 1


async def test_concurrent_toggles_all_land_so_completion_follows_their_count(api: Api, task: dict[str, Any]) -> None:
    count = 51
    url = f"/api/ada/tasks/{task['id']}/complete"
    responses = await asyncio.gather(*(api.client.patch(url) for _ in range(count)))
    assert [response.status_code for response in responses] == [200] * count
    # Each toggle saw its own version, and the completion that version must have.
    seen = sorted((response.json()["version"], response.json()["completed"]) for response in responses)
    assert seen == [(version, version % 2 == 0) for version in range(2, count + 2)]
    final = (await api.get("ada", task["id"])).json()
    assert (final["completed"], final["version"]) == (count % 2 == 1, 1 + count)
    assert final["completed_at"] is not None


async def test_concurrent_patches_of_different_fields_without_if_match_all_land(api: Api, task: dict[str, Any]) -> None:
    url = f"/api/ada/tasks/{task['id']}"
    for round_ in range(ROUNDS):
        completed = round_ % 2 == 0
        patches = [{"title": f"Title {round_}"}, {"description": f"Description {round_}"}, {"completed": completed}]
        responses = await asyncio.gather(*(api.client.patch(url, json=patch) for patch in patches))
        assert [response.status_code for response in responses] == [200, 200, 200], round_
        stored = (await api.client.get(url)).json()
        assert (stored["title"], stored["description"], stored["completed"]) == (
            f"Title {round_}",
            f"Description {round_}",
            completed,
        )
        assert stored["version"] == 1 + 3 * (round_ + 1)


async def test_concurrent_creates_all_succeed_and_every_sort_pages_through_each_exactly_once(
    storage: Storage, new_id: SequentialIds
) -> None:
    # One frozen instant and one title for all: every page boundary falls between equal sort keys.
    instant = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    app = create_app(settings=NO_AUTH, storage=storage, clock=lambda: instant, new_id=new_id)
    async with racing_api(app) as client:
        api = Api(client)
        await api.register("ada")
        count = 40
        responses = await asyncio.gather(
            *(client.post("/api/ada/tasks", json={"title": "Same title"}) for _ in range(count))
        )
        assert [response.status_code for response in responses] == [201] * count
        ids = {response.json()["id"] for response in responses}
        assert len(ids) == count
        for sort in ("-created", "created", "title", "-title", "updated", "-updated"):
            listed = [task["id"] for task in await walk(api, f"/api/ada/tasks?sort={sort}&limit=7")]
            assert sorted(listed) == sorted(ids), sort
