"""CAMS parameters and answer parsing, without any I/O."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest

from airflow_provider_wa_phones.exceptions import (
    AuthenticationError,
    ClockSkewError,
    MalformedResponseError,
    NotFoundError,
    ParameterError,
    ServiceError,
    ServiceUnavailableError,
    ThrottledError,
)
from airflow_provider_wa_phones.operations import cams as api


def test_phone_numbers_params():
    assert api.phone_numbers_params("space-1", "isv", "connected") == {
        "CustSpaceId": "space-1",
        "IsvCode": "isv",
        "Status": "CONNECTED",
    }
    assert api.phone_numbers_params() == {}


def test_business_profile_params_normalise_the_number():
    assert api.business_profile_params("+86 139 0000 1111", "space-1") == {
        "CustSpaceId": "space-1",
        "PhoneNumber": "8613900001111",
    }


@pytest.mark.parametrize(
    ("call", "param", "fragment"),
    [
        (lambda: api.phone_numbers_params(status="ONLINE"), "status", "must be one of"),
        (lambda: api.phone_numbers_params(cust_space_id="has space"), "cust_space_id", "space id"),
        (lambda: api.phone_numbers_params(isv_code="a b"), "isv_code", "ISV"),
        (lambda: api.business_profile_params("8613900001111", None), "cust_space_id", "required"),
        (lambda: api.business_profile_params(None, "s"), "phone_number", "required"),
        (lambda: api.business_profile_params("12", "s"), "phone_number", "not a possible"),
        (lambda: api.check_region("Singapore"), "region", "region id"),
    ],
)
def test_rules(call, param, fragment):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.param == param
    assert fragment in str(info.value)


def _answer(status=200, **body):
    return status, json.dumps(body).encode()


def test_success_is_returned_whole():
    status, content = _answer(RequestId="R", Code="OK", PhoneNumbers=[{"PhoneNumber": "1"}])
    assert api.parse_response("Q", status, content)["PhoneNumbers"] == [{"PhoneNumber": "1"}]


def test_business_failure_on_http_200_is_raised():
    status, content = _answer(
        RequestId="R1", Code="Unknown.ResourceOwnerId", Message="not yours", Success=False
    )
    with pytest.raises(NotFoundError) as info:
        api.parse_response("Q", status, content)
    assert info.value.request_id == "R1"
    assert "request id R1" in str(info.value)


@pytest.mark.parametrize(
    ("status", "code", "error_class", "retryable"),
    [
        (400, "Throttling.User", ThrottledError, True),
        (400, "System.LimitControl", ThrottledError, True),
        (400, "SignatureDoesNotMatch", AuthenticationError, False),
        (404, "InvalidAccessKeyId.NotFound", AuthenticationError, False),
        (400, "SignatureNonceUsed", AuthenticationError, True),
        (400, "Ram.PermissionDeny", AuthenticationError, False),
        (503, "ServiceUnavailable", ServiceUnavailableError, True),
        (500, "SomethingNew", ServiceUnavailableError, True),
        (400, "SomethingNew", ServiceError, False),
    ],
)
def test_gateway_errors_are_typed(status, code, error_class, retryable):
    status, content = _answer(status, RequestId="R", Code=code, Message="m", Recommend="https://diag/x")
    with pytest.raises(error_class) as info:
        api.parse_response("Q", status, content)
    assert type(info.value) is error_class
    assert info.value.retryable is retryable
    assert "diagnosis: https://diag/x" in str(info.value)


def test_expired_timestamp_reports_the_measured_skew():
    server = formatdate(time.time() - 1000, usegmt=True)
    status, content = _answer(400, Code="InvalidTimeStamp.Expired", Message="expired")
    with pytest.raises(ClockSkewError, match=r"local clock is 100[01] s ahead of the server"):
        api.parse_response("Q", status, content, server_date=server)


def test_gateway_html_and_truncated_json():
    with pytest.raises(ServiceUnavailableError):
        api.parse_response("Q", 502, b"<html>")
    with pytest.raises(MalformedResponseError) as info:
        api.parse_response("Q", 200, b'{"Code": "OK", "Phone')
    assert info.value.retryable
