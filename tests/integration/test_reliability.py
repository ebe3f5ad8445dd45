"""Reliability under faults, over real HTTP: retries, backoff, lost answers, idempotent submits.

The sandbox injects faults deterministically by seed, so each soak run is reproducible and the
counts on both sides (requests the hook sent, faults the sandbox injected) must agree exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest
import time_machine

from airflow_provider_wa_phones.exceptions import ServiceUnavailableError, TransportError
from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator, task_batch_no
from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.faults import FAULT_KINDS

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
QUERY, SUBMIT, GET_PHONE = "/api/number/query", "/api/number/check", "/api/wa/getPhone"
# Fast but persistent: the soak is about correctness under faults, not about waiting politely.
SOAK_POLICY = RetryPolicy(max_attempts=12, initial_delay=0.001, max_delay=0.01, max_total_delay=5.0)
SEEDS = [11, 23, 37]


@pytest.mark.parametrize("seed", SEEDS)
def test_5000_records_arrive_exactly_once_with_30_percent_of_requests_faulted(sandbox, seed):
    sandbox.preload_number_check_batch("soak-5000", 5000)
    sandbox.clear_requests()
    # A slow fault must time out, and nothing else may: pages are read 6 at a time, and on two busy
    # cores a healthy answer can take longer than half a second, so the margin is wide.
    sandbox.set_faults(rate=0.3, kinds=FAULT_KINDS, seed=seed, paths=[QUERY], slow_seconds=6.0)
    hook = NxCloudHook(timeout=3.0, retry_policy=SOAK_POLICY)
    started = time.monotonic()
    records = list(hook.iter_number_check_results(TODAY, batch_no="soak-5000"))
    took = time.monotonic() - started
    faults = sandbox.fault_counts()
    print(
        f"\nseed {seed}: {len(records)} records of 5000 expected, {hook.stats.requests} requests "
        f"({sandbox.request_count(path=QUERY)} seen by the sandbox), {hook.stats.retries} retries "
        f"{hook.stats.retry_causes}, faults {faults}, {took:.1f} s"
    )
    assert len(records) == 5000
    assert len({(r["messageId"], r["phone"]) for r in records}) == 5000
    assert sum(faults.values()) >= 5  # 30 % of at least 50 requests: the soak really was faulty
    # Every faulted request cost exactly one retry, and nothing else did.
    assert hook.stats.retries == sum(faults.values())
    assert hook.stats.requests == 50 + hook.stats.retries == sandbox.request_count(path=QUERY)


@pytest.mark.parametrize("seed", SEEDS)
async def test_phone_status_triggers_finish_with_30_percent_of_requests_faulted(sandbox, seed):
    from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger
    from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneStatusTrigger

    retry = {"max_attempts": 3, "initial_delay": 0.001, "max_delay": 0.01}
    kinds = [kind for kind in FAULT_KINDS if kind != "slow"]
    sandbox.set_faults(rate=0.3, kinds=kinds, seed=seed)
    triggers = [
        NxCloudPhoneStatusTrigger(
            ["6281234567890"], "CONNECTED", ["BANNED"], poke_interval=0.02, retry=retry
        ),
        CamsPhoneStatusTrigger(["6591110000"], "CONNECTED", ["BANNED"], poke_interval=0.02, retry=retry),
    ]

    async def first_event(trigger):
        async for event in trigger.run():
            return event.payload

    runs = asyncio.gather(*(first_event(t) for t in triggers))
    deadline = time.monotonic() + 30
    while sandbox.request_count() < 20 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # let them poll (and meet faults) while still PENDING
    sandbox.advance(6)
    events = await asyncio.wait_for(runs, 30)
    print(f"\nseed {seed}: faults {sandbox.fault_counts()}, requests {sandbox.request_count()}")
    assert [e["status"] for e in events] == ["success", "success"]
    assert sum(sandbox.fault_counts().values()) >= 3


def test_phone_status_sensor_pokes_ride_out_faults(sandbox):
    from airflow_provider_wa_phones.sensors.nxcloud import NxCloudPhoneStatusSensor

    # A whole poke fails (both attempts faulted), then random faults on the later pokes.
    sandbox.fail_next("http_502", count=2, path=GET_PHONE)
    sandbox.set_faults(rate=0.3, kinds=[k for k in FAULT_KINDS if k != "slow"], seed=5, paths=[GET_PHONE])
    sensor = NxCloudPhoneStatusSensor(
        task_id="wait", phones="6281234567890", request_retry=RetryPolicy(max_attempts=2, initial_delay=0.0)
    )
    outcomes = []
    for _ in range(30):  # bounded: each poke is one look
        outcomes.append(sensor.poke({}).is_done)
        if outcomes[-1]:
            break
        if len(outcomes) == 5:
            sandbox.advance(6)
    assert outcomes[0] is False and outcomes[-1] is True
    assert sandbox.fault_counts()["http_502"] >= 2


# -- a charged submit is never sent twice ------------------------------------------------------


def _advancing_hook(sandbox, **kwargs):
    """A hook whose waits move the sandbox's clock instead of sleeping."""
    hook = NxCloudHook(**kwargs)
    hook._sleep = sandbox.advance
    return hook


