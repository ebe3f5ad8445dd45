"""CamsHook over real HTTP against the sandbox, which checks ACS3 signatures with its own code."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_wa_phones import signing
from airflow_provider_wa_phones.exceptions import (
    AuthenticationError,
    ClockSkewError,
    NotFoundError,
    ParameterError,
    ThrottledError,
)
from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.retry import NO_RETRY, RetryPolicy
from airflow_provider_wa_phones.sandbox import data

pytestmark = pytest.mark.integration

DEMO_SPACE = {"8613900001111", "6591110000", "6281299990000", "60123456789"}


def _conn_env(monkeypatch, sandbox, **changes):
    conn = sandbox.connections()["alibaba_cams_default"] | changes
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))


@pytest.fixture
def cams(sandbox):
    hook = CamsHook(retry_policy=NO_RETRY)
    yield hook
    hook.close()


def test_phone_numbers_of_the_default_space(cams, sandbox):
    numbers = cams.query_phone_numbers()
    assert {n["PhoneNumber"] for n in numbers} == DEMO_SPACE
    assert {"NewNameStatus", "MessagingLimitTier", "CallingConfigure"} <= set(numbers[0])
    assert sandbox.request_count() == 1


def test_status_filter_and_other_space(cams):
    assert {n["PhoneNumber"] for n in cams.query_phone_numbers(status="pending")} == {"6591110000"}
    assert [n["PhoneNumber"] for n in cams.query_phone_numbers(cust_space_id="cams-space-second")] == [
        "971501234567"
    ]


def test_timeline_moves_a_number_to_banned(cams, sandbox):
    sandbox.advance(10)
    (toko,) = [n for n in cams.query_phone_numbers() if n["PhoneNumber"] == "6281299990000"]
    assert toko["Status"] == "BANNED"


def test_business_profile_with_non_ascii_text(cams):
    profile = cams.query_phone_business_profile("+86 139 0000 1111")
    assert {"Address", "Description", "Vertical", "Email", "Websites"} <= set(profile)
    assert any("长沙" in str(value) for value in profile.values())


def test_sts_credentials_are_signed_with_the_token(monkeypatch, sandbox):
    extra = sandbox.connections()["alibaba_cams_default"]["extra"] | {
        "security_token": data.CAMS_STS_SECURITY_TOKEN
    }
    _conn_env(
        monkeypatch,
        sandbox,
        login=data.CAMS_STS_ACCESS_KEY_ID,
        password=data.CAMS_STS_ACCESS_KEY_SECRET,
        extra=extra,
    )
    assert CamsHook().query_phone_numbers()
    (request,) = sandbox.requests()
    assert request.headers["x-acs-security-token"] == data.CAMS_STS_SECURITY_TOKEN
    assert "x-acs-security-token" in request.headers["authorization"]


def test_alibaba_cloud_style_credential_extras_are_accepted(monkeypatch, sandbox):
    extra = sandbox.connections()["alibaba_cams_default"]["extra"] | {
        "access_key_id": data.CAMS_ACCESS_KEY_ID,
        "access_key_secret": data.CAMS_ACCESS_KEY_SECRET,
    }
    _conn_env(monkeypatch, sandbox, login=None, password=None, extra=extra)
    assert CamsHook().query_phone_numbers()


def test_business_failure_on_http_200_is_a_typed_error(cams):
    with pytest.raises(NotFoundError) as info:
        cams.query_phone_business_profile("+971 50 123 4567", cust_space_id="cams-space-demo")
    assert info.value.code == "PhoneNumber.NotExist"
    assert info.value.http_status == 200
    assert info.value.request_id


def test_a_space_of_someone_else_is_refused_with_http_400_as_published(cams):
    with pytest.raises(NotFoundError) as info:
        cams.query_phone_numbers(cust_space_id="someone-elses-space")
    assert info.value.code == "Unknown.ResourceOwnerId"
    assert info.value.http_status == 400
    assert info.value.request_id


# -- rejected as the real service would, and the hook says why ---------------------------------


def test_wrong_secret(monkeypatch, sandbox):
    _conn_env(monkeypatch, sandbox, password="not-the-secret")
    with pytest.raises(AuthenticationError) as info:
        CamsHook().query_phone_numbers()
    assert info.value.code == "SignatureDoesNotMatch"
    assert "AccessKey ID and secret" in str(info.value)
    assert "not-the-secret" not in str(info.value)
    assert sandbox.request_count() == 1


STS_CASES = [
    # (login, password, token, published code, a word of the remedy)
    (
        data.CAMS_STS_ACCESS_KEY_ID,
        data.CAMS_STS_ACCESS_KEY_SECRET,
        None,
        "MissingSecurityToken",
        "security_token",
    ),
    (
        data.CAMS_STS_ACCESS_KEY_ID,
        data.CAMS_STS_ACCESS_KEY_SECRET,
        data.CAMS_EXPIRED_STS_SECURITY_TOKEN,
        "InvalidSecurityToken.MismatchWithAccessKey",
        "AssumeRole",
    ),
    (
        data.CAMS_EXPIRED_STS_ACCESS_KEY_ID,
        data.CAMS_EXPIRED_STS_ACCESS_KEY_SECRET,
        data.CAMS_EXPIRED_STS_SECURITY_TOKEN,
        "InvalidSecurityToken.Expired",
        "fetch new ones",
    ),
    (
        data.CAMS_INACTIVE_ACCESS_KEY_ID,
        data.CAMS_INACTIVE_ACCESS_KEY_SECRET,
        None,
        "InvalidAccessKeyId.Inactive",
        "Enable",
    ),
]


@pytest.mark.parametrize(
    ("login", "password", "token", "code", "remedy"), STS_CASES, ids=[c[3] for c in STS_CASES]
)
def test_credential_refusals_have_the_published_code_and_a_remedy(
    monkeypatch, sandbox, login, password, token, code, remedy
):
    extra = {"region": data.CAMS_REGION, "cust_space_id": data.CAMS_SPACE_ID, "security_token": token}
    _conn_env(monkeypatch, sandbox, login=login, password=password, extra=extra)
    with pytest.raises(AuthenticationError) as info:
        CamsHook().query_phone_numbers()
    assert (info.value.code, info.value.http_status, info.value.retryable) == (code, 400, False)
    assert remedy in str(info.value)
    assert password not in str(info.value) and (token is None or token not in str(info.value))
    assert sandbox.request_count() == 1


def test_tampered_query_value(cams, sandbox, monkeypatch):
    auth = cams.get_conn().auth

    def sign_then_tamper(request):
        auth_result = type(auth).__call__(auth, request)
        auth_result.url = auth_result.url.replace("cams-space-demo", "cams-space-demx")
        return auth_result

    monkeypatch.setattr(cams.get_conn(), "auth", sign_then_tamper)
    with pytest.raises(AuthenticationError) as info:
        cams.query_phone_numbers()
    assert info.value.code == "SignatureDoesNotMatch"


def test_date_16_minutes_old_reports_the_skew(cams, sandbox):
    sandbox.set_clock_offset(16 * 60)
    with pytest.raises(ClockSkewError) as info:
        cams.query_phone_numbers()
    assert info.value.code == "InvalidTimeStamp.Expired"
    assert "local clock is 9" in str(info.value) and "behind the server" in str(info.value)


def test_reused_nonce(cams, sandbox, monkeypatch):
    monkeypatch.setattr(signing.secrets, "token_hex", lambda n: "f" * (2 * n))
    cams.query_phone_numbers()
    with pytest.raises(AuthenticationError) as info:
        cams.query_phone_numbers()
    assert info.value.code == "SignatureNonceUsed"
    assert [r.headers["x-acs-signature-nonce"] for r in sandbox.requests()] == ["f" * 32] * 2


def test_fifty_back_to_back_calls_draw_no_throttling(sandbox):
    hook = CamsHook(retry_policy=NO_RETRY)
    for _ in range(50):
        hook.query_phone_numbers()
    codes = [r.code for r in sandbox.requests()]
    assert len(codes) == 50
    assert codes.count("Throttling.User") == 0


def test_without_the_client_limit_the_sandbox_does_throttle(sandbox):
    hook = CamsHook(retry_policy=NO_RETRY, rate_limit=None)
    with pytest.raises(ThrottledError) as info:
        for _ in range(30):
            hook.query_phone_numbers()
    assert info.value.code == "Throttling.User"
    assert info.value.retry_after == 1.0


# -- bad input never reaches the service ------------------------------------------------------

CAMS_BAD_CALLS = [
    ("query_phone_numbers", {"status": "ONLINE"}, "status"),
    ("query_phone_numbers", {"cust_space_id": "a b"}, "cust_space_id"),
    ("query_phone_numbers", {"isv_code": "bad code"}, "isv_code"),
    ("query_phone_business_profile", {"phone_number": "not a phone"}, "phone_number"),
    ("query_phone_business_profile", {"phone_number": ""}, "phone_number"),
    (
        "query_phone_business_profile",
        {"phone_number": "8613900001111", "cust_space_id": "bad space"},
        "cust_space_id",
    ),
]


@pytest.mark.parametrize(("method", "kwargs", "param"), CAMS_BAD_CALLS)
def test_bad_input_raises_before_any_request(cams, sandbox, method, kwargs, param):
    with pytest.raises(ParameterError) as info:
        getattr(cams, method)(**kwargs)
    assert info.value.param == param
    assert sandbox.request_count() == 0


def test_profile_needs_a_space_when_the_connection_has_none(monkeypatch, sandbox):
    extra = {"region": "ap-southeast-1"}
    _conn_env(monkeypatch, sandbox, extra=extra)
    with pytest.raises(ParameterError, match="cust_space_id: required"):
        CamsHook().query_phone_business_profile("8613900001111")
    assert sandbox.request_count() == 0


# -- secrets ----------------------------------------------------------------------------------


def test_secret_and_token_stay_out_of_logs_and_errors(monkeypatch, sandbox, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    extra = sandbox.connections()["alibaba_cams_default"]["extra"] | {
        "security_token": data.CAMS_STS_SECURITY_TOKEN
    }
    _conn_env(
        monkeypatch,
        sandbox,
        login=data.CAMS_STS_ACCESS_KEY_ID,
        password=data.CAMS_STS_ACCESS_KEY_SECRET,
        extra=extra,
    )
    sandbox.fail_next("http_502", action="QueryChatappPhoneNumbers")
    hook = CamsHook(retry_policy=RetryPolicy(initial_delay=0.0))
    hook.query_phone_numbers()  # retried once: a warning is logged
    errors = []
    for call in (
        lambda: hook.query_phone_numbers(cust_space_id="someone-elses-space"),
        lambda: hook.query_phone_business_profile("8613900001111", cust_space_id="bad space"),
    ):
        with pytest.raises(Exception) as info:
            call()
        errors.append(str(info.value) + repr(info.value))
    signatures = [r.headers["authorization"].rsplit("Signature=", 1)[1] for r in sandbox.requests()]
    captured = capfd.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "retrying" in logs  # the hook's own log lines were captured
    text = logs + "".join(errors) + repr(hook.settings) + repr(hook.get_conn().auth)
    for secret in (data.CAMS_STS_ACCESS_KEY_SECRET, data.CAMS_STS_SECURITY_TOKEN, *signatures):
        assert secret not in text


def test_token_echoed_in_a_signature_mismatch_is_scrubbed(monkeypatch, sandbox):
    # Like Alibaba's gateway, the sandbox returns its canonical request (with the token) on a mismatch.
    extra = sandbox.connections()["alibaba_cams_default"]["extra"] | {
        "security_token": data.CAMS_STS_SECURITY_TOKEN
    }
    _conn_env(
        monkeypatch, sandbox, login=data.CAMS_STS_ACCESS_KEY_ID, password="wrong-sts-secret", extra=extra
    )
    with pytest.raises(AuthenticationError) as info:
        CamsHook(retry_policy=NO_RETRY).query_phone_numbers()
    (request,) = sandbox.requests()
    assert data.CAMS_STS_SECURITY_TOKEN.encode() in request.headers["x-acs-security-token"].encode()
    assert data.CAMS_STS_SECURITY_TOKEN not in str(info.value)
    assert "***" in str(info.value)


def test_test_connection(monkeypatch, sandbox):
    ok, message = CamsHook().test_connection()
    assert ok, message
    assert "4 numbers in cams-space-demo" in message
    _conn_env(monkeypatch, sandbox, password="wrong")
    ok, message = CamsHook().test_connection()
    assert not ok and "SignatureDoesNotMatch" in message


def test_the_query_on_the_wire_is_the_canonical_query_that_was_signed(cams, sandbox):
    cams.query_phone_business_profile("8613900001111", cust_space_id="cams-space-demo")
    (request,) = sandbox.requests()
    assert request.query == "CustSpaceId=cams-space-demo&PhoneNumber=8613900001111"
    assert request.query == signing.acs3_canonical_query(
        {"PhoneNumber": "8613900001111", "CustSpaceId": "cams-space-demo"}
    )
    assert request.action == "QueryPhoneBusinessProfile"
    assert request.body == b""
