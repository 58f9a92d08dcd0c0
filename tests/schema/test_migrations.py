"""The migrations: each one applies, rolls back and applies again cleanly, and the schema they build
refuses what the domain forbids even when no Python code stands in the way."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, LiteralString
from uuid import UUID

import httpx
import psycopg
import pytest
from psycopg import errors

from tests.databases import Databases
from tests.e2e.server import TODO, free_port, running_server
from todo_adapters.postgres import Migrator, migrations_directory


def migration_ids() -> list[str]:
    """The migrations on disk, in the order they apply: read here so a new one is covered without a test change."""
    scripts = migrations_directory().glob("*.sql")
    return sorted(path.name.removesuffix(".sql") for path in scripts if not path.name.endswith(".rollback.sql"))


MIGRATIONS: Final = migration_ids()


def first_migrations(count: int, directory: Path) -> Path:
    """A directory holding copies of only the first ``count`` migrations and their rollbacks."""
    directory.mkdir()
    for migration in MIGRATIONS[:count]:
        for script in (f"{migration}.sql", f"{migration}.rollback.sql"):
            if (migrations_directory() / script).exists():
                shutil.copy(migrations_directory() / script, directory / script)
    return directory


# What a migration can leave behind in the public schema; yoyo's bookkeeping tables are not ours.
SNAPSHOT_QUERIES: Final[dict[str, LiteralString]] = {
    "relations": """
        SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relname !~ '^_?yoyo'
        ORDER BY 1
    """,
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname !~ '^_?yoyo'
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum
    """,
    "constraints": """
        SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relname !~ '^_?yoyo'
        ORDER BY 1, 2
    """,
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename !~ '^_?yoyo'
        ORDER BY 1, 2
    """,
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND NOT t.tgisinternal
        ORDER BY 1, 2
    """,
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
        ORDER BY 1, 2
    """,
    "types": """
        SELECT t.typname, t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('d', 'e', 'r', 'm')
        ORDER BY 1
    """,
}


def schema_snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url, autocommit=True) as connection:
        return {name: connection.execute(query).fetchall() for name, query in SNAPSHOT_QUERIES.items()}


@pytest.fixture
def empty_database_url(postgres_databases: Databases) -> Iterator[str]:
    """A database of this test's own with no migration applied."""
    name = postgres_databases.empty()
    try:
        yield postgres_databases.url(name)
    finally:
        postgres_databases.drop(name)


# The stairway: every migration applies, rolls back to exactly what was there before, and applies again.


@pytest.mark.postgres
@pytest.mark.parametrize("position", range(len(MIGRATIONS)), ids=MIGRATIONS)
def test_each_migration_rolls_back_to_the_schema_before_it_and_applies_again_to_the_same_schema(
    position: int, empty_database_url: str, tmp_path: Path
) -> None:
    migration = MIGRATIONS[position]
    before = Migrator(empty_database_url, first_migrations(position, tmp_path / "before"))
    up_to_this_one = Migrator(empty_database_url, first_migrations(position + 1, tmp_path / "with"))
    assert before.apply() == MIGRATIONS[:position]
    schema_before = schema_snapshot(empty_database_url)

    assert up_to_this_one.apply() == [migration]
    schema_after = schema_snapshot(empty_database_url)

    assert up_to_this_one.rollback() == [migration]
    assert schema_snapshot(empty_database_url) == schema_before
    assert up_to_this_one.pending() == [migration]

    assert up_to_this_one.apply() == [migration]
    assert schema_snapshot(empty_database_url) == schema_after


@pytest.mark.postgres
def test_rolling_back_every_migration_leaves_none_of_our_tables_and_they_apply_again(empty_database_url: str) -> None:
    migrator = Migrator(empty_database_url)
    empty = schema_snapshot(empty_database_url)
    assert empty["relations"] == []

    assert migrator.apply() == MIGRATIONS
    migrated = schema_snapshot(empty_database_url)
    assert {"users", "tasks"} <= {name for name, _kind in migrated["relations"]}

    assert migrator.rollback(count=None) == MIGRATIONS[::-1]
    assert schema_snapshot(empty_database_url) == empty
    assert migrator.pending() == MIGRATIONS

    assert migrator.apply() == MIGRATIONS
    assert schema_snapshot(empty_database_url) == migrated
    assert migrator.pending() == []