def test_a_submit_whose_answer_is_lost_is_recovered_not_resent(sandbox):
    sandbox.fail_next("lost", path=SUBMIT)
    hook = _advancing_hook(sandbox)
    (batch,) = hook.submit_number_check(["+86 138 0000 1234", "+86 139 0000 5678"], batch_no="lost-1")
    assert sandbox.fault_counts() == {"lost": 1}
    assert sandbox.request_count(path=SUBMIT) == 1  # accepted once, charged once
    assert batch["reused"] is True
    assert batch["batch_no"] == "lost-1"
    assert len(batch["message_id"]) == 32  # the submit's id, recovered from its result records
    sandbox.advance(5)  # every result is in (the lookup stopped at the first one)
    results = list(hook.iter_number_check_results(TODAY, batch_no="lost-1"))
    assert len(results) == 2


def test_a_lost_submit_that_never_shows_up_fails_without_resending(sandbox):
    sandbox.fail_next("reset", path=SUBMIT)  # not processed, but the client cannot know that
    hook = _advancing_hook(sandbox)
    with pytest.raises(TransportError) as info:
        hook.submit_number_check(["+86 138 0000 1234"], batch_no="lost-2", lost_response_wait=5)
    assert sandbox.request_count(path=SUBMIT) == 1
    assert any("not sent again" in note for note in info.value.__notes__)


def test_a_gateway_error_on_submit_is_looked_up_and_reported_never_resent(sandbox):
    # A gateway's 503 page (no service envelope) may come after the service took the request.
    sandbox.fail_next("http_503", path=SUBMIT)
    hook = _advancing_hook(sandbox, retry_policy=RetryPolicy(initial_delay=0.0))
    # At 09:00 UTC both calendars the service may file under name the same day: one query a look
    # (test_calendars.py covers the hours where they differ).
    morning = dt.datetime.combine(dt.datetime.now(dt.timezone.utc).date(), dt.time(9), dt.timezone.utc)
    with time_machine.travel(morning, tick=True), pytest.raises(ServiceUnavailableError) as info:
        hook.submit_number_check(["+86 138 0000 1234"], batch_no="refused-1", lost_response_wait=6)
    assert sandbox.request_count(path=SUBMIT) == 1
    assert sandbox.request_count(path=QUERY) == 4  # looked up at 0, 2, 4 and 6 s of waiting
    assert any("not sent again" in note for note in info.value.__notes__)


def test_a_throttled_submit_is_retried_because_it_was_refused(sandbox):
    sandbox.fail_next("throttle", path=SUBMIT)
    hook = _advancing_hook(sandbox, retry_policy=RetryPolicy(initial_delay=0.0))
    (batch,) = hook.submit_number_check(["+86 138 0000 1234"], batch_no="throttled-1")
    assert (sandbox.request_count(path=SUBMIT), batch["reused"]) == (2, False)


class _TaskInstance:
    def __init__(self, try_number: int):
        self.dag_id, self.task_id, self.run_id, self.map_index = "dag", "submit", "manual__1", -1
        self.try_number = try_number


