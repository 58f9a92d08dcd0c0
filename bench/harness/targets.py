"""The implementations under test: their databases, data files, servers, and what a run leaves behind.

``ours`` is this checkout (`todo bench seed`, `todo serve`); ``peer`` is another implementation
of the same API found at a directory given on the command line, seeded and started by its own
scripts (``load/seed.py``, ``seedstack/run.sh``, with ``load/setup.sh`` for their environment).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from harness.servers import Server
from todo_core.ids import UUIDv7Factory

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@dataclass
class Target:
    """One implementation: where its data is, how it was seeded, and its server once started."""

    name: str
    database_url: str
    data_dir: Path
    seed_seconds: float = 0.0
    reused: bool = False
    # Rows created after this were written by load runs; cleaning up removes them.
    watermark: datetime = field(default_factory=lambda: datetime.now(UTC))
    server: Server | None = None

    @property
    def users_file(self) -> Path:
        return self.data_dir / "users.txt"

    @property
    def pairs_file(self) -> Path:
        return self.data_dir / "pairs.txt"

    def clean_up(self) -> float:
        """Delete what load runs created, then VACUUM, so that every run starts from the same table; seconds taken."""
        started = time.monotonic()
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            connection.execute("DELETE FROM tasks WHERE created_at > %s", (self.watermark,))
            connection.execute("VACUUM tasks")
        return time.monotonic() - started

    def warm(self) -> str:
        """Read every table and index of the database through the operating system's cache with
        pg_prewarm, so that runs meet the data as a server that has been up a while holds it, not a
        cold disk (right after seeding, or on a machine that reclaimed its cache); what was done."""
        started = time.monotonic()
        try:
            with psycopg.connect(self.database_url, autocommit=True) as connection:
                connection.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                read = connection.execute(
                    "SELECT coalesce(sum(pg_prewarm(c.oid, 'read')), 0)::bigint * current_setting('block_size')::int"
                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')"
                ).fetchone()
        except psycopg.Error as error:
            return f"{self.name}: not warmed, pg_prewarm failed ({str(error).strip()})"
        size, seconds = (read[0] if read else 0) / 1e9, time.monotonic() - started
        return f"{self.name}: read {size:.1f} GB of tables and indexes into the cache in {seconds:.1f} s"

    def simulated_users(self, count: int) -> tuple[Path, Path]:
        """Files of ``count`` users for a users run to stand for, one per connection, drawn evenly
        (and the same every time) from all seeded users, and of up to 20 tasks of each of them."""
        people_file, pairs_file = (
            self.data_dir / f"simulated-{count}.txt",
            self.data_dir / f"simulated-{count}-pairs.txt",
        )
        if not (people_file.exists() and pairs_file.exists()):
            users = self.users_file.read_text().split()
            people = random.Random(count).sample(users, min(count, len(users)))
            with psycopg.connect(self.database_url) as connection:
                rows = connection.execute(
                    "SELECT user_id, id FROM (SELECT user_id, id, row_number() OVER (PARTITION BY user_id ORDER BY id)"
                    " AS n FROM tasks WHERE user_id = ANY(%s)) AS theirs WHERE n <= 20",
                    (people,),
                ).fetchall()
            people_file.write_text("".join(f"{user}\n" for user in people))
            pairs_file.write_text("".join(f"{user} {task}\n" for user, task in rows))
        return people_file, pairs_file

    def make_delete_pool(self, count: int, path: Path, seed: int, users: list[str] | None = None) -> None:
        """Insert ``count`` tasks for ``users`` (all users when None), made for deleting, and list them in ``path``."""
        users = users or self.users_file.read_text().split()
        rng = random.Random(seed)
        new_id = UUIDv7Factory()
        now = datetime.now(UTC)
        rows = [(rng.choice(users), new_id()) for _ in range(count)]
        with psycopg.connect(self.database_url, autocommit=True) as connection, connection.transaction():
            cursor = connection.cursor()
            columns = "user_id, id, title, description, completed, created_at, updated_at"
            with cursor.copy(f"COPY tasks ({columns}) FROM STDIN") as copy:
                for number, (user, task) in enumerate(rows):
                    copy.write_row((user, task, f"Old reminder {number}", None, False, now, now))
        path.write_text("".join(f"{user} {task}\n" for user, task in rows))

    def check(self, headers_for: Any = None) -> None:
        """The server serves the seeded data: sampled tasks answer 200, and so do sampled lists."""
        assert self.server is not None
        pairs = [line.split() for line in self.pairs_file.read_text().splitlines()[:2000]]
        users = self.users_file.read_text().split()
        rng = random.Random(7)
        with httpx.Client(base_url=self.server.url, timeout=10) as client:
            for user, task in rng.sample(pairs, min(20, len(pairs))):
                headers = headers_for(user) if headers_for else {}
                answer = client.get(f"/api/{user}/tasks/{task}", headers=headers)
                if answer.status_code != 200:
                    raise RuntimeError(f"{self.name}: GET a seeded task answered {answer.status_code}: {answer.text}")
            for user in rng.sample(users, min(5, len(users))):
                headers = headers_for(user) if headers_for else {}
                answer = client.get(f"/api/{user}/tasks", params={"limit": 50}, headers=headers)
                if answer.status_code != 200:
                    raise RuntimeError(f"{self.name}: listing a seeded user answered {answer.status_code}")
            if headers_for:
                user, task = pairs[0]
                if client.get(f"/api/{user}/tasks/{task}").status_code != 401:
                    raise RuntimeError(f"{self.name}: a request without a token was not refused")


def ensure_database(server_url: str, name: str) -> str:
    """Create the database ``name`` on the server unless it exists; its URL."""
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{server_url}/{name}"


def prepare_ours(server_url: str, database: str, users: int, tasks: int, data_dir: Path, log: Path) -> Target:
    """Seed (or reuse) our database through ``todo bench seed``, showing its progress."""
    url = ensure_database(server_url, database)
    before = _seeded(url)
    started = time.monotonic()
    command = [str(VENV_BIN / "todo"), "bench", "seed", "--users", str(users), "--tasks", str(tasks)]
    command += ["--out", str(data_dir)]
    _run(command, env={"TODO_DATABASE_URL": url}, log=log)
    seconds = time.monotonic() - started
    after = _seeded(url)
    assert after is not None, "todo bench seed left no bench_seed row"
    span_end, seeded_at, load_seconds = after
    reused = before is not None and before[1] == seeded_at
    # When reused, report how long the load took when it happened.
    return Target(
        "ours", url, data_dir, seed_seconds=load_seconds if reused else seconds, reused=reused, watermark=span_end
    )


def _seeded(url: str) -> tuple[datetime, datetime, float] | None:
    with psycopg.connect(url) as connection:
        exists = connection.execute("SELECT to_regclass('bench_seed') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = connection.execute("SELECT span_end, seeded_at, seconds FROM bench_seed").fetchone()
    return (row[0], row[1], float(row[2])) if row else None


def prepare_peer(
    peer: Path, server_url: str, database: str, users: int, tasks: int, data_dir: Path, log: Path
) -> Target:
    """Seed the peer's database with its own ``load/seed.py``, or reuse it when it holds the same numbers."""
    url = ensure_database(server_url, database)
    home = Path(os.environ.get("TODO_BASELINE_HOME", Path.home() / ".cache" / "todo-baseline"))
    python = home / "venv-load" / "bin" / "python"
    if not python.exists():
        print(f"setting up the peer's load environment ({peer / 'load' / 'setup.sh'})", flush=True)
        _run(["bash", str(peer / "load" / "setup.sh")], env={}, log=log)
    data_dir.mkdir(parents=True, exist_ok=True)
    counts = _counts(url)
    reused = counts == (users, tasks)
    seconds = 0.0
    if reused:
        print(f"peer: {database} already holds {users:,} users and {tasks:,} tasks; reusing it", flush=True)
        _write_data_files(url, data_dir, pairs=100_000, seed=42)
    else:
        started = time.monotonic()
        command = [str(python), str(peer / "load" / "seed.py"), url, "--users", str(users), "--tasks", str(tasks)]
        command += ["--reset", "--out-dir", str(data_dir)]
        _run(command, env={}, log=log)
        seconds = time.monotonic() - started
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT max(created_at) FROM tasks").fetchone()
    watermark = row[0] if row and row[0] else datetime.now(UTC)
    return Target("peer", url, data_dir, seed_seconds=seconds, reused=reused, watermark=watermark)


