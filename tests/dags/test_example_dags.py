"""Each example DAG runs end to end in Airflow (dag.test, real metadata DB) against the sandbox."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from airflow_provider_wa_phones.sandbox import data

pytestmark = pytest.mark.dags

DAGS_DIR = Path(__file__).resolve().parents[2] / "example_dags"


def test_example_dags_parse_without_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    assert "nxcloud_phone_health" in bag.dag_ids


def test_phone_health_dag_reports_and_flags_numbers(sandbox_env, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_DIR / "example_nxcloud_phone_health.py")).get_dag("nxcloud_phone_health")
    run = dag.test()
    assert run.state == "success"
    (report,) = tmp_path.glob("nxcloud-phone-health-*.json")
    rows = json.loads(report.read_text(encoding="utf-8"))
    assert len(rows) == 5
    flagged = {row["phone_number"]: row["attention"] for row in rows if row["attention"]}
    assert "8613800001234" not in flagged
    assert "status PENDING" in flagged["6281234567890"]
    assert "quality RED" in flagged["447700900123"]
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "nxcloud_phone_health" in logs or "list_phones" in logs
    assert data.NXCLOUD_ACCESS_SECRET not in logs
    assert data.NXCLOUD_ACCESS_SECRET not in json.dumps(rows)
