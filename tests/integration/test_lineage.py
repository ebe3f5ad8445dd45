"""The results operator's lineage: the file it really wrote (never its ``.partial`` file) in
Airflow's hook lineage collector, and OpenLineage datasets through the OpenLineage provider's
extractor when that provider is installed."""

from __future__ import annotations

import datetime as dt
import sys
from types import SimpleNamespace

import pytest
from airflow.sdk import Asset

from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckResultsOperator
from tests.hook_lineage import collecting, memory_storage, uris

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
BUCKET = "wa-phones-lineage"


def results_operator(output_path: str) -> NxCloudNumberCheckResultsOperator:
    return NxCloudNumberCheckResultsOperator(
        task_id="results", date=TODAY, batch_no="lineage", output_path=output_path
    )


def test_hook_lineage_names_the_local_file_written_not_its_partial_file(sandbox, tmp_path, monkeypatch):
    sandbox.preload_number_check_batch("lineage", 120)
    target = tmp_path / "out" / "results.jsonl"
    with collecting(monkeypatch) as collector:
        outcome = results_operator(f"file://{target}").execute({})
        lineage = collector.collected_assets
    assert outcome["record_count"] == 120
    assert uris(lineage.outputs) == [f"file://{target}"] == [outcome["asset_uri"]]
    assert lineage.inputs == []
    assert len(target.read_text(encoding="utf-8").splitlines()) == 120


def test_hook_lineage_names_the_object_storage_file_written_not_its_partial_file(sandbox, monkeypatch):
    sandbox.preload_number_check_batch("lineage", 120)
    with memory_storage(monkeypatch, BUCKET) as memory, collecting(monkeypatch) as collector:
        outcome = results_operator(f"memory://{BUCKET}/checks/results.jsonl").execute({})
        lineage = collector.collected_assets
        written = memory.cat_file(f"/{BUCKET}/checks/results.jsonl").decode().splitlines()
        assert memory.ls(f"/{BUCKET}/checks", detail=False) == [f"/{BUCKET}/checks/results.jsonl"]
    assert outcome["record_count"] == len(written) == 120
    recorded = uris(lineage.inputs) + uris(lineage.outputs)
    assert not [uri for uri in recorded if ".partial" in uri], recorded
    # The asset the task publishes for the file, as Airflow writes its URI (memory:/bucket/key).
    assert uris(lineage.outputs) == [Asset(uri=outcome["asset_uri"]).uri]
    assert outcome["asset_uri"] == f"memory:///{BUCKET}/checks/results.jsonl"


def test_openlineage_facets_are_none_without_the_openlineage_provider(sandbox, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", None)  # import fails
    sandbox.preload_number_check_batch("lineage", 3)
    operator = results_operator(f"file://{tmp_path}/r.jsonl")
    operator.execute({})
    assert operator.get_openlineage_facets_on_complete(SimpleNamespace()) is None


def openlineage_datasets(operator, run_id: str = "manual__lineage"):
    """What the OpenLineage provider's listener reports for a successful run of ``operator``: its
    ExtractorManager picks the extractor (the default one, for get_openlineage_facets_on_complete)."""
    pytest.importorskip("airflow.providers.openlineage", reason="the OpenLineage provider is not installed")
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from airflow.utils.state import TaskInstanceState

    ti = SimpleNamespace(task=operator, dag_id=operator.dag_id, task_id=operator.task_id, run_id=run_id)
    metadata = ExtractorManager().extract_metadata(
        dagrun=SimpleNamespace(run_id=run_id),
        task=operator,
        task_instance_state=TaskInstanceState.SUCCESS,
        task_instance=ti,
    )
    return (
        [(d.namespace, d.name) for d in metadata.inputs],
        [(d.namespace, d.name) for d in metadata.outputs],
    )


def test_openlineage_reports_the_local_file_and_the_query_read(sandbox, tmp_path, monkeypatch):
    sandbox.preload_number_check_batch("lineage", 30)
    target = tmp_path / "results.jsonl"
    operator = results_operator(f"file://{target}")
    with collecting(monkeypatch):
        operator.execute({})
        inputs, outputs = openlineage_datasets(operator)
    assert outputs == [("file", str(target))]
    assert inputs == [(sandbox.url, "/api/number/query")]


def test_openlineage_reports_the_object_storage_file_by_namespace_and_key(sandbox, monkeypatch):
    sandbox.preload_number_check_batch("lineage", 30)
    operator = results_operator(f"memory://{BUCKET}/checks/results.jsonl")
    with memory_storage(monkeypatch, BUCKET), collecting(monkeypatch):
        operator.execute({})
        inputs, outputs = openlineage_datasets(operator)
    assert outputs == [(f"memory://{BUCKET}", "checks/results.jsonl")]
    assert [name for _, name in inputs] == ["/api/number/query"]


def test_openlineage_without_output_path_reports_only_the_query(sandbox, monkeypatch):
    sandbox.preload_number_check_batch("lineage", 3)
    operator = NxCloudNumberCheckResultsOperator(task_id="results", date=TODAY, batch_no="lineage")
    operator.execute({})
    inputs, outputs = openlineage_datasets(operator)
    assert outputs == [] and [name for _, name in inputs] == ["/api/number/query"]
