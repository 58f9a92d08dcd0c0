"""The final table on the terminal, and the same figures (with the evidence) as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

from checker import Verdict
from nemesis import Crash
from workload import History

__all__ = ["passed", "print_report", "result_document", "write_result"]

_EVIDENCE_KEPT: Final = 50


def passed(verdict: Verdict, history: History, crashes: list[Crash]) -> bool:
    unrecovered = [crash for crash in crashes if crash.during_load and crash.recovery is None]
    return not any(verdict.failures.values()) and history.anomaly_count == 0 and not unrecovered


def result_document(
    *, config: dict[str, Any], verdict: Verdict, history: History, crashes: list[Crash], logs: dict[str, str]
) -> dict[str, Any]:
    recoveries = [crash.recovery for crash in crashes if crash.recovery is not None]
    return {
        "passed": passed(verdict, history, crashes),
        "config": config,
        "figures": {
            "acknowledged": verdict.acknowledged,
            "lost": len(verdict.lost),
            "duplicated": len(verdict.duplicated),
            "unexpected": len(verdict.unexpected),
            "unacknowledged": verdict.unacknowledged,
            "unacknowledged_stored": verdict.unacknowledged_stored,
            "replayed_acknowledgements": history.replayed,
            "stored": verdict.stored,
            "listed": verdict.listed,
            "unexpected_responses": history.anomaly_count,
            **{name.replace(" ", "_"): count for name, count in verdict.failures.items()},
        },
        "recovery_seconds": recoveries,
        "longest_recovery_seconds": max(recoveries, default=None),
        "crashes": [asdict(crash) for crash in crashes],
        "retried": dict(history.retries.most_common()),
        "evidence": {
            "lost": verdict.lost[:_EVIDENCE_KEPT],
            "duplicated": verdict.duplicated[:_EVIDENCE_KEPT],
            "unexpected": verdict.unexpected[:_EVIDENCE_KEPT],
            "misacknowledged": verdict.misacknowledged[:_EVIDENCE_KEPT],
            "api_and_table_disagree": verdict.api_and_table_disagree[:_EVIDENCE_KEPT],
            "key_records_disagree": verdict.key_records_disagree[:_EVIDENCE_KEPT],
            "unexpected_responses": [asdict(anomaly) for anomaly in history.anomalies],
        },
        "api_error": verdict.api_error,
        "logs": logs,
    }


def print_report(document: dict[str, Any], path: Path) -> None:
    figures, config = document["figures"], document["config"]
    during = sum(crash["during_load"] for crash in document["crashes"])
    after = len(document["crashes"]) - during
    print()
    print("=" * 100)
    print(
        f"Acknowledged writes survive? seed {config['seed']}, {config['duration']:g} s of load, "
        f"{config['clients']} clients, {during} kills during the load + {after} after it"
    )
    print("=" * 100)
    rows = [
        ("acknowledged", figures["acknowledged"], f"answered 201 ({figures['replayed_acknowledgements']} replayed)"),
        ("lost", figures["lost"], "acknowledged, then missing from the table or the API"),
        ("duplicated", figures["duplicated"], "an intended task (one title, one key) stored more than once"),
        ("unexpected", figures["unexpected"], "stored, but no client ever sent it"),
        (
            "unacknowledged",
            figures["unacknowledged"],
            f"sent, no 201 before the end: may exist once ({figures['unacknowledged_stored']} do)",
        ),
        ("misacknowledged", figures["misacknowledged"], "a 201's id stored under another title"),
        (
            "api/table disagree",
            figures["api_and_table_disagree"],
            "ids listed by the API but not in the table, or back",
        ),
        ("key records disagree", figures["key_records_disagree"], "tasks and idempotency records not one-to-one"),
        ("unexpected responses", figures["unexpected_responses"], "not 201, 503 or 409 REQUEST_IN_PROGRESS"),
        (
            "api unreadable",
            figures["api_unreadable"],
            (document["api_error"] or "the API listed every task").splitlines()[0],
        ),
    ]
    for name, count, meaning in rows:
        print(f"  {name:<22}{count:>10}   {meaning}")
    print(f"  stored / listed       {figures['stored']:>10} / {figures['listed']}")
    retried = ", ".join(f"{reason} x{count}" for reason, count in document["retried"].items()) or "nothing"
    print(f"  retried               {retried}")
    print()
    print("  restart   killed at    down   in flight   accepting after   first 201 after (recovery)")
    for crash in document["crashes"]:
        label = f"#{crash['number']}" if crash["during_load"] else "final"
        in_flight = crash["requests_in_flight"] if crash["during_load"] else "-"
        accepting = _seconds(crash["accepting_after"])
        recovery = _seconds(crash["recovery"]) if crash["during_load"] else "- (after the load)"
        if crash["stalled"]:
            recovery += " (stalled: processes and connections in result.json)"
        print(
            f"  {label:>7}   {crash['killed_at']:>7.1f} s  {crash['down_for']:>4.1f} s   {in_flight!s:>9}"
            f"   {accepting:>15}   {recovery}"
        )
    longest = document["longest_recovery_seconds"]
    print(f"  longest recovery: {_seconds(longest)}")
    for anomaly in document["evidence"]["unexpected_responses"][:5]:
        print(f"  unexpected response at {anomaly['at']:.1f} s: {anomaly['status']} {anomaly['body'][:300]}")
    print()
    verdict = "PASS" if document["passed"] else "FAIL"
    print(
        f"{verdict}: {figures['lost']} lost, {figures['duplicated']} duplicated, {figures['unexpected']} unexpected "
        f"of {figures['acknowledged']} acknowledged. Result: {path}"
    )


def write_result(document: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n")


def _seconds(value: float | None) -> str:
    return "NONE" if value is None else f"{value:.2f} s"
