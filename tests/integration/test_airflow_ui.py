"""The connection forms and the Test button, through Airflow 3.3's own API server app.

The app is ``airflow.api_fastapi.app.create_app`` served in-process by FastAPI's ``TestClient``,
with the simple auth manager in all-admins mode (its middleware signs every request as an admin)
and ``[core] test_connection = Enabled``. ``/ui/connections/hook_meta`` is what the React UI builds
both forms from; ``/api/v2/connections/test`` is what its Test button calls.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.retry import NO_RETRY
from airflow_provider_wa_phones.services import AUTH_TYPES

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated"),
    pytest.mark.filterwarnings("ignore:ProvidersManager.hooks is deprecated"),
]

OURS = {"nxcloud", "alibaba_cams"}


@pytest.fixture(scope="module")
def airflow_db():
    """A migrated metadata database in the test AIRFLOW_HOME: the test endpoint reads and logs to it."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, env=os.environ.copy())


@pytest.fixture(scope="module")
def api_env():
    """Settings of the API server under test, in the environment for as long as the module runs."""
    settings = {
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        # 64 bytes, the length the token signer wants; random so no test shares a key.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        yield settings


@pytest.fixture(scope="module")
def api(api_env, airflow_db):
    """A client of the Airflow API server app (core API and UI routes), run in this process."""
    from airflow.api_fastapi.app import create_app, purge_cached_app
    from fastapi.testclient import TestClient

    app = create_app(apps="core")
    try:
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield client
    finally:
        purge_cached_app()  # drops the auth manager singleton built for these settings


@pytest.fixture(scope="module")
def hook_meta(api):
    response = api.get("/ui/connections/hook_meta")
    assert response.status_code == 200, response.text
    return {meta["connection_type"]: meta for meta in response.json()}


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- connection forms ----------------------------------------------------------------------------


def test_hook_meta_lists_both_connection_types_of_this_provider(hook_meta):
    assert set(hook_meta) >= OURS
    assert hook_meta["nxcloud"]["hook_name"] == "NxCloud"
    assert hook_meta["nxcloud"]["hook_class_name"] == "airflow_provider_wa_phones.hooks.nxcloud.NxCloudHook"
    assert hook_meta["alibaba_cams"]["hook_name"] == "Alibaba Cloud CAMS"
    assert hook_meta["alibaba_cams"]["hook_class_name"] == "airflow_provider_wa_phones.hooks.cams.CamsHook"


def test_nxcloud_form_relabels_hides_and_explains_the_standard_fields(hook_meta):
    fields = hook_meta["nxcloud"]["standard_fields"]
    assert fields["host"] == {
        "hidden": False,
        "title": "API base URL",
        "placeholder": "https://api2.nxcloud.com",
    }
    assert fields["login"] == {
        "hidden": False,
        "title": "Access key",
        "placeholder": "accessKey from the NxCloud console",
    }
    assert fields["password"] == {
        "hidden": False,
        "title": "Access secret",
        "placeholder": "accessSecret from the NxCloud console",
    }
    assert fields["url_schema"]["hidden"] is True
    assert fields["port"]["hidden"] is True


def test_cams_form_relabels_hides_and_explains_the_standard_fields(hook_meta):
    fields = hook_meta["alibaba_cams"]["standard_fields"]
    assert fields["host"] == {
        "hidden": False,
        "title": "Endpoint override",
        "placeholder": "leave empty for https://cams.<region>.aliyuncs.com",
    }
    assert fields["login"] == {"hidden": False, "title": "AccessKey ID", "placeholder": "LTAI..."}
    assert fields["password"] == {
        "hidden": False,
        "title": "AccessKey secret",
        "placeholder": "AccessKey secret from the RAM console",
    }
    assert fields["url_schema"]["hidden"] is True
    assert fields["port"]["hidden"] is True


def test_nxcloud_form_has_the_appkey_and_a_choice_of_signature_algorithm(hook_meta):
    extra = hook_meta["nxcloud"]["extra_fields"]
    assert set(extra) == {"appkey", "sign_algorithm", "max_answer_bytes"}
    assert extra["appkey"]["schema"]["title"] == "Appkey"
    assert extra["appkey"]["value"] is None
    assert "format" not in extra["appkey"]["schema"]
    algorithm = extra["sign_algorithm"]
    assert algorithm["schema"]["title"] == "Signature algorithm"
    assert algorithm["schema"]["enum"] == ["md5", "sha256"]
    assert algorithm["value"] == "md5"


def test_cams_form_has_region_space_and_a_secret_sts_token(hook_meta):
    extra = hook_meta["alibaba_cams"]["extra_fields"]
    assert set(extra) == {
        "region", "security_token", "cust_space_id", "max_answer_bytes", "auth_type", "role_arn",
        "role_session_name", "external_id", "policy", "duration_seconds", "oidc_provider_arn",
        "oidc_token_file", "role_name", "credentials_uri", "sts_region", "sts_endpoint", "enable_vpc",
    }  # fmt: skip
    assert extra["auth_type"]["schema"]["enum"] == list(AUTH_TYPES)
    assert extra["auth_type"]["value"] == "access_key"
    assert extra["region"]["schema"]["title"] == "Region"
    assert extra["region"]["value"] == "ap-southeast-1"
    token = extra["security_token"]
    assert token["schema"]["title"] == "STS security token"
    assert token["schema"]["format"] == "password"  # the UI masks it like the password
    assert extra["cust_space_id"]["schema"]["title"] == "Default CustSpaceId"
    assert "format" not in extra["cust_space_id"]["schema"]


def test_api_redacts_the_secret_and_the_sts_token_of_a_stored_connection(api):
    extra = {"region": "ap-southeast-1", "security_token": "sts-token-value", "cust_space_id": "space-1"}
    body = {
        "connection_id": "ui_redaction",
        "conn_type": "alibaba_cams",
        "login": "LTAI-key-id",
        "password": "key-secret-value",
        "extra": json.dumps(extra),
    }
    assert api.post("/api/v2/connections", json=body).status_code == 201
    try:
        stored = api.get("/api/v2/connections/ui_redaction").json()
    finally:
        api.delete("/api/v2/connections/ui_redaction")
    assert stored["login"] == "LTAI-key-id"
    assert stored["password"] == "***"
    assert json.loads(stored["extra"]) == {**extra, "security_token": "***"}


# -- the Test button: POST /api/v2/connections/test ---------------------------------------------------


def _test_body(sandbox_server, conn_id: str, **changes) -> dict:
    """The request body the UI sends for a connection like ``conn_id`` of the sandbox."""
    conn = sandbox_server.connections()[conn_id] | changes
    extra = conn.pop("extra", {})
    body = {"connection_id": f"ui_{conn_id}", **conn, "extra": json.dumps(extra)}
    return {name: value for name, value in body.items() if value is not None}


def _press_test(api, body: dict) -> tuple[bool, str]:
    response = api.post("/api/v2/connections/test", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"status", "message"}
    return answer["status"], answer["message"]


@pytest.mark.parametrize(
    ("conn_id", "expected"),
    [
        ("nxcloud_default", "Connected to NxCloud at {url}: application sandbox-wa-app has "),
        ("alibaba_cams_default", "Connected to CAMS at {url}: "),
    ],
)
def test_test_button_succeeds_against_the_sandbox(api, sandbox_server, conn_id, expected):
    sandbox_server.reset()
    ok, message = _press_test(api, _test_body(sandbox_server, conn_id))
    assert ok is True, message
    assert message.startswith(expected.format(url=sandbox_server.url))
    assert sandbox_server.request_count() == 1  # one cheap call


@pytest.mark.parametrize(
    ("conn_id", "reason"),
    [
        ("nxcloud_default", "code 1003: invalid signature"),
        ("alibaba_cams_default", "code SignatureDoesNotMatch"),
    ],
)
def test_test_button_reports_a_wrong_secret(api, sandbox_server, conn_id, reason):
    ok, message = _press_test(api, _test_body(sandbox_server, conn_id, password="not-the-secret"))
    assert ok is False
    assert reason in message
    assert "Retrying will not help" in message
    assert "not-the-secret" not in message


@pytest.mark.parametrize(
    ("conn_id", "service"),
    [("nxcloud_default", "NxCloud getPhone"), ("alibaba_cams_default", "Alibaba Cloud CAMS")],
)
def test_test_button_reports_an_unreachable_host(api, sandbox_server, conn_id, service):
    host = f"http://127.0.0.1:{_closed_port()}"
    ok, message = _press_test(api, _test_body(sandbox_server, conn_id, host=host))
    assert ok is False
    assert message.startswith(service)
    assert f"no answer from {host}" in message


@pytest.mark.parametrize(
    ("conn_id", "missing", "reason"),
    [
        ("nxcloud_default", "login", "field login: the NxCloud access key is empty"),
        ("nxcloud_default", "password", "field password: the NxCloud access secret is empty"),
        ("alibaba_cams_default", "login", "field login: the AccessKey ID is empty"),
        ("alibaba_cams_default", "password", "field password: the AccessKey secret is empty"),
    ],
)
def test_test_button_names_a_missing_field(api, sandbox_server, conn_id, missing, reason):
    sandbox_server.clear_requests()
    ok, message = _press_test(api, _test_body(sandbox_server, conn_id, **{missing: None}))
    assert ok is False
    assert reason in message
    assert sandbox_server.request_count() == 0  # refused before any request


def test_test_button_is_refused_while_testing_is_disabled(api, sandbox_server, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", "Disabled")
    response = api.post("/api/v2/connections/test", json=_test_body(sandbox_server, "nxcloud_default"))
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]


# -- the hooks' test_connection directly ---------------------------------------------------------------

HOOKS = {
    "nxcloud_default": lambda: NxCloudHook(retry_policy=NO_RETRY),
    "alibaba_cams_default": lambda: CamsHook(retry_policy=NO_RETRY),
}


def _set_conn(monkeypatch, sandbox, conn_id: str, **changes) -> None:
    conn = {
        name: value for name, value in (sandbox.connections()[conn_id] | changes).items() if value is not None
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


@pytest.mark.parametrize("conn_id", sorted(HOOKS))
def test_hook_test_connection_makes_one_signed_call(sandbox, conn_id):
    ok, message = HOOKS[conn_id]().test_connection()
    assert ok is True, message
    assert sandbox.url in message
    assert sandbox.request_count() == 1


@pytest.mark.parametrize("conn_id", sorted(HOOKS))
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"password": "not-the-secret"}, "Retrying will not help"),
        ({"host": "closed"}, "no answer from http://127.0.0.1:"),
        ({"login": None}, "field login:"),
        ({"password": None}, "field password:"),
        ({"login": ""}, "field login:"),
    ],
    ids=["wrong-secret", "unreachable", "no-login", "no-password", "empty-login"],
)
def test_hook_test_connection_returns_false_with_the_reason(monkeypatch, sandbox, conn_id, changes, reason):
    if changes.get("host") == "closed":
        changes = {"host": f"http://127.0.0.1:{_closed_port()}"}
    _set_conn(monkeypatch, sandbox, conn_id, **changes)
    result = HOOKS[conn_id]().test_connection()  # must not raise
    assert isinstance(result, tuple)
    ok, message = result
    assert ok is False
    assert reason in message
    assert "not-the-secret" not in message


@pytest.mark.parametrize("conn_id", sorted(HOOKS))
def test_hook_test_connection_explains_an_extra_that_is_not_an_object(monkeypatch, sandbox, conn_id):
    _set_conn(monkeypatch, sandbox, conn_id, extra=["appkey"])
    ok, message = HOOKS[conn_id]().test_connection()
    assert ok is False
    assert "extra" in message


@pytest.mark.parametrize("conn_id", sorted(HOOKS))
def test_hook_test_connection_explains_a_connection_that_does_not_exist(monkeypatch, sandbox, conn_id):
    monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id.upper()}")
    ok, message = HOOKS[conn_id]().test_connection()
    assert ok is False
    assert conn_id in message
