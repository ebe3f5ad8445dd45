"""The NxCloud operators' execute() against the sandbox (the DAG tests run them in Airflow)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
    NxCloudPhoneInfoOperator,
    NxCloudPhoneListOperator,
)
from airflow_provider_wa_phones.phones import COMMON_FIELDS

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()


def test_phone_operators_return_the_common_shape(sandbox):
    listed = NxCloudPhoneListOperator(task_id="list").execute({})
    info = NxCloudPhoneInfoOperator(task_id="info", phones=[r["phone_number"] for r in listed]).execute({})
    assert {r["phone_number"] for r in listed} == {r["phone_number"] for r in info}
    for record in listed + info:
        assert set(COMMON_FIELDS) <= set(record)
        assert record["service"] == "nxcloud"
    assert {r["waba_name"] for r in listed}


def test_submit_then_read_results_through_batches_into_a_file(sandbox, tmp_path):
    batches = NxCloudNumberCheckOperator(
        task_id="submit", phones="+86 138 0000 1234, +86 139 0000 5678, +1 415 555 0123, +44 20 7946 0000"
    ).execute({})
    assert sum(b["phone_count"] for b in batches) == 4
    sandbox.advance(10)
    target = tmp_path / "out" / "results.jsonl"
    result = NxCloudNumberCheckResultsOperator(
        task_id="results", batches=batches, output_path=f"file://{target}"
    ).execute({})
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert result["record_count"] == len(lines) == 4
    assert result["output_path"] == f"file://{target}"
    assert result["summary"]["total"] == 4
    assert sum(result["summary"]["by_region"].values()) == 4
    assert not list(target.parent.glob("*.partial"))


def test_results_without_output_path_go_to_xcom_up_to_a_limit(sandbox):
    sandbox.preload_number_check_batch("xcom", 30)
    records = NxCloudNumberCheckResultsOperator(task_id="r", date=TODAY, batch_no="xcom").execute({})
    assert len(records) == 30
    with pytest.raises(ParameterError, match="output_path: more than max_xcom_records=10"):
        NxCloudNumberCheckResultsOperator(
            task_id="r", date=TODAY, batch_no="xcom", max_xcom_records=10
        ).execute({})


def test_a_failed_read_leaves_no_file_behind(sandbox, tmp_path, monkeypatch):
    sandbox.preload_number_check_batch("half", 250)
    operator = NxCloudNumberCheckResultsOperator(
        task_id="r", date=TODAY, batch_no="half", output_path=f"file://{tmp_path}/half.jsonl"
    )
    pages = {"n": 0}
    original = operator.hook._call

    def fail_on_third_page(operation, body, **kwargs):
        pages["n"] += 1
        if pages["n"] == 3:
            raise RuntimeError("network gone")
        return original(operation, body, **kwargs)

    monkeypatch.setattr(operator.hook, "_call", fail_on_third_page)
    with pytest.raises(RuntimeError):
        operator.execute({})
    assert list(tmp_path.iterdir()) == []


def test_a_rerun_after_a_killed_write_succeeds_and_leaves_one_complete_file(sandbox, tmp_path):
    # A worker killed mid-write (SIGKILL: no cleanup runs) leaves a half-written .partial file and,
    # from an earlier complete run, the previous results: the rerun replaces both.
    sandbox.preload_number_check_batch("rerun", 250)
    target = tmp_path / "rerun.jsonl"
    target.write_text('{"stale": true}\n')
    (tmp_path / "rerun.jsonl.partial").write_text('{"half": ')
    operator = NxCloudNumberCheckResultsOperator(
        task_id="r", date=TODAY, batch_no="rerun", output_path=f"file://{target}"
    )
    outcome = operator.execute({})
    assert outcome["output_path"] == f"file://{target}"
    assert outcome["record_count"] == 250
    assert [path.name for path in tmp_path.iterdir()] == ["rerun.jsonl"]
    lines = target.read_text().splitlines()
    assert len(lines) == 250 and all("messageId" in json.loads(line) for line in lines)


def test_batches_and_explicit_query_cannot_be_mixed(sandbox):
    with pytest.raises(ParameterError, match="batches: give either"):
        NxCloudNumberCheckResultsOperator(
            task_id="r", batches=[{"batch_no": "b", "date": TODAY}], batch_no="b"
        ).execute({})
    assert sandbox.request_count() == 0


def test_templated_fields_are_declared():
    assert "phones" in NxCloudNumberCheckOperator.template_fields
    assert "output_path" in NxCloudNumberCheckResultsOperator.template_fields
    assert "date" in NxCloudNumberCheckResultsOperator.template_fields
