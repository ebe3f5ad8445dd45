"""CAMS over real HTTP through SandboxServer, signing requests with an ACS3 signer of this file's own."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from airflow_provider_wa_phones.sandbox import SandboxServer, data

LIST = "QueryChatappPhoneNumbers"
PROFILE = "QueryPhoneBusinessProfile"
UPPER_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
GATEWAY_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}


def encode(text: str) -> str:
    return quote(text, safe="-_.~")


def signed(
    sb: SandboxServer,
    action: str,
    params: dict[str, str],
    *,
    method: str = "POST",
    key_id: str = data.CAMS_ACCESS_KEY_ID,
    secret: str = data.CAMS_ACCESS_KEY_SECRET,
    token: str | None = None,
    version: str = "2020-06-06",
    date: float | None = None,
    nonce: str | None = None,
) -> tuple[str, dict[str, str]]:
    """``(canonical query, headers)`` of a request signed per Alibaba Cloud signature V3."""
    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    empty_hash = hashlib.sha256(b"").hexdigest()
    headers = {
        "host": urlsplit(sb.url).netloc,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if date is None else date)),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": empty_hash,
    }
    if token is not None:
        headers["x-acs-security-token"] = token
    names = sorted(headers)
    canonical = "\n".join(
        [method, "/", query, "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names), empty_hash]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    sig = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={';'.join(names)},Signature={sig}"
    )
    return query, headers


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(time_scale=0.0) as sb:
        yield sb


@pytest.fixture
def sb(server: SandboxServer) -> SandboxServer:
    server.reset()
    return server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def call(
    sb: SandboxServer, http: requests.Session, action: str, params: dict[str, str], **options: Any
) -> requests.Response:
    method = options.get("method", "POST")
    query, headers = signed(sb, action, params, **options)
    return http.request(method, f"{sb.url}/?{query}", headers=headers, timeout=10)


def test_list_phones_over_post_and_get(sb: SandboxServer, http: requests.Session) -> None:
    for method in ("POST", "GET"):
        response = call(sb, http, LIST, {"CustSpaceId": "cams-space-demo"}, method=method)
        assert response.status_code == 200
        body = response.json()
        assert (body["Code"], body["Message"], body["Success"], body["AccessDeniedDetail"]) == (
            "OK",
            "SUCCESS",
            True,
            "None",
        )
        assert [p["PhoneNumber"] for p in body["PhoneNumbers"]] == [
            "8613900001111",
            "6591110000",
            "6281299990000",
            "60123456789",
        ]
        assert UPPER_UUID.fullmatch(body["RequestId"])
        assert response.headers["x-acs-request-id"] == body["RequestId"]


def test_status_filter_and_timeline_over_http(sb: SandboxServer, http: requests.Session) -> None:
    def banned() -> list[str]:
        body = call(sb, http, LIST, {"Status": "BANNED"}).json()
        return [p["PhoneNumber"] for p in body["PhoneNumbers"]]

    assert banned() == []
    sb.advance(9)
    assert banned() == ["6281299990000"]


def test_profile_keeps_non_ascii(sb: SandboxServer, http: requests.Session) -> None:
    response = call(sb, http, PROFILE, {"CustSpaceId": "cams-space-demo", "PhoneNumber": "8613900001111"})
    assert response.status_code == 200
    assert "长沙市岳麓区".encode() in response.content
    body = response.json()
    assert (body["Code"], body["Message"], body["Success"]) == ("OK", "None", True)
    assert body["Data"]["Websites"] == ["https://sandbox.example.com/ali-demo-store", "https://alibaba.com"]


HOST = "cams.ap-southeast-1.aliyuncs.com"


def test_query_values_are_verified_byte_for_byte(sb: SandboxServer, http: requests.Session) -> None:
    # Spaces, "*", "/", "+" and non-ASCII: the signature only verifies if the server re-encodes exactly.
    params = {"CustSpaceId": "空间 a*b/c+d~e"}
    query, headers = signed(sb, LIST, params)
    assert "%20" in query and "%2A" in query and "%2F" in query and "%2B" in query
    body = http.post(f"{sb.url}/?{query}", headers=headers, timeout=10).json()
    assert (body["Code"], body["HostId"]) == ("Unknown.ResourceOwnerId", HOST)  # verified, then refused
    # The official SDK sends a space as "+" while signing "%20"; the sandbox reads it as a space.
    query, headers = signed(sb, LIST, {"CustSpaceId": "cams space"})
    assert "%20" in query
    response = http.post(f"{sb.url}/?{query.replace('%20', '+')}", headers=headers, timeout=10)
    assert response.json()["Code"] == "Unknown.ResourceOwnerId"


def test_business_failures_are_http_200(sb: SandboxServer, http: requests.Session) -> None:
    missing = call(sb, http, PROFILE, {"CustSpaceId": "cams-space-demo", "PhoneNumber": "971501234567"})
    for response, code in ((missing, "PhoneNumber.NotExist"),):
        assert response.status_code == 200
        body = response.json()
        assert (body["Code"], body["Success"]) == (code, False)
        assert UPPER_UUID.fullmatch(body["RequestId"])


@pytest.mark.parametrize(
    ("options", "action", "params", "status", "code"),
    [
        ({"secret": "wrong"}, LIST, {}, 400, "SignatureDoesNotMatch"),
        ({"key_id": "LTAI5tNobody"}, LIST, {}, 404, "InvalidAccessKeyId.NotFound"),
        ({"version": "2017-05-25"}, LIST, {}, 400, "InvalidVersion"),
        ({}, "SendChatappMessage", {}, 404, "InvalidAction.NotFound"),
        (
            {"key_id": data.CAMS_NOCAMS_ACCESS_KEY_ID, "secret": data.CAMS_NOCAMS_ACCESS_KEY_SECRET},
            LIST,
            {},
            400,
            "Product.Unsubscript",
        ),
        (
            {"key_id": data.CAMS_RAM_DENIED_ACCESS_KEY_ID, "secret": data.CAMS_RAM_DENIED_ACCESS_KEY_SECRET},
            PROFILE,
            {"CustSpaceId": "cams-space-demo", "PhoneNumber": "8613900001111"},
            400,
            "Ram.PermissionDeny",
        ),
        (
            {"key_id": data.CAMS_STS_ACCESS_KEY_ID, "secret": data.CAMS_STS_ACCESS_KEY_SECRET},
            LIST,
            {},
            400,
            "MissingSecurityToken",
        ),
        (
            {
                "key_id": data.CAMS_STS_ACCESS_KEY_ID,
                "secret": data.CAMS_STS_ACCESS_KEY_SECRET,
                "token": "not a token",
            },
            LIST,
            {},
            400,
            "InvalidSecurityToken.Malformed",
        ),
        (
            {
                "key_id": data.CAMS_EXPIRED_STS_ACCESS_KEY_ID,
                "secret": data.CAMS_EXPIRED_STS_ACCESS_KEY_SECRET,
                "token": data.CAMS_EXPIRED_STS_SECURITY_TOKEN,
            },
            LIST,
            {},
            400,
            "InvalidSecurityToken.Expired",
        ),
        (
            {"key_id": data.CAMS_INACTIVE_ACCESS_KEY_ID, "secret": data.CAMS_INACTIVE_ACCESS_KEY_SECRET},
            LIST,
            {},
            400,
            "InvalidAccessKeyId.Inactive",
        ),
        ({}, LIST, {"CustSpaceId": "someone-elses-space"}, 400, "Unknown.ResourceOwnerId"),
        ({"date": time.time() - 16 * 60}, LIST, {}, 400, "InvalidTimeStamp.Expired"),
        ({}, PROFILE, {"CustSpaceId": "cams-space-demo"}, 400, "MissingParameter"),
    ],
)
def test_gateway_errors_have_the_documented_shape(
    sb: SandboxServer,
    http: requests.Session,
    options: dict[str, Any],
    action: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = call(sb, http, action, params, **options)
    assert response.status_code == status
    body = response.json()
    assert body["Code"] == code
    assert set(body) - {"AccessDeniedDetail"} == GATEWAY_FIELDS
    assert body["HostId"] == "cams.ap-southeast-1.aliyuncs.com"
    assert body["Recommend"].endswith(f"?q={code}&product=cams&requestId={body['RequestId']}")
    assert response.headers["x-acs-request-id"] == body["RequestId"]
    if code == "MissingParameter":
        assert body["Message"] == (
            "The input parameter PhoneNumber that is mandatory for processing this request is not supplied."
        )
    if code == "Ram.PermissionDeny":
        assert body["AccessDeniedDetail"]["AuthAction"] == f"cams:{PROFILE}"


def test_unsigned_request_is_incomplete(sb: SandboxServer, http: requests.Session) -> None:
    response = http.post(f"{sb.url}/?CustSpaceId=cams-space-demo", headers={"x-acs-action": LIST}, timeout=10)
    assert (response.status_code, response.json()["Code"]) == (400, "IncompleteSignature")


def test_request_ids_are_unique(sb: SandboxServer, http: requests.Session) -> None:
    ids = {
        call(sb, http, LIST, {}, secret="wrong" if i % 2 else data.CAMS_ACCESS_KEY_SECRET).json()["RequestId"]
        for i in range(6)
    }
    assert len(ids) == 6


def test_sts_credentials(sb: SandboxServer, http: requests.Session) -> None:
    response = call(
        sb,
        http,
        LIST,
        {},
        key_id=data.CAMS_STS_ACCESS_KEY_ID,
        secret=data.CAMS_STS_ACCESS_KEY_SECRET,
        token=data.CAMS_STS_SECURITY_TOKEN,
    )
    assert (response.status_code, response.json()["Code"], len(response.json()["PhoneNumbers"])) == (
        200,
        "OK",
        4,
    )
    wrong = call(
        sb,
        http,
        LIST,
        {},
        key_id=data.CAMS_STS_ACCESS_KEY_ID,
        secret=data.CAMS_STS_ACCESS_KEY_SECRET,
        token="x",
    )
    assert wrong.json()["Code"] == "InvalidSecurityToken.MismatchWithAccessKey"


def test_replayed_request_is_refused(sb: SandboxServer, http: requests.Session) -> None:
    query, headers = signed(sb, LIST, {})
    first = http.post(f"{sb.url}/?{query}", headers=headers, timeout=10)
    replay = http.post(f"{sb.url}/?{query}", headers=headers, timeout=10)
    assert (first.json()["Code"], replay.status_code, replay.json()["Code"]) == (
        "OK",
        400,
        "SignatureNonceUsed",
    )


def test_date_window_follows_the_server_clock(sb: SandboxServer, http: requests.Session) -> None:
    sb.set_clock_offset(-16 * 60)
    assert call(sb, http, LIST, {}).json()["Code"] == "InvalidTimeStamp.Expired"
    assert call(sb, http, LIST, {}, date=sb.state.clock.wall_time()).json()["Code"] == "OK"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_throttling_per_key_and_action(
    sb: SandboxServer, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeMonotonic()
    monkeypatch.setattr(sb.state.cams, "monotonic", clock)  # frozen time: every call is in one window
    codes = [call(sb, http, LIST, {}).json()["Code"] for _ in range(10)]
    assert codes == ["OK"] * 10
    throttled = call(sb, http, LIST, {})
    assert (throttled.status_code, throttled.json()["Code"]) == (400, "Throttling.User")
    assert throttled.headers["x-acs-retry-after"] == "1000"  # milliseconds, as Alibaba's SDKs read it
    profile = {"CustSpaceId": "cams-space-demo", "PhoneNumber": "8613900001111"}
    assert call(sb, http, PROFILE, profile).json()["Code"] == "OK"
    clock.now += 1.0
    assert call(sb, http, LIST, {}).json()["Code"] == "OK"


def test_admin_throttle_endpoint(
    sb: SandboxServer, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sb.state.cams, "monotonic", FakeMonotonic())
    assert http.get(f"{sb.url}/_sandbox/cams/throttle", timeout=10).json() == {
        "rate_limit": 10,
        "window_seconds": 1.0,
    }
    lifted = http.put(f"{sb.url}/_sandbox/cams/throttle", json={"rate_limit": 0}, timeout=10).json()
    assert lifted["rate_limit"] is None
    assert {call(sb, http, LIST, {}).json()["Code"] for _ in range(15)} == {"OK"}
    assert (
        http.put(f"{sb.url}/_sandbox/cams/throttle", json={"rate_limit": -1}, timeout=10).status_code == 422
    )
    sb.cams_rate_limit = 2
    assert [call(sb, http, LIST, {}).json()["Code"] for _ in range(3)] == ["OK", "OK", "Throttling.User"]
    sb.reset()
    assert sb.cams_rate_limit == 10


def test_request_log_filters_by_action(sb: SandboxServer, http: requests.Session) -> None:
    sb.clear_requests()
    call(sb, http, LIST, {})
    call(sb, http, LIST, {}, secret="wrong")
    call(sb, http, PROFILE, {"CustSpaceId": "cams-space-demo", "PhoneNumber": "8613900001111"})
    http.get(f"{sb.url}/_sandbox/cams/throttle", timeout=10)  # admin calls are not recorded
    assert (sb.request_count(), sb.request_count("/"), sb.request_count(action=LIST)) == (3, 3, 2)
    assert sb.request_count("/api/wa/getPhone", action=LIST) == 0
    first, second = sb.requests(action=LIST)
    assert (first.path, first.method, first.status, first.code) == ("/", "POST", 200, "OK")
    assert (second.status, second.code, second.action) == (400, "SignatureDoesNotMatch", LIST)
    assert [r.action for r in sb.requests("/")] == [LIST, LIST, PROFILE]
    listed = http.get(f"{sb.url}/_sandbox/requests", params={"action": PROFILE}, timeout=10).json()
    assert [(r["path"], r["code"]) for r in listed] == [("/", "OK")]
    count = http.get(f"{sb.url}/_sandbox/requests/count", params={"action": LIST}, timeout=10).json()
    assert count == {"path": None, "action": LIST, "count": 2}


def test_connections_include_cams(sb: SandboxServer) -> None:
    connection = sb.connections()["alibaba_cams_default"]
    assert connection == {
        "conn_type": "alibaba_cams",
        "host": sb.url,
        "login": "LTAI5tSandboxCamsKey",
        "password": "sandbox-cams-access-key-secret",
        "extra": {"region": "ap-southeast-1", "cust_space_id": "cams-space-demo"},
    }
    assert json.loads(sb.airflow_env()["AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"]) == connection
    assert "nxcloud_default" in sb.connections()


def test_constructor_sets_the_rate_limit() -> None:
    assert SandboxServer(cams_rate_limit=0).cams_rate_limit is None
    assert SandboxServer(cams_rate_limit=None).cams_rate_limit is None
    assert SandboxServer(cams_rate_limit=25).cams_rate_limit == 25
    assert SandboxServer().cams_rate_limit == 10


def test_date_header_is_the_server_clock(sb: SandboxServer, http: requests.Session) -> None:
    response = call(sb, http, LIST, {})
    server_date = dt.datetime.strptime(response.headers["date"], "%a, %d %b %Y %H:%M:%S GMT")
    assert abs(server_date.replace(tzinfo=dt.timezone.utc).timestamp() - time.time()) < 5
