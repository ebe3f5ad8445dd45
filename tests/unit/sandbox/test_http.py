"""The sandbox over real HTTP, through SandboxServer, signing requests with a helper of its own."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
import requests

from airflow_provider_wa_phones.sandbox import SandboxServer, data

GET_PHONE = "/api/wa/getPhone"
PHONE_LIST = "/api/wa/integrator/embedded/register/phoneList"
CHECK = "/api/number/check"
QUERY = "/api/number/query"
OPERATION = {
    GET_PHONE: ("2", "getPhone"),
    PHONE_LIST: ("2", "phoneList"),
    CHECK: ("1", "numbercheck"),
    QUERY: ("1", "numbercheck"),
}


def signed_headers(path: str, body: bytes, *, key: str, secret: str, ts: int | None = None) -> dict[str, str]:
    """NxCloud's common headers for ``body``, signed the way the published convention says."""
    biz_type, action = OPERATION[path]
    ts_text = str(ts if ts is not None else int(time.time() * 1000))
    plain = f"accessKey={key}&action={action}&bizType={biz_type}&ts={ts_text}".encode()
    if body:
        plain += b"&body=" + body
    plain += f"&accessSecret={secret}".encode()
    return {
        "accessKey": key,
        "ts": ts_text,
        "bizType": biz_type,
        "action": action,
        "sign": hashlib.md5(plain).hexdigest(),
        "Content-Type": "application/json",
    }


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(seed=0, time_scale=0.0) as sb:
        yield sb


@pytest.fixture
def sb(server: SandboxServer) -> SandboxServer:
    server.reset()
    return server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def call(
    sb: SandboxServer,
    http: requests.Session,
    path: str,
    payload: dict[str, Any] | bytes,
    *,
    key: str = data.NXCLOUD_ACCESS_KEY,
    secret: str = data.NXCLOUD_ACCESS_SECRET,
    ts: int | None = None,
) -> requests.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers(path, body, key=key, secret=secret, ts=ts)
    return http.post(sb.url + path, data=body, headers=headers, timeout=10)


def server_today(sb: SandboxServer) -> str:
    return dt.datetime.fromtimestamp(sb.state.clock.wall_time(), dt.timezone.utc).date().isoformat()


def test_url_and_port_are_local(sb: SandboxServer) -> None:
    assert sb.url == f"http://127.0.0.1:{sb.port}"
    assert sb.port > 0


