"""NxCloudHook over real HTTP against the sandbox, which checks signatures with its own code."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
import requests

from airflow_provider_wa_phones.exceptions import (
    AuthenticationError,
    ClockSkewError,
    NotFoundError,
    ParameterError,
)
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.sandbox import data

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
SANDBOX_PHONES = {"8613800001234", "14155550123", "6281234567890", "5511987654321", "447700900123"}


def _conn_env(monkeypatch, sandbox, **changes):
    conn = sandbox.connections()["nxcloud_default"] | changes
    monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps(conn))


def test_list_phones_returns_every_sandbox_number(hook, sandbox):
    records = hook.list_phones()
    names = {r["verified_name"] for r in records}
    assert len(records) == len(SANDBOX_PHONES)
    assert "牛小信科技" in names
    assert {"register_status", "waba_id", "waba_name"} <= set(records[0])
    assert sandbox.request_count() == 1


def test_get_phone_info_keyed_shape(hook):
    records = hook.get_phone_info(phones=["+86 138-0000-1234", "+1 415 555 0123"])
    assert {r["business_phone"] for r in records} == {"8613800001234", "14155550123"}
    assert all(r["status"] == "CONNECTED" for r in records)


def test_get_phone_info_list_shape(hook):
    records = hook.get_phone_info(appkey="sandbox-wa-app-list")
    assert len(records) == 2
    assert all("business_phone" not in r for r in records)
    assert {r["verified_name"] for r in records} == {"牛小信科技", "Glory HK"}


def test_status_follows_the_sandbox_timeline(hook, sandbox):
    (before,) = hook.get_phone_info(phones="6281234567890")
    sandbox.advance(6)
    (after,) = hook.get_phone_info(phones="6281234567890")
    assert (before["status"], after["status"]) == ("PENDING", "CONNECTED")


def test_unbound_number_is_a_typed_not_found(hook):
    with pytest.raises(NotFoundError) as info:
        hook.get_phone_info(phones="6591234567")
    assert info.value.code == 9006


def test_request_body_is_signed_and_sent_byte_for_byte_including_non_ascii(hook, sandbox):
    (batch,) = hook.submit_number_check(["+86 138 0000 1234"], batch_no="春节活动-2026")
    assert batch["batch_no"] == "春节活动-2026"
    (request,) = sandbox.requests(path="/api/number/check")
    assert "春节活动-2026".encode() in request.body
    assert request.code == 0


def test_appkey_never_travels_as_a_header(hook, sandbox):
    hook.list_phones()
    hook.get_phone_info()
    requests = sandbox.requests()
    assert len(requests) >= 2  # the loop below checks something
    for request in requests:
        assert data.NXCLOUD_APPKEY not in " ".join(f"{k}:{v}" for k, v in request.headers.items())
        assert not {"appkey", "extra__nxcloud__appkey", "sign_algorithm"} & set(request.headers)


def test_sha256_connection_is_accepted(monkeypatch, sandbox):
    extra = sandbox.connections()["nxcloud_default"]["extra"] | {"sign_algorithm": "sha256"}
    _conn_env(monkeypatch, sandbox, extra=extra)
    assert NxCloudHook().list_phones()
    (request,) = sandbox.requests()
    assert request.headers["algorithm"] == "sha256"


# -- the sandbox rejects what the real service rejects, and the hook says why ------------------


def _replay(sandbox, request, body):
    headers = {k: v for k, v in request.headers.items() if k not in {"content-length", "host"}}
    return requests.post(sandbox.url + request.path, data=body, headers=headers, timeout=10).json()


def test_replayed_request_is_accepted_but_one_changed_body_byte_is_not(hook, sandbox):
    hook.get_phone_info(phones="8613800001234")
    (original,) = sandbox.requests()
    assert _replay(sandbox, original, original.body)["code"] == 0
    tampered = original.body.replace(b"8613800001234", b"8613800001235")
    assert len(tampered) == len(original.body) and tampered != original.body
    assert _replay(sandbox, original, tampered)["code"] == 1003


def test_wrong_secret_is_rejected_with_1003_and_named(monkeypatch, sandbox):
    _conn_env(monkeypatch, sandbox, password="not-the-secret")
    with pytest.raises(AuthenticationError) as info:
        NxCloudHook().list_phones()
    assert info.value.code == 1003
    assert "invalid signature" in str(info.value)
    assert "access secret" in str(info.value)
    assert "not-the-secret" not in str(info.value)
    assert sandbox.request_count() == 1  # a credential error is not retried


def test_timestamp_61_seconds_old_is_rejected_with_1004(hook, sandbox):
    sandbox.set_clock_offset(61)
    with pytest.raises(ClockSkewError) as info:
        hook.list_phones()
    assert info.value.code == 1004
    assert "clock" in str(info.value)


def test_unknown_access_key_is_1005(monkeypatch, sandbox):
    _conn_env(monkeypatch, sandbox, login="nobody")
    with pytest.raises(AuthenticationError) as info:
        NxCloudHook().list_phones()
    assert info.value.code == 1005


def test_non_integrator_account_cannot_list(monkeypatch, sandbox):
    _conn_env(
        monkeypatch, sandbox, login=data.NXCLOUD_BASIC_ACCESS_KEY, password=data.NXCLOUD_BASIC_ACCESS_SECRET
    )
    with pytest.raises(AuthenticationError) as info:
        NxCloudHook().list_phones(appkey="sandbox-basic-app")
    assert info.value.code == 9007


# -- number checks -----------------------------------------------------------------------------


def test_submit_splits_countries_and_results_arrive_over_time(hook, sandbox):
    batches = hook.submit_number_check(
        ["+86 138 0000 1234", "+86 139 0000 5678", "+1 415 555 0123"], batch_no="campaign-7"
    )
    assert [(b["batch_no"], b["phone_count"]) for b in batches] == [
        ("campaign-7-CN", 2),
        ("campaign-7-US", 1),
    ]
    assert all(len(b["message_id"]) >= 32 and b["date"] == TODAY for b in batches)
    assert list(hook.iter_number_check_results(TODAY, batch_no="campaign-7-CN")) == []
    sandbox.advance(10)
    records = list(hook.iter_number_check_results(TODAY, batch_no="campaign-7-CN"))
    assert sorted(r["phone"] for r in records) == ["8613800001234", "8613900005678"]
    by_message = hook.query_number_check(TODAY, message_id=batches[1]["message_id"])
    assert by_message["totalSize"] == 1
    assert by_message["result"][0]["phone"] == "14155550123"


def test_2500_records_come_back_exactly_once_in_25_requests(hook, sandbox):
    sandbox.preload_number_check_batch("big-2500", 2500)
    sandbox.clear_requests()
    records = list(hook.iter_number_check_results(TODAY, batch_no="big-2500"))
    assert len(records) == 2500
    assert len({(r["messageId"], r["phone"]) for r in records}) == 2500  # a record is messageId and phone
    assert sandbox.request_count(path="/api/number/query") == 25


def test_results_are_fetched_lazily_page_by_page(hook, sandbox):
    sandbox.preload_number_check_batch("lazy", 250)
    sandbox.clear_requests()
    results = hook.iter_number_check_results(TODAY, batch_no="lazy")
    assert sandbox.request_count() == 0
    first = next(results)
    assert first["batchNo"] == "lazy"
    assert sandbox.request_count() == 1


def test_insufficient_balance_is_a_billing_error(hook):
    from airflow_provider_wa_phones.exceptions import BillingError

    with pytest.raises(BillingError) as info:
        hook.submit_number_check("+86 138 0000 1234", appkey="sandbox-check-broke")
    assert info.value.code == 211


# -- bad input never reaches the service ------------------------------------------------------

BAD_CALLS = [
    ("get_phone_info", {"phones": "not-a-number"}, "phones"),
    ("get_phone_info", {"phones": ["8613800001234", "12"]}, "phones"),
    ("get_phone_info", {"appkey": ""}, "appkey"),
    ("list_phones", {"appkey": "two words"}, "appkey"),
    ("submit_number_check", {"phones": []}, "phones"),
    ("submit_number_check", {"phones": None}, "phones"),
    ("submit_number_check", {"phones": "+86 1"}, "phones"),
    ("submit_number_check", {"phones": "8613800001234", "check_level": 3}, "check_level"),
    ("submit_number_check", {"phones": "8613800001234", "check_level": "HLR"}, "check_level"),
    ("submit_number_check", {"phones": "8613800001234", "batch_no": "b" * 65}, "batch_no"),
    ("submit_number_check", {"phones": "8613800001234", "dr_url": "not a url"}, "dr_url"),
    ("query_number_check", {"date": "22-11-2026", "batch_no": "b"}, "date"),
    ("query_number_check", {"date": "2020-01-01", "batch_no": "b"}, "date"),
    ("query_number_check", {"date": TODAY}, "batch_no"),
    ("query_number_check", {"date": TODAY, "batch_no": "b", "page_size": 500}, "page_size"),
    ("query_number_check", {"date": TODAY, "batch_no": "b", "page": -1}, "page"),
    ("query_number_check", {"date": TODAY, "batch_no": "b", "phone": "abc"}, "phone"),
    ("iter_number_check_results", {"date": TODAY, "message_id": "m", "page_size": 0}, "page_size"),
    ("iter_number_check_results", {"date": "yesterday", "batch_no": "b"}, "date"),
]


@pytest.mark.parametrize(
    ("method", "kwargs", "param"), BAD_CALLS, ids=[f"{m}-{p}-{i}" for i, (m, _, p) in enumerate(BAD_CALLS)]
)
def test_bad_input_raises_before_any_request(hook, sandbox, method, kwargs, param):
    with pytest.raises(ParameterError) as info:
        getattr(hook, method)(**kwargs)
    assert info.value.param == param
    assert sandbox.request_count() == 0


def test_missing_appkey_everywhere_raises_before_any_request(monkeypatch, sandbox):
    _conn_env(monkeypatch, sandbox, extra={})
    hook = NxCloudHook()
    with pytest.raises(ParameterError, match="appkey: required"):
        hook.list_phones()
    assert sandbox.request_count() == 0


# -- secrets ----------------------------------------------------------------------------------


def test_access_secret_and_signatures_stay_out_of_logs_and_errors(monkeypatch, sandbox, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    sandbox.fail_next("http_502", path="/api/wa/integrator/embedded/register/phoneList")
    hook = NxCloudHook(retry_policy=RetryPolicy(initial_delay=0.0))
    hook.list_phones()  # retried once: a warning is logged
    hook.get_phone_info(phones="8613800001234")
    errors = []
    for call in (lambda: hook.get_phone_info(phones="6591234567"), lambda: hook.get_phone_info(phones="x")):
        with pytest.raises(Exception) as info:
            call()
        errors.append(str(info.value) + repr(info.value))
    signatures = [r.headers["sign"] for r in sandbox.requests()]
    assert signatures
    captured = capfd.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "retrying" in logs  # the hook's own log lines were captured
    text = logs + "".join(errors) + repr(hook) + repr(hook.settings) + repr(hook.get_conn().auth)
    assert data.NXCLOUD_ACCESS_SECRET not in text
    assert not any(sign in text for sign in signatures)


def test_test_connection_reports_success_and_failure(monkeypatch, sandbox):
    ok, message = NxCloudHook().test_connection()
    assert ok, message
    assert "5 WhatsApp numbers" in message
    _conn_env(monkeypatch, sandbox, password="wrong-secret")
    ok, message = NxCloudHook().test_connection()
    assert not ok
    assert "1003" in message and "wrong-secret" not in message


def test_clock_skew_error_says_how_far_off_the_clock_is(hook, sandbox):
    sandbox.set_clock_offset(-75)
    with pytest.raises(ClockSkewError, match=r"local clock is 7[4-6] s ahead of the server"):
        hook.list_phones()


@pytest.mark.parametrize("count", [1, 99, 100, 101, 250, 1000])
def test_requests_made_for_n_records_is_ceil_n_over_100(hook, sandbox, count):
    import math

    sandbox.preload_number_check_batch(f"n-{count}", count)
    sandbox.clear_requests()
    records = list(hook.iter_number_check_results(TODAY, batch_no=f"n-{count}"))
    assert len(records) == count
    assert hook.stats.requests == sandbox.request_count() == math.ceil(count / 100)
