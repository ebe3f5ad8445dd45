"""Quality alert: an incident line the moment a sender number's quality drops to RED or its status
leaves CONNECTED, on NxCloud or Alibaba Cloud CAMS, without a DAG that polls on a schedule.

The DAG is scheduled on an asset whose watchers (``NxCloudPhoneWatchTrigger``,
``CamsPhoneWatchTrigger``) run in the triggerer: one poll per account and interval, however many
watchers and deferred sensors look at that account. Each change is one asset event; a run writes
one JSON line per change to ``$WA_PHONES_REPORT_DIR/incidents-<run id>.jsonl``: those of the events
it was triggered by, and any others the asset received since (Airflow may leave those for the next
event), each change written once over all runs.
A manual run may pass changes in its conf (``{"changes": [...]}``) to replay them.

Needs ``nxcloud_default`` (with an ``appkey``) and ``alibaba_cams_default`` (with a
``cust_space_id``) connections, and a running triggerer. ``$WA_PHONES_WATCH_INTERVAL`` sets the
seconds between looks (default 60).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetWatcher, Param, dag, task

from airflow_provider_wa_phones.triggers.cams import CamsPhoneWatchTrigger
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneWatchTrigger

REPORT_DIR = os.environ.get("WA_PHONES_REPORT_DIR", "/tmp/wa-phones-reports")
INTERVAL = float(os.environ.get("WA_PHONES_WATCH_INTERVAL", "60"))
#: What counts as an incident, on both services.
WATCH = {"becomes": {"quality_rating": ["RED"]}, "leaves": {"status": ["CONNECTED"]}}

# [START howto_watchers]
SENDER_INCIDENTS = Asset(
    "wa-phones-sender-incidents",
    watchers=[
        AssetWatcher(
            name="nxcloud_senders", trigger=NxCloudPhoneWatchTrigger(**WATCH, poke_interval=INTERVAL)
        ),
        AssetWatcher(name="cams_senders", trigger=CamsPhoneWatchTrigger(**WATCH, poke_interval=INTERVAL)),
    ],
)
# [END howto_watchers]


#: A task that fails for a passing reason is tried again. A deferrable sensor whose trigger fires
#: within seconds of its deferring can be failed by the scheduler (an Airflow 3.3.2 race, see the
#: README's "End-to-end" section); a retry looks again and resumes. Sensors fail without a retry
#: when the awaited state cannot come (BANNED, timeout) or the service refuses the credentials.
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}


@dag(
    dag_id="quality_alert",
    schedule=[SENDER_INCIDENTS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["whatsapp", "nxcloud", "alibaba_cams", "example"],
    params={
        "changes": Param([], type="array", description="Changes to replay in a manual run"),
        "report_dir": Param(REPORT_DIR, type="string", description="Folder for the incident files"),
    },
    doc_md=__doc__,
)
def quality_alert():
    @task(inlets=[SENDER_INCIDENTS])
    def write_incidents(
        report_dir: str,
        triggering_asset_events: Any = None,
        inlet_events: Any = None,
        params: Any = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        import json
        from pathlib import Path

        from airflow_provider_wa_phones.reports import file_safe, output_file_name

        # A scheduled run: one asset event per change. Airflow starts a run for the first of several
        # events that arrive together and leaves those queued before the run starts to the next event,
        # however late that comes; so a run reads every event of the asset since its first one, and
        # each change is written once (the first run to create its marker file writes it).
        events = list(triggering_asset_events[SENDER_INCIDENTS]) if triggering_asset_events else []
        if events:
            since = min(event.timestamp for event in events)
            accessor = inlet_events[SENDER_INCIDENTS]
            if hasattr(accessor, "after"):  # Airflow 3.2 and later: the API server filters
                later = list(accessor.after(since.isoformat()))
            else:  # 3.0 and 3.1: a list of every event of the asset, filtered here
                later = [event for event in accessor if event.timestamp >= since]
            events = later or events
        changes = [event.extra["payload"] for event in events if "payload" in (event.extra or {})]
        if not events:
            changes = list(params["changes"])
        path = Path(report_dir) / output_file_name(run_id, "incidents", "jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        written = path.parent / ".incidents-written"
        written.mkdir(exist_ok=True)
        count = 0
        with path.open("w", encoding="utf-8") as out:
            for change in changes:
                if events and change.get("change_id"):
                    try:
                        (written / file_safe(change["change_id"])).open("x").close()
                    except FileExistsError:  # another run wrote it
                        continue
                out.write(json.dumps(change, ensure_ascii=False, sort_keys=True) + "\n")
                count += 1
                print(
                    f"INCIDENT {change['service']} {change['phone_number']} ({change.get('verified_name')}): "
                    f"{change['field']} {change['old']} -> {change['new']} at {change['observed_at']}"
                )
        return {"incidents": str(path), "count": count, "from_asset_events": bool(events)}

    write_incidents(report_dir="{{ params.report_dir }}")


quality_alert()
