"""The README is the front door: its examples must work exactly as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import free_port, running_server

README_PATH = Path(__file__).parents[2] / "README.md"
README = README_PATH.read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_the_python_example_runs_and_prints_what_it_says() -> None:
    (example,) = code_blocks("python")
    promised = re.search(r"print\(.*\)\s+# (.*)", example)
    assert promised is not None
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == promised.group(1)


def shell_example(marker: str) -> str:
    (example,) = [block for block in code_blocks("bash") if marker in block]
    return example


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_curl_walk_through_works_against_a_running_server() -> None:
    walk_through = shell_example("# Register a user")
    port = free_port()
    script = walk_through.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    with running_server(port=port):
        result = subprocess.run(
            ["/bin/bash", "-e", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    assert '"code":"PRECONDITION_FAILED"' in output
    assert '"completed":true' in output
    assert 'rel="next"' in output
    assert '"code":"VALIDATION_ERROR"' in output
    assert output.count("HTTP/1.1 204 No Content") == 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example uses curl")
def test_the_authentication_example_mints_a_token_and_is_let_in_only_on_its_own_path() -> None:
    port = free_port()
    script = shell_example("TODO_JWT_SECRET=").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("TODO_", "BETTER_AUTH"))}
    result = subprocess.run(
        ["/bin/bash", "-e", "-o", "pipefail", "-c", script],
        cwd=README_PATH.parent,
        env={**environment, "TODO_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The server shares the script's output; the curl answers are the JSON lines.
    answers = [line for line in result.stdout.splitlines() if line.startswith(("{", "["))]
    first_list, created, without_token, other_path = answers
    assert first_list == "[]"
    assert '"title":"Signed in"' in created
    assert '"code":"UNAUTHENTICATED"' in without_token
    assert '"code":"FORBIDDEN"' in other_path
