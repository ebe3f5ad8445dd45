# [START long_tail]
import json
from datetime import datetime

from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import dag

from airflow_provider_wa_phones.auth import CamsAuth, NxCloudAuth


@dag(schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def long_tail():
    # Connection "nxcloud_http": conn type http, host https://api2.nxcloud.com,
    # login = access key, password = access secret, and NO extras.
    HttpOperator(
        task_id="phone_list",
        http_conn_id="nxcloud_http",
        endpoint="/api/wa/integrator/embedded/register/phoneList",
        method="POST",
        data=json.dumps({"appkey": "{{ var.value.nxcloud_appkey }}"}),
        headers={"Content-Type": "application/json", "bizType": "2", "action": "phoneList"},
        auth_type=NxCloudAuth,
        response_filter=lambda response: response.json()["data"],
    )

    # HttpSensor takes no auth_type: give the auth per request. from_connection reads this
    # provider's alibaba_cams connection (STS token included) when it first signs; "cams_host" is
    # an http connection holding the host only.
    HttpSensor(
        task_id="space_has_a_connected_number",
        http_conn_id="cams_host",
        endpoint="/?CustSpaceId={{ var.value.cams_space_id }}&Status=CONNECTED",
        method="POST",
        headers={"x-acs-action": "QueryChatappPhoneNumbers", "x-acs-version": "2020-06-06"},
        request_kwargs={"auth": CamsAuth.from_connection("alibaba_cams_default")},
        response_check=lambda response: bool(response.json().get("PhoneNumbers")),
    )


long_tail()
# [END long_tail]
