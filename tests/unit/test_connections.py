"""connections.py with plain data: an Airflow connection (any object with its fields) in, settings
or a ConnectionConfigError naming the field out; no credential in any message; no auth objects."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_wa_phones import connections
from airflow_provider_wa_phones.connections import CamsSettings, NxCloudSettings
from airflow_provider_wa_phones.exceptions import ConnectionConfigError
from airflow_provider_wa_phones.operations import cams, nxcloud

SECRET = "Sup3r-s3cret-value"


def conn(**fields: Any) -> SimpleNamespace:
    values = {"conn_id": "c", "host": None, "schema": None, "port": None, "login": "key", "password": SECRET}
    return SimpleNamespace(**{**values, "extra": None, **fields})


def test_an_nxcloud_connection_with_only_its_credentials_gets_the_defaults() -> None:
    settings = NxCloudSettings.from_connection(conn())
    assert settings == NxCloudSettings(
        conn_id="c", base_url=nxcloud.DEFAULT_HOST, key="key", secret=SECRET, appkey=None, algorithm="md5"
    )
    assert settings.secrets == (SECRET,)
    assert SECRET not in repr(settings)
    assert not hasattr(settings, "auth")  # the hooks build the signing (auth.for_settings)


def test_nxcloud_extras_are_read_under_their_own_and_their_older_names() -> None:
    extra = '{"extra__nxcloud__appkey": "app-9", "sign_algorithm": "SHA256", "max_answer_bytes": "65536"}'
    settings = NxCloudSettings.from_connection(conn(extra=extra))
    assert (settings.appkey, settings.algorithm, settings.max_answer_bytes) == ("app-9", "sha256", 65536)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"extra": "{not json"}, "extra"),
        ({"extra": '{"sign_algorithm": "sha1"}'}, "sign_algorithm"),
        ({"extra": '{"appkey": "two words"}'}, "appkey"),
        ({"extra": '{"max_answer_bytes": 10}'}, "max_answer_bytes"),
        ({"password": ""}, "password"),
        ({"password": SECRET + "\n"}, "password"),
        ({"host": f"https://user:{SECRET}@example.com"}, "host"),
        ({"host": "https://example.com/path"}, "host"),
        ({"host": "example.com", "schema": "ftp"}, "schema"),
        ({"host": "example.com", "port": 70000}, "port"),
    ],
)
def test_a_bad_field_is_named_and_no_credential_is_shown(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        NxCloudSettings.from_connection(conn(**fields))
    assert caught.value.field == field
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        ("example.com", None, None, "https://example.com"),
        ("example.com", "http", 8080, "http://example.com:8080"),
        ("HTTP://127.0.0.1:5000/", None, 9, "http://127.0.0.1:5000"),
        ("", None, None, "https://default.example"),
    ],
)
def test_the_base_url_is_scheme_host_and_port(host: str, schema: Any, port: Any, expected: str) -> None:
    assert (
        connections.base_url(conn(host=host, schema=schema, port=port), "https://default.example") == expected
    )


def test_a_cams_connection_gets_its_region_s_endpoint_and_keeps_its_token_secret() -> None:
    extra = '{"region": "cn-hangzhou", "security_token": "sts-token-1", "cust_space_id": "space-1"}'
    settings = CamsSettings.from_connection(conn(extra=extra))
    assert settings.base_url == cams.endpoint_for("cn-hangzhou") == "https://cams.cn-hangzhou.aliyuncs.com"
    assert settings.secrets == (SECRET, "sts-token-1")
    assert settings.cust_space_id == "space-1"
    assert "sts-token-1" not in repr(settings)


def test_cams_credentials_may_come_from_the_alibaba_cloud_extras() -> None:
    extra = f'{{"access_key_id": "id-1", "access_key_secret": "{SECRET}"}}'
    settings = CamsSettings.from_connection(conn(login=None, password=None, extra=extra))
    assert (settings.key, settings.secret, settings.region) == ("id-1", SECRET, cams.DEFAULT_REGION)


def test_a_connection_no_backend_defines_says_where_to_define_it() -> None:
    class AirflowNotFoundException(Exception):
        pass

    missing = pytest.raises(ConnectionConfigError, match="Admin > Connections")
    with missing as caught, connections.defined("nxcloud_conn_id", "missing"):
        raise AirflowNotFoundException("missing")
    assert caught.value.field == "nxcloud_conn_id"
