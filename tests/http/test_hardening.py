"""What the service does to protect itself and its callers beyond authorisation: rate limits, CORS,
no caching of user data, no server banner, a cap on body size, and crashes that tell nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from tests.http.conftest import assert_error
from tests.tokens import AUDIENCE, ISSUER, SECRET, bearer, claims, mint_with_secret
from todo_adapters.http import create_app
from todo_adapters.memory import InMemoryStorage
from todo_adapters.settings import Settings
from todo_core import Storage, TaskRepository, UnitOfWork, UserRepository

SETTINGS = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
# The limiter's windows are aligned to the wall clock, and a call made just after a window
# boundary is weighed against the previous window's count at a little under its full weight.
# With a day-long window, a test's few quick calls cannot straddle a boundary in practice.
LIMITED = replace(SETTINGS, rate_limit="5/day")
DAY = 86_400
RATE_LIMIT_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy")

ALLOWED_ORIGIN = "https://app.example"
WITH_CORS = replace(SETTINGS, cors_origins=(ALLOWED_ORIGIN,))
PREFLIGHT = {
    "Origin": ALLOWED_ORIGIN,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, if-match, content-type",
}

MISSING_TASK = "00000000-0000-7000-8000-0000000000ff"
JSON = {"Content-Type": "application/json"}
SMALL_BODIES = replace(SETTINGS, max_body_bytes=2048)


def auth(user: str) -> dict[str, str]:
    return bearer(mint_with_secret(claims(user)))


@asynccontextmanager
async def serving(settings: Settings, storage: Storage | None = None) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(create_app(settings=settings, storage=storage or InMemoryStorage())) as client:
        yield client


def directives(response: Response, header: str) -> set[str]:
    return {item.strip().lower() for item in response.headers.get(header, "").split(",") if item.strip()}


# Rate limiting


async def test_without_a_configured_limit_fifty_quick_calls_are_all_served() -> None:
    async with serving(SETTINGS) as client:
        responses = [await client.get("/api/ada/tasks", headers=auth("ada")) for _ in range(50)]
    assert {response.status_code for response in responses} == {200}
    assert not any(name in response.headers for response in responses for name in RATE_LIMIT_HEADERS)


async def test_the_sixth_call_within_the_window_answers_429_saying_when_to_retry() -> None:
    async with serving(LIMITED) as client:
        served = [await client.get("/api/ada/tasks", headers=auth("ada")) for _ in range(5)]
        refused = await client.get("/api/ada/tasks", headers=auth("ada"))
    assert [response.status_code for response in served] == [200] * 5
    assert_error(refused, 429, "RATE_LIMITED")
    assert 1 <= int(refused.headers["retry-after"]) <= DAY
    assert refused.headers["ratelimit-limit"] == "5"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 0 <= int(refused.headers["ratelimit-reset"]) <= DAY
    assert refused.headers["ratelimit-policy"] == f"5;w={DAY}"


async def test_served_calls_count_the_remaining_calls_down() -> None:
    async with serving(LIMITED) as client:
        responses = [await client.get("/api/ada/tasks", headers=auth("ada")) for _ in range(5)]
    assert [response.headers["ratelimit-remaining"] for response in responses] == ["4", "3", "2", "1", "0"]
    assert {response.headers["ratelimit-limit"] for response in responses} == {"5"}
    assert {response.headers["ratelimit-policy"] for response in responses} == {f"5;w={DAY}"}


async def test_the_limit_is_per_caller_so_another_user_is_still_served() -> None:
    async with serving(LIMITED) as client:
        for _ in range(5):
            await client.get("/api/ada/tasks", headers=auth("ada"))
        assert_error(await client.get("/api/ada/tasks", headers=auth("ada")), 429, "RATE_LIMITED")
        grace = await client.get("/api/grace/tasks", headers=auth("grace"))
    assert grace.status_code == 200
    assert grace.headers["ratelimit-remaining"] == "4"


async def test_a_call_to_another_users_path_counts_against_the_caller_and_says_what_is_left() -> None:
    async with serving(LIMITED) as client:
        refused = await client.get("/api/grace/tasks", headers=auth("ada"))
        own = await client.get("/api/ada/tasks", headers=auth("ada"))
    assert_error(refused, 403, "FORBIDDEN")
    assert refused.headers["ratelimit-remaining"] == "4"
    assert own.headers["ratelimit-remaining"] == "3"


async def test_a_call_refused_by_the_limit_is_not_carried_out() -> None:
    storage = InMemoryStorage()
    async with serving(LIMITED, storage) as client:
        for number in range(5):
            created = await client.post("/api/ada/tasks", json={"title": f"task {number}"}, headers=auth("ada"))
            assert created.status_code == 201
        refused = await client.post("/api/ada/tasks", json={"title": "one too many"}, headers=auth("ada"))
    assert_error(refused, 429, "RATE_LIMITED")
    async with serving(SETTINGS, storage) as client:
        titles = [task["title"] for task in (await client.get("/api/ada/tasks", headers=auth("ada"))).json()]
    assert sorted(titles) == [f"task {number}" for number in range(5)]


async def test_public_routes_are_never_limited_even_for_a_caller_who_is() -> None:
    async with serving(LIMITED) as client:
        for _ in range(5):
            await client.get("/api/ada/tasks", headers=auth("ada"))
        assert_error(await client.get("/api/ada/tasks", headers=auth("ada")), 429, "RATE_LIMITED")
        public = [
            await client.get(path, headers=headers)
            for path in ("/health", "/openapi.json", "/docs")
            for headers in ({}, auth("ada"))
            for _ in range(10)
        ]
    assert {response.status_code for response in public} == {200}
    assert not any(name in response.headers for response in public for name in RATE_LIMIT_HEADERS)


async def test_public_calls_do_not_use_up_a_callers_allowance() -> None:
    async with serving(LIMITED) as client:
        for _ in range(20):
            assert (await client.get("/health", headers=auth("ada"))).status_code == 200
        first = await client.get("/api/ada/tasks", headers=auth("ada"))
    assert (first.status_code, first.headers["ratelimit-remaining"]) == (200, "4")


async def test_without_authentication_calls_from_one_address_share_one_limit() -> None:
    async with serving(Settings(auth="disabled", rate_limit="5/day")) as client:
        responses = [await client.get(f"/api/{user}/tasks") for user in ("ada", "grace", "hedy") * 2]
    assert [response.status_code == 429 for response in responses] == [False] * 5 + [True]
    assert_error(responses[-1], 429, "RATE_LIMITED")


async def test_calls_without_a_valid_token_are_limited_by_address_too() -> None:
    async with serving(LIMITED) as client:
        responses = [await client.get("/api/ada/tasks", headers={"Authorization": "Bearer guess"}) for _ in range(6)]
    assert [response.status_code for response in responses] == [401] * 5 + [429]


# CORS


async def test_without_configured_origins_no_answer_allows_a_browser_origin() -> None:
    async with serving(SETTINGS) as client:
        responses = [
            await client.options("/api/ada/tasks", headers=PREFLIGHT),
            await client.get("/api/ada/tasks", headers={"Origin": ALLOWED_ORIGIN, **auth("ada")}),
            await client.get("/api/ada/tasks", headers={"Origin": ALLOWED_ORIGIN}),
            await client.get("/health", headers={"Origin": ALLOWED_ORIGIN}),
        ]
    assert [response.headers.get("access-control-allow-origin") for response in responses] == [None] * 4


@pytest.mark.parametrize("path", [f"/api/ada/tasks/{MISSING_TASK}", f"/api/ada/tasks/{MISSING_TASK}/complete",
                                  f"/users/ada/tasks/{MISSING_TASK}", "/api/ada/tasks"])  # fmt: skip
async def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token_and_allows_patch(path: str) -> None:
    async with serving(WITH_CORS) as client:
        response = await client.options(path, headers=PREFLIGHT)
    assert 200 <= response.status_code < 300
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "patch" in directives(response, "access-control-allow-methods")
    assert {"authorization", "if-match", "content-type"} <= directives(response, "access-control-allow-headers")


async def test_answers_to_an_allowed_origin_allow_it_and_let_it_read_the_etag() -> None:
    async with serving(WITH_CORS) as client:
        browser = {"Origin": ALLOWED_ORIGIN, **auth("ada")}
        created = await client.post("/api/ada/tasks", json={"title": "Write"}, headers=browser)
        fetched = await client.get(f"/api/ada/tasks/{created.json()['id']}", headers=browser)
        refused = await client.get("/api/ada/tasks", headers={"Origin": ALLOWED_ORIGIN})
    assert (created.status_code, fetched.status_code) == (201, 200)
    assert_error(refused, 401, "UNAUTHENTICATED")  # and the web app may read why
    for response in (created, fetched, refused):
        assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
        assert {"etag", "location"} <= directives(response, "access-control-expose-headers")
    assert fetched.headers["etag"] == created.headers["etag"]


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://app.example", "https://app.example:8443", "https://app.example.evil.example",
     "https://evil-app.example", "null"],
)  # fmt: skip
async def test_other_origins_are_never_allowed(origin: str) -> None:
    async with serving(WITH_CORS) as client:
        preflight = await client.options("/api/ada/tasks", headers={**PREFLIGHT, "Origin": origin})
        actual = await client.get("/api/ada/tasks", headers={"Origin": origin, **auth("ada")})
    assert "access-control-allow-origin" not in preflight.headers
    assert not 200 <= preflight.status_code < 300
    assert actual.status_code == 200  # served, but a browser will not let the other origin's page read it
    assert "access-control-allow-origin" not in actual.headers


@pytest.mark.parametrize(
    ("preflight", "refused"),
    [
        ({"Origin": "https://evil.example"}, {"Origin"}),
        ({"Access-Control-Request-Method": "TRACE"}, {"Access-Control-Request-Method"}),
        ({"Access-Control-Request-Headers": "authorization, x-debug"}, {"Access-Control-Request-Headers"}),
        ({"Origin": "null", "Access-Control-Request-Method": "TRACE"}, {"Origin", "Access-Control-Request-Method"}),
    ],
)
async def test_a_refused_preflight_answers_in_the_one_error_body_naming_what_is_refused(
    preflight: dict[str, str], refused: set[str]
) -> None:
    async with serving(WITH_CORS) as client:
        response = await client.options("/api/ada/tasks", headers={**PREFLIGHT, **preflight})
    details = assert_error(response, 400, "CORS_REFUSED")
    assert set(details) == refused
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["x-request-id"]
    assert "no-store" in directives(response, "cache-control")
    if "Access-Control-Request-Method" in refused:
        assert "PATCH" in details["Access-Control-Request-Method"]  # says what is allowed instead


# What every answer carries, and does not


class _BrokenStorage:
    """A storage whose every unit of work fails, as a bug in an adapter would."""

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        raise RuntimeError("postgresql://todo:hunter2@db.internal:5432/todo failed at /srv/todo/app/db.py:42")
        yield


async def _sampled_responses() -> dict[str, Response]:
    """One answer of each kind the data routes give, by a label naming it."""
    storage = InMemoryStorage()
    ada, grace = auth("ada"), auth("grace")
    sample: dict[str, Response] = {}
    async with serving(SETTINGS, storage) as client:
        sample["201 registered"] = await client.post("/api/users", json={"email": "a@example.com"}, headers=ada)
        sample["201 created"] = created = await client.post("/api/ada/tasks", json={"title": "Write"}, headers=ada)
        task = f"/api/ada/tasks/{created.json()['id']}"
        sample["200 task"] = await client.get(task, headers=ada)
        sample["304 not modified"] = await client.get(task, headers={**ada, "If-None-Match": created.headers["etag"]})
        sample["200 list"] = await client.get("/api/ada/tasks", headers=ada)
        sample["200 list (deprecated path)"] = await client.get("/users/ada/tasks", headers=ada)
        sample["200 replaced"] = await client.put(task, json={"title": "Rewrite"}, headers=ada)
        sample["200 patched"] = await client.patch(task, json={"title": "Edit"}, headers=ada)
        sample["200 completed"] = await client.patch(f"{task}/complete", headers=ada)
        sample["200 user"] = await client.get("/api/users/ada", headers=ada)
        sample["204 options"] = await client.options(task, headers=ada)
        sample["400 invalid"] = await client.post("/api/ada/tasks", json={"title": ""}, headers=ada)
        sample["401 no token"] = await client.get(task)
        sample["401 bad token"] = await client.get(task, headers={"Authorization": "Bearer not-a-jwt"})
        sample["403 another user's path"] = await client.get(task, headers=grace)
        sample["404 task"] = await client.get(f"/api/ada/tasks/{MISSING_TASK}", headers=ada)
        sample["404 no route"] = await client.get("/nowhere", headers=ada)
        sample["405 method"] = await client.put("/api/ada/tasks", json={"title": "x"}, headers=ada)
        sample["409 taken"] = await client.post("/api/users", json={"email": "b@example.com"}, headers=ada)
        sample["412 stale"] = await client.patch(task, json={"title": "x"}, headers={**ada, "If-Match": '"1"'})
        sample["413 too large"] = await client.post(
            "/api/ada/tasks", content=b'{"title": "' + b"x" * 70_000 + b'"}', headers={**ada, **JSON}
        )
        sample["415 not json"] = await client.post(
            "/api/ada/tasks", content=b"title=x", headers={**ada, "Content-Type": "text/plain"}
        )
        sample["204 deleted"] = await client.delete(task, headers=ada)
        sample["204 user deleted"] = await client.delete("/api/users/ada", headers=ada)
    async with serving(replace(SETTINGS, rate_limit="1/day"), storage) as client:
        await client.get("/api/grace/tasks", headers=grace)
        sample["429 limited"] = await client.get("/api/grace/tasks", headers=grace)
    async with serving(SETTINGS, _BrokenStorage()) as client:
        sample["500 crash"] = await client.get("/api/ada/tasks", headers=ada)
    statuses = {label: response.status_code for label, response in sample.items()}
    assert statuses == {label: int(label[:3]) for label in sample}, "the sample did not get what it meant to"
    return sample


async def test_no_answer_of_a_data_route_may_be_cached_errors_included() -> None:
    sample = await _sampled_responses()
    cacheable = {label: response.headers.get("cache-control") for label, response in sample.items()
                 if "no-store" not in directives(response, "cache-control")}  # fmt: skip
    assert cacheable == {}


async def test_no_answer_names_the_server_software() -> None:
    sample = await _sampled_responses()
    async with serving(WITH_CORS) as client:
        sample["health"] = await client.get("/health")
        sample["openapi"] = await client.get("/openapi.json")
        sample["preflight"] = await client.options("/api/ada/tasks", headers=PREFLIGHT)
    banners = {label: response.headers.get_list("server") + response.headers.get_list("x-powered-by")
               for label, response in sample.items()}  # fmt: skip
    assert {label: banner for label, banner in banners.items() if banner} == {}


# Body size


async def test_a_body_over_the_default_limit_answers_413_and_creates_nothing() -> None:
    async with serving(SETTINGS) as client:
        body = b'{"title": "x", "description": "' + b"d" * 70_000 + b'"}'
        response = await client.post("/api/ada/tasks", content=body, headers={**auth("ada"), **JSON})
        listing = await client.get("/api/ada/tasks", headers=auth("ada"))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert listing.json() == []


BODY_ROUTES = {  # route: a body it accepts
    "POST /api/ada/tasks": {"title": "x"},
    "PUT /api/ada/tasks/{task}": {"title": "x"},
    "PATCH /api/ada/tasks/{task}": {"title": "x"},
    "PATCH /users/ada/tasks/{task}": {"title": "x"},
    "PATCH /api/ada/tasks/{task}/complete": {"completed": True},
    "POST /api/users": {"email": "ada@example.com"},
}


@pytest.mark.parametrize(("route", "fields"), BODY_ROUTES.items(), ids=list(BODY_ROUTES))
async def test_the_configured_body_limit_holds_on_every_route_that_takes_a_body(
    route: str, fields: dict[str, Any]
) -> None:
    method, path = route.split()
    async with serving(SMALL_BODIES) as client:
        task = await client.post("/api/ada/tasks", json={"title": "Write"}, headers=auth("ada"))
        url = path.format(task=task.json()["id"])
        padded = {**fields, "padding": "p" * 3000}  # an unknown field: refused with 400 if the body got that far
        response = await client.request(method, url, json=padded, headers=auth("ada"))
        after = await client.get(f"/api/ada/tasks/{task.json()['id']}", headers=auth("ada"))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert after.json() == task.json()


async def test_a_body_just_under_the_configured_limit_is_accepted() -> None:
    async with serving(SMALL_BODIES) as client:
        body = {"title": "x", "description": "d" * 1900}
        response = await client.post("/api/ada/tasks", json=body, headers=auth("ada"))
    assert response.status_code == 201


async def test_a_body_larger_than_its_content_length_claims_still_answers_413() -> None:
    async with serving(SETTINGS) as client:
        body = b'{"title": "x", "description": "' + b"d" * 70_000 + b'"}'
        headers = {**auth("ada"), **JSON, "Content-Length": "20"}
        response = await client.post("/api/ada/tasks", content=body, headers=headers)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


# Crashes

LEAKY = (
    "SELECT id, title FROM tasks WHERE user_id = 'ada' -- postgresql://todo:hunter2@db.internal:5432/todo "
    'File "/srv/todo/src/todo_adapters/postgres/tasks.py", line 42'
)
LEAKS = ("hunter2", "postgresql", "db.internal", "SELECT", "FROM tasks", "/srv/", ".py", "Traceback", "line 42",
         "RuntimeError", "UndefinedTable", "FileNotFoundError", "psycopg", "site-packages")  # fmt: skip


class _BrokenTasks:
    """A task repository whose every call fails, as a bug in an adapter would."""

    def __init__(self, failure: Callable[[], Exception]) -> None:
        self._failure = failure

    def __getattr__(self, name: str) -> Any:
        raise self._failure()


class _StorageWithBrokenTasks:
    """Users are kept in memory as usual; anything touching tasks fails."""

    def __init__(self, failure: Callable[[], Exception]) -> None:
        self._storage = InMemoryStorage()
        self._failure = failure

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self._storage.unit_of_work() as work:
            yield _UnitOfWorkWithBrokenTasks(work, _BrokenTasks(self._failure))


class _UnitOfWorkWithBrokenTasks:
    def __init__(self, work: UnitOfWork, tasks: Any) -> None:
        self._work = work
        self._tasks = tasks

    @property
    def users(self) -> UserRepository:
        return self._work.users

    @property
    def tasks(self) -> TaskRepository:
        return self._tasks

    def atomic(self) -> Any:
        return self._work.atomic()


FAILURES: dict[str, Callable[[], Exception]] = {
    "runtime error": lambda: RuntimeError(LEAKY),
    "driver error": lambda: psycopg.errors.UndefinedTable(LEAKY),
    "missing file": lambda: FileNotFoundError(2, "No such file or directory", "/srv/todo/secrets/db.py"),
}


CRASHING_ROUTES: dict[str, dict[str, str] | None] = {  # route: its body
    "GET /api/ada/tasks": None,
    "POST /api/ada/tasks": {"title": "Write"},
    f"GET /api/ada/tasks/{MISSING_TASK}": None,
    f"PATCH /users/ada/tasks/{MISSING_TASK}/complete": None,
}


@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
@pytest.mark.parametrize(("route", "body"), CRASHING_ROUTES.items(), ids=list(CRASHING_ROUTES))
async def test_a_crash_inside_a_request_answers_500_and_tells_nothing_about_the_internals(
    failure: Callable[[], Exception], route: str, body: dict[str, str] | None
) -> None:
    method, path = route.split()
    async with serving(SETTINGS, _StorageWithBrokenTasks(failure)) as client:
        response = await client.request(method, path, json=body, headers=auth("ada"))
    assert assert_error(response, 500, "INTERNAL_ERROR") == {}
    assert "no-store" in directives(response, "cache-control")
    assert [leak for leak in LEAKS if leak.lower() in response.text.lower()] == []


async def test_a_crash_while_signing_a_caller_in_answers_500_and_tells_nothing_about_the_internals() -> None:
    async with serving(SETTINGS, _BrokenStorage()) as client:
        response = await client.get("/api/ada/tasks", headers=auth("ada"))
    assert assert_error(response, 500, "INTERNAL_ERROR") == {}
    assert [leak for leak in LEAKS if leak.lower() in response.text.lower()] == []
