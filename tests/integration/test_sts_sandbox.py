"""The official ``alibabacloud-credentials`` providers against the sandbox's STS (TLS), credentials URI
and ECS metadata service, then CAMS called through the official CAMS SDK with the keys they got.

Everything goes through the library as a deployment runs it: its own signing, its own HTTP clients
(requests for ``get_credentials``, aiohttp for ``get_credentials_async``), its own TLS context,
which trusts the sandbox's test CA because ``SSL_CERT_FILE`` points at it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_cams20200606 import models
from alibabacloud_cams20200606.client import Client
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_credentials.provider import (
    EcsRamRoleCredentialsProvider,
    OIDCRoleArnCredentialsProvider,
    RamRoleArnCredentialsProvider,
    URLCredentialsProvider,
)
from alibabacloud_credentials.provider.refreshable import Credentials
from alibabacloud_credentials.utils import auth_util
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.policy.retry import RetryOptions
from Tea.core import TeaCore

from airflow_provider_wa_phones.sandbox import SandboxServer, data
from airflow_provider_wa_phones.sandbox.sts.auth import rpc_params, rpc_signature, string_to_sign

pytestmark = pytest.mark.integration

LIFETIME = 60  # seconds every handed-out key lives in these tests (the library refreshes each call)


@pytest.fixture(scope="module")
def sts_server() -> Iterator[SandboxServer]:
    with SandboxServer(time_scale=0, sts=True, cams_rate_limit=None) as server:
        yield server


@pytest.fixture
def sb(sts_server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """The STS sandbox, fresh, keys living LIFETIME s, its CA trusted by the library."""
    sts_server.reset()
    sts_server.sts_lifetime = LIFETIME
    monkeypatch.setenv("SSL_CERT_FILE", sts_server.ca_file)
    return sts_server


def ram_role(sb: SandboxServer, **fields: Any) -> RamRoleArnCredentialsProvider:
    arguments: dict[str, Any] = {
        "access_key_id": data.CAMS_ACCESS_KEY_ID,
        "access_key_secret": data.CAMS_ACCESS_KEY_SECRET,
        "role_arn": data.STS_ROLE_ARN,
        "role_session_name": "airflow-test",
        "sts_endpoint": sb.sts_endpoint,
        **fields,
    }
    return RamRoleArnCredentialsProvider(**arguments)


def oidc_role(sb: SandboxServer, token_file: Path, **fields: Any) -> OIDCRoleArnCredentialsProvider:
    arguments: dict[str, Any] = {
        "role_arn": data.STS_OIDC_ROLE_ARN,
        "oidc_provider_arn": data.STS_OIDC_PROVIDER_ARN,
        "oidc_token_file_path": str(token_file),
        "role_session_name": "airflow-rrsa",
        "sts_endpoint": sb.sts_endpoint,
        **fields,
    }
    return OIDCRoleArnCredentialsProvider(**arguments)


def ecs_role(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch, **fields: Any
) -> EcsRamRoleCredentialsProvider:
    # The suite disables the metadata service (tests/conftest.py); this provider is allowed, and sent here.
    monkeypatch.setattr(auth_util, "environment_ecs_metadata_disabled", "false")
    provider = EcsRamRoleCredentialsProvider(async_update_enabled=False, **fields)
    provider._EcsRamRoleCredentialsProvider__metadata_service_host = sb.ecs_metadata_host  # type: ignore[attr-defined]
    return provider


def both(provider: Any) -> list[Credentials]:
    """Credentials from the sync getter, then from the async one."""
    return [provider.get_credentials(), asyncio.run(provider.get_credentials_async())]


def cams_client(sb: SandboxServer, key_id: str, secret: str, token: str | None) -> Client:
    return Client(
        Config(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            region_id=data.CAMS_REGION,
            endpoint=f"127.0.0.1:{sb.port}",
            protocol="http",
            retry_options=RetryOptions({"retryable": False}),
            connect_timeout=2000,
            read_timeout=5000,
        )
    )


def list_phones(sb: SandboxServer, credentials: Credentials) -> list[str]:
    client = cams_client(
        sb,
        credentials.get_access_key_id(),
        credentials.get_access_key_secret(),
        credentials.get_security_token(),
    )
    request = models.QueryChatappPhoneNumbersRequest(cust_space_id=data.CAMS_SPACE_ID)
    return [phone.phone_number for phone in client.query_chatapp_phone_numbers(request).body.phone_numbers]


def cams_refusal(sb: SandboxServer, key_id: str, secret: str, token: str | None) -> tuple[int, str]:
    client = cams_client(sb, key_id, secret, token)
    with pytest.raises(ClientException) as raised:
        client.query_chatapp_phone_numbers(models.QueryChatappPhoneNumbersRequest())
    return raised.value.status_code, raised.value.code


def refusal(call: Any) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body the library quotes in its CredentialException."""
    with pytest.raises(CredentialException) as raised:
        call()
    message = raised.value.message
    status = int(message.split("http_code: ")[1].split(",")[0])
    return status, json.loads(message.split("result: ", 1)[1])


