"""The benchmark's own PostgreSQL server: a cluster kept under ``bench/.postgres``, set up for the data it holds.

A benchmark of the service needs the database under it configured the way a deployment of that
size would be, and the same on every machine. PostgreSQL's defaults are not that: its 128 MB of
shared buffers hold the 100k-task tables but a small part of the 10M ones, so at 10M a request
pays for reads outside them, from the operating system's cache when it still holds the blocks and
from the disk when it does not (some virtual machines hand cold page cache back to the host).
What ``make bench-scale`` would then measure is the machine's cache, not the service.

So the benchmark starts a cluster of its own, on a free port, with the shared buffers that
PostgreSQL's documentation suggests for a server of its own (a quarter of the memory), and stops
it at the end. The machine's server is never reconfigured. The data directory stays, so seeded
databases are reused by the next run; ``rm -rf bench/.postgres`` removes them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_HOME = ROOT / "bench" / ".postgres"


def memory_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20


def settings_for(shared_buffers_mb: int) -> dict[str, str]:
    """The server's settings besides the port: what PostgreSQL's tuning advice gives for this machine."""
    return {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": "",  # TCP only: a socket path under a deep checkout can exceed 107 bytes
        "shared_buffers": f"{shared_buffers_mb}MB",
        # What the planner may assume the operating system caches besides: three quarters of the memory.
        "effective_cache_size": f"{memory_mb() * 3 // 4}MB",
        "maintenance_work_mem": "512MB",  # seeding builds the indexes after loading the rows
        "max_wal_size": "4GB",  # seeding 10M tasks would otherwise checkpoint every few seconds
        "max_connections": "300",  # three sizes served at once, each with its pools (up to 32 connections a server)
        "log_min_messages": "warning",
    }


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries, or wherever ``pg_ctl`` is on the PATH."""
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if installed:
        return installed[-1].parent
    found = shutil.which("pg_ctl")
    if found is None:
        raise FileNotFoundError("no PostgreSQL server binaries (pg_ctl, initdb) found; pass --server URL instead")
    return Path(found).parent


class BenchPostgres:
    """``start()`` gives the server's URL (without a database); ``stop()`` shuts it down, keeping its data."""

    def __init__(self, *, home: Path = DEFAULT_HOME, shared_buffers_mb: int | None = None) -> None:
        self.bin_dir = find_bin_dir()
        version = self._output("postgres", "--version").split()[-1].split(".")[0]
        self.home = home / version
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.settings = settings_for(shared_buffers_mb or memory_mb() // 4)
        # PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.port = 0

    def start(self) -> str:
        self.home.mkdir(parents=True, exist_ok=True)
        if self._owner is not None:
            os.chown(self.home, self._owner.pw_uid, self._owner.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            print(f"creating the benchmark's PostgreSQL cluster in {self.data}", flush=True)
            self._run("initdb", f"--pgdata={self.data}", "--auth=trust", "--username=postgres", "--encoding=UTF8")
        self._stop_leftover()
        self.port = _free_port()
        options = " ".join(f"-c {name}='{value}'" for name, value in {**self.settings, "port": str(self.port)}.items())
        self._run(
            "pg_ctl", "start", "--wait", "--timeout=300", f"--pgdata={self.data}", f"--log={self.log}", "-o", options
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "--wait", "--mode=fast", f"--pgdata={self.data}")

    def describe(self) -> str:
        return (
            f"the benchmark's own PostgreSQL server (bench/.postgres), shared_buffers {self.settings['shared_buffers']}"
            f" (a quarter of the memory unless --shared-buffers says), effective_cache_size "
            f"{self.settings['effective_cache_size']}"
        )

    def _stop_leftover(self) -> None:
        """A run that was killed leaves its server up, on a port now unknown: stop it, to start with these settings."""
        status = subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "status", f"--pgdata={self.data}"],
            capture_output=True,
            check=False,
            **self._as_owner(),
        )
        if status.returncode == 0:
            self.stop()

    def _run(self, program: str, *arguments: str) -> None:
        done = subprocess.run(
            [str(self.bin_dir / program), *arguments], capture_output=True, text=True, check=False, **self._as_owner()
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}\nlog: {self.log}")

    def _output(self, program: str, *arguments: str) -> str:
        return subprocess.run(
            [str(self.bin_dir / program), *arguments], capture_output=True, text=True, check=True
        ).stdout.strip()

    def _as_owner(self) -> dict[str, Any]:
        if self._owner is None:
            return {}
        return {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": [], "cwd": "/"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
