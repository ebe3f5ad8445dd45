"""Servers that misbehave (issue 19), met by the real hooks over real HTTP, sync and async.

Each behaviour runs on its own local server (:mod:`tests.hostile.server`, 127.0.0.1 only): redirects
towards another local server that records whether anything arrived there, gzip bombs (as a 200 and
as the ignored body of a 502), an endless chunked body, a body trickled a byte at a time, absurd
retry hints, error bodies that quote the request's signature, and a megabyte-long error message.
Every one must end in the package's own error, after the right number of requests, with a short
message that holds no signature and no secret. What they cost in memory and time is measured by
``benchmarks/hostile_servers.py``, not asserted here.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_wa_phones.exceptions import (
    AnswerTooLargeError,
    InvalidRequestError,
    MalformedResponseError,
    RedirectError,
    ServiceError,
    ThrottledError,
    TransportError,
    WaPhonesError,
)
from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook, CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook, NxCloudHook
from airflow_provider_wa_phones.retry import NO_RETRY, RetryPolicy
from tests.contract.conftest import FAST, published_bytes
from tests.hostile.server import (
    HostileServer,
    bomb_answer,
    endless_chunked,
    gzip_bomb,
    redirect,
    trickle,
    trickled_head,
)
from tests.replay import Answer, Received, ReplayServer, cams_connection, nxcloud_connection

GET_PHONE, SUBMIT, QUERY = "/api/wa/getPhone", "/api/number/check", "/api/number/query"
PHONE_LIST = "/api/wa/integrator/embedded/register/phoneList"
SECRETS = ("replay-access-secret", "replay-cams-secret")
EMPTY_QUERY = Answer(200, published_bytes("nxcloud/number-query-success-empty.json"))
TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
CLIENTS = ["sync", "async"]


@pytest.fixture
def hostile(monkeypatch) -> Iterator[HostileServer]:
    """A hostile server with both connections pointing at it."""
    with HostileServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", nxcloud_connection(server.url))
        monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", cams_connection(server.url))
        yield server


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """64 MiB of zeros in about 64 KB of gzip: four times the default cap of 16 MiB."""
    return gzip_bomb(64 * 1024 * 1024)


def call(client: str, service: str, method: str, *, policy: RetryPolicy = FAST, **options: Any) -> Any:
    """``method`` of the sync or async hook of ``service`` ("nxcloud" or "cams"), with no arguments
    besides what the method needs to reach its route."""
    import asyncio

    arguments: dict[str, Any] = {}
    if method == "submit_number_check":
        arguments = {"phones": ["+86 138 0000 1234"], "batch_no": "b-1", "lost_response_wait": 0}
    if service == "cams":
        options.setdefault("rate_limit", None)
    if client == "sync":
        hook: Any = (NxCloudHook if service == "nxcloud" else CamsHook)(retry_policy=policy, **options)
        hook._sleep = lambda seconds: None
        try:
            return getattr(hook, method)(**arguments)
        finally:
            hook.close()

    async def run() -> Any:
        hook_class: Any = NxCloudAsyncHook if service == "nxcloud" else CamsAsyncHook
        async with hook_class(retry_policy=policy, **options) as hook:
            return await getattr(hook, method)(**arguments)

    return asyncio.run(run())


def fails(kind: type[WaPhonesError], run: Callable[[], Any]) -> WaPhonesError:
    """The error ``run`` raises, which must be ``kind``; its text must be short and clean."""
    with pytest.raises(kind) as caught:
        run()
    text = "\n".join([str(caught.value), *getattr(caught.value, "__notes__", [])])
    assert len(text) < 3000, f"{len(text)} characters"
    for secret in SECRETS:
        assert secret not in text
    return caught.value


ROUTE = {"nxcloud": GET_PHONE, "cams": "/"}
METHOD = {"nxcloud": "get_phone_info", "cams": "query_phone_numbers"}


# --- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_and_nothing_reaches_its_target(hostile, client, service, status):
    with ReplayServer() as elsewhere:
        hostile.set(ROUTE[service], redirect(status, elsewhere.url + ROUTE[service] + "?from=redirect"))
        error = fails(RedirectError, lambda: call(client, service, METHOD[service]))
        assert elsewhere.count() == 0  # never followed: no credential, no signature went there
    assert not error.retryable
    assert hostile.count() == 1
    assert f"HTTP {status}" in str(error)
    assert "from=redirect" not in str(error)  # the Location's path and query are not quoted


@pytest.mark.parametrize("client", CLIENTS)
def test_a_redirect_of_an_http_host_to_https_says_what_to_fix(hostile, client):
    hostile.set(GET_PHONE, redirect(301, "https://api2.nxcloud.com/api/wa/getPhone"))
    error = fails(RedirectError, lambda: call(client, "nxcloud", "get_phone_info"))
    assert "https://api2.nxcloud.com" in str(error)
    assert "connection's host" in str(error)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_submit_was_not_taken_and_is_neither_resent_nor_looked_up(hostile, status):
    with ReplayServer() as elsewhere:
        hostile.set(SUBMIT, redirect(status, elsewhere.url + SUBMIT))
        hostile.set(QUERY, EMPTY_QUERY)
        error = fails(RedirectError, lambda: call("sync", "nxcloud", "submit_number_check"))
        assert elsewhere.count() == 0
    assert not error.may_have_taken_effect  # a gateway answered instead of the service
    assert hostile.count(SUBMIT) == 1
    assert hostile.count(QUERY) == 0


def test_a_submit_answered_see_other_may_have_been_taken_and_is_looked_up(hostile):
    with ReplayServer() as elsewhere:
        hostile.set(SUBMIT, redirect(303, elsewhere.url + "/result"))
        hostile.set(QUERY, EMPTY_QUERY)
        error = fails(RedirectError, lambda: call("sync", "nxcloud", "submit_number_check"))
        assert elsewhere.count() == 0
    assert error.may_have_taken_effect  # 303 answers a request that was processed
    assert hostile.count(SUBMIT) == 1  # never sent again...
    assert hostile.count(QUERY) >= 1  # ...but looked up


# --- bodies over the cap --------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
@pytest.mark.parametrize("status", [200, 502])
def test_a_gzip_bomb_stops_at_the_cap_and_is_fetched_once(hostile, bomb, client, service, status):
    hostile.set(ROUTE[service], bomb_answer(bomb, status))
    error = fails(AnswerTooLargeError, lambda: call(client, service, METHOD[service]))
    assert not error.retryable
    assert hostile.count() == 1  # FAST would retry a 502 twice: this one is not fetched again
    assert "16777216 bytes" in str(error)


def test_a_gzip_bomb_on_a_submit_is_looked_up_never_resent(hostile, bomb):
    hostile.set(SUBMIT, bomb_answer(bomb, 502))
    hostile.set(QUERY, EMPTY_QUERY)
    error = fails(AnswerTooLargeError, lambda: call("sync", "nxcloud", "submit_number_check"))
    assert error.may_have_taken_effect
    assert hostile.count(SUBMIT) == 1
    assert hostile.count(QUERY) >= 1


@pytest.mark.parametrize("client", CLIENTS)
def test_the_cap_is_the_hook_s_option(hostile, client):
    body = json.dumps({"code": 0, "message": "ok", "data": {"business_phones": []}}).encode()
    hostile.set(GET_PHONE, Answer(200, body + b" " * 100_000))  # valid JSON, 100 kB
    assert call(client, "nxcloud", "get_phone_info") == []
    fails(AnswerTooLargeError, lambda: call(client, "nxcloud", "get_phone_info", max_answer_bytes=65_536))


@pytest.mark.parametrize("value", [0, 1000, 2**40, "16 MiB", 1.5, True])
def test_a_cap_out_of_bounds_is_refused_before_any_request(value):
    from airflow_provider_wa_phones.exceptions import ParameterError

    with pytest.raises(ParameterError, match="max_answer_bytes"):
        NxCloudHook(max_answer_bytes=value)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_an_endless_chunked_body_stops_at_the_cap(hostile, client, service):
    hostile.set(ROUTE[service], endless_chunked(hostile.stop))
    error = fails(AnswerTooLargeError, lambda: call(client, service, METHOD[service]))
    assert hostile.count() == 1
    assert not error.retryable


# --- one deadline per request ---------------------------------------------------------------------


def _trickled(service: str) -> bytes:
    """A valid answer, padded with JSON whitespace so that it takes 30 s at 20 bytes a second."""
    if service == "nxcloud":
        answer: dict[str, Any] = {"code": 0, "message": "ok", "data": {"business_phones": []}}
    else:
        answer = {"RequestId": "r", "Code": "OK", "PhoneNumbers": []}
    return json.dumps(answer).encode().ljust(600)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_a_trickled_body_ends_in_a_timeout_not_a_success_30_s_later(hostile, client, service):
    # Each byte arrives well within the 1.5 s timeout, so only a deadline for the whole call stops it.
    hostile.set(ROUTE[service], trickle(hostile.stop, _trickled(service), every=0.05))
    slow = lambda: call(client, service, METHOD[service], policy=NO_RETRY, timeout=1.5)  # noqa: E731
    error = fails(TransportError, slow)
    assert error.may_have_taken_effect  # it was sent; the answer did not arrive whole
    assert hostile.count() == 1


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_a_trickled_status_line_and_head_end_in_a_timeout(hostile, client, service):
    # The head comes 2 bytes each 0.25 s (some 40 s in all): each receive is well within the 1.5 s
    # timeout, so only a deadline covering connecting, sending and the head stops it.
    head_sent = threading.Event()
    hostile.set(ROUTE[service], trickled_head(hostile.stop, _trickled(service), head_sent))
    slow = lambda: call(client, service, METHOD[service], policy=NO_RETRY, timeout=1.5)  # noqa: E731
    error = fails(TransportError, slow)
    assert not head_sent.is_set()  # the call ended at its deadline, not after the whole head
    assert "within the timeout" in str(error)
    assert error.may_have_taken_effect  # it was sent; its answer's head did not arrive in time
    assert hostile.count() == 1


def test_a_submit_whose_answer_head_trickles_was_maybe_taken_and_is_looked_up(hostile):
    head_sent = threading.Event()
    hostile.set(SUBMIT, trickled_head(hostile.stop, b'{"code": 0, "message": "ok", "data": {}}', head_sent))
    hostile.set(QUERY, EMPTY_QUERY)
    slow = lambda: call("sync", "nxcloud", "submit_number_check", policy=NO_RETRY, timeout=1.5)  # noqa: E731
    error = fails(TransportError, slow)
    assert not head_sent.is_set()
    assert error.may_have_taken_effect
    assert hostile.count(SUBMIT) == 1  # never sent again...
    assert hostile.count(QUERY) >= 1  # ...but looked up


def test_one_trickled_head_among_calls_on_threads_sharing_a_hook_fails_alone(hostile):
    from concurrent.futures import ThreadPoolExecutor

    head_sent = threading.Event()
    ok = Answer(200, published_bytes("nxcloud/getphone-success.json"))
    hostile.set(GET_PHONE, [trickled_head(hostile.stop, _trickled("nxcloud"), head_sent), *[ok] * 7])
    hook = NxCloudHook(retry_policy=NO_RETRY, timeout=1.5)

    def one(_: int) -> str:
        try:
            hook.get_phone_info()
        except TransportError:
            return "timeout"
        return "ok"

    try:
        with ThreadPoolExecutor(8) as pool:
            outcomes = sorted(pool.map(one, range(8)))
    finally:
        hook.close()
    assert outcomes == ["ok"] * 7 + ["timeout"]  # the deadline cut only its own call's connection
    assert not head_sent.is_set()
    assert hostile.count() == 8


def _connecting_until_the_deadline(monkeypatch) -> list[int]:
    """Make the sync hooks' first connect last until its call's deadline has passed (as a slow
    network would); later connects are as usual. The list counts the slowed connects."""
    import time

    from urllib3.connection import HTTPConnection

    from airflow_provider_wa_phones import deadline

    connect, slowed = HTTPConnection.connect, []

    def slow(self: Any) -> None:
        watch = deadline._current()
        if watch is not None and not slowed:
            slowed.append(1)
            ends = time.monotonic() + 30
            while not watch.fired and time.monotonic() < ends:  # poll: the monitor fires it
                time.sleep(0.01)
        connect(self)

    monkeypatch.setattr(HTTPConnection, "connect", slow)
    return slowed


def test_a_deadline_passed_while_connecting_sends_nothing_and_says_so(hostile, monkeypatch):
    slowed = _connecting_until_the_deadline(monkeypatch)
    slow = lambda: call("sync", "nxcloud", "get_phone_info", policy=NO_RETRY, timeout=1)  # noqa: E731
    error = fails(TransportError, slow)
    assert slowed
    assert error.unsent and not error.may_have_taken_effect
    assert "within the timeout" in str(error)
    assert hostile.count() == 0  # the connection was made, but not a byte of the request went out


def test_a_submit_whose_deadline_passed_while_connecting_is_sent_again_once(hostile, monkeypatch):
    slowed = _connecting_until_the_deadline(monkeypatch)
    hostile.set(SUBMIT, Answer(200, published_bytes("nxcloud/number-submit-success.json")))
    hostile.set(QUERY, EMPTY_QUERY)
    (batch,) = call("sync", "nxcloud", "submit_number_check", timeout=1)
    assert slowed
    assert batch["batch_no"] == "20220901"  # as the published answer says
    assert hostile.count(SUBMIT) == 1  # surely unsent the first time: sent once, by the retry
    assert hostile.count(QUERY) == 0  # nothing to look up


# --- retry hints ----------------------------------------------------------------------------------

ABSURD_HINTS = [
    "99999999999999999999",
    "²",
    "-5",
    "NaN",
    "inf",
    "1e999",
    "1_000",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Mon, 99 Foo 2026 99:99:99 GMT",
]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("hint", ABSURD_HINTS)
def test_an_absurd_retry_after_is_capped_or_ignored_on_nxcloud(hostile, client, hint):
    hostile.set(GET_PHONE, Answer(429, b"<html>Too Many Requests</html>", {"Retry-After": hint}, "text/html"))
    error = fails(ThrottledError, lambda: call(client, "nxcloud", "get_phone_info"))
    assert error.retry_after is None or 0 < error.retry_after <= 86_400


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("hint", ["99999999999999999999", "9" * 400, "²", "-5", "NaN", "1e999", " 1 2 "])
def test_an_absurd_x_acs_retry_after_is_capped_or_ignored_on_cams(hostile, client, hint):
    throttled = {"RequestId": "r", "Code": "Throttling.User", "Message": "slow down"}
    hostile.set("/", Answer.json(throttled, 400, {"x-acs-retry-after": hint}))
    error = fails(ThrottledError, lambda: call(client, "cams", "query_phone_numbers"))
    assert error.retry_after is None or 0 < error.retry_after <= 86_400


def test_a_huge_hint_ends_the_call_at_once_saying_when_to_come_back(hostile):
    hostile.set(GET_PHONE, Answer(429, b"", {"Retry-After": "99999999999999999999"}, None))
    error = fails(ThrottledError, lambda: call("sync", "nxcloud", "get_phone_info"))
    assert "try again after" in str(error)
    assert hostile.count() == 1


# --- signatures quoted back -----------------------------------------------------------------------


def _signature(request: Received) -> str:
    if "sign" in request.headers:
        return request.headers["sign"]
    return request.headers["authorization"].rpartition("Signature=")[2]


QUOTES: dict[str, Callable[[str], Answer]] = {
    "nxcloud-Sign": lambda sig: Answer.json({"code": 1003, "message": f"bad sign. Sign: {sig}"}),
    "nxcloud-SIGN-upper": lambda sig: Answer.json({"code": 1003, "message": f"SIGN={sig.upper()} rejected"}),
    "nxcloud-no-envelope": lambda sig: Answer(403, f"denied signature {sig.upper()}".encode(), {}, None),
    "nxcloud-cut-in-the-body": lambda sig: Answer(403, (("x" * 60) + sig).encode(), {}, "text/plain"),
    "nxcloud-undocumented-code": lambda sig: Answer.json({"code": 777, "message": f"expected {sig}"}),
}
CAMS_QUOTES: dict[str, Callable[[str], Answer]] = {
    "cams-signature-upper": lambda sig: Answer.json(
        {"RequestId": "r", "Code": "SignatureDoesNotMatch", "Message": f"server signature {sig.upper()}"}, 400
    ),
    "cams-recommend": lambda sig: Answer.json(
        {"RequestId": sig, "Code": "SignatureDoesNotMatch", "Message": "no", "Recommend": f"see {sig}"}, 400
    ),
    "cams-code": lambda sig: Answer.json({"RequestId": "r", "Code": f"Sig{sig}", "Message": "?"}, 400),
}


def _quoting(hostile: HostileServer, path: str, quote: Callable[[str], Answer]) -> list[str]:
    """Route ``path`` to an answer quoting the request's signature; the signatures seen."""
    seen: list[str] = []

    def route(request: Received) -> Answer:
        seen.append(_signature(request))
        return quote(seen[-1])

    hostile.set(path, route)
    return seen


