"""Show how PostgreSQL runs each hot statement of the adapter, on a database of realistic size.

    .venv/bin/python bench/explain.py postgresql://postgres@127.0.0.1/todo_explain --tasks 1000000

Creates (or reuses) the database, migrates it, fills it with USERS users and TASKS tasks
spread unevenly (a few users own thousands), then EXPLAIN ANALYZEs every statement the
adapter sends, as a generic prepared plan (what a pooled connection runs after its first
executions), against the user with the most tasks. Writes run in a rolled-back transaction.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from todo_adapters.postgres.migrations import Migrator
from todo_adapters.postgres.tasks import DELETE_TASK, INSERT_TASK, LIST_TASKS, SELECT_TASK, UPDATE_TASK
from todo_adapters.postgres.users import SELECT_USER
from todo_core import SortField, StatusFilter

SEED_USERS = """
    INSERT INTO users (id, email, created_at)
    SELECT 'user-' || i, 'user-' || i || '@example.com', now() - interval '1 year'
    FROM generate_series(1, %(users)s) AS i
"""
# A cubed random number skews ownership: a few users own thousands of tasks, most a few dozen.
SEED_TASKS = """
    INSERT INTO tasks (user_id, id, title, description, completed, completed_at, created_at, updated_at, version)
    SELECT 'user-' || (1 + floor(%(users)s * random() ^ 3))::int,
           gen_random_uuid(),
           (ARRAY['Buy', 'Call', 'Write', 'Fix', 'Plan', 'Read'])[1 + i %% 6] || ' item ' || i,
           CASE WHEN i %% 3 = 0 THEN 'Notes for task ' || i END,
           i %% 4 = 0,
           CASE WHEN i %% 4 = 0 THEN now() - (i || ' seconds')::interval END,
           now() - (i || ' seconds')::interval,
           now() - (i || ' seconds')::interval,
           1
    FROM generate_series(1, %(tasks)s) AS i
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", help="a database to create or reuse, e.g. postgresql://postgres@127.0.0.1/x")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    args = parser.parse_args()

    _ensure_database(args.database_url)
    Migrator(args.database_url).apply()
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        _seed(connection, args.users, args.tasks)
        owner, task_id, count = _heaviest_owner(connection)
        total = connection.execute("SELECT count(*) FROM tasks").fetchone()
        print(f"\n{total[0] if total else 0:,} tasks; explaining against {owner!r}, who owns {count:,} of them\n")
        connection.execute("SET plan_cache_mode = force_generic_plan")
        for name, statement, params in _statements(owner, task_id):
            _explain(connection, name, statement, params)
    return 0


def _statements(owner: str, task_id: UUID) -> Iterator[tuple[str, str, dict[str, Any]]]:
    now = datetime.now(UTC)
    yield "get user", SELECT_USER, {"id": owner}
    yield "get task", SELECT_TASK, {"user_id": owner, "task_id": task_id}
    for field in SortField:
        for status in (StatusFilter.ALL, StatusFilter.PENDING):
            for search in (False, True):
                label = f"list sort=-{field.value} status={status.value}{' q=item 9' if search else ''}"
                statement = LIST_TASKS[(field, True, status, search, True)]
                key: Any = "m" if field is SortField.TITLE else now
                params = {"user_id": owner, "limit": 51, "search": "item 9", "after_key": key, "after_id": task_id}
                yield label, statement, params
    update = {
        "user_id": owner, "task_id": task_id, "title": "Renamed", "set_description": False, "description": None,
        "toggle": False, "completed": None, "now": now, "versions": [1],
    }  # fmt: skip
    yield "create", INSERT_TASK, {
        "id": UUID("01950000-0000-7000-8000-000000000001"), "user_id": owner, "title": "New", "description": None,
        "completed": False, "completed_at": None, "created_at": now, "updated_at": now, "version": 1,
    }  # fmt: skip
    yield "update (PUT/PATCH, If-Match)", UPDATE_TASK, update
    yield "toggle", UPDATE_TASK, {**update, "title": None, "toggle": True, "versions": None}
    yield "delete", DELETE_TASK, {"user_id": owner, "task_id": task_id, "versions": None}


def _explain(connection: psycopg.Connection[Any], name: str, statement: str, params: dict[str, Any]) -> None:
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    positional = re.sub(r"%\((\w+)\)s", placeholder, statement)
    values = sql.SQL(", ").join(sql.Literal(params[n]) for n in names)
    with _rolled_back(connection):
        connection.execute(sql.SQL("PREPARE hot AS {}").format(sql.SQL(positional)))  # type: ignore[arg-type]
        try:
            rows = connection.execute(
                sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, SUMMARY ON) EXECUTE hot ({})").format(values)
            ).fetchall()
        finally:
            connection.execute("DEALLOCATE hot")
    plan = [row[0] for row in rows]
    scans = sorted(
        {
            m.group(0)
            for line in plan
            for m in re.finditer(
                r"(Index Only Scan|Index Scan|Seq Scan|Bitmap \w+ Scan)( Backward)? (using|on) \w+", line
            )
        }
    )
    timing = next((line for line in plan if line.startswith("Execution Time")), "")
    print(f"== {name}: {'; '.join(scans) or 'no scan'} | {timing}")
    for line in plan:
        print(f"   {line}")


@contextmanager
def _rolled_back(connection: psycopg.Connection[Any]) -> Iterator[None]:
    connection.execute("BEGIN")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")


def _seed(connection: psycopg.Connection[Any], users: int, tasks: int) -> None:
    row = connection.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks)").fetchone()
    if row == (users, tasks):
        print(f"reusing the {tasks:,} tasks already there")
        return
    started = time.monotonic()
    connection.execute("TRUNCATE users CASCADE")
    connection.execute(SEED_USERS, {"users": users})
    connection.execute(SEED_TASKS, {"users": users, "tasks": tasks})
    connection.execute("VACUUM ANALYZE users")
    connection.execute("VACUUM ANALYZE tasks")
    print(f"seeded {users:,} users and {tasks:,} tasks in {time.monotonic() - started:.0f} s")


def _heaviest_owner(connection: psycopg.Connection[Any]) -> tuple[str, UUID, int]:
    row = connection.execute(
        "SELECT user_id, count(*) FROM tasks GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    task = connection.execute(
        "SELECT id FROM tasks WHERE user_id = %s ORDER BY created_at DESC OFFSET 100 LIMIT 1", (row[0],)
    ).fetchone()
    assert task is not None
    return row[0], task[0], row[1]


def _ensure_database(url: str) -> None:
    database = url.rsplit("/", 1)[1].split("?", maxsplit=1)[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


if __name__ == "__main__":
    sys.exit(main())
