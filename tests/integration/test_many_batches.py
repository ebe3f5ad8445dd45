"""A number check of a million numbers: hundreds of batches, against the live sandbox.

Polls of one sensor or trigger query only the batches not yet seen finished, the trigger at most
``batch_concurrency`` at once (measured by the sandbox: every answer is held back a while, so the
requests that arrive within that while were all in flight together), and each poll logs one line of
progress. Nothing sleeps to wait for state: polls are awaited, or waited for under a deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudNumberCheckTrigger

pytestmark = pytest.mark.integration

QUERY = "/api/number/query"
EXPECTED = 3  # records per batch
DEADLINE = 30.0
#: Every query's answer comes this many seconds late (a "slow" fault, after the service answered).
HELD = 0.1
SUMMARY_KEYS = {
    "expected",
    "found",
    "batches",
    "batches_finished",
    "batches_total",
    "records_counted",
    "records_expected",
}


def batch_numbers_asked(sandbox: Any) -> list[str]:
    """``batchNo`` of every number-check query the sandbox received, in order."""
    return [json.loads(r.body)["batchNo"] for r in sandbox.requests(QUERY)]


def most_in_flight(sandbox: Any, held: float) -> int:
    """The most queries in flight at once, as the sandbox saw them: each answer left at least
    ``held`` seconds after its request arrived, so every request that arrived within ``held``
    seconds before another one was still unanswered when that one arrived."""
    arrivals = sorted(r.server_time for r in sandbox.requests(QUERY))
    return max(sum(1 for a in arrivals if t - held < a <= t) for t in arrivals)


def many_batches(sandbox: Any, prefix: str, finished: int, short: int, empty: int) -> list[dict[str, Any]]:
    """Trigger kwargs of ``finished + short + empty`` batches of EXPECTED records each, one day
    each: ``finished`` with all their records in the sandbox, ``short`` with one record missing,
    ``empty`` with none yet. Batch numbers say which: ``<prefix>-done-N``, ``-short-N``, ``-empty-N``."""
    batches = []
    for kind, count, present in (
        ("done", finished, EXPECTED),
        ("short", short, EXPECTED - 1),
        ("empty", empty, 0),
    ):
        for n in range(count):
            batch_no = f"{prefix}-{kind}-{n}"
            date = sandbox.preload_number_check_batch(batch_no, present)["date"] if present else None
            batches.append({"batch_no": batch_no, "expected": EXPECTED, "dates": [date], "submit_id": None})
    today = next(b["dates"][0] for b in batches if b["dates"][0] is not None)
    for batch in batches:
        batch["dates"] = [batch["dates"][0] or today]
        batch["message_id"] = None
    return batches


def finish_the_rest(sandbox: Any, batches: list[dict[str, Any]]) -> None:
    """Add the missing records of every short and empty batch (every record of a batch number
    counts: the batches have no submit id)."""
    for batch in batches:
        batch_no = batch["batch_no"]
        if "-short-" in batch_no:
            sandbox.preload_number_check_batch(batch_no, 1, date=batch["dates"][0])
        elif "-empty-" in batch_no:
            sandbox.preload_number_check_batch(batch_no, EXPECTED, date=batch["dates"][0])


async def until(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Let the event loop run until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        await asyncio.sleep(0.005)


# --- the trigger: 200 batches ------------------------------------------------------------------------


async def test_200_batches_later_polls_ask_only_for_unfinished_ones_8_at_once(sandbox: Any) -> None:
    batches = many_batches(sandbox, "million", finished=100, short=50, empty=50)
    unfinished = {b["batch_no"] for b in batches if "-done-" not in b["batch_no"]}
    sandbox.set_faults(rate=1.0, kinds=["slow"], paths=[QUERY], slow_seconds=HELD)
    trigger = NxCloudNumberCheckTrigger(batches=batches, batch_concurrency=8, poke_interval=0.01)
    trigger.check_arguments()
    async with trigger.make_hook() as hook:
        first = await asyncio.wait_for(trigger.decide(hook), DEADLINE)
        assert first.state == "wait"
        assert first.message == "Number check: 100 of 200 batches finished, 400 of 600 records"
        assert sorted(batch_numbers_asked(sandbox)) == sorted(b["batch_no"] for b in batches)  # each once
        assert most_in_flight(sandbox, HELD) == 8  # as many as allowed, never more

        sandbox.clear_requests()
        second = await asyncio.wait_for(trigger.decide(hook), DEADLINE)
        assert second.message == first.message
        asked = batch_numbers_asked(sandbox)
        assert len(asked) == 100 and set(asked) == unfinished  # the finished 100 never again
        assert most_in_flight(sandbox, HELD) == 8

        finish_the_rest(sandbox, batches)
        sandbox.clear_requests()
        done = await asyncio.wait_for(trigger.decide(hook), DEADLINE)
        assert sorted(batch_numbers_asked(sandbox)) == sorted(unfinished)
        assert done.state == "done"
        assert done.message == "Number check: 200 of 200 batches finished, 600 of 600 records"
        summary = done.value
        assert set(summary) == SUMMARY_KEYS
        assert (summary["batches_finished"], summary["batches_total"]) == (200, 200)
        assert summary["records_counted"] == summary["found"] == 600
        assert summary["records_expected"] == summary["expected"] == 600
        assert [row["batch_no"] for row in summary["batches"]] == [b["batch_no"] for b in batches]
        assert all(row["found"] == EXPECTED for row in summary["batches"])


async def test_one_at_a_time_when_batch_concurrency_is_1(sandbox: Any) -> None:
    batches = many_batches(sandbox, "single", finished=3, short=3, empty=3)
    sandbox.set_faults(rate=1.0, kinds=["slow"], paths=[QUERY], slow_seconds=HELD)
    trigger = NxCloudNumberCheckTrigger(batches=batches, batch_concurrency=1)
    trigger.check_arguments()
    async with trigger.make_hook() as hook:
        assert (await asyncio.wait_for(trigger.decide(hook), DEADLINE)).state == "wait"
    assert sandbox.request_count(QUERY) == 9 and most_in_flight(sandbox, HELD) == 1


async def test_each_poll_logs_one_progress_line_and_the_event_has_the_tally(
    sandbox: Any, caplog: Any, capfd: Any
) -> None:
    caplog.set_level(logging.INFO)
    batches = many_batches(sandbox, "logged", finished=40, short=30, empty=30)
    trigger = NxCloudNumberCheckTrigger(batches=batches, poke_interval=0.01)
    polls: list[str] = []
    check = trigger.check

    async def counted(hook: Any) -> Any:
        event = await check(hook)
        polls.append("waiting" if event is None else event.payload["status"])
        return event

    trigger.check = counted

    async def consume() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    task = asyncio.create_task(asyncio.wait_for(consume(), DEADLINE))
    await until(lambda: len(polls) >= 2)
    finish_the_rest(sandbox, batches)
    (event,) = await task
    assert event["status"] == "success"
    assert event["message"] == "Number check: 100 of 100 batches finished, 300 of 300 records"
    summary = event["summary"]
    assert set(summary) == SUMMARY_KEYS
    assert (summary["batches_finished"], summary["batches_total"]) == (100, 100)
    assert (summary["records_counted"], summary["records_expected"]) == (300, 300)
    # Polls before the last asked for the 60 unfinished batches only (the first for all 100).
    waiting = polls.count("waiting")
    assert sandbox.request_count(QUERY) == 100 + 60 * waiting
    captured = capfd.readouterr()
    text = caplog.text + captured.out + captured.err
    # The trigger logs through Airflow's structlog (to stdout here) or the logging module: one of
    # them, so count in the one that has the lines.
    progress = [r.getMessage() for r in caplog.records if "Number check: " in r.getMessage()] or [
        line for line in (captured.out + captured.err).splitlines() if "Number check: " in line
    ]
    # One line per waiting poll (the last poll's line is the event's message); some polls may have
    # seen part of the added records.
    assert len(progress) == waiting
    assert "Number check: 40 of 100 batches finished, 180 of 300 records" in progress[0]
    assert not any("logged-" in line for line in text.splitlines())  # no line per batch


# --- batch_concurrency: the parameter ---------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 33, "x", True, 2.5, None])
def test_a_bad_batch_concurrency_fails_the_sensor_when_it_is_built(sandbox: Any, value: Any) -> None:
    with pytest.raises(ParameterError) as caught:
        NxCloudNumberCheckSensor(
            task_id="wait", batch_no="b", expected_count=1, date="2026-01-01", batch_concurrency=value
        )
    assert caught.value.param == "batch_concurrency"
    assert "batch_concurrency" in str(caught.value)
    assert sandbox.request_count() == 0


@pytest.mark.parametrize("value", [0, 33, "x", True])
async def test_a_bad_batch_concurrency_ends_the_trigger_before_any_request(sandbox: Any, value: Any) -> None:
    batches = many_batches(sandbox, "refused", finished=1, short=0, empty=0)
    trigger = NxCloudNumberCheckTrigger(batches=batches, batch_concurrency=value, poke_interval=0.01)
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1 and events[0]["status"] == "error" and events[0]["refused"] is True
    assert "batch_concurrency" in events[0]["message"]
    assert sandbox.request_count() == 0


def test_the_deferred_trigger_carries_batch_concurrency_through_its_kwargs(sandbox: Any) -> None:
    batches = many_batches(sandbox, "handed", finished=1, short=1, empty=0)
    entries = [{**b, "date": b["dates"][0], "phone_count": EXPECTED} for b in batches]
    sensor = NxCloudNumberCheckSensor(task_id="wait", batches=entries, batch_concurrency="5")
    assert sensor.batch_concurrency == 5
    path, kwargs = sensor.make_trigger().serialize()
    assert path == "airflow_provider_wa_phones.triggers.nxcloud.NxCloudNumberCheckTrigger"
    stored = json.loads(json.dumps(kwargs))  # as the triggerer stores and reads them
    assert stored["batch_concurrency"] == 5
    rebuilt = NxCloudNumberCheckTrigger(**stored)
    rebuilt.check_arguments()
    assert rebuilt.serialize() == (path, kwargs)
    # A trigger stored before batch_concurrency existed resumes with the default.
    del stored["batch_concurrency"]
    older = NxCloudNumberCheckTrigger(**stored)
    older.check_arguments()
    assert older.serialize()[1]["batch_concurrency"] == 8


# --- the sensor in a worker ---------------------------------------------------------------------------


def test_pokes_of_one_sensor_skip_the_batches_already_finished(sandbox: Any) -> None:
    batches = many_batches(sandbox, "poked", finished=20, short=10, empty=10)
    # As NxCloudNumberCheckOperator returns them; no message_id: every record of the number counts.
    entries = [
        {"batch_no": b["batch_no"], "message_id": "", "date": b["dates"][0], "phone_count": EXPECTED}
        for b in batches
    ]
    sensor = NxCloudNumberCheckSensor(task_id="wait", batches=entries, mode="poke")
    first = sensor.poke({})
    assert not first.is_done and sandbox.request_count(QUERY) == 40
    sandbox.clear_requests()
    assert not sensor.poke({}).is_done
    assert set(batch_numbers_asked(sandbox)) == {b["batch_no"] for b in batches[20:]}
    assert sandbox.request_count(QUERY) == 20
    finish_the_rest(sandbox, batches)
    sandbox.clear_requests()
    done = sensor.poke({})
    assert done.is_done and sandbox.request_count(QUERY) == 20
    summary = done.xcom_value
    assert set(summary) == SUMMARY_KEYS
    assert (summary["batches_finished"], summary["batches_total"]) == (40, 40)
    assert (summary["records_counted"], summary["records_expected"]) == (120, 120)
    # Another sensor (a reschedule-mode poke, a retry) starts over: every batch once.
    sandbox.clear_requests()
    assert NxCloudNumberCheckSensor(task_id="wait", batches=entries).poke({}).is_done
    assert sandbox.request_count(QUERY) == 40
