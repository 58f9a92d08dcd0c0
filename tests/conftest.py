"""Fixtures shared by every suite.

``storage`` is parametrized over the adapters, so a test that takes it (or anything built
on it: services, the HTTP client) runs once per adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from tests.support import SequentialIds, TickingClock
from todo_adapters.http import create_app
from todo_adapters.memory import InMemoryStorage
from todo_core import Storage, TaskService, UserService


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def new_id() -> SequentialIds:
    return SequentialIds()


@pytest.fixture(params=["memory"])
def storage(request: pytest.FixtureRequest) -> Storage:
    return InMemoryStorage()


@pytest.fixture
def users(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> UserService:
    return UserService(storage, clock=clock, new_id=new_id)


@pytest.fixture
def tasks(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> TaskService:
    return TaskService(storage, clock=clock, new_id=new_id)


@pytest.fixture
async def client(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> AsyncIterator[AsyncTestClient]:
    app = create_app(storage=storage, clock=clock, new_id=new_id)
    async with AsyncTestClient(app) as test_client:
        yield test_client
