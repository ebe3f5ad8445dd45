"""hooks/base.py with plain data: a hook method's steps run by a sync and an async hook over a tiny
in-test transport (no socket), the connection read once per hook, and the charged-submit policy."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_wa_phones import transport
from airflow_provider_wa_phones.connections import NxCloudSettings
from airflow_provider_wa_phones.exceptions import TransportError, WaPhonesError
from airflow_provider_wa_phones.hooks import base
from airflow_provider_wa_phones.operations.base import Answer, Operation, Request, Target
from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.services import NXCLOUD

CONNECTION = SimpleNamespace(
    conn_id="echo", host="http://127.0.0.1:9", schema=None, port=None, login="key", password="secret-1",
    extra='{"appkey": "app-1"}',
)  # fmt: skip


@dataclass(frozen=True)
class Echo(Operation[str, str]):
    """Sends its word; reads the answer's body back, upper-cased by the in-test transport."""

    name: str = "echo"
    charged: bool = False

    def request(self, target: Target, prepared: str) -> Request:
        headers = {"bizType": "2", "action": "echo"}  # what NxCloud's signing needs
        return Request("POST", f"{target.base_url}/echo", headers, prepared.encode())

    def read(self, target: Target, answer: Answer) -> str:
        return answer.content.decode()


ECHO = Echo()
CHARGED = Echo(name="charge", charged=True)


class _Shout(base.ServiceHookBase, service=NXCLOUD):
    settings_class = NxCloudSettings

    def __init__(self, **options: Any) -> None:
        super().__init__("echo", **options)

    @base.hook_method
    def shout(self, word: str) -> base.Steps[str]:
        """Settings, one call, then two at once."""
        settings = yield base.SETTINGS
        first: str = yield base.Call(ECHO, word)
        both: list[str] = yield [base.Call(ECHO, word + "1"), base.Call(ECHO, word + "2")]
        return f"{settings.appkey}:{first}:{'+'.join(both)}"


class SyncShout(_Shout, base.ServiceHook):
    pass


class AsyncShout(_Shout, base.AsyncServiceHook):
    pass


class Wire:
    """The in-test transport: answers each request with its body upper-cased, or raises the
    failures queued in ``fail``; records every request with the signing headers it carried."""

    def __init__(self) -> None:
        self.sent: list[tuple[Request, dict[str, str]]] = []
        self.fail: list[WaPhonesError] = []

    def answer(self, request: Request, signed: dict[str, str]) -> Answer:
        self.sent.append((request, signed))
        if self.fail:
            raise self.fail.pop(0)
        return Answer(200, {}, request.body.upper())


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    wire = Wire()

    def send(session: Any, request: Request, timeout: float, call: Any, cap: int) -> Answer:
        signed = session.auth.sign(request)  # the session's auth, as requests would apply it
        return wire.answer(request, signed)

    async def asend(session: Any, request: Request, timeout: float, call: Any, sign: Any, cap: int) -> Answer:
        return wire.answer(request, dict(sign(request)))

    monkeypatch.setattr(transport, "send", send)
    monkeypatch.setattr(transport, "asend", asend)
    return wire


def counting_reads(hook: base.ServiceHookBase) -> list[str]:
    reads: list[str] = []

    def get_connection(conn_id: str) -> SimpleNamespace:
        reads.append(conn_id)
        return CONNECTION

    async def aget_connection(conn_id: str) -> SimpleNamespace:
        return get_connection(conn_id)

    hook.get_connection = get_connection  # type: ignore[method-assign]
    hook.aget_connection = aget_connection  # type: ignore[method-assign]
    return reads


def test_the_sync_hook_runs_the_steps_and_reads_the_connection_once(wire: Wire) -> None:
    hook = SyncShout()
    reads = counting_reads(hook)
    assert hook.shout("hi") == "app-1:HI:HI1+HI2"
    assert hook.shout("yo") == "app-1:YO:YO1+YO2"
    assert reads == ["echo"]
    assert sorted(request.body for request, _ in wire.sent) == sorted(
        [b"hi", b"hi1", b"hi2", b"yo", b"yo1", b"yo2"]
    )
    assert all(request.url == "http://127.0.0.1:9/echo" for request, _ in wire.sent)
    assert all(signed["accessKey"] == "key" and signed["sign"] for _, signed in wire.sent)
    assert hook.stats.requests == 6
    hook.close()


def test_the_async_hook_runs_the_same_steps_and_reads_the_connection_once(wire: Wire) -> None:
    async def run() -> tuple[str, str, list[str]]:
        async with AsyncShout() as hook:
            reads = counting_reads(hook)
            return await hook.shout("hi"), await hook.shout("yo"), reads

    first, second, reads = asyncio.run(run())
    assert (first, second) == ("app-1:HI:HI1+HI2", "app-1:YO:YO1+YO2")
    assert reads == ["echo"]
    assert all(signed["accessKey"] == "key" for _, signed in wire.sent)
    assert len(wire.sent) == 6


def test_the_charged_policy_reads_the_operation_s_charged_flag() -> None:
    assert base._may_send_again(ECHO) is None  # the retry policy alone decides
    may_retry = base._may_send_again(CHARGED)
    assert may_retry is not None
    assert may_retry(TransportError("refused", unsent=True)) is True
    assert may_retry(TransportError("reset after sending", unsent=False)) is False


@pytest.mark.parametrize(
    ("operation", "unsent", "attempts"),
    [(CHARGED, False, 1), (CHARGED, True, 2), (ECHO, False, 2)],
    ids=["charged-maybe-taken", "charged-never-sent", "not-charged"],
)
def test_a_charged_call_is_sent_again_only_after_a_sure_refusal(
    wire: Wire, operation: Echo, unsent: bool, attempts: int
) -> None:
    hook = SyncShout(retry_policy=RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0))
    counting_reads(hook)
    hook._sleep = lambda seconds: None
    wire.fail = [TransportError("lost", unsent=unsent)]
    if attempts == 1:
        with pytest.raises(TransportError):
            hook._call(operation, "buy")
    else:
        assert hook._call(operation, "buy") == "BUY"
    assert len(wire.sent) == attempts
    hook.close()
