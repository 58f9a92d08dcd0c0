"""The ``todo`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from todo_adapters.settings import Settings, SettingsError

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
    serve.set_defaults(command=_serve)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    workers = args.workers or settings.workers
    log_level = args.log_level or settings.log_level
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s: %(message)s")
    if settings.database_url is None and workers > 1:
        print(
            "todo: the in-memory store lives inside one process, so it cannot be shared by "
            f"{workers} workers. Use --workers 1, or set TODO_DATABASE_URL to serve from PostgreSQL.",
            file=sys.stderr,
        )
        return 2
    uvicorn.run(
        "todo_adapters.http.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        loop="uvloop",
        http="httptools",
        server_header=False,
        date_header=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
