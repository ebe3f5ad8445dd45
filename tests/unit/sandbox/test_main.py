"""``python -m airflow_provider_wa_phones.sandbox`` as a user runs it."""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests


@contextlib.contextmanager
def socket_in_use() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_signalled_and_prints_the_connection(tmp_path: Path, signum: signal.Signals) -> None:
    ready_file = tmp_path / "ready"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_wa_phones.sandbox",
            "--port",
            "0",
            "--ready-file",
            str(ready_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sandbox did not write its ready file within 30 s"
            time.sleep(0.05)
        url = ready_file.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/_sandbox/health", timeout=10).json() == {"status": "ok"}
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    export, listening = stdout.strip().splitlines()
    name, _, value = shlex.split(export.removeprefix("export "))[0].partition("=")
    assert name == "AIRFLOW_CONN_NXCLOUD_DEFAULT"
    assert json.loads(value)["host"] == url
    assert listening == f"Sandbox listening on {url} (Ctrl-C to stop)"


def test_reports_a_port_it_cannot_bind() -> None:
    with socket_in_use() as port:
        result = subprocess.run(
            [sys.executable, "-m", "airflow_provider_wa_phones.sandbox", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot bind the sandbox to 127.0.0.1:{port}" in result.stderr
