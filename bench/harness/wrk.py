"""Run wrk with one of the Lua scripts in bench/wrk and read the JSON line its done() prints."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parents[1] / "wrk"
MARKER = "BENCH_RESULT "


class WrkFailed(RuntimeError):
    """wrk did not run, or printed no result."""


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkFailed("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk (macOS)")
    return found


def run(
    url: str,
    script: str,
    *,
    connections: int,
    threads: int,
    seconds: float,
    env: dict[str, str],
    raw: Path | None = None,
    timeout_s: int = 10,
) -> dict[str, Any]:
    """One wrk run; the script's result, with the CPU time wrk itself used."""
    command = [
        require_wrk(),
        "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", f"{timeout_s}s",
        "-s", str(SCRIPTS / script), url,
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    finished = subprocess.run(
        command,
        env={**os.environ, **env, "BENCH_THREADS": str(threads)},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if raw is not None:
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(f"$ {' '.join(command)}\n{finished.stdout}\n{finished.stderr}")
    lines = [line for line in finished.stdout.splitlines() if line.startswith(MARKER)]
    if finished.returncode != 0 or not lines:
        detail = (finished.stderr or finished.stdout).strip()[-500:]
        raise WrkFailed(f"wrk {script} failed ({finished.returncode}): {detail}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    socket_errors = result["socket_errors"]
    result["errors"] = result["non_2xx"] + sum(socket_errors.values())
    result["wrk_cpu_s"] = round(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3
    )  # every child waited for in between is this wrk
    return result
