"""The sandbox as its own process, as a user (or a deployment beside it) starts it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def start_sandbox(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m airflow_provider_wa_phones.sandbox --port 0 *args``; return it and its URL
    once its ready file names it (within 30 s, or the process is killed and the test fails)."""
    ready_file = tmp_path / "ready"
    command = [sys.executable, "-m", "airflow_provider_wa_phones.sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--ready-file", str(ready_file), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the sandbox did not start within 30 s: {process.communicate()}")
        time.sleep(0.05)
    return process, ready_file.read_text().strip()