def _clean(text: str, signatures: list[str]) -> None:
    assert signatures
    for signature in signatures:
        assert signature[:16].lower() not in text.lower()
        assert signature[-16:].lower() not in text.lower()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("quote", sorted(QUOTES))
def test_a_signature_quoted_by_nxcloud_is_scrubbed(hostile, client, quote):
    seen = _quoting(hostile, GET_PHONE, QUOTES[quote])
    error = fails(WaPhonesError, lambda: call(client, "nxcloud", "get_phone_info"))
    _clean(str(error), seen)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("quote", sorted(CAMS_QUOTES))
def test_a_signature_quoted_by_cams_is_scrubbed(hostile, client, quote):
    seen = _quoting(hostile, "/", CAMS_QUOTES[quote])
    error = fails(WaPhonesError, lambda: call(client, "cams", "query_phone_numbers"))
    _clean(str(error), seen)


@pytest.mark.parametrize("quote", sorted(QUOTES))
def test_the_nxcloud_test_button_shows_no_signature(hostile, quote):
    seen = _quoting(hostile, GET_PHONE, QUOTES[quote])
    ok, message = NxCloudHook().test_connection()
    assert not ok
    _clean(message, seen)


@pytest.mark.parametrize("quote", sorted(CAMS_QUOTES))
def test_the_cams_test_button_shows_no_signature(hostile, quote):
    seen = _quoting(hostile, "/", CAMS_QUOTES[quote])
    ok, message = CamsHook(rate_limit=None).test_connection()
    assert not ok
    _clean(message, seen)


