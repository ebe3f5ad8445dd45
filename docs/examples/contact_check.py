# [START contact_check]
from datetime import datetime

from airflow.sdk import dag

from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
)
from airflow_provider_wa_phones.reports import output_file_name
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor


# output_file_name is the provider's one way to name a run's file (the example DAGs use it too).
@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    user_defined_filters={"output_file_name": output_file_name},
)
def contact_check():
    # No batch_no: the default names this task of this run, so a retry reuses what was paid for and
    # another run's results are never read as this one's.
    submit = NxCloudNumberCheckOperator(task_id="submit", phones=["+86 138 0000 1234", "+1 415 555 0123"])
    # Results arrive over seconds to minutes; wait without holding a worker slot.
    wait = NxCloudNumberCheckSensor(task_id="wait", batches=submit.output, deferrable=True, poke_interval=30)
    results = NxCloudNumberCheckResultsOperator(
        task_id="results",
        batches=submit.output,
        # Named after the run: a manual run has no logical date (no ds, no ts); every run has a run_id.
        # The folder is the Variable checks_url (any ObjectStoragePath URL), /tmp/checks without it.
        output_path="{{ var.value.get('checks_url', 'file:///tmp/checks') }}"
        "/{{ run_id | output_file_name('number-check', 'jsonl') }}",
    )
    wait >> results


contact_check_dag = contact_check()
# [END contact_check]


# [START contact_check_main]
# `python contact_check.py` runs the DAG above once against a local sandbox
if __name__ == "__main__":
    import os

    from airflow_provider_wa_phones.sandbox import SandboxServer

    with SandboxServer() as sandbox:
        os.environ.update(sandbox.airflow_env())  # nxcloud_default, alibaba_cams_default
        run = contact_check_dag.test()
        assert run.state == "success"
        assert sandbox.request_count("/api/number/check") == 2  # one submit per country
# [END contact_check_main]
