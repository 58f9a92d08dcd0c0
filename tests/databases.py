"""PostgreSQL for the tests: the server at TODO_TEST_DATABASE_URL, or a testcontainers one.

The real migrations build a template database once per session; every test then gets a
fresh database cloned from it, so tests never see each other's rows.
"""

from __future__ import annotations

import gc
import itertools
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from todo_adapters.postgres import Migrator

DATABASE_URL_VARIABLE = "TODO_TEST_DATABASE_URL"
REQUIRED_VARIABLE = "TODO_REQUIRE_POSTGRES_TESTS"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


@contextmanager
def postgres_server_url() -> Iterator[str]:
    """A URL to a database on a server where the tests may create databases."""
    if url := os.environ.get(DATABASE_URL_VARIABLE):
        yield url
        return
    from testcontainers.community.postgres import PostgresContainer

    # Without Docker the client fails in ways that vary by version, and leaves a socket for
    # the garbage collector: collect it here, where its ResourceWarning is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            container = PostgresContainer("postgres:16-alpine", driver=None).start()
            failure = None
        except Exception as error:
            failure = str(error)  # not the exception: its traceback would keep the socket alive
        gc.collect()
    if failure is not None:
        message = f"PostgreSQL tests need {DATABASE_URL_VARIABLE} or Docker for testcontainers ({failure})"
        if os.environ.get(REQUIRED_VARIABLE):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield container.get_connection_url()
    finally:
        container.stop()


class Databases:
    """Creates and drops the test databases on one server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._prefix = f"{database_of(server_url)}_t{os.getpid()}"
        self._counter = itertools.count()
        self.template = f"{self._prefix}_template"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.server_url, autocommit=True)

    def create_template(self) -> None:
        with self._admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.template)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        Migrator(with_database(self.server_url, self.template)).apply()

    def clone(self) -> str:
        name = f"{self._prefix}_{next(self._counter)}"
        with self._admin() as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(self.template))
            )
        return name

    def empty(self) -> str:
        name = f"{self._prefix}_{next(self._counter)}"
        with self._admin() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def url(self, name: str) -> str:
        return with_database(self.server_url, name)
