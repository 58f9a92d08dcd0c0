"""Schemathesis against todo's own OpenAPI document, as a signed-in user, on a real server.

Every default check, positive and negative data, all phases (coverage, fuzzing, stateful).
The run's figures are written to ``.schemathesis/`` (operations, test cases, failures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import running_server
from tests.tokens import SECRET, bearer, claims, mint_with_secret

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
REPORTS = Path(__file__).parents[2] / ".schemathesis"
SEED = 20261124
EXAMPLES_PER_OPERATION = 50


def run_schemathesis(base_url: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{base_url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--seed", str(SEED), "--max-examples", str(EXAMPLES_PER_OPERATION), "--workers", "1",
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.parametrize("database", ["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_schemathesis_finds_no_failure_in_the_api(database: str, request: pytest.FixtureRequest) -> None:
    env = {"TODO_AUTH": "jwt", "TODO_JWT_SECRET": SECRET, "TODO_DATABASE_URL": ""}
    if database == "postgres":
        env["TODO_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    token = mint_with_secret(claims("alice", lifetime=3600, email="alice@example.com"))
    REPORTS.mkdir(exist_ok=True)
    report_path = REPORTS / f"report-{database}.json"

    with running_server(env=env) as base_url:
        result = run_schemathesis(base_url, token, report_path)
        # The run was authenticated: what it created is there for the same user to read.
        tasks = httpx.get(f"{base_url}/api/alice/tasks", headers=bearer(token), timeout=10)

    report: dict[str, Any] = json.loads(report_path.read_text())
    summary = (
        f"schemathesis on {database}: {report['operations']['tested']} operations, "
        f"{report['test_cases']['generated']} test cases, {len(report['failures'])} failures, "
        f"{len(report['errors'])} errors"
    )
    (REPORTS / f"summary-{database}.txt").write_text(summary + "\n")
    assert result.returncode == 0, f"{summary}\n{result.stdout[-6000:]}"
    assert report["operations"]["tested"] == report["operations"]["total"]
    assert report["failures"] == []
    assert report["errors"] == []
    assert not report["warnings"].get("missing_auth"), "requests were not authenticated"
    assert all(status == "success" for phase, status in _phase_statuses(report) if phase != "examples")
    assert tasks.status_code == 200
    assert tasks.json(), "the run created no task as the signed-in user"


def _phase_statuses(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, phase["status"]) for name, phase in report["phases"].items()]
