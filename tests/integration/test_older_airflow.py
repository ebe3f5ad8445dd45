"""What the account-wide triggers do on an Airflow without shared streams or trigger state (3.0 to
3.2), simulated here by telling ``_compat`` the features are missing: the same events from their
own polls, and one line in the trigger's log saying what is missing and what happens instead.
``make compat`` checks the same on the real 3.0, 3.1 and 3.2.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest

from airflow_provider_wa_phones import _compat
from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger, CamsPhoneWatchTrigger
from airflow_provider_wa_phones.waits import DEFAULT_FAILURE_STATUSES

pytestmark = pytest.mark.integration

CAMS_LIST = "QueryChatappPhoneNumbers"
CAMS_PENDING = "6591110000"  # PENDING until t=5, then CONNECTED
CAMS_FLAGGED = "6281299990000"  # CONNECTED until t=3, then FLAGGED
DEADLINE = 60.0
SHARED = "Shared trigger streams: needs Airflow 3.3 or later"
STATE = "Trigger state: needs Airflow 3.3 or later"


def logged(caplog: Any, capsys: Any) -> list[str]:
    """The lines the triggers logged (through logging, or structlog's console output)."""
    out = capsys.readouterr()
    return [r.getMessage() for r in caplog.records] + (out.out + out.err).splitlines()


async def until(condition: Any) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        await asyncio.sleep(0.005)


@pytest.fixture
def older_airflow(monkeypatch: Any) -> None:
    monkeypatch.setattr(_compat, "shared_trigger_streams_supported", lambda: False)
    monkeypatch.setattr(_compat, "trigger_state_supported", lambda: False)


def test_this_airflow_has_both_features() -> None:
    # The suite runs on 3.3: the announcements below must stay silent there.
    assert _compat.shared_trigger_streams_supported()
    assert _compat.trigger_state_supported()


async def collect(trigger: Any, sandbox: Any, advance: float, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async for event in trigger.run():
            events.append(json.loads(json.dumps(event.payload)))
            if len(events) >= count:
                return

    task = asyncio.create_task(run())
    try:
        await until(lambda: sandbox.request_count(action=CAMS_LIST) >= 2)
        sandbox.advance(advance)
        await until(lambda: task.done())
        await task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return events


@pytest.mark.parametrize("older", [True, False], ids=["before-3.3", "3.3"])
async def test_a_phone_status_trigger_polls_on_its_own_and_says_why(
    older: bool, sandbox: Any, caplog: Any, capsys: Any, request: Any
) -> None:
    if older:
        request.getfixturevalue("older_airflow")
    caplog.set_level(logging.INFO)
    trigger = CamsPhoneStatusTrigger(
        phone_numbers=[CAMS_PENDING],
        target_status="CONNECTED",
        failure_statuses=list(DEFAULT_FAILURE_STATUSES),
        poke_interval=0.05,
    )
    (event,) = await collect(trigger, sandbox, advance=6, count=1)
    assert event["status"] == "success"
    said = [line for line in logged(caplog, capsys) if SHARED in line]
    if older:
        assert len(said) == 1
        assert "polls the alibaba_cams account on its own" in said[0]
    else:
        assert said == []


@pytest.mark.parametrize("older", [True, False], ids=["before-3.3", "3.3"])
async def test_a_watcher_without_trigger_state_says_what_a_restart_does(
    older: bool, sandbox: Any, caplog: Any, capsys: Any, request: Any
) -> None:
    if older:
        request.getfixturevalue("older_airflow")
    caplog.set_level(logging.INFO)
    trigger = CamsPhoneWatchTrigger(phone_numbers=[CAMS_FLAGGED], fields=["status"], poke_interval=0.05)
    (event,) = await collect(trigger, sandbox, advance=4, count=1)
    assert (event["phone_number"], event["old"], event["new"]) == (CAMS_FLAGGED, "CONNECTED", "FLAGGED")
    messages = logged(caplog, capsys)
    state = [line for line in messages if STATE in line]
    if older:
        assert sum(SHARED in m for m in messages) == 1
        (text,) = state
        assert "warning" in text.lower()  # a warning, not an info line: restarts lose changes
        assert "changes made while it was down are not reported" in text
    else:
        # No store in this test (nothing injected it), but 3.3 has one: nothing to announce.
        assert not any(SHARED in m for m in messages) and state == []