def sts_get(sb: SandboxServer, **params: str) -> requests.Response:
    return requests.get(f"https://{sb.sts_endpoint}/", params=params, verify=sb.ca_file, timeout=10)


# --- AssumeRole --------------------------------------------------------------------------------------


def test_assume_role_sync_and_async_gives_keys_cams_accepts(sb: SandboxServer) -> None:
    provider = ram_role(sb)
    before = sb.state.clock.wall_time()
    for credentials in both(provider):
        assert credentials.get_access_key_id().startswith("STS.")
        assert credentials.get_provider_name() == "ram_role_arn/static_ak"
        # Expiration is truthful on the sandbox's clock (whole seconds, LIFETIME after the call).
        assert before + LIFETIME - 1 <= credentials.get_expiration() <= before + LIFETIME + 5
        assert list_phones(sb, credentials)[:1] == ["8613900001111"]
    # With a lifetime under the library's 15-minute margin, each call is a refresh.
    assert sb.request_count(action="AssumeRole") == 2
    first, _ = sb.requests(action="AssumeRole")
    assert (first.status, first.method, first.path) == (200, "GET", "/")
    params = rpc_params(first.query)
    assert params["RoleArn"] == data.STS_ROLE_ARN
    assert (params["Format"], params["Version"], params["SignatureMethod"]) == (
        "JSON",
        "2015-04-01",
        "HMAC-SHA1",
    )


def test_the_sandbox_signature_matches_the_library_on_its_real_requests(sb: SandboxServer) -> None:
    policy = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["cams:*"],"Resource":["*"]}]}'
    ram_role(sb, policy=policy, external_id="abc-123~x").get_credentials()
    (sent,) = sb.requests(action="AssumeRole")
    params = rpc_params(sent.query)
    assert params["Policy"] == policy and params["ExternalId"] == "abc-123~x"
    assert rpc_signature(data.CAMS_ACCESS_KEY_SECRET, string_to_sign("GET", params)) == params["Signature"]


def test_chained_assume_role_with_a_security_token(sb: SandboxServer) -> None:
    first = ram_role(sb).get_credentials()
    chained = ram_role(
        sb,
        access_key_id=first.get_access_key_id(),
        access_key_secret=first.get_access_key_secret(),
        security_token=first.get_security_token(),
    )
    for credentials in both(chained):
        assert credentials.get_provider_name() == "ram_role_arn/static_sts"
        assert credentials.get_access_key_id() != first.get_access_key_id()
        assert list_phones(sb, credentials)
    assert "SecurityToken" in rpc_params(sb.requests(action="AssumeRole")[1].query)


def test_keys_expire_on_the_sandbox_wall_clock(sb: SandboxServer) -> None:
    credentials = ram_role(sb).get_credentials()
    assert list_phones(sb, credentials)
    sb.set_clock_offset(LIFETIME - 5)
    assert list_phones(sb, credentials)
    sb.set_clock_offset(LIFETIME + 1)
    key = (credentials.get_access_key_id(), credentials.get_access_key_secret())
    assert cams_refusal(sb, *key, credentials.get_security_token()) == (400, "InvalidSecurityToken.Expired")
    # The provider refreshes (its copy is stale long before) and the new keys work again.
    assert list_phones(sb, ram_role(sb).get_credentials())


def test_cams_refuses_a_token_of_another_key_and_a_garbled_one(sb: SandboxServer) -> None:
    one, other = both(ram_role(sb))
    key = (one.get_access_key_id(), one.get_access_key_secret())
    assert cams_refusal(sb, *key, other.get_security_token()) == (
        400,
        "InvalidSecurityToken.MismatchWithAccessKey",
    )
    assert cams_refusal(sb, *key, "not a token!") == (400, "InvalidSecurityToken.Malformed")


