"""Every failure answers with the one error body, the right status and an actionable message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.http.conftest import Api, assert_error
from todo_adapters.http import create_app
from todo_adapters.settings import Settings
from todo_core import UnitOfWork

NO_AUTH = Settings(auth="disabled")

MISSING_TASK = "00000000-0000-7000-8000-0000000000ff"


@pytest.fixture
async def task_url(api: Api) -> str:
    await api.register("ada")
    task = await api.create("ada")
    return f"/api/ada/tasks/{task['id']}"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": 7}, "title"), ({"title": "x", "description": ["a"]}, "description"), ({}, "title"),
     ({"title": None}, "title"), ({"title": "x" * 256}, "title"), ({"title": " \t "}, "title"),
     ({"title": "x", "description": "d" * 10_001}, "description"), ({"title": "nul \x00"}, "title"),
     ({"title": "x", "id": "00000000-0000-7000-8000-000000000001"}, "id"),
     ({"title": "x", "user_id": "grace"}, "user_id"),
     ({"title": "x", "version": 9}, "version"), ({"title": "x", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
     ({"title": "x", "completed": True}, "completed")],
)  # fmt: skip
async def test_a_bad_create_body_answers_400_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    await api.register("ada")
    details = assert_error(await api.client.post("/api/ada/tasks", json=body), 400, "VALIDATION_ERROR")
    assert field in details


@pytest.mark.parametrize(
    ("body", "field"),
    [({"title": 1}, "title"), ({"completed": "yes"}, "completed"), ({"title": None}, "title"),
     ({"version": 2}, "version"), ({"title": "", "description": "d" * 10_001}, "title")],
)  # fmt: skip
async def test_a_bad_patch_answers_400_and_leaves_the_task_alone(
    api: Api, task_url: str, body: dict[str, Any], field: str
) -> None:
    before = (await api.client.get(task_url)).json()
    assert field in assert_error(await api.client.patch(task_url, json=body), 400, "VALIDATION_ERROR")
    assert (await api.client.get(task_url)).json() == before


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PATCH", "", {"completed": 0}), ("PATCH", "", {"completed": "true"}),
     ("PUT", "", {"title": "x", "completed": 1}), ("PUT", "", {"title": "x", "completed": "false"}),
     ("PATCH", "/complete", {"completed": "1"}), ("PATCH", "/complete", {"completed": 0})],
)  # fmt: skip
async def test_a_value_that_only_reads_as_a_boolean_is_refused_before_any_precondition(
    api: Api, task_url: str, method: str, suffix: str, body: dict[str, Any]
) -> None:
    before = (await api.client.get(task_url)).json()
    response = await api.client.request(method, task_url + suffix, json=body, headers={"If-Match": '"99"'})
    assert assert_error(response, 400, "VALIDATION_ERROR") == {
        "completed": f"Expected `bool`, got `{_json_type(body)}`"
    }
    assert (await api.client.get(task_url)).json() == before


def _json_type(body: dict[str, Any]) -> str:
    return "int" if isinstance(body["completed"], int) else "str"


@pytest.mark.parametrize("content", [b"{", b"not json", b'{"title": "x",}', b"[]", b'"title"', b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_answers_400(api: Api, content: bytes) -> None:
    await api.register("ada")
    response = await api.client.post("/api/ada/tasks", content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_a_missing_body_answers_400(api: Api) -> None:
    await api.register("ada")
    response = await api.client.post("/api/ada/tasks")
    assert assert_error(response, 400, "VALIDATION_ERROR") == {"body": "is required"}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/json; charset=latin-1", ""],
)  # fmt: skip
async def test_a_body_that_is_not_sent_as_json_answers_415(api: Api, content_type: str) -> None:
    await api.register("ada")
    headers = {"Content-Type": content_type} if content_type else {}
    response = await api.client.post("/api/ada/tasks", content=b'{"title": "x"}', headers=headers)
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
async def test_json_media_types_with_parameters_or_suffixes_are_accepted(api: Api, content_type: str) -> None:
    await api.register("ada")
    response = await api.client.post(
        "/api/ada/tasks", content=b'{"title": "x"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 201


async def test_a_body_over_the_size_limit_answers_413(api: Api) -> None:
    await api.register("ada")
    body = b'{"title": "x", "description": "' + b"d" * 70_000 + b'"}'
    response = await api.client.post("/api/ada/tasks", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("task_id", ["not-a-uuid", "123", "00000000-0000-7000-8000-00000000000g"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_a_malformed_task_id_answers_400(api: Api, method: str, task_id: str) -> None:
    await api.register("ada")
    body = {"title": "x"} if method in {"PUT", "PATCH"} else None
    response = await api.client.request(method, f"/api/ada/tasks/{task_id}", json=body)
    assert "task_id" in assert_error(response, 400, "VALIDATION_ERROR")


async def test_a_malformed_user_id_in_the_path_answers_400(api: Api) -> None:
    response = await api.client.get(f"/api/{'u' * 65}/tasks")
    assert "user_id" in assert_error(response, 400, "VALIDATION_ERROR")


async def test_a_missing_task_answers_404_under_every_method(api: Api) -> None:
    await api.register("ada")
    url = f"/api/ada/tasks/{MISSING_TASK}"
    for method, suffix, body in [("GET", "", None), ("PUT", "", {"title": "x"}), ("PATCH", "", {"title": "x"}),
                                 ("PATCH", "/complete", None), ("DELETE", "", None)]:  # fmt: skip
        assert_error(await api.client.request(method, url + suffix, json=body), 404, "TASK_NOT_FOUND")


async def test_an_unknown_route_answers_404_in_the_error_body(client: AsyncTestClient) -> None:
    for path in ("/nowhere", "/api", "/api/ada/tasks/x/y/z", "/"):
        assert_error(await client.get(path), 404, "NOT_FOUND")


async def test_an_unsupported_method_answers_405_with_allow(client: AsyncTestClient) -> None:
    response = await client.put("/api/ada/tasks")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, OPTIONS, POST"
    assert response.json()["error"]["message"] == "PUT is not allowed here; allowed: GET, OPTIONS, POST."


class _BrokenStorage:
    """A storage whose every unit of work fails, as a bug in an adapter would."""

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        raise RuntimeError("connection string postgresql://admin:hunter2@db/prod failed at /srv/app/db.py:42")
        yield


async def test_a_crash_answers_500_without_internals() -> None:
    app = create_app(settings=NO_AUTH, storage=_BrokenStorage())
    async with AsyncTestClient(app) as client:
        response = await client.get("/api/ada/tasks")
    assert_error(response, 500, "INTERNAL_ERROR")
    for leak in ("hunter2", "postgresql://", "/srv/app", "Traceback", "RuntimeError"):
        assert leak not in response.text