# --- long messages --------------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_a_megabyte_nxcloud_message_is_cut_short(hostile, client):
    hostile.set(GET_PHONE, Answer.json({"code": 1002, "message": "m" * 1_000_000}))
    error = fails(InvalidRequestError, lambda: call(client, "nxcloud", "get_phone_info"))
    assert "1000000 characters" in str(error)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_megabyte_cams_message_is_cut_short(hostile, client):
    huge = {"RequestId": "r" * 10**6, "Code": "c" * 10**6, "Message": "m" * 10**6}
    hostile.set("/", Answer.json(huge, 400))
    fails(ServiceError, lambda: call(client, "cams", "query_phone_numbers"))


@pytest.mark.parametrize("client", CLIENTS)
def test_a_megabyte_page_without_the_envelope_is_cut_short(hostile, client):
    hostile.set(GET_PHONE, Answer(400, b"<html>" + b"p" * 1_000_000, {}, "text/html"))
    fails(MalformedResponseError, lambda: call(client, "nxcloud", "get_phone_info"))


# --- the cap as a connection extra ----------------------------------------------------------------


def _with_extra(monkeypatch, server: HostileServer, service: str, **extra: Any) -> None:
    """Point ``service``'s default connection at ``server`` with ``extra`` added to its extras."""
    env = "AIRFLOW_CONN_NXCLOUD_DEFAULT" if service == "nxcloud" else "AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"
    made = nxcloud_connection(server.url) if service == "nxcloud" else cams_connection(server.url)
    conn = json.loads(made)
    conn["extra"] = {**conn.get("extra", {}), **extra}
    monkeypatch.setenv(env, json.dumps(conn))


