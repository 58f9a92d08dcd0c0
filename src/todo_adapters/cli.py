"""The ``todo`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

import psycopg
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from todo_adapters.bench import add_bench_commands
from todo_adapters.http import create_app
from todo_adapters.http.app import storage_from_settings
from todo_adapters.http.observability import configure_logging
from todo_adapters.listeners import PortShare, spreads_connections
from todo_adapters.postgres import Migrator, PostgresStorage
from todo_adapters.settings import Settings, SettingsError
from todo_adapters.wire import OneWriteHttpToolsProtocol
from todo_core import TaskService, TodoError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"todo: {error}", file=sys.stderr)
        return 2
    return int(args.command(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="todo", description="The todo task service.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the REST API", description="Serve the REST API with uvicorn.")
    serve.add_argument("--host", help="interface to listen on (TODO_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (TODO_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (TODO_WORKERS, default 1)")
    serve.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (TODO_LOG_LEVEL, default info)",
    )
    serve.add_argument(
        "--migrate", action="store_true", help="apply pending migrations first instead of refusing to start"
    )
    serve.set_defaults(command=_serve)

    migrate = commands.add_parser(
        "migrate",
        help="apply, roll back or list schema migrations",
        description="Manage the schema of the database at TODO_DATABASE_URL.",
    )
    migrate.add_argument("action", nargs="?", choices=["apply", "rollback", "list"], default="apply")
    migrate.add_argument("--count", type=_positive, default=1, help="migrations to roll back (default 1)")
    migrate.add_argument("--all", action="store_true", help="roll back every migration")
    migrate.set_defaults(command=_migrate)

    purge = commands.add_parser(
        "purge-idempotency-keys",
        help="forget idempotency keys past their retention",
        description="Delete the idempotency keys whose retention has passed (a running server also does this "
        "every hour).",
    )
    purge.set_defaults(command=_purge_idempotency_keys)
    add_bench_commands(commands)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    workers = args.workers or settings.workers
    log_level = args.log_level or settings.log_level
    configure_logging(level=log_level, json_lines=settings.log_format == "json")
    if settings.database_url is None and workers > 1:
        return _fail(
            "the in-memory store lives inside one process, so it cannot be shared by "
            f"{workers} workers. Use --workers 1, or set TODO_DATABASE_URL to serve from PostgreSQL."
        )
    try:
        create_app(settings=settings)  # the workers build the same app: refuse a bad configuration once, here
    except SettingsError as error:
        return _fail(str(error))
    if settings.database_url is not None and not _schema_ready(Migrator(settings.database_url), apply=args.migrate):
        return 2
    # uvicorn drains in-flight requests on SIGTERM, then raises the signal again so the process
    # ends "killed by SIGTERM"; a drained shutdown is a clean one, so that last raise exits 0.
    signal.signal(signal.SIGTERM, lambda *_: None)
    config = uvicorn.Config(
        "todo_adapters.http.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        loop="uvloop",
        http=OneWriteHttpToolsProtocol,
        server_header=False,
        date_header=True,
        log_config=None,  # configure_logging owns the handlers, in this process and in each worker
        access_log=False,  # the app logs each request itself, without query strings
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace),
    )
    if workers > 1 and spreads_connections():
        return _serve_on_shared_port(config)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else STARTUP_FAILURE


def _serve_on_shared_port(config: uvicorn.Config) -> int:
    """uvicorn's supervisor and workers, each worker listening on a socket of its own (see ``listeners``)."""
    log = logging.getLogger("uvicorn.error")
    try:
        share = PortShare.bind_to(config.host, config.port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, error)
        return STARTUP_FAILURE
    where = f"[{config.host}]" if ":" in config.host else config.host
    log.info(
        "Uvicorn running on http://%s:%d with %d workers, each listening on its own socket",
        where,
        share.getsockname()[1],  # the port itself when asked for port 0
        config.workers,
    )
    with share, contextlib.suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[share]).run()
    return 0


def _schema_ready(migrator: Migrator, *, apply: bool) -> bool:
    """Whether serving may start: the schema is current (or was just made so), or cannot be checked yet."""
    try:
        if apply:
            for migration in migrator.apply():
                print(f"todo: applied migration {migration}", file=sys.stderr)
            return True
        pending = migrator.pending()
    except FileNotFoundError as error:
        _fail(str(error))
        return False
    except psycopg.Error as error:
        # Serve anyway: the database may be starting too, and data requests answer 503 until it is up.
        print(f"todo: could not check migrations ({_first_line(error)}); starting anyway", file=sys.stderr)
        return True
    if pending:
        _fail(
            f"the database has {len(pending)} pending migration(s): {', '.join(pending)}. "
            "Apply them with 'todo migrate' (or 'make migrate'), or start with 'todo serve --migrate'."
        )
        return False
    return True


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is None:
        return _fail("set TODO_DATABASE_URL to the database to migrate, e.g. postgresql://postgres@127.0.0.1/todo")
    migrator = Migrator(settings.database_url)
    try:
        if args.action == "list":
            for migration in migrator.status():
                print(f"{'applied' if migration.applied else 'pending'}  {migration.id}")
            return 0
        if args.action == "rollback":
            rolled_back = migrator.rollback(count=None if args.all else args.count)
            print(f"rolled back {len(rolled_back)} migration(s): {', '.join(rolled_back) or 'none'}")
            return 0
        applied = migrator.apply()
    except FileNotFoundError as error:
        return _fail(str(error))
    except psycopg.Error as error:
        return _fail(f"cannot reach the database: {_first_line(error)}")
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none, the schema is current'}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _purge_idempotency_keys(_: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is None:
        return _fail("set TODO_DATABASE_URL: the in-memory store lives in a server process and purges itself")
    storage = storage_from_settings(settings)
    retention = timedelta(hours=settings.idempotency_retention_hours)

    async def purge() -> int:
        assert isinstance(storage, PostgresStorage)
        await storage.open(wait=True, wait_seconds=settings.db_pool_timeout)
        try:
            return await TaskService(storage, key_retention=retention).purge_idempotency_keys()
        finally:
            await storage.close()

    try:
        purged = asyncio.run(purge())
    except TodoError as error:
        return _fail(error.message)
    except psycopg.Error as error:
        return _fail(f"cannot reach the database: {_first_line(error)}")
    print(f"purged {purged} expired idempotency key(s)")
    return 0


def _fail(message: str) -> int:
    print(f"todo: {message}", file=sys.stderr)
    return 2


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
