"""An ``alibaba_cams`` connection's ``auth_type`` and the fields each mode needs: every mode read,
every bad field refused by name and rule before anything is fetched, environment defaults read when
the connection is read."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_wa_phones.connections import CamsSettings
from airflow_provider_wa_phones.exceptions import ConnectionConfigError
from airflow_provider_wa_phones.services import AUTH_TYPES

ROLE = "acs:ram::1234567890123456:role/cams-reader"
PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack-rrsa"


def conn(extra: dict[str, Any] | None = None, **fields: Any) -> SimpleNamespace:
    values = {"conn_id": "c", "host": None, "schema": None, "port": None, "login": None, "password": None}
    return SimpleNamespace(**{**values, "extra": json.dumps(extra or {}), **fields})


def read(extra: dict[str, Any] | None = None, **fields: Any) -> CamsSettings:
    return CamsSettings.from_connection(conn(extra, **fields))


def test_stored_keys_are_access_key_mode_as_before() -> None:
    settings = read({"security_token": "tok-value"}, login="LTAIk", password="s3cret-value")
    assert (settings.auth_type, settings.key, settings.security_token) == ("access_key", "LTAIk", "tok-value")
    assert settings.identity == "AccessKey LTAIk"


def test_no_login_no_password_no_auth_type_is_the_default_chain() -> None:
    settings = read()
    assert settings.auth_type == "default"
    assert settings.identity == "Alibaba Cloud's default credential chain"
    assert settings.secrets == ("", "")


def test_ram_role_arn_with_source_keys_and_every_option() -> None:
    extra = {
        "auth_type": "ram_role_arn", "role_arn": ROLE, "role_session_name": "airflow-cams",
        "external_id": "ext-1234", "policy": {"Version": "1", "Statement": []}, "duration_seconds": "7200",
        "sts_region": "ap-southeast-1", "sts_endpoint": "127.0.0.1:8443", "enable_vpc": "true",
        "security_token": "source-token",
    }  # fmt: skip
    settings = read(extra, login="LTAIsource", password="source-secret")
    assert settings.auth_type == "ram_role_arn"
    assert (settings.key, settings.secret, settings.security_token) == (
        "LTAIsource",
        "source-secret",
        "source-token",
    )
    assert settings.role_arn == ROLE and settings.role_session_name == "airflow-cams"
    assert settings.external_id == "ext-1234" and json.loads(settings.policy or "") == {
        "Version": "1",
        "Statement": [],
    }
    assert settings.duration_seconds == 7200
    assert (settings.sts_region, settings.sts_endpoint, settings.enable_vpc) == (
        "ap-southeast-1",
        "127.0.0.1:8443",
        True,
    )
    assert settings.identity == f"role {ROLE}"
    assert "source-secret" not in repr(settings) and "source-token" not in repr(settings)


def test_ram_role_arn_without_keys_assumes_the_role_with_the_default_chain() -> None:
    settings = read({"auth_type": "ram_role_arn", "role_arn": ROLE})
    assert (settings.key, settings.secret, settings.duration_seconds) == ("", "", 3600)


def test_oidc_role_arn_fields_default_to_the_environment_read_when_the_connection_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", ROLE)
    monkeypatch.setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", PROVIDER)
    monkeypatch.setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/secrets/tokens/oidc-token")
    settings = read({"auth_type": "oidc_role_arn"})
    assert (settings.role_arn, settings.oidc_provider_arn, settings.oidc_token_file) == (
        ROLE,
        PROVIDER,
        "/var/run/secrets/tokens/oidc-token",
    )
    own = read({"auth_type": "oidc_role_arn", "role_arn": ROLE + "2", "oidc_token_file": "/t"})
    assert (own.role_arn, own.oidc_token_file) == (ROLE + "2", "/t")
    assert own.identity == f"role {ROLE}2 via OIDC provider {PROVIDER}"


def test_ecs_uri_and_default_modes() -> None:
    ecs = read({"auth_type": "ecs_ram_role", "role_name": "EcsCamsRole"})
    assert (ecs.role_name, ecs.identity) == ("EcsCamsRole", "ECS RAM role EcsCamsRole")
    assert read({"auth_type": "ecs_ram_role"}).identity == "the ECS instance's RAM role"
    uri = read(
        {"auth_type": "credentials_uri", "credentials_uri": "http://127.0.0.1:9000/creds?token=abcd1234"}
    )
    assert uri.identity == "credentials URI http://127.0.0.1:9000/creds"  # never the query
    assert "token=abcd1234" in uri.secrets
    assert read({"auth_type": "default"}, login="LTAIignored").auth_type == "default"


def test_fields_a_mode_does_not_use_are_checked_but_not_kept() -> None:
    settings = read({"auth_type": "ecs_ram_role", "role_arn": ROLE, "sts_endpoint": "sts.example.com"})
    assert settings.role_arn is None and settings.sts_endpoint is None


BAD = [
    ({"auth_type": "assume_role"}, "auth_type", "must be one of access_key"),
    ({"auth_type": 3}, "auth_type", "must be one of"),
    ({"auth_type": "ram_role_arn"}, "role_arn", "is required for auth_type ram_role_arn"),
    (
        {"auth_type": "ram_role_arn", "role_arn": "arn:aws:iam::1:role/x"},
        "role_arn",
        "acs:ram::<account id>:role/",
    ),
    ({"role_arn": "acs:ram::12a:role/x", "auth_type": "ram_role_arn"}, "role_arn", "must be an ARN"),
    (
        {"auth_type": "oidc_role_arn", "role_arn": ROLE},
        "oidc_provider_arn",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    ),
    (
        {"auth_type": "oidc_role_arn", "role_arn": ROLE, "oidc_provider_arn": ROLE},
        "oidc_provider_arn",
        "oidc-provider/",
    ),
    (
        {"auth_type": "oidc_role_arn", "role_arn": ROLE, "oidc_provider_arn": PROVIDER},
        "oidc_token_file",
        "is required",
    ),
    ({"auth_type": "oidc_role_arn", "oidc_token_file": "a\nb"}, "oidc_token_file", "file path"),
    ({"duration_seconds": 899}, "duration_seconds", "between 900 and 43200"),
    ({"duration_seconds": 43201}, "duration_seconds", "between 900 and 43200"),
    ({"duration_seconds": True}, "duration_seconds", "whole number"),
    ({"duration_seconds": 3600.0}, "duration_seconds", "whole number"),
    ({"role_session_name": "a"}, "role_session_name", "2 to 64"),
    ({"role_session_name": "bad name"}, "role_session_name", "2 to 64"),
    ({"external_id": "x"}, "external_id", "2 to 1224"),
    ({"policy": "not json"}, "policy", "JSON policy object"),
    ({"policy": "[1]"}, "policy", "JSON policy object"),
    ({"policy": {"x": "y" * 2000}}, "policy", "at most 1024"),
    ({"role_name": "bad role"}, "role_name", "RAM role name"),
    ({"auth_type": "credentials_uri"}, "credentials_uri", "is required"),
    ({"credentials_uri": "ftp://h/x"}, "credentials_uri", "http(s) URL"),
    ({"credentials_uri": "http://u:p@h/x"}, "credentials_uri", "user:password@"),
    ({"credentials_uri": "http://h/x#frag"}, "credentials_uri", "http(s) URL"),
    ({"sts_region": "Not A Region"}, "sts_region", "region id"),
    ({"sts_endpoint": "https://sts.aliyuncs.com"}, "sts_endpoint", "without a scheme"),
    ({"sts_endpoint": "sts.aliyuncs.com:0"}, "sts_endpoint", "host:port"),
    ({"sts_endpoint": "sts.aliyuncs.com:99999"}, "sts_endpoint", "host:port"),
    ({"enable_vpc": "maybe"}, "enable_vpc", "true or false"),
    ({"enable_vpc": 1}, "enable_vpc", "true or false"),
]


@pytest.mark.parametrize(("extra", "field", "rule"), BAD, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD)])
def test_a_bad_field_is_refused_by_name_and_rule(extra: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(ConnectionConfigError) as caught:
        read(extra)
    assert caught.value.field.split(" ")[0] == field
    assert rule in caught.value.rule
    assert len(str(caught.value)) <= 400


def test_a_bad_environment_default_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", "not-an-arn")
    with pytest.raises(ConnectionConfigError, match=r"role_arn \(from ALIBABA_CLOUD_ROLE_ARN\)"):
        read({"auth_type": "oidc_role_arn"})


def test_ram_role_arn_with_half_a_key_pair_names_the_missing_half() -> None:
    with pytest.raises(ConnectionConfigError, match="field password"):
        read({"auth_type": "ram_role_arn", "role_arn": ROLE}, login="LTAIsource")


def test_the_provider_info_offers_every_mode() -> None:
    from airflow_provider_wa_phones.get_provider_info import get_provider_info

    (cams,) = [t for t in get_provider_info()["connection-types"] if t["connection-type"] == "alibaba_cams"]
    assert cams["conn-fields"]["auth_type"]["schema"]["enum"] == list(AUTH_TYPES)
    for name in (
        "role_arn",
        "oidc_provider_arn",
        "oidc_token_file",
        "role_name",
        "credentials_uri",
        "sts_endpoint",
    ):
        description = cams["conn-fields"][name]["description"]
        assert any(mode in description for mode in AUTH_TYPES), name


def test_a_policy_is_sent_without_a_single_space() -> None:
    """The credentials library signs a space as '+' where the RPC signature wants '%20'
    (tests/integration/test_keyless_modes.py shows STS refusing it): no space may reach it."""
    from airflow_provider_wa_phones.connections import _policy

    written = (
        '{\n  "Version": "1",\n  "Statement": [{"Effect": "Allow", "Resource": "acs:cams:*:*:my space"}]\n}'
    )
    sent = _policy("alibaba_cams_default", written)
    assert " " not in sent and "\n" not in sent
    assert json.loads(sent) == json.loads(written)
