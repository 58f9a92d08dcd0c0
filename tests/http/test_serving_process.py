"""What ``todo serve``'s app does to the process it runs in, beyond serving: once started, the
objects it was built from are left out of the garbage collector's full collections, which
otherwise walked all of them and held up every request in the worker meanwhile."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from todo_adapters.http import create_app
from todo_adapters.http.app import create_app_from_env
from todo_adapters.memory import InMemoryStorage
from todo_adapters.settings import Settings


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """The test process's collector as it was: nothing frozen before, nothing left frozen after."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def tracked(obj: object) -> bool:
    """Whether a full collection would walk ``obj`` (frozen objects are not among them)."""
    return any(candidate is obj for candidate in gc.get_objects())


@pytest.mark.usefixtures("collector_restored")
def test_the_served_app_is_frozen_out_of_full_collections_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TODO_AUTH", "disabled")
    monkeypatch.delenv("TODO_DATABASE_URL", raising=False)
    app = create_app_from_env()
    assert tracked(app.routes), "before startup the app is an ordinary object"
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 10_000
        assert not tracked(app.routes)
        registered = client.post("/api/users", json={"id": "ada", "email": "ada@example.com"})
        assert registered.status_code == 201, "and it serves as before"


@pytest.mark.usefixtures("collector_restored")
def test_an_app_embedded_in_another_process_leaves_its_collector_alone() -> None:
    with TestClient(create_app(settings=Settings(auth="disabled"), storage=InMemoryStorage())) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() == 0
