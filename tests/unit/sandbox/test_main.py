"""``python -m airflow_provider_wa_phones.sandbox`` as a user runs it."""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.unit.sandbox.processes import start_sandbox


@contextlib.contextmanager
def socket_in_use() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_signalled_and_prints_the_connection(tmp_path: Path, signum: signal.Signals) -> None:
    process, url = start_sandbox(tmp_path)
    try:
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


def test_sts_mode_reports_its_endpoint_and_ca_and_removes_them_at_exit(tmp_path: Path) -> None:
    process, ready = start_sandbox(tmp_path, "--sts", "--sts-lifetime", "30")
    try:
        url, sts_line, ca_line = ready.splitlines()
        endpoint = sts_line.removeprefix("sts_endpoint=")
        ca_file = Path(ca_line.removeprefix("ca_file="))
        assert endpoint.startswith("127.0.0.1:") and ca_file.is_file()
        answer = requests.get(
            f"https://{endpoint}/?Action=AssumeRole&Version=2015-04-01", verify=str(ca_file), timeout=10
        )
        assert (answer.status_code, answer.json()["Code"]) == (400, "IncompleteSignature")
        assert requests.get(url + "/_sandbox/sts", timeout=10).json()["lifetime"] == 30
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert (
        f"STS listening on https://{endpoint} (sts_endpoint {endpoint}); "
        f"trust its CA: SSL_CERT_FILE={ca_file}" in stdout
    )
    assert not ca_file.exists() and not ca_file.parent.exists()
