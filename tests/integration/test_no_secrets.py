"""No credential in any text: every failure path, with DEBUG logging on every logger.

The connections carry an STS token as well as the secrets. Each path below ends in an error (or a
Test-button message); the test then reads every error text and note, every message, everything
logged (root logger at DEBUG, so urllib3, aiohttp and Airflow's loggers too) and everything
printed, and looks for each credential value and each signature the sandbox received.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook, CamsSettings
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook, NxCloudHook
from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.sandbox import data
from tests.secrets import find_secrets, signatures_seen

pytestmark = pytest.mark.integration

FAST = RetryPolicy(max_attempts=2, initial_delay=0.0, max_delay=0.0)
TOKEN_WITH_NEWLINE = data.CAMS_STS_SECURITY_TOKEN + "\n"


@pytest.fixture
def everything_logged(caplog):
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "aiohttp", "airflow", "airflow_provider_wa_phones", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    root.setLevel(old)


def sts_connections(sandbox, monkeypatch, **cams_changes: Any) -> None:
    cams = sandbox.connections()["alibaba_cams_default"] | {
        "login": data.CAMS_STS_ACCESS_KEY_ID,
        "password": data.CAMS_STS_ACCESS_KEY_SECRET,
    }
    cams["extra"] = cams["extra"] | {"security_token": data.CAMS_STS_SECURITY_TOKEN}
    cams.update(cams_changes)
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(cams))
    for name, value in sandbox.airflow_env().items():
        if name != "AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT":
            monkeypatch.setenv(name, value)


def texts_of(error: BaseException) -> list[str]:
    """An error's message, notes and type, and those of its cause and context, recursively."""
    found: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        found.extend([repr(current), str(current), *getattr(current, "__notes__", [])])
        todo.extend([current.__cause__, current.__context__])
    return found