# The schema as the last line of defence: rows written with raw SQL, past every Python check.

NOW: Final = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
TASK_ID: Final = UUID("01940000-0000-7000-8000-000000000001")

INSERT_USER: Final = "INSERT INTO users (id, email, created_at) VALUES (%(id)s, %(email)s, %(created_at)s)"
INSERT_TASK: Final = """
    INSERT INTO tasks (user_id, id, title, description, completed, completed_at, created_at, updated_at, version)
    VALUES (%(user_id)s, %(id)s, %(title)s, %(description)s, %(completed)s, %(completed_at)s,
            %(created_at)s, %(updated_at)s, %(version)s)
"""


def insert_user(connection: psycopg.Connection[Any], **fields: Any) -> None:
    connection.execute(INSERT_USER, {"id": "ada", "email": "ada@example.com", "created_at": NOW, **fields})


def insert_task(connection: psycopg.Connection[Any], **fields: Any) -> None:
    row = {
        "user_id": "ada",
        "id": TASK_ID,
        "title": "Buy milk",
        "description": None,
        "completed": False,
        "completed_at": None,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
        **fields,
    }
    connection.execute(INSERT_TASK, row)


@pytest.fixture
def database(postgres_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to a migrated database holding the user ``ada``."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        insert_user(connection)
        yield connection


def task_titles(connection: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return connection.execute("SELECT user_id, title FROM tasks ORDER BY user_id, title").fetchall()


LONGEST_EMAIL: Final = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 57, "com"])


