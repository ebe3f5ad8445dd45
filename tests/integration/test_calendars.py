"""A charged submit is paid once whatever the clock says, and its results are found either way.

NxCloud does not publish the calendar its query ``date`` files results under (UTC, or UTC+8 where
it is run): every test here runs against a sandbox filing under each. The process clock (the
hooks' and the in-process sandbox's alike) is moved with ``time_machine`` to the hours where the
two calendars disagree (16:00 to 24:00 UTC) and across both midnights.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
)
from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.sandbox import SandboxServer
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor

SUBMIT, QUERY = "/api/number/check", "/api/number/query"
PHONES = ["+86 138 0000 1234", "+86 139 0000 5678", "+86 137 0000 4321"]
FAST = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


@pytest.fixture(params=["UTC", "UTC+8"])
def sandbox(request, monkeypatch):
    with SandboxServer(time_scale=0, result_calendar=request.param) as server:
        for name, value in server.airflow_env().items():
            monkeypatch.setenv(name, value)
        yield server


def hook(sandbox) -> NxCloudHook:
    made = NxCloudHook(retry_policy=FAST)
    made._sleep = sandbox.advance  # a lookup's waiting moves the sandbox's timelines, not the test's
    return made


@dataclass
class _TaskInstance:
    try_number: int
    start_date: dt.datetime
    dag_id: str = "number_check"
    task_id: str = "submit"
    run_id: str = "manual__2026-11-20T23:59:00+00:00"
    map_index: int = -1


@dataclass
class _DagRun:
    start_date: dt.datetime
    run_after: dt.datetime


def context(try_number: int, run_started: str, try_started: str) -> dict:
    started = utc(run_started)
    return {
        "ti": _TaskInstance(try_number, utc(try_started)),
        "dag_run": _DagRun(started, started),
    }


# The hours where the calendars disagree, both midnights and an ordinary morning.
SUBMIT_TIMES = [
    "2026-11-20T09:00:00",
    "2026-11-20T15:59:50",  # 23:59:50 in UTC+8
    "2026-11-20T17:30:00",  # UTC says the 20th, UTC+8 the 21st
    "2026-11-20T23:59:50",
]


@pytest.mark.parametrize("submitted_at", SUBMIT_TIMES)
def test_results_of_a_submit_are_found_whichever_day_they_are_filed_under(sandbox, submitted_at):
    with time_machine.travel(utc(submitted_at), tick=True):
        nx = hook(sandbox)
        (batch,) = nx.submit_number_check(PHONES, batch_no="calendar-1")
        sandbox.advance(10)  # every result is in
        records = list(nx.iter_batch_results(batch))
        outcome = NxCloudNumberCheckSensor(task_id="wait", batches=[batch]).poke({})
        results = NxCloudNumberCheckResultsOperator(task_id="read", batches=[batch]).execute({})
    assert sorted(r["phone"] for r in records) == ["8613700004321", "8613800001234", "8613900005678"]
    assert outcome.is_done and outcome.xcom_value["found"] == 3
    assert len(results) == 3


@pytest.mark.parametrize(
    ("submitted_at", "retried_at"),
    [
        ("2026-11-20T23:59:30", "2026-11-21T00:20:00"),  # past UTC midnight
        ("2026-11-20T15:59:30", "2026-11-20T16:20:00"),  # past midnight in UTC+8
        ("2026-11-20T17:30:00", "2026-11-20T17:45:00"),  # while the calendars disagree
        ("2026-11-20T23:59:30", "2026-11-22T03:00:00"),  # a retry two days later
    ],
)
def test_a_task_retry_at_any_hour_reuses_the_batch_and_pays_once(sandbox, submitted_at, retried_at):
    run_started = (utc(submitted_at) - dt.timedelta(seconds=20)).isoformat()
    with time_machine.travel(utc(submitted_at), tick=True):
        first = NxCloudNumberCheckOperator(task_id="submit", phones=PHONES).execute(
            context(1, run_started, submitted_at)
        )
    sandbox.advance(10)
    with time_machine.travel(utc(retried_at), tick=True):
        again = NxCloudNumberCheckOperator(task_id="submit", phones=PHONES).execute(
            context(2, run_started, retried_at)
        )
        records = NxCloudNumberCheckResultsOperator(task_id="read", batches=again).execute({})
    assert sandbox.request_count(path=SUBMIT) == 1  # paid once
    assert again[0]["reused"] is True
    assert again[0]["message_id"] == first[0]["message_id"]
    assert len(records) == 3


def test_a_lost_answer_while_the_calendars_disagree_is_found_not_resent(sandbox):
    sandbox.fail_next("lost", path=SUBMIT)
    with time_machine.travel(utc("2026-11-20T17:30:00"), tick=True):
        nx = hook(sandbox)
        (batch,) = nx.submit_number_check(PHONES, batch_no="calendar-lost")
        sandbox.advance(10)
        records = list(nx.iter_batch_results(batch))
    assert sandbox.request_count(path=SUBMIT) == 1
    assert batch["reused"] is True
    assert len(records) == 3


def test_a_submit_lists_both_days_only_while_the_calendars_disagree(sandbox):
    with time_machine.travel(utc("2026-11-20T09:00:00"), tick=True):
        (morning,) = hook(sandbox).submit_number_check(PHONES, batch_no="calendar-am")
    with time_machine.travel(utc("2026-11-20T17:30:00"), tick=True):
        (evening,) = hook(sandbox).submit_number_check(PHONES, batch_no="calendar-pm")
    assert morning["dates"] == ["2026-11-20"]
    assert evening["dates"] == ["2026-11-20", "2026-11-21"]
