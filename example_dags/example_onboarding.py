"""Onboard new sender numbers: wait until they are CONNECTED on both services, then read the
CAMS business profile so the campaign team can check it.

Both waits are deferrable: they sit in the triggerer, one API call per poll for all numbers, and
fail at once if a number is BANNED or DELETED.

Needs ``nxcloud_default`` and ``alibaba_cams_default`` connections; ``make demo`` points them at
the sandbox, where the two PENDING numbers below become CONNECTED after a few seconds.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_provider_wa_phones.operators.cams import CamsPhoneBusinessProfileOperator
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudPhoneStatusSensor

NXCLOUD_NUMBERS = ["+62 812-3456-7890", "+86 138 0000 1234"]
CAMS_NUMBER = "+65 9111 0000"
REPORT_DIR = os.environ.get("WA_PHONES_REPORT_DIR", "/tmp/wa-phones-reports")


#: A task that fails for a passing reason is tried again. A deferrable sensor whose trigger fires
#: within seconds of its deferring can be failed by the scheduler (an Airflow 3.3.2 race, see the
#: README's "End-to-end" section); a retry looks again and resumes. Sensors fail without a retry
#: when the awaited state cannot come (BANNED, timeout) or the service refuses the credentials.
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}


@dag(
    dag_id="onboarding",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["whatsapp", "nxcloud", "alibaba_cams", "example"],
    params={"report_dir": Param(REPORT_DIR, type="string", description="Folder for the report")},
    doc_md=__doc__,
)
def onboarding():
    # [START howto_sensor_phone_status]
    wait_nxcloud = NxCloudPhoneStatusSensor(
        task_id="wait_nxcloud_connected",
        phones=NXCLOUD_NUMBERS,
        deferrable=True,
        poke_interval=2,
        timeout=timedelta(days=1).total_seconds(),
    )
    wait_cams = CamsPhoneStatusSensor(
        task_id="wait_cams_connected",
        phone_numbers=[CAMS_NUMBER],
        deferrable=True,
        poke_interval=2,
        timeout=timedelta(days=1).total_seconds(),
    )
    # [END howto_sensor_phone_status]
    # [START howto_operator_cams_profile]
    profile = CamsPhoneBusinessProfileOperator(task_id="cams_profile", phone_number=CAMS_NUMBER)
    # [END howto_operator_cams_profile]

    @task
    def ready(
        nxcloud: list[dict[str, Any]],
        cams: list[dict[str, Any]],
        profile: dict[str, Any],
        report_dir: str,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        import json
        from pathlib import Path

        from airflow_provider_wa_phones.reports import format_table, output_file_name

        rows = [*nxcloud, *cams]
        print(format_table(rows, ("service", "phone_number", "verified_name", "status", "quality_rating")))
        print("CAMS business profile:", {k: profile.get(k) for k in ("vertical", "email", "websites")})
        path = Path(report_dir) / output_file_name(run_id, "onboarding", "json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"numbers": rows, "profile": profile}, ensure_ascii=False, indent=2), "utf-8"
        )
        return {"report": str(path), "connected": [row["phone_number"] for row in rows]}

    wait_cams >> profile
    ready(wait_nxcloud.output, wait_cams.output, profile.output, report_dir="{{ params.report_dir }}")


onboarding()
