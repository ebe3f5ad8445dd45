"""Every fault kind over real HTTP, as a plain ``requests`` client and as aiohttp see it, and what it
does (or does not do) to the sandbox's state."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import requests

from airflow_provider_wa_phones import signing
from airflow_provider_wa_phones.sandbox import SandboxServer, data
from airflow_provider_wa_phones.sandbox.faults import BEFORE_PROCESSING, FAULT_KINDS

GET_PHONE = "/api/wa/getPhone"
CHECK = "/api/number/check"
QUERY = "/api/number/query"
NX_OPERATION = {GET_PHONE: ("getPhone", "2"), CHECK: ("numbercheck", "1"), QUERY: ("numbercheck", "1")}
LIST = "QueryChatappPhoneNumbers"
GATEWAY_KINDS = {"http_500": 500, "http_502": 502, "http_503": 503}
# Shorter than SLOW, so a slow answer always misses it; SLOW stays small to keep the tests fast.
SHORT_TIMEOUT = 0.1
SLOW = 0.4
GET_PHONE_BODY = {"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"}
CHECK_PHONES = ["8613800138000", "8613800138001", "8613800138002"]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seed=0, time_scale=0.0) as sb:
        yield sb


@pytest.fixture
def sb(server: SandboxServer) -> Iterator[SandboxServer]:
    server.reset()
    yield server
    server.clear_faults()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def nxcloud_request(sb: SandboxServer, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``url``, ``data`` and ``headers`` of a signed NxCloud request."""
    body = json.dumps(payload).encode()
    action, biz_type = NX_OPERATION[path]
    headers = signing.nxcloud_headers(
        data.NXCLOUD_ACCESS_KEY, data.NXCLOUD_ACCESS_SECRET, action, biz_type, body
    )
    return {"url": sb.url + path, "data": body, "headers": {"Content-Type": "application/json", **headers}}


def cams_request(sb: SandboxServer, action: str = LIST) -> dict[str, Any]:
    """``url``, ``data`` and ``headers`` of a signed CAMS request (sending it twice reuses its nonce)."""
    query = signing.acs3_canonical_query({"CustSpaceId": data.CAMS_SPACE_ID})
    headers = signing.acs3_headers(
        access_key_id=data.CAMS_ACCESS_KEY_ID,
        access_key_secret=data.CAMS_ACCESS_KEY_SECRET,
        host=urlsplit(sb.url).netloc,
        action=action,
        version="2020-06-06",
        canonical_query=query,
    )
    return {"url": f"{sb.url}/?{query}", "data": b"", "headers": headers}


