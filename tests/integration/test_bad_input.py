"""Every validation rule, through every layer a user meets it in, against the live sandbox.

One table, ``ROWS``, holds a bad value per rule and the start of the error it gives. It drives one
test per layer (hook methods, operators' ``execute``, sensors' ``poke`` and deferrable ``execute``,
connections), and each of them also asserts that the sandbox saw no request: bad input is refused
before anything is signed or sent. The README's Validation section shows the same table to users;
``test_the_doc_table_and_the_test_table_agree`` keeps the two from drifting apart.

Rows marked ``xfail`` are known gaps: what the provider should do and does not do yet. They are
strict, so a fix makes them fail until the row moves from "Known gaps" to the rules in the doc.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from airflow.sdk import BaseSensorOperator

from airflow_provider_wa_phones.exceptions import ConnectionConfigError, ParameterError
from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.operators.cams import (
    CamsPhoneBusinessProfileOperator,
    CamsPhoneNumbersOperator,
)
from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
    NxCloudPhoneInfoOperator,
    NxCloudPhoneListOperator,
)
from airflow_provider_wa_phones.retry import NO_RETRY
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor, NxCloudPhoneStatusSensor

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
NX = "nxcloud_default"
CAMS = "alibaba_cams_default"
#: A batch number that fits alone (62 characters) but not with a country suffix ("-CN").
LONG_BATCH_NO = "b" * 62
TWO_COUNTRIES = ["+86 138 0000 1234", "+1 415 555 0123"]
BATCH = {"batch_no": "campaign-7", "message_id": "m-1", "country": "CN", "phone_count": 2, "date": TODAY}
PHONE_EXAMPLE = ": expected digits with the country code, e.g. +86 138 0000 1234 or 8613800001234"


@dataclass(frozen=True)
class Row:
    """One bad value, where it is given, and the error it must give before any request."""

    id: str
    layer: str  # hook, operator, sensor or connection
    target: type  # the hook, operator or sensor class
    kwargs: dict[str, Any]
    param: str  # ParameterError.param, or ConnectionConfigError.field for connection rows
    message: str  # how str(error) starts; the README shows the same text
    method: str | None = None  # for hooks: the method called with kwargs
    conn: dict[str, dict[str, Any]] = field(default_factory=dict)  # conn id -> changed fields
    xfail: str | None = None  # a known gap: why the provider does not do this yet

    @property
    def error(self) -> type[Exception]:
        return ConnectionConfigError if self.layer == "connection" else ParameterError


def hook_row(id: str, target: type, method: str, kwargs: dict, param: str, message: str, **more) -> Row:
    return Row(id, "hook", target, kwargs, param, message, method=method, **more)


def operator_row(id: str, target: type, kwargs: dict, param: str, message: str, **more) -> Row:
    return Row(id, "operator", target, kwargs, param, message, **more)


def sensor_row(id: str, target: type, kwargs: dict, param: str, message: str, **more) -> Row:
    return Row(id, "sensor", target, kwargs, param, message, **more)


def connection_row(id: str, conn_id: str, changes: dict, target: type, method: str | None, **more) -> Row:
    """A connection field that makes every call fail; ``target``/``method`` is the call tried."""
    kwargs = more.pop("kwargs", {})
    return Row(id, "connection", target, kwargs, method=method, conn={conn_id: changes}, **more)


NO_APPKEY = {NX: {"extra": {"appkey": None}}}
NO_SPACE = {CAMS: {"extra": {"cust_space_id": None}}}

ROWS: list[Row] = [
    # -- hooks: NxCloudHook ------------------------------------------------------------------------
    hook_row(
        "hook-phones-letters", NxCloudHook, "get_phone_info", {"phones": "+1 800 FLOWERS"}, "phones",
        "phones: '+1 800 FLOWERS' is not a phone number" + PHONE_EXAMPLE,
    ),
    hook_row(
        "hook-phones-too-short", NxCloudHook, "submit_number_check", {"phones": "+86 1"}, "phones",
        "phones: '+86 1' is not a possible phone number for any country",
    ),
    hook_row(
        "hook-phones-several-bad", NxCloudHook, "get_phone_info",
        {"phones": ["8613800001234", "abc", "12"]}, "phones",
        "phones: 2 entries are not phone numbers ('abc', '12')",
    ),
    hook_row(
        "hook-phones-many-bad", NxCloudHook, "submit_number_check",
        {"phones": ["a", "b", "c", "d", "e", "f", "g"]}, "phones",
        "phones: 7 entries are not phone numbers ('a', 'b', 'c', 'd', 'e' and 2 more)",
    ),
    hook_row(
        "hook-phones-empty-list", NxCloudHook, "submit_number_check", {"phones": []}, "phones",
        "phones: at least one phone number is required",
    ),
    hook_row(
        "hook-phones-none", NxCloudHook, "submit_number_check", {"phones": None}, "phones",
        "phones: at least one phone number is required",
    ),
    hook_row(
        "hook-phones-only-separators", NxCloudHook, "get_phone_info", {"phones": " , ;"}, "phones",
        "phones: at least one phone number is required",
    ),
    hook_row(
        "hook-phones-mapping", NxCloudHook, "get_phone_info", {"phones": {"cn": "8613800001234"}},
        "phones", "phones: expected a list of phone numbers or a comma-separated string",
    ),
    hook_row(
        "hook-phones-float-in-list", NxCloudHook, "submit_number_check", {"phones": [8613800001234.0]},
        "phones", "phones: 8613800001234.0 looks like a number read as a float",
    ),
    hook_row(
        "hook-phones-float", NxCloudHook, "get_phone_info", {"phones": 8613800001234.0}, "phones",
        "phones: 8613800001234.0 looks like a number read as a float",
    ),
    hook_row(
        "hook-appkey-spaces", NxCloudHook, "list_phones", {"appkey": "two words"}, "appkey",
        "appkey: required: a non-empty string without spaces",
    ),
    hook_row(
        "hook-appkey-empty", NxCloudHook, "get_phone_info", {"appkey": ""}, "appkey",
        "appkey: required: a non-empty string without spaces",
    ),
    hook_row(
        "hook-appkey-not-in-connection", NxCloudHook, "list_phones", {}, "appkey",
        "appkey: required: a non-empty string without spaces (pass appkey= or set the connection's "
        "appkey field)",
        conn=NO_APPKEY,
    ),
    hook_row(
        "hook-check-level-not-a-number", NxCloudHook, "submit_number_check",
        {"phones": "8613800001234", "check_level": "HLR"}, "check_level",
        "check_level: must be a whole number, got 'HLR'",
    ),
    hook_row(
        "hook-check-level-unknown", NxCloudHook, "submit_number_check",
        {"phones": "8613800001234", "check_level": 3}, "check_level",
        "check_level: must be one of 1 (basic), 4 (call) or 5 (HLR), got 3",
    ),
    hook_row(
        "hook-batch-no-too-long", NxCloudHook, "submit_number_check",
        {"phones": "8613800001234", "batch_no": "b" * 65}, "batch_no",
        "batch_no: must be at most 64 characters, got 65",
    ),
    hook_row(
        "hook-batch-no-empty", NxCloudHook, "submit_number_check",
        {"phones": "8613800001234", "batch_no": ""}, "batch_no",
        "batch_no: must be a non-empty string, got ''",
    ),
    hook_row(
        "hook-batch-no-with-country-suffix", NxCloudHook, "submit_number_check",
        {"phones": TWO_COUNTRIES, "batch_no": LONG_BATCH_NO}, "batch_no",
        "batch_no: must be at most 64 characters including the country suffix and chunk number added "
        "per request ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-CN' is 65)",
    ),
    hook_row(
        "hook-dr-url-not-a-url", NxCloudHook, "submit_number_check",
        {"phones": "8613800001234", "dr_url": "example.com/dr"}, "dr_url",
        "dr_url: must be an http(s) URL, got 'example.com/dr'",
    ),
    hook_row(
        "hook-date-format", NxCloudHook, "query_number_check", {"date": "22-11-2026", "batch_no": "b"},
        "date", "date: must be a date in the form yyyy-MM-dd, got '22-11-2026'",
    ),
    hook_row(
        "hook-date-not-in-calendar", NxCloudHook, "query_number_check",
        {"date": "2026-02-30", "batch_no": "b"}, "date",
        "date: '2026-02-30' is not a calendar date (yyyy-MM-dd)",
    ),
    hook_row(
        "hook-date-too-old", NxCloudHook, "query_number_check", {"date": "2020-01-01", "batch_no": "b"},
        "date", "date: 2020-01-01 is outside the 14-day window the service keeps",
    ),
    hook_row(
        "hook-date-in-the-future", NxCloudHook, "iter_number_check_results",
        {"date": "2999-01-01", "batch_no": "b"}, "date",
        "date: 2999-01-01 is outside the 14-day window the service keeps",
    ),
    hook_row(
        "hook-query-needs-batch-or-message", NxCloudHook, "query_number_check", {"date": TODAY},
        "batch_no", "batch_no: batch_no or message_id is required (the service needs one)",
    ),
    hook_row(
        "hook-page-zero", NxCloudHook, "query_number_check", {"date": TODAY, "batch_no": "b", "page": 0},
        "page", "page: must be at least 1, got 0",
    ),
    hook_row(
        "hook-page-negative", NxCloudHook, "query_number_check",
        {"date": TODAY, "batch_no": "b", "page": -1}, "page",
        "page: must be at least 1, got -1",
    ),
    hook_row(
        "hook-page-size-too-big", NxCloudHook, "query_number_check",
        {"date": TODAY, "batch_no": "b", "page_size": 500}, "page_size",
        "page_size: must be between 1 and 100, got 500",
    ),
    hook_row(
        "hook-page-size-fraction", NxCloudHook, "iter_number_check_results",
        {"date": TODAY, "message_id": "m", "page_size": 2.5}, "page_size",
        "page_size: must be a whole number, got 2.5",
    ),
    hook_row(
        "hook-message-id-too-long", NxCloudHook, "query_number_check",
        {"date": TODAY, "message_id": "m" * 65}, "message_id",
        "message_id: must be at most 64 characters, got 65",
    ),
    hook_row(
        "hook-query-batch-no-too-long", NxCloudHook, "iter_number_check_results",
        {"date": TODAY, "batch_no": "b" * 65}, "batch_no",
        "batch_no: must be at most 64 characters, got 65",
    ),
    hook_row(
        "hook-query-phone-letters", NxCloudHook, "query_number_check",
        {"date": TODAY, "batch_no": "b", "phone": "abc"}, "phone",
        "phone: 'abc' is not a phone number" + PHONE_EXAMPLE,
    ),
    hook_row(
        "hook-query-phone-too-short", NxCloudHook, "query_number_check",
        {"date": TODAY, "batch_no": "b", "phone": "12"}, "phone",
        "phone: '12' is not a possible phone number for any country",
    ),
    hook_row(
        "hook-query-appkey", NxCloudHook, "query_number_check",
        {"date": TODAY, "batch_no": "b", "appkey": "two words"}, "appkey",
        "appkey: required: a non-empty string without spaces",
    ),
    # -- hooks: CamsHook ---------------------------------------------------------------------------
    hook_row(
        "hook-cams-status-unknown", CamsHook, "query_phone_numbers", {"status": "ONLINE"}, "status",
        "status: must be one of BANNED, CONNECTED, DELETED, DISCONNECTED, FLAGGED, MIGRATED, OFFLINE, "
        "PAUSED, PENDING, RATE_LIMITED, RESTRICTED, UNKNOWN, UNVERIFIED, got 'ONLINE'",
    ),
    hook_row(
        "hook-cams-space-format", CamsHook, "query_phone_numbers", {"cust_space_id": "a b"},
        "cust_space_id", "cust_space_id: must be a space id (letters, digits, '-', '_', '.'), got 'a b'",
    ),
    connection_row(
        "conn-cams-space-format", CAMS, {"extra": {"cust_space_id": "demo space"}}, CamsHook,
        "query_phone_numbers", param="cust_space_id",
        message="connection 'alibaba_cams_default', field cust_space_id: must be a space id (letters, "
        "digits, '-', '_', '.'), got 'demo space'",
    ),
    hook_row(
        "hook-cams-isv-code", CamsHook, "query_phone_numbers", {"isv_code": "bad code"}, "isv_code",
        "isv_code: must be an ISV verification code, got 'bad code'",
    ),
    hook_row(
        "hook-cams-profile-phone-missing", CamsHook, "query_phone_business_profile", {"phone_number": ""},
        "phone_number", "phone_number: required: the sender number whose profile to read",
    ),
    hook_row(
        "hook-cams-profile-phone-letters", CamsHook, "query_phone_business_profile",
        {"phone_number": "not a phone"}, "phone_number",
        "phone_number: 'not a phone' is not a phone number" + PHONE_EXAMPLE,
    ),
    hook_row(
        "hook-cams-profile-space-format", CamsHook, "query_phone_business_profile",
        {"phone_number": "8613900001111", "cust_space_id": "bad space"}, "cust_space_id",
        "cust_space_id: must be a space id (letters, digits, '-', '_', '.'), got 'bad space'",
    ),
    hook_row(
        "hook-cams-profile-space-required", CamsHook, "query_phone_business_profile",
        {"phone_number": "8613900001111"}, "cust_space_id",
        "cust_space_id: required: pass cust_space_id= or set the connection's cust_space_id field",
        conn=NO_SPACE,
    ),
    # -- operators ---------------------------------------------------------------------------------
    operator_row(
        "op-info-phones", NxCloudPhoneInfoOperator, {"phones": "+86 138 0000 1234, 12345"}, "phones",
        "phones: 1 entry is not a phone number (' 12345')",
    ),
    operator_row(
        "op-info-appkey", NxCloudPhoneInfoOperator, {"appkey": "two words"}, "appkey",
        "appkey: required: a non-empty string without spaces",
    ),
    operator_row(
        "op-list-appkey-not-in-connection", NxCloudPhoneListOperator, {}, "appkey",
        "appkey: required: a non-empty string without spaces", conn=NO_APPKEY,
    ),
    operator_row(
        "op-check-phones-empty", NxCloudNumberCheckOperator, {"phones": ""}, "phones",
        "phones: at least one phone number is required",
    ),
    operator_row(
        "op-check-level-templated", NxCloudNumberCheckOperator,
        {"phones": "8613800001234", "check_level": "2"}, "check_level",
        "check_level: must be one of 1 (basic), 4 (call) or 5 (HLR), got 2",
    ),
    operator_row(
        "op-check-batch-no-with-country-suffix", NxCloudNumberCheckOperator,
        {"phones": TWO_COUNTRIES, "batch_no": LONG_BATCH_NO}, "batch_no",
        "batch_no: must be at most 64 characters including the country suffix",
    ),
    operator_row(
        "op-check-dr-url", NxCloudNumberCheckOperator,
        {"phones": "8613800001234", "dr_url": "ftp://example.com/dr"}, "dr_url",
        "dr_url: must be an http(s) URL, got 'ftp://example.com/dr'",
    ),
    operator_row(
        "op-results-batches-and-query", NxCloudNumberCheckResultsOperator,
        {"batches": [BATCH], "date": TODAY}, "batches",
        "batches: give either batches or date with batch_no/message_id, not both",
    ),
    operator_row(
        "op-results-batches-shape", NxCloudNumberCheckResultsOperator, {"batches": "campaign-7"},
        "batches", "batches: must be the non-empty list returned by NxCloudNumberCheckOperator",
    ),
    operator_row(
        "op-results-needs-batch-or-message", NxCloudNumberCheckResultsOperator, {"date": TODAY},
        "batch_no", "batch_no: batch_no or message_id is required (the service needs one)",
    ),
    operator_row(
        "op-results-date-too-old", NxCloudNumberCheckResultsOperator,
        {"date": "2020-01-01", "batch_no": "campaign-7"}, "date",
        "date: 2020-01-01 is outside the 14-day window the service keeps",
    ),
    operator_row(
        "op-results-batch-without-date", NxCloudNumberCheckResultsOperator,
        {"batches": [{"batch_no": "campaign-7", "phone_count": 2}]}, "batches",
        "batches: date: must be a date in the form yyyy-MM-dd, got None",
    ),
    operator_row(
        "op-results-batch-empty-batch-no", NxCloudNumberCheckResultsOperator,
        {"batches": [{"batch_no": "", "message_id": "0", "date": TODAY}]}, "batches",
        "batches: batch_no: must be a non-empty string, got ''",
    ),
    operator_row(
        "op-results-second-batch-bad", NxCloudNumberCheckResultsOperator,
        {"batches": [BATCH, BATCH | {"date": "2020-01-01"}]}, "batches",
        "batches: date: 2020-01-01 is outside the 14-day window the service keeps",
    ),
    operator_row(
        "op-results-page-size", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "page_size": 0}, "page_size",
        "page_size: must be between 1 and 100, got 0",
    ),
    operator_row(
        "op-results-phone", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "phone": "hello"}, "phone",
        "phone: 'hello' is not a phone number",
    ),
    operator_row(
        "op-results-empty-batches", NxCloudNumberCheckResultsOperator, {"batches": []}, "batches",
        "batches: must be the non-empty list returned by NxCloudNumberCheckOperator",
    ),
    operator_row(
        "op-results-max-xcom-records-zero", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "max_xcom_records": 0}, "max_xcom_records",
        "max_xcom_records: must be a whole number >= 1, got 0",
    ),
    operator_row(
        "op-results-output-path-folder", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "output_path": "file:///tmp/wa-phones-checks/"},
        "output_path",
        "output_path: must name a file, not a folder: 'file:///tmp/wa-phones-checks/' ends with '/'",
    ),
    operator_row(
        "op-results-output-path-scheme-only", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "output_path": "file://"}, "output_path",
        "output_path: must name a file, not a folder: 'file://' ends with '/'",
    ),
    operator_row(
        "op-results-output-path-existing-folder", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "output_path": "file:///tmp"}, "output_path",
        "output_path: must name a file, but 'file:///tmp' is a folder",
    ),
    operator_row(
        "op-cams-numbers-status", CamsPhoneNumbersOperator, {"status": "active"}, "status",
        "status: must be one of BANNED, CONNECTED,",
    ),
    operator_row(
        "op-cams-numbers-isv-code", CamsPhoneNumbersOperator, {"isv_code": "a/b"}, "isv_code",
        "isv_code: must be an ISV verification code, got 'a/b'",
    ),
    operator_row(
        "op-cams-numbers-space", CamsPhoneNumbersOperator, {"cust_space_id": "x" * 129}, "cust_space_id",
        "cust_space_id: must be a space id (letters, digits, '-', '_', '.')",
    ),
    operator_row(
        "op-cams-profile-phone-none", CamsPhoneBusinessProfileOperator, {"phone_number": None},
        "phone_number", "phone_number: required: the sender number whose profile to read",
    ),
    operator_row(
        "op-cams-profile-phone-too-short", CamsPhoneBusinessProfileOperator, {"phone_number": "+65 12"},
        "phone_number", "phone_number: '+65 12' is not a possible phone number for any country",
    ),
    operator_row(
        "op-cams-profile-space-required", CamsPhoneBusinessProfileOperator,
        {"phone_number": "8613900001111"}, "cust_space_id",
        "cust_space_id: required: pass cust_space_id= or set the connection's cust_space_id field",
        conn=NO_SPACE,
    ),
    # -- sensors (poke, and the deferrable execute before it defers) --------------------------------
    sensor_row(
        "sensor-check-nothing-to-wait-for", NxCloudNumberCheckSensor, {"date": TODAY}, "batch_no",
        "batch_no: give batches, batch_no with expected_count, or message_id",
    ),
    sensor_row(
        "sensor-check-expected-count-required", NxCloudNumberCheckSensor,
        {"batch_no": "campaign-7", "date": TODAY}, "expected_count",
        "expected_count: required with batch_no: how many numbers the batch holds",
    ),
    sensor_row(
        "sensor-check-expected-count-zero", NxCloudNumberCheckSensor,
        {"batch_no": "campaign-7", "expected_count": 0, "date": TODAY}, "expected_count",
        "expected_count: the number of records to wait for must be a whole number >= 1, got 0",
    ),
    sensor_row(
        "sensor-check-expected-count-negative", NxCloudNumberCheckSensor,
        {"message_id": "m-1", "expected_count": "-3", "date": TODAY}, "expected_count",
        "expected_count: the number of records to wait for must be a whole number >= 1, got '-3'",
    ),
    sensor_row(
        "sensor-check-expected-count-bool", NxCloudNumberCheckSensor,
        {"batch_no": "campaign-7", "expected_count": True, "date": TODAY}, "expected_count",
        "expected_count: the number of records to wait for must be a whole number >= 1, got True",
    ),
    sensor_row(
        "sensor-check-batches-and-batch-no", NxCloudNumberCheckSensor,
        {"batches": [BATCH], "batch_no": "campaign-7"}, "batches",
        "batches: give either batches or batch_no/message_id/date, not both",
    ),
    sensor_row(
        "sensor-check-batches-empty", NxCloudNumberCheckSensor, {"batches": []}, "batches",
        "batches: must be the non-empty list returned by NxCloudNumberCheckOperator",
    ),
    sensor_row(
        "sensor-check-batches-shape", NxCloudNumberCheckSensor, {"batches": ["campaign-7"]}, "batches",
        "batches: must be the non-empty list returned by NxCloudNumberCheckOperator",
    ),
    sensor_row(
        "sensor-check-batch-phone-count-zero", NxCloudNumberCheckSensor,
        {"batches": [BATCH | {"phone_count": 0}]}, "batches",
        "batches: the number of records to wait for must be a whole number >= 1, got 0",
    ),
    sensor_row(
        "sensor-check-batch-without-id", NxCloudNumberCheckSensor,
        {"batches": [{"date": TODAY, "phone_count": 1}]}, "batches",
        "batches: batch_no: batch_no or message_id is required (the service needs one)",
    ),
    sensor_row(
        "sensor-check-date-missing", NxCloudNumberCheckSensor, {"message_id": "m-1"}, "date",
        "date: must be a date in the form yyyy-MM-dd, got None",
    ),
    sensor_row(
        "sensor-check-date-too-old", NxCloudNumberCheckSensor,
        {"batch_no": "campaign-7", "expected_count": 2, "date": "2020-01-01"}, "date",
        "date: 2020-01-01 is outside the 14-day window the service keeps",
    ),
    sensor_row(
        "sensor-check-message-id-too-long", NxCloudNumberCheckSensor,
        {"message_id": "m" * 65, "date": TODAY}, "message_id",
        "message_id: must be at most 64 characters, got 65",
    ),
    sensor_row(
        "sensor-check-appkey", NxCloudNumberCheckSensor,
        {"batches": [BATCH], "appkey": "two words"}, "appkey",
        "appkey: required: a non-empty string without spaces",
    ),
    sensor_row(
        "sensor-nx-status-phones-empty", NxCloudPhoneStatusSensor, {"phones": []}, "phones",
        "phones: at least one phone number is required",
    ),
    sensor_row(
        "sensor-nx-status-phones-bad", NxCloudPhoneStatusSensor,
        {"phones": "+86 138 0000 1234; +1 800 FLOWERS"}, "phones",
        "phones: 1 entry is not a phone number (' +1 800 FLOWERS')",
    ),
    sensor_row(
        "sensor-nx-status-target-empty", NxCloudPhoneStatusSensor,
        {"phones": "8613800001234", "target_status": " "}, "target_status",
        "target_status: must be a status such as CONNECTED, got ' '",
    ),
    sensor_row(
        "sensor-nx-status-failures-a-string", NxCloudPhoneStatusSensor,
        {"phones": "8613800001234", "failure_statuses": "BANNED"}, "failure_statuses",
        "failure_statuses: must be a list of statuses, e.g. ['BANNED', 'DELETED']",
    ),
    sensor_row(
        "sensor-nx-status-failures-contain-target", NxCloudPhoneStatusSensor,
        {"phones": "8613800001234", "target_status": "connected",
         "failure_statuses": ["banned", "Connected"]},
        "failure_statuses", "failure_statuses: must not contain the target status CONNECTED",
    ),
    sensor_row(
        "sensor-nx-status-appkey", NxCloudPhoneStatusSensor, {"phones": "8613800001234", "appkey": ""},
        "appkey", "appkey: required: a non-empty string without spaces",
    ),
    sensor_row(
        "sensor-nx-status-failures-none", NxCloudPhoneStatusSensor,
        {"phones": "8613800001234", "failure_statuses": None}, "failure_statuses",
        "failure_statuses: must be a list of statuses",
    ),
    sensor_row(
        "sensor-cams-status-phones-none", CamsPhoneStatusSensor, {"phone_numbers": None}, "phone_numbers",
        "phone_numbers: at least one phone number is required",
    ),
    sensor_row(
        "sensor-cams-status-phones-too-short", CamsPhoneStatusSensor, {"phone_numbers": ["6512"]},
        "phone_numbers", "phone_numbers: '6512' is not a possible phone number for any country",
    ),
    sensor_row(
        "sensor-cams-status-target-not-a-string", CamsPhoneStatusSensor,
        {"phone_numbers": "6591110000", "target_status": 1}, "target_status",
        "target_status: must be a status such as CONNECTED, got 1",
    ),
    sensor_row(
        "sensor-cams-status-failures-not-strings", CamsPhoneStatusSensor,
        {"phone_numbers": "6591110000", "failure_statuses": ["BANNED", 3]}, "failure_statuses",
        "failure_statuses: must be a list of statuses",
    ),
    sensor_row(
        "sensor-cams-status-failures-contain-target", CamsPhoneStatusSensor,
        {"phone_numbers": "6591110000", "target_status": "PENDING", "failure_statuses": ["Pending"]},
        "failure_statuses", "failure_statuses: must not contain the target status PENDING",
    ),
    sensor_row(
        "sensor-cams-status-space", CamsPhoneStatusSensor,
        {"phone_numbers": "6591110000", "cust_space_id": "demo space"}, "cust_space_id",
        "cust_space_id: must be a space id (letters, digits, '-', '_', '.'), got 'demo space'",
    ),
    # -- connections -------------------------------------------------------------------------------
    connection_row(
        "conn-nx-login-missing", NX, {"login": None}, NxCloudHook, "list_phones", param="login",
        message="connection 'nxcloud_default', field login: the NxCloud access key is empty",
    ),
    connection_row(
        "conn-nx-password-missing", NX, {"password": ""}, NxCloudHook, "query_number_check",
        kwargs={"date": TODAY, "batch_no": "b"}, param="password",
        message="connection 'nxcloud_default', field password: the NxCloud access secret is empty",
    ),
    connection_row(
        "conn-nx-login-newline", NX, {"login": "sandbox-access-key\n"}, NxCloudHook, "list_phones",
        param="login",
        message="connection 'nxcloud_default', field login: the NxCloud access key holds spaces, line "
        "breaks, control or non-ASCII characters",
    ),
    connection_row(
        "conn-nx-password-space", NX, {"password": "secret with spaces"}, NxCloudHook, "list_phones",
        param="password",
        message="connection 'nxcloud_default', field password: the NxCloud access secret holds spaces, "
        "line breaks, control or non-ASCII characters",
    ),
    connection_row(
        "conn-nx-appkey-newline", NX, {"extra": {"appkey": "sandbox-wa-app\n"}}, NxCloudHook,
        "list_phones", param="appkey",
        message="connection 'nxcloud_default', field appkey: must be a non-empty string without spaces "
        "or control characters",
    ),
    connection_row(
        "conn-nx-extra-not-json", NX, {"extra": "{'appkey': 'sandbox-wa-app'}"}, NxCloudHook, "list_phones",
        param="extra",
        message="connection 'nxcloud_default', field extra: must be a JSON object of named fields",
    ),
    connection_row(
        "conn-nx-host-not-a-url", NX, {"host": "ftp://files.example.com"}, NxCloudHook, "list_phones",
        param="host",
        message="connection 'nxcloud_default', field host: must be an http(s) URL or a host name",
    ),
    connection_row(
        "conn-cams-token-newline", CAMS, {"extra": {"security_token": "CAISsandboxtoken\n"}}, CamsHook,
        "query_phone_numbers", param="security_token",
        message="connection 'alibaba_cams_default', field security_token: the STS security token holds "
        "spaces, line breaks, control or non-ASCII characters",
    ),
    connection_row(
        "conn-cams-extra-not-json", CAMS, {"extra": "region=ap-southeast-1"}, CamsHook,
        "query_phone_numbers", param="extra",
        message="connection 'alibaba_cams_default', field extra: must be a JSON object of named fields",
    ),
    connection_row(
        "conn-cams-schema", CAMS, {"host": "cams.example.com", "schema": "ftp"}, CamsHook,
        "query_phone_numbers", param="schema",
        message="connection 'alibaba_cams_default', field schema: must be http or https (or empty for https)",
    ),
    connection_row(
        "conn-nx-sign-algorithm", NX, {"extra": {"sign_algorithm": "sha1"}}, NxCloudHook, "list_phones",
        param="sign_algorithm",
        message="connection 'nxcloud_default', field sign_algorithm: must be md5 or sha256, got 'sha1'",
    ),
    connection_row(
        "conn-nx-sign-algorithm-via-sensor", NX, {"extra": {"sign_algorithm": "hmac"}},
        NxCloudPhoneStatusSensor, None, kwargs={"phones": "8613800001234"}, param="sign_algorithm",
        message="connection 'nxcloud_default', field sign_algorithm: must be md5 or sha256, got 'hmac'",
    ),
    connection_row(
        "conn-nx-sign-algorithm-not-text", NX, {"extra": {"sign_algorithm": 256}}, NxCloudHook,
        "list_phones", param="sign_algorithm",
        message="connection 'nxcloud_default', field sign_algorithm: must be md5 or sha256, got 256",
    ),
    connection_row(
        "conn-cams-login-missing", CAMS, {"login": ""}, CamsHook, "query_phone_numbers", param="login",
        message="connection 'alibaba_cams_default', field login: the AccessKey ID is empty",
    ),
    connection_row(
        "conn-cams-password-missing", CAMS, {"password": None}, CamsPhoneNumbersOperator, None,
        param="password",
        message="connection 'alibaba_cams_default', field password: the AccessKey secret is empty",
    ),
    connection_row(
        "conn-cams-region", CAMS, {"extra": {"region": "Singapore"}}, CamsHook, "query_phone_numbers",
        param="region",
        message="connection 'alibaba_cams_default', field region: must be a region id such as "
        "ap-southeast-1, got 'Singapore'",
    ),
    connection_row(
        "conn-cams-region-via-sensor", CAMS, {"extra": {"region": "AP-SOUTHEAST-1"}}, CamsPhoneStatusSensor,
        None, kwargs={"phone_numbers": "6591110000"}, param="region",
        message="connection 'alibaba_cams_default', field region: must be a region id such as "
        "ap-southeast-1, got 'AP-SOUTHEAST-1'",
    ),
    # -- issue 19: values once accepted, then mishandled ----------------------------------------------
    connection_row(
        "conn-nx-host-path", NX, {"host": "http://127.0.0.1:9/proxy"}, NxCloudHook, "list_phones",
        param="host",
        message="connection 'nxcloud_default', field host: must be scheme://host[:port] without a path",
    ),
    connection_row(
        "conn-nx-host-query", NX, {"host": "http://127.0.0.1:9?x=1"}, NxCloudHook, "list_phones",
        param="host",
        message="connection 'nxcloud_default', field host: must be scheme://host[:port] without a query "
        "or fragment",
    ),
    connection_row(
        "conn-cams-host-fragment", CAMS, {"host": "http://127.0.0.1:9#x"}, CamsHook,
        "query_phone_numbers", param="host",
        message="connection 'alibaba_cams_default', field host: must be scheme://host[:port] without a "
        "query or fragment",
    ),
    connection_row(
        "conn-cams-host-userinfo", CAMS, {"host": "http://user:pw@127.0.0.1:9"}, CamsHook,
        "query_phone_numbers", param="host",
        message="connection 'alibaba_cams_default', field host: must not hold a user name or password "
        "(user:password@)",
    ),
    connection_row(
        "conn-nx-host-port-zero", NX, {"host": "0:0"}, NxCloudHook, "list_phones", param="host",
        message="connection 'nxcloud_default', field host: port must be 1 to 65535, got 0",
    ),
    connection_row(
        "conn-cams-host-port-zero", CAMS, {"host": "HTTP://0:0"}, CamsHook, "query_phone_numbers",
        param="host",
        message="connection 'alibaba_cams_default', field host: port must be 1 to 65535, got 0",
    ),
    hook_row(
        "hook-dr-url-no-host", NxCloudHook, "submit_number_check",
        {"phones": "+86 138 0000 1234", "dr_url": "https:///cb"}, "dr_url",
        "dr_url: must be an http(s) URL, got 'https:///cb'",
    ),
    hook_row(
        "hook-reuse-since-far-future", NxCloudHook, "submit_number_check",
        {
            "phones": "+86 138 0000 1234", "batch_no": "campaign-7", "reuse_existing": True,
            "reuse_since": dt.datetime.max.replace(tzinfo=dt.timezone.utc),
        },
        "reuse_since", "reuse_since: must not be in the future",
    ),
    operator_row(
        "op-cams-rate-limit-huge", CamsPhoneNumbersOperator, {"rate_limit": 2**63}, "rate_limit",
        "rate_limit: must be between 1 and 1000, got a 64-bit number",
    ),
    # Values that a missing check would write (/dev/null, names with a newline or direction marks)
    # are not rows here: a row runs execute() outside any temporary folder. test_edge_values.py
    # checks them inside tmp_path, and /dev/null as a refused value with every writer stubbed out.
    operator_row(
        "op-results-output-path-nul", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "output_path": "/tmp/wa-phones-checks/a\x00b.jsonl"},
        "output_path", "output_path: must not hold a NUL character",
    ),
    operator_row(
        "op-results-output-path-too-long", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "output_path": "/tmp/" + "x" * 1_048_576}, "output_path",
        "output_path: must be at most 4096 characters, got 1,048,581",
    ),
    operator_row(
        "op-results-output-path-s3-without-s3fs", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "campaign-7", "output_path": "s3://bucket/results.jsonl"}, "output_path",
        "output_path: s3:// cannot be opened here: install s3fs and apache-airflow-providers-amazon",
    ),
    sensor_row(
        "sensor-check-expected-count-huge", NxCloudNumberCheckSensor,
        {"batch_no": "campaign-7", "expected_count": 10**5000, "date": TODAY}, "expected_count",
        "expected_count: the number of records to wait for must be a whole number >= 1, got a whole "
        "number of 16610 bits (the most is 1,000,000)",
    ),
    sensor_row(
        "sensor-check-batch-date-empty", NxCloudNumberCheckSensor,
        {"batches": [{"message_id": "m-1", "date": "", "phone_count": 1}]}, "batches",
        "batches: date: must be a date in the form yyyy-MM-dd, got ''",
    ),
]  # fmt: skip


# -- running a row ---------------------------------------------------------------------------------


def use_connections(
    monkeypatch: pytest.MonkeyPatch, sandbox: Any, changes: dict[str, dict[str, Any]]
) -> None:
    """Point the connections at the sandbox with some fields changed (an extra set to None is removed)."""
    for conn_id, fields in changes.items():
        conn = sandbox.connections()[conn_id] | {k: v for k, v in fields.items() if k != "extra"}
        if isinstance(fields.get("extra"), str):
            conn["extra"] = fields["extra"]  # raw text, as a user may type it
        else:
            extra = conn.get("extra", {}) | fields.get("extra", {})
            conn["extra"] = {key: value for key, value in extra.items() if value is not None}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def make_task(row: Row, **more: Any) -> Any:
    return row.target(task_id=row.id.replace("-", "_"), **row.kwargs, **more)


def call(row: Row) -> Any:
    """Do what the row's layer does: call the hook method, execute the operator, poke the sensor."""
    if row.method is not None:
        hook = row.target(retry_policy=NO_RETRY)
        try:
            result = getattr(hook, row.method)(**row.kwargs)
            return list(result) if isinstance(result, Iterator) else result
        finally:
            hook.close()
    task = make_task(row)
    return task.poke({}) if isinstance(task, BaseSensorOperator) else task.execute({})


