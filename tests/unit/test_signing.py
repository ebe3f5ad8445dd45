from __future__ import annotations

import hashlib

import pytest

from airflow_provider_wa_phones import signing

VECTOR = {
    "access_key": "fme2na3kdi3ki",
    "access_secret": "abciiiko2k3",
    "ts": "1655710885431",
    "biz_type": "1",
    "action": "send",
    "body": '{"id":10001,"name":"牛小信"}'.encode(),
}


def test_published_nxcloud_vector_reproduces():
    v = VECTOR
    sign = signing.nxcloud_sign(
        v["access_key"], v["access_secret"], v["action"], v["biz_type"], v["ts"], v["body"]
    )
    assert sign == "7750759da06333f20d0640be09355e34"


def test_headers_carry_the_vector_signature_and_no_algorithm_for_md5():
    v = VECTOR
    headers = signing.nxcloud_headers(
        v["access_key"], v["access_secret"], v["action"], v["biz_type"], v["body"], ts_ms=int(v["ts"])
    )
    assert headers == {
        "accessKey": "fme2na3kdi3ki",
        "ts": "1655710885431",
        "bizType": "1",
        "action": "send",
        "sign": "7750759da06333f20d0640be09355e34",
    }


def test_sha256_signs_the_same_string_and_says_so_in_a_header():
    v = VECTOR
    headers = signing.nxcloud_headers(
        v["access_key"], v["access_secret"], v["action"], v["biz_type"], v["body"], "sha256", int(v["ts"])
    )
    expected = hashlib.sha256(
        b"accessKey=fme2na3kdi3ki&action=send&bizType=1&ts=1655710885431&body="
        + v["body"]
        + b"&accessSecret=abciiiko2k3"
    ).hexdigest()
    assert headers["sign"] == expected
    assert headers["algorithm"] == "sha256"


def test_empty_body_leaves_out_the_body_part():
    string = signing.nxcloud_string_to_sign("k", "a", "2", "1", b"", "s")
    assert string == b"accessKey=k&action=a&bizType=2&ts=1&accessSecret=s"


def test_one_changed_body_byte_changes_the_signature():
    v = VECTOR
    a = signing.nxcloud_sign("k", "s", "a", "1", "1", v["body"])
    b = signing.nxcloud_sign("k", "s", "a", "1", "1", v["body"].replace(b"10001", b"10002"))
    assert a != b


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="algorithm"):
        signing.nxcloud_sign("k", "s", "a", "1", "1", b"{}", "sha1")


def test_default_ts_is_milliseconds_now():
    import time

    before = time.time_ns() // 1_000_000
    ts = int(signing.nxcloud_headers("k", "s", "a", "1", b"")["ts"])
    assert before <= ts <= time.time_ns() // 1_000_000
