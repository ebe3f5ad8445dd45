from __future__ import annotations

import hashlib

import pytest

from airflow_provider_wa_phones import signing

#: SHA-256 of an empty body: the content hash of a request without one (a published test vector).
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

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


def test_published_acs3_vector_reproduces():
    query = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
    assert (
        signing.acs3_canonical_query(
            {"RegionId": "cn-shanghai", "ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"}
        )
        == query
    )
    headers = signing.acs3_headers(
        access_key_id="YourAccessKeyId",
        access_key_secret="YourAccessKeySecret",
        host="ecs.cn-shanghai.aliyuncs.com",
        action="RunInstances",
        version="2014-05-26",
        canonical_query=query,
        date="2023-10-26T10:22:32Z",
        nonce="3156853299f313e23d1673dc12e1703d",
    )
    assert headers["x-acs-content-sha256"] == EMPTY_SHA256
    assert headers["Authorization"] == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
        "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_acs3_query_encoding_follows_rfc3986():
    query = signing.acs3_canonical_query({"b": "a b*c/d~e", "a": "牛", "skip": None, "n": 5})
    assert query == "a=%E7%89%9B&b=a%20b%2Ac%2Fd~e&n=5"


def test_acs3_security_token_is_signed_and_nonces_are_fresh():
    kwargs = dict(
        access_key_id="STS.x", access_key_secret="s", host="h", action="A", version="v", canonical_query=""
    )
    first = signing.acs3_headers(security_token="tok", **kwargs)
    second = signing.acs3_headers(security_token="tok", **kwargs)
    assert "x-acs-security-token" in first["Authorization"]
    assert first["x-acs-signature-nonce"] != second["x-acs-signature-nonce"]
