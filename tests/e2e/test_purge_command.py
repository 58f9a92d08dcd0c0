"""``todo purge-idempotency-keys`` as an operator runs it: it forgets the expired keys of the database at
TODO_DATABASE_URL, says how many, and refuses to run without one."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.databases import Databases
from tests.e2e.server import TODO

# A stored outcome as the service writes it; the command never reads it.
OUTCOME = Jsonb({"kind": "user", "id": "ada", "email": None, "created_at": "2026-01-01T09:00:00+00:00"})
INSERT_KEY = """
    INSERT INTO idempotency_keys (scope, key, fingerprint, outcome, created_at, expires_at)
    VALUES (%(scope)s, %(key)s, 'fingerprint', %(outcome)s, now() - %(age)s::interval,
            now() - %(age)s::interval + %(retention)s::interval)
"""


def purge(database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("TODO_")}
    environment["TODO_DATABASE_URL"] = database_url  # empty means unset
    return subprocess.run(
        [str(TODO), "purge-idempotency-keys"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,  # bounds a failure only
        check=False,
    )


def stored_keys(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as connection:
        return [(row[0], row[1]) for row in connection.execute("SELECT scope, key FROM idempotency_keys ORDER BY key")]


@pytest.fixture
def database(postgres_url: str) -> str:
    keys = [
        # scope, key, how long ago it was stored, how long it was kept for
        ("ada", "expired-a-day-ago", "48 hours", "24 hours"),
        ("", "expired-just-now", "24 hours 1 second", "24 hours"),
        ("bob", "expired-long-ago", "30 days", "24 hours"),
        ("ada", "live", "1 hour", "24 hours"),
        ("bob", "live-for-longer", "30 hours", "72 hours"),
    ]
    with psycopg.connect(postgres_url) as connection:
        for scope, key, age, retention in keys:
            connection.execute(
                INSERT_KEY, {"scope": scope, "key": key, "outcome": OUTCOME, "age": age, "retention": retention}
            )
    return postgres_url


@pytest.mark.postgres
def test_it_deletes_the_expired_keys_keeps_the_live_ones_and_prints_how_many(database: str) -> None:
    finished = purge(database)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "purged 3 expired idempotency key(s)\n"
    assert stored_keys(database) == [("ada", "live"), ("bob", "live-for-longer")]


@pytest.mark.postgres
def test_run_again_it_finds_nothing_left_to_delete(database: str) -> None:
    purge(database)

    finished = purge(database)

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "purged 0 expired idempotency key(s)\n"
    assert len(stored_keys(database)) == 2


def test_without_a_database_url_it_exits_2_saying_what_to_set() -> None:
    finished = purge("")

    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr.startswith("todo: ")
    assert "TODO_DATABASE_URL" in finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.fixture
def unmigrated_url(postgres_databases: Databases) -> Iterator[str]:
    name = postgres_databases.empty()
    yield postgres_databases.url(name)
    postgres_databases.drop(name)


@pytest.mark.postgres
def test_on_a_database_never_migrated_it_exits_2_saying_to_migrate(unmigrated_url: str) -> None:
    finished = purge(unmigrated_url)

    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("todo: ")
    assert "todo migrate" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_with_an_unreachable_database_it_exits_2_saying_it_cannot_reach_it() -> None:
    finished = purge("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1")

    assert finished.returncode == 2, finished.stderr
    assert "todo: cannot reach the database" in finished.stderr
    assert "Traceback" not in finished.stderr
