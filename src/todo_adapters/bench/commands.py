"""``todo bench ...``: the command line of the benchmark tooling (``bench/run.py`` drives it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import psycopg

from todo_adapters.bench.seed import SeedPlan, seed_database
from todo_adapters.settings import Settings

__all__ = ["add_bench_commands"]


def add_bench_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Register ``bench`` and its actions under the ``todo`` command."""
    bench = commands.add_parser(
        "bench", help="benchmark tooling", description="Tools for load tests (make bench runs them all)."
    )
    actions = bench.add_subparsers(required=True, metavar="ACTION")
    seed = actions.add_parser(
        "seed",
        help="fill the database with realistic, deterministic data",
        description="Migrate the database at TODO_DATABASE_URL and fill it through COPY with USERS users and "
        "TASKS tasks (a fixed random seed: the same data every time), or reuse it when it already holds "
        "them. Writes users.txt and pairs.txt (<user_id> <task_id>) for the load scripts.",
    )
    seed.add_argument("--users", type=_count, default=10_000, help="users (default 10000)")
    seed.add_argument("--tasks", type=_count, default=1_000_000, help="tasks (default 1000000)")
    seed.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    seed.add_argument("--pairs", type=_count, default=100_000, help="(user, task) pairs to sample (default 100000)")
    seed.add_argument("--out", type=Path, default=Path(), help="where to write users.txt and pairs.txt (default .)")
    seed.add_argument("--force", action="store_true", help="load again even if the database holds this seed")
    seed.set_defaults(command=_seed)


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is None:
        print("todo: set TODO_DATABASE_URL to the database to seed (its data is replaced)", file=sys.stderr)
        return 2
    try:
        plan = SeedPlan(users=args.users, tasks=args.tasks, seed=args.seed, pairs=args.pairs)
        seed_database(settings.database_url, plan, args.out, force=args.force, log=_log)
    except (psycopg.Error, RuntimeError) as error:
        print(f"todo: seeding failed: {error}", file=sys.stderr)
        return 1
    return 0


def _log(message: str) -> None:
    print(f"todo bench seed: {message}", file=sys.stderr, flush=True)


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value
