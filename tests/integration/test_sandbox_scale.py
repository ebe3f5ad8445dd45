"""Over real HTTP: the sandbox's book of charges when the answer of the last chunk of a submit is lost.

The hook sends a multi-country submit as one request per country. ``fail_next(..., after=2)``
lets the first two chunks through and loses the answer of the third after the sandbox processed
(and charged) it; the sandbox's own charges, not the client's account, say what was paid.
"""

from __future__ import annotations

import pytest
import requests

from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.retry import RetryPolicy

pytestmark = pytest.mark.integration

SUBMIT = "/api/number/check"
CHUNKS = {  # by country code; the hook suffixes batch numbers with the region
    "62": [f"+62 812 3456 {i:04d}" for i in range(40)],
    "55": [f"+55 11 98765 {i:04d}" for i in range(30)],
    "91": [f"+91 81234 5{i:04d}" for i in range(20)],  # the last chunk: its answer is lost
}


def advancing_hook(sandbox):
    """A hook whose waits move the sandbox's clock instead of sleeping."""
    hook = NxCloudHook(retry_policy=RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0))
    hook._sleep = sandbox.advance
    return hook


def submit_all(hook):
    phones = [phone for chunk in CHUNKS.values() for phone in chunk]
    return hook.submit_number_check(phones, batch_no="crash-1")


def test_the_lost_last_chunk_was_charged_once_and_recovered_not_resent(sandbox):
    sandbox.fail_next("lost", path=SUBMIT, after=2)
    hook = advancing_hook(sandbox)
    batches = submit_all(hook)
    hook.close()

    # The sandbox saw three submits, the third answered by a closed connection.
    submits = sandbox.requests(path=SUBMIT)
    assert [entry.fault for entry in submits] == [None, None, "lost"]
    assert sandbox.fault_counts() == {"lost": 1}

    charges = sandbox.charges()
    assert [(c["batch_no"], c["country_code"], c["count"]) for c in charges] == [
        ("crash-1-ID", "62", 40),
        ("crash-1-BR", "55", 30),
        ("crash-1-IN", "91", 20),
    ]
    assert {c["appkey"] for c in charges} == {sandbox.connections()["nxcloud_default"]["extra"]["appkey"]}
    counts = sandbox.charge_counts()
    assert len(counts) == 90
    assert set(counts.values()) == {1}  # every number charged exactly once
    lost = charges[-1]
    assert sandbox.charged_numbers()["91812345" + "0000"] == 1

    # The client recovered the lost answer by looking the batch up: the same submit, not a new one.
    by_batch = {batch["batch_no"]: batch for batch in batches}
    assert by_batch["crash-1-IN"]["reused"] is True
    assert by_batch["crash-1-IN"]["message_id"] == lost["message_id"]
    assert [by_batch[c["batch_no"]]["message_id"] for c in charges] == [c["message_id"] for c in charges]


def test_the_admin_routes_show_the_charges_and_take_after(sandbox):
    base = f"{sandbox.url}/_sandbox"
    answer = requests.post(
        f"{base}/faults/next", json={"kind": "lost", "path": SUBMIT, "after": 2}, timeout=10
    )
    assert answer.status_code == 200
    assert answer.json()["next"] == [
        {"kind": "lost", "count": 1, "path": SUBMIT, "action": None, "slow_seconds": None, "after": 2}
    ]
    bad = requests.post(f"{base}/faults/next", json={"kind": "lost", "after": -1}, timeout=10)
    assert bad.status_code == 422
    assert "after" in bad.text

    hook = advancing_hook(sandbox)
    batches = submit_all(hook)
    hook.submit_number_check(CHUNKS["62"][:5], batch_no="again")  # five numbers charged twice
    hook.close()

    booked = requests.get(f"{base}/nxcloud/charges", timeout=10).json()
    assert [c["batch_no"] for c in booked["charges"]] == [*(b["batch_no"] for b in batches), "again"]
    assert set(booked["charges"][0]) == {
        "batch_no",
        "message_id",
        "appkey",
        "country_code",
        "check_level",
        "count",
        "cost",
        "date",
    }
    assert booked["totals"] == {
        "submits": 4,
        "numbers": 95,
        "distinct_numbers": 90,
        "numbers_charged_more_than_once": 5,
        "cost": "0.475",
    }
    sandbox.reset()
    assert requests.get(f"{base}/nxcloud/charges", timeout=10).json() == {
        "charges": [],
        "totals": {
            "submits": 0,
            "numbers": 0,
            "distinct_numbers": 0,
            "numbers_charged_more_than_once": 0,
            "cost": "0",
        },
    }
