"""Structural properties the benchmarks rely on, guarded as tests (the benchmarks measure, these check)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

LIGHT_MODULES = [
    "airflow_provider_wa_phones.operators.nxcloud",
    "airflow_provider_wa_phones.operators.cams",
    "airflow_provider_wa_phones.sensors.nxcloud",
    "airflow_provider_wa_phones.sensors.cams",
    "airflow_provider_wa_phones.sandbox",
]
HEAVY = [
    "requests", "aiohttp", "phonenumbers", "fastapi", "uvicorn", "urllib3", "yarl",
    # Alibaba Cloud's credential library and what it brings: loaded only when a CAMS key is fetched.
    "alibabacloud_credentials", "Tea", "apscheduler", "aiofiles",
]  # fmt: skip


@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_dag_time_modules_do_not_import_http_or_phone_libraries(module):
    code = f"import json, sys; import {module}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_the_check_can_fail():
    module = "airflow_provider_wa_phones.hooks.nxcloud"  # the hook does need requests
    code = f"import json, sys; import {module}; print(json.dumps('requests' in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) is True


def test_the_docs_state_the_request_timeout_limit_the_code_enforces():
    from airflow_provider_wa_phones.checks import MAX_REQUEST_TIMEOUT
    from airflow_provider_wa_phones.exceptions import ParameterError
    from airflow_provider_wa_phones.operators.base import ServiceOperator
    from tests.conftest import REPO

    (row,) = [
        line
        for line in (REPO / "docs" / "validation.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `request_timeout` / `timeout` |")
    ]
    assert f"at most {MAX_REQUEST_TIMEOUT:.0f}" in row
    ServiceOperator(task_id="t", request_timeout=MAX_REQUEST_TIMEOUT)
    with pytest.raises(ParameterError, match="request_timeout"):
        ServiceOperator(task_id="t", request_timeout=MAX_REQUEST_TIMEOUT + 1)
