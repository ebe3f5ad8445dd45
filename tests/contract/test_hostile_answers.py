"""Answers that are not the service's envelope: a proxy's HTML, JSON of the wrong shape, bare 429s.

Nothing here comes from the services; it is what sits between them and us (gateways, proxies, a
wrong host) and what a buggy or changed service could send. Each must end in the package's own
error, after the right number of requests, and a submit must never be sent twice blindly.
"""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_wa_phones.exceptions import (
    MalformedResponseError,
    ThrottledError,
    TransportError,
    WaPhonesError,
)
from tests.contract.conftest import published_bytes
from tests.replay import Answer

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
GET_PHONE, SUBMIT, QUERY = "/api/wa/getPhone", "/api/number/check", "/api/number/query"
HTML_404 = Answer(404, b"<html><body><h1>404 Not Found</h1>nginx</body></html>", content_type="text/html")
EMPTY_403 = Answer(403, b"", content_type=None)
EMPTY_QUERY = Answer(200, published_bytes("nxcloud/number-query-success-empty.json"))


def nxcloud_calls(hook):
    return {
        GET_PHONE: lambda: hook.get_phone_info(),
        "/api/wa/integrator/embedded/register/phoneList": lambda: hook.list_phones(),
        QUERY: lambda: hook.query_number_check(TODAY, batch_no="b-1"),
        SUBMIT: lambda: hook.submit_number_check(["+86 138 0000 1234"], batch_no="b-1"),
    }


@pytest.mark.parametrize("answer", [HTML_404, EMPTY_403], ids=["html-404", "empty-403"])
@pytest.mark.parametrize("path", [GET_PHONE, "/api/wa/integrator/embedded/register/phoneList", QUERY, SUBMIT])
def test_a_4xx_without_the_envelope_fails_after_one_request_and_names_the_base_url(
    nxcloud, replay, path, answer
):
    replay.set(path, answer)
    with pytest.raises(MalformedResponseError) as caught:
        nxcloud_calls(nxcloud)[path]()
    assert not caught.value.retryable
    assert replay.url in str(caught.value)
    assert "may not point at" in str(caught.value)
    assert replay.count() == 1  # no retry, and on a submit no lookup: the service never saw it


@pytest.mark.parametrize("answer", [HTML_404, EMPTY_403], ids=["html-404", "empty-403"])
def test_a_cams_4xx_without_the_envelope_fails_after_one_request(cams, replay, answer):
    replay.set("/", answer)
    with pytest.raises(MalformedResponseError) as caught:
        cams.query_phone_numbers()
    assert not caught.value.retryable
    assert "may not point at" in str(caught.value)
    assert replay.count() == 1


def _deep(depth: int) -> bytes:
    return b'{"code":0,"msg":"ok","data":' + b"[" * depth + b"]" * depth + b"}"


WRONG_SHAPES = {
    "data-is-a-list": Answer.json({"code": 0, "msg": "ok", "data": [1, 2]}),
    "data-is-a-string": Answer.json({"code": 0, "msg": "ok", "data": "done"}),
    "total-page-not-a-number": Answer.json(
        {"code": 0, "msg": "ok", "data": {"result": [], "totalPage": "many", "totalSize": 0}}
    ),
    "records-are-not-objects": Answer.json(
        {"code": 0, "msg": "ok", "data": {"result": [1, "two"], "totalPage": 1, "totalSize": 2}}
    ),
    "result-is-an-object": Answer.json(
        {"code": 0, "msg": "ok", "data": {"result": {"a": 1}, "totalPage": 1, "totalSize": 1}}
    ),
    "nested-100000-deep": Answer(200, _deep(100_000)),
    "code-is-text": Answer.json({"code": "zero", "msg": "ok", "data": {}}),
    "truncated": Answer(200, b'{"code":0,"msg":"ok","data":{"res'),
}


@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
def test_json_of_the_wrong_shape_is_a_malformed_response_on_a_query(nxcloud, replay, shape):
    replay.set(QUERY, WRONG_SHAPES[shape])
    with pytest.raises(MalformedResponseError):
        list(nxcloud.iter_number_check_results(TODAY, batch_no="b-1"))


@pytest.mark.parametrize("shape", ["data-is-a-list", "nested-100000-deep", "code-is-text"])
def test_json_of_the_wrong_shape_is_a_malformed_response_on_get_phone(nxcloud, replay, shape):
    replay.set(GET_PHONE, WRONG_SHAPES[shape])
    with pytest.raises(MalformedResponseError):
        nxcloud.get_phone_info()