def test_get_phone_over_http_keeps_non_ascii(sb: SandboxServer, session: requests.Session) -> None:
    response = call(sb, session, GET_PHONE, {"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    envelope = response.json()
    assert (envelope["code"], envelope["message"]) == (0, "Request successful")
    assert envelope["data"]["8613800001234"][0]["verified_name"] == "牛小信科技"


def test_signature_covers_raw_non_ascii_bytes(sb: SandboxServer, session: requests.Session) -> None:
    # Non-ASCII text, odd spacing and key order: the server must hash exactly these bytes.
    raw = '{ "phone":"6281234567890",  "batchNo":"批次-1", "appkey":"sandbox-wa-app"}'.encode()
    envelope = call(sb, session, CHECK, raw).json()
    assert (envelope["code"], envelope["msg"], envelope["data"]["batchNo"]) == (0, "success", "批次-1")
    headers = signed_headers(CHECK, raw, key=data.NXCLOUD_ACCESS_KEY, secret=data.NXCLOUD_ACCESS_SECRET)
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    tampered = session.post(sb.url + CHECK, data=reserialised, headers=headers, timeout=10).json()
    assert (tampered["code"], tampered["msg"]) == (1003, "invalid signature")


def test_header_names_are_case_insensitive(sb: SandboxServer, session: requests.Session) -> None:
    body = json.dumps({"appkey": data.NXCLOUD_APPKEY}).encode()
    headers = signed_headers(PHONE_LIST, body, key=data.NXCLOUD_ACCESS_KEY, secret=data.NXCLOUD_ACCESS_SECRET)
    shouted = {name.upper(): value for name, value in headers.items()}
    envelope = session.post(sb.url + PHONE_LIST, data=body, headers=shouted, timeout=10).json()
    assert envelope["code"] == 0
    assert len(envelope["data"]) == 5


@pytest.mark.parametrize(
    ("path", "payload", "credentials", "code", "text_key"),
    [
        (GET_PHONE, {"appkey": data.NXCLOUD_APPKEY}, None, 9000, "message"),
        (PHONE_LIST, {"appkey": data.NXCLOUD_BASIC_APPKEY}, "basic", 9007, "message"),
        (GET_PHONE, {"appkey": "x", "messaging_product": "whatsapp"}, "checkonly", 1005, "message"),
        (GET_PHONE, {"appkey": "x"}, "unknown", 1005, "message"),
        (CHECK, b"[1, 2]", None, 1002, "msg"),
        (CHECK, b"", None, 1002, "msg"),
        (QUERY, {"batchNo": "b", "page": 1, "pageSize": 1, "date": "12/01/2024"}, None, 88, "msg"),
    ],
)
def test_failures_use_the_envelope_of_their_page(
    sb: SandboxServer,
    session: requests.Session,
    path: str,
    payload: dict[str, Any] | bytes,
    credentials: str | None,
    code: int,
    text_key: str,
) -> None:
    key, secret = {
        None: (data.NXCLOUD_ACCESS_KEY, data.NXCLOUD_ACCESS_SECRET),
        "basic": (data.NXCLOUD_BASIC_ACCESS_KEY, data.NXCLOUD_BASIC_ACCESS_SECRET),
        "checkonly": (data.NXCLOUD_CHECKONLY_ACCESS_KEY, data.NXCLOUD_CHECKONLY_ACCESS_SECRET),
        "unknown": ("nobody", "nothing"),
    }[credentials]
    response = call(sb, session, path, payload, key=key, secret=secret)
    assert response.status_code == 200
    envelope = response.json()
    assert envelope["code"] == code
    assert set(envelope) == {"code", text_key, "data"}
    assert envelope["data"] == ({} if text_key == "msg" else None)


def test_missing_headers_are_1001(sb: SandboxServer, session: requests.Session) -> None:
    envelope = session.post(sb.url + GET_PHONE, json={"appkey": "x"}, timeout=10).json()
    assert envelope["code"] == 1001
    assert "accessKey" in envelope["message"]


def test_date_header_and_time_window_follow_the_clock_offset(
    sb: SandboxServer, session: requests.Session
) -> None:
    sb.set_clock_offset(-3600)
    response = call(sb, session, GET_PHONE, {"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"})
    server_date = parsedate_to_datetime(response.headers["date"]).timestamp()
    assert server_date == pytest.approx(time.time() - 3600, abs=5)
    assert response.headers.get("server") is None
    assert response.json()["code"] == 1004  # our real-time ts is an hour ahead of the sandbox
    in_sync = call(
        sb,
        session,
        GET_PHONE,
        {"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"},
        ts=int(server_date * 1000),
    )
    assert in_sync.json()["code"] == 0


def test_request_log_and_counters(sb: SandboxServer, session: requests.Session) -> None:
    call(sb, session, GET_PHONE, {"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"})
    call(sb, session, GET_PHONE, {"appkey": "no-such-app", "messaging_product": "whatsapp"})
    call(sb, session, PHONE_LIST, {"appkey": data.NXCLOUD_APPKEY})
    session.get(sb.url + "/_sandbox/health", timeout=10)  # admin calls are not recorded
    assert (sb.request_count(), sb.request_count(GET_PHONE), sb.request_count(PHONE_LIST)) == (3, 2, 1)
    first, second = sb.requests(GET_PHONE)
    assert (first.method, first.status, first.code, second.code) == ("POST", 200, 0, 9008)
    assert first.headers["accesskey"] == data.NXCLOUD_ACCESS_KEY
    assert json.loads(second.body) == {"appkey": "no-such-app", "messaging_product": "whatsapp"}
    assert first.server_time == pytest.approx(time.time(), abs=5)
    listed = session.get(sb.url + "/_sandbox/requests", params={"path": GET_PHONE}, timeout=10).json()
    assert [json.loads(entry["body"])["appkey"] for entry in listed] == [data.NXCLOUD_APPKEY, "no-such-app"]
    count = session.get(sb.url + "/_sandbox/requests/count", params={"path": PHONE_LIST}, timeout=10).json()
    assert count["count"] == 1
    assert session.delete(sb.url + "/_sandbox/requests", timeout=10).json() == {"status": "ok"}
    assert sb.request_count() == 0


def test_unknown_paths_are_404_json_and_recorded(sb: SandboxServer, session: requests.Session) -> None:
    response = session.post(sb.url + "/api/wa/nothing", data=b"{}", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert [(r.path, r.status, r.code, r.body) for r in sb.requests()] == [
        ("/api/wa/nothing", 404, None, b"{}")
    ]


def test_admin_clock_advance_and_reset(sb: SandboxServer, session: requests.Session) -> None:
    def status() -> str:
        body = {
            "appkey": data.NXCLOUD_APPKEY,
            "messaging_product": "whatsapp",
            "business_phones": "6281234567890",
        }
        return call(sb, session, GET_PHONE, body).json()["data"]["6281234567890"][0]["status"]

    assert session.get(sb.url + "/_sandbox/health", timeout=10).json() == {"status": "ok"}
    assert status() == "PENDING"
    assert session.post(sb.url + "/_sandbox/advance", json={"seconds": 5}, timeout=10).json() == {
        "elapsed": 5.0
    }
    assert status() == "CONNECTED"
    assert session.post(sb.url + "/_sandbox/advance", json={"seconds": -1}, timeout=10).status_code == 422
    clock = session.post(sb.url + "/_sandbox/clock", json={"offset_seconds": 120}, timeout=10).json()
    assert clock["offset_seconds"] == 120
    assert sb.state.clock.wall_time() == pytest.approx(time.time() + 120, abs=5)
    assert session.post(sb.url + "/_sandbox/reset", timeout=10).json() == {"status": "ok"}
    assert sb.state.clock.offset_seconds == 0
    assert status() == "PENDING"


def test_number_check_round_trip(sb: SandboxServer, session: requests.Session) -> None:
    submitted = call(
        sb, session, CHECK, {"appkey": data.NXCLOUD_APPKEY, "phone": "6281234567890,6281234567891"}
    ).json()
    assert submitted["code"] == 0
    query = {"batchNo": submitted["data"]["batchNo"], "page": 1, "pageSize": 100, "date": server_today(sb)}
    assert call(sb, session, QUERY, query).json()["data"]["totalSize"] == 0
    sb.advance(3)
    envelope = call(sb, session, QUERY, query).json()
    assert (envelope["code"], envelope["msg"]) == (0, "Request successful")
    # A several-number submit's records carry "<its id>-<6 digits>", as NxCloud's wiki says.
    records = envelope["data"]["result"]
    assert sorted(r["phone"] for r in records) == ["6281234567890", "6281234567891"]
    for record in records:
        assert re.fullmatch(re.escape(submitted["data"]["messageId"]) + r"-\d{6}", record["messageId"])


def test_preloaded_100k_batch_pages_over_http(sb: SandboxServer, session: requests.Session) -> None:
    preload = session.post(
        sb.url + "/_sandbox/nxcloud/batches", json={"batch_no": "bulk", "count": 100_000}, timeout=30
    ).json()
    assert (preload["batch_no"], preload["count"], preload["date"]) == ("bulk", 100_000, server_today(sb))
    query = {"batchNo": "bulk", "page": 1000, "pageSize": 100, "date": preload["date"]}
    page = call(sb, session, QUERY, query).json()["data"]
    assert (page["page"], page["pageSize"], page["totalPage"], page["totalSize"]) == (
        1000,
        100,
        1000,
        100_000,
    )
    assert all(r["messageId"].startswith(f"{preload['message_id']}-") for r in page["result"])
    assert len({r["phone"] for r in page["result"]}) == 100
    bad = session.post(sb.url + "/_sandbox/nxcloud/batches", json={"batch_no": "x", "count": 0}, timeout=10)
    assert bad.status_code == 400
    assert "count" in bad.json()["detail"]


def test_preload_helper_uses_the_given_appkey_and_date(sb: SandboxServer, session: requests.Session) -> None:
    yesterday = (dt.date.fromisoformat(server_today(sb)) - dt.timedelta(days=1)).isoformat()
    preload = sb.preload_number_check_batch("old", 5, date=yesterday, appkey=data.NXCLOUD_BASIC_APPKEY)
    assert preload["date"] == yesterday
    query = {"batchNo": "old", "page": 1, "pageSize": 100, "date": yesterday}
    mine = call(sb, session, QUERY, query).json()["data"]["totalSize"]
    theirs = call(
        sb, session, QUERY, query, key=data.NXCLOUD_BASIC_ACCESS_KEY, secret=data.NXCLOUD_BASIC_ACCESS_SECRET
    ).json()["data"]["totalSize"]
    assert (mine, theirs) == (0, 5)


def test_connections_point_at_the_sandbox(sb: SandboxServer) -> None:
    connection = sb.connections()["nxcloud_default"]
    assert connection == {
        "conn_type": "nxcloud",
        "host": sb.url,
        "login": "sandbox-nx-access-key",
        "password": "sandbox-nx-access-secret",
        "extra": {"appkey": "sandbox-wa-app"},
    }
    assert json.loads(sb.airflow_env()["AIRFLOW_CONN_NXCLOUD_DEFAULT"]) == connection


def test_start_stop_releases_the_port() -> None:
    sandbox = SandboxServer().start()
    url = sandbox.url
    assert requests.get(url + "/_sandbox/health", timeout=10).json() == {"status": "ok"}
    with pytest.raises(RuntimeError, match="already running"):
        sandbox.start()
    sandbox.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=10)
    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.url
    sandbox.stop()  # stopping twice is harmless
