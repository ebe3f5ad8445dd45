# [START sender_health]
from datetime import datetime

from airflow.sdk import dag, task

from airflow_provider_wa_phones.operators.cams import CamsPhoneNumbersOperator
from airflow_provider_wa_phones.operators.nxcloud import NxCloudPhoneListOperator


@dag(schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False)
def sender_health():
    nxcloud = NxCloudPhoneListOperator(task_id="nxcloud_numbers")
    cams = CamsPhoneNumbersOperator(task_id="cams_numbers")

    @task
    def flag(*services):
        from airflow_provider_wa_phones.reports import attention_reasons

        records = [r for service in services for r in service]
        return {r["phone_number"]: attention_reasons(r) for r in records if attention_reasons(r)}

    flag(nxcloud.output, cams.output)


sender_health()
# [END sender_health]