def _padded(service: str) -> Answer:
    """A valid answer of 100 kB (JSON padded with spaces): over a 64 KiB cap, under the default."""
    if service == "nxcloud":
        answer: dict[str, Any] = {"code": 0, "message": "ok", "data": {"business_phones": []}}
    else:
        answer = {"RequestId": "r", "Code": "OK", "PhoneNumbers": []}
    return Answer(200, json.dumps(answer).encode() + b" " * 100_000)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_the_cap_is_a_connection_extra_and_the_hook_option_wins(hostile, monkeypatch, client, service):
    hostile.set(ROUTE[service], _padded(service))
    assert call(client, service, METHOD[service]) == []  # 100 kB is under the default cap
    _with_extra(monkeypatch, hostile, service, max_answer_bytes=65_536)
    error = fails(AnswerTooLargeError, lambda: call(client, service, METHOD[service]))
    assert "65536 bytes" in str(error)
    assert call(client, service, METHOD[service], max_answer_bytes=1_000_000) == []  # the option wins


def test_a_trigger_honours_the_connection_s_cap(hostile, monkeypatch):
    import asyncio

    from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneStatusTrigger

    hostile.set(GET_PHONE, _padded("nxcloud"))
    _with_extra(monkeypatch, hostile, "nxcloud", max_answer_bytes="65536")  # as a form stores text
    # AnswerTooLargeError is not retried: the trigger's first poll fails, and says why.
    trigger = NxCloudPhoneStatusTrigger(["+8613800001234"], "CONNECTED", ["BANNED"], poke_interval=1)

    async def first() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    # Bounded: without the extra honoured the trigger would poll on, a 100 kB answer each second.
    payload = asyncio.run(asyncio.wait_for(first(), 30))
    assert hostile.count(GET_PHONE) == 1
    assert "65536 bytes" in json.dumps(payload)


@pytest.mark.parametrize("service", ["nxcloud", "cams"])
@pytest.mark.parametrize("value", [0, 65_535, 2**30 + 1, 1.5, True, "16 MiB", "-1", [1]])
def test_a_cap_extra_out_of_bounds_names_the_field_before_any_request(hostile, monkeypatch, service, value):
    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    _with_extra(monkeypatch, hostile, service, max_answer_bytes=value)
    error = fails(ConnectionConfigError, lambda: call("sync", service, METHOD[service]))
    assert "max_answer_bytes" in str(error)
    assert "between 65536 and 1073741824" in str(error) or "whole number" in str(error)
    assert hostile.count() == 0