def test_lifetime_control_endpoint_and_duration_still_validated(sb: SandboxServer) -> None:
    answer = requests.post(f"{sb.url}/_sandbox/sts/lifetime", json={"seconds": 1200}, timeout=10).json()
    assert answer["lifetime"] == 1200
    before = sb.state.clock.wall_time()
    credentials = ram_role(sb, duration_seconds=900).get_credentials()
    assert before + 1199 <= credentials.get_expiration() <= before + 1205
    requests.post(f"{sb.url}/_sandbox/sts/lifetime", json={"seconds": None}, timeout=10)
    credentials = ram_role(sb, duration_seconds=1800).get_credentials()
    assert before + 1799 <= credentials.get_expiration() <= before + 1805
    status, body = refusal(ram_role(sb, duration_seconds=7200).get_credentials)
    assert (status, body["Code"]) == (400, "InvalidParameter.DurationSeconds")


# --- AssumeRole: published errors --------------------------------------------------------------------


def test_unknown_role(sb: SandboxServer) -> None:
    status, body = refusal(ram_role(sb, role_arn=data.STS_UNKNOWN_ROLE_ARN).get_credentials)
    assert (status, body["Code"]) == (404, "EntityNotExist.Role")
    assert data.STS_UNKNOWN_ROLE_ARN in body["Message"]
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_a_role_that_does_not_trust_the_account(sb: SandboxServer) -> None:
    status, body = refusal(ram_role(sb, role_arn=data.STS_OIDC_ROLE_ARN).get_credentials)
    assert (status, body["Code"]) == (403, "NoPermission")


def test_a_wrong_signature_is_refused(sb: SandboxServer) -> None:
    for call in (
        ram_role(sb, access_key_secret="not-the-secret").get_credentials,
        lambda: asyncio.run(ram_role(sb, access_key_secret="not-the-secret").get_credentials_async()),
    ):
        status, body = refusal(call)
        assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
        assert "GET&%2F&AccessKeyId%3D" in body["Message"]


def test_unknown_inactive_and_expired_source_keys(sb: SandboxServer) -> None:
    unknown = ram_role(sb, access_key_id="LTAI5tNoSuchKey").get_credentials
    assert refusal(unknown)[0] == 404 and refusal(unknown)[1]["Code"] == "InvalidAccessKeyId.NotFound"
    inactive = ram_role(
        sb,
        access_key_id=data.CAMS_INACTIVE_ACCESS_KEY_ID,
        access_key_secret=data.CAMS_INACTIVE_ACCESS_KEY_SECRET,
    )
    assert refusal(inactive.get_credentials)[1]["Code"] == "InvalidAccessKeyId.Inactive"
    expired = ram_role(
        sb,
        access_key_id=data.CAMS_EXPIRED_STS_ACCESS_KEY_ID,
        access_key_secret=data.CAMS_EXPIRED_STS_ACCESS_KEY_SECRET,
        security_token=data.CAMS_EXPIRED_STS_SECURITY_TOKEN,
    )
    assert refusal(expired.get_credentials)[0:1] == (400,)
    assert refusal(expired.get_credentials)[1]["Code"] == "InvalidSecurityToken.Expired"
    # An STS key the sandbox handed out, used as a source after it expired.
    first = ram_role(sb).get_credentials()
    sb.set_clock_offset(LIFETIME + 1)
    chained = ram_role(
        sb,
        access_key_id=first.get_access_key_id(),
        access_key_secret=first.get_access_key_secret(),
        security_token=first.get_security_token(),
    )
    assert refusal(chained.get_credentials)[1]["Code"] == "InvalidSecurityToken.Expired"
    without_token = ram_role(
        sb, access_key_id=first.get_access_key_id(), access_key_secret=first.get_access_key_secret()
    )
    assert refusal(without_token.get_credentials)[1]["Code"] == "MissingSecurityToken"


def test_unsigned_and_unknown_requests(sb: SandboxServer) -> None:
    answer = sts_get(sb, Action="AssumeRole", Version="2015-04-01", RoleArn=data.STS_ROLE_ARN)
    assert (answer.status_code, answer.json()["Code"]) == (400, "IncompleteSignature")
    answer = sts_get(sb, Action="GetCallerIdentity", Version="2015-04-01")
    assert (answer.status_code, answer.json()["Code"]) == (404, "InvalidAction.NotFound")


