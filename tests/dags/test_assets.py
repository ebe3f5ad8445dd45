"""What the example DAGs write is published as assets, in Airflow's own tables (dag.test, real DB)."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.dags.test_example_dags import get_dag

pytestmark = pytest.mark.dags


def asset_events(alias: str) -> list[tuple[str, dict]]:
    """(asset URI, extra) of every asset event emitted through the asset alias ``alias``."""
    from airflow.models.asset import AssetAliasModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        model = session.scalar(select(AssetAliasModel).where(AssetAliasModel.name == alias))
        if model is None:
            return []
        return [(event.asset.uri, dict(event.extra or {})) for event in model.asset_events]


def test_number_check_results_are_published_through_their_asset_alias(
    sandbox_env, tmp_path, advance_when_looked
):
    from airflow.sdk import AssetAlias

    from airflow_provider_wa_phones.operators.nxcloud import RESULTS_ASSET

    dag = get_dag("example_number_check.py", "number_check")
    assert dag.get_task("results").outlets == [AssetAlias(RESULTS_ASSET)]
    before = len(asset_events(RESULTS_ASSET))
    advance_when_looked(10, path="/api/number/query")
    run = dag.test(logical_date=None)
    assert run.state == "success"
    (results,) = tmp_path.glob("number-check-*.jsonl")
    events = asset_events(RESULTS_ASSET)
    assert len(events) == before + 1
    uri, extra = events[-1]
    assert unquote(uri) == unquote(results.resolve().as_uri())
    assert extra["record_count"] == 7 and extra["summary"]["total"] == 7
    assert json.loads(json.dumps(extra)) == extra


def test_the_health_report_is_published_through_its_asset_alias(sandbox_env, tmp_path):
    before = len(asset_events("wa-phones-health-report"))
    run = get_dag("example_phone_health.py", "phone_health").test(logical_date=None)
    assert run.state == "success"
    (report,) = tmp_path.glob("phone-health-*.json")
    events = asset_events("wa-phones-health-report")
    assert len(events) == before + 1
    uri, extra = events[-1]
    assert unquote(uri) == unquote(report.resolve().as_uri()) and extra["numbers"] == 9


def test_without_output_path_or_with_output_asset_none_nothing_is_declared():
    from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckResultsOperator

    assert NxCloudNumberCheckResultsOperator(task_id="a", date="2026-11-26", batch_no="b").outlets == []
    none = NxCloudNumberCheckResultsOperator(
        task_id="b", date="2026-11-26", batch_no="b", output_path="file:///tmp/x.jsonl", output_asset=None
    )
    assert none.outlets == []
