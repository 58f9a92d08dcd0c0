"""Results as Markdown tables and a chart; numbers are reported, never judged here."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

Run = dict[str, Any]
DASH = "—"


def matching(runs: Iterable[Run], **match: Any) -> list[Run]:
    """The runs whose fields hold the given values, in the order they were made."""
    return [run for run in runs if all(run.get(key) == value for key, value in match.items())]


def find(runs: Iterable[Run], **match: Any) -> Run | None:
    """The run that matches. Of several repeats, for a capacity run the one that served most
    requests per second, error-free runs first (the capacity the machine allowed); for a users
    run the one with the median p50, the slower middle one of an even count (the latency a user
    typically met, neither the luckiest run nor the unluckiest)."""
    matches = matching(runs, **match)
    if not matches:
        return None
    if matches[0]["mode"] == "users":
        return sorted(matches, key=lambda run: run["wrk"]["latency_ms"]["p50"])[len(matches) // 2]
    return max(matches, key=lambda run: (not run["wrk"]["errors"], run["wrk"]["rps"]))


def _rps(run: Run | None) -> str:
    return DASH if run is None else f"{run['wrk']['rps']:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _latency(run: Run | None, *quantiles: str) -> list[str]:
    if run is None:
        return [DASH] * len(quantiles)
    return [_ms(run["wrk"]["latency_ms"][quantile]) for quantile in quantiles]


def _errors(run: Run | None) -> str:
    if run is None:
        return DASH
    wrk = run["wrk"]
    if not wrk["errors"]:
        return "0"
    parts = [f"{status}x{count}" for status, count in sorted(wrk["statuses"].items())]
    parts += [f"{kind}x{count}" for kind, count in wrk["socket_errors"].items() if count]
    share = 100 * wrk["errors"] / max(wrk["requests"], 1)
    percent = f"{share:.0f}%" if share >= 1 else "<1%"
    return f"**{wrk['errors']:,}** ({percent}: {', '.join(parts)})"


def _cpu_per_request(run: Run | None) -> str:
    if run is None or not run["wrk"]["requests"]:
        return DASH
    return f"{1000 * run['server']['cpu_s'] / run['wrk']['requests']:.2f}"


def _ratio(top: float | None, bottom: float | None) -> str:
    return DASH if not top or not bottom else f"{top / bottom:.2f}x"


def _scenarios(runs: Iterable[Run], mode: str) -> list[str]:
    seen: list[str] = []
    for run in runs:
        if run["mode"] == mode and run["scenario"] not in seen:
            seen.append(run["scenario"])
    return seen


def _side_by_side(runs: list[Run], mode: str) -> Iterator[tuple[str, str, Run, Run | None]]:
    """Each scenario and auth setting ours ran in ``mode``: ours, and the peer's run or None."""
    for scenario in _scenarios(runs, mode):
        for auth in ("off", "on"):
            ours = find(runs, mode=mode, scenario=scenario, target="ours", auth=auth)
            if ours is not None:
                yield scenario, auth, ours, find(runs, mode=mode, scenario=scenario, target="peer", auth=auth)


