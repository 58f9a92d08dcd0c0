"""What processes cost, read from /proc: CPU time, peak memory, storage reads, and the machine's busy time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """One process at one moment: CPU seconds so far (user + system), peak and current resident memory."""

    pid: int
    cpu_s: float
    hwm_kb: int
    rss_kb: int


def usage(pid: int) -> Usage | None:
    """The process's usage, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces; what follows ")" does not
    memory = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return Usage(
        pid=pid,
        cpu_s=(int(fields[11]) + int(fields[12])) / TICKS,
        hwm_kb=int(memory.get("VmHWM", 0)),
        rss_kb=int(memory.get("VmRSS", 0)),
    )


def children(pid: int) -> list[int]:
    """Every descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def workers(pid: int) -> list[int]:
    """The worker processes of a uvicorn started as ``pid`` (itself when it runs a single process)."""
    spawned = []
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"spawn_main" in command:
            spawned.append(child)
    return sorted(spawned) or [pid]


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores) since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS


def postgres_seconds(postmaster: int) -> float:
    """CPU seconds of one PostgreSQL server: its postmaster, its live processes, and those it has reaped."""
    own = usage(postmaster)
    if own is None:
        return 0.0
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(fields[13]) + int(fields[14])) / TICKS  # cutime + cstime: backends and workers that exited
    return own.cpu_s + reaped + sum(cpu for cpu in cpu_of(children(postmaster)).values())


def postmaster_of(backend: int) -> int:
    """The postmaster of a backend (its parent), so that only that server is counted, not another cluster."""
    return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds so far of each process still alive."""
    found = {}
    for pid in pids:
        if (sample := usage(pid)) is not None:
            found[pid] = sample.cpu_s
    return found


def storage_reads(pids: list[int]) -> int:
    """Bytes the processes have had read from storage so far (not from the operating system's cache)."""
    total = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/io").read_text().splitlines()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith("read_bytes:")), 0)
    return total
