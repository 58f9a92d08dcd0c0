"""Every response carries an ``X-Request-ID`` (the client's own when it is sane, else a new one),
and every request is logged once, as one JSON line when asked, with its id, method, route
template, status and duration, and never with a token, a body or a query string.

The logs are read the way an operator reads them: what ``configure_logging`` writes to stderr.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from tests.e2e.server import free_port
from tests.faults.process import serving_process, until
from tests.tokens import AUDIENCE, ISSUER, SECRET, bearer, claims, mint_with_secret
from todo_adapters.http import create_app
from todo_adapters.http.observability import configure_logging
from todo_adapters.memory import InMemoryStorage
from todo_adapters.postgres import PoolSettings, PostgresStorage
from todo_adapters.settings import Settings

SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
NO_AUTH = Settings(auth="disabled")
SECRET_AUTH = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
TASK = "00000000-0000-7000-8000-000000000001"


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient]:
    """This module's client: the app over memory, without authentication; ada is registered."""
    async with AsyncTestClient(create_app(settings=NO_AUTH, storage=InMemoryStorage())) as client:
        registered = await client.post("/api/users", json={"id": "ada", "email": "ada@example.com"})
        assert registered.status_code == 201
        yield client


def request_ids(response: Any) -> list[str]:
    return list(response.headers.get_list("x-request-id"))


# --- X-Request-ID --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    ["abc", "req-42", "a.b:c_d-e", "0f8fad5b-d9cb-469f-a165-70867728950e", "A" * 128, "trace:span.1"],
)
async def test_a_sane_request_id_from_the_client_is_echoed(client: AsyncTestClient, sent: str) -> None:
    response = await client.get("/api/ada/tasks", headers={"X-Request-ID": sent})
    assert response.status_code == 200
    assert request_ids(response) == [sent]


async def test_without_a_request_id_each_response_gets_a_new_one(client: AsyncTestClient) -> None:
    first, second = await client.get("/health"), await client.get("/health")
    (first_id,), (second_id,) = request_ids(first), request_ids(second)
    assert SANE.fullmatch(first_id)
    assert SANE.fullmatch(second_id)
    assert first_id != second_id


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param("A" * 129, id="too-long"),
        pytest.param("", id="empty"),
        pytest.param("has space", id="space"),
        pytest.param("semi;colon", id="semicolon"),
        pytest.param("a/b", id="slash"),
        pytest.param('"quoted"', id="quotes"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("line\tbreak", id="tab"),
        pytest.param("caf\xc3\xa9".encode("latin-1"), id="utf-8"),
        pytest.param(b"nul\x01byte", id="control"),
    ],
)
async def test_a_request_id_that_is_not_sane_is_replaced_by_a_new_one(
    client: AsyncTestClient, sent: str | bytes
) -> None:
    response = await client.get("/api/ada/tasks", headers={"X-Request-ID": sent})
    assert response.status_code == 200
    (replaced,) = request_ids(response)
    assert SANE.fullmatch(replaced)
    assert replaced.encode() != (sent if isinstance(sent, bytes) else sent.encode())


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        pytest.param("GET", "/no/such/route", None, 404, id="no-route"),
        pytest.param("GET", f"/api/ada/tasks/{TASK}", None, 404, id="no-task"),
        pytest.param("DELETE", "/health", None, 405, id="method-not-allowed"),
        pytest.param("POST", "/api/ada/tasks", {"title": ""}, 400, id="invalid-body"),
        pytest.param("POST", "/api/ada/tasks", {"title": "x" * 70_000}, 413, id="body-too-large"),
    ],
)
async def test_error_responses_carry_the_request_id_too(
    client: AsyncTestClient, method: str, path: str, body: dict[str, str] | None, status: int
) -> None:
    echoed = await client.request(method, path, json=body, headers={"X-Request-ID": "err-1"})
    generated = await client.request(method, path, json=body)
    assert (echoed.status_code, generated.status_code) == (status, status)
    assert request_ids(echoed) == ["err-1"]
    (new_id,) = request_ids(generated)
    assert SANE.fullmatch(new_id)


async def test_a_503_while_storage_is_down_carries_the_request_id() -> None:
    nowhere = PostgresStorage(f"postgresql://postgres@127.0.0.1:{free_port()}/x", PoolSettings(timeout=0.5))
    await nowhere.open()
    try:
        async with AsyncTestClient(create_app(settings=NO_AUTH, storage=nowhere)) as client:
            response = await client.get("/api/ada/tasks", headers={"X-Request-ID": "outage-1"})
    finally:
        await nowhere.close()
    assert response.status_code == 503
    assert request_ids(response) == ["outage-1"]


# --- access logs ---------------------------------------------------------------------------


