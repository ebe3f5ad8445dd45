"""The deferrable triggers, run in this test's event loop against the live sandbox.

The sandbox's virtual clock is frozen (time_scale=0): a test lets a trigger poll, then moves the
clock with ``sandbox.advance`` and waits for the event under a deadline. Nothing sleeps to wait.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wa_phones import transport
from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudNumberCheckTrigger, NxCloudPhoneStatusTrigger
from airflow_provider_wa_phones.waits import DEFAULT_FAILURE_STATUSES, batch_targets

pytestmark = pytest.mark.integration

GET_PHONE = "/api/wa/getPhone"
QUERY = "/api/number/query"
CAMS_LIST = "QueryChatappPhoneNumbers"
POKE = 0.05
DEADLINE = 20.0
FAILURES = list(DEFAULT_FAILURE_STATUSES)
NX_PENDING = "6281234567890"  # PENDING until t=5, then CONNECTED
NX_BANNED = "5511987654321"  # CONNECTED, FLAGGED from t=4, BANNED from t=8
CAMS_PENDING = "6591110000"  # PENDING until t=5, then CONNECTED
CAMS_BANNED = "6281299990000"  # FLAGGED from t=3, BANNED from t=9
SECRETS = (
    data.NXCLOUD_ACCESS_SECRET,
    data.NXCLOUD_BASIC_ACCESS_SECRET,
    data.NXCLOUD_CHECKONLY_ACCESS_SECRET,
    data.CAMS_ACCESS_KEY_SECRET,
    data.CAMS_STS_ACCESS_KEY_SECRET,
    data.CAMS_STS_SECURITY_TOKEN,
    data.CAMS_NOCAMS_ACCESS_KEY_SECRET,
    data.CAMS_RAM_DENIED_ACCESS_KEY_SECRET,
)


async def run_trigger(trigger: Any, timeout: float = DEADLINE) -> list[dict[str, Any]]:
    """Every event the trigger yields until its ``run()`` ends, as the triggerer consumes them."""

    async def consume() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return await asyncio.wait_for(consume(), timeout)


async def until(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Let the event loop run until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        await asyncio.sleep(0.005)


def count_polls(trigger: Any) -> list[str]:
    """Record the outcome of every poll of ``trigger`` (its ``check`` calls): waiting, event or error."""
    outcomes: list[str] = []
    check = trigger.check

    async def counted(hook: Any) -> Any:
        try:
            event = await check(hook)
        except Exception as exc:
            outcomes.append(type(exc).__name__)
            raise
        outcomes.append("waiting" if event is None else event.payload["status"])
        return event

    trigger.check = counted
    return outcomes


def nxcloud_phones_asked(sandbox: Any) -> list[str]:
    """``business_phones`` of every getPhone request the sandbox received, in order."""
    return [json.loads(r.body).get("business_phones", "") for r in sandbox.requests(GET_PHONE)]


def set_connection(monkeypatch: pytest.MonkeyPatch, sandbox: Any, conn_id: str, **changes: Any) -> None:
    conn = sandbox.connections()[conn_id] | changes
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


# --- serialisation ----------------------------------------------------------------------------------


def all_triggers() -> list[Any]:
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return [
        NxCloudPhoneStatusTrigger(
            phones=["8613800001234", NX_PENDING],
            target_status="CONNECTED",
            failure_statuses=FAILURES,
            appkey=data.NXCLOUD_APPKEY,
            nxcloud_conn_id="nxcloud_default",
            poke_interval=2.5,
        ),
        NxCloudNumberCheckTrigger(
            batches=[
                {"date": today, "expected": 3, "batch_no": "b-1", "message_id": None},
                {"date": today, "expected": 1, "batch_no": None, "message_id": "m-1"},
            ],
            appkey=data.NXCLOUD_APPKEY,
            poke_interval=7,
        ),
        CamsPhoneStatusTrigger(
            phone_numbers=[CAMS_PENDING],
            target_status="CONNECTED",
            failure_statuses=FAILURES,
            cust_space_id=data.CAMS_SPACE_ID,
            cams_conn_id="alibaba_cams_default",
            poke_interval=60,
        ),
    ]


@pytest.mark.parametrize("trigger", all_triggers(), ids=lambda t: type(t).__name__)
def test_serialize_round_trip_holds_plain_data_and_no_secret(trigger: Any) -> None:
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert type(rebuilt) is type(trigger)
    assert rebuilt.serialize() == (classpath, kwargs)
    text = json.dumps(kwargs)  # plain data only: the triggerer stores it as JSON
    assert json.loads(text) == kwargs
    for secret in SECRETS:
        assert secret not in text
    assert not [
        key for key in kwargs if any(word in key.lower() for word in ("secret", "password", "token", "sign"))
    ]
    assert "sign" not in text.lower() and "authorization" not in text.lower()


async def test_a_rebuilt_trigger_runs(sandbox: Any) -> None:
    trigger = NxCloudPhoneStatusTrigger(
        ["8613800001234", "14155550123"], "CONNECTED", FAILURES, poke_interval=POKE
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    (event,) = await run_trigger(rebuilt)
    assert event["status"] == "success"
    assert {r["phone_number"] for r in event["records"]} == {"8613800001234", "14155550123"}
    assert sandbox.request_count() == 1


# --- success -----------------------------------------------------------------------------------------


async def test_nxcloud_phone_reaches_connected_when_the_clock_moves(sandbox: Any) -> None:
    trigger = NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: len(polls) >= 2)  # PENDING, and polled again: it keeps waiting
    assert not task.done()
    assert set(polls) == {"waiting"}
    sandbox.advance(6)
    (event,) = await task
    assert event["status"] == "success"
    assert [(r["phone_number"], r["status"]) for r in event["records"]] == [(NX_PENDING, "CONNECTED")]
    assert json.loads(json.dumps(event)) == event  # the triggerer stores the payload
    assert polls[-1] == "success" and set(polls[:-1]) == {"waiting"}
    assert nxcloud_phones_asked(sandbox) == [NX_PENDING] * len(polls)  # one getPhone per poll


async def test_cams_phone_reaches_connected_when_the_clock_moves(sandbox: Any) -> None:
    trigger = CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: len(polls) >= 2)
    assert not task.done() and set(polls) == {"waiting"}
    sandbox.advance(6)
    (event,) = await task
    assert event["status"] == "success"
    assert [(r["phone_number"], r["status"]) for r in event["records"]] == [(CAMS_PENDING, "CONNECTED")]
    assert json.loads(json.dumps(event)) == event
    assert sandbox.request_count(action=CAMS_LIST) == sandbox.request_count() == len(polls)


async def test_number_check_batches_finish_as_results_arrive(sandbox: Any) -> None:
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook

    phones = ["8613800138000", "8613800138001", "8613800138002", "6281234500001", "6281234500002"]

    def submit() -> list[dict[str, Any]]:
        hook = NxCloudHook()
        try:
            return hook.submit_number_check(phones, batch_no="trigger-test")
        finally:
            hook.close()

    submitted = await asyncio.to_thread(submit)
    assert sorted(batch["phone_count"] for batch in submitted) == [2, 3]  # one batch per country
    batches = [
        dataclasses.asdict(target) for target in batch_targets(batches=submitted)
    ]  # as the sensor does
    trigger = NxCloudNumberCheckTrigger(batches=batches, poke_interval=POKE)
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: len(polls) >= 1)
    assert not task.done()  # results come over result_delay (0.5 to 3 virtual seconds)
    sandbox.advance(1.0)  # some results, maybe not all
    await until(lambda: len(polls) >= 2)
    sandbox.advance(5.0)  # every result is due
    (event,) = await task
    assert event["status"] == "success"
    summary = event["summary"]
    assert summary["found"] == summary["expected"] == len(phones)
    assert sorted((b["batch_no"], b["found"]) for b in summary["batches"]) == sorted(
        (b["batch_no"], b["phone_count"]) for b in submitted
    )
    assert {b["batch_no"] for b in submitted} == {"trigger-test-CN", "trigger-test-ID"}
    # One query per batch and filing day per poll (the days differ between UTC and UTC+8 from 16:00
    # to 24:00 UTC); whole pages, since only the submit's own records count.
    days = sum(len(batch["dates"]) for batch in submitted)
    assert sandbox.request_count(QUERY) == days * len(polls)
    assert {json.loads(r.body)["pageSize"] for r in sandbox.requests(QUERY)} == {100}


# --- failure statuses ----------------------------------------------------------------------------------


async def test_nxcloud_banned_number_ends_the_wait_as_a_failure(sandbox: Any) -> None:
    sandbox.advance(4)  # FLAGGED: neither the target nor a failure status, so the trigger waits
    trigger = NxCloudPhoneStatusTrigger(
        [NX_BANNED, "8613800001234"], "CONNECTED", FAILURES, poke_interval=POKE
    )
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: len(polls) >= 1)
    assert not task.done()
    sandbox.advance(4)  # t=8: BANNED
    (event,) = await task
    assert event["status"] == "failure"
    assert NX_BANNED in event["message"] and "BANNED" in event["message"]
    assert "8613800001234" not in event["message"]  # only the number at fault is named


async def test_cams_banned_number_ends_the_wait_as_a_failure(sandbox: Any) -> None:
    sandbox.advance(3)  # FLAGGED
    trigger = CamsPhoneStatusTrigger([CAMS_BANNED], "CONNECTED", FAILURES, poke_interval=POKE)
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: len(polls) >= 1)
    assert not task.done()
    sandbox.advance(6)  # t=9: BANNED
    (event,) = await task
    assert event["status"] == "failure"
    assert CAMS_BANNED in event["message"] and "BANNED" in event["message"]


# --- errors that end the wait at once ------------------------------------------------------------------


async def test_nxcloud_wrong_secret_is_one_error_event_after_one_request(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, sandbox, "nxcloud_default", password="not-the-secret")
    trigger = NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    events = await run_trigger(trigger)
    assert [event["status"] for event in events] == ["error"]
    assert "1003" in events[0]["message"]
    assert "not-the-secret" not in events[0]["message"]
    assert sandbox.request_count() == 1  # no retry, no further poll
    assert sandbox.requests()[0].code == 1003


async def test_cams_wrong_secret_is_one_error_event_after_one_request(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, sandbox, "alibaba_cams_default", password="not-the-secret")
    trigger = CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    events = await run_trigger(trigger)
    assert [event["status"] for event in events] == ["error"]
    assert "SignatureDoesNotMatch" in events[0]["message"]
    assert sandbox.request_count() == 1
    assert sandbox.requests()[0].code == "SignatureDoesNotMatch"


async def test_a_date_outside_the_window_never_reaches_the_network(sandbox: Any) -> None:
    trigger = NxCloudNumberCheckTrigger(
        batches=[{"date": "2001-01-01", "expected": 3, "batch_no": "old", "message_id": None}],
        poke_interval=POKE,
    )
    events = await run_trigger(trigger)
    assert [event["status"] for event in events] == ["error"]
    assert "date" in events[0]["message"] and "2001-01-01" in events[0]["message"]
    assert sandbox.request_count() == 0


async def test_a_malformed_phone_never_reaches_the_network(sandbox: Any) -> None:
    trigger = NxCloudPhoneStatusTrigger(["not-a-phone"], "CONNECTED", FAILURES, poke_interval=POKE)
    events = await run_trigger(trigger)
    assert [event["status"] for event in events] == ["error"]
    assert "not-a-phone" in events[0]["message"]
    assert sandbox.request_count() == 0


# --- transient faults: the wait goes on ------------------------------------------------------------------


async def test_nxcloud_trigger_rides_out_gateway_errors(sandbox: Any) -> None:
    sandbox.fail_next("http_503", count=2, path=GET_PHONE)
    trigger = NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: "waiting" in polls)  # a poll got through the two 503s
    sandbox.advance(6)
    (event,) = await task
    assert event["status"] == "success"
    assert sandbox.fault_counts() == {"http_503": 2}
    faults = [r.fault for r in sandbox.requests(GET_PHONE)]
    assert faults[:2] == ["http_503", "http_503"] and set(faults[2:]) == {None}
    assert sandbox.request_count(GET_PHONE) == len(polls) + 2  # the 503s cost requests, not polls


async def test_cams_trigger_keeps_polling_after_a_poll_fails(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_wa_phones.hooks import base as hook_base
    from airflow_provider_wa_phones.retry import RetryPolicy

    # Two attempts per poll without backoff, so two resets fail a whole poll quickly.
    monkeypatch.setattr(hook_base, "RetryPolicy", lambda: RetryPolicy(max_attempts=2, initial_delay=0.0))
    sandbox.fail_next("reset", count=2, action=CAMS_LIST)
    sandbox.fail_next("http_502", count=1, action=CAMS_LIST)
    trigger = CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: "waiting" in polls)
    assert polls[0] == "TransportError"  # the first poll failed for good, the trigger polled on
    sandbox.advance(6)
    (event,) = await task
    assert event["status"] == "success"
    assert sandbox.fault_counts() == {"reset": 2, "http_502": 1}
    assert [r.fault for r in sandbox.requests()][:3] == ["reset", "reset", "http_502"]
    assert sandbox.request_count() == len(polls) + 2  # more requests than polls


async def test_nxcloud_trigger_rides_out_a_random_fault_plan(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_wa_phones.hooks import base as hook_base
    from airflow_provider_wa_phones.retry import RetryPolicy

    monkeypatch.setattr(hook_base, "RetryPolicy", lambda: RetryPolicy(max_attempts=3, initial_delay=0.0))
    sandbox.set_faults(
        rate=0.5, kinds=("http_500", "http_502", "reset", "truncated", "lost", "throttle"), seed=7
    )
    trigger = NxCloudPhoneStatusTrigger(
        [NX_PENDING, "14155550123"], "CONNECTED", FAILURES, poke_interval=0.01
    )
    polls = count_polls(trigger)
    task = asyncio.create_task(run_trigger(trigger))
    await until(lambda: polls.count("waiting") >= 3)
    sandbox.advance(6)
    (event,) = await task
    assert event["status"] == "success"
    counts = sandbox.fault_counts()
    assert sum(counts.values()) >= 3
    assert sandbox.request_count(GET_PHONE) == sum(counts.values()) + polls.count("waiting") + 1
    assert sandbox.request_count(GET_PHONE) > len(polls)


async def test_cancelled_triggers_give_back_the_shared_session(sandbox: Any) -> None:
    # The triggerer cancels a trigger whose task timed out or moved; its hook must not leak the session.
    nxcloud = NxCloudPhoneStatusTrigger([NX_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    cams = CamsPhoneStatusTrigger([CAMS_PENDING], "CONNECTED", FAILURES, poke_interval=POKE)
    polls = [count_polls(nxcloud), count_polls(cams)]
    tasks = [asyncio.create_task(run_trigger(trigger)) for trigger in (nxcloud, cams)]
    await until(lambda: all(polls))
    assert transport.open_sessions() == 1  # both services, one session
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert transport.open_sessions() == 0


# --- many triggers in one loop ---------------------------------------------------------------------------


async def test_500_triggers_share_one_session_and_poll_once_per_poll(sandbox: Any) -> None:
    # Keep 5511987654321 CONNECTED (its seed timeline flags it at t=4) so a trigger can wait for all 5.
    backend = sandbox.state.nxcloud
    steady = backend.phone(NX_BANNED)
    backend.add_phone(dataclasses.replace(steady, timeline=steady.timeline[:1]))
    others = [p for p in backend.app(data.NXCLOUD_APPKEY).phone_numbers if p != NX_PENDING]
    assert len(others) == 4
    # Every trigger waits for the PENDING number plus one of the 16 subsets of the 4 others: 1 to 5 phones.
    subsets = [list(c) for size in range(5) for c in itertools.combinations(others, size)]
    phone_sets = [[NX_PENDING, *subsets[i % len(subsets)]] for i in range(500)]
    triggers = [
        NxCloudPhoneStatusTrigger(phones, "CONNECTED", FAILURES, poke_interval=0.01) for phones in phone_sets
    ]
    polls = [count_polls(trigger) for trigger in triggers]

    # Hold every trigger after its first poll until the clock has moved: then each needs exactly one more.
    released = asyncio.Event()
    for trigger in triggers:
        check = trigger.check

        async def held(hook: Any, check: Any = check) -> Any:
            event = await check(hook)
            await released.wait()
            return event

        trigger.check = held

    started = time.monotonic()
    runs = asyncio.gather(*(run_trigger(trigger, timeout=60) for trigger in triggers))
    await until(lambda: all(polls), timeout=60)
    first_round = time.monotonic() - started
    assert sandbox.request_count(GET_PHONE) == 500  # each trigger polled once, nobody twice
    assert transport.open_sessions() == 1  # 500 hooks, one aiohttp session
    assert not runs.done()
    sandbox.advance(6)
    released.set()
    results = await asyncio.wait_for(runs, 60)
    elapsed = time.monotonic() - started
    print(f"\n500 triggers: first poll round {first_round:.2f} s, all finished in {elapsed:.2f} s")

    assert [events for events in results if [e["status"] for e in events] != ["success"]] == []
    assert all(p == ["waiting", "success"] for p in polls)
    assert (
        sandbox.request_count(GET_PHONE) == sandbox.request_count() == 1000
    )  # one getPhone per trigger per poll
    # Each request asked for exactly one trigger's phones, all of them at once.
    expected = Counter(",".join(phones) for phones in phone_sets for _ in range(2))
    assert Counter(nxcloud_phones_asked(sandbox)) == expected
    assert {len(phones) for phones in phone_sets} == {1, 2, 3, 4, 5}
    assert transport.open_sessions() == 0  # (how fast: printed above, measured in make bench)
