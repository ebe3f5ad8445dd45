from __future__ import annotations

import os
import subprocess
import sys
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
