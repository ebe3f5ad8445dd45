"""A CAMS connection without stored keys, end to end through the real credential library: its
``URLCredentialsProvider`` fetches the sandbox's temporary keys from a small local credentials URI
(the STS modes are tested through the sandbox's own STS, elsewhere), the hooks sign with them and
the sandbox checks every signature."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_wa_phones import credentials
from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook
from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.server import SandboxServer

TEMPORARY = (data.CAMS_STS_ACCESS_KEY_SECRET, data.CAMS_STS_SECURITY_TOKEN)


class CredentialsUri:
    """Serves the sandbox's temporary keys, expiring in an hour, as a credentials URI answers."""

    def __init__(self) -> None:
        self.requests = 0
        uri = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                uri.requests += 1
                expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                body = json.dumps(
                    {
                        "Code": "Success",
                        "AccessKeyId": data.CAMS_STS_ACCESS_KEY_ID,
                        "AccessKeySecret": data.CAMS_STS_ACCESS_KEY_SECRET,
                        "SecurityToken": data.CAMS_STS_SECURITY_TOKEN,
                        "Expiration": expiration,
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/credentials"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def uri_connection(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsUri]:
    credentials.forget_sources()
    uri = CredentialsUri()
    cams = sandbox.connections()["alibaba_cams_default"]
    conn = {
        "conn_type": "alibaba_cams",
        "host": cams["host"],
        "extra": {**cams["extra"], "auth_type": "credentials_uri", "credentials_uri": uri.url},
    }
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))
    yield uri
    uri.close()
    credentials.forget_sources()


def test_the_hooks_sign_with_fetched_keys_and_share_one_source(uri_connection: CredentialsUri) -> None:
    hook = CamsHook()
    assert hook.query_phone_numbers()
    hook.close()

    async def from_a_trigger() -> int:
        async with CamsAsyncHook() as async_hook:
            return len(await async_hook.query_phone_numbers())

    assert asyncio.run(from_a_trigger()) > 0
    assert uri_connection.requests == 1  # one source per credential settings per process


def test_the_test_button_says_mode_identity_and_lifetime_without_a_secret(
    uri_connection: CredentialsUri,
) -> None:
    ok, message = CamsHook().test_connection()
    assert ok, message
    assert "auth_type credentials_uri" in message
    assert f"credentials URI {uri_connection.url}" in message
    assert "temporary keys, 59 min left" in message or "temporary keys, 60 min left" in message
    assert not any(secret in message for secret in TEMPORARY)


def test_a_thousand_hooks_leave_threads_and_log_handlers_as_one_did(
    uri_connection: CredentialsUri, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    def one_hook() -> None:
        hook = CamsHook(rate_limit=None)
        try:
            hook.get_conn().auth.source.current()  # the key a call would sign with
        finally:
            hook.close()

    def counts() -> tuple[int, int]:
        return len(logging.getLogger("credentials").handlers), len(logging.getLogger().handlers)

    with caplog.at_level(logging.DEBUG):
        one_hook()
        after_one = counts()
        # Threads other tests left behind may end meanwhile: only a thread that was not
        # running after one hook and still runs after a thousand is a leak.
        threads_after_one = set(threading.enumerate())
        for _ in range(1000):
            one_hook()
        assert set(threading.enumerate()) - threads_after_one == set()
        assert counts() == after_one
        assert CamsHook().query_phone_numbers()  # and they sign what the sandbox accepts
    assert uri_connection.requests == 1
    out, err = capfd.readouterr()
    for secret in TEMPORARY:
        assert secret not in caplog.text and secret not in out + err
