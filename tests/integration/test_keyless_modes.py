"""Every credential mode of a CAMS connection, end to end: the hooks read the connection, the official
``alibabacloud-credentials`` library fetches keys from the sandbox's STS (over TLS, its test CA
trusted through ``SSL_CERT_FILE``), credentials URI or ECS metadata service, ``credentials.py``
keeps them fresh, and the sandbox's CAMS checks every signature and refuses expired keys.

What is counted is what the sandbox saw (its request log), not what the client says it did.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_credentials.utils import auth_util

from airflow_provider_wa_phones import credentials
from airflow_provider_wa_phones.exceptions import CredentialsUnavailableError
from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook
from airflow_provider_wa_phones.sandbox import SandboxServer, data

pytestmark = pytest.mark.integration

CONN_ENV = "AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"


@pytest.fixture(scope="module")
def sts_server() -> Iterator[SandboxServer]:
    with SandboxServer(time_scale=0, sts=True, cams_rate_limit=None) as server:
        yield server


@pytest.fixture
def sb(sts_server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """The sandbox with STS, fresh; the library trusts its CA; every key source forgotten."""
    sts_server.reset()
    sts_server.sts_lifetime = None
    sts_server.set_sts_outage(False)
    monkeypatch.setenv("SSL_CERT_FILE", sts_server.ca_file)
    credentials.forget_sources()
    yield sts_server
    sts_server.set_sts_outage(False)
    credentials.forget_sources()


def connect(
    monkeypatch: pytest.MonkeyPatch, sb: SandboxServer, login: str = "", password: str = "", **extra: Any
) -> None:
    cams = sb.connections()["alibaba_cams_default"]
    conn = {
        "conn_type": "alibaba_cams",
        "host": cams["host"],
        "login": login,
        "password": password,
        "extra": {"cust_space_id": data.CAMS_SPACE_ID, **extra},
    }
    monkeypatch.setenv(CONN_ENV, json.dumps(conn))


def sts_calls(sb: SandboxServer) -> int:
    return sb.request_count(action="AssumeRole") + sb.request_count(action="AssumeRoleWithOIDC")


def numbers_sync() -> int:
    hook = CamsHook(rate_limit=None)
    try:
        return len(hook.query_phone_numbers())
    finally:
        hook.close()


async def numbers_async() -> int:
    async with CamsAsyncHook(rate_limit=None) as hook:
        return len(await hook.query_phone_numbers())


def expect_temporary(sb: SandboxServer) -> None:
    """The CAMS calls the sandbox saw were all signed with keys its STS side handed out."""
    calls = sb.requests(action="QueryChatappPhoneNumbers")
    assert calls
    for call in calls:
        key_id = call.headers.get("authorization", "").split("Credential=")[1].split(",")[0]
        assert key_id.startswith("STS."), key_id
        assert call.headers.get("x-acs-security-token")


def test_ram_role_arn_assumes_the_role_with_the_connections_keys(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(
        monkeypatch, sb, data.CAMS_ACCESS_KEY_ID, data.CAMS_ACCESS_KEY_SECRET,
        auth_type="ram_role_arn", role_arn=data.STS_ROLE_ARN, role_session_name="airflow-test",
        sts_endpoint=sb.sts_endpoint,
    )  # fmt: skip
    assert numbers_sync() > 0
    assert asyncio.run(numbers_async()) > 0
    assert sb.request_count(action="AssumeRole") == 1  # one source per process, sync and async
    expect_temporary(sb)


def test_ram_role_arn_without_keys_takes_its_source_keys_from_the_default_chain(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The library reads the environment once, at import: what the variables would have said.
    monkeypatch.setattr(auth_util, "environment_access_key_id", data.CAMS_ACCESS_KEY_ID)
    monkeypatch.setattr(auth_util, "environment_access_key_secret", data.CAMS_ACCESS_KEY_SECRET)
    connect(
        monkeypatch, sb, auth_type="ram_role_arn", role_arn=data.STS_ROLE_ARN, sts_endpoint=sb.sts_endpoint
    )
    assert numbers_sync() > 0
    assert sb.request_count(action="AssumeRole") == 1
    expect_temporary(sb)


def test_oidc_role_arn_reads_ack_variables_and_a_rotated_token_file(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RRSA across three key lifetimes, the token file rotated under it: no call fails."""
    token_file = tmp_path / "token"
    # The first token dies before the second refresh: a client that did not read the file again
    # would be refused (AuthenticationFail.OIDCToken.Expired) from then on.
    token_file.write_text(sb.issue_oidc_token(lifetime=5))
    monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", data.STS_OIDC_ROLE_ARN)
    monkeypatch.setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", data.STS_OIDC_PROVIDER_ARN)
    monkeypatch.setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", str(token_file))
    connect(monkeypatch, sb, auth_type="oidc_role_arn", sts_endpoint=sb.sts_endpoint)
    sb.sts_lifetime = 3

    async def watch() -> tuple[int, int]:
        polls = rotated = 0
        deadline = time.monotonic() + 90
        async with CamsAsyncHook(rate_limit=None) as hook:
            while sb.request_count(action="AssumeRoleWithOIDC") < 4:  # the first keys and 3 more
                assert time.monotonic() < deadline, "no refresh across three lifetimes"
                assert await hook.query_phone_numbers()
                polls += 1
                if not rotated and sb.request_count(action="AssumeRoleWithOIDC") >= 2:
                    token_file.write_text(sb.issue_oidc_token(lifetime=3600))
                    rotated = polls
                await asyncio.sleep(0.2)  # a watcher's poke interval, shortened
        return polls, rotated

    polls, rotated = asyncio.run(watch())
    assert rotated and polls > rotated
    assert all(r.status == 200 for r in sb.requests(action="QueryChatappPhoneNumbers"))
    assert all(r.status == 200 for r in sb.requests(action="AssumeRoleWithOIDC"))
    expect_temporary(sb)


