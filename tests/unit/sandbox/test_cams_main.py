"""``python -m airflow_provider_wa_phones.sandbox`` exports the CAMS connection and takes its rate limit."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests


def test_prints_both_connections_and_applies_the_cams_rate_limit(tmp_path: Path) -> None:
    ready_file = tmp_path / "ready"
    command = [sys.executable, "-m", "airflow_provider_wa_phones.sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--cams-rate-limit", "0", "--ready-file", str(ready_file)],
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
        throttle = requests.get(url + "/_sandbox/cams/throttle", timeout=10).json()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert throttle["rate_limit"] is None
    export = stdout.splitlines()[0]
    assert export.startswith("export ")
    # One shell command assigning every connection.
    assignments = dict(word.partition("=")[::2] for word in shlex.split(export.removeprefix("export ")))
    assert list(assignments) == ["AIRFLOW_CONN_NXCLOUD_DEFAULT", "AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"]
    cams = json.loads(assignments["AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"])
    assert (cams["conn_type"], cams["host"], cams["login"]) == ("alibaba_cams", url, "LTAI5tSandboxCamsKey")
