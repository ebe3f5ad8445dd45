"""Daily health report of every WhatsApp sender number on NxCloud and Alibaba Cloud CAMS.

Lists the NxCloud application's numbers and fetches their live status, lists the CAMS space's
numbers, and writes one report covering both services, flagging every number that is not
CONNECTED or whose quality rating is not GREEN.

Needs ``nxcloud_default`` (with an ``appkey``) and ``alibaba_cams_default`` (with a
``cust_space_id``) connections; ``make demo`` points both at the sandbox. The report goes to
``$WA_PHONES_REPORT_DIR`` (default ``/tmp/wa-phones-reports``), and is published as an asset
through the alias ``wa-phones-health-report``: a DAG with ``schedule=[HEALTH_REPORT]`` runs on
each new report.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetAlias, ObjectStoragePath, Param, dag, task

from airflow_provider_wa_phones.operators.cams import CamsPhoneNumbersOperator
from airflow_provider_wa_phones.operators.nxcloud import NxCloudPhoneInfoOperator, NxCloudPhoneListOperator

REPORT_DIR = os.environ.get("WA_PHONES_REPORT_DIR", "/tmp/wa-phones-reports")
#: Each report file is published as an asset through this alias.
HEALTH_REPORT = AssetAlias("wa-phones-health-report")


#: A task that fails for a passing reason is tried again. A deferrable sensor whose trigger fires
#: within seconds of its deferring can be failed by the scheduler (an Airflow 3.3.2 race, see the
#: README's "End-to-end" section); a retry looks again and resumes. Sensors fail without a retry
#: when the awaited state cannot come (BANNED, timeout) or the service refuses the credentials.
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}


@dag(
    dag_id="phone_health",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["whatsapp", "nxcloud", "alibaba_cams", "example"],
    params={"report_dir": Param(REPORT_DIR, type="string", description="Folder for the report")},
    doc_md=__doc__,
)
def phone_health():
    # [START howto_operator_phone_lists]
    nxcloud_listed = NxCloudPhoneListOperator(task_id="nxcloud_list_phones")

    @task
    def phone_numbers(records: list[dict[str, Any]]) -> list[str]:
        return [record["phone_number"] for record in records]

    nxcloud_info = NxCloudPhoneInfoOperator(
        task_id="nxcloud_phone_info", phones=phone_numbers(nxcloud_listed.output)
    )
    cams_numbers = CamsPhoneNumbersOperator(task_id="cams_phone_numbers")
    # [END howto_operator_phone_lists]

    @task(outlets=[HEALTH_REPORT])
    def write_report(
        nxcloud: list[dict[str, Any]],
        cams: list[dict[str, Any]],
        report_dir: str,
        run_id: str | None = None,
        outlet_events: Any = None,
    ) -> dict[str, Any]:
        import json
        from pathlib import Path

        from airflow_provider_wa_phones.lineage import record_output_file
        from airflow_provider_wa_phones.reports import format_table, health_report, output_file_name

        rows = health_report([*nxcloud, *cams])
        # Named after the run: a manual run has no logical date (no ds), and every run has a run_id.
        path = Path(report_dir) / output_file_name(run_id, "phone-health", "json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
        uri = path.resolve().as_uri()
        # Hook-level lineage of the report (the OpenLineage provider reports it as this task's output).
        record_output_file(uri, ObjectStoragePath(uri))
        print(format_table(rows))
        flagged = [f"{row['service']}:{row['phone_number']}" for row in rows if row["attention"]]
        outlet_events[HEALTH_REPORT].add(
            Asset(uri=uri), extra={"numbers": len(rows), "needs_attention": len(flagged)}
        )
        return {"report": str(path), "numbers": len(rows), "needs_attention": flagged}

    write_report(nxcloud_info.output, cams_numbers.output, report_dir="{{ params.report_dir }}")


phone_health()