@pytest.mark.postgres
@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"title": "x" * 255}, id="a 255-character title"),
        pytest.param({"title": "Café ☕ with  two inner spaces"}, id="a non-ASCII title with inner spaces"),
        pytest.param({"description": "y" * 10_000}, id="a 10,000-character description"),
        pytest.param({"description": "Line one\r\n\tindented line two\n"}, id="a description with tabs and breaks"),
        pytest.param({"completed": True, "completed_at": NOW, "version": 2}, id="a completed task"),
    ],
)
def test_the_schema_stores_a_task_the_domain_allows(database: psycopg.Connection[Any], fields: dict[str, Any]) -> None:
    insert_task(database, **fields)
    stored = database.execute("SELECT title, description, completed, version FROM tasks").fetchall()
    expected = {"title": "Buy milk", "description": None, "completed": False, "version": 1, **fields}
    assert stored == [(expected["title"], expected["description"], expected["completed"], expected["version"])]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"title": ""}, "tasks_title_check", id="an empty title"),
        pytest.param({"title": "   "}, "tasks_title_check", id="a blank title"),
        pytest.param({"title": " Buy milk"}, "tasks_title_check", id="a title with a leading space"),
        pytest.param({"title": "Buy milk\t"}, "tasks_title_check", id="a title with a trailing tab"),
        pytest.param({"title": "\u00a0Buy milk"}, "tasks_title_check", id="a title with a leading no-break space"),
        pytest.param({"title": "Buy milk\u3000"}, "tasks_title_check", id="a title with a trailing ideographic space"),
        pytest.param({"title": "x" * 256}, "tasks_title_check", id="a 256-character title"),
        pytest.param({"title": "Ring the \x07 bell"}, "tasks_title_check", id="a title with a BEL"),
        pytest.param({"title": "Two\nlines"}, "tasks_title_check", id="a title on two lines"),
        pytest.param({"title": "Delete\x7f"}, "tasks_title_check", id="a title with a DEL"),
        pytest.param({"title": "Escape \x9b2J"}, "tasks_title_check", id="a title with a C1 control"),
        pytest.param({"description": "y" * 10_001}, "tasks_description_check", id="a 10,001-character description"),
        pytest.param({"description": "Ring \x07"}, "tasks_description_check", id="a description with a BEL"),
        pytest.param({"description": "\x1b[2J"}, "tasks_description_check", id="a description with an ESC"),
        pytest.param({"completed": True}, "tasks_completed_at_check", id="completed with no completion time"),
        pytest.param({"completed_at": NOW}, "tasks_completed_at_check", id="a completion time on an open task"),
        pytest.param({"version": 0}, "tasks_version_check", id="version 0"),
        pytest.param({"version": -1}, "tasks_version_check", id="a negative version"),
    ],
)
def test_the_schema_refuses_a_task_the_domain_forbids(
    database: psycopg.Connection[Any], fields: dict[str, Any], constraint: str
) -> None:
    with pytest.raises(errors.CheckViolation) as refused:
        insert_task(database, **fields)
    assert refused.value.diag.constraint_name == constraint
    assert task_titles(database) == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"id": "x" * 64}, id="a 64-character id"),
        pytest.param({"id": "google-oauth2_1045.A"}, id="an id of letters, digits, dots, dashes, underscores"),
        pytest.param({"email": LONGEST_EMAIL}, id="a 254-character email"),
        pytest.param({"email": "o'brien+todo@mail.example.co.uk"}, id="an email with a quote, a plus and subdomains"),
    ],
)
def test_the_schema_stores_a_user_the_domain_allows(postgres_url: str, fields: dict[str, Any]) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        insert_user(connection, **fields)
        stored = connection.execute("SELECT id, email FROM users").fetchall()
    expected = {"id": "ada", "email": "ada@example.com", **fields}
    assert stored == [(expected["id"], expected["email"])]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        pytest.param({"id": ""}, "users_id_format", id="an empty id"),
        pytest.param({"id": "ada lovelace"}, "users_id_format", id="an id with a space"),
        pytest.param({"id": "ada/admin"}, "users_id_format", id="an id with a slash"),
        pytest.param({"id": "ümlaut"}, "users_id_format", id="an id with a non-ASCII letter"),
        pytest.param({"id": "ada\n"}, "users_id_format", id="an id with a trailing line feed"),
        pytest.param({"id": "x" * 65}, "users_id_format", id="a 65-character id"),
        pytest.param({"email": "nope"}, "users_email_format", id="an email without an at sign"),
        pytest.param({"email": "ada@example"}, "users_email_format", id="an email without a dotted domain"),
        pytest.param({"email": "ada@@example.com"}, "users_email_format", id="an email with two at signs"),
        pytest.param({"email": "ada @example.com"}, "users_email_format", id="an email with a space"),
        pytest.param({"email": "ada@example.com."}, "users_email_format", id="an email ending in a dot"),
        pytest.param({"email": "ada@example.com\n"}, "users_email_format", id="an email with a trailing line feed"),
        pytest.param({"email": "a" + LONGEST_EMAIL}, "users_email_format", id="a 255-character email"),
        pytest.param({"email": "a" * 65 + "@example.com"}, "users_email_format", id="a 65-character local part"),
    ],
)
def test_the_schema_refuses_a_user_the_domain_forbids(
    postgres_url: str, fields: dict[str, Any], constraint: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        with pytest.raises(errors.CheckViolation) as refused:
            insert_user(connection, **fields)
        assert refused.value.diag.constraint_name == constraint
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)


@pytest.mark.postgres
def test_the_schema_refuses_a_second_user_whose_email_differs_only_in_case(database: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.UniqueViolation) as refused:
        insert_user(database, id="ada2", email="ADA@Example.COM")
    assert refused.value.diag.constraint_name == "users_email_key"
    assert database.execute("SELECT id FROM users").fetchall() == [("ada",)]


@pytest.mark.postgres
def test_the_schema_refuses_a_second_user_with_the_same_id(database: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.UniqueViolation) as refused:
        insert_user(database, email="someone.else@example.com")
    assert refused.value.diag.constraint_name == "users_pkey"


@pytest.mark.postgres
def test_the_schema_refuses_a_task_id_its_owner_already_has(database: psycopg.Connection[Any]) -> None:
    insert_task(database, title="First")
    with pytest.raises(errors.UniqueViolation) as refused:
        insert_task(database, title="Second")
    assert refused.value.diag.constraint_name == "tasks_pkey"
    assert task_titles(database) == [("ada", "First")]


@pytest.mark.postgres
def test_the_schema_refuses_a_task_for_a_user_who_does_not_exist(database: psycopg.Connection[Any]) -> None:
    with pytest.raises(errors.ForeignKeyViolation) as refused:
        insert_task(database, user_id="nobody")
    assert refused.value.diag.constraint_name == "tasks_user_id_fkey"
    assert task_titles(database) == []