def test_a_task_retry_reuses_the_batches_of_its_first_try(sandbox):
    phones = ["+86 138 0000 1234", "+1 415 555 0123"]
    first = NxCloudNumberCheckOperator(task_id="submit", phones=phones).execute({"ti": _TaskInstance(1)})
    assert [b["batch_no"] for b in first] == [f"{task_batch_no(_TaskInstance(1))}-{c}" for c in ("CN", "US")]
    assert sandbox.request_count(path=SUBMIT) == 2
    sandbox.advance(10)  # the first try's results are in
    again = NxCloudNumberCheckOperator(task_id="submit", phones=phones).execute({"ti": _TaskInstance(2)})
    assert sandbox.request_count(path=SUBMIT) == 2  # nothing submitted twice
    assert [b["reused"] for b in again] == [True, True]
    assert [(b["batch_no"], b["message_id"]) for b in again] == [
        (b["batch_no"], b["message_id"]) for b in first
    ]


def test_the_first_try_does_not_spend_a_lookup(sandbox):
    NxCloudNumberCheckOperator(task_id="submit", phones="+86 138 0000 1234").execute({"ti": _TaskInstance(1)})
    assert sandbox.request_count() == sandbox.request_count(path=SUBMIT) == 1


# -- failing fast and backing off ----------------------------------------------------------------


def test_a_credential_error_costs_exactly_one_request(sandbox, monkeypatch):
    conn = sandbox.connections()["nxcloud_default"] | {"password": "wrong-secret"}
    monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps(conn))
    hook = NxCloudHook()
    with pytest.raises(Exception, match="1003"):
        hook.list_phones()
    assert (hook.stats.requests, hook.stats.retries, sandbox.request_count()) == (1, 0, 1)


def test_a_throttled_cams_call_succeeds_after_the_advised_backoff(sandbox):
    sandbox.fail_next("throttle", action="QueryChatappPhoneNumbers")
    hook = CamsHook()
    waits = []
    hook._sleep = waits.append
    assert len(hook.query_phone_numbers()) == 4
    assert waits and waits[0] >= 1.0  # x-acs-retry-after: 1 is honoured
    assert (hook.stats.requests, hook.stats.retries) == (2, 1)
    assert hook.stats.retry_causes == {"Throttling.User": 1}


def test_a_throttled_nxcloud_call_succeeds_after_backoff(sandbox):
    sandbox.fail_next("throttle", path=GET_PHONE, count=2)
    hook = NxCloudHook()
    waits = []
    hook._sleep = waits.append
    assert hook.get_phone_info(phones="8613800001234")
    assert len(waits) == 2 and waits[1] <= RetryPolicy().initial_delay * RetryPolicy().multiplier
    assert (hook.stats.requests, hook.stats.retries) == (3, 2)


def test_secrets_of_the_demo_accounts_are_not_in_retry_warnings(sandbox, caplog, capfd):
    sandbox.fail_next("http_502", path=GET_PHONE)
    hook = NxCloudHook(retry_policy=RetryPolicy(initial_delay=0.0))
    hook.get_phone_info(phones="8613800001234")
    captured = capfd.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "retrying" in logs  # the warning was captured, so its absence of secrets means something
    assert data.NXCLOUD_ACCESS_SECRET not in logs


def test_a_refused_connection_is_known_to_be_unsent(sandbox, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conn = sandbox.connections()["nxcloud_default"] | {"host": f"http://127.0.0.1:{port}"}
    monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps(conn))
    hook = NxCloudHook(retry_policy=RetryPolicy(max_attempts=2, initial_delay=0.0))
    with pytest.raises(TransportError) as info:
        hook.submit_number_check("+86 138 0000 1234", batch_no="refused")
    assert info.value.unsent is True
    assert hook.stats.requests == 2  # nothing can have been charged, so the submit was retried


def test_the_test_button_makes_one_request_even_when_the_host_refuses(sandbox, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conn = sandbox.connections()["nxcloud_default"] | {"host": f"http://127.0.0.1:{port}"}
    monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps(conn))
    hook = NxCloudHook()
    ok, message = hook.test_connection()
    assert (ok, hook.stats.requests, hook.stats.retries) == (False, 1, 0)
    assert "no answer" in message
    assert hook.retry_policy == RetryPolicy()  # the hook's own policy is back for later calls
