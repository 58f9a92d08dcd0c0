"""JSONResponse answers exactly as Litestar's own Response would: same status, headers and body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar, Response, get
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.testing import TestClient

from todo_adapters.http.responses import JSONResponse


class Thing(msgspec.Struct):
    id: UUID
    name: str
    note: str | None
    at: datetime


_THING = Thing(UUID("0195f7a4-8a1e-7c3d-9b2a-4f6e8d0c1b2a"), "Ünïcode ✓", None, datetime(2026, 1, 2, 3, 4, 5, 6, UTC))
CASES: dict[str, dict[str, Any]] = {
    "a body with headers": {"content": _THING, "headers": {"ETag": '"3"', "Link": '</next>; rel="next"'}},
    "a list, 201": {"content": [_THING, _THING], "status_code": 201},
    "an empty list": {"content": []},
    "304 without a body": {"content": None, "status_code": 304, "headers": {"ETag": '"3"'}},
    "204 without a body": {"content": None, "status_code": 204},
    "its own content type": {"content": {"a": 1}, "headers": {"Content-Type": "application/problem+json"}},
    "a cookie (Litestar's own path)": {"content": {"a": 1}, "cookies": [Cookie(key="k", value="v")]},
    "another media type (Litestar's own path)": {"content": "plain", "media_type": "text/plain"},
}


def _app(response_class: type[Response[Any]], arguments: dict[str, Any]) -> Litestar:
    @get("/", sync_to_thread=False)
    def answer() -> Response[Any]:
        return response_class(**arguments)

    return Litestar([answer], cache_control=CacheControlHeader(no_store=True), openapi_config=None)


@pytest.mark.parametrize("arguments", CASES.values(), ids=list(CASES))
def test_a_json_response_is_the_one_litestar_would_send(arguments: dict[str, Any]) -> None:
    with TestClient(_app(Response, arguments)) as litestars, TestClient(_app(JSONResponse, arguments)) as ours:
        expected, answered = litestars.get("/"), ours.get("/")
    assert answered.status_code == expected.status_code
    assert answered.headers.multi_items() == expected.headers.multi_items()
    assert answered.content == expected.content
