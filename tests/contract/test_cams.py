"""CamsHook against Alibaba's published examples and error shapes, with the official SDK as the
oracle for what each answer means (its reading of ``x-acs-retry-after`` above all)."""

from __future__ import annotations

import pytest

from airflow_provider_wa_phones.exceptions import (
    AuthenticationError,
    ClockSkewError,
    NotFoundError,
    ServiceError,
    ThrottledError,
)
from airflow_provider_wa_phones.retry import RetryPolicy
from tests.contract.conftest import published, published_bytes
from tests.replay import Answer

ERRORS = published("cams/errors.json")
CREDENTIALS = {
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "InvalidSecurityToken.MismatchWithAccessKey",
    "InvalidSecurityToken.Malformed",
    "InvalidSecurityToken.Expired",
    "MissingSecurityToken",
    "Product.Unsubscript",
    "Ram.PermissionDeny",
}
RETRYABLE = {"System.LimitControl", "Throttling.User", "SignatureNonceUsed"}


def error_answer(entry: dict) -> Answer:
    import json

    return Answer(entry["http_status"], json.dumps(entry["body"]).encode(), entry["headers"])


def test_published_phone_numbers_answer(cams, replay):
    replay.set("/", Answer(200, published_bytes("cams/query-chatapp-phone-numbers-success.json")))
    (record,) = cams.query_phone_numbers()
    assert record["PhoneNumber"] == "861380000****"
    assert record["MessagingLimitTier"] == "TIER_10K"


def test_published_business_profile_answer(cams, replay):
    replay.set("/", Answer(200, published_bytes("cams/query-phone-business-profile-success.json")))
    profile = cams.query_phone_business_profile("+86 138 0000 1234")
    assert profile == published("cams/query-phone-business-profile-success.json")["Data"]


@pytest.mark.parametrize("entry", ERRORS, ids=[e["body"]["Code"] for e in ERRORS])
def test_every_published_error_is_typed_with_its_code_status_and_retry_meaning(cams, replay, entry):
    code = entry["body"]["Code"]
    replay.set("/", error_answer(entry))
    cams.retry_policy = RetryPolicy(max_attempts=1)
    with pytest.raises(ServiceError) as caught:
        cams.query_phone_numbers()
    error = caught.value
    assert error.code == code
    assert error.http_status == entry["http_status"]
    assert error.request_id == entry["body"]["RequestId"]
    assert error.retryable == (code in RETRYABLE)
    if code in CREDENTIALS:
        assert isinstance(error, AuthenticationError)
        assert error.remedy, "a credential error says what to do"
    if code == "InvalidTimeStamp.Expired":
        assert isinstance(error, ClockSkewError)
    if code == "Unknown.ResourceOwnerId":
        assert isinstance(error, NotFoundError)
    if code.startswith("Throttling") or code == "System.LimitControl":
        assert isinstance(error, ThrottledError)
    # Published messages end with a period, and the text adds its own: never two in a row.
    assert ".." not in str(error)
    assert entry["body"]["Message"].rstrip(".") in str(error)


@pytest.mark.parametrize("entry", ERRORS, ids=[e["body"]["Code"] for e in ERRORS])
def test_the_official_sdk_reads_each_published_error_as_the_hook_does(replay, entry):
    """Alibaba's own client is the oracle: same code, and the same retry-after in milliseconds."""
    from alibabacloud_cams20200606.client import Client
    from alibabacloud_cams20200606.models import QueryChatappPhoneNumbersRequest
    from alibabacloud_tea_openapi import models as open_api_models
    from darabonba.runtime import RuntimeOptions

    from airflow_provider_wa_phones.hooks.cams import CamsHook

    replay.set("/", error_answer(entry))
    host = replay.url.removeprefix("http://")
    config = open_api_models.Config(
        access_key_id="LTAIreplaykey", access_key_secret="replay-cams-secret", endpoint=host, protocol="http"
    )
    client = Client(config)
    with pytest.raises(Exception) as sdk:
        client.query_chatapp_phone_numbers_with_options(
            QueryChatappPhoneNumbersRequest(cust_space_id="replay-space"), RuntimeOptions(autoretry=False)
        )
    hook = CamsHook(retry_policy=RetryPolicy(max_attempts=1), rate_limit=None)
    with pytest.raises(ServiceError) as ours:
        hook.query_phone_numbers()
    assert ours.value.code == sdk.value.code
    sdk_retry_after_ms = getattr(sdk.value, "retry_after", None)
    if sdk_retry_after_ms is None:
        assert ours.value.retry_after is None
    else:
        assert ours.value.retry_after == pytest.approx(sdk_retry_after_ms / 1000)


def test_a_published_throttle_hint_of_1500_ms_waits_one_and_a_half_seconds(cams, replay):
    (entry,) = [e for e in ERRORS if "x-acs-retry-after" in e["headers"]]
    ok = Answer.json({"RequestId": "r", "Code": "OK", "PhoneNumbers": []})
    replay.set("/", [error_answer(entry), ok])
    waits: list[float] = []
    cams._sleep = waits.append
    cams.query_phone_numbers()
    assert waits == [pytest.approx(1.5)]


def test_a_hint_longer_than_the_retry_budget_raises_at_once_saying_when_to_come_back(cams, replay):
    day_ms = str(86_400_000)
    throttled = Answer.json(
        {"RequestId": "r", "Code": "Throttling.User", "Message": "flow control"},
        400,
        {"x-acs-retry-after": day_ms},
    )
    replay.set("/", throttled)
    waits: list[float] = []
    cams._sleep = waits.append
    with pytest.raises(ThrottledError) as caught:
        cams.query_phone_numbers()
    assert waits == []  # not a thousand days, not even one second
    assert replay.count("/") == 1
    assert caught.value.retry_after == 86_400
    assert "86400 s" in str(caught.value)
