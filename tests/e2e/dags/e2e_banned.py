"""E2E only: a deferrable wait on a number that becomes BANNED must fail at once, not sit out its timeout.

In the sandbox (``airflow_provider_wa_phones/sandbox/data.py``) the NxCloud number +55 11 98765-4321
is CONNECTED, FLAGGED at 4 s and BANNED at 8 s of the sandbox's clock; the CAMS number 6281299990000
is CONNECTED, FLAGGED at 3 s and BANNED at 9 s. Each sensor also waits for a number that is PENDING
until 5 s, so the first poke cannot succeed and the wait goes to the triggerer; the BANNED status
then has to fail it there. ``scripts/e2e.py`` expects both sensors ``failed`` within a bound far
below their one-hour timeout, and ``report`` ``upstream_failed``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudPhoneStatusSensor

# Long enough that only the BANNED status, never the timeout, can end the wait within e2e's bound.
TIMEOUT = timedelta(hours=1).total_seconds()


@dag(
    dag_id="e2e_banned",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["whatsapp", "e2e"],
    doc_md=__doc__,
)
def e2e_banned():
    nxcloud = NxCloudPhoneStatusSensor(
        task_id="wait_nxcloud_banned",
        phones=["+55 11 98765-4321", "+62 812-3456-7890"],
        deferrable=True,
        poke_interval=1,
        timeout=TIMEOUT,
    )
    cams = CamsPhoneStatusSensor(
        task_id="wait_cams_banned",
        phone_numbers=["6281299990000", "+65 9111 0000"],
        deferrable=True,
        poke_interval=1,
        timeout=TIMEOUT,
    )

    @task
    def report() -> None:
        raise AssertionError("must not run: every number it waits for cannot become CONNECTED")

    [nxcloud, cams] >> report()


e2e_banned()
