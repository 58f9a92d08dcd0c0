"""Measure the service under load, and optionally a peer implementation of the same API beside it.

    .venv/bin/python bench/run.py [--peer DIR] [options]     # make bench [PEER=DIR]
    .venv/bin/python bench/run.py --scale [--sizes 100k,1m]   # make bench-scale [PEER=DIR]

A run seeds (or reuses) a scratch database per implementation, starts each server with two
workers, and drives every scenario with wrk and the Lua scripts in bench/wrk, in two kinds of
run: capacity (a closed loop at 64 connections: throughput and latency at full load) and users
(1,000 connections, each a user pausing about a second between requests: the latency 1,000
real users would see). Ours runs with authentication off, then on (EdDSA tokens checked against
a JWKS served here); the peer, given with --peer, runs the scenarios it supports, alternating
with ours. Each capacity run is made twice (--rounds), ours and the peer in turn, and the better
one counts: a machine shared with other work only ever lowers throughput, so the better run is
the nearer to what the server can do. --scale measures get and list on tables of 100k, 1M and
10M tasks instead, all served at once and measured in turn, several times (--scale-rounds).

Results go to bench/results/<timestamp>/: results.json, results.md (also printed at the end),
chart.png, the data files the scripts read, wrk's raw output and the servers' logs.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from harness import procs, report, wrk
from harness.postgres import BenchPostgres
from harness.servers import Server
from harness.targets import Target, ours_server, peer_server, prepare_ours, prepare_peer
from harness.tokens import Jwks

from todo_adapters.bench.corpus import SEARCH_WORDS
from todo_adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
NOISY_CORES = 0.25  # other processes using more than this meanwhile make a run's numbers doubtful
SORTS = ("-created", "created", "-updated", "updated", "title", "-title")


@dataclass(frozen=True)
class Scenario:
    """What a wrk script does, whether the peer can do it too, and whether it writes."""

    name: str
    script: str
    env: dict[str, str] = field(default_factory=dict)
    peer: bool = False
    writes: bool = False
    users_mode: bool = True


@dataclass(frozen=True)
class Planned:
    """One wrk run to make."""

    mode: str  # capacity | users
    scenario: Scenario
    target: Target
    auth: str  # off | on
    size: str = ""


def scenarios(*, list_variants: bool) -> list[Scenario]:
    found = [
        Scenario("get", "get.lua", peer=True),
        Scenario("list", "list.lua", {"BENCH_LIST_QUERY": "limit=50"}, peer=True),
    ]
    if list_variants:
        for sort in SORTS:
            for status, search in (("", False), ("pending", False), ("", True)):
                if sort == "-created" and not status and not search:
                    continue  # that is "list"
                query = f"limit=50&sort={sort}" + (f"&status={status}" if status else "")
                name = f"list sort={sort}" + (f" status={status}" if status else "") + (" q=word" if search else "")
                env = {"BENCH_LIST_QUERY": query, "BENCH_LIST_SEARCH": "1" if search else "0"}
                found.append(Scenario(name, "list.lua", env, users_mode=False))
    found += [
        Scenario("create", "create.lua", peer=True, writes=True),
        Scenario("replace", "replace.lua", peer=True, writes=True),
        Scenario("patch", "patch.lua", writes=True),
        Scenario("toggle", "toggle.lua", peer=True, writes=True),
        Scenario("delete", "delete.lua", peer=True, writes=True),
        Scenario("mixed", "mixed.lua", peer=True, writes=True),
    ]
    return found


class Bench:
    """Runs planned wrk runs against started servers and keeps what they measured."""

    def __init__(self, args: argparse.Namespace, out: Path) -> None:
        self.args, self.out = args, out
        self.runs: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.phases: list[dict[str, Any]] = []
        self.done = 0
        self.total = 0
        self.later: list[Planned] = []  # runs of phases still to come, for the estimate of time left
        self.started = time.monotonic()

    # ----------------------------------------------------------------- one run
    def seconds_of(self, planned: Planned) -> float:
        if planned.mode == "capacity":
            return self.args.warmup + self.args.duration + 2 + (4 if planned.scenario.writes else 0)
        return self.args.users_warmup + self.args.users_duration + 2 + (4 if planned.scenario.writes else 0)

    def execute(self, planned: Planned, remaining: list[Planned]) -> dict[str, Any]:
        args, target, scenario = self.args, planned.target, planned.scenario
        server = target.server
        assert server is not None
        self.done += 1
        left = sum(self.seconds_of(p) for p in remaining)
        where = f"{target.name} (auth {planned.auth})" + (f", {planned.size} tasks" if planned.size else "")
        print(f"[{self.done}/{self.total}] {planned.mode:8} {scenario.name} · {where} · ~{_duration(left)} left",
              flush=True)  # fmt: skip

        capacity = planned.mode == "capacity"
        connections = args.connections if capacity else args.user_connections
        seconds = args.duration if capacity else args.users_duration
        env = {
            "BENCH_DATA": str(target.data_dir),
            "BENCH_SEARCH_WORDS": ",".join(SEARCH_WORDS),
            "BENCH_AUTH": "1" if planned.auth == "on" else "0",
            "BENCH_THINK_MS": "0" if capacity else str(args.think_ms),
            **scenario.env,
        }
        if not capacity:
            people, their_tasks = target.simulated_users(connections)
            env["BENCH_SIMULATED_USERS"], env["BENCH_PAIRS"] = str(people), str(their_tasks)
        label = f"{self.done:03d}-{target.name}-{planned.auth}-{planned.mode}-{scenario.name}"
        label = label.replace(" ", "_").replace("=", "").replace("&", "")
        pool = self._delete_pools(planned, env, label) if scenario.name == "delete" else {}
        run = functools.partial(wrk.run, server.url, scenario.script, connections=connections, threads=args.threads)
        # Unmeasured first: connections open, statements get prepared, and in users runs every user
        # has called once (their token checked), so that the run measures the service in its stride.
        if (warmup := args.warmup if capacity else args.users_warmup) > 0:
            run(seconds=warmup, env={**env, "BENCH_DELETE_POOL": env.get("BENCH_WARMUP_POOL", "")} if pool else env)
        workers = server.workers()
        result, usage = _measure(
            lambda: run(seconds=seconds, env=env, raw=self.out / "raw" / f"{label}.txt"), workers, target.database_url
        )
        for pid in set(workers) - {row["pid"] for row in usage["server"]["workers"]}:
            self.warn(f"{target.name}: worker {pid} ended during {planned.mode} {scenario.name}")
        record = {
            "mode": planned.mode, "scenario": scenario.name, "target": target.name, "auth": planned.auth,
            "size": planned.size, "connections": connections, "threads": args.threads, "seconds": seconds,
            "think_ms": 0 if capacity else args.think_ms, "wrk": result, **usage, "delete_pool": pool,
        }  # fmt: skip
        self._judge(record, where)
        # An overloaded server still works through requests wrk gave up on: let it finish them, so that
        # they neither land after the clean-up nor eat into the next run.
        record["settle_s"] = round(_settle(workers), 3)
        if record["settle_s"] > 1:
            print(f"    the server went on working for {record['settle_s']:.1f} s after wrk stopped", flush=True)
        if scenario.writes:
            record["cleanup_s"] = round(target.clean_up(), 3)
        if not server.alive():
            self.warn(f"{target.name} died during {planned.mode} {scenario.name}; restarting it")
            server.stop()
            server.start()
        latency = {key: report._ms(value) for key, value in result["latency_ms"].items()}
        print(f"    {result['rps']:>9,.0f} req/s   p50 {latency['p50']} ms   p95 {latency['p95']} ms   p99 "
              f"{latency['p99']} ms   max {latency['max']} ms   errors {result['errors']}", flush=True)  # fmt: skip
        self.runs.append(record)
        return record

    def _delete_pools(self, planned: Planned, env: dict[str, str], label: str) -> dict[str, int]:
        """Tasks made for deleting, enough for the run and its warm-up (estimated from earlier runs)."""
        args, target = self.args, planned.target
        if planned.mode == "capacity":
            seen = [
                run["wrk"]["rps"] for run in self.runs if run["target"] == target.name and run["mode"] == "capacity"
            ]
            rate = max([*seen, 3000.0]) * 2.5  # deletes may well outrun the reads seen so far
            measured, warmup = int(rate * args.duration) + 1000, int(rate * args.warmup) + 1000
        else:
            rate = args.user_connections * 1000 / args.think_ms * 1.6
            measured, warmup = int(rate * args.users_duration) + 1000, int(rate * args.users_warmup) + 1000
        pools = self.out / "pools"
        pools.mkdir(parents=True, exist_ok=True)
        people = Path(env["BENCH_SIMULATED_USERS"]).read_text().split() if "BENCH_SIMULATED_USERS" in env else None
        target.make_delete_pool(measured, pools / f"{label}.txt", seed=self.done, users=people)
        env["BENCH_DELETE_POOL"] = str(pools / f"{label}.txt")
        if warmup:
            target.make_delete_pool(warmup, pools / f"{label}-warmup.txt", seed=self.done + 10_000)
            env["BENCH_WARMUP_POOL"] = str(pools / f"{label}-warmup.txt")
        return {"measured": measured, "warmup": warmup}

    def _judge(self, record: dict[str, Any], where: str) -> None:
        result, name = record["wrk"], f"{record['mode']} {record['scenario']} · {where}"
        if result["errors"]:
            statuses = ", ".join(f"{status}x{count}" for status, count in sorted(result["statuses"].items()))
            sockets = ", ".join(f"{kind}x{count}" for kind, count in result["socket_errors"].items() if count)
            samples = "; ".join(dict.fromkeys(sample[:160] for sample in result["samples"]))
            self.warn(
                f"{name}: {result['errors']:,} errors of {result['requests']:,} requests "
                f"({', '.join(filter(None, [statuses, sockets]))}){f': {samples}' if samples else ''}"
            )
        if result["pool_wrapped"]:
            self.warn(f"{name}: the delete pool ran out ({result['stale_404']:,} stale 404s not counted as errors)")
        other = record["machine"]["other_cpu_s"] / record["machine"]["wall_s"]
        if other > NOISY_CORES:
            print(f"    ! other processes used {other:.1f} cores meanwhile", flush=True)

    def warn(self, message: str) -> None:
        print(f"    ! {message}", flush=True)
        self.warnings.append(message)

    # ----------------------------------------------------------------- phases
    @contextmanager
    def serving(self, servers: list[Server], phase: str) -> Iterator[None]:
        started = []
        try:
            for server in servers:
                print(f"starting {server.name} on {server.url} ({phase})", flush=True)
                server.start(timeout=self.args.start_timeout)
                started.append(server)
            yield
        finally:
            for server in started:
                if server.alive():
                    self._phase_resources(server, phase)
                server.stop()
                self._scan_log(server)

    def _phase_resources(self, server: Server, phase: str) -> None:
        mine = [run for run in self.runs if run["target"] == server.name and run.get("phase") == phase]
        workers = []
        for pid in server.workers():
            usage = procs.usage(pid)
            spent = sum(row["cpu_s"] for run in mine for row in run["server"]["workers"] if row["pid"] == pid)
            workers.append({"pid": pid, "cpu_s": spent, "hwm_kb": usage.hwm_kb if usage else 0})
        requests = sum(run["wrk"]["requests"] for run in mine)
        self.phases.append({"server": server.name, "phase": phase, "workers": workers, "requests": requests})

    def _scan_log(self, server: Server) -> None:
        if not server.log.exists():
            return
        lines = server.log.read_text(errors="replace").splitlines()
        bad = [line for line in lines if "ERROR" in line or "Traceback" in line or " 500 " in line]
        if bad:
            self.warn(f"{server.name}: {len(bad)} error line(s) in {server.log.name}, first: {bad[0][:200]}")

    def run_all(self, plan: list[Planned], phase: str | None = None) -> None:
        """Make the planned runs; each belongs to ``phase``, or to its size when no phase is given."""
        for index, planned in enumerate(plan):
            try:
                record = self.execute(planned, remaining=plan[index + 1 :] + self.later)
            except (wrk.WrkFailed, subprocess.TimeoutExpired, psycopg.Error) as error:
                self.warn(f"{planned.mode} {planned.scenario.name} on {planned.target.name} failed: {error}")
                continue
            record["phase"] = phase or planned.size


def alternate(
    scenarios_: list[Scenario], ours: Target, peer: Target | None, mode: str, auth: str, size: str = "", rounds: int = 1
) -> list[Planned]:
    """Each scenario on ours and, when it supports it, on the peer, ``rounds`` times; who goes
    first alternates from scenario to scenario and from round to round (ours, peer, peer, ours),
    so that neither side always meets the machine in the same state."""
    plan = []
    for index, scenario in enumerate(scenarios_):
        targets = [ours, peer] if peer is not None and scenario.peer and auth == "off" else [ours]
        for round_ in range(rounds):
            order = targets if (index + round_) % 2 == 0 else targets[::-1]
            plan += [Planned(mode, scenario, target, auth, size) for target in order if target is not None]
    return plan


def main() -> int:
    args = _arguments()
    wrk.require_wrk()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path(args.results) / stamp
    out.mkdir(parents=True, exist_ok=True)
    print(f"results: {out}", flush=True)
    bench = Bench(args, out)
    meta: dict[str, Any] = {"started": stamp, "options": vars(args), "summary": []}
    with ExitStack() as cleanup:
        postgres = None
        if args.server is None:
            postgres = BenchPostgres(shared_buffers_mb=args.shared_buffers)
            args.server = postgres.start()
            cleanup.callback(postgres.stop)
            print(f"PostgreSQL: {postgres.describe()}, at {args.server}", flush=True)
        meta["machine"] = _machine(args.server)
        meta["machine"]["database_server"] = postgres.describe() if postgres else f"the server at {args.server}"
        meta["machine"]["database_settings"] = _settings(args.server)
        try:
            if args.scale:
                _scale(bench, args, out, meta)
            else:
                _standard(bench, args, out, meta)
        finally:
            meta["finished"] = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            meta["minutes"] = round((time.monotonic() - bench.started) / 60, 1)
            _write(bench, meta, out, args)
    return 0


def _prepare(args: argparse.Namespace, out: Path, size: str, users: int, tasks: int) -> tuple[Target, Target | None]:
    """Seed (or reuse) our database and, with --peer, the peer's, for ``users`` and ``tasks``; then warm them."""
    ours, peer = _seed(args, out, size, users, tasks)
    for target in (ours, peer):
        if target is not None:
            print(f"warming {target.database_url.rsplit('/', 1)[-1]}: {target.warm()}", flush=True)
    return ours, peer


