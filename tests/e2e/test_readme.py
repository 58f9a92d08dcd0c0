"""The README is the front door: its examples must work exactly as written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import free_port, running_server

README = (Path(__file__).parents[2] / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)


def test_the_python_example_runs_and_prints_what_it_says() -> None:
    (example,) = code_blocks("python")
    promised = re.search(r"print\(.*\)\s+# (.*)", example)
    assert promised is not None
    result = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == promised.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walk-through uses curl")
def test_the_curl_walk_through_works_against_a_running_server() -> None:
    (walk_through,) = [block for block in code_blocks("bash") if "curl" in block]
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
