"""Fill a database with realistic, deterministic data for load tests, through binary COPY.

One seed gives the same rows every time: users whose task counts are uneven (log-normal: a
few own thousands, some none), each active over a window of the 18 months before
``SPAN_END``; tasks whose ids are UUIDv7 of their creation time, completed more often the
older they are, edited now and then (``updated_at``, ``version``); titles and descriptions
from ``corpus``. Rows are written in creation order, as a live table would have received
them, so a user's tasks are scattered over the table like in production.

The load runs in one transaction: the tables are emptied, the task table's keys and indexes
dropped, the rows copied with ``FREEZE`` (visible to all and frozen, so the first reads do not
pay for hint bits), the keys and indexes rebuilt, the statistics gathered. The parameters go
into ``bench_seed`` (the seeder's own table, not part of the schema); a database that holds
the same parameters and row counts is reused instead of reloaded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import psycopg
from psycopg import sql

from todo_adapters.bench import corpus
from todo_adapters.postgres import Migrator

__all__ = ["GENERATOR", "SPAN_END", "SeedOutcome", "SeedPlan", "seed_database"]

GENERATOR: Final = "todo-bench/1"
"""Names the shape of the data; change it when the data changes, so older databases are reloaded."""

SPAN_END: Final = datetime(2025, 6, 1, tzinfo=UTC)
"""Every seeded timestamp is at most this; anything later was written by a load run."""

_SPAN: Final = timedelta(days=540)
_EPOCH: Final = SPAN_END - _SPAN
_SPAN_MS: Final = int(_SPAN.total_seconds() * 1000)
_EPOCH_MS: Final = int(_EPOCH.timestamp() * 1000)
_DAY_MS: Final = 86_400_000
_RANDOM_62: Final = (1 << 62) - 1
_UUID7_BITS: Final = 0x7 << 76 | 0b10 << 62
_PROGRESS_STEP: Final = 20_000

_SEED_TABLE: Final = """
    CREATE TABLE IF NOT EXISTS bench_seed (
        users     integer          NOT NULL,
        tasks     bigint           NOT NULL,
        seed      integer          NOT NULL,
        generator text             NOT NULL,
        span_end  timestamptz      NOT NULL,
        seeded_at timestamptz      NOT NULL,
        seconds   double precision NOT NULL
    )
"""
_TASK_COLUMNS: Final = "user_id, id, title, description, completed, completed_at, created_at, updated_at, version"
_TASK_TYPES: Final = ["text", "uuid", "text", "text", "bool", "timestamptz", "timestamptz", "timestamptz", "int4"]
# Keys and indexes of the task table, read from the catalog so the load follows the migrations.
_TASK_CONSTRAINTS: Final = """
    SELECT conname, pg_get_constraintdef(oid), contype = 'f'
    FROM pg_constraint WHERE conrelid = 'tasks'::regclass AND contype IN ('p', 'u', 'f')
    ORDER BY contype = 'f' DESC, conname
"""
_TASK_INDEXES: Final = """
    SELECT c.relname, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = 'tasks'::regclass
      AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)
    ORDER BY c.relname
"""
_PAIRS_SAMPLE: Final = """
    SELECT user_id, id FROM tasks TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (%(seed)s)
    WHERE created_at <= %(span_end)s ORDER BY user_id, id
"""

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """How much to seed, from which random seed, and how many (user, task) pairs to sample for the load scripts."""

    users: int
    tasks: int
    seed: int = 42
    pairs: int = 100_000

    def __post_init__(self) -> None:
        if self.users < 1 or self.tasks < 0 or self.pairs < 0:
            raise ValueError("a seed needs at least one user, and no negative counts")


@dataclass(frozen=True, slots=True)
class SeedOutcome:
    """What seeding did: loaded or reused, how long it took, and the files it wrote."""

    reused: bool
    seconds: float
    users_file: Path
    pairs_file: Path


def seed_database(
    database_url: str, plan: SeedPlan, out_dir: Path, *, force: bool = False, log: Log = print
) -> SeedOutcome:
    """Migrate, then load ``plan`` (or reuse a database already holding it); write users.txt and pairs.txt."""
    started = time.monotonic()
    applied = Migrator(database_url).apply()
    if applied:
        log(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(_SEED_TABLE)
        reused = not force and _holds(connection, plan, log)
        if not reused:
            _load(connection, plan, log)
            seconds = time.monotonic() - started
            connection.execute(
                "INSERT INTO bench_seed VALUES (%s, %s, %s, %s, %s, now(), %s)",
                (plan.users, plan.tasks, plan.seed, GENERATOR, SPAN_END, seconds),
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        users_file, pairs_file = out_dir / "users.txt", out_dir / "pairs.txt"
        _write_users(connection, users_file)
        written = _write_pairs(connection, plan, pairs_file)
    seconds = time.monotonic() - started
    verb = "reused" if reused else "seeded"
    log(f"{verb} {plan.users:,} users and {plan.tasks:,} tasks in {seconds:.1f} s; wrote {users_file} and "
        f"{pairs_file} ({written:,} pairs)")  # fmt: skip
    return SeedOutcome(reused=reused, seconds=seconds, users_file=users_file, pairs_file=pairs_file)


def _holds(connection: psycopg.Connection[Any], plan: SeedPlan, log: Log) -> bool:
    """Whether the database holds exactly ``plan``'s rows, once what load runs added is removed."""
    recorded = connection.execute("SELECT users, tasks, seed, generator FROM bench_seed").fetchall()
    if recorded != [(plan.users, plan.tasks, plan.seed, GENERATOR)]:
        return False
    with connection.transaction():
        # Load runs create tasks (and, signed in, users) after the seeded span: forget them.
        connection.execute("DELETE FROM tasks WHERE created_at > %s", (SPAN_END,))
        connection.execute("DELETE FROM users WHERE created_at > %s", (SPAN_END,))
        connection.execute("DELETE FROM idempotency_keys")
    counts = connection.execute("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks)").fetchone()
    if counts != (plan.users, plan.tasks):
        log(f"bench_seed records this plan but the tables hold {counts}; loading again")
        return False
    log(f"the database already holds this seed ({plan.users:,} users, {plan.tasks:,} tasks, seed {plan.seed})")
    return True


