"""The sandbox's own ACS3-HMAC-SHA256 verification of CAMS requests, without HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable

import pytest

from airflow_provider_wa_phones.sandbox.cams.auth import (
    REQUIRED_SIGNED_HEADERS,
    canonical_query,
    canonical_request,
    header_map,
    parse_authorization,
    query_params,
    signature,
    string_to_sign,
    verify_request,
)
from airflow_provider_wa_phones.sandbox.cams.models import AccessKey, CamsError, NonceStore

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# The vector published with Alibaba Cloud's signature V3 documentation.
VECTOR_KEY = AccessKey(key_id="YourAccessKeyId", secret="YourAccessKeySecret", account_id="a1")
VECTOR_QUERY = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
VECTOR_DATE = "2023-10-26T10:22:32Z"
VECTOR_NOW = dt.datetime(2023, 10, 26, 10, 22, 32, tzinfo=dt.timezone.utc).timestamp()
VECTOR_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": VECTOR_DATE,
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": EMPTY_SHA256,
}
VECTOR_SIGNED = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
VECTOR_SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"

KEY = AccessKey(key_id="LTAIkey", secret="s3cret", account_id="a1")
STS_KEY = AccessKey(key_id="STS.temp", secret="sts-secret", account_id="a1", security_token="tok-1")
KEYS = {key.key_id: key for key in (KEY, STS_KEY, VECTOR_KEY)}
NOW = 1_700_000_000.0


def sign(
    query: str,
    *,
    key: AccessKey = KEY,
    secret: str | None = None,
    body: bytes = b"",
    date: float = NOW,
    nonce: str = "nonce-1",
    extra: dict[str, str] | None = None,
    unsigned: tuple[str, ...] = (),
) -> dict[str, str]:
    """Headers of a request signed from first principles (the test's own steps, not the sandbox's).

    ``query`` must already be the canonical query string; ``unsigned`` names headers left out of
    SignedHeaders (they are still sent).
    """
    headers = {
        "host": "cams.ap-southeast-1.aliyuncs.com",
        "x-acs-action": "QueryChatappPhoneNumbers",
        "x-acs-version": "2020-06-06",
        "x-acs-date": dt.datetime.fromtimestamp(date, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        **(extra or {}),
    }
    names = sorted(name for name in headers if name not in unsigned)
    lines = "".join(f"{name}:{headers[name]}\n" for name in names)
    canonical = f"POST\n/\n{query}\n{lines}\n{';'.join(names)}\n{hashlib.sha256(body).hexdigest()}"
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    digest = hmac.new((secret or key.secret).encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key.key_id},SignedHeaders={';'.join(names)},Signature={digest}"
    )
    return headers


def verify(
    headers: dict[str, str],
    query: str = "CustSpaceId=space-1",
    body: bytes = b"",
    *,
    now: float = NOW,
    use_nonce: Callable[[str, str], bool] | None = None,
    method: str = "POST",
    find_key: Callable[[str], AccessKey | None] = KEYS.get,
) -> AccessKey:
    nonces = NonceStore()
    return verify_request(
        method,
        query,
        headers,
        body,
        find_key=find_key,
        now=now,
        use_nonce=use_nonce or (lambda key_id, nonce: nonces.use(key_id, nonce, 0.0)),
    )


def error_of(headers: dict[str, str], query: str = "CustSpaceId=space-1", **kwargs: object) -> CamsError:
    with pytest.raises(CamsError) as raised:
        verify(headers, query, **kwargs)  # type: ignore[arg-type]
    return raised.value


def test_published_vector() -> None:
    canonical = canonical_request(
        "POST", VECTOR_QUERY, VECTOR_HEADERS, VECTOR_SIGNED.split(";"), EMPTY_SHA256
    )
    assert canonical.split("\n")[:3] == ["POST", "/", VECTOR_QUERY]
    assert canonical.endswith(f"\n\n{VECTOR_SIGNED}\n{EMPTY_SHA256}")
    assert signature(VECTOR_KEY.secret, string_to_sign(canonical)) == VECTOR_SIGNATURE
    headers = {
        **VECTOR_HEADERS,
        "authorization": f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={VECTOR_SIGNED},"
        f"Signature={VECTOR_SIGNATURE}",
    }
    assert verify(headers, VECTOR_QUERY, now=VECTOR_NOW) is VECTOR_KEY


def test_test_signer_reproduces_the_published_vector() -> None:
    # Guards the helper every other test relies on.
    headers = sign(
        VECTOR_QUERY,
        key=VECTOR_KEY,
        date=VECTOR_NOW,
        nonce=VECTOR_HEADERS["x-acs-signature-nonce"],
        extra={name: VECTOR_HEADERS[name] for name in ("host", "x-acs-action", "x-acs-version")},
    )
    assert headers["authorization"].endswith(f"SignedHeaders={VECTOR_SIGNED},Signature={VECTOR_SIGNATURE}")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("b=2&a=1", "a=1&b=2"),
        ("k=a%20b", "k=a%20b"),
        ("k=a+b", "k=a%20b"),  # the official SDK sends a space as "+" but signs "%20"
        ("k=a%2Bb", "k=a%2Bb"),
        ("k=*/~", "k=%2A%2F~"),
        ("k=%2a%2f%7e", "k=%2A%2F~"),
        ("k=%E9%95%BF", "k=%E9%95%BF"),
        ("flag&k=", "flag=&k="),
        ("b=1&&a=", "a=&b=1"),
        ("", ""),
    ],
)
def test_canonical_query_reencodes_per_rfc_3986(raw: str, canonical: str) -> None:
    assert canonical_query(raw) == canonical


def test_query_params_decode_utf8_and_keep_the_first_repeat() -> None:
    assert query_params("CustSpaceId=%E9%95%BF+x&Status=A&Status=B") == {"CustSpaceId": "长 x", "Status": "A"}


def test_header_map_lowercases_and_joins_repeats() -> None:
    assert header_map([("Host", " h "), ("X-B", "2"), ("x-b", "1 ")]) == {"host": "h", "x-b": "1,2"}


def test_parse_authorization_normalises_signed_header_names() -> None:
    parsed = parse_authorization("ACS3-HMAC-SHA256 Credential=id, SignedHeaders=X-B;host;x-b, Signature=ab")
    assert (parsed.key_id, parsed.signed_headers, parsed.signature) == ("id", ("host", "x-b"), "ab")


def test_valid_request_returns_the_key_for_get_too() -> None:
    assert verify(sign("CustSpaceId=space-1")) is KEY
    get_headers = sign("CustSpaceId=space-1")
    # A GET signs "GET"; the POST signature above must not verify as a GET.
    assert error_of(get_headers, method="GET").code == "SignatureDoesNotMatch"


def test_query_is_canonicalised_before_checking() -> None:
    headers = sign("CustSpaceId=a%20b%2A&Status=CONNECTED")
    assert verify(headers, "Status=CONNECTED&CustSpaceId=a+b*") is KEY


def test_tampered_query_value_does_not_match() -> None:
    headers = sign("CustSpaceId=space-1")
    error = error_of(headers, "CustSpaceId=space-2")
    assert (error.code, error.status) == ("SignatureDoesNotMatch", 400)
    assert "CustSpaceId=space-2" in error.message  # the server's canonical request helps debugging


def test_wrong_secret_does_not_match() -> None:
    assert error_of(sign("CustSpaceId=space-1", secret="not-the-secret")).code == "SignatureDoesNotMatch"


def test_tampered_signed_header_does_not_match() -> None:
    headers = sign("CustSpaceId=space-1")
    headers["x-acs-action"] = "QueryPhoneBusinessProfile"
    assert error_of(headers).code == "SignatureDoesNotMatch"


def test_unknown_key_is_404() -> None:
    stranger = AccessKey(key_id="LTAIstranger", secret="x", account_id="a2")
    error = error_of(sign("CustSpaceId=space-1", key=stranger))
    assert (error.code, error.status) == ("InvalidAccessKeyId.NotFound", 404)


@pytest.mark.parametrize("minutes", [-14.9, 14.9, 15])
def test_date_within_15_minutes_is_accepted(minutes: float) -> None:
    assert verify(sign("CustSpaceId=space-1", date=NOW + minutes * 60)) is KEY


@pytest.mark.parametrize("minutes", [-16, 16])
def test_date_16_minutes_off_is_expired(minutes: int) -> None:
    error = error_of(sign("CustSpaceId=space-1", date=NOW + minutes * 60))
    assert (error.code, error.status) == ("InvalidTimeStamp.Expired", 400)


@pytest.mark.parametrize(
    "date",
    [
        "2023-10-26 10:22:32Z",
        "2023-10-26T10:22:32",
        "2023-13-26T10:22:32Z",
        "1700000000",
        "2023-10-26T10:22:32+00:00",
    ],
)
def test_malformed_date_is_a_format_error(date: str) -> None:
    assert error_of(sign("CustSpaceId=space-1", extra={"x-acs-date": date})).code == "InvalidTimeStamp.Format"


def test_expired_date_is_reported_before_a_bad_signature() -> None:
    headers = sign("CustSpaceId=space-1", date=NOW - 3600, secret="wrong")
    assert error_of(headers).code == "InvalidTimeStamp.Expired"


def test_reused_nonce_is_refused_only_after_a_valid_signature() -> None:
    store = NonceStore()

    def use(key_id: str, nonce: str) -> bool:
        return store.use(key_id, nonce, 0.0)

    bad = sign("CustSpaceId=space-1", nonce="n-1", secret="wrong")
    assert error_of(bad, use_nonce=use).code == "SignatureDoesNotMatch"
    assert verify(sign("CustSpaceId=space-1", nonce="n-1"), use_nonce=use) is KEY
    error = error_of(sign("CustSpaceId=space-2", nonce="n-1"), "CustSpaceId=space-2", use_nonce=use)
    assert (error.code, error.status) == ("SignatureNonceUsed", 400)


def test_sts_key_needs_its_signed_token() -> None:
    token = {"x-acs-security-token": "tok-1"}
    assert verify(sign("CustSpaceId=space-1", key=STS_KEY, extra=token)) is STS_KEY
    missing = error_of(sign("CustSpaceId=space-1", key=STS_KEY))
    wrong = error_of(sign("CustSpaceId=space-1", key=STS_KEY, extra={"x-acs-security-token": "tok-2"}))
    assert (missing.code, wrong.code) == (
        "MissingSecurityToken",
        "InvalidSecurityToken.MismatchWithAccessKey",
    )
    damaged = error_of(sign("CustSpaceId=space-1", key=STS_KEY, extra={"x-acs-security-token": "tok 1"}))
    assert (damaged.code, damaged.status) == ("InvalidSecurityToken.Malformed", 400)
    unsigned = error_of(
        sign("CustSpaceId=space-1", key=STS_KEY, extra=token, unsigned=("x-acs-security-token",))
    )
    assert unsigned.code == "IncompleteSignature"
    assert "x-acs-security-token" in unsigned.message


def test_permanent_key_refuses_a_security_token() -> None:
    error = error_of(sign("CustSpaceId=space-1", extra={"x-acs-security-token": "tok-1"}))
    assert error.code == "InvalidSecurityToken.MismatchWithAccessKey"


def test_expired_token_and_disabled_key_have_their_published_codes() -> None:
    from dataclasses import replace

    expired_key = replace(STS_KEY, token_expires_at=1.0)
    token = {"x-acs-security-token": "tok-1"}
    expired = error_of(
        sign("CustSpaceId=space-1", key=expired_key, extra=token), find_key=lambda _: expired_key
    )
    assert (expired.code, expired.status) == ("InvalidSecurityToken.Expired", 400)
    disabled_key = replace(KEY, active=False)
    disabled = error_of(sign("CustSpaceId=space-1"), find_key=lambda _: disabled_key)
    assert (disabled.code, disabled.status) == ("InvalidAccessKeyId.Inactive", 400)


def test_accesskey_id_header_must_match_the_credential() -> None:
    extra = {"x-acs-security-token": "tok-1", "x-acs-accesskey-id": "STS.temp"}
    assert verify(sign("CustSpaceId=space-1", key=STS_KEY, extra=extra)) is STS_KEY
    extra["x-acs-accesskey-id"] = "LTAIkey"
    assert error_of(sign("CustSpaceId=space-1", key=STS_KEY, extra=extra)).code == "IncompleteSignature"


@pytest.mark.parametrize("name", REQUIRED_SIGNED_HEADERS)
def test_every_required_header_must_be_signed(name: str) -> None:
    error = error_of(sign("CustSpaceId=space-1", unsigned=(name,)))
    assert (error.code, error.status) == ("IncompleteSignature", 400)
    assert name in error.message


def test_signed_header_must_be_present() -> None:
    headers = sign("CustSpaceId=space-1")
    headers["authorization"] = headers["authorization"].replace("SignedHeaders=", "SignedHeaders=x-extra;")
    assert error_of(headers).code == "IncompleteSignature"


def test_signing_extra_headers_is_fine() -> None:
    assert verify(sign("CustSpaceId=space-1", extra={"accept": "application/json", "user-agent": "t"})) is KEY


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "ACS3-HMAC-SM3 Credential=LTAIkey,SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=LTAIkey,Signature=ab",
        "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256",
    ],
)
def test_missing_or_malformed_authorization_is_incomplete(authorization: str | None) -> None:
    headers = sign("CustSpaceId=space-1")
    del headers["authorization"]
    if authorization is not None:
        headers["authorization"] = authorization
    assert error_of(headers).code == "IncompleteSignature"


def test_content_sha256_must_match_the_body() -> None:
    headers = sign("CustSpaceId=space-1")  # signed for an empty body
    error = error_of(headers, body=b"CustSpaceId=space-1")
    assert error.code == "SignatureDoesNotMatch"
    assert "x-acs-content-sha256" in error.message
    with_body = sign("CustSpaceId=space-1", body=b'{"a":1}')
    assert verify(with_body, body=b'{"a":1}') is KEY