def _seed(args: argparse.Namespace, out: Path, size: str, users: int, tasks: int) -> tuple[Target, Target | None]:
    suffix = f"-{size}" if args.scale else ""
    database = (None if args.scale else args.database) or f"todo_bench_{size}"
    logs = out / "logs"
    ours = prepare_ours(
        args.server, database, users, tasks, out / f"data-ours{suffix}", logs / f"seed-ours{suffix}.log"
    )
    if not args.peer:
        return ours, None
    database = (None if args.scale else args.peer_database) or f"bench_peer_{size}"
    peer = prepare_peer(
        Path(args.peer),
        args.server,
        database,
        users,
        tasks,
        out / f"data-peer{suffix}",
        logs / f"seed-peer{suffix}.log",
    )
    return ours, peer


def _servers(
    args: argparse.Namespace,
    out: Path,
    tag: str,
    ours: Target,
    peer: Target | None,
    auth_env: dict[str, str],
    *,
    port_offset: int = 0,
) -> list[Server]:
    logs = out / "logs"
    ours.server = ours_server(
        ours, port=args.port + port_offset, workers=args.workers, log=logs / f"ours-{tag}.log", auth_env=auth_env
    )
    if peer is None:
        return [ours.server]
    peer.server = peer_server(
        Path(args.peer), peer, port=args.peer_port + port_offset, workers=args.workers, log=logs / f"peer-{tag}.log"
    )
    return [ours.server, peer.server]


