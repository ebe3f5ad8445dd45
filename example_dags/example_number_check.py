"""Check a contact list before a campaign: which numbers are valid, and where are they?

Submits the list for a number check (one batch per country), waits for every result in the
triggerer (deferrable: no worker slot is held while NxCloud works), streams the results to a
JSON Lines file and summarises valid and invalid numbers.

Needs an ``nxcloud_default`` connection with an ``appkey``; ``make demo`` points it at the sandbox.
Results go to ``$WA_PHONES_REPORT_DIR`` (default ``/tmp/wa-phones-reports``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
)
from airflow_provider_wa_phones.reports import output_file_name
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor

REPORT_DIR = os.environ.get("WA_PHONES_REPORT_DIR", "/tmp/wa-phones-reports")
CONTACTS = [
    "+86 138 0000 1234",
    "+86 139 1234 5678",
    "+86 120 0000 0000",  # not a valid Chinese mobile number
    "+62 812-3456-7890",
    "+62 813 9876 5432",
    "+1 415 555 0123",
    "+44 20 7946 0000",
]


#: A task that fails for a passing reason is tried again. A deferrable sensor whose trigger fires
#: within seconds of its deferring can be failed by the scheduler (an Airflow 3.3.2 race, see the
#: README's "End-to-end" section); a retry looks again and resumes. Sensors fail without a retry
#: when the awaited state cannot come (BANNED, timeout) or the service refuses the credentials.
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}


@dag(
    dag_id="number_check",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["whatsapp", "nxcloud", "example"],
    params={
        "contacts": Param(CONTACTS, type="array", description="Numbers to check, with country code"),
        "report_dir": Param(REPORT_DIR, type="string"),
    },
    render_template_as_native_obj=True,
    # Every report file is named by the provider's one sanitiser (see reports.output_file_name).
    user_defined_filters={"output_file_name": output_file_name},
    doc_md=__doc__,
)
def number_check():
    # No batch_no: the default names this task of this run, so a retry finds (and reuses) what an
    # earlier try paid for, and another run's batch is never read as this one's.
    # [START howto_operator_nxcloud_number_check]
    submit = NxCloudNumberCheckOperator(task_id="submit", phones="{{ params.contacts }}")
    wait = NxCloudNumberCheckSensor(
        task_id="wait_for_results",
        batches=submit.output,
        deferrable=True,
        poke_interval=5,
        timeout=timedelta(hours=1).total_seconds(),
    )
    results = NxCloudNumberCheckResultsOperator(
        task_id="results",
        batches=submit.output,
        # Named after the run: manual runs have no logical date (no ds or ts), every run a run_id.
        output_path="file://{{ params.report_dir }}/{{ run_id | output_file_name('number-check', 'jsonl') }}",
    )
    # [END howto_operator_nxcloud_number_check]

    @task
    def summarise(outcome: dict[str, Any]) -> dict[str, Any]:
        import json

        from airflow.sdk import ObjectStoragePath

        valid, invalid = [], []
        with ObjectStoragePath(outcome["output_path"]).open("r", encoding="utf-8") as lines:
            # readline: Airflow 3.0's file wrapper cannot be iterated line by line (fixed in 3.1).
            for line in iter(lines.readline, ""):
                record = json.loads(line)
                (valid if record.get("preCheck") == "YES" else invalid).append(record["phone"])
        print(f"{len(valid)} valid, {len(invalid)} invalid of {outcome['record_count']} checked")
        print("invalid:", ", ".join(invalid) or "none")
        return {"valid": len(valid), "invalid": invalid, "by_region": outcome["summary"]["by_region"]}

    wait >> results
    summarise(results.output)


number_check()