def ours_server(target: Target, *, port: int, workers: int, log: Path, auth_env: dict[str, str]) -> Server:
    env = {
        "TODO_DATABASE_URL": target.database_url,
        "TODO_WORKERS": str(workers),
        "TODO_HOST": "127.0.0.1",
        "TODO_PORT": str(port),
        "TODO_LOG_LEVEL": "warning",  # no access log: it would cost as much as some requests
        **auth_env,
    }
    return Server("ours", [str(VENV_BIN / "todo"), "serve"], env=env, port=port, workers=workers, log=log)


def peer_server(peer: Path, target: Target, *, port: int, workers: int, log: Path) -> Server:
    _, rest = target.database_url.split("://", 1)
    env = {"DATABASE_URL": f"postgresql+asyncpg://{rest}", "ACCESS_LOG": "0"}
    argv = ["bash", str(peer / "seedstack" / "run.sh"), str(port), str(workers)]
    return Server("peer", argv, env=env, port=port, workers=workers, log=log)


def _counts(url: str) -> tuple[int, int] | None:
    with psycopg.connect(url) as connection:
        tables = connection.execute("SELECT to_regclass('users') IS NOT NULL AND to_regclass('tasks') IS NOT NULL")
        row = tables.fetchone()
        if not row or not row[0]:
            return None
        counts = connection.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks)").fetchone()
        return (int(counts[0]), int(counts[1])) if counts else None


def _write_data_files(url: str, data_dir: Path, *, pairs: int, seed: int) -> None:
    """users.txt and a sample of pairs.txt from a database that is reused as it is."""
    with psycopg.connect(url) as connection:
        users = [row[0] for row in connection.execute("SELECT id FROM users ORDER BY id")]
        total = connection.execute("SELECT count(*) FROM tasks").fetchone()
        percent = min(100.0, 150.0 * pairs / max(int(total[0]) if total else 1, 1))
        sample = connection.execute(
            "SELECT user_id, id FROM tasks TABLESAMPLE SYSTEM (%s) REPEATABLE (%s) ORDER BY user_id, id",
            (percent, seed),
        ).fetchall()
    random.Random(seed).shuffle(sample)
    (data_dir / "users.txt").write_text("".join(f"{user}\n" for user in users))
    (data_dir / "pairs.txt").write_text("".join(f"{user} {task}\n" for user, task in sample[:pairs]))


def _run(command: list[str], *, env: dict[str, str], log: Path) -> None:
    """Run a step whose progress the person at the terminal should see; its output also goes to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as file:
        file.write(f"$ {' '.join(command)}\n".encode())
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read1(4096), b""):  # type: ignore[union-attr]
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            file.write(chunk)
        if process.wait() != 0:
            raise RuntimeError(f"{command[0]} failed ({process.returncode}); see {log}")
