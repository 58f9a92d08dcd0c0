"""Fixtures shared by every suite.

``storage`` is parametrized over the adapters, so a test that takes it (or anything built
on it: services, the HTTP client) runs once per adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from litestar.testing import AsyncTestClient

from tests.databases import Databases, postgres_server_url
from tests.support import SequentialIds, TickingClock
from todo_adapters.http import create_app
from todo_adapters.memory import InMemoryStorage
from todo_adapters.postgres import PoolSettings, PostgresStorage
from todo_adapters.settings import Settings
from todo_core import Storage, TaskService, UserService


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def new_id() -> SequentialIds:
    return SequentialIds()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Databases]:
    """The test server, with a template database built by the real migrations."""
    with postgres_server_url() as url:
        databases = Databases(url)
        databases.create_template()
        yield databases
        databases.drop(databases.template)


@pytest.fixture
def postgres_url(postgres_databases: Databases) -> Iterator[str]:
    """A fresh, migrated database of this test's own."""
    name = postgres_databases.clone()
    yield postgres_databases.url(name)
    postgres_databases.drop(name)


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    if request.param == "memory":
        yield InMemoryStorage()
        return
    postgres = PostgresStorage(request.getfixturevalue("postgres_url"), PoolSettings(min_size=1, max_size=8))
    await postgres.open(wait=True)
    try:
        yield postgres
    finally:
        await postgres.close()


@pytest.fixture
def users(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> UserService:
    return UserService(storage, clock=clock, new_id=new_id)


@pytest.fixture
def tasks(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> TaskService:
    return TaskService(storage, clock=clock, new_id=new_id)


@pytest.fixture
async def client(storage: Storage, clock: TickingClock, new_id: SequentialIds) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings=Settings(auth="disabled"), storage=storage, clock=clock, new_id=new_id)
    async with AsyncTestClient(app) as test_client:
        yield test_client