def _load(connection: psycopg.Connection[Any], plan: SeedPlan, log: Log) -> None:
    try:
        from tqdm import tqdm  # noqa: PLC0415 (a development tool: the service itself never needs it)
    except ImportError as error:
        raise RuntimeError(
            "seeding shows its progress with tqdm: install the dev dependencies (make install)"
        ) from error

    rng = random.Random(plan.seed)
    log(f"generating {plan.users:,} users and the schedule of {plan.tasks:,} tasks (seed {plan.seed})")
    ids = corpus.user_ids(rng, plan.users)
    emails = corpus.emails(rng, plan.users)
    keys, first_task_ms, user_bits = _schedule(rng, plan.users, plan.tasks)
    titles = corpus.titles(rng, min(max(plan.tasks, 1), 50_000))
    descriptions = corpus.descriptions(rng, min(max(plan.tasks, 1), 20_000))

    connection.execute("SET synchronous_commit = off")
    connection.execute("SET maintenance_work_mem = '1GB'")
    with connection.transaction():
        connection.execute("TRUNCATE tasks, users, idempotency_keys, bench_seed")
        rebuild = _drop_keys_and_indexes(connection)
        with (
            connection.cursor().copy(f"COPY tasks ({_TASK_COLUMNS}) FROM STDIN (FORMAT BINARY, FREEZE)") as copy,
            tqdm(total=plan.tasks, unit=" tasks", unit_scale=True, desc="COPY tasks", smoothing=0.1) as bar,
        ):
            copy.set_types(_TASK_TYPES)
            rows = _tasks(rng, keys, user_bits, ids, titles, descriptions)
            for count, row in enumerate(rows, 1):
                copy.write_row(row)
                if count % _PROGRESS_STEP == 0:
                    bar.update(_PROGRESS_STEP)
            bar.update(plan.tasks % _PROGRESS_STEP)
        del keys
        with connection.cursor().copy("COPY users (id, email, created_at) FROM STDIN (FORMAT BINARY, FREEZE)") as copy:
            copy.set_types(["text", "text", "timestamptz"])
            for user, email, first_ms in zip(ids, emails, first_task_ms, strict=True):
                # Users sign up a little before their first task; those without tasks, any time.
                joined_ms = first_ms - rng.randrange(14 * _DAY_MS) if first_ms >= 0 else rng.randrange(_SPAN_MS)
                copy.write_row((user, email, _EPOCH + timedelta(milliseconds=max(joined_ms, 0))))
        for step, (name, statement) in enumerate(rebuild, 1):
            began = time.monotonic()
            connection.execute(statement)
            log(f"built {name} in {time.monotonic() - began:.1f} s ({step}/{len(rebuild)})")
        began = time.monotonic()
        connection.execute("ANALYZE users")
        connection.execute("ANALYZE tasks")
        log(f"analyzed in {time.monotonic() - began:.1f} s")


