"""Creating under an Idempotency-Key, as a client sees it: a retried request answers the first response
again and creates nothing, on both storage adapters.

Concurrent requests go through an httpx client over ``ASGITransport`` (see tests/postgres/test_races.py):
the ``client`` fixture runs requests one after another and cannot race.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.http.conftest import Api, assert_error
from tests.support import SequentialIds, TickingClock
from tests.tokens import AUDIENCE, ISSUER, SECRET, bearer, claims, mint_with_secret
from todo_adapters.http import create_app
from todo_adapters.memory import InMemoryStorage
from todo_adapters.settings import Settings
from todo_core import Storage, TaskService, UserService

NO_AUTH = Settings(auth="disabled")
WITH_TOKENS = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
RETENTION = timedelta(hours=24)
TASKS = "/api/ada/tasks"
USERS = "/api/users"
# What a replay must repeat exactly, besides the status and the body.
REPEATED_HEADERS = ("location", "etag")

BAD_KEYS = {
    "empty": b"",
    "256 characters": b"k" * 256,
    "non-ASCII (UTF-8)": "clé-✈".encode(),
    "non-ASCII (Latin-1)": "clé".encode("latin-1"),
    "a NUL": b"key\x00one",
    "a unit separator": b"key\x1fone",
    "a tab": b"key\tone",
    "DEL": b"key\x7fone",
}


def key(value: str | bytes) -> dict[str, Any]:
    return {"Idempotency-Key": value}


def racing(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def ada(api: Api) -> dict[str, Any]:
    return await api.register("ada")


async def listed(client: httpx.AsyncClient, user_id: str = "ada", **headers: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/{user_id}/tasks", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def assert_replays(first: httpx.Response, repeat: httpx.Response) -> None:
    """``repeat`` answers exactly what ``first`` did, and says it is a replay; ``first`` does not."""
    assert first.status_code == 201, first.text
    assert repeat.status_code == first.status_code, repeat.text
    assert repeat.content == first.content  # byte for byte, not merely equal once parsed
    for name in REPEATED_HEADERS:
        assert repeat.headers.get(name) == first.headers.get(name), name
    assert "idempotent-replayed" not in first.headers
    assert repeat.headers["idempotent-replayed"] == "true"


def assert_fresh(response: httpx.Response) -> None:
    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers


# Tasks: replay, reuse, failures


@pytest.mark.usefixtures("ada")
async def test_a_create_repeated_with_the_same_key_and_body_answers_the_same_and_creates_one_task(
    client: AsyncTestClient,
) -> None:
    body = {"title": "Buy milk", "description": "2 litres, ✓ semi-skimmed"}

    first = await client.post(TASKS, json=body, headers=key("order-1"))
    second = await client.post(TASKS, json=body, headers=key("order-1"))
    third = await client.post(TASKS, json=body, headers=key("order-1"))

    assert_replays(first, second)
    assert_replays(first, third)
    assert await listed(client) == [first.json()]
    fetched = await client.get(first.headers["location"])
    assert (fetched.status_code, fetched.json(), fetched.headers["etag"]) == (200, first.json(), first.headers["etag"])


@pytest.mark.usefixtures("ada")
async def test_creates_with_different_keys_are_different_requests(client: AsyncTestClient) -> None:
    body = {"title": "Buy milk"}

    first = await client.post(TASKS, json=body, headers=key("order-1"))
    second = await client.post(TASKS, json=body, headers=key("order-2"))
    unkeyed = await client.post(TASKS, json=body)

    for response in (first, second, unkeyed):
        assert_fresh(response)
    assert len({first.json()["id"], second.json()["id"], unkeyed.json()["id"]}) == 3
    assert len(await listed(client)) == 3


@pytest.mark.usefixtures("ada")
async def test_the_same_body_with_keys_in_another_order_and_other_whitespace_is_the_same_request(
    client: AsyncTestClient,
) -> None:
    json_body = {"content-type": "application/json"}
    first = await client.post(
        TASKS, content=b'{"title":"Buy milk","description":"2 litres"}', headers={**json_body, **key("order-1")}
    )
    repeat = await client.post(
        TASKS,
        content=b'{\n  "description" :  "2 litres",\n\t"title": "Buy milk"\n}\n',
        headers={**json_body, **key("order-1")},
    )

    assert_replays(first, repeat)
    assert len(await listed(client)) == 1


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize(
    "other_body",
    [{"title": "Buy bread"}, {"title": "Buy milk", "description": "2 litres"}, {"title": "buy milk"}],
    ids=["another title", "a description added", "another case"],
)
async def test_the_same_key_with_another_body_is_refused_and_creates_nothing(
    client: AsyncTestClient, other_body: dict[str, Any]
) -> None:
    first = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))

    reused = await client.post(TASKS, json=other_body, headers=key("order-1"))

    details = assert_error(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert details == {"idempotency_key": "order-1"}
    assert "idempotent-replayed" not in reused.headers
    assert await listed(client) == [first.json()]
    # The key still belongs to the first request.
    assert_replays(first, await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1")))


@pytest.mark.usefixtures("ada")
async def test_a_replay_answers_the_first_response_even_after_the_task_changed(client: AsyncTestClient) -> None:
    first = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))
    changed = await client.patch(first.headers["location"], json={"title": "Buy oat milk", "completed": True})
    assert changed.status_code == 200, changed.text

    repeat = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))

    assert_replays(first, repeat)
    assert [task["title"] for task in await listed(client)] == ["Buy oat milk"]


async def test_a_first_attempt_refused_as_invalid_stores_nothing_so_a_corrected_retry_creates(
    client: AsyncTestClient, api: Api
) -> None:
    await api.register("ada")

    invalid = await client.post(TASKS, json={"title": ""}, headers=key("order-1"))
    assert_error(invalid, 400, "VALIDATION_ERROR")
    corrected = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))
    repeat = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))

    assert_fresh(corrected)
    assert_replays(corrected, repeat)
    assert await listed(client) == [corrected.json()]


async def test_a_first_attempt_for_a_missing_user_stores_nothing_so_a_retry_once_they_exist_creates(
    client: AsyncTestClient, api: Api
) -> None:
    missing = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))
    assert_error(missing, 404, "USER_NOT_FOUND")

    await api.register("ada")
    retried = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))

    assert_fresh(retried)
    assert await listed(client) == [retried.json()]


# Tasks: bad keys


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize("bad", BAD_KEYS.values(), ids=BAD_KEYS.keys())
async def test_a_create_with_a_malformed_key_is_refused_naming_the_header_and_creates_nothing(
    client: AsyncTestClient, bad: bytes
) -> None:
    response = await client.post(TASKS, json={"title": "Buy milk"}, headers=key(bad))

    details = assert_error(response, 400, "VALIDATION_ERROR")
    assert "Idempotency-Key" in details, details
    assert await listed(client) == []


@pytest.mark.usefixtures("ada")
async def test_a_key_of_255_printable_characters_is_accepted(client: AsyncTestClient) -> None:
    longest = "".join(chr(0x21 + n % 94) for n in range(255))

    first = await client.post(TASKS, json={"title": "Buy milk"}, headers=key(longest))
    repeat = await client.post(TASKS, json={"title": "Buy milk"}, headers=key(longest))

    assert_replays(first, repeat)


# Concurrency


async def test_fifty_concurrent_creates_with_one_key_create_one_task_and_no_other_answer_than_it_or_409(
    storage: Storage, clock: TickingClock, new_id: SequentialIds
) -> None:
    app = create_app(settings=NO_AUTH, storage=storage, clock=clock, new_id=new_id)
    body = {"title": "Buy milk", "description": "once"}
    async with app.lifespan(), racing(app) as client, asyncio.timeout(60):  # a hang guard, not a measurement
        await Api(client).register("ada")

        responses = await asyncio.gather(*(client.post(TASKS, json=body, headers=key("order-1")) for _ in range(50)))

        created = [response for response in responses if response.status_code == 201]
        refused = [response for response in responses if response.status_code != 201]
        assert created, "no request created the task"
        assert len({response.content for response in created}) == 1
        assert len({tuple(response.headers.get(name) for name in REPEATED_HEADERS) for response in created}) == 1
        # Exactly one of them made the task; every other 201 is a replay of it.
        assert sum("idempotent-replayed" not in response.headers for response in created) == 1
        for response in refused:
            assert_error(response, 409, "REQUEST_IN_PROGRESS")
            assert response.headers["retry-after"] == "1"
        if isinstance(storage, InMemoryStorage):
            # In memory the repeats queue behind the first and replay it: none is told to retry.
            assert refused == []
        assert await listed(client) == [created[0].json()]
        # Retrying what was refused now gets the first answer.
        retried = await client.post(TASKS, json=body, headers=key("order-1"))
        assert retried.json() == created[0].json()
        assert retried.headers["idempotent-replayed"] == "true"


@pytest.mark.postgres
@pytest.mark.parametrize("storage", ["postgres"], indirect=True)
async def test_a_repeat_while_the_first_request_holds_the_key_is_told_to_retry_and_creates_nothing(
    storage: Storage, clock: TickingClock, new_id: SequentialIds
) -> None:
    app = create_app(settings=NO_AUTH, storage=storage, clock=clock, new_id=new_id)
    # The racing client runs the app on this event loop, which the pool needs while the key is held.
    async with app.lifespan(), racing(app) as client, asyncio.timeout(60):  # a hang guard, not a measurement
        await Api(client).register("ada")

        async with storage.unit_of_work() as uow, uow.atomic():
            # Another request, mid-flight, holding the key: what a slow first attempt looks like.
            assert await uow.idempotency.lock("ada", "order-1")
            in_flight = await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1"))

        details = assert_error(in_flight, 409, "REQUEST_IN_PROGRESS")
        assert details == {"idempotency_key": "order-1"}
        assert in_flight.headers["retry-after"] == "1"
        assert await listed(client) == []
        assert_fresh(await client.post(TASKS, json={"title": "Buy milk"}, headers=key("order-1")))


# Keys belong to their user


@pytest.fixture
async def authenticated(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings=WITH_TOKENS, storage=storage, clock=clock, new_id=new_id)
    async with AsyncTestClient(app) as test_client:
        yield test_client


# Minted when the module loads: valid for longer than the whole suite runs.
ADA = bearer(mint_with_secret(claims("ada", lifetime=3 * 3600)))
BOB = bearer(mint_with_secret(claims("bob", lifetime=3 * 3600)))


@pytest.mark.parametrize(
    "bobs_body", [{"title": "Buy milk"}, {"title": "Walk the dog"}], ids=["the same body", "another body"]
)
async def test_another_user_sending_the_same_key_creates_their_own_task_and_sees_nothing_of_the_first(
    authenticated: AsyncTestClient, bobs_body: dict[str, str]
) -> None:
    adas = await authenticated.post(TASKS, json={"title": "Buy milk"}, headers={**ADA, **key("shared-key")})

    bobs = await authenticated.post("/api/bob/tasks", json=bobs_body, headers={**BOB, **key("shared-key")})

    assert_fresh(adas)
    assert_fresh(bobs)
    assert bobs.json()["user_id"] == "bob"
    assert bobs.json()["title"] == bobs_body["title"]
    assert bobs.json()["id"] != adas.json()["id"]
    assert bobs.headers["location"] == f"/api/bob/tasks/{bobs.json()['id']}"
    assert await listed(authenticated, "bob", **BOB) == [bobs.json()]
    assert await listed(authenticated, "ada", **ADA) == [adas.json()]
    # And each one's key still replays their own request.
    assert_replays(
        bobs, await authenticated.post("/api/bob/tasks", json=bobs_body, headers={**BOB, **key("shared-key")})
    )


async def test_registering_under_a_key_another_user_used_registers_the_caller(authenticated: AsyncTestClient) -> None:
    adas = await authenticated.post(USERS, json={"email": "ada@example.com"}, headers={**ADA, **key("signup")})

    bobs = await authenticated.post(USERS, json={"email": "bob@example.com"}, headers={**BOB, **key("signup")})

    assert_fresh(adas)
    assert_fresh(bobs)
    assert (adas.json()["id"], bobs.json()["id"]) == ("ada", "bob")
    assert bobs.json()["email"] == "bob@example.com"


async def test_a_key_first_used_to_create_a_task_cannot_register_a_user(authenticated: AsyncTestClient) -> None:
    created = await authenticated.post(TASKS, json={"title": "Buy milk"}, headers={**ADA, **key("one-key")})
    assert_fresh(created)

    registering = await authenticated.post(USERS, json={"email": "ada@example.com"}, headers={**ADA, **key("one-key")})

    assert_error(registering, 422, "IDEMPOTENCY_KEY_REUSED")


# Users


async def test_a_registration_repeated_with_the_same_key_answers_the_same_user_and_registers_one(
    client: AsyncTestClient,
) -> None:
    body = {"email": "Grace@Example.com"}  # no id: the first request generates it

    first = await client.post(USERS, json=body, headers=key("signup-1"))
    repeat = await client.post(USERS, json=body, headers=key("signup-1"))

    assert_replays(first, repeat)
    assert first.headers["location"] == f"/api/users/{first.json()['id']}"
    stored = await client.get(first.headers["location"])
    assert (stored.status_code, stored.json()) == (200, first.json())
    # Had the repeat registered again, this email would be taken by a second user.
    again = await client.post(USERS, json={"email": "grace@example.com", "id": "grace2"})
    assert_error(again, 409, "EMAIL_TAKEN")


async def test_a_registration_under_a_used_key_with_another_email_is_refused_and_registers_nothing(
    client: AsyncTestClient,
) -> None:
    first = await client.post(USERS, json={"id": "grace", "email": "grace@example.com"}, headers=key("signup-1"))
    assert_fresh(first)

    reused = await client.post(USERS, json={"id": "grace2", "email": "other@example.com"}, headers=key("signup-1"))

    assert_error(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert (await client.get("/api/users/grace2")).status_code == 404
    assert_fresh(await client.post(USERS, json={"id": "grace2", "email": "other@example.com"}))


async def test_a_registration_refused_as_taken_stores_nothing_so_a_corrected_retry_registers(
    client: AsyncTestClient, api: Api
) -> None:
    await api.register("ada", "ada@example.com")

    taken = await client.post(USERS, json={"id": "grace", "email": "ada@example.com"}, headers=key("signup-1"))
    assert_error(taken, 409, "EMAIL_TAKEN")
    corrected = await client.post(USERS, json={"id": "grace", "email": "grace@example.com"}, headers=key("signup-1"))

    assert_fresh(corrected)
    assert corrected.json()["email"] == "grace@example.com"


@pytest.mark.parametrize("bad", BAD_KEYS.values(), ids=BAD_KEYS.keys())
async def test_a_registration_with_a_malformed_key_is_refused_naming_the_header_and_registers_nothing(
    client: AsyncTestClient, bad: bytes
) -> None:
    response = await client.post(USERS, json={"id": "grace", "email": "grace@example.com"}, headers=key(bad))

    details = assert_error(response, 400, "VALIDATION_ERROR")
    assert "Idempotency-Key" in details, details
    assert (await client.get("/api/users/grace")).status_code == 404


# Retention and purging


@pytest.mark.usefixtures("ada")
async def test_a_key_replays_until_its_retention_passes_and_then_creates_anew(
    client: AsyncTestClient, clock: TickingClock
) -> None:
    body = {"title": "Water the plants"}
    first = await client.post(TASKS, json=body, headers=key("daily"))

    clock.advance(RETENTION - timedelta(minutes=1))
    within = await client.post(TASKS, json=body, headers=key("daily"))
    clock.advance(timedelta(minutes=1))
    after = await client.post(TASKS, json=body, headers=key("daily"))
    repeat_of_after = await client.post(TASKS, json=body, headers=key("daily"))

    assert_replays(first, within)
    assert_fresh(after)
    assert after.json()["id"] != first.json()["id"]
    assert_replays(after, repeat_of_after)
    assert {task["id"] for task in await listed(client)} == {first.json()["id"], after.json()["id"]}


@pytest.mark.usefixtures("ada")
async def test_after_its_retention_a_key_may_carry_another_body(client: AsyncTestClient, clock: TickingClock) -> None:
    first = await client.post(TASKS, json={"title": "Water the plants"}, headers=key("daily"))
    clock.advance(RETENTION)

    other = await client.post(TASKS, json={"title": "Feed the cat"}, headers=key("daily"))

    assert_fresh(first)
    assert_fresh(other)
    assert other.json()["title"] == "Feed the cat"


async def test_a_longer_configured_retention_keeps_replaying_past_a_day(
    storage: Storage, clock: TickingClock, new_id: SequentialIds
) -> None:
    settings = Settings(auth="disabled", idempotency_retention_hours=48)
    app = create_app(settings=settings, storage=storage, clock=clock, new_id=new_id)
    async with AsyncTestClient(app) as client:
        await Api(client).register("ada")
        first = await client.post(TASKS, json={"title": "Water the plants"}, headers=key("daily"))
        clock.advance(timedelta(hours=47))
        within = await client.post(TASKS, json={"title": "Water the plants"}, headers=key("daily"))
        clock.advance(timedelta(hours=1))
        after = await client.post(TASKS, json={"title": "Water the plants"}, headers=key("daily"))

    assert_replays(first, within)
    assert_fresh(after)


async def test_purging_forgets_the_expired_keys_of_tasks_and_users_and_keeps_the_live_ones(
    client: AsyncTestClient, storage: Storage, clock: TickingClock, new_id: SequentialIds
) -> None:
    await Api(client).register("ada")
    old_task = await client.post(TASKS, json={"title": "Old"}, headers=key("old-task"))
    old_user = await client.post(USERS, json={"email": "old@example.com"}, headers=key("old-user"))
    clock.advance(timedelta(hours=12))
    live = await client.post(TASKS, json={"title": "Live"}, headers=key("live"))
    clock.advance(timedelta(hours=12))
    service = TaskService(storage, clock=clock, new_id=new_id)

    purged = await service.purge_idempotency_keys()
    purged_again = await UserService(storage, clock=clock, new_id=new_id).purge_idempotency_keys()

    for response in (old_task, old_user, live):
        assert_fresh(response)
    assert (purged, purged_again) == (2, 0)
    assert_replays(live, await client.post(TASKS, json={"title": "Live"}, headers=key("live")))
    assert_fresh(await client.post(TASKS, json={"title": "Old"}, headers=key("old-task")))


# The document


@pytest.mark.parametrize(("path", "operation_id"), [(TASKS, "createTask"), (USERS, "registerUser")])
async def test_the_openapi_document_describes_the_key_and_its_refusals(
    client: AsyncTestClient, path: str, operation_id: str
) -> None:
    document = (await client.get("/openapi.json")).json()
    templated = path.replace("/ada/", "/{user_id}/")

    operation = document["paths"][templated]["post"]

    assert operation["operationId"] == operation_id
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert headers["Idempotency-Key"].get("required", False) is False
    # The pattern a client can check a key against before sending it.
    assert headers["Idempotency-Key"]["schema"]["pattern"] == r"^[\u0020-\u007e]{1,255}$"
    assert {"409", "422"} <= set(operation["responses"])
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert "Idempotency-Key" in operation["description"]


# Browsers on an allowed origin

BROWSER_ORIGIN = "https://app.example"


@pytest.fixture
async def cross_origin(clock: TickingClock, new_id: SequentialIds) -> AsyncIterator[AsyncTestClient]:
    # What a browser may see depends on the headers alone, not on where the data lives.
    settings = Settings(auth="disabled", cors_origins=(BROWSER_ORIGIN,))
    app = create_app(settings=settings, storage=InMemoryStorage(), clock=clock, new_id=new_id)
    async with AsyncTestClient(app) as test_client:
        await Api(test_client).register("ada")
        yield test_client


def exposed(response: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in response.headers.get("access-control-expose-headers", "").split(",")}


async def test_a_browser_on_an_allowed_origin_may_send_the_key(cross_origin: AsyncTestClient) -> None:
    preflight = await cross_origin.options(
        TASKS,
        headers={
            "Origin": BROWSER_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key",
        },
    )

    assert 200 <= preflight.status_code < 300
    allowed = {name.strip().lower() for name in preflight.headers["access-control-allow-headers"].split(",")}
    assert "idempotency-key" in allowed


async def test_a_browser_on_an_allowed_origin_may_read_whether_an_answer_was_replayed(
    cross_origin: AsyncTestClient,
) -> None:
    browser = {"Origin": BROWSER_ORIGIN, **key("order-1")}
    await cross_origin.post(TASKS, json={"title": "Buy milk"}, headers=browser)

    repeat = await cross_origin.post(TASKS, json={"title": "Buy milk"}, headers=browser)

    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.headers["access-control-allow-origin"] == BROWSER_ORIGIN
    assert "idempotent-replayed" in exposed(repeat)
