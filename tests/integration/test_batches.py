"""Only the records of this submit count: a batch number used twice never mixes two runs' results."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
    task_batch_no,
)
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor
from airflow_provider_wa_phones.submits import BatchConflictError

SUBMIT = "/api/number/check"
MONDAY = ["+86 138 0000 1234", "+86 139 0000 5678", "+86 137 0000 4321"]
TUESDAY = ["+86 136 0000 1111", "+86 135 0000 2222"]


@dataclass
class _TaskInstance:
    run_id: str
    try_number: int = 1
    dag_id: str = "number_check"
    task_id: str = "submit"
    map_index: int = -1
    start_date: None = None


def run(phones, run_id, batch_no="campaign", try_number=1):
    operator = NxCloudNumberCheckOperator(task_id="submit", phones=phones, batch_no=batch_no)
    return operator.execute({"ti": _TaskInstance(run_id, try_number)})


def test_a_second_run_under_the_same_batch_no_reads_only_its_own_records(sandbox):
    run(MONDAY, "manual__1")
    sandbox.advance(10)  # the first run's three results are in
    second = run(TUESDAY, "manual__2")
    waiting = NxCloudNumberCheckSensor(task_id="wait", batches=second).poke({})
    assert not waiting.is_done  # three records under "campaign", none of them this run's
    sandbox.advance(10)
    done = NxCloudNumberCheckSensor(task_id="wait", batches=second).poke({})
    records = NxCloudNumberCheckResultsOperator(task_id="read", batches=second).execute({})
    assert done.is_done and done.xcom_value["found"] == 2
    assert sorted(r["phone"] for r in records) == ["8613500002222", "8613600001111"]


def test_the_default_batch_name_is_unique_per_run_and_task():
    names = {
        task_batch_no(_TaskInstance(run_id, task_id=task_id))
        for run_id in ("manual__1", "manual__2", "scheduled__2026-11-20T00:00:00+00:00")
        for task_id in ("submit", "submit_more")
    }
    assert len(names) == 6
    assert all(len(name) <= 61 for name in names)  # room for the "-CN" country suffix within 64


def test_default_names_keep_two_runs_apart_without_any_care(sandbox):
    first = NxCloudNumberCheckOperator(task_id="submit", phones=MONDAY).execute(
        {"ti": _TaskInstance("manual__1")}
    )
    second = NxCloudNumberCheckOperator(task_id="submit", phones=MONDAY).execute(
        {"ti": _TaskInstance("manual__2")}
    )
    assert first[0]["batch_no"] != second[0]["batch_no"]
    assert sandbox.request_count(path=SUBMIT) == 2


def test_a_retry_that_cannot_tell_two_submits_apart_refuses_rather_than_guess_or_pay(sandbox):
    run(MONDAY, "manual__1")
    run(MONDAY, "manual__2")  # the same numbers under the same batch_no: indistinguishable
    sandbox.advance(10)
    with pytest.raises(BatchConflictError) as caught:
        run(MONDAY, "manual__2", try_number=2)
    assert "batch_no 'campaign' names 2 submits" in str(caught.value)
    assert not caught.value.retryable
    assert sandbox.request_count(path=SUBMIT) == 2  # nothing paid for a third time


def test_a_retry_tells_its_submit_from_another_run_s_by_the_numbers(sandbox):
    run(MONDAY, "manual__1")
    first = run(TUESDAY, "manual__2")
    sandbox.advance(10)
    again = run(TUESDAY, "manual__2", try_number=2)
    assert again[0]["reused"] is True
    assert again[0]["message_id"] == first[0]["message_id"]
    assert sandbox.request_count(path=SUBMIT) == 2
