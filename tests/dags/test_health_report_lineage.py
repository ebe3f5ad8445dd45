"""The phone_health example's report task records its report file as hook lineage, which the
OpenLineage provider (where installed) reports as the task's output dataset."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from unittest import mock

import pytest

from tests.dags.test_example_dags import DAGS_DIR
from tests.hook_lineage import collecting, uris

pytestmark = pytest.mark.dags

RECORD = {
    "service": "nxcloud",
    "phone_number": "8613800001234",
    "status": "CONNECTED",
    "quality_rating": "GREEN",
}


def report_task():
    """The report task of the example DAG, built from its file without a metadata database."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "example_phone_health", DAGS_DIR / "example_phone_health.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.phone_health().get_task("write_report")


def test_the_health_report_file_is_the_report_tasks_lineage_output(tmp_path, monkeypatch):
    task = report_task()
    with collecting(monkeypatch) as collector:
        result = task.python_callable(
            nxcloud=[RECORD],
            cams=[],
            report_dir=str(tmp_path),
            run_id="manual__1",
            outlet_events=defaultdict(mock.MagicMock),
        )
        lineage = collector.collected_assets
        report = (tmp_path / "phone-health-manual__1.json").resolve()
        assert result["report"] == str(tmp_path / report.name)
        assert uris(lineage.outputs) == [report.as_uri()]

        pytest.importorskip(
            "airflow.providers.openlineage", reason="the OpenLineage provider is not installed"
        )
        from airflow.providers.openlineage.extractors.manager import ExtractorManager
        from airflow.utils.state import TaskInstanceState

        ti = SimpleNamespace(task=task, dag_id=task.dag_id, task_id=task.task_id, run_id="manual__1")
        metadata = ExtractorManager().extract_metadata(
            dagrun=SimpleNamespace(run_id="manual__1"),
            task=task,
            task_instance_state=TaskInstanceState.SUCCESS,
            task_instance=ti,
        )
    assert [(d.namespace, d.name) for d in metadata.outputs] == [("file", str(report))]
