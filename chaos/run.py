"""Chaos test of the promise "acknowledged writes survive": a Jepsen-style set test.

    .venv/bin/python chaos/run.py --duration 300 --clients 8 --kills 6 [--seed N]

Starts a throwaway PostgreSQL on a spare port (fsync on) and `todo serve` on it with two
workers and signed tokens. Concurrent clients create distinct tasks, one idempotency key per
intended task, retrying the same request on 503, 409 REQUEST_IN_PROGRESS, timeouts and
connection errors, while the nemesis SIGKILLs PostgreSQL at random moments and restarts it
on the same data directory. After the load, one more crash and restart; then every task is
read back through the API and straight from the table. Every task acknowledged with a 201
must exist exactly once, and nothing may exist that no client sent.

Prints the figures and each restart's recovery time (from the restart until the first 201),
writes them to chaos/results/<time>-seed<N>/result.json beside the server's and PostgreSQL's
logs, and exits 1 unless nothing was lost, duplicated or unexpected (2 when it cannot run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import signal
import socket
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Final

import httpx
import psycopg
from checker import Verdict, check, read_api, read_database
from cluster import PostgresServer, become_subreaper, find_bin_dir
from nemesis import Crash, crash_and_restart, plan_crashes, run_nemesis
from report import print_report, result_document, write_result
from todo_server import TodoService
from workload import History, run_client

RESULTS: Final = Path(__file__).resolve().parent / "results"
PROGRESS_EVERY: Final = 10.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)  # noqa: S311 -- reproducible chaos, not secrets
    try:
        crashes = plan_crashes(rng, duration=args.duration, kills=args.kills, longest_down=args.max_down)
    except ValueError as error:
        print(f"chaos: {error}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    out = args.results / f"{started:%Y%m%dT%H%M%SZ}-seed{seed}"
    out.mkdir(parents=True)
    become_subreaper()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (nohup, &)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)

    with ExitStack() as cleanup:
        cleanup.callback(_reap_children)  # last, once the service and PostgreSQL are stopped
        cluster = PostgresServer(
            bin_dir=args.pg_bin or find_bin_dir(), port=_free_port(), log_path=out / "postgres.log"
        )
        cleanup.callback(cluster.destroy)
        service = TodoService(
            database_url=cluster.url("todo"), port=_free_port(), workers=args.workers, log_path=out / "server.log"
        )
        cleanup.callback(service.stop)
        config = {
            "seed": seed,
            "duration": args.duration,
            "clients": args.clients,
            "kills": args.kills,
            "max_down": args.max_down,
            "client_timeout": args.timeout,
            "impatience": args.impatience,
            "workers": args.workers,
            "postgres_port": cluster.port,
            "service_url": service.base_url,
            "started_at": started.isoformat(),
        }
        print(f"chaos: seed {seed}; PostgreSQL on port {cluster.port}, todo serve at {service.base_url}")
        print(f"chaos: logs and result in {out}")
        try:
            history, verdict = asyncio.run(_chaos(args, rng, crashes, cluster, service))
        except KeyboardInterrupt:
            print("chaos: interrupted; stopping the service and PostgreSQL, removing its data", file=sys.stderr)
            return 130
        except (RuntimeError, TimeoutError) as error:
            print(f"chaos: could not run: {error}", file=sys.stderr)
            return 2

    logs = {"server": str(out / "server.log"), "postgres": str(out / "postgres.log")}
    document = result_document(config=config, verdict=verdict, history=history, crashes=crashes, logs=logs)
    path = out / "result.json"
    write_result(document, path)
    print_report(document, path)
    return 0 if document["passed"] else 1


async def _chaos(
    args: argparse.Namespace, rng: random.Random, crashes: list[Crash], cluster: PostgresServer, service: TodoService
) -> tuple[History, Verdict]:
    _setup("initdb, start PostgreSQL")
    await asyncio.to_thread(cluster.init)
    cluster.start()
    await cluster.wait_ready()
    await _create_database(cluster)
    _setup("start todo serve --migrate and wait for /health/ready")
    service.start()
    await service.wait_ready()
    tokens = {f"client-{number}": service.token(f"client-{number}") for number in range(1, args.clients + 1)}
    await _register_users(service.base_url, tokens)
    kills = ", ".join(f"{crash.killed_at:.1f} s (down {crash.down_for:.1f} s)" for crash in crashes) or "none"
    _setup(f"{args.clients} clients for {args.duration:g} s; kills planned at {kills}")

    history = History()
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(
            run_client(
                number,
                base_url=service.base_url,
                user_id=user_id,
                token=token,
                request_timeout=args.timeout,
                impatience=args.impatience,
                history=history,
                stop=stop,
            )
        )
        for number, (user_id, token) in enumerate(tokens.items(), start=1)
    ]
    progress = asyncio.create_task(_show_progress(history))
    await run_nemesis(cluster, crashes, history, load_ends=args.duration)
    await asyncio.sleep(max(0.0, args.duration - history.now()))
    stop.set()
    await _drain(clients, history, within=args.drain)
    progress.cancel()

    down_for = round(rng.uniform(0, args.max_down), 1)
    final = Crash(number=len(crashes) + 1, killed_at=0.0, down_for=down_for, during_load=False)
    _say(history, "one more crash, so that every acknowledged write is read back after a crash recovery")
    await crash_and_restart(cluster, final, history)
    crashes.append(final)
    _say(history, "reading every task back through the API and from the table")
    api, api_error = None, None
    try:
        await service.wait_ready()
        api = await read_api(service.base_url, tokens, request_timeout=30.0)
    except (RuntimeError, TimeoutError) as error:
        api_error = str(error)
        _say(history, f"cannot read the tasks through the API: {api_error}")
    table, keys = await read_database(cluster.url("todo"))
    return history, check(history, api=api, table=table, keys=keys, api_error=api_error)


async def _create_database(cluster: PostgresServer) -> None:
    async with await psycopg.AsyncConnection.connect(cluster.url("postgres"), autocommit=True) as connection:
        await connection.execute("CREATE DATABASE todo")


async def _register_users(base_url: str, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
        for user_id, token in tokens.items():
            response = await http.post(
                "/api/users",
                json={"email": f"{user_id}@example.com"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"register {user_id}"},
            )
            if response.status_code != 201:
                raise RuntimeError(f"registering {user_id} answered {response.status_code}: {response.text}")


async def _drain(clients: list[asyncio.Task[None]], history: History, *, within: float) -> None:
    """Let each client finish the task under way; cancel those still retrying after ``within``."""
    _say(history, f"load over; clients finish the task under way (at most {within:g} s)")
    _, pending = await asyncio.wait(clients, timeout=within)
    for client in pending:
        client.cancel()
    for client in clients:
        with contextlib.suppress(asyncio.CancelledError):
            await client  # a client that failed (a bug of this harness) fails the run here


async def _show_progress(history: History) -> None:
    acknowledged, retried = 0, 0
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        now_acknowledged, now_retried = len(history.acknowledged), history.retries.total()
        reasons = ", ".join(f"{reason} x{count}" for reason, count in history.retries.most_common()) or "none"
        _say(
            history,
            f"acknowledged {now_acknowledged} (+{now_acknowledged - acknowledged}), "
            f"retries {now_retried} (+{now_retried - retried}: {reasons}), "
            f"unexpected responses {history.anomaly_count}",
        )
        acknowledged, retried = now_acknowledged, now_retried


def _setup(message: str) -> None:
    print(f"[  setup ] {message}", flush=True)


def _say(history: History, message: str) -> None:
    print(f"[{history.now():7.1f}s] {message}", flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _reap_children(*, within: float = 5.0) -> None:
    """Reap what was re-parented to this process (a subreaper) and was killed, so that no zombie outlives it."""
    deadline = time.monotonic() + within
    with contextlib.suppress(ChildProcessError):  # no children left
        while time.monotonic() < deadline:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.05)


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients, one user each (default 8)")
    parser.add_argument("--kills", type=int, default=6, help="SIGKILLs of PostgreSQL during the load (default 6)")
    parser.add_argument("--seed", type=int, help="seed for the kill moments and downtimes (default: random)")
    parser.add_argument("--max-down", type=float, default=5.0, help="longest downtime after a kill, s (default 5)")
    parser.add_argument("--timeout", type=float, default=3.0, help="client timeout per request, s (default 3)")
    parser.add_argument(
        "--impatience",
        type=float,
        default=0.05,
        help="share of requests that time out after 1-30 ms, to exercise retries of work still running (0.05)",
    )
    parser.add_argument("--workers", type=int, default=2, help="todo serve worker processes (default 2)")
    parser.add_argument("--drain", type=float, default=30.0, help="seconds clients get to finish, s (default 30)")
    parser.add_argument("--pg-bin", type=Path, help="PostgreSQL's bin directory (default: the newest installed)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write results (default chaos/results)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