def _standard(bench: Bench, args: argparse.Namespace, out: Path, meta: dict[str, Any]) -> None:
    ours, peer = _prepare(args, out, _label(args.tasks), args.users, args.tasks)
    meta["seeding"] = {t.name: {"seconds": round(t.seed_seconds, 1), "reused": t.reused} for t in (ours, peer) if t}
    meta["summary"] = _summary(args, ours, peer, meta["machine"])
    chosen = [s for s in scenarios(list_variants=not args.no_list_variants) if _wanted(s, args.only)]
    with_users = [s for s in chosen if s.users_mode]
    modes, auths = args.modes.split(","), args.auth.split(",")
    off: list[Planned] = []
    on: list[Planned] = []
    if "capacity" in modes:
        off += alternate(chosen, ours, peer, "capacity", "off", rounds=args.rounds)
        wanted = args.auth_capacity.split(",")
        on += alternate(
            [s for s in chosen if "all" in wanted or s.name in wanted], ours, None, "capacity", "on", rounds=args.rounds
        )
    if "users" in modes:
        off += alternate(with_users, ours, peer, "users", "off")
        on += alternate(with_users, ours, None, "users", "on")
    off, on = (off if "off" in auths else []), (on if "on" in auths else [])
    bench.total = len(off) + len(on)

    if off:
        bench.later = on
        with bench.serving(_servers(args, out, "auth-off", ours, peer, {"TODO_AUTH": "disabled"}), "auth off"):
            for target in (ours, peer):
                if target is not None:
                    target.check()
            bench.run_all(off, "auth off")
    if on:
        bench.later = []
        lifetime = int(sum(bench.seconds_of(p) for p in on)) + 3600
        with Jwks() as jwks:
            tokens_file = ours.data_dir / "tokens.txt"
            count = jwks.write_tokens(ours.users_file, tokens_file, lifetime)
            print(f"minted {count:,} EdDSA tokens into {tokens_file}; JWKS at {jwks.url}", flush=True)
            tokens = dict(line.split() for line in tokens_file.read_text().splitlines())
            auth_env = {"TODO_AUTH": "jwt", "TODO_JWKS_URL": jwks.url}
            with bench.serving(_servers(args, out, "auth-on", ours, None, auth_env), "auth on"):
                ours.check(lambda user: {"Authorization": f"Bearer {tokens[user]}"})
                bench.run_all(on, "auth on")


