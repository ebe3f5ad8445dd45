"""Daily health report of every NxCloud WhatsApp sender number.

Lists the application's numbers, fetches their live status, writes a JSON report and flags every
number that is not CONNECTED or whose quality rating is not GREEN.

Needs an ``nxcloud_default`` connection with an ``appkey``; ``make demo`` points it at the sandbox.
The report goes to ``$WA_PHONES_REPORT_DIR`` (default ``/tmp/wa-phones-reports``).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_provider_wa_phones.operators.nxcloud import NxCloudPhoneInfoOperator, NxCloudPhoneListOperator

REPORT_DIR = os.environ.get("WA_PHONES_REPORT_DIR", "/tmp/wa-phones-reports")


@dag(
    dag_id="nxcloud_phone_health",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["whatsapp", "nxcloud", "example"],
    params={"report_dir": Param(REPORT_DIR, type="string", description="Folder for the report")},
    doc_md=__doc__,
)
def nxcloud_phone_health():
    listed = NxCloudPhoneListOperator(task_id="list_phones")

    @task
    def phone_numbers(records: list[dict[str, Any]]) -> list[str]:
        return [record["phone_number"] for record in records]

    info = NxCloudPhoneInfoOperator(task_id="phone_info", phones=phone_numbers(listed.output))

    @task
    def write_report(records: list[dict[str, Any]], report_dir: str, ds: str | None = None) -> dict[str, Any]:
        import json
        from pathlib import Path

        from airflow_provider_wa_phones.reports import format_table, health_report

        rows = health_report(records)
        path = Path(report_dir) / f"nxcloud-phone-health-{ds}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
        print(format_table(rows))
        flagged = [row["phone_number"] for row in rows if row["attention"]]
        return {"report": str(path), "numbers": len(rows), "needs_attention": flagged}

    write_report(info.output, report_dir="{{ params.report_dir }}")


nxcloud_phone_health()