def _table(head: str, rows: Iterable[list[str]]) -> str:
    lines = [head, "|---|---|" + "---:|" * 6 + "---:|" * 6 + "---:|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def capacity_table(runs: list[Run]) -> str:
    head = (
        "| scenario | auth | ours req/s | p50 ms | p95 ms | p99 ms | errors | CPU ms/req "
        "| peer req/s | p50 ms | p95 ms | p99 ms | errors | CPU ms/req | ours/peer req/s |"
    )
    rows = []
    for scenario, auth, ours, peer in _side_by_side(runs, "capacity"):
        ratio = _ratio(ours["wrk"]["rps"], peer["wrk"]["rps"] if peer else None)
        cells = [scenario, auth, _rps(ours), *_latency(ours, "p50", "p95", "p99"), _errors(ours)]
        cells += [_cpu_per_request(ours), _rps(peer), *_latency(peer, "p50", "p95", "p99"), _errors(peer)]
        rows.append([*cells, _cpu_per_request(peer), ratio])
    return _table(head, rows)


def users_table(runs: list[Run]) -> str:
    head = (
        "| scenario | auth | ours req/s | p50 ms | p95 ms | p99 ms | max ms | errors "
        "| peer req/s | p50 ms | p95 ms | p99 ms | max ms | errors | peer p95 / ours |"
    )
    rows = []
    for scenario, auth, ours, peer in _side_by_side(runs, "users"):
        # Latency: how many times longer the peer's p95 is (a ratio below 1 would read as ours being slower).
        p95 = _ratio(peer["wrk"]["latency_ms"]["p95"] if peer else None, ours["wrk"]["latency_ms"]["p95"])
        cells = [scenario, auth, _rps(ours), *_latency(ours, "p50", "p95", "p99", "max"), _errors(ours)]
        rows.append([*cells, _rps(peer), *_latency(peer, "p50", "p95", "p99", "max"), _errors(peer), p95])
    return _table(head, rows)


def resources_table(phases: list[dict[str, Any]]) -> str:
    lines = [
        "| server | phase | worker pid | CPU s in runs | requests | peak memory (VmHWM) MB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for phase in phases:
        for worker in phase["workers"]:
            cells = [phase["server"], phase["phase"], str(worker["pid"]), f"{worker['cpu_s']:.1f}"]
            cells += [f"{phase['requests']:,}", f"{worker['hwm_kb'] / 1024:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(meta: dict[str, Any], runs: list[Run], phases: list[dict[str, Any]], warnings: list[str]) -> str:
    parts = [f"# Benchmark {meta['started']}", "", *meta["summary"], ""]
    if any(run["mode"] == "capacity" for run in runs):
        parts += [
            f"## Capacity: {meta['capacity']}",
            "",
            "CPU ms/req: CPU time of the server's workers per request (PostgreSQL not included).",
            "",
            capacity_table(runs),
            "",
        ]
    if any(run["mode"] == "users" for run in runs):
        parts += [
            f"## Users: {meta['users']}",
            "",
            "Latencies count every answer, errors too: a fast 503 lowers the percentiles it joins.",
            "",
            users_table(runs),
            "",
        ]
    if phases:
        parts += ["## Server processes", "", resources_table(phases), ""]
    parts += ["## Warnings", "", *([f"- {warning}" for warning in warnings] or ["- none"]), ""]
    return "\n".join(parts)


def scale_table(runs: list[Run], sizes: list[str]) -> str:
    lines = [
        "| scenario | mode | target | " + " | ".join(f"{size}: req/s · p50 · p95 ms" for size in sizes) + " |",
        "|---|---|---|" + "---:|" * len(sizes),
    ]
    for mode in ("capacity", "users"):
        for scenario in _scenarios(runs, mode):
            for target in ("ours", "peer"):
                cells = []
                for size in sizes:
                    run = find(runs, mode=mode, scenario=scenario, target=target, size=size)
                    if run is None:
                        cells.append(DASH)
                        continue
                    latency = run["wrk"]["latency_ms"]
                    errors = f" · **{run['wrk']['errors']} errors**" if run["wrk"]["errors"] else ""
                    cells.append(f"{_rps(run)} · {_ms(latency['p50'])} · {_ms(latency['p95'])}{errors}")
                if any(cell != DASH for cell in cells):
                    lines.append(f"| {scenario} | {mode} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def growth(runs: list[Run], small: str, large: str, **match: Any) -> tuple[float, list[float]] | None:
    """The change in p50 from size ``small`` to ``large``, taken within rounds, and each pair's change.

    On a virtual machine the same run can be half again as slow a few minutes later, so sizes are
    compared only within a pass over them: a round goes through the sizes one way, the next the
    other way, and in such a pair of rounds both sizes sit on average at the same moment. A pair's
    change is the geometric mean of its two rounds' ratios (a steady drift cancels out), and the
    figure is the median pair's (one disturbed run does not move it)."""
    # A size's n-th run was made in the n-th round.
    before, after = matching(runs, size=small, **match), matching(runs, size=large, **match)
    ratios = [_p50(late) / _p50(early) for early, late in zip(before, after, strict=False)]
    pairs = [ratios[index : index + 2] for index in range(0, len(ratios), 2)]
    changes = [math.prod(pair) ** (1 / len(pair)) - 1 for pair in pairs]
    return (statistics.median(changes), changes) if changes else None


def _p50(run: Run) -> float:
    return float(run["wrk"]["latency_ms"]["p50"])


def growth_table(runs: list[Run], sizes: list[str]) -> str:
    """Every users run's p50 by size, in the order made, and the change from the smallest size to the
    largest: the cost of growth a user notices."""
    first, last = sizes[0], sizes[-1]
    lines = [
        "| scenario | target | "
        + " | ".join(f"{size}: p50 of each run, ms" for size in sizes)
        + f" | {last} vs {first}, each pair of rounds | {last} vs {first}, median |",
        "|---|---|" + "---:|" * (len(sizes) + 2),
    ]
    for scenario in _scenarios(runs, "users"):
        for target in ("ours", "peer"):
            match = {"mode": "users", "scenario": scenario, "target": target}
            cells = []
            for size in sizes:
                made = matching(runs, size=size, **match)
                cells.append(" / ".join(_ms(run["wrk"]["latency_ms"]["p50"]) for run in made) or DASH)
            found = growth(runs, first, last, **match)
            if found is None:
                continue
            change, pairs = found
            each = " / ".join(f"{pair:+.0%}" for pair in pairs)
            lines.append(f"| {scenario} | {target} | " + " | ".join(cells) + f" | {each} | **{change:+.0%}** |")
    return "\n".join(lines)


def work_table(runs: list[Run], sizes: list[str]) -> str:
    """Per request, the median over a size's users runs: CPU time of the workers and of the database's
    backends, blocks PostgreSQL found outside its shared buffers, and kB it then read from storage
    (the operating system's cache missed too). What grows here is what the table's growth costs."""
    lines = [
        "| scenario | target | "
        + " | ".join(f"{size}: worker · database CPU ms · blocks outside buffers · kB read" for size in sizes)
        + " |",
        "|---|---|" + "---:|" * len(sizes),
    ]

    def per_request(made: list[Run], value: Any) -> float:
        return statistics.median(value(run) / max(run["wrk"]["requests"], 1) for run in made)

    for scenario in _scenarios(runs, "users"):
        for target in ("ours", "peer"):
            cells = []
            for size in sizes:
                made = matching(runs, mode="users", scenario=scenario, target=target, size=size)
                if not made or "blocks_read" not in made[0]["database"]:
                    cells.append(DASH)
                    continue
                worker = per_request(made, lambda run: 1000 * run["server"]["cpu_s"])
                database = per_request(made, lambda run: 1000 * run["database"]["db_cpu_s"])
                blocks = per_request(made, lambda run: run["database"]["blocks_read"])
                read = per_request(made, lambda run: run["database"]["storage_read_kb"])
                cells.append(f"{worker:.2f} · {database:.2f} · {blocks:.2f} · {read:.2f}")
            if any(cell != DASH for cell in cells):
                lines.append(f"| {scenario} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scale_markdown(meta: dict[str, Any], runs: list[Run], sizes: list[str], warnings: list[str]) -> str:
    parts = [f"# Cost of growth {meta['started']}", "", *meta["summary"], "", scale_table(runs, sizes), ""]
    if len(sizes) > 1 and any(run["mode"] == "users" for run in runs):
        parts += ["## p50 as the table grows (users runs)", "", growth_table(runs, sizes), ""]
        parts += ["## Work per request (users runs, median)", "", work_table(runs, sizes), ""]
    parts += ["## Warnings", "", *([f"- {warning}" for warning in warnings] or ["- none"]), ""]
    return "\n".join(parts)


_COLOURS = {"ours": "#1f6fb4", "ours (auth on)": "#7fb2e0", "peer": "#d9822b"}
_SCALE_COLOURS = {
    ("ours", "get"): "#1f6fb4",
    ("ours", "list"): "#7fb2e0",
    ("peer", "get"): "#b35806",
    ("peer", "list"): "#f1a340",
}


def chart(runs: list[Run], path: Path, title: str, *, users: int, connections: int) -> None:
    """Ours beside the peer: requests per second at full load (left), the users' p50/p95/p99 (right);
    below, when measured, the list variants (ours only)."""
    import matplotlib as mpl  # noqa: PLC0415 (a development dependency, loaded only to draw)

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    variants = [name for name in _scenarios(runs, "capacity") if name.startswith("list ")]
    capacity = [name for name in _scenarios(runs, "capacity") if name not in variants]
    user_scenarios = _scenarios(runs, "users")
    series = [("ours", "ours", "off"), ("ours (auth on)", "ours", "on"), ("peer", "peer", "off")]
    rows = max(len(capacity), len(user_scenarios), 1)
    top = 1.2 + 0.55 * rows * len(_present(runs, series, "capacity"))
    bottom = 0.8 + 0.28 * len(variants) if variants else 0
    figure = plt.figure(figsize=(16, top + bottom), constrained_layout=True)
    grid = figure.add_gridspec(2 if variants else 1, 2, height_ratios=[top, bottom] if variants else [1])
    figure.suptitle(title)
    left, right = figure.add_subplot(grid[0, 0]), figure.add_subplot(grid[0, 1])
    _bars(left, capacity, series, runs, "capacity", lambda run: run["wrk"]["rps"])
    left.set_title(f"Capacity: requests per second at {connections} connections (more is better)")
    left.set_xlabel("requests per second")
    _latency_bars(right, user_scenarios, series, runs)
    right.set_title(f"{users:,} users: latency p50 (dark) / p95 / p99 (light), ms (less is better)")
    right.set_xlabel("milliseconds (log scale); labels: p95, and the share of errors")
    if variants:
        below = figure.add_subplot(grid[1, :])
        _bars(below, variants, series[:2], runs, "capacity", lambda run: run["wrk"]["rps"])
        below.set_title("Capacity of each list order and filter (ours), requests per second")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _present(
    runs: list[Run], series: list[tuple[str, str, str]], mode: str, scenarios: list[str] | None = None
) -> list[tuple[str, str, str]]:
    """The series measured in ``mode`` (for one of ``scenarios``, when given)."""
    return [
        item
        for item in series
        if any(
            run["mode"] == mode and run["target"] == item[1] and run["auth"] == item[2]
            for run in runs
            if scenarios is None or run["scenario"] in scenarios
        )
    ]


def _bars(
    axis: Any, scenarios: list[str], series: list[tuple[str, str, str]], runs: list[Run], mode: str, value: Any
) -> None:
    present = _present(runs, series, mode, scenarios)
    height = 0.8 / max(len(present), 1)
    for index, (label, target, auth) in enumerate(present):
        ys, xs = [], []
        for row, scenario in enumerate(scenarios):
            run = find(runs, mode=mode, scenario=scenario, target=target, auth=auth)
            if run is not None:
                ys.append(row + index * height)
                xs.append(value(run))
        bars = axis.barh(ys, xs, height=height, label=label, color=_COLOURS[label])
        axis.bar_label(bars, labels=[f"{x:,.0f}" for x in xs], fontsize=7, padding=2)
    axis.set_yticks([row + 0.4 - height / 2 for row in range(len(scenarios))], scenarios, fontsize=8)
    axis.invert_yaxis()
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(axis="x", alpha=0.3)


def _latency_bars(axis: Any, scenarios: list[str], series: list[tuple[str, str, str]], runs: list[Run]) -> None:
    present = _present(runs, series, "users", scenarios)
    height = 0.8 / max(len(present), 1)
    for index, (label, target, auth) in enumerate(present):
        for quantile, alpha in (("p99", 0.3), ("p95", 0.6), ("p50", 1.0)):
            ys, xs, shown = [], [], []
            for row, scenario in enumerate(scenarios):
                run = find(runs, mode="users", scenario=scenario, target=target, auth=auth)
                if run is not None:
                    ys.append(row + index * height)
                    xs.append(max(run["wrk"]["latency_ms"][quantile], 0.01))
                    shown.append(run)
            bars = axis.barh(
                ys, xs, height=height, color=_COLOURS[label], alpha=alpha, label=label if quantile == "p50" else None
            )
            if quantile == "p95":
                axis.bar_label(
                    bars,
                    labels=[_ms(x) + _error_share(run) for x, run in zip(xs, shown, strict=True)],
                    fontsize=7,
                    padding=2,
                )
    axis.set_xscale("log")
    axis.set_yticks([row + 0.4 - height / 2 for row in range(len(scenarios))], scenarios, fontsize=8)
    axis.invert_yaxis()
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(axis="x", alpha=0.3, which="both")


def _error_share(run: Run) -> str:
    errors, requests = run["wrk"]["errors"], max(run["wrk"]["requests"], 1)
    share = 100 * errors / requests
    return "" if not errors else f"  ({share:.0f}% errors)" if share >= 1 else "  (<1% errors)"


def scale_chart(runs: list[Run], sizes: list[str], path: Path, *, users: int, connections: int) -> None:
    """p50 and p95 per table size, for get and list, in each mode."""
    import matplotlib as mpl  # noqa: PLC0415

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    modes = [mode for mode in ("capacity", "users") if any(run["mode"] == mode for run in runs)]
    figure, axes = plt.subplots(1, len(modes), figsize=(7 * len(modes), 4.5), constrained_layout=True, squeeze=False)
    figure.suptitle("Cost of growth: latency by table size (less is better)")
    for axis, mode in zip(axes[0], modes, strict=True):
        for scenario in _scenarios(runs, mode):
            for target in ("ours", "peer"):
                for quantile, style, marker in (("p50", "-", "o"), ("p95", "--", "^")):
                    points = [
                        (size, run["wrk"]["latency_ms"][quantile])
                        for size in sizes
                        if (run := find(runs, mode=mode, scenario=scenario, target=target, size=size))
                    ]
                    if points:
                        xs, ys = zip(*points, strict=True)
                        colour = _SCALE_COLOURS.get((target, scenario))
                        axis.plot(xs, ys, style, marker=marker, color=colour, label=f"{target} {scenario} {quantile}")
        axis.set_title(f"{connections} connections" if mode == "capacity" else f"{users:,} users, ~1 request/s each")
        axis.set_xlabel("tasks in the table")
        axis.set_ylabel("ms")
        axis.set_yscale("log")
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=7)
    figure.savefig(path, dpi=110)
    plt.close(figure)