@dataclass
class Logs:
    text: str = ""
    """Every line the service wrote to stderr (the test's own HTTP client logs its URLs: those are left out)."""
    access: list[dict[str, Any]] = field(default_factory=list)
    """The access log lines, parsed."""


@contextmanager
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    """Logging as ``todo serve`` sets it up with TODO_LOG_FORMAT=json, for the duration of the block."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    capsys.readouterr()
    configure_logging(level="info", json_lines=True)
    logs = Logs()
    try:
        yield logs
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = capsys.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    logs.text = "\n".join(line for line, record in zip(lines, records, strict=True) if record["logger"] != "httpx")
    logs.access = [record for record in records if record["logger"] == "todo.access"]


async def test_each_request_is_logged_once_as_a_json_line_with_id_method_route_status_and_duration(
    client: AsyncTestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    with json_logs(capsys) as logs:
        created = await client.post("/api/ada/tasks", json={"title": "Write"}, headers={"X-Request-ID": "create-1"})
        task_id = created.json()["id"]
        read = await client.get(f"/api/ada/tasks/{task_id}", headers={"X-Request-ID": "read-1"})
        missing = await client.get("/no/such/route")

    assert (created.status_code, read.status_code, missing.status_code) == (201, 200, 404)
    shown = [(line["request_id"], line["method"], line["route"], line["status"]) for line in logs.access]
    assert shown == [
        ("create-1", "POST", "/api/{user_id}/tasks", 201),
        ("read-1", "GET", "/api/{user_id}/tasks/{task_id}", 200),
        (request_ids(missing)[0], "GET", "(no route)", 404),
    ]
    for line in logs.access:
        assert isinstance(line["duration_ms"], int | float)
        assert line["duration_ms"] >= 0
        assert line["level"] == "INFO"
        assert line["time"]


async def test_access_logs_hold_no_token_no_body_and_no_query_string(capsys: pytest.CaptureFixture[str]) -> None:
    token = mint_with_secret(claims("ada"))
    forged = mint_with_secret(claims("ada"), secret="another-secret-that-is-long-enough-too!!")
    query_text = "query-text-not-for-logs"
    body_text = f"body-text-not-for-logs holding {query_text}"

    with json_logs(capsys) as logs:
        async with AsyncTestClient(create_app(settings=SECRET_AUTH, storage=InMemoryStorage())) as client:
            answers = [
                await client.post("/api/users", json={"email": "ada@example.com"}, headers=bearer(token)),
                await client.post("/api/ada/tasks", json={"title": body_text}, headers=bearer(token)),
                await client.get(f"/api/ada/tasks?q={query_text}&limit=5", headers=bearer(token)),
                await client.post(f"/api/ada/tasks?note={query_text}", json={"title": ""}, headers=bearer(token)),
                await client.get(f"/api/ada/tasks?q={query_text}", headers=bearer(forged)),
                await client.get(f"/no/such/route?q={query_text}", headers=bearer(token)),
            ]

    assert [answer.status_code for answer in answers] == [201, 201, 200, 400, 401, 404]
    assert [line["status"] for line in logs.access] == [201, 201, 200, 400, 401, 404]
    assert body_text in answers[2].text  # the search found the task: the query really carried the text
    for secret in (token, forged, token.split(".")[2], forged.split(".")[2], body_text, query_text, "limit=5"):
        assert secret not in logs.text, secret
    assert [line["route"] for line in logs.access if "?" in line["route"] or "?" in line["message"]] == []


def test_todo_serve_with_json_logs_writes_one_json_object_per_line_and_no_secrets() -> None:
    query_text = "query-text-not-for-logs"
    body_text = f"body-text-not-for-logs holding {query_text}"
    token = "token-text-not-for-logs"
    env = {"TODO_DATABASE_URL": "", "TODO_LOG_FORMAT": "json"}  # an empty URL: in memory
    with serving_process(env) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        answers = [
            client.post("/api/users", json={"id": "ada", "email": "ada@example.com"}),
            client.post("/api/ada/tasks", json={"title": body_text}, headers=bearer(token)),
            client.get(f"/api/ada/tasks?q={query_text}", headers={**bearer(token), "X-Request-ID": "search-1"}),
        ]
        until(lambda: '"search-1"' in server.output(), within=5.0, what="the last request's access log line")
        output = server.output()

    assert [answer.status_code for answer in answers] == [201, 201, 200]
    assert body_text in answers[2].text
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [record for record in records if record["logger"] == "todo.access"]
    shown = [(record["method"], record["route"], record["status"]) for record in access if record["route"] != "/health"]
    assert shown == [
        ("POST", "/api/users", 201),
        ("POST", "/api/{user_id}/tasks", 201),
        ("GET", "/api/{user_id}/tasks", 200),
    ]
    assert access[-1]["request_id"] == "search-1"
    for secret in (token, body_text, query_text):
        assert secret not in output, secret