# --- AssumeRoleWithOIDC ------------------------------------------------------------------------------


def test_oidc_sync_and_async_and_token_rotation(sb: SandboxServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(sb.issue_oidc_token(lifetime=120))
    provider = oidc_role(sb, token_file)
    for credentials in both(provider):
        assert credentials.get_provider_name() == "oidc_role_arn"
        assert list_phones(sb, credentials)
    (sent, _) = sb.requests(action="AssumeRoleWithOIDC")
    assert "Signature" not in rpc_params(sent.query)
    # The token expires: the next refresh is refused, until the file holds a fresh token.
    sb.set_clock_offset(121)
    status, body = refusal(provider.get_credentials)
    assert (status, body["Code"], body["Message"]) == (
        400,
        "AuthenticationFail.OIDCToken.Expired",
        "This JsonWebToken is expired.",
    )
    token_file.write_text(sb.issue_oidc_token(lifetime=120))
    assert list_phones(sb, provider.get_credentials())


def test_oidc_answer_carries_the_token_info(sb: SandboxServer) -> None:
    token = requests.post(f"{sb.url}/_sandbox/sts/oidc-token", json={"lifetime": 600}, timeout=10).json()
    answer = sts_get(
        sb,
        Action="AssumeRoleWithOIDC",
        Format="JSON",
        Version="2015-04-01",
        DurationSeconds="900",
        RoleArn=data.STS_OIDC_ROLE_ARN,
        OIDCProviderArn=data.STS_OIDC_PROVIDER_ARN,
        OIDCToken=token["token"],
        RoleSessionName="direct",
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"RequestId", "AssumedRoleUser", "Credentials", "OIDCTokenInfo", "SourceIdentity"}
    assert body["AssumedRoleUser"]["Arn"] == (
        f"acs:ram::{data.STS_ACCOUNT_ID}:assumed-role/{data.STS_OIDC_ROLE_NAME}/direct"
    )
    assert set(body["Credentials"]) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}
    info = body["OIDCTokenInfo"]
    assert (info["Issuer"], info["Subject"], info["ExpirationTime"]) == (
        data.STS_OIDC_ISSUER,
        data.STS_OIDC_SUBJECT,
        token["expiration"],
    )


