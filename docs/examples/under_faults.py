# [START under_faults]
from datetime import datetime

from airflow.sdk import dag

from airflow_provider_wa_phones.operators.cams import CamsPhoneNumbersOperator
from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator, NxCloudPhoneListOperator


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def under_faults():
    NxCloudPhoneListOperator(task_id="nxcloud_numbers")
    CamsPhoneNumbersOperator(task_id="cams_numbers")
    NxCloudNumberCheckOperator(task_id="submit", phones=["+86 138 0000 1234"])


under_faults_dag = under_faults()

if __name__ == "__main__":
    import os

    from airflow_provider_wa_phones.sandbox import SandboxServer

    with SandboxServer() as sandbox:
        os.environ.update(sandbox.airflow_env())
        sandbox.set_faults(rate=0.3, seed=7)  # 30 % of requests fail, reproducibly
        sandbox.fail_next("lost", path="/api/number/check")  # the next submit is processed, its answer lost
        run = under_faults_dag.test()
        assert run.state == "success"  # every failure retried or looked up
        assert sandbox.request_count("/api/number/check") == 1  # the lost submit was not sent again
        print(sandbox.fault_counts())
# [END under_faults]