def test_credentials_uri_mode(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    connect(monkeypatch, sb, auth_type="credentials_uri", credentials_uri=sb.credentials_uri())
    assert numbers_sync() > 0
    assert sb.request_count(path="/credentials-uri") == 1
    expect_temporary(sb)


def test_ecs_ram_role_in_hardened_mode_through_the_metadata_seam(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_util, "environment_ecs_metadata_disabled", "false")
    monkeypatch.setenv(credentials.ECS_METADATA_HOST_ENV, sb.ecs_metadata_host)
    sb.ecs_metadata_hardened = True
    try:
        connect(monkeypatch, sb, auth_type="ecs_ram_role", role_name=data.STS_ECS_ROLE_NAME)
        assert numbers_sync() > 0
        assert sb.request_count(path="/latest/api/token"), "hardened mode asks for a metadata token first"
        assert (
            sb.request_count(path=f"/latest/meta-data/ram/security-credentials/{data.STS_ECS_ROLE_NAME}") == 1
        )
        expect_temporary(sb)
    finally:
        sb.ecs_metadata_hardened = False


def test_a_connection_without_keys_uses_the_default_chain(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The chain's last link, ALIBABA_CLOUD_CREDENTIALS_URI, as the library read it at import.
    monkeypatch.setattr(auth_util, "environment_credentials_uri", sb.credentials_uri())
    connect(monkeypatch, sb)
    ok, message = CamsHook(rate_limit=None).test_connection()
    assert ok, message
    assert "default" in message
    assert sb.request_count(path="/credentials-uri") >= 1
    expect_temporary(sb)


def test_sts_down_at_refresh_time_valid_keys_carry_on_then_a_typed_error_then_recovery(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(
        monkeypatch, sb, data.CAMS_ACCESS_KEY_ID, data.CAMS_ACCESS_KEY_SECRET,
        auth_type="ram_role_arn", role_arn=data.STS_ROLE_ARN, sts_endpoint=sb.sts_endpoint,
    )  # fmt: skip
    sb.sts_lifetime = 6
    hook = CamsHook(rate_limit=None)
    try:
        assert hook.query_phone_numbers()
        expires = hook.get_conn().auth.source.last.expiration
        assert expires is not None
        sb.set_sts_outage(True, "sts")
        # Until the keys expire, every call goes through on them, refreshes failing quietly.
        while time.time() < expires - 1:
            assert hook.query_phone_numbers()
        # Past expiry: a typed error that names the mode and the role, never a secret.
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the expired keys were still used"
            try:
                hook.query_phone_numbers()
            except CredentialsUnavailableError as exc:
                error = exc
                break
        text = str(error)
        assert "ram_role_arn" in text and data.STS_ROLE_ARN in text
        assert data.CAMS_ACCESS_KEY_SECRET not in text
        # Every CAMS call the sandbox saw was signed with keys still valid: none refused.
        assert all(r.status == 200 for r in sb.requests(action="QueryChatappPhoneNumbers"))
        sb.set_sts_outage(False)
        assert hook.query_phone_numbers()  # what a task retry does once STS answers again
    finally:
        hook.close()


def test_ram_role_arn_with_a_policy_written_with_spaces(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy as people write it (indented, spaces after colons) still signs: the library
    encodes a space as '+' where the RPC signature wants '%20', so it must not send any."""
    policy = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cams:Query*", "Resource": "*"}]}'
    connect(
        monkeypatch, sb, data.CAMS_ACCESS_KEY_ID, data.CAMS_ACCESS_KEY_SECRET,
        auth_type="ram_role_arn", role_arn=data.STS_ROLE_ARN, policy=policy, sts_endpoint=sb.sts_endpoint,
    )  # fmt: skip
    assert numbers_sync() > 0
    assert [r.status for r in sb.requests(action="AssumeRole")] == [200]


def test_a_deferred_sensors_trigger_polls_across_three_key_lifetimes_without_an_auth_failure(
    sb: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The trigger a deferrable CAMS sensor hands the triggerer, on RRSA keys living 3 s: it keeps
    polling (its number never reaches the awaited status on the still clock) through at least
    three refreshes, and never ends on an error event."""
    from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger

    token_file = tmp_path / "token"
    token_file.write_text(sb.issue_oidc_token(lifetime=3600))
    connect(
        monkeypatch, sb, auth_type="oidc_role_arn", role_arn=data.STS_OIDC_ROLE_ARN,
        oidc_provider_arn=data.STS_OIDC_PROVIDER_ARN, oidc_token_file=str(token_file),
        sts_endpoint=sb.sts_endpoint,
    )  # fmt: skip
    sb.sts_lifetime = 3
    number = data.CAMS_PHONES[0]["phone_number"]
    trigger = CamsPhoneStatusTrigger([number], "BANNED", ["DELETED"], poke_interval=0.2)

    async def run() -> list[Any]:
        events: list[Any] = []

        async def collect() -> None:
            async for event in trigger.run():
                events.append(event)
                return

        task = asyncio.create_task(collect())
        deadline = time.monotonic() + 90
        while sb.request_count(action="AssumeRoleWithOIDC") < 4 and not task.done():
            assert time.monotonic() < deadline, "no three refreshes within 90 s"
            await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return events

    events = asyncio.run(run())
    assert events == []  # no error event: the wait goes on
    assert sb.request_count(action="AssumeRoleWithOIDC") >= 4
    polls = sb.requests(action="QueryChatappPhoneNumbers")
    assert len(polls) >= 8 and all(r.status == 200 for r in polls)
    expect_temporary(sb)


def test_no_temporary_secret_in_debug_logs_stderr_errors_or_the_test_message(
    sb: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """RRSA keys from the sandbox's STS, every logger at DEBUG (the library's own included): the
    secret, the security token and the OIDC token appear in no log, no stream, no error text and
    not in the Test button's message, which says mode, identity and lifetime instead."""
    import logging

    token = sb.issue_oidc_token(lifetime=3600)
    token_file = tmp_path / "token"
    token_file.write_text(token)
    connect(
        monkeypatch, sb, auth_type="oidc_role_arn", role_arn=data.STS_OIDC_ROLE_ARN,
        oidc_provider_arn=data.STS_OIDC_PROVIDER_ARN, oidc_token_file=str(token_file),
        sts_endpoint=sb.sts_endpoint,
    )  # fmt: skip
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("credentials").setLevel(logging.DEBUG)
        hook = CamsHook(rate_limit=None)
        ok, message = hook.test_connection()
        assert ok, message
        keys = hook.get_conn().auth.source.last
        assert keys is not None and keys.security_token
        texts.append(message)
        try:
            hook.query_phone_business_profile("0000", cust_space_id="no-such-space")
        except Exception as exc:  # the service's refusal, as a task would show it
            texts += [str(exc), repr(exc)]
        # STS down past expiry: the typed error, its text and its cause.
        sb.sts_lifetime = 2
        credentials.forget_sources()
        fresh = CamsHook(rate_limit=None)
        assert fresh.query_phone_numbers()
        sb.set_sts_outage(True, "sts")
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline
            try:
                fresh.query_phone_numbers()
            except CredentialsUnavailableError as exc:
                texts += [str(exc), repr(exc), str(exc.__cause__ or "")]
                break
        later = fresh.get_conn().auth.source.last
        hook.close()
        fresh.close()
    out, err = capfd.readouterr()
    assert "auth_type oidc_role_arn" in message and data.STS_OIDC_ROLE_ARN in message
    assert "min left" in message
    secrets = {keys.access_key_secret, keys.security_token, token}
    if later is not None:
        secrets |= {later.access_key_secret, later.security_token}
    haystack = "\n".join([caplog.text, out, err, *texts])
    assert caplog.text  # the loggers did speak at DEBUG
    for secret in secrets - {None}:
        assert secret not in haystack