@pytest.mark.parametrize(
    ("fields", "token", "status", "code"),
    [
        ({}, "garbage", 400, "AuthenticationFail.OIDCToken.Invalid"),
        (
            {"oidc_provider_arn": data.STS_UNKNOWN_OIDC_PROVIDER_ARN},
            None,
            400,
            "AuthenticationFail.NoPermission",
        ),
        ({"role_arn": data.STS_UNKNOWN_ROLE_ARN}, None, 404, "EntityNotExist.Role"),
        ({"role_arn": data.STS_ROLE_ARN}, None, 400, "AuthenticationFail.NoPermission"),
        ({"role_session_name": "x"}, None, 400, "InvalidParameter.RoleSessionName"),
    ],
)
def test_oidc_errors(
    sb: SandboxServer, tmp_path: Path, fields: dict[str, str], token: str | None, status: int, code: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(token or sb.issue_oidc_token())
    assert refusal(oidc_role(sb, token_file, **fields).get_credentials)[0:1] == (status,)
    assert refusal(oidc_role(sb, token_file, **fields).get_credentials)[1]["Code"] == code


def test_a_token_of_another_issuer_is_refused(sb: SandboxServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(sb.issue_oidc_token(provider_arn=data.STS_UNKNOWN_OIDC_PROVIDER_ARN))
    assert refusal(oidc_role(sb, token_file).get_credentials)[1]["Code"] == (
        "AuthenticationFail.OIDCToken.IssuerNotMatch"
    )


# --- outage and counts -------------------------------------------------------------------------------


def test_sts_down_at_refresh_time_then_back(sb: SandboxServer) -> None:
    provider = ram_role(sb)
    assert provider.get_credentials()
    sb.set_sts_outage(True, "sts")
    status, body = refusal(provider.get_credentials)
    assert (status, body["Code"]) == (503, "ServiceUnavailable")
    with pytest.raises(CredentialException, match="http_code: 503"):
        asyncio.run(provider.get_credentials_async())
    answer = requests.post(f"{sb.url}/_sandbox/sts/outage", json={"down": False}, timeout=10).json()
    assert answer["down"] == []
    assert list_phones(sb, provider.get_credentials())
    statuses = [request.status for request in sb.requests(action="AssumeRole")]
    assert statuses == [200, 503, 503, 200]


# --- credentials URI ---------------------------------------------------------------------------------


def test_credentials_uri_sync_and_async(sb: SandboxServer) -> None:
    provider = URLCredentialsProvider(uri=sb.credentials_uri(role=data.STS_URI_ROLE_NAMES[0]))
    for credentials in both(provider):
        assert credentials.get_provider_name() == "credential_uri"
        assert list_phones(sb, credentials)
    assert sb.request_count(path="/credentials-uri") == 2
    body = requests.get(sb.credentials_uri(), timeout=10).json()
    assert set(body) == {
        "Code",
        "AccessKeyId",
        "AccessKeySecret",
        "SecurityToken",
        "Expiration",
        "LastUpdated",
    }
    assert body["Code"] == "Success"


def test_credentials_uri_unknown_role_and_outage(sb: SandboxServer) -> None:
    with pytest.raises(CredentialException, match="http_code=404"):
        URLCredentialsProvider(uri=sb.credentials_uri(role="nobody")).get_credentials()
    sb.set_sts_outage(True, "credentials_uri")
    with pytest.raises(CredentialException, match="http_code=503"):
        URLCredentialsProvider(uri=sb.credentials_uri()).get_credentials()
    sb.set_sts_outage(False)
    assert URLCredentialsProvider(uri=sb.credentials_uri()).get_credentials()


# --- ECS instance metadata ---------------------------------------------------------------------------


def test_ecs_metadata_sync_and_async(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = ecs_role(sb, monkeypatch)
    for credentials in both(provider):
        assert credentials.get_provider_name() == "ecs_ram_role"
        assert list_phones(sb, credentials)
    token_puts = sb.requests(path="/latest/api/token")
    assert token_puts and all(put.method == "PUT" for put in token_puts)
    assert token_puts[0].headers["x-aliyun-ecs-metadata-token-ttl-seconds"] == "21600"
    listing = sb.requests(path="/latest/meta-data/ram/security-credentials/")
    assert listing and all("x-aliyun-ecs-metadata-token" in get.headers for get in listing)


def test_ecs_metadata_hardened_mode(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sb.ecs_metadata_hardened = True
    roles = f"http://{sb.ecs_metadata_host}/latest/meta-data/ram/security-credentials/"
    assert requests.get(roles, timeout=10).status_code == 401
    bad = requests.get(roles, headers={"X-aliyun-ecs-metadata-token": "forged"}, timeout=10)
    assert bad.status_code == 401
    token = requests.put(
        f"http://{sb.ecs_metadata_host}/latest/api/token",
        headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"},
        timeout=10,
    ).text
    good = requests.get(roles, headers={"X-aliyun-ecs-metadata-token": token}, timeout=10)
    assert (good.status_code, good.text) == (200, data.STS_ECS_ROLE_NAME)
    # The library, hardened itself, still gets its keys.
    provider = ecs_role(sb, monkeypatch, disable_imds_v1=True)
    assert list_phones(sb, provider.get_credentials())
    # A token expires on the sandbox's clock.
    sb.set_clock_offset(61)
    assert requests.get(roles, headers={"X-aliyun-ecs-metadata-token": token}, timeout=10).status_code == 401


def test_ecs_metadata_outage(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sb.set_sts_outage(True, ["ecs_metadata"])
    with pytest.raises(CredentialException, match="HttpCode=503"):
        ecs_role(sb, monkeypatch, role_name=data.STS_ECS_ROLE_NAME).get_credentials()


# --- TLS trust ---------------------------------------------------------------------------------------


def test_without_the_ca_the_library_refuses_the_sandbox(
    sts_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sts_server.reset()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    # The library keeps one requests session per endpoint, with the TLS context of its first call.
    monkeypatch.setattr(TeaCore, "_sessions", {})
    provider = ram_role(sts_server)
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        provider.get_credentials()
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        asyncio.run(provider.get_credentials_async())
    assert sts_server.request_count(action="AssumeRole") == 0
