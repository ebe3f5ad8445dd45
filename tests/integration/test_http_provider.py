"""The long tail: any endpoint of either service through the stock http provider, signed by this
provider's auth classes, as the README shows: ``auth_type=NxCloudAuth`` / ``CamsAuth`` for
``HttpHook`` and ``HttpOperator``, ``request_kwargs={"auth": CamsAuth.from_connection(...)}`` for
``HttpSensor`` (which takes no ``auth_type``).

The sandbox checks every signature with its own code; an answer with code 0 / ``OK`` is the proof.
The ``http`` connection holds host, login and password only: ``HttpHook`` sends every extra as a
header, so the documented pattern keeps appkeys and tokens out of the connection's extras.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from airflow_provider_wa_phones.auth import CamsAuth, NxCloudAuth
from airflow_provider_wa_phones.sandbox import data

pytest.importorskip("airflow.providers.http")

GET_PHONE = "/api/wa/getPhone"
NXCLOUD_HEADERS = {"Content-Type": "application/json", "bizType": "2", "action": "getPhone"}
CAMS_HEADERS = {"x-acs-action": "QueryChatappPhoneNumbers", "x-acs-version": "2020-06-06"}
SECRETS = (data.NXCLOUD_ACCESS_SECRET, data.CAMS_ACCESS_KEY_SECRET, data.CAMS_STS_ACCESS_KEY_SECRET)


def http_connection(
    monkeypatch: pytest.MonkeyPatch, sandbox: Any, conn_id: str, login: str, password: str
) -> None:
    """An ``http`` connection as the README defines it: host, login, password, no extras."""
    connection = {"conn_type": "http", "host": sandbox.url, "login": login, "password": password}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))


@pytest.fixture
def nxcloud_http(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    http_connection(monkeypatch, sandbox, "nxcloud_http", data.NXCLOUD_ACCESS_KEY, data.NXCLOUD_ACCESS_SECRET)
    return "nxcloud_http"


@pytest.fixture
def cams_http(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    http_connection(monkeypatch, sandbox, "cams_http", data.CAMS_ACCESS_KEY_ID, data.CAMS_ACCESS_KEY_SECRET)
    return "cams_http"


def get_phone_body() -> str:
    return json.dumps({"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"})


def assert_no_credential_in_headers(sandbox: Any) -> None:
    requests = sandbox.requests()
    assert requests, "the sandbox saw no request"
    for request in requests:
        names = {name.lower() for name in request.headers}
        assert "appkey" not in names and "security_token" not in names
        for secret in SECRETS:
            assert all(secret not in value for value in request.headers.values())


def test_http_hook_run_signs_an_nxcloud_call(sandbox: Any, nxcloud_http: str) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="POST", http_conn_id=nxcloud_http, auth_type=NxCloudAuth)
    answer = hook.run(GET_PHONE, data=get_phone_body(), headers=NXCLOUD_HEADERS).json()
    assert answer["code"] == 0, answer
    assert answer["data"]  # the application's numbers
    (request,) = sandbox.requests(GET_PHONE)
    assert (
        request.code == 0 and request.headers["accesskey"] == data.NXCLOUD_ACCESS_KEY
    )  # names as received: lower case
    assert_no_credential_in_headers(sandbox)


def test_http_hook_with_the_wrong_secret_is_refused_by_the_sandbox(sandbox: Any, monkeypatch: Any) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    http_connection(monkeypatch, sandbox, "nxcloud_wrong", data.NXCLOUD_ACCESS_KEY, "not-the-secret")
    hook = HttpHook(method="POST", http_conn_id="nxcloud_wrong", auth_type=NxCloudAuth)
    answer = hook.run(
        GET_PHONE, data=get_phone_body(), headers=NXCLOUD_HEADERS, extra_options={"check_response": False}
    )
    assert answer.json()["code"] == 1003  # the sandbox checks the signature: this test can fail


def test_http_operator_execute_signs_with_sha256_too(sandbox: Any, nxcloud_http: str) -> None:
    from airflow.providers.http.operators.http import HttpOperator

    operator = HttpOperator(
        task_id="phone_list",
        http_conn_id=nxcloud_http,
        endpoint="/api/wa/integrator/embedded/register/phoneList",
        method="POST",
        data=json.dumps({"appkey": data.NXCLOUD_APPKEY}),
        headers={"Content-Type": "application/json", "bizType": "2", "action": "phoneList"},
        auth_type=functools.partial(NxCloudAuth, algorithm="sha256"),
        response_filter=lambda response: response.json(),
    )
    answer = operator.execute({})
    assert answer["code"] == 0, answer
    assert isinstance(answer["data"], list) and answer["data"]
    assert sandbox.requests()[0].headers.get("algorithm") == "sha256"
    assert_no_credential_in_headers(sandbox)


def test_http_sensor_poke_signs_a_cams_call_whatever_the_query_order(sandbox: Any, monkeypatch: Any) -> None:
    from airflow.providers.http.sensors.http import HttpSensor

    # The http connection names the host only; the credentials (an STS token too) stay in the
    # alibaba_cams connection, read when the sensor first signs.
    monkeypatch.setenv("AIRFLOW_CONN_CAMS_HOST", json.dumps({"conn_type": "http", "host": sandbox.url}))
    cams = sandbox.connections()["alibaba_cams_default"]
    cams |= {"login": data.CAMS_STS_ACCESS_KEY_ID, "password": data.CAMS_STS_ACCESS_KEY_SECRET}
    cams["extra"] = cams["extra"] | {"security_token": data.CAMS_STS_SECURITY_TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_CAMS_STS", json.dumps(cams))
    auth = CamsAuth.from_connection("cams_sts")
    assert data.CAMS_STS_ACCESS_KEY_SECRET not in repr(auth)
    sensor = HttpSensor(
        task_id="cams_connected",
        http_conn_id="cams_host",
        method="POST",
        # Not in canonical order: CamsAuth signs the query it sends.
        endpoint="/?Status=CONNECTED&CustSpaceId=" + data.CAMS_SPACE_ID,
        headers=CAMS_HEADERS,
        request_kwargs={"auth": auth},
        response_check=lambda response: (
            response.json().get("Code") == "OK" and bool(response.json().get("PhoneNumbers"))
        ),
    )
    assert sensor.poke({}) is True
    (request,) = sandbox.requests()
    assert request.status == 200 and request.action == "QueryChatappPhoneNumbers"
    assert request.query == f"CustSpaceId={data.CAMS_SPACE_ID}&Status=CONNECTED"
    assert request.headers["x-acs-security-token"] == data.CAMS_STS_SECURITY_TOKEN
    assert "authorization" in {name.lower() for name in request.headers}  # ACS3, not Basic
    assert not request.headers.get("authorization", request.headers.get("Authorization", "")).startswith(
        "Basic"
    )
    assert_no_credential_in_headers(sandbox)


def test_from_connection_names_a_missing_connection(sandbox: Any) -> None:
    import requests

    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    prepared = requests.Request(
        "POST", sandbox.url + GET_PHONE, headers=NXCLOUD_HEADERS, data=b"{}"
    ).prepare()
    with pytest.raises(ConnectionConfigError, match="'no_such_conn', field conn_id: is not defined"):
        NxCloudAuth.from_connection("no_such_conn")(prepared)


def test_cams_auth_takes_an_sts_token_through_functools_partial(sandbox: Any, monkeypatch: Any) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    http_connection(
        monkeypatch, sandbox, "cams_sts", data.CAMS_STS_ACCESS_KEY_ID, data.CAMS_STS_ACCESS_KEY_SECRET
    )
    token = data.CAMS_STS_SECURITY_TOKEN  # in a DAG: from a secrets backend, never a connection extra
    hook = HttpHook(
        method="POST", http_conn_id="cams_sts", auth_type=functools.partial(CamsAuth, security_token=token)
    )
    answer = hook.run("/", headers=CAMS_HEADERS, params={"CustSpaceId": data.CAMS_SPACE_ID}).json()
    assert answer["Code"] == "OK", answer
    assert sandbox.requests()[0].headers["x-acs-security-token"] == token


def test_auth_reprs_show_no_secret() -> None:
    texts = repr(NxCloudAuth("key", "nx-secret")) + repr(CamsAuth("id", "cams-secret", "sts-token"))
    assert "nx-secret" not in texts and "cams-secret" not in texts and "sts-token" not in texts
    assert "key" in texts and "id" in texts
