"""Clean a contact list kept as a file before a campaign: which numbers are valid, per country?

The contact list is a file in object storage (a CRM export, a warehouse unload): one number per
line, CSV or JSON Lines, gzip or not, up to millions of rows. The submit task reads it as a stream
(never through XCom), skips and counts the rows without a valid number, checks each number once,
and sends each country's numbers in requests of at most 10,000. The sensor waits for every batch in
the triggerer; the results go to a JSON Lines file, summarised per country and status.

Needs an ``nxcloud_default`` connection with an ``appkey``; ``make demo`` points it at the sandbox
and writes a generated contact file of a few thousand rows to ``$WA_PHONES_CONTACTS``. Give
another file with the ``contacts_path`` param: ``s3://aws_default@bucket/contacts.csv.gz`` works
where the Amazon provider is installed.
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

CONTACTS = os.environ.get("WA_PHONES_CONTACTS", "/tmp/wa-phones-contacts/contacts.csv.gz")
REPORT_DIR = os.environ.get("WA_PHONES_REPORT_DIR", "/tmp/wa-phones-reports")

#: See example_number_check.py: a retry of the submit reuses every batch an earlier try paid for.
DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30)}


@dag(
    dag_id="contact_file_check",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["whatsapp", "nxcloud", "example"],
    params={
        "contacts_path": Param(CONTACTS, type="string", description="The contact file (a URL or a path)"),
        "report_dir": Param(REPORT_DIR, type="string"),
    },
    user_defined_filters={"output_file_name": output_file_name},
    doc_md=__doc__,
)
def contact_file_check():
    # [START howto_operator_nxcloud_number_check_file]
    submit = NxCloudNumberCheckOperator(
        task_id="submit",
        phones_path="{{ params.contacts_path }}",
        # CSV: the column headed "phone" (or mobile, msisdn, ...) unless phones_column names one.
        on_invalid="skip",  # count and log rows without a valid number; "fail" refuses the file
        max_numbers_per_request=10_000,
    )
    wait = NxCloudNumberCheckSensor(
        task_id="wait_for_results",
        batches=submit.output,
        deferrable=True,
        poke_interval=5,
        batch_concurrency=8,
        timeout=timedelta(hours=2).total_seconds(),
    )
    results = NxCloudNumberCheckResultsOperator(
        task_id="results",
        batches=submit.output,
        output_path="file://{{ params.report_dir }}/"
        "{{ run_id | output_file_name('contact-check', 'jsonl') }}",
    )
    # [END howto_operator_nxcloud_number_check_file]

    @task
    def summarise(outcome: dict[str, Any], ti: Any = None) -> dict[str, Any]:
        read = ti.xcom_pull(task_ids="submit", key="phones_summary")
        print(
            f"contact file: {read['rows']:,} rows, {read['valid']:,} distinct valid numbers, "
            f"{read['duplicates']:,} duplicates, {read['invalid']:,} invalid rows, "
            f"in {read['requests']} requests"
        )
        for row in read["invalid_rows"]:
            print(f"  invalid, line {row['line']}: {row['value']} ({row['reason']})")
        summary = outcome["summary"]
        print(f"checked: {outcome['record_count']:,} numbers into {outcome['output_path']}")
        for country, statuses in sorted(summary["by_country"].items()):
            print(
                f"  {country}: "
                + ", ".join(f"{status} {count:,}" for status, count in sorted(statuses.items()))
            )
        return {"file": read, "by_country": summary["by_country"], "by_status": summary["by_status"]}

    wait >> results
    summarise(results.output)


contact_file_check()
