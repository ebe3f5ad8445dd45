"""The quality_alert example: its watchers fire on the sandbox's timeline, and the DAG writes one
incident line per change (dag.test, real metadata DB).

A scheduled run reads the changes from ``triggering_asset_events``, which only a scheduler and a
triggerer produce: ``make e2e`` runs that path. Here the test runs the DAG's own watcher triggers,
as the triggerer would, and replays their events through the run's conf.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.dags.test_example_dags import get_dag
from tests.watching import watch_changes

pytestmark = pytest.mark.dags

NX_RED = "5511987654321"  # CONNECTED/GREEN, FLAGGED/RED at t=4, BANNED at t=8
CAMS_RED = "6281299990000"  # FLAGGED/YELLOW at t=3, BANNED/RED at t=9


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

    changes = watch_changes(triggers, sandbox_env, done=lambda fired: sum(map(len, fired)) >= 4)
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


class AssetEvents:
    """``inlet_events[asset]`` as a task reads it: the asset's events stored so far, ``after`` a time."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events

    def after(self, since: str) -> list[Any]:
        from datetime import datetime

        return [event for event in self.events if event.timestamp >= datetime.fromisoformat(since)]


def test_quality_alert_writes_the_changes_airflow_leaves_for_a_later_event_once(airflow_db, tmp_path):
    """Airflow 3.3.2 (seen in make e2e) starts a run for the first of several events and leaves the
    events that arrive before the run is created to whichever run the next event starts, which may
    never come. So a run writes every event of the asset since its first one, and no change twice."""
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    dag = get_dag("example_quality_alert.py", "quality_alert")
    task = dag.get_task("write_incidents")
    (asset,) = dag.timetable.asset_condition.objects
    assert task.inlets == [asset]  # so that the task may read the asset's events
    t0 = datetime(2026, 11, 26, 16, 37, 33, tzinfo=timezone.utc)
    changes = [
        {"service": service, "phone_number": phone, "field": name, "old": old, "new": new}
        | {"observed_at": t0.isoformat(), "verified_name": None, "change_id": f"c{i}"}
        for i, (service, phone, name, old, new) in enumerate(
            [
                ("nxcloud", NX_RED, "quality_rating", "GREEN", "RED"),
                ("nxcloud", NX_RED, "status", "CONNECTED", "BANNED"),
                ("alibaba_cams", CAMS_RED, "quality_rating", "GREEN", "RED"),
                ("alibaba_cams", CAMS_RED, "status", "CONNECTED", "BANNED"),
            ]
        )
    ]
    events = [
        SimpleNamespace(timestamp=t0 + timedelta(seconds=i), extra={"from_trigger": True, "payload": change})
        for i, change in enumerate(changes)
    ]

    def run(run_id: str, triggering: list[Any], stored: list[Any]) -> dict[str, Any]:
        return task.python_callable(
            report_dir=str(tmp_path),
            triggering_asset_events={asset: triggering},
            inlet_events={asset: AssetEvents(stored)},
            params={"changes": []},
            run_id=run_id,
        )

    # The first run was started by event 0; events 1 and 2 were stored before it was created.
    first = run("asset_triggered__1", events[:1], events[:3])
    # Event 3 starts the next run, which Airflow gives the left-over event 2 as well.
    second = run("asset_triggered__2", events[2:], events[2:])
    assert (first["count"], second["count"]) == (3, 1)
    lines = [
        json.loads(line)
        for path in sorted(tmp_path.glob("incidents-*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert lines == changes  # every change, once, in the order they happened

    # A manual run replays its conf as given, written or not.
    replay = task.python_callable(
        report_dir=str(tmp_path),
        triggering_asset_events={},
        inlet_events={asset: AssetEvents(events)},
        params={"changes": changes[:1]},
        run_id="manual__1",
    )
    assert replay["count"] == 1 and not replay["from_asset_events"]
