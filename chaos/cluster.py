"""A throwaway PostgreSQL server on a spare port, which can be crashed with SIGKILL and restarted.

Its data directory lives under a fresh ``/tmp/todo-chaos-*`` directory that ``destroy()``
removes. fsync and synchronous_commit stay on: durability is what the chaos run tests.
PostgreSQL refuses to run as root, so when this process is root the server runs as the
``postgres`` OS user.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import psycopg

__all__ = ["PostgresServer", "become_subreaper", "find_bin_dir"]

_PR_SET_CHILD_SUBREAPER: Final = 36
_SETTINGS: Final = {
    "listen_addresses": "127.0.0.1",
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    # Frequent checkpoints, so that crashes land before, during and after one.
    "checkpoint_timeout": "30s",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
    # The log then shows whether the service reconnects after each restart.
    "log_connections": "on",
    "log_disconnections": "on",
}
ACTIVITY: Final = """
    SELECT pid, application_name, client_port, backend_start, state, wait_event_type, wait_event,
           now() - state_change AS in_state_for, left(query, 100) AS query
    FROM pg_stat_activity WHERE datname = 'todo' AND pid <> pg_backend_pid()
"""


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries, or wherever ``postgres`` is on the PATH."""
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if installed:
        return installed[-1].parent
    found = shutil.which("postgres")
    if found is None:
        raise FileNotFoundError("no PostgreSQL binaries found: pass --pg-bin")
    return Path(found).parent


def become_subreaper() -> None:
    """Have the backends of a killed postmaster re-parented to this process, which kills and
    reaps them, rather than to an init that may never reap them."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class PostgresServer:
    """One PostgreSQL cluster: ``init()``, then ``start()``/``crash()`` as often as wanted, then ``destroy()``."""

    def __init__(self, *, bin_dir: Path, port: int, log_path: Path) -> None:
        self.port = port
        self._bin_dir = bin_dir
        self._log_path = log_path
        self._root = Path(tempfile.mkdtemp(prefix="todo-chaos-"))
        self._data = self._root / "data"
        self._process: subprocess.Popen[bytes] | None = None
        self._postmasters: list[int] = []
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self._owner is not None:
            os.chown(self._root, self._owner.pw_uid, self._owner.pw_gid)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        command = [
            str(self._bin_dir / "initdb"),
            f"--pgdata={self._data}",
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        result = subprocess.run(  # noqa: S603 -- the arguments are ours, not input
            command, capture_output=True, text=True, check=False, **self._as_owner()
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def start(self) -> int:
        """Start the server on the same data directory (crash recovery if it was killed); returns its pid."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("PostgreSQL is already running")
        settings = {**_SETTINGS, "port": str(self.port), "unix_socket_directories": str(self._root)}
        command = [str(self._bin_dir / "postgres"), "-D", str(self._data)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with self._log_path.open("ab") as log:
            # Its own session, so that a Ctrl-C at the terminal reaches only this process, which then stops it.
            self._process = subprocess.Popen(  # noqa: S603 -- the arguments are ours, not input
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self._as_owner()
            )
        self._postmasters.append(self._process.pid)
        return self._process.pid

    async def wait_ready(self, *, within: float = 120.0) -> None:
        """Return once the server accepts connections (after any crash recovery)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited while starting:\n{self.log_tail()}")
            try:
                connection = await psycopg.AsyncConnection.connect(self.url("postgres"), connect_timeout=2)
            except psycopg.OperationalError:
                await asyncio.sleep(0.02)
                continue
            await connection.close()
            return
        raise TimeoutError(f"PostgreSQL did not accept connections within {within} s:\n{self.log_tail()}")

    def crash(self) -> int:
        """SIGKILL the postmaster, then every process it had started; returns how many were still alive.

        Each backend runs in its own session, and notices its postmaster's death only at its
        next wait: one left running would keep its client's connection and the shared memory,
        and a restart would refuse to start. Killing them all is a whole-server crash.
        """
        process = self._process
        if process is None or process.poll() is not None:
            return 0
        started = [child.pid for child in _postgres_processes() if child.ppid == process.pid]
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return self._kill_leftovers(process.pid, started)

    def stop(self) -> None:
        """Shut down cleanly (a fast shutdown), or crash it when that takes too long."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.crash()
        self._kill_leftovers(process.pid, [])

    def destroy(self) -> None:
        """Stop the server and remove its data directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self._root, ignore_errors=True)

    def processes(self) -> list[str]:
        """This cluster's processes as ``ps`` shows them: a backend's title says what it is doing."""
        postmasters = set(self._postmasters)
        return [
            f"pid {p.pid} ppid {p.ppid} state {p.state} wchan {_read(f'/proc/{p.pid}/wchan') or '-'}: {p.title}"
            for p in _postgres_processes()
            if p.pid in postmasters or p.ppid in postmasters or p.ppid == os.getpid()
        ]

    async def activity(self) -> list[str]:
        """What each connection to the ``todo`` database is doing, from ``pg_stat_activity``."""
        async with await psycopg.AsyncConnection.connect(self.url("todo"), connect_timeout=5) as connection:
            rows = await (await connection.execute(ACTIVITY)).fetchall()
        return [" | ".join(str(value) for value in row) for row in rows]

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(_read(self._log_path).splitlines()[-lines:])

    def _kill_leftovers(self, postmaster: int, started: Iterable[int], *, within: float = 10.0) -> int:
        """SIGKILL what ``postmaster`` had started until none is alive, and reap those re-parented here."""
        victims, killed = set(started), set()
        deadline = time.monotonic() + within
        while True:
            running = list(_postgres_processes())
            victims &= {p.pid for p in running}  # forget the reaped: their ids may be reused
            victims |= {p.pid for p in running if p.ppid in (postmaster, os.getpid())}
            alive = {p.pid for p in running if p.pid in victims and p.state != "Z"}
            for pid in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            killed |= alive
            for pid in victims - alive:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
            if not alive:
                return len(killed)
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL processes survive SIGKILL: {sorted(alive)}")
            time.sleep(0.01)

    def _as_owner(self) -> dict[str, Any]:
        if self._owner is None:
            return {}
        return {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}


@dataclass(frozen=True, slots=True)
class _Process:
    pid: int
    ppid: int
    state: str
    title: str


def _postgres_processes() -> Iterator[_Process]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _read(entry / "stat")
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        comm, _, rest = stat.partition("(")[2].rpartition(")")
        fields = rest.split()
        if comm == "postgres" and len(fields) > 1:
            title = _read(entry / "cmdline").replace("\0", " ").strip()
            yield _Process(pid=int(entry.name), ppid=int(fields[1]), state=fields[0], title=title)


def _read(path: Path | str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
