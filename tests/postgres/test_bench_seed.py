"""`todo bench seed`: rows the schema and the domain accept, the same rows for the same seed, and reuse.

The seeder drops and rebuilds the task table's keys and indexes around its COPY, so these tests also
hold the rebuilt table to what the migrations made. Load numbers are never asserted anywhere.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from todo_adapters.bench import SPAN_END, SeedPlan, seed_database
from todo_adapters.cli import main
from todo_core.rules import clean_description, clean_email, clean_title, clean_user_id

pytestmark = pytest.mark.postgres

PLAN = SeedPlan(users=40, tasks=4_000, pairs=500)

TABLE_SHAPE = """
    SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'tasks'::regclass
    UNION ALL
    SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'tasks'::regclass
    ORDER BY 1
"""


def seed(url: str, out: Path, plan: SeedPlan = PLAN, *, force: bool = False) -> Any:
    return seed_database(url, plan, out, force=force, log=lambda _: None)


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


def test_seeding_writes_rows_the_domain_accepts(postgres_url: str, tmp_path: Path) -> None:
    seed(postgres_url, tmp_path)

    users = rows(postgres_url, "SELECT id, email, created_at FROM users")
    tasks = rows(
        postgres_url,
        "SELECT user_id, id, title, description, completed, completed_at, created_at, updated_at, version FROM tasks",
    )
    assert (len(users), len(tasks)) == (PLAN.users, PLAN.tasks)
    for user, email, created_at in users:
        assert clean_user_id(user) == user
        assert email is None or clean_email(email) == email
        assert created_at <= SPAN_END
    for _, task_id, title, description, completed, completed_at, created_at, updated_at, version in tasks:
        assert clean_title(title) == title
        assert clean_description(description) == description
        assert (completed_at is not None) == completed
        assert created_at <= (completed_at or updated_at) <= updated_at <= SPAN_END
        assert version >= 1
        assert UUID(str(task_id)).version == 7
        assert task_id.int >> 80 == round(created_at.timestamp() * 1000)  # a UUIDv7 of its creation time


def test_tasks_are_spread_unevenly_over_months_and_mixed_in_completion(postgres_url: str, tmp_path: Path) -> None:
    seed(postgres_url, tmp_path)

    counts = [count for (count,) in rows(postgres_url, "SELECT count(*) FROM tasks GROUP BY user_id")]
    assert max(counts) > 4 * statistics.median(counts)
    [(done, first, last)] = rows(
        postgres_url, "SELECT avg(completed::int), min(created_at), max(created_at) FROM tasks"
    )
    assert 0.2 < done < 0.8
    assert (last - first).days > 180
    titles = rows(postgres_url, "SELECT count(DISTINCT title) FROM tasks")[0][0]
    assert titles > PLAN.tasks / 4


def test_the_files_name_seeded_users_and_tasks(postgres_url: str, tmp_path: Path) -> None:
    outcome = seed(postgres_url, tmp_path)

    users = outcome.users_file.read_text().split()
    pairs = [line.split() for line in outcome.pairs_file.read_text().splitlines()]
    assert sorted(users) == sorted(user for (user,) in rows(postgres_url, "SELECT id FROM users"))
    assert len(pairs) == PLAN.pairs
    stored = {(user, str(task)) for user, task in rows(postgres_url, "SELECT user_id, id FROM tasks")}
    assert all((user, task) in stored for user, task in pairs)


def test_the_same_seed_gives_the_same_rows(postgres_url: str, tmp_path: Path) -> None:
    digest = "SELECT md5(string_agg(id::text || title || updated_at::text, ',' ORDER BY id)) FROM tasks"
    seed(postgres_url, tmp_path)
    first = rows(postgres_url, digest)

    assert seed(postgres_url, tmp_path, force=True).reused is False
    assert rows(postgres_url, digest) == first


def test_a_database_seeded_alike_is_reused_without_what_load_runs_added(postgres_url: str, tmp_path: Path) -> None:
    seed(postgres_url, tmp_path)
    (user,) = rows(postgres_url, "SELECT id FROM users LIMIT 1")[0]
    with psycopg.connect(postgres_url) as connection:
        now = datetime.now(UTC)
        connection.execute(
            "INSERT INTO tasks (user_id, id, title, created_at, updated_at) VALUES (%s, gen_random_uuid(), %s, %s, %s)",
            (user, "Written by a load run", now, now),
        )

    assert seed(postgres_url, tmp_path).reused is True
    assert rows(postgres_url, "SELECT count(*) FROM tasks") == [(PLAN.tasks,)]
    assert seed(postgres_url, tmp_path, SeedPlan(users=40, tasks=3_000, pairs=500)).reused is False
    assert rows(postgres_url, "SELECT count(*) FROM tasks") == [(3_000,)]


def test_the_load_leaves_the_table_as_the_migrations_made_it(postgres_url: str, tmp_path: Path) -> None:
    migrated = rows(postgres_url, TABLE_SHAPE)

    seed(postgres_url, tmp_path)

    assert rows(postgres_url, TABLE_SHAPE) == migrated


def test_the_command_seeds_the_database_it_is_given(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODO_DATABASE_URL", postgres_url)

    assert main(["bench", "seed", "--users", "5", "--tasks", "200", "--pairs", "10", "--out", str(tmp_path)]) == 0

    assert rows(postgres_url, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks)") == [(5, 200)]
    assert len((tmp_path / "pairs.txt").read_text().splitlines()) == 10
