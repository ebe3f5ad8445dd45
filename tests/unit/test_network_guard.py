"""The suite's own guard (tests/conftest.py): nothing a test runs reaches past loopback."""

from __future__ import annotations

import socket

import pytest

from tests import conftest


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST.", "x.localhost", None]
)
def test_loopback_names_are_allowed(host: object) -> None:
    assert conftest.is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "100.100.100.200",
        "10.0.0.1",
        "0.0.0.0",
        "api2.nxcloud.com",
        "sts.aliyuncs.com",
        "127.0.0.1.nip.io",
        "",
    ],
)
def test_outside_names_are_not(host: str) -> None:
    assert not conftest.is_loopback(host)


def _attempt(action) -> list[str]:  # type: ignore[no-untyped-def]
    """Run ``action`` and return what the guard recorded, taking it back so this test passes."""
    start = len(conftest.OUTSIDE_ATTEMPTS)
    with pytest.raises(OSError):
        action()
    recorded = conftest.OUTSIDE_ATTEMPTS[start:]
    del conftest.OUTSIDE_ATTEMPTS[start:]
    return recorded


def test_a_metadata_service_connection_is_refused_and_recorded() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        recorded = _attempt(lambda: sock.connect(("100.100.100.200", 80)))
    assert recorded == ["a connection to ('100.100.100.200', 80)"]


def test_an_outside_name_lookup_is_refused_and_recorded() -> None:
    recorded = _attempt(lambda: socket.getaddrinfo("sts.aliyuncs.com", 443))
    assert recorded == ["name lookup of 'sts.aliyuncs.com'"]


def test_requests_to_an_outside_host_never_leave() -> None:
    import requests

    recorded = _attempt(lambda: requests.get("http://100.100.100.200/latest/meta-data/", timeout=1))
    assert recorded and "100.100.100.200" in recorded[0]


def test_an_invalid_name_fails_as_dns_would_without_asking_it() -> None:
    recorded = _attempt(lambda: socket.getaddrinfo("no-such-host.invalid", 80))
    assert recorded == []


def test_this_machines_own_name_is_allowed() -> None:
    assert conftest.is_loopback(socket.gethostname())


def test_loopback_still_connects() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2) as client:
            assert client.getpeername() == server.getsockname()


def _library_attempt(action) -> list[str]:  # type: ignore[no-untyped-def]
    """Run ``action`` (any exception expected: the library wraps socket errors) and return what the
    guard recorded, taking it back so this test passes."""
    start = len(conftest.OUTSIDE_ATTEMPTS)
    with pytest.raises(Exception):  # noqa: B017  # the library's own wrappers
        action()
    recorded = conftest.OUTSIDE_ATTEMPTS[start:]
    del conftest.OUTSIDE_ATTEMPTS[start:]
    return recorded


def test_the_suite_keeps_the_credentials_library_off_the_metadata_service() -> None:
    import os

    from alibabacloud_credentials.provider import EcsRamRoleCredentialsProvider
    from alibabacloud_credentials.utils import auth_util

    assert os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] == "true"
    assert os.environ["ALIBABA_CLOUD_CLI_PROFILE_DISABLED"] == "true"
    assert auth_util.environment_ecs_metadata_disabled == "true"
    assert auth_util.environment_access_key_id is None and auth_util.environment_credentials_uri is None
    with pytest.raises(ValueError, match="IMDS credentials is disabled"):
        EcsRamRoleCredentialsProvider(async_update_enabled=False)


def test_the_library_reaching_the_real_metadata_service_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from alibabacloud_credentials.provider import EcsRamRoleCredentialsProvider
    from alibabacloud_credentials.utils import auth_util

    monkeypatch.setattr(auth_util, "environment_ecs_metadata_disabled", "false")
    provider = EcsRamRoleCredentialsProvider(async_update_enabled=False, role_name="r", disable_imds_v1=True)
    recorded = _library_attempt(provider.get_credentials)
    assert recorded and all("100.100.100.200" in attempt for attempt in recorded)


def test_the_library_reaching_the_public_sts_is_refused() -> None:
    import asyncio

    from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider

    provider = RamRoleArnCredentialsProvider(
        access_key_id="LTAI-not-a-key", access_key_secret="x", role_arn="acs:ram::1:role/r"
    )
    assert _library_attempt(provider.get_credentials) == ["name lookup of 'sts.aliyuncs.com'"]
    recorded = _library_attempt(lambda: asyncio.run(provider.get_credentials_async()))
    assert recorded and all("sts.aliyuncs.com" in attempt for attempt in recorded)
