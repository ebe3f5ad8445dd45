from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from airflow_provider_wa_phones.sandbox import SandboxServer

pytestmark = pytest.mark.dags


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated metadata database in the test AIRFLOW_HOME (set by the root conftest)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())


@pytest.fixture(scope="session")
def dag_sandbox():
    with SandboxServer(time_scale=0) as server:
        yield server


@pytest.fixture
def sandbox_env(dag_sandbox, monkeypatch, tmp_path, airflow_db):
    dag_sandbox.reset()
    dag_sandbox.clear_requests()
    for name, value in dag_sandbox.airflow_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WA_PHONES_REPORT_DIR", str(tmp_path))
    return dag_sandbox


@pytest.fixture
def advance_when_looked(sandbox_env):
    """Start a watcher that moves the (frozen) sandbox clock by ``seconds`` as soon as the DAG has
    made its first matching request; returns the thread and a dict with the count seen then.

    ``from_triggerer=True`` waits for the first matching request of a trigger (aiohttp's, told by
    its User-Agent): the sensor has then deferred, whatever its first look asked. A number-check
    sensor's first look may query several days; moving the clock between two of them would let
    it finish without deferring.
    """
    threads = []

    def matching(path: str | None, action: str | None, from_triggerer: bool) -> int:
        if not from_triggerer:
            return sandbox_env.request_count(path=path, action=action)
        requests = sandbox_env.requests(path=path, action=action)
        return sum("aiohttp" in request.headers.get("user-agent", "") for request in requests)

    def start(
        seconds: float, path: str | None = None, action: str | None = None, from_triggerer: bool = False
    ):
        looked: dict[str, int] = {}

        def watch() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                count = matching(path, action, from_triggerer)
                if count:
                    looked["before"] = count
                    sandbox_env.advance(seconds)
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        threads.append(thread)
        return thread, looked

    yield start
    for thread in threads:
        thread.join(5)
