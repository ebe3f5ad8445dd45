"""The sandbox beside a deployment: a long-running mode whose numbers keep changing, a clock that can
be held, and the control endpoints as ``--help`` names them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.sandbox import SandboxServer, data
from airflow_provider_wa_phones.sandbox.state import SandboxClock, SandboxState
from tests.unit.sandbox.processes import start_sandbox

BRAZIL = "5511987654321"  # NxCloud: CONNECTED and GREEN, then FLAGGED and RED at 4 s, BANNED at 8 s
SG_SENDER = "6591110000"  # CAMS: PENDING, then CONNECTED


def test_a_held_clock_moves_only_when_advanced_and_runs_on_from_there() -> None:
    clock = SandboxClock(time_scale=1000.0)
    held_at = clock.hold()
    assert clock.held
    assert clock.elapsed() == held_at  # however much real time passes
    assert clock.advance(5) == held_at + 5
    assert clock.release() >= held_at + 5
    assert not clock.held
    deadline = time.monotonic() + 10
    while clock.elapsed() < held_at + 6:  # 1,000 virtual seconds a real one
        assert time.monotonic() < deadline
    clock.hold()
    clock.reset()
    assert not clock.held


@pytest.mark.parametrize("cycle", [0, 9, -1])
def test_a_cycle_must_outlast_the_timelines(cycle: float) -> None:
    with pytest.raises(ValueError, match="timeline_cycle must be longer than the timelines"):
        SandboxState(timeline_cycle=cycle)


def test_timeline_time_starts_over_each_cycle() -> None:
    assert data.timeline_span() == 9
    assert [data.timeline_time(t, 20) for t in (0, 5, 19.5, 20, 25, 65)] == [0, 5, 19.5, 0, 5, 5]
    assert data.timeline_time(65, None) == 65


@pytest.fixture
def live_sandbox(monkeypatch: pytest.MonkeyPatch) -> Any:
    # time_scale 0: only the advance endpoint moves the virtual clock, so nothing here waits.
    with SandboxServer(time_scale=0.0, timeline_cycle=20) as sandbox:
        for name, value in sandbox.airflow_env().items():
            monkeypatch.setenv(name, value)
        yield sandbox


def _advance(sandbox: SandboxServer, seconds: float) -> float:
    answer = requests.post(f"{sandbox.url}/_sandbox/advance", json={"seconds": seconds}, timeout=10)
    answer.raise_for_status()
    elapsed: float = answer.json()["elapsed"]
    return elapsed


def _nxcloud(number: str) -> tuple[str, str]:
    (record,) = NxCloudHook().get_phone_info(number)
    return record["status"], record["quality_rating"]


def _cams(number: str) -> str:
    (phone,) = [phone for phone in CamsHook().query_phone_numbers() if phone["PhoneNumber"] == number]
    status: str = phone["Status"]
    return status


def test_numbers_keep_changing_in_the_long_running_mode(live_sandbox: SandboxServer) -> None:
    # A deployment that comes up after the timelines' end (12 s) sees the last state first ...
    assert _advance(live_sandbox, 12) == 12
    assert _nxcloud(BRAZIL) == ("BANNED", "RED")
    assert _cams(SG_SENDER) == "CONNECTED"
    # ... then every number starts over and changes again, cycle after cycle.
    seen = []
    for _ in range(3):
        _advance(live_sandbox, 10)  # 22 s: 2 s into the second cycle; 32 s: 12 s into it, ...
        seen.append((_nxcloud(BRAZIL), _cams(SG_SENDER)))
        _advance(live_sandbox, 10)
        seen.append((_nxcloud(BRAZIL), _cams(SG_SENDER)))
    fresh, late = (("CONNECTED", "GREEN"), "PENDING"), (("BANNED", "RED"), "CONNECTED")
    assert seen == [fresh, late] * 3
    clock = requests.get(f"{live_sandbox.url}/_sandbox/clock", timeout=10).json()
    assert (clock["elapsed"], clock["timeline_cycle"], clock["timeline_time"]) == (72, 20, 12)


def test_without_a_cycle_the_timelines_end(monkeypatch: pytest.MonkeyPatch) -> None:
    with SandboxServer(time_scale=0.0) as sandbox:
        for name, value in sandbox.airflow_env().items():
            monkeypatch.setenv(name, value)
        _advance(sandbox, 1000)
        assert _nxcloud(BRAZIL) == ("BANNED", "RED")


def test_the_clock_endpoints_hold_and_release(live_sandbox: SandboxServer) -> None:
    url = f"{live_sandbox.url}/_sandbox/clock"
    held = requests.post(f"{url}/hold", timeout=10).json()
    assert held["held"] is True
    _advance(live_sandbox, 3)
    assert requests.get(url, timeout=10).json()["elapsed"] == held["elapsed"] + 3
    assert requests.post(f"{url}/release", timeout=10).json()["held"] is False


def test_the_live_option_starts_the_timelines_over_every_minute(tmp_path: Path) -> None:
    process, url = start_sandbox(tmp_path, "--live")
    try:
        clock = requests.post(f"{url}/_sandbox/clock/hold", timeout=10).json()
        assert clock["timeline_cycle"] == 60
        after = requests.post(f"{url}/_sandbox/advance", json={"seconds": 60}, timeout=10).json()
        timeline = requests.get(f"{url}/_sandbox/clock", timeout=10).json()["timeline_time"]
        assert timeline == pytest.approx(after["elapsed"] - 60)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Timelines start over every 60 s" in stderr


def test_help_names_every_control_endpoint_and_the_long_running_mode() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "airflow_provider_wa_phones.sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for endpoint in (
        "/reset",
        "/advance",
        "/clock/hold",
        "/clock/release",
        "/faults/next",
        "DELETE /faults",
        "/requests?path=&action=",
        "/requests/count",
        "/health",
        "--cycle SECONDS",
        "--live",
    ):
        assert endpoint in shown, endpoint
    # Each route the sandbox serves under /_sandbox is named.
    from airflow_provider_wa_phones.sandbox.app import ADMIN_PREFIX, create_app

    routes = {
        route.path.removeprefix(ADMIN_PREFIX)
        for route in create_app(SandboxState()).routes
        if getattr(route, "path", "").startswith(ADMIN_PREFIX)
    }
    assert routes and all(f" {path}" in shown for path in routes), routes - {
        path for path in routes if f" {path}" in shown
    }