def _scale(bench: Bench, args: argparse.Namespace, out: Path, meta: dict[str, Any]) -> None:
    """Get and list at each size. Every size is served at once and measured in turn, round after
    round, the order reversed every other round: the machine's drift then falls on all sizes
    alike, instead of on whichever size happens to come last."""
    sizes = args.sizes.split(",")
    meta["sizes"], meta["seeding"] = sizes, {}
    chosen = [s for s in scenarios(list_variants=False) if s.name in ("get", "list")]
    lines, prepared = [], []
    for size in sizes:
        tasks = _parse_size(size)
        users = max(1, tasks // args.tasks_per_user)
        ours, peer = _prepare(args, out, size, users, tasks)
        seeded = [t for t in (ours, peer) if t is not None]
        for target in seeded:
            meta["seeding"][f"{target.name} {size}"] = {
                "seconds": round(target.seed_seconds, 1),
                "reused": target.reused,
            }
        lines.append(f"- {size}: {users:,} users, {tasks:,} tasks; " + "; ".join(_seeding(t) for t in seeded))
        prepared.append((size, ours, peer))
    plan = across_sizes(chosen, prepared, args.modes.split(","), args.scale_rounds)
    bench.total = len(plan)
    with ExitStack() as serving:
        for index, (size, ours, peer) in enumerate(prepared):
            servers = _servers(args, out, size, ours, peer, {"TODO_AUTH": "disabled"}, port_offset=10 * index)
            serving.enter_context(bench.serving(servers, size))
            for target in (ours, peer):
                if target is not None:
                    target.check()
        bench.run_all(plan)
    machine = meta["machine"]
    meta["summary"] = [
        f"Get and list as the table grows ({args.tasks_per_user} tasks per user on average), authentication off, "
        f"{args.workers} workers per server. Capacity: {_capacity(args)}. Users: {_users(args)}.",
        "",
        f"Every size is served at once and each scenario is measured {args.scale_rounds} times per size: the sizes "
        "in turn, in reverse order every other round. A capacity figure is the best of its runs, a users figure "
        "the run with the median p50. The change from the smallest size to the largest is taken within rounds, "
        "against the machine's drift (see below the table).",
        "",
        *lines,
        "",
        f"Machine: {machine['cpu']} ({machine['cores']} cores), commit {machine['commit']}. {_database(machine)}",
    ]


def across_sizes(
    scenarios_: list[Scenario], prepared: list[tuple[str, Target, Target | None]], modes: list[str], rounds: int
) -> list[Planned]:
    """Each scenario at every size, ``rounds`` times: sizes in turn, reversed every other round, and
    at each size ours and the peer (when it does the scenario) in turn, also swapped every other round."""
    plan = []
    for mode in modes:
        for scenario in scenarios_:
            for round_ in range(rounds):
                for size, ours, peer in prepared if round_ % 2 == 0 else prepared[::-1]:
                    sides = [ours, peer] if peer is not None and scenario.peer else [ours]
                    order = sides if round_ % 2 == 0 else sides[::-1]
                    plan += [Planned(mode, scenario, target, "off", size) for target in order]
    return plan


def _seeding(target: Target) -> str:
    if target.reused and target.seed_seconds:
        return f"{target.name}: reused a database seeded earlier (loading took {target.seed_seconds:.0f} s)"
    if target.reused:
        return f"{target.name}: reused a database seeded earlier"
    return f"{target.name}: seeded in {target.seed_seconds:.1f} s"


def _write(bench: Bench, meta: dict[str, Any], out: Path, args: argparse.Namespace) -> None:
    noise = [run["machine"]["other_cpu_s"] / run["machine"]["wall_s"] for run in bench.runs]
    noisy = [value for value in noise if value > NOISY_CORES]
    if noisy:
        bench.warnings.append(
            f"The machine was not quiet: in {len(noisy)} of {len(noise)} runs other processes (not the servers, "
            f"PostgreSQL or wrk) used more than {NOISY_CORES} cores, {sum(noise) / len(noise):.2f} on average and "
            f"{max(noise):.2f} at most (per run in results.json, machine.other_cpu_s). Absolute numbers are "
            "doubtful; ours and the peer alternate, so their ratios suffer less."
        )
    meta["capacity"], meta["users"] = _capacity(args), _users(args)
    document = {"meta": meta, "runs": bench.runs, "phases": bench.phases, "warnings": bench.warnings}
    (out / "results.json").write_text(json.dumps(document, indent=2, default=str))
    if args.scale:
        text = report.scale_markdown(meta, bench.runs, meta.get("sizes", []), bench.warnings)
    else:
        text = report.markdown(meta, bench.runs, bench.phases, bench.warnings)
    (out / "results.md").write_text(text)
    if bench.runs:
        try:
            if args.scale:
                report.scale_chart(
                    bench.runs,
                    meta.get("sizes", []),
                    out / "chart.png",
                    users=args.user_connections,
                    connections=args.connections,
                )
            else:
                title = f"todo: {args.users:,} users, {args.tasks:,} tasks, {args.workers} workers ({meta['started']})"
                report.chart(
                    bench.runs, out / "chart.png", title, users=args.user_connections, connections=args.connections
                )
        except ImportError:
            print("no chart: matplotlib is missing (make install brings it)", file=sys.stderr)
    print("\n" + text)
    print(f"results: {out}/results.md, results.json, chart.png ({meta.get('minutes', 0)} minutes)")


def _summary(args: argparse.Namespace, ours: Target, peer: Target | None, machine: dict[str, Any]) -> list[str]:
    lines = [
        f"- Data: {args.users:,} users and {args.tasks:,} tasks. Ours with `todo bench seed` ({_seeding(ours)})"
        + (f"; the peer with its `load/seed.py` ({_seeding(peer)})." if peer else "."),
        f"- Servers: {args.workers} worker processes each, on the same machine as PostgreSQL and wrk "
        f"({machine['cpu']}, {machine['cores']} cores). Ours: `todo serve` with its default pool (up to "
        f"{Settings.db_pool_max} connections per worker), TODO_LOG_LEVEL=warning.",
        f"- {_database(machine)}",
        "- Auth on: EdDSA JWTs, one per user, verified against a JWKS served on a local port (TODO_JWKS_URL).",
        f"- Commit {machine['commit']}; {machine['wrk']}.",
    ]
    if peer:
        lines.append(
            f"- Peer: {args.peer} (its defaults: 5 + 10 pooled connections per worker, no access log), alternating "
            "with ours scenario by scenario. Its seed spreads tasks evenly over users; ours unevenly (a few users "
            "own thousands). Its PUT is partial; both get the same title and description. Ratios are ours/peer."
        )
    return lines


def _database(machine: dict[str, Any]) -> str:
    settings = machine.get("database_settings", {})
    shown = ", ".join(f"{name} {value}" for name, value in settings.items())
    where = machine.get("database_server", "")
    return f"PostgreSQL {machine['postgres']}: {where}" + (f" ({shown})." if shown else ".")


def _capacity(args: argparse.Namespace) -> str:
    # --scale repeats runs its own way (--scale-rounds), which its summary says.
    repeated = args.rounds > 1 and not args.scale
    best = f"; each figure the best of {args.rounds} runs, ours and the peer alternating" if repeated else ""
    return (
        f"wrk -c {args.connections} -t {args.threads}, a closed loop, {args.duration:g} s per run after a "
        f"{args.warmup:g} s warm-up{best}"
    )


def _users(args: argparse.Namespace) -> str:
    return (
        f"{args.user_connections:,} connections, each a user pausing {args.think_ms * 0.5 / 1000:g}-"
        f"{args.think_ms * 1.5 / 1000:g} s between requests, {args.users_duration:g} s per run after "
        f"{args.users_warmup:g} s of the same load; the users are "
        f"{args.user_connections:,} seeded people, each calling with their own token about their own tasks"
    )


def _measure(run: Any, workers: list[int], database_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``run()`` (a wrk run) and read what it cost: the workers' CPU and memory, PostgreSQL's CPU, and the
    CPU of everything else on the machine meanwhile (other_cpu_s: how quiet the machine was)."""
    with _database_backends(database_url) as (backends, postmaster, blocks):
        before = {pid: procs.usage(pid) for pid in workers}
        db_before, blocks_before = procs.cpu_of(backends()), blocks()
        storage_before = procs.storage_reads(list(db_before))
        postgres_before, busy_before, wall_before = (
            procs.postgres_seconds(postmaster),
            procs.busy_seconds(),
            time.monotonic(),
        )
        result = run()
        busy, wall = procs.busy_seconds() - busy_before, time.monotonic() - wall_before
        postgres = procs.postgres_seconds(postmaster) - postgres_before
        db_after = procs.cpu_of(backends())
        storage = procs.storage_reads(list(db_after)) - storage_before
        blocks_read, blocks_hit = (after - first for after, first in zip(blocks(), blocks_before, strict=True))
    rows = []
    for pid in workers:
        first, last = before.get(pid), procs.usage(pid)
        if first is not None and last is not None:
            rows.append({"pid": pid, "cpu_s": round(last.cpu_s - first.cpu_s, 3), "hwm_kb": last.hwm_kb,
                         "rss_kb": last.rss_kb})  # fmt: skip
    server = sum(row["cpu_s"] for row in rows)
    usage = {
        "server": {"workers": rows, "cpu_s": round(server, 3)},
        # db_cpu_s: the backends serving this database that were still there at the end (a pool that
        # churns connections loses some); postgres_cpu_s: the whole PostgreSQL server, every database.
        "database": {
            "db_cpu_s": round(sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items()), 3),
            "postgres_cpu_s": round(postgres, 3),
            # Blocks this database found outside PostgreSQL's shared buffers, and in them; and of the
            # former, the kB its backends had to read from storage (the operating system's cache missed).
            "blocks_read": blocks_read,
            "blocks_hit": blocks_hit,
            "storage_read_kb": round(storage / 1024),
        },
        "machine": {
            "wall_s": round(wall, 3),
            "busy_s": round(busy, 3),
            "other_cpu_s": round(busy - server - postgres - result["wrk_cpu_s"], 3),
        },
    }
    return result, usage


def _settle(workers: list[int], *, quiet_s: float = 0.5, limit_s: float = 60.0) -> float:
    """Wait until the workers use (almost) no CPU for ``quiet_s``; the seconds waited."""
    started = time.monotonic()
    last = sum(procs.cpu_of(workers).values())
    while time.monotonic() - started < limit_s:
        time.sleep(quiet_s)
        now = sum(procs.cpu_of(workers).values())
        if now - last < 0.05 * quiet_s * len(workers):
            break
        last = now
    return time.monotonic() - started


@contextmanager
def _database_backends(url: str) -> Iterator[tuple[Any, int, Any]]:
    """A function listing the backends connected to the database (but this one), their postmaster's pid,
    and a function giving the database's blocks read and hit so far."""
    with psycopg.connect(url, autocommit=True) as connection:

        def backends() -> list[int]:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            return [row[0] for row in connection.execute(query)]

        def blocks() -> tuple[int, int]:
            connection.execute("SELECT pg_stat_clear_snapshot()")  # else a session sees its first numbers again
            query = "SELECT blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()"
            row = connection.execute(query).fetchone()
            return (row[0], row[1]) if row else (0, 0)

        yield backends, procs.postmaster_of(connection.info.backend_pid), blocks


def _machine(server_url: str) -> dict[str, Any]:
    def command(*argv: str) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        return (done.stdout or done.stderr).strip()

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = command("git", "rev-parse", "--short", "HEAD")
    if command("git", "status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "commit": commit,
        "python": platform.python_version(),
        "postgres": _settings(server_url, "server_version")["server_version"].split()[0],
        "wrk": command("wrk", "-v").split("[")[0].strip(),
    }


def _settings(server_url: str, *names: str) -> dict[str, str]:
    """The server's settings that shape a run's figures (or ``names``)."""
    names = names or ("shared_buffers", "effective_cache_size", "max_connections")
    with psycopg.connect(f"{server_url}/postgres") as connection:
        return {name: str(connection.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]


def _wanted(scenario: Scenario, only: str | None) -> bool:
    if not only:
        return True
    return any(scenario.name == name or scenario.name.startswith(f"{name} ") for name in only.split(","))


def _label(tasks: int) -> str:
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if tasks >= size and tasks % size == 0:
            return f"{tasks // size}{unit}"
    return str(tasks)


def _parse_size(text: str) -> int:
    units = {"k": 1_000, "m": 1_000_000}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add(
        "--server",
        help="an existing PostgreSQL server for the scratch databases, e.g. postgresql://postgres@127.0.0.1:5432 "
        "(default: the benchmark's own server in bench/.postgres, started for the run)",
    )
    add("--shared-buffers", type=int, help="the benchmark's own server: shared_buffers in MB (default: memory / 4)")
    add("--users", type=int, default=10_000, help="users to seed (default 10000)")
    add("--tasks", type=int, default=1_000_000, help="tasks to seed (default 1000000)")
    add("--database", help="our scratch database (default todo_bench_<size>, e.g. todo_bench_1m)")
    add("--peer", help="directory of another implementation of the API to measure beside ours (see the README)")
    add("--peer-database", help="the peer's scratch database (default bench_peer_<size>)")
    add("--workers", type=int, default=2, help="worker processes per server (default 2)")
    add("--port", type=int, default=8200, help="our port (default 8200)")
    add("--peer-port", type=int, default=8201, help="the peer's port (default 8201)")
    add("--connections", type=int, default=64, help="capacity runs: connections (default 64)")
    add("--threads", type=int, default=2, help="wrk threads (default 2)")
    add("--duration", type=float, default=10, help="capacity runs: seconds measured (default 10)")
    add("--warmup", type=float, default=3, help="capacity runs: seconds of warm-up first (default 3)")
    add("--rounds", type=int, default=2, help="capacity runs per scenario and side; the best counts (default 2)")
    add("--user-connections", type=int, default=1000, help="users runs: simulated users (default 1000)")
    add("--think-ms", type=int, default=1000, help="users runs: mean pause between a user's requests (default 1000)")
    add("--users-duration", type=float, help="users runs: seconds measured (default 20, with --scale 10)")
    add("--users-warmup", type=float, default=3, help="users runs: seconds of the same load first (default 3)")
    add("--modes", default="capacity,users", help="kinds of run (default capacity,users)")
    add("--auth", default="off,on", help="authentication settings to run ours with (default off,on)")
    add("--auth-capacity", default="get,list", help="scenarios run at capacity with auth on, or 'all' (get,list)")
    add("--only", help="comma-separated scenarios to run (e.g. get,list,delete); 'list' includes its variants")
    add("--no-list-variants", action="store_true", help="skip the list variants (each sort, status, q=)")
    add("--scale", action="store_true", help="measure get and list at each of --sizes instead")
    add("--sizes", default="100k,1m,10m", help="--scale: table sizes in tasks (default 100k,1m,10m)")
    add("--tasks-per-user", type=int, default=100, help="--scale: users = tasks / this (default 100)")
    add("--scale-rounds", type=int, default=6, help="--scale: runs per scenario, mode and size (default 6)")
    add(
        "--start-timeout",
        type=float,
        default=300,
        help="seconds a server may take to start (the peer's first start installs its environment)",
    )
    add("--results", default=str(ROOT / "bench" / "results"), help="where result directories go")
    args = parser.parse_args()
    if args.users_duration is None:
        # --scale compares sizes over many short runs: the shorter each run, the less the machine drifts in it.
        args.users_duration = 10.0 if args.scale else 20.0
    return args


if __name__ == "__main__":
    sys.exit(main())