@pytest.mark.postgres
def test_deleting_a_user_deletes_their_tasks_and_no_one_elses(database: psycopg.Connection[Any]) -> None:
    insert_user(database, id="grace", email="grace@example.com")
    insert_task(database, id=UUID(int=1), title="Ada's first")
    insert_task(database, id=UUID(int=2), title="Ada's second")
    insert_task(database, user_id="grace", id=UUID(int=3), title="Grace's")

    database.execute("DELETE FROM users WHERE id = 'ada'")

    assert task_titles(database) == [("grace", "Grace's")]


# The command line a deployment runs.


def run_todo(*args: str, database_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "TODO_DATABASE_URL"}
    env["TODO_AUTH"] = "disabled"  # the schema is what these commands are about, not tokens
    if database_url is not None:
        env["TODO_DATABASE_URL"] = database_url
    return subprocess.run([str(TODO), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def listed(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


@pytest.mark.postgres
def test_todo_migrate_list_shows_every_migration_pending_on_an_empty_database(empty_database_url: str) -> None:
    result = run_todo("migrate", "list", database_url=empty_database_url)
    assert result.returncode == 0, result.stderr
    assert listed(result.stdout) == [["pending", migration] for migration in MIGRATIONS]


@pytest.mark.postgres
def test_todo_migrate_applies_every_migration_and_list_then_shows_them_applied(empty_database_url: str) -> None:
    applied = run_todo("migrate", database_url=empty_database_url)
    assert applied.returncode == 0, applied.stderr
    assert all(migration in applied.stdout for migration in MIGRATIONS)

    result = run_todo("migrate", "list", database_url=empty_database_url)
    assert listed(result.stdout) == [["applied", migration] for migration in MIGRATIONS]
    assert Migrator(empty_database_url).pending() == []


@pytest.mark.postgres
def test_todo_migrate_on_a_current_schema_applies_nothing_and_says_so(postgres_url: str) -> None:
    result = run_todo("migrate", "apply", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    assert "applied 0 migration(s)" in result.stdout
    assert "current" in result.stdout


@pytest.mark.postgres
def test_todo_migrate_rollback_undoes_the_latest_migration(postgres_url: str) -> None:
    result = run_todo("migrate", "rollback", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    assert MIGRATIONS[-1] in result.stdout
    assert Migrator(postgres_url).pending() == MIGRATIONS[-1:]


@pytest.mark.postgres
def test_todo_migrate_rollback_all_undoes_every_migration(postgres_url: str) -> None:
    result = run_todo("migrate", "rollback", "--all", database_url=postgres_url)
    assert result.returncode == 0, result.stderr
    assert all(migration in result.stdout for migration in MIGRATIONS)

    listing = run_todo("migrate", "list", database_url=postgres_url)
    assert listed(listing.stdout) == [["pending", migration] for migration in MIGRATIONS]
    assert schema_snapshot(postgres_url)["relations"] == []


def test_todo_migrate_without_todo_database_url_exits_2_naming_the_variable() -> None:
    result = run_todo("migrate", database_url=None)
    assert result.returncode == 2
    assert "TODO_DATABASE_URL" in result.stderr
    assert result.stdout == ""


@pytest.mark.postgres
def test_todo_serve_refuses_to_start_on_pending_migrations_and_names_them_and_todo_migrate(
    empty_database_url: str,
) -> None:
    result = run_todo("serve", "--port", str(free_port()), database_url=empty_database_url)
    assert result.returncode == 2
    assert all(migration in result.stderr for migration in MIGRATIONS)
    assert "todo migrate" in result.stderr
    assert Migrator(empty_database_url).pending() == MIGRATIONS


@pytest.mark.postgres
def test_todo_serve_migrate_applies_pending_migrations_then_serves(empty_database_url: str) -> None:
    with running_server("--migrate", env={"TODO_DATABASE_URL": empty_database_url}) as base_url:
        assert Migrator(empty_database_url).pending() == []
        response = httpx.post(f"{base_url}/api/users", json={"id": "ada", "email": "ada@example.com"}, timeout=10)
        assert response.status_code == 201, response.text
