"""Sandbox clocks, request log and state reset; the package stays cheap to import."""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal

import pytest

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.state import RecordedRequest, RequestLog, SandboxClock, SandboxState


def recorded(path: str, code: int | None = 0) -> RecordedRequest:
    return RecordedRequest(
        method="POST",
        path=path,
        headers={"ts": "1"},
        body="é".encode(),
        status=200,
        code=code,
        server_time=1.0,
    )


def test_frozen_virtual_clock_moves_only_when_advanced() -> None:
    clock = SandboxClock(time_scale=0.0)
    assert clock.elapsed() == 0.0
    assert clock.advance(2.5) == 2.5
    assert clock.advance(0.5) == 3.0
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)


def test_time_scale_speeds_up_the_virtual_clock() -> None:
    clock = SandboxClock(time_scale=1000.0)
    start = time.monotonic()
    first = clock.elapsed()
    while time.monotonic() == start:  # wait for the monotonic clock to tick at least once
        pass
    assert clock.elapsed() > first
    with pytest.raises(ValueError):
        SandboxClock(time_scale=-1)


def test_wall_clock_offset_and_reset() -> None:
    clock = SandboxClock(time_scale=0.0, offset_seconds=-30.0)
    assert clock.wall_time() == pytest.approx(time.time() - 30, abs=1)
    clock.set_offset(3600)
    clock.advance(10)
    assert clock.wall_time() == pytest.approx(time.time() + 3600, abs=1)
    clock.reset()
    assert clock.offset_seconds == -30.0
    assert clock.elapsed() == 0.0


def test_request_log_is_bounded_but_counts_everything() -> None:
    log = RequestLog(maxlen=3)
    for path in ["/a", "/b", "/a", "/a", "/b"]:
        log.record(recorded(path))
    assert [entry.path for entry in log.entries()] == ["/a", "/a", "/b"]
    assert [entry.path for entry in log.entries("/b")] == ["/b"]
    assert (log.count(), log.count("/a"), log.count("/b"), log.count("/c")) == (5, 3, 2, 0)
    log.clear()
    assert (log.entries(), log.count()) == ([], 0)


def test_recorded_request_json_has_the_body_as_text() -> None:
    assert recorded("/a", code=1003).as_json() == {
        "method": "POST",
        "path": "/a",
        "query": "",
        "headers": {"ts": "1"},
        "body": "é",
        "status": 200,
        "code": 1003,
        "server_time": 1.0,
        "fault": None,
    }


def test_state_reset_restores_seed_clocks_and_log() -> None:
    state = SandboxState(time_scale=0.0, clock_offset=5.0)
    state.clock.advance(100)
    state.clock.set_offset(-500)
    state.requests.record(recorded("/a"))
    state.nxcloud.app(data.NXCLOUD_APPKEY).balance = Decimal(0)
    state.reset()
    assert (state.clock.elapsed(), state.clock.offset_seconds, state.requests.count()) == (0.0, 5.0, 0)
    assert state.nxcloud.app(data.NXCLOUD_APPKEY).balance == Decimal("100.0")


def test_importing_the_sandbox_package_loads_no_web_stack() -> None:
    code = (
        "import sys, airflow_provider_wa_phones.sandbox as sb; "
        "assert sb.SandboxServer; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'phonenumbers') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