def failure_texts(call: Callable[[], Any]) -> list[str]:
    try:
        result = call()
    except Exception as exc:
        return texts_of(exc)
    return [repr(result)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PATHS = [
    "nxcloud-wrong-secret",
    "cams-wrong-secret-with-token",
    "cams-token-with-newline",
    "cams-token-not-of-this-key",
    "cams-throttled",
    "nxcloud-5xx",
    "cams-5xx",
    "nxcloud-reset",
    "closed-port",
    "nxcloud-lost-submit",
]


def run_path(path: str, sandbox, monkeypatch) -> list[str]:
    """Drive one failure path; return every text it produced (errors, notes, Test messages)."""
    sts_connections(sandbox, monkeypatch)
    texts: list[str] = []
    if path == "nxcloud-wrong-secret":
        conn = sandbox.connections()["nxcloud_default"] | {"password": "wrong-secret-value"}
        monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps(conn))
        texts += failure_texts(lambda: NxCloudHook(retry_policy=FAST).get_phone_info())
        texts.append(NxCloudHook().test_connection()[1])
    elif path == "cams-wrong-secret-with-token":
        sts_connections(sandbox, monkeypatch, password="wrong-secret-value")
        texts += failure_texts(lambda: CamsHook(retry_policy=FAST).query_phone_numbers())
        texts.append(CamsHook().test_connection()[1])
    elif path == "cams-token-with-newline":
        cams = json.loads(sandbox.airflow_env()["AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"])
        cams |= {"login": data.CAMS_STS_ACCESS_KEY_ID, "password": data.CAMS_STS_ACCESS_KEY_SECRET}
        cams["extra"] = cams["extra"] | {"security_token": TOKEN_WITH_NEWLINE}
        monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(cams))
        texts += failure_texts(lambda: CamsHook(retry_policy=FAST).query_phone_numbers())
        texts.append(CamsHook().test_connection()[1])
        # Past the connection check, http.client refuses the header and quotes it: still scrubbed.
        sts_connections(sandbox, monkeypatch)
        hook = CamsHook(retry_policy=FAST, rate_limit=None)
        settings = hook.settings
        hook.__dict__["settings"] = CamsSettings(
            **{**settings.__dict__, "security_token": TOKEN_WITH_NEWLINE}
        )
        texts += failure_texts(hook.query_phone_numbers)
        texts += failure_texts(lambda: asyncio.run(_async_cams(TOKEN_WITH_NEWLINE)))
    elif path == "cams-token-not-of-this-key":
        sts_connections(
            sandbox,
            monkeypatch,
            extra={"region": data.CAMS_REGION, "security_token": data.CAMS_EXPIRED_STS_SECURITY_TOKEN},
        )
        texts += failure_texts(lambda: CamsHook(retry_policy=FAST).query_phone_numbers())
        texts.append(CamsHook().test_connection()[1])
    elif path == "cams-throttled":
        sandbox.cams_rate_limit = 1
        hook = CamsHook(retry_policy=RetryPolicy(max_attempts=1), rate_limit=None)
        texts += failure_texts(lambda: [hook.query_phone_numbers() for _ in range(5)])
    elif path == "nxcloud-5xx":
        sandbox.set_faults(rate=1.0, kinds=["http_500", "http_502", "http_503"], seed=3)
        texts += failure_texts(lambda: NxCloudHook(retry_policy=FAST).list_phones())
        texts += failure_texts(lambda: asyncio.run(_async_nxcloud()))
    elif path == "cams-5xx":
        sandbox.set_faults(rate=1.0, kinds=["http_500", "http_503"], seed=3)
        texts += failure_texts(lambda: CamsHook(retry_policy=FAST).query_phone_numbers())
        texts += failure_texts(lambda: asyncio.run(_async_cams(None)))
    elif path == "nxcloud-reset":
        sandbox.set_faults(rate=1.0, kinds=["reset", "truncated"], seed=5)
        texts += failure_texts(lambda: NxCloudHook(retry_policy=FAST).get_phone_info())
    elif path == "closed-port":
        url = f"http://127.0.0.1:{closed_port()}"
        for conn_id in ("nxcloud_default", "alibaba_cams_default"):
            conn = json.loads(sandbox.airflow_env()[f"AIRFLOW_CONN_{conn_id.upper()}"]) | {"host": url}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        texts += failure_texts(lambda: NxCloudHook(retry_policy=FAST).list_phones())
        texts += failure_texts(lambda: CamsHook(retry_policy=FAST).query_phone_numbers())
        texts.append(NxCloudHook().test_connection()[1])
    elif path == "nxcloud-lost-submit":
        sandbox.fail_next("lost", path="/api/number/check")
        hook = NxCloudHook(retry_policy=FAST, timeout=0.5)
        hook._sleep = lambda seconds: None
        texts += failure_texts(
            lambda: hook.submit_number_check(["+86 138 0000 1234"], batch_no="b", lost_response_wait=0)
        )
    return texts


async def _async_cams(token: str | None) -> Any:
    async with CamsAsyncHook(retry_policy=FAST, rate_limit=None) as hook:
        if token is not None:
            settings = await hook.settings()
            hook._settings = CamsSettings(**{**settings.__dict__, "security_token": token})
        return await hook.query_phone_numbers()


async def _async_nxcloud() -> Any:
    async with NxCloudAsyncHook(retry_policy=FAST) as hook:
        return await hook.get_phone_info()


@pytest.mark.parametrize("path", PATHS)
def test_no_credential_or_signature_in_any_text_on_any_failure_path(
    path, sandbox, monkeypatch, everything_logged, capfd
):
    texts = run_path(path, sandbox, monkeypatch)
    captured = capfd.readouterr()
    everything = "\n".join([*texts, everything_logged.text, captured.out, captured.err])
    assert texts, "the path produced no text to check"
    assert everything_logged.records, "nothing was logged: the check would prove nothing"
    signatures = signatures_seen(sandbox)
    assert find_secrets(everything, [TOKEN_WITH_NEWLINE.strip(), *signatures]) == []


def test_the_check_above_catches_a_leak():
    leak = f"header value {data.CAMS_STS_SECURITY_TOKEN!r}"
    assert find_secrets(leak) == [data.CAMS_STS_SECURITY_TOKEN]