def expect_error(row: Row, action: Callable[[], Any]) -> None:
    """``action`` raises the row's error; a sensor's execute() raises it as the cause of an
    AirflowFailException, so the task fails without burning its retries."""
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises((row.error, AirflowFailException)) as info:
        action()
    error = info.value
    if isinstance(error, AirflowFailException):
        assert row.layer in ("sensor", "connection") and isinstance(error.__cause__, row.error)
        assert str(error) == str(error.__cause__)
        error = error.__cause__
    assert (error.field if isinstance(error, ConnectionConfigError) else error.param) == row.param
    assert str(error).startswith(row.message), f"{error}\ndoes not start with\n{row.message}"


def params(layer: str) -> list[Any]:
    return [
        pytest.param(
            row, id=row.id, marks=[pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
        )
        for row in ROWS
        if row.layer == layer
    ]


# -- one test per layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("row", params("hook"))
def test_hook_refuses_bad_input_before_any_request(row: Row, sandbox, monkeypatch) -> None:
    use_connections(monkeypatch, sandbox, row.conn)
    expect_error(row, lambda: call(row))
    assert sandbox.request_count() == 0


@pytest.mark.parametrize("row", params("operator"))
def test_operator_refuses_bad_input_before_any_request(row: Row, sandbox, monkeypatch) -> None:
    use_connections(monkeypatch, sandbox, row.conn)
    expect_error(row, lambda: make_task(row).execute({}))
    assert sandbox.request_count() == 0


@pytest.mark.parametrize("row", params("sensor"))
def test_sensor_refuses_bad_input_before_any_request_and_before_deferring(
    row: Row, sandbox, monkeypatch
) -> None:
    use_connections(monkeypatch, sandbox, row.conn)
    expect_error(row, lambda: make_task(row).poke({}))
    # Deferrable: the error must come from execute() itself, not a TaskDeferred (nor later, in the
    # triggerer, where the message would only show in the triggerer's log).
    expect_error(row, lambda: make_task(row, deferrable=True).execute({}))
    assert sandbox.request_count() == 0


@pytest.mark.parametrize("row", params("connection"))
def test_connection_field_is_refused_before_any_request(row: Row, sandbox, monkeypatch) -> None:
    use_connections(monkeypatch, sandbox, row.conn)
    expect_error(row, lambda: call(row))
    assert sandbox.request_count() == 0


#: Rules that can only be checked once records arrive: the error comes after the requests.
AFTER_REQUESTS: list[Row] = [
    operator_row(
        "op-results-more-than-max-xcom-records", NxCloudNumberCheckResultsOperator,
        {"date": TODAY, "batch_no": "preloaded-30", "max_xcom_records": 10}, "output_path",
        "output_path: more than max_xcom_records=10 results; set output_path to stream them to a file "
        "instead of XCom",
    ),
]  # fmt: skip


@pytest.mark.parametrize("row", AFTER_REQUESTS, ids=[row.id for row in AFTER_REQUESTS])
def test_more_results_than_xcom_may_hold_fail_after_one_page(row: Row, sandbox) -> None:
    sandbox.preload_number_check_batch("preloaded-30", 30)
    expect_error(row, lambda: make_task(row).execute({}))
    assert sandbox.request_count() == 1  # one page of 30 records, not a page per record


def test_good_input_through_the_same_helpers_reaches_the_sandbox(sandbox) -> None:
    """The control: without the bad value, the same calls do send requests (so "0" above means it)."""
    good = [
        hook_row("good-hook", NxCloudHook, "query_number_check", {"date": TODAY, "batch_no": "b"}, "", ""),
        hook_row("good-cams-hook", CamsHook, "query_phone_numbers", {"status": "connected"}, "", ""),
        operator_row(
            "good-op", CamsPhoneBusinessProfileOperator, {"phone_number": "+86 139 0000 1111"}, "", ""
        ),
        sensor_row("good-sensor", NxCloudNumberCheckSensor, {"batches": [BATCH]}, "", ""),
    ]
    for number, row in enumerate(good, start=1):
        call(row)
        assert sandbox.request_count() == number, row.id


# -- the words for the docs ------------------------------------------------------------------------


def text_drift(texts: dict[str, tuple[str, str]], rows: list[Row], after: list[Row]) -> list[str]:
    """Where the rows and their words for readers (``rule_texts.RULE_TEXTS``, from which with the
    rows the docs' validation page is generated) disagree, one line per difference."""
    drift = []
    ids = [row.id for row in rows + after]
    drift.extend(f"row id {row_id} used twice" for row_id in sorted({i for i in ids if ids.count(i) > 1}))
    drift.extend(f"{row_id} has no rule text" for row_id in sorted(set(ids) - set(texts)))
    drift.extend(f"{row_id} has a rule text but no row" for row_id in sorted(set(texts) - set(ids)))
    drift.extend(
        f"{row_id} has an empty rule or example"
        for row_id, (rule, example) in sorted(texts.items())
        if not rule.strip() or not example.strip()
    )
    if not ids:
        drift.append("there are no rows")
    return drift


def test_every_row_has_its_words_for_the_docs() -> None:
    from tests.integration.rule_texts import RULE_TEXTS

    assert len(ROWS) >= 40
    assert text_drift(RULE_TEXTS, ROWS, AFTER_REQUESTS) == []


def test_the_words_check_fails_on_planted_drift() -> None:
    from tests.integration.rule_texts import RULE_TEXTS

    first = ROWS[0]
    missing = {key: value for key, value in RULE_TEXTS.items() if key != first.id}
    assert text_drift(missing, ROWS, AFTER_REQUESTS) == [f"{first.id} has no rule text"]
    extra = {**RULE_TEXTS, "made-up": ("x", "y")}
    assert text_drift(extra, ROWS, AFTER_REQUESTS) == ["made-up has a rule text but no row"]
    blank = {**RULE_TEXTS, first.id: (" ", "y")}
    assert text_drift(blank, ROWS, AFTER_REQUESTS) == [f"{first.id} has an empty rule or example"]
    assert text_drift(RULE_TEXTS, [*ROWS, first], AFTER_REQUESTS) == [f"row id {first.id} used twice"]
    assert text_drift({}, [], []) == ["there are no rows"]


def test_the_table_covers_every_layer_and_every_class() -> None:
    rules = [row for row in ROWS if not row.xfail]
    per_layer = {layer: sum(row.layer == layer for row in rules) for layer in ("hook", "operator", "sensor")}
    assert sum(per_layer.values()) >= 40 and min(per_layer.values()) >= 10, per_layer
    covered = {row.target for row in rules}
    assert {
        NxCloudHook, CamsHook, NxCloudPhoneInfoOperator, NxCloudPhoneListOperator, NxCloudNumberCheckOperator,
        NxCloudNumberCheckResultsOperator, CamsPhoneNumbersOperator, CamsPhoneBusinessProfileOperator,
        NxCloudNumberCheckSensor, NxCloudPhoneStatusSensor, CamsPhoneStatusSensor,
    } <= covered  # fmt: skip
    assert {"login", "password", "sign_algorithm", "region"} <= {
        row.param for row in rules if row.layer == "connection"
    }
