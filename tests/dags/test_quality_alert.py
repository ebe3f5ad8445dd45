"""The quality_alert example: its watchers fire on the sandbox's timeline, and the DAG writes one
incident line per change (dag.test, real metadata DB).

A scheduled run reads the changes from ``triggering_asset_events``, which only a scheduler and a
triggerer produce: ``make e2e`` runs that path. Here the test runs the DAG's own watcher triggers,
as the triggerer would, and replays their events through the run's conf.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from tests.dags.test_example_dags import get_dag

pytestmark = pytest.mark.dags

NX_RED = "5511987654321"  # CONNECTED/GREEN, FLAGGED/RED at t=4, BANNED at t=8
CAMS_RED = "6281299990000"  # FLAGGED/YELLOW at t=3, BANNED/RED at t=9


async def watch(asset: Any, sandbox: Any, expected: int) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []

    async def run(trigger: Any) -> None:
        async for event in trigger.run():
            changes.append(json.loads(json.dumps(event.payload)))

    tasks = [asyncio.create_task(run(watcher.trigger)) for watcher in asset.watchers]
    deadline = time.monotonic() + 30
    while sandbox.request_count() < 4:  # a baseline look by each watcher, and another
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert changes == []  # the baseline fires nothing
    sandbox.advance(10)
    while len(changes) < expected:
        assert time.monotonic() < deadline, changes
        await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return changes


def test_quality_alert_watches_both_services_and_writes_an_incident_per_change(
    sandbox_env, tmp_path, monkeypatch
):
    from airflow_provider_wa_phones.triggers.cams import CamsPhoneWatchTrigger
    from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneWatchTrigger

    monkeypatch.setenv("WA_PHONES_WATCH_INTERVAL", "0.05")
    dag = get_dag("example_quality_alert.py", "quality_alert")
    (asset,) = dag.timetable.asset_condition.objects  # what the DAG waits on
    assert asset.name == "wa-phones-sender-incidents"
    triggers = [watcher.trigger for watcher in asset.watchers]
    assert [type(t) for t in triggers] == [NxCloudPhoneWatchTrigger, CamsPhoneWatchTrigger]

    changes = asyncio.run(watch(asset, sandbox_env, expected=4))
    assert sorted((c["service"], c["phone_number"], c["field"], c["old"], c["new"]) for c in changes) == [
        ("alibaba_cams", CAMS_RED, "quality_rating", "GREEN", "RED"),
        ("alibaba_cams", CAMS_RED, "status", "CONNECTED", "BANNED"),
        ("nxcloud", NX_RED, "quality_rating", "GREEN", "RED"),
        ("nxcloud", NX_RED, "status", "CONNECTED", "BANNED"),
    ]  # the PENDING numbers that became CONNECTED and GREEN are not incidents

    run = dag.test(logical_date=None, run_conf={"changes": changes})
    assert run.state == "success"
    (incidents,) = tmp_path.glob("incidents-*.jsonl")
    written = [json.loads(line) for line in incidents.read_text(encoding="utf-8").splitlines()]
    assert written == [json.loads(json.dumps(c, sort_keys=True)) for c in changes]
