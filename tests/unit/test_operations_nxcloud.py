"""Request bodies and answer parsing of the NxCloud API, without any I/O."""

from __future__ import annotations

import datetime as dt
import json

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
from airflow_provider_wa_phones.operations import nxcloud as api

TODAY = dt.date(2026, 11, 22)


def test_body_is_compact_utf8_not_ascii_escaped():
    assert api.encode_body({"id": 10001, "name": "牛小信"}) == '{"id":10001,"name":"牛小信"}'.encode()


def test_get_phone_body_joins_normalised_numbers():
    body = api.get_phone_body("app", ["+86 138 0000 1234", "+1 415 555 0123"])
    assert body == {
        "appkey": "app",
        "messaging_product": "whatsapp",
        "business_phones": "8613800001234,14155550123",
    }
    assert "business_phones" not in api.get_phone_body("app", None)


def test_submit_splits_by_country_and_suffixes_the_batch_number():
    batches = api.submit_batches(
        "app", "8613800001234,14155550123,8613900001234", batch_no="b1", check_level="5"
    )
    assert [(b.country, b.phones, b.body["batchNo"]) for b in batches] == [
        ("CN", ["8613800001234", "8613900001234"], "b1-CN"),
        ("US", ["14155550123"], "b1-US"),
    ]
    assert batches[0].body["checkLevel"] == 5
    assert batches[0].body["phone"] == "8613800001234,8613900001234"


def test_single_country_keeps_the_batch_number_as_given():
    (batch,) = api.submit_batches("app", ["8613800001234"], batch_no="b1", dr_url="https://example.test/dr")
    assert batch.body == {
        "appkey": "app",
        "phone": "8613800001234",
        "checkLevel": 1,
        "batchNo": "b1",
        "drUrl": "https://example.test/dr",
    }


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment"),
    [
        ({"check_level": 2}, "check_level", "must be one of 1"),
        ({"check_level": "five"}, "check_level", "whole number"),
        ({"check_level": True}, "check_level", "whole number"),
        ({"batch_no": "x" * 65}, "batch_no", "at most 64"),
        ({"batch_no": ""}, "batch_no", "non-empty"),
        ({"dr_url": "ftp://x"}, "dr_url", "http(s) URL"),
        ({"phones": []}, "phones", "at least one"),
        ({"phones": "abc"}, "phones", "is not a phone number"),
        ({"appkey": ""}, "appkey", "required"),
        ({"appkey": "has space"}, "appkey", "without spaces"),
    ],
)
def test_submit_rules(kwargs, param, fragment):
    args = {"appkey": "app", "phones": "8613800001234"} | kwargs
    with pytest.raises(ParameterError) as info:
        api.submit_batches(**args)
    assert info.value.param == param
    assert fragment in str(info.value)


def test_country_suffix_counts_against_the_64_character_limit():
    with pytest.raises(ParameterError, match="including the country suffix"):
        api.submit_batches("app", "8613800001234,14155550123", batch_no="x" * 62)


def test_query_body_for_a_batch():
    assert api.query_body("2026-11-20", batch_no="b1", page=2, page_size="50", today=TODAY) == {
        "page": 2,
        "pageSize": 50,
        "date": "2026-11-20",
        "batchNo": "b1",
    }


@pytest.mark.parametrize(
    ("kwargs", "param", "fragment"),
    [
        ({"date": "2026/11/20"}, "date", "yyyy-MM-dd"),
        ({"date": "2026-02-30"}, "date", "not a calendar date"),
        ({"date": "2026-11-01"}, "date", "outside the 14-day window"),
        ({"date": "2026-11-30"}, "date", "outside the 14-day window"),
        ({"page_size": 101}, "page_size", "between 1 and 100"),
        ({"page_size": 0}, "page_size", "between 1 and 100"),
        ({"page": 0}, "page", "at least 1"),
        ({"batch_no": None, "message_id": None}, "batch_no", "batch_no or message_id"),
        ({"message_id": "m" * 65}, "message_id", "at most 64"),
        ({"phone": "12"}, "phone", "not a possible phone number"),
    ],
)
def test_query_rules(kwargs, param, fragment):
    args = {"date": "2026-11-20", "batch_no": "b1", "today": TODAY} | kwargs
    with pytest.raises(ParameterError) as info:
        api.query_body(**args)
    assert info.value.param == param
    assert fragment in str(info.value)


def test_dates_as_objects_and_window_edges():
    assert api.check_date(dt.datetime(2026, 11, 8, 23, 0), TODAY) == "2026-11-08"
    assert api.check_date(dt.date(2026, 11, 23), TODAY) == "2026-11-23"


def _answer(**envelope):
    return json.dumps(envelope).encode()


def test_success_returns_data():
    assert api.parse_envelope(api.GET_PHONE, 200, _answer(code=0, message="ok", data={"a": 1})) == {"a": 1}


@pytest.mark.parametrize(
    ("code", "error_class", "retryable"),
    [
        (1003, AuthenticationError, False),
        (1004, ClockSkewError, False),
        (9006, NotFoundError, False),
        (-1, ServiceUnavailableError, True),
        (9001, ServiceUnavailableError, True),
        (12345, ServiceError, False),
    ],
)
def test_error_codes_become_typed_errors(code, error_class, retryable):
    with pytest.raises(error_class) as info:
        api.parse_envelope(api.GET_PHONE, 200, _answer(code=code, message="boom", data=None))
    assert type(info.value) is error_class
    assert info.value.code == code
    assert info.value.retryable is retryable
    assert f"code {code}" in str(info.value)


def test_number_check_text_comes_from_msg_and_the_remedy_is_said():
    with pytest.raises(ServiceError) as info:
        api.parse_envelope(
            api.NUMBER_CHECK_QUERY, 200, _answer(code=88, msg="Incorrect date format [yyyy-MM-dd]")
        )
    text = str(info.value)
    assert "Incorrect date format" in text
    assert "Check the query parameters" in text
    assert "Retrying will not help" in text


def test_secrets_echoed_by_the_service_are_scrubbed():
    with pytest.raises(ServiceError) as info:
        api.parse_envelope(api.GET_PHONE, 200, _answer(code=1003, message="bad sign for s3cr3t"), ("s3cr3t",))
    assert "s3cr3t" not in str(info.value)


def test_non_json_answers():
    with pytest.raises(MalformedResponseError, match="without the JSON envelope"):
        api.parse_envelope(api.GET_PHONE, 200, b'{"code": 0, "da')
    with pytest.raises(ServiceUnavailableError) as info:
        api.parse_envelope(api.GET_PHONE, 502, b"<html>bad gateway</html>")
    assert info.value.retryable
    with pytest.raises(ThrottledError):
        api.parse_envelope(api.GET_PHONE, 429, b"")


def test_both_get_phone_shapes_flatten_to_records():
    record = {"display_phone_number": "+86 138 0000 1234", "status": "CONNECTED"}
    keyed = api.flatten_phone_info({"8613800001234": [record]})
    listed = api.flatten_phone_info({"business_phones": [record]})
    assert keyed == [{**record, "business_phone": "8613800001234"}]
    assert listed == [record]
    assert api.flatten_phone_info(None) == []
