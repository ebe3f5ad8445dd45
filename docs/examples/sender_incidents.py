# [START sender_incidents]
from datetime import datetime

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_wa_phones.triggers.cams import CamsPhoneWatchTrigger
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneWatchTrigger

WATCH = {"becomes": {"quality_rating": ["RED"]}, "leaves": {"status": ["CONNECTED"]}}
SENDER_INCIDENTS = Asset(
    "sender-incidents",
    watchers=[
        AssetWatcher(name="nxcloud_senders", trigger=NxCloudPhoneWatchTrigger(**WATCH, poke_interval=60)),
        AssetWatcher(name="cams_senders", trigger=CamsPhoneWatchTrigger(**WATCH, poke_interval=60)),
    ],
)


@dag(schedule=[SENDER_INCIDENTS], start_date=datetime(2026, 1, 1), catchup=False)
def sender_incidents():
    @task
    def report(triggering_asset_events=None):
        # One asset event per change; a run may have several. A manual run has none.
        events = triggering_asset_events[SENDER_INCIDENTS] if triggering_asset_events else []
        for event in events:
            change = event.extra["payload"]
            print(f"{change['phone_number']} {change['field']}: {change['old']} -> {change['new']}")
        return len(events)

    report()


sender_incidents()
# [END sender_incidents]
