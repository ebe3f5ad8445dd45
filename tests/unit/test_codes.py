"""What each documented service code means (``codes``): the typed error, its words, its remedy and
whether a retry helps, built from plain codes and messages."""

from __future__ import annotations

import pytest

from airflow_provider_wa_phones import codes
from airflow_provider_wa_phones.exceptions import (
    AuthenticationError,
    BillingError,
    ClockSkewError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    ServiceUnavailableError,
    ThrottledError,
)
from airflow_provider_wa_phones.services import CAMS, NXCLOUD


@pytest.mark.parametrize(
    ("code", "error_class", "retryable"),
    [
        (1003, AuthenticationError, False),
        (1004, ClockSkewError, False),
        (9006, NotFoundError, False),
        (211, BillingError, False),
        (207, InvalidRequestError, False),
        (-1, ServiceUnavailableError, True),
        (299, ServiceUnavailableError, True),
    ],
)
def test_a_documented_nxcloud_code_gives_its_class_and_retry_verdict(code, error_class, retryable):
    error = codes.nxcloud_error("getPhone", code, "")
    assert type(error) is error_class
    assert (error.service, error.operation, error.code, error.retryable) == (
        NXCLOUD.name,
        "getPhone",
        code,
        retryable,
    )
    assert error.message == codes.NXCLOUD_CODES[code].meaning
    assert error.remedy == codes.NXCLOUD_CODES[code].remedy


def test_the_services_own_words_are_kept_beside_the_meaning_unless_they_say_the_same():
    assert (
        codes.nxcloud_error("numberCheck", 201, "phones is empty").message
        == "parameter error (phones is empty)"
    )
    assert codes.nxcloud_error("numberCheck", 201, " Parameter Error ").message == "parameter error"


def test_a_note_of_the_clients_own_is_added():
    error = codes.nxcloud_error(
        "getPhone", 1004, "", note="local clock is 90 s ahead of the server", http_status=200
    )
    assert error.message == "timestamp outside the 60 s window; local clock is 90 s ahead of the server"
    assert error.http_status == 200


def test_an_undocumented_nxcloud_code_is_a_plain_service_error_not_retried():
    error = codes.nxcloud_error("getPhone", 4242, "")
    assert type(error) is ServiceError
    assert (error.message, error.retryable, error.remedy) == ("undocumented error code", False, "")
    assert codes.nxcloud_error("getPhone", 4242, "boom").message == "boom"


@pytest.mark.parametrize(
    ("code", "error_class", "retryable"),
    [
        ("Throttling.User", ThrottledError, True),
        ("SignatureNonceUsed", AuthenticationError, True),
        ("InvalidTimeStamp.Expired", ClockSkewError, False),
        ("InvalidSecurityToken.Expired", AuthenticationError, False),
        ("Unknown.ResourceOwnerId", NotFoundError, False),
        ("InvalidParameter", InvalidRequestError, False),
        ("InternalError", ServiceUnavailableError, True),
    ],
)
def test_a_documented_cams_code_gives_its_class_and_retry_verdict(code, error_class, retryable):
    error = codes.cams_error("QueryChatappPhoneNumbers", code, "", request_id="RID", http_status=400)
    assert type(error) is error_class
    assert (error.service, error.code, error.retryable, error.request_id) == (
        CAMS.name,
        code,
        retryable,
        "RID",
    )
    assert error.message == codes.CAMS_CODES[code].meaning


def test_cams_keeps_its_own_message_and_adds_the_diagnosis_link_to_the_remedy():
    error = codes.cams_error(
        "Q", "SignatureDoesNotMatch", "The signature is wrong.", recommend="https://diag/x"
    )
    assert error.message == "The signature is wrong."
    assert error.remedy == f"{codes.CAMS_CODES['SignatureDoesNotMatch'].remedy}; diagnosis: https://diag/x"
    assert (
        codes.cams_error("Q", "InvalidParameter", "", recommend="https://d").remedy == "diagnosis: https://d"
    )


@pytest.mark.parametrize(
    ("http_status", "error_class", "retryable"),
    [
        (429, ThrottledError, True),
        (503, ServiceUnavailableError, True),
        (400, ServiceError, False),
        (None, ServiceError, False),
    ],
)
def test_an_undocumented_cams_code_is_judged_by_its_http_status(http_status, error_class, retryable):
    error = codes.cams_error("Q", "Some.NewCode", "", http_status=http_status)
    assert type(error) is error_class
    assert error.retryable is retryable
    assert error.message  # never an empty message


def test_clock_skew_note_says_how_far_and_which_way():
    date = "Sat, 05 Dec 2026 12:00:00 GMT"
    server = 1796472000.0  # that instant
    assert codes.clock_skew_note(date, server + 90) == "local clock is 90 s ahead of the server"
    assert codes.clock_skew_note(date, server - 5) == "local clock is 5 s behind the server"
    assert codes.clock_skew_note(date, server).startswith("local clock agrees with the server's")
    assert codes.clock_skew_note(None, server) is None
    assert codes.clock_skew_note("not a date", server) is None


def test_is_clock_skew_is_true_for_the_clock_codes_only():
    assert codes.is_clock_skew(codes.NXCLOUD_CODES[1004])
    assert codes.is_clock_skew(codes.CAMS_CODES["InvalidTimeStamp.Expired"])
    assert not codes.is_clock_skew(codes.NXCLOUD_CODES[1003])
    assert not codes.is_clock_skew(None)


def test_every_documented_code_has_a_meaning_and_retries_only_where_waiting_can_help():
    tables = [*codes.NXCLOUD_CODES.values(), *codes.CAMS_CODES.values()]
    assert all(kind.meaning for kind in tables)
    for kind in tables:
        if issubclass(kind.error_class, (ThrottledError, ServiceUnavailableError)):
            assert kind.retryable, kind
        elif issubclass(kind.error_class, (BillingError, NotFoundError, InvalidRequestError, ClockSkewError)):
            assert not kind.retryable, kind