@pytest.mark.parametrize("shape", ["data-is-a-list", "data-is-a-string", "nested-100000-deep", "truncated"])
def test_a_submit_answered_with_the_wrong_shape_is_looked_up_never_resent(nxcloud, replay, shape):
    replay.set(SUBMIT, WRONG_SHAPES[shape])
    replay.set(QUERY, EMPTY_QUERY)
    with pytest.raises(MalformedResponseError) as caught:
        nxcloud.submit_number_check(["+86 138 0000 1234"], batch_no="b-1", lost_response_wait=0)
    assert replay.count(SUBMIT) == 1  # maybe charged: never sent again
    assert replay.count(QUERY) >= 1  # ...but looked up
    assert "may have been accepted" in "\n".join([str(caught.value), *getattr(caught.value, "__notes__", [])])


def test_when_the_lookup_fails_too_the_submit_s_own_error_is_raised(nxcloud, replay):
    replay.set(SUBMIT, Answer(502, b"<html>Bad Gateway</html>", content_type="text/html"))
    replay.set(QUERY, HTML_404)
    with pytest.raises(WaPhonesError) as caught:
        nxcloud.submit_number_check(["+86 138 0000 1234"], batch_no="b-1", lost_response_wait=0)
    assert "numberCheck" in str(caught.value)  # the submit's error, not the lookup's
    assert replay.count(SUBMIT) == 1


def test_a_dns_failure_counts_as_not_sent(monkeypatch):
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
    from airflow_provider_wa_phones.retry import RetryPolicy
    from tests.replay import nxcloud_connection

    monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", nxcloud_connection("http://no-such-host.invalid"))
    hook = NxCloudHook(retry_policy=RetryPolicy(max_attempts=1))
    with pytest.raises(TransportError) as caught:
        hook.submit_number_check(["+86 138 0000 1234"], batch_no="b-1", lost_response_wait=0)
    assert caught.value.unsent


# --- throttling without an envelope --------------------------------------------------------------

BARE_429 = Answer(429, b"<html>Too Many Requests</html>", content_type="text/html")


def test_a_bare_429_is_retried_like_a_throttle_on_nxcloud(nxcloud, replay):
    ok = Answer.json({"code": 0, "message": "ok", "data": {}})
    replay.set(GET_PHONE, [BARE_429, ok])
    assert nxcloud.get_phone_info() == []
    assert replay.count(GET_PHONE) == 2


def test_a_bare_429_is_retried_like_a_throttle_on_cams(cams, replay):
    ok = Answer.json({"RequestId": "r", "Code": "OK", "Message": "ok", "PhoneNumbers": []})
    replay.set("/", [BARE_429, ok])
    assert cams.query_phone_numbers() == []
    assert replay.count("/") == 2


def test_a_bare_429_on_a_submit_is_a_refusal_and_retried_without_a_lookup(nxcloud, replay):
    replay.set(SUBMIT, [BARE_429, Answer(200, published_bytes("nxcloud/number-submit-success.json"))])
    replay.set(QUERY, EMPTY_QUERY)
    (batch,) = nxcloud.submit_number_check(["+86 138 0000 1234"], batch_no="b-1")
    assert batch["message_id"] == "301ef45b8de54d8aad95c5264c3756be"
    assert replay.count(SUBMIT) == 2 and replay.count(QUERY) == 0


def test_a_bare_429_s_retry_after_seconds_are_honoured(nxcloud, replay):
    waits: list[float] = []
    nxcloud._sleep = waits.append
    ok = Answer.json({"code": 0, "message": "ok", "data": {}})
    replay.set(GET_PHONE, [Answer(429, b"", {"Retry-After": "2"}, content_type=None), ok])
    nxcloud.get_phone_info()
    assert waits and waits[0] >= 2.0


def test_a_bare_429_that_keeps_coming_ends_in_a_throttled_error(nxcloud, replay):
    replay.set(GET_PHONE, BARE_429)
    with pytest.raises(ThrottledError):
        nxcloud.get_phone_info()
    assert replay.count(GET_PHONE) == 3


def test_nested_json_never_raises_recursion_error_in_cams(cams, replay):
    replay.set("/", Answer(200, b'{"Code":"OK","PhoneNumbers":' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    with pytest.raises(MalformedResponseError):
        cams.query_phone_numbers()


@pytest.mark.parametrize(
    "payload",
    [
        {"RequestId": "r", "Code": "OK", "PhoneNumbers": {"a": 1}},
        {"RequestId": "r", "Code": "OK", "PhoneNumbers": "none"},
        {"RequestId": "r", "Code": "OK", "Data": [1]},
        [1, 2, 3],
    ],
)
def test_cams_json_of_the_wrong_shape_is_a_malformed_response(cams, replay, payload):
    replay.set("/", Answer.json(payload))
    with pytest.raises(MalformedResponseError):
        if isinstance(payload, dict) and "Data" in payload:
            cams.query_phone_business_profile("+65 9111 0000")
        else:
            cams.query_phone_numbers()