def submit_request(sb: SandboxServer, batch_no: str) -> dict[str, Any]:
    payload = {"appkey": data.NXCLOUD_APPKEY, "phone": ",".join(CHECK_PHONES), "batchNo": batch_no}
    return nxcloud_request(sb, CHECK, payload)


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds (the server notices a client's hang-up on its own time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        time.sleep(0.01)


async def eventually_async(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """:func:`eventually` that lets the event loop (and so the client's hang-ups) go on meanwhile."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within the deadline"
        await asyncio.sleep(0.01)


def not_json(content: bytes) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return True
    return False


def balance(sb: SandboxServer) -> Decimal:
    return sb.state.nxcloud.app(data.NXCLOUD_APPKEY).balance


def found_in_batch(sb: SandboxServer, http: requests.Session, batch_no: str) -> int:
    """Result records of ``batch_no`` once every result is due (asked without any fault)."""
    sb.advance(60)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    query = {"page": 1, "pageSize": 100, "date": today, "batchNo": batch_no}
    envelope = http.post(**nxcloud_request(sb, QUERY, query), timeout=10).json()
    assert envelope["code"] == 0, envelope
    return envelope["data"]["totalSize"]


# --- what a requests client sees ------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(GATEWAY_KINDS))
@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_gateway_errors_are_html_without_an_envelope(
    sb: SandboxServer, http: requests.Session, kind: str, service: str
) -> None:
    sb.fail_next(kind)
    request = nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY) if service == "nxcloud" else cams_request(sb)
    response = http.post(**request, timeout=10)
    assert response.status_code == GATEWAY_KINDS[kind]
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>") and f"<h1>{GATEWAY_KINDS[kind]} " in response.text
    assert not_json(response.content)
    assert "date" in response.headers
    (recorded,) = sb.requests()
    assert (recorded.fault, recorded.status, recorded.code) == (kind, GATEWAY_KINDS[kind], None)
    assert sb.fault_counts() == {kind: 1}
    # One shot: the next request gets the service's own answer.
    assert http.post(**request, timeout=10).status_code == 200


def test_nxcloud_throttle_is_a_bare_429(sb: SandboxServer, http: requests.Session) -> None:
    sb.fail_next("throttle")
    response = http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10)
    assert response.status_code == 429
    assert not_json(response.content) and "429 Too Many Requests" in response.text
    assert sb.requests()[0].fault == "throttle"


def test_cams_throttle_is_throttling_user_with_a_retry_after(
    sb: SandboxServer, http: requests.Session
) -> None:
    sb.fail_next("throttle")
    response = http.post(**cams_request(sb), timeout=10)
    assert response.status_code == 400
    assert response.headers["x-acs-retry-after"] == "1000"  # milliseconds
    answer = response.json()
    assert set(answer) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert answer["Code"] == "Throttling.User"
    assert response.headers["x-acs-request-id"] == answer["RequestId"]
    (recorded,) = sb.requests()
    assert (recorded.fault, recorded.status, recorded.code, recorded.action) == (
        "throttle",
        400,
        "Throttling.User",
        LIST,
    )


@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_reset_and_lost_break_the_connection(sb: SandboxServer, http: requests.Session, service: str) -> None:
    request = nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY) if service == "nxcloud" else cams_request(sb)
    sb.fail_next("reset")
    with pytest.raises(requests.ConnectionError, match="Connection reset by peer"):
        http.post(**request, timeout=10)
    sb.fail_next("lost")
    with pytest.raises(requests.ConnectionError, match="closed connection without response"):
        http.post(**request, timeout=10)
    reset, lost = sb.requests()
    assert (reset.fault, reset.status, reset.code) == ("reset", 0, None)
    # The service answered the lost request; only the client never got to know.
    assert (lost.fault, lost.status, lost.code) == ("lost", 200, 0 if service == "nxcloud" else "OK")
    assert sb.fault_counts() == {"reset": 1, "lost": 1}


@pytest.mark.parametrize("service", ["nxcloud", "cams"])
def test_truncated_is_the_real_answer_cut_short(
    sb: SandboxServer, http: requests.Session, service: str
) -> None:
    if service == "nxcloud":
        request = nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY)
        whole = http.post(**request, timeout=10).content
    else:
        request = cams_request(sb)
        whole = json.dumps(http.post(**cams_request(sb), timeout=10).json()).encode()
    sb.fail_next("truncated")
    response = http.post(**request, timeout=10)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content) > 0
    assert not_json(response.content)
    if service == "nxcloud":
        assert whole.startswith(response.content) and len(response.content) < len(whole)
    else:  # a fresh RequestId each time: compare what precedes it
        assert response.content.startswith(b'{"RequestId":')
    assert sb.requests()[-1].fault == "truncated"


def test_slow_answers_after_slow_seconds(sb: SandboxServer, http: requests.Session) -> None:
    request = nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY)
    sb.fail_next("slow", slow_seconds=SLOW)
    with pytest.raises(requests.ReadTimeout):
        http.post(**request, timeout=SHORT_TIMEOUT)
    eventually(lambda: sb.request_count() == 1)  # logged once the server sees the client hang up
    sb.fail_next("slow", slow_seconds=SLOW)
    started = time.monotonic()
    response = http.post(**request, timeout=10)
    assert time.monotonic() - started >= SLOW
    assert response.status_code == 200 and response.json()["code"] == 0
    assert [r.fault for r in sb.requests()] == ["slow", "slow"]
    assert sb.fault_counts() == {"slow": 2}


def test_the_plan_sets_slow_seconds(sb: SandboxServer, http: requests.Session) -> None:
    sb.set_faults(rate=1.0, kinds=["slow"], slow_seconds=SLOW)
    with pytest.raises(requests.ReadTimeout):
        http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=SHORT_TIMEOUT)
    eventually(lambda: [r.fault for r in sb.requests()] == ["slow"])  # done before the next test resets


# --- what aiohttp sees ----------------------------------------------------------------------------


@pytest.fixture
async def aio() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


async def aio_post(
    session: aiohttp.ClientSession, request: dict[str, Any], timeout: float = 10
) -> tuple[int, bytes]:
    async with session.post(
        request["url"],
        data=request["data"],
        headers=request["headers"],
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as response:
        return response.status, await response.read()


@pytest.mark.parametrize("service", ["nxcloud", "cams"])
async def test_aiohttp_sees_every_kind(sb: SandboxServer, aio: aiohttp.ClientSession, service: str) -> None:
    def request() -> dict[str, Any]:
        return nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY) if service == "nxcloud" else cams_request(sb)

    for kind, status in GATEWAY_KINDS.items():
        sb.fail_next(kind)
        got, content = await aio_post(aio, request())
        assert (got, not_json(content)) == (status, True)
    sb.fail_next("throttle")
    got, content = await aio_post(aio, request())
    if service == "nxcloud":
        assert (got, not_json(content)) == (429, True)
    else:
        assert (got, json.loads(content)["Code"]) == (400, "Throttling.User")
    sb.fail_next("truncated")
    got, content = await aio_post(aio, request())
    assert (got, not_json(content), len(content) > 0) == (200, True, True)
    for kind in ("reset", "lost"):
        sb.fail_next(kind)
        # Not a parsed answer: a broken connection (aiohttp does not resend a POST).
        with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
            await aio_post(aio, request())
    sb.fail_next("slow", slow_seconds=SLOW)
    with pytest.raises(asyncio.TimeoutError):  # the built-in TimeoutError from Python 3.11
        await aio_post(aio, request(), timeout=SHORT_TIMEOUT)
    got, content = await aio_post(aio, request())  # and the session still works
    assert got == 200 and not not_json(content)
    expected = {kind: 1 for kind in FAULT_KINDS}
    assert sb.fault_counts() == expected
    # The slow one is logged once the server notices the hang-up, maybe after the last answer.
    await eventually_async(lambda: sorted(r.fault for r in sb.requests() if r.fault) == sorted(FAULT_KINDS))


# --- state: untouched before processing, changed after --------------------------------------------


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_number_check_submit_is_charged_only_if_processed(
    sb: SandboxServer, http: requests.Session, kind: str
) -> None:
    before = balance(sb)
    batch_no = f"fault-{kind}"
    sb.fail_next(kind, slow_seconds=SLOW)
    try:
        response = http.post(**submit_request(sb, batch_no), timeout=SHORT_TIMEOUT)
    except requests.RequestException:
        response = None
    processed = kind not in BEFORE_PROCESSING
    if response is not None:  # the kinds that answer at all never answer with the service's envelope
        assert kind in {"http_500", "http_502", "http_503", "throttle", "truncated"}
        assert not_json(response.content)
    if processed:
        price = Decimal(data.NUMBER_CHECK_PRICES[1]) * len(CHECK_PHONES)
        eventually(lambda: balance(sb) == before - price)
        assert found_in_batch(sb, http, batch_no) == len(CHECK_PHONES)
    else:
        assert balance(sb) == before
        assert found_in_batch(sb, http, batch_no) == 0
    eventually(lambda: sb.request_count(CHECK) == 1)
    (recorded,) = sb.requests(CHECK)
    assert recorded.fault == kind
    assert (recorded.code == 0) is processed  # the backend's answer, whether or not it reached the client


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_cams_nonce_is_used_up_only_if_processed(
    sb: SandboxServer, http: requests.Session, kind: str
) -> None:
    request = cams_request(sb)
    sb.fail_next(kind, slow_seconds=SLOW)
    with contextlib.suppress(requests.RequestException):
        http.post(**request, timeout=SHORT_TIMEOUT)
    eventually(lambda: sb.request_count() == 1)
    again = http.post(**request, timeout=10)  # the very same signed request, nonce included
    if kind in BEFORE_PROCESSING:
        assert (again.status_code, again.json()["Code"]) == (200, "OK")
    else:
        assert (again.status_code, again.json()["Code"]) == (400, "SignatureNonceUsed")


# --- the seeded plan over HTTP ---------------------------------------------------------------------


def outcome(http: requests.Session, request: dict[str, Any]) -> str:
    try:
        response = http.post(**request, timeout=10)
    except requests.ConnectionError:
        return "broken"
    return f"{response.status_code}:{'json' if not not_json(response.content) else 'raw'}"


def test_the_seeded_plan_repeats_over_http(sb: SandboxServer, http: requests.Session) -> None:
    kinds = ("http_502", "http_503", "reset", "throttle", "truncated", "lost")

    def run() -> tuple[list[str], list[str | None], dict[str, int]]:
        sb.reset()
        sb.set_faults(rate=0.4, kinds=kinds, seed=11)
        seen = [outcome(http, nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY)) for _ in range(40)]
        return seen, [r.fault for r in sb.requests()], sb.fault_counts()

    first = run()
    assert first == run()
    seen, faults, counts = first
    assert sum(counts.values()) == sum(1 for fault in faults if fault) >= 5
    expected = {
        None: "200:json",
        "http_502": "502:raw",
        "http_503": "503:raw",
        "reset": "broken",
        "throttle": "429:raw",
        "truncated": "200:raw",
        "lost": "broken",
    }
    assert seen == [expected[fault] for fault in faults]
    sb.reset()
    sb.set_faults(rate=0.4, kinds=kinds, seed=12)
    assert [outcome(http, nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY)) for _ in range(40)] != seen


def test_plan_limited_to_paths_and_actions(sb: SandboxServer, http: requests.Session) -> None:
    sb.set_faults(rate=1.0, kinds=["http_503"], paths=["/"], actions=[LIST])
    assert http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code == 200
    assert http.post(**cams_request(sb, "QueryPhoneBusinessProfile"), timeout=10).status_code != 503
    assert http.post(**cams_request(sb, LIST), timeout=10).status_code == 503
    assert sb.fault_counts() == {"http_503": 1}


def test_admin_paths_never_fault(sb: SandboxServer, http: requests.Session) -> None:
    sb.set_faults(rate=1.0, kinds=["reset"])
    assert http.get(sb.url + "/_sandbox/health", timeout=10).json() == {"status": "ok"}
    assert http.get(sb.url + "/_sandbox/requests", timeout=10).json() == []
    assert sb.fault_counts() == {}


def test_reset_clears_the_faults(sb: SandboxServer, http: requests.Session) -> None:
    sb.set_faults(rate=1.0, kinds=["http_500"])
    sb.fail_next("reset")
    sb.reset()
    assert http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code == 200
    assert sb.fault_counts() == {}
    sb.set_faults(rate=1.0, kinds=["http_500"])
    sb.clear_faults()
    assert http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code == 200


def test_admin_endpoints(sb: SandboxServer, http: requests.Session) -> None:
    base = sb.url + "/_sandbox/faults"
    assert http.get(base, timeout=10).json() == {"plan": None, "next": [], "counts": {}}
    plan = {"rate": 1.0, "kinds": ["http_502"], "seed": 4, "paths": [GET_PHONE], "slow_seconds": 1.5}
    described = http.post(base, json=plan, timeout=10).json()
    assert described["plan"] == {**plan, "actions": None}
    queued = http.post(base + "/next", json={"kind": "throttle", "count": 2, "path": GET_PHONE}, timeout=10)
    assert queued.json()["next"] == [
        {"kind": "throttle", "count": 2, "path": GET_PHONE, "action": None, "slow_seconds": None}
    ]
    statuses = [
        http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code for _ in range(3)
    ]
    assert statuses == [429, 429, 502]
    assert http.get(base, timeout=10).json()["counts"] == {"http_502": 1, "throttle": 2}
    assert [entry.get("fault") for entry in http.get(sb.url + "/_sandbox/requests", timeout=10).json()] == [
        "throttle",
        "throttle",
        "http_502",
    ]
    assert http.delete(base, timeout=10).json() == {"plan": None, "next": [], "counts": {}}
    assert http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code == 200
    bad_kind = http.post(base + "/next", json={"kind": "http_504"}, timeout=10)
    assert bad_kind.status_code == 400 and "http_504" in bad_kind.json()["detail"]
    assert http.post(base, json={"rate": 0.5, "kinds": ["nope"]}, timeout=10).status_code == 400
    assert http.post(base, json={"rate": 2}, timeout=10).status_code == 422


def test_start_up_faults_survive_reset() -> None:
    with (
        SandboxServer(
            time_scale=0.0, faults={"rate": 1.0, "kinds": ["http_502"], "paths": [GET_PHONE]}
        ) as sb,
        requests.Session() as http,
    ):
        assert http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code == 502
        sb.reset()
        assert sb.fault_counts() == {}
        assert http.post(**nxcloud_request(sb, GET_PHONE, GET_PHONE_BODY), timeout=10).status_code == 502
        assert sb.fault_counts() == {"http_502": 1}


def test_cli_starts_with_a_fault_plan(tmp_path: Path) -> None:
    ready_file = tmp_path / "ready"
    command = [sys.executable, "-m", "airflow_provider_wa_phones.sandbox", "--port", "0"]
    command += ["--fault-rate", "1", "--fault-kinds", "http_503", "--ready-file", str(ready_file)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ready_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sandbox did not start within 30 s"
            time.sleep(0.02)
        url = ready_file.read_text().strip()
        body = json.dumps(GET_PHONE_BODY).encode()
        headers = signing.nxcloud_headers(
            data.NXCLOUD_ACCESS_KEY, data.NXCLOUD_ACCESS_SECRET, "getPhone", "2", body
        )
        assert requests.post(url + GET_PHONE, data=body, headers=headers, timeout=10).status_code == 503
        assert requests.get(url + "/_sandbox/faults", timeout=10).json()["counts"] == {"http_503": 1}
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "Injecting faults into 100% of service requests: http_503" in stderr


# --- the provider's hooks against real faults -----------------------------------------------------


@pytest.fixture
def sandbox_env(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    for name, value in sb.airflow_env().items():
        monkeypatch.setenv(name, value)
    return sb


def test_the_hook_retries_a_reset_read_but_never_resends_a_lost_submit(sandbox_env: SandboxServer) -> None:
    from airflow_provider_wa_phones.exceptions import TransportError
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
    from airflow_provider_wa_phones.retry import RetryPolicy

    sb = sandbox_env
    hook = NxCloudHook(retry_policy=RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0))
    try:
        sb.fail_next("reset", path=GET_PHONE)
        sb.fail_next("truncated", path=GET_PHONE)
        assert len(hook.get_phone_info(["6281234567890"])) == 1
        assert [r.fault for r in sb.requests(GET_PHONE)] == ["reset", "truncated", None]
        before = balance(sb)
        sb.fail_next("lost", path=CHECK)
        with pytest.raises(TransportError) as error:
            # The sandbox clock stands still, so the lost batch has no results to find yet.
            hook.submit_number_check(["8613800138000"], batch_no="lost-once", lost_response_wait=0)
        assert any("may have been accepted" in note for note in error.value.__notes__)
        assert sb.request_count(CHECK) == 1  # charged once, not resent
        assert balance(sb) == before - Decimal(data.NUMBER_CHECK_PRICES[1])
    finally:
        hook.close()