def _schedule(rng: random.Random, users: int, tasks: int) -> tuple[list[int], list[int], int]:
    """Every task as ``created_ms << bits | user``, sorted by creation; each user's first task (-1: none)."""
    weights = [rng.lognormvariate(0.0, 1.3) for _ in range(users)]
    scale = tasks / sum(weights)
    exact = [weight * scale for weight in weights]
    counts = [int(share) for share in exact]
    # The rounding leftovers go to the users closest to one more task.
    by_remainder = sorted(range(users), key=lambda user: exact[user] - counts[user], reverse=True)
    for user in by_remainder[: tasks - sum(counts)]:
        counts[user] += 1

    bits = max(1, (users - 1).bit_length())
    keys: list[int] = []
    first_task_ms: list[int] = []
    rand = rng.random
    for user, count in enumerate(counts):
        # Each user is active for a while: the heaviest throughout, the others for weeks to months.
        length = _SPAN_MS if count > 1000 else int(_SPAN_MS * (0.05 + 0.95 * rand() ** 0.5))
        start = rand() * (_SPAN_MS - length)
        created = [int(start + rand() * length) for _ in range(count)]
        first_task_ms.append(min(created, default=-1))
        keys.extend([ms << bits | user for ms in created])
    keys.sort()
    return keys, first_task_ms, bits


def _tasks(
    rng: random.Random,
    keys: list[int],
    user_bits: int,
    ids: list[str],
    titles: list[str],
    descriptions: list[str],
) -> Iterator[tuple[Any, ...]]:
    """The task rows, in creation order; each satisfies the schema's checks and the domain's rules."""
    rand, getrandbits, expovariate = rng.random, rng.getrandbits, rng.expovariate
    user_mask = (1 << user_bits) - 1
    title_count, description_count = len(titles), len(descriptions)
    mean_gap = 1 / (3 * _DAY_MS)
    for key in keys:
        created_ms = key >> user_bits
        bits = getrandbits(74)
        task_id = UUID(int=(_EPOCH_MS + created_ms) << 80 | _UUID7_BITS | (bits >> 62) << 64 | bits & _RANDOM_62)
        created = _EPOCH + timedelta(milliseconds=created_ms)
        title = titles[int(rand() * title_count)]
        description = descriptions[int(rand() * description_count)] if rand() < 0.55 else None
        left_ms = _SPAN_MS - created_ms
        # Old tasks are mostly done; recent ones mostly pending.
        if rand() < 0.75 - 0.6 * created_ms / _SPAN_MS:
            updated = completed_at = created + timedelta(milliseconds=min(int(expovariate(mean_gap)), left_ms))
            version = 2 if rand() < 0.8 else 3
            yield ids[key & user_mask], task_id, title, description, True, completed_at, created, updated, version
        elif rand() < 0.3:
            updated = created + timedelta(milliseconds=min(int(expovariate(mean_gap)), left_ms))
            version = 2 if rand() < 0.7 else 3
            yield ids[key & user_mask], task_id, title, description, False, None, created, updated, version
        else:
            yield ids[key & user_mask], task_id, title, description, False, None, created, created, 1


def _drop_keys_and_indexes(connection: psycopg.Connection[Any]) -> list[tuple[str, sql.SQL | sql.Composed]]:
    """Drop the task table's keys and indexes (a load is faster without them); return how to rebuild them."""
    constraints = connection.execute(_TASK_CONSTRAINTS).fetchall()
    indexes = connection.execute(_TASK_INDEXES).fetchall()
    for name, _, _ in constraints:  # foreign keys first: they depend on nothing here
        connection.execute(sql.SQL("ALTER TABLE tasks DROP CONSTRAINT {}").format(sql.Identifier(name)))
    for name, _ in indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    add = sql.SQL("ALTER TABLE tasks ADD CONSTRAINT {} {}")
    keys = [(name, add.format(sql.Identifier(name), sql.SQL(d))) for name, d, foreign in constraints if not foreign]
    rebuilt: list[tuple[str, sql.SQL | sql.Composed]] = [(name, sql.SQL(d)) for name, d in indexes]
    foreign = [(name, add.format(sql.Identifier(name), sql.SQL(d))) for name, d, foreign in constraints if foreign]
    return [*keys, *rebuilt, *foreign]


def _write_users(connection: psycopg.Connection[Any], path: Path) -> None:
    with path.open("w", encoding="utf-8") as file:
        for (user,) in connection.execute("SELECT id FROM users ORDER BY id"):
            file.write(f"{user}\n")


def _write_pairs(connection: psycopg.Connection[Any], plan: SeedPlan, path: Path) -> int:
    """A sample of ``plan.pairs`` seeded (user, task) pairs, the same for the same seeded database."""
    percent = min(100.0, 150.0 * plan.pairs / max(plan.tasks, 1))
    while True:
        # SYSTEM sampling takes whole pages: on a small table it can miss; then take more.
        params = {"percent": percent, "seed": plan.seed, "span_end": SPAN_END}
        rows = connection.execute(_PAIRS_SAMPLE, params).fetchall()
        if len(rows) >= plan.pairs or percent >= 100:
            break
        percent = min(100.0, percent * 4)
    random.Random(plan.seed).shuffle(rows)
    chosen = rows[: plan.pairs]
    with path.open("w", encoding="utf-8") as file:
        file.writelines(f"{user} {task}\n" for user, task in chosen)
    return len(chosen)
