"""The sandbox's own book of NxCloud charges, and one-shot faults that strike after M requests."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.faults import DEFAULT_SLOW_SECONDS, Fault, FaultInjector
from airflow_provider_wa_phones.sandbox.nxcloud.models import Account, NxCloudBackend, NxCloudError
from airflow_provider_wa_phones.sandbox.state import SandboxClock, SandboxState

APPKEY = data.NXCLOUD_APPKEY
CHECK = "/api/number/check"
QUERY = "/api/number/query"


@pytest.fixture
def clock() -> SandboxClock:
    clock = SandboxClock(time_scale=0.0)
    noon = dt.datetime.combine(dt.datetime.now(dt.timezone.utc).date(), dt.time(12), tzinfo=dt.timezone.utc)
    clock.set_offset(noon.timestamp() - time.time())
    return clock


@pytest.fixture
def backend(clock: SandboxClock) -> NxCloudBackend:
    return NxCloudBackend(clock, seed=3)


@pytest.fixture
def account(backend: NxCloudBackend) -> Account:
    found = backend.find_account(data.NXCLOUD_ACCESS_KEY)
    assert found is not None
    return found


def submit(backend: NxCloudBackend, account: Account, phones: list[str], **body: Any) -> dict[str, str]:
    return backend.submit_number_check(account, {"appkey": APPKEY, "phone": ",".join(phones), **body})


ID = [f"628123456{i:04d}" for i in range(5)]
BR = [f"55119876{i:05d}" for i in range(3)]


def test_every_accepted_submit_is_booked_in_order(backend: NxCloudBackend, account: Account) -> None:
    first = submit(backend, account, ID, batchNo="b1")
    second = submit(backend, account, BR, batchNo="b1", checkLevel=5)
    charges = backend.charges()
    assert [
        (c["batch_no"], c["message_id"], c["appkey"], c["country_code"], c["count"]) for c in charges
    ] == [
        ("b1", first["messageId"], APPKEY, "62", 5),
        ("b1", second["messageId"], APPKEY, "55", 3),
    ]
    assert [(c["check_level"], Decimal(c["cost"])) for c in charges] == [
        (1, Decimal("0.025")),
        (5, Decimal("0.03")),
    ]
    assert backend.charged_numbers() == dict.fromkeys(ID + BR, 1)
    assert backend.charge_totals() == {
        "submits": 2,
        "numbers": 8,
        "distinct_numbers": 8,
        "numbers_charged_more_than_once": 0,
        "cost": "0.055",
    }


def test_a_number_charged_twice_is_counted_twice(backend: NxCloudBackend, account: Account) -> None:
    submit(backend, account, ID[:3])
    submit(backend, account, ID[1:])  # ID[1] and ID[2] again
    submit(backend, account, [ID[2]])
    counts = backend.charge_counts()
    assert counts == {int(ID[0]): 1, int(ID[1]): 2, int(ID[2]): 3, int(ID[3]): 1, int(ID[4]): 1}
    totals = backend.charge_totals()
    assert (totals["numbers"], totals["distinct_numbers"], totals["numbers_charged_more_than_once"]) == (
        8,
        5,
        2,
    )


def test_refused_submits_and_preloads_are_not_charged(backend: NxCloudBackend, account: Account) -> None:
    with pytest.raises(NxCloudError):
        submit(backend, account, ID + BR)  # two countries in one call
    with pytest.raises(NxCloudError):
        submit(backend, account, ID, checkLevel=3)
    backend.app(APPKEY).balance = Decimal("0.001")
    with pytest.raises(NxCloudError):
        submit(backend, account, ID)
    backend.preload_batch("free", 50)
    assert backend.charges() == []
    assert backend.charge_counts() == {}
    assert backend.charge_totals()["submits"] == 0


def test_reset_forgets_the_charges(backend: NxCloudBackend, account: Account) -> None:
    submit(backend, account, ID)
    backend.reset()
    assert backend.charges() == []
    assert backend.charged_numbers() == {}


# --- fail_next(..., after=M) ------------------------------------------------------------------------


def kinds(injector: FaultInjector, requests: list[str]) -> list[str | None]:
    return [None if (fault := injector.choose(path, None)) is None else fault.kind for path in requests]


def test_a_fault_after_m_strikes_the_matching_request_m_plus_one() -> None:
    injector = FaultInjector()
    injector.fail_next("lost", path=CHECK, after=2)
    assert injector.as_json()["next"] == [
        {"kind": "lost", "count": 1, "path": CHECK, "action": None, "slow_seconds": None, "after": 2}
    ]
    # Requests to other paths do not count.
    assert kinds(injector, [CHECK, QUERY, QUERY, CHECK, QUERY, CHECK, CHECK]) == [
        None,
        None,
        None,
        None,
        None,
        "lost",
        None,
    ]
    assert injector.as_json()["next"] == []
    assert injector.counts() == {"lost": 1}


def test_after_with_count_strikes_a_run_and_zero_is_the_old_behaviour() -> None:
    injector = FaultInjector()
    injector.fail_next("reset", count=2, after=1)
    assert kinds(injector, [QUERY, CHECK, QUERY, CHECK]) == [None, "reset", "reset", None]
    injector.fail_next("slow", after=0)
    assert injector.choose(QUERY, None) == Fault("slow", DEFAULT_SLOW_SECONDS)
    assert injector.as_json()["next"] == []


def test_a_fault_counting_down_lets_requests_meet_later_faults() -> None:
    injector = FaultInjector()
    injector.fail_next("lost", path=CHECK, after=2)
    injector.fail_next("http_503", path=CHECK)
    # The 503 strikes the first submit (counted by the "lost" too); the "lost" strikes the third.
    assert kinds(injector, [CHECK, CHECK, CHECK, CHECK]) == ["http_503", None, "lost", None]


def test_faults_queued_first_still_come_first() -> None:
    injector = FaultInjector()
    injector.fail_next("http_500")
    injector.fail_next("lost", after=1)
    injector.fail_next("reset")
    # 1: the 500 (the "lost" counts it); 2: the "lost", done counting and queued before the reset;
    # 3: the reset.
    assert kinds(injector, [QUERY, QUERY, QUERY, QUERY]) == ["http_500", "lost", "reset", None]


@pytest.mark.parametrize("after", [-1, True, 1.5, "2"])
def test_after_must_be_a_whole_number(after: Any) -> None:
    with pytest.raises(ValueError, match="after"):
        FaultInjector().fail_next("lost", after=after)


def test_reset_drops_a_fault_still_counting_down() -> None:
    state = SandboxState(time_scale=0.0)
    state.faults.fail_next("lost", after=5)
    state.reset()
    assert state.faults.as_json()["next"] == []


def test_the_balance_can_be_raised_for_a_big_check_and_is_checked():
    from airflow_provider_wa_phones.sandbox import SandboxServer, data

    with SandboxServer(time_scale=0) as sandbox:
        import requests

        url = f"{sandbox.url}/_sandbox/nxcloud/balance"
        answer = requests.put(url, json={"appkey": data.NXCLOUD_APPKEY, "balance": "5000"}, timeout=10)
        assert answer.json() == {"appkey": data.NXCLOUD_APPKEY, "balance": "5000"}
        assert sandbox.state.nxcloud.app(data.NXCLOUD_APPKEY).balance == 5000
        for bad in (
            {"appkey": "nope", "balance": "1"},
            {"appkey": data.NXCLOUD_APPKEY, "balance": "-1"},
            {"appkey": data.NXCLOUD_APPKEY, "balance": "NaN"},
            {"appkey": data.NXCLOUD_APPKEY, "balance": "x"},
        ):
            assert requests.put(url, json=bad, timeout=10).status_code == 400, bad
        sandbox.reset()
        assert sandbox.state.nxcloud.app(data.NXCLOUD_APPKEY).balance == 100
