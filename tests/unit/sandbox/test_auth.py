"""The sandbox's own NxCloud header and signature checks."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from airflow_provider_wa_phones.sandbox.nxcloud.auth import TS_WINDOW_MS, expected_sign, verify_request
from airflow_provider_wa_phones.sandbox.nxcloud.models import Account, NxCloudError

# The vector published with NxCloud's API call convention.
KEY = "fme2na3kdi3ki"
SECRET = "abciiiko2k3"
TS = "1655710885431"
BODY = '{"id":10001,"name":"牛小信"}'.encode()
PUBLISHED_SIGN = "7750759da06333f20d0640be09355e34"

ACCOUNT = Account(access_key=KEY, secret=SECRET, customer_id="c1", biz_types=frozenset({1}))
ACCOUNTS = {KEY: ACCOUNT}


def headers(**overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "accessKey": KEY,
        "ts": TS,
        "bizType": "1",
        "action": "send",
        "sign": PUBLISHED_SIGN,
        **overrides,
    }
    return {name: value for name, value in values.items() if value is not None}


def verify(
    request_headers: dict[str, str],
    body: bytes = BODY,
    *,
    now_ms: int = int(TS) + 1_000,
    biz_type: int = 1,
    action: str = "send",
) -> Account:
    return verify_request(
        request_headers, body, find_account=ACCOUNTS.get, now_ms=now_ms, biz_type=biz_type, action=action
    )


def auth_code(
    request_headers: dict[str, str], body: bytes = BODY, *, now_ms: int = int(TS) + 1_000, **op: Any
) -> int:
    with pytest.raises(NxCloudError) as raised:
        verify(request_headers, body, now_ms=now_ms, **op)
    return raised.value.code


def test_published_vector_md5() -> None:
    assert expected_sign(KEY, "send", "1", TS, BODY, SECRET) == PUBLISHED_SIGN


def test_sha256_signs_the_same_string() -> None:
    plain = (
        f"accessKey={KEY}&action=send&bizType=1&ts={TS}&body=".encode()
        + BODY
        + f"&accessSecret={SECRET}".encode()
    )
    sign = expected_sign(KEY, "send", "1", TS, BODY, SECRET, algorithm="sha256")
    assert sign == hashlib.sha256(plain).hexdigest()
    assert verify(headers(sign=sign, algorithm="sha256")) is ACCOUNT


def test_empty_body_leaves_out_the_body_part() -> None:
    plain = f"accessKey={KEY}&action=send&bizType=1&ts={TS}&accessSecret={SECRET}".encode()
    assert expected_sign(KEY, "send", "1", TS, b"", SECRET) == hashlib.md5(plain).hexdigest()


def test_valid_request_returns_the_account_whatever_the_header_case() -> None:
    lowered = {name.lower(): value for name, value in headers().items()}
    assert verify(lowered) is ACCOUNT
    assert verify(headers(algorithm="md5")) is ACCOUNT


@pytest.mark.parametrize("missing", ["accessKey", "ts", "bizType", "action", "sign"])
def test_missing_or_empty_header_is_1001(missing: str) -> None:
    assert auth_code(headers(**{missing: None})) == 1001
    assert auth_code(headers(**{missing: ""})) == 1001


def test_unknown_access_key_is_1005_before_the_time_check() -> None:
    assert auth_code(headers(accessKey="nobody", ts="not-a-number")) == 1005


@pytest.mark.parametrize("ts", ["abc", "1655710885.431", "-1655710885431", " 1655710885431", "1655710885"])
def test_malformed_or_seconds_timestamp_is_1004(ts: str) -> None:
    assert auth_code(headers(ts=ts)) == 1004


def test_timestamp_window_is_60_seconds_both_ways() -> None:
    assert verify(headers(), now_ms=int(TS) + TS_WINDOW_MS) is ACCOUNT
    assert verify(headers(), now_ms=int(TS) - TS_WINDOW_MS) is ACCOUNT
    assert auth_code(headers(), now_ms=int(TS) + TS_WINDOW_MS + 1) == 1004
    assert auth_code(headers(), now_ms=int(TS) - TS_WINDOW_MS - 1) == 1004


def test_stale_timestamp_is_reported_before_a_bad_signature() -> None:
    assert auth_code(headers(sign="0" * 32), now_ms=int(TS) + 10 * TS_WINDOW_MS) == 1004


def test_signature_mismatches_are_1003() -> None:
    assert auth_code(headers(sign="0" * 32)) == 1003
    assert auth_code(headers(sign=PUBLISHED_SIGN.upper())) == 1003
    assert auth_code(headers(sign="ünicode")) == 1003
    # The same JSON serialised differently is a different body.
    assert auth_code(headers(), body='{"id": 10001, "name": "牛小信"}'.encode()) == 1003
    sha_sign = expected_sign(KEY, "send", "1", TS, BODY, SECRET, algorithm="sha256")
    assert auth_code(headers(sign=sha_sign)) == 1003


def test_unsupported_algorithm_is_1003() -> None:
    assert auth_code(headers(algorithm="sha1")) == 1003


def test_wrong_operation_for_the_path_is_1002() -> None:
    assert auth_code(headers(), action="numbercheck") == 1002
    signed_as_biz_2 = expected_sign(KEY, "send", "2", TS, BODY, SECRET)
    assert auth_code(headers(bizType="2", sign=signed_as_biz_2)) == 1002


def test_business_line_without_permission_is_1005() -> None:
    sign = expected_sign(KEY, "getPhone", "2", TS, BODY, SECRET)
    assert (
        auth_code(headers(bizType="2", action="getPhone", sign=sign), biz_type=2, action="getPhone") == 1005
    )
