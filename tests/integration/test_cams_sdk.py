"""The official Alibaba Cloud SDK (alibabacloud-cams20200606) against the live sandbox.

An independent client: if it signs, sends and parses successfully, the sandbox speaks real CAMS.
The SDK (tea-openapi 0.4.6) sends ``POST /?<params>`` with an empty body, signs with ACS3-HMAC-SHA256
every header it sends (``accept``, ``user-agent``, ``x-acs-credentials-provider`` included) and
encodes a space in the URL as ``+`` while signing ``%20``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from alibabacloud_cams20200606 import models
from alibabacloud_cams20200606.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.policy.retry import RetryOptions

from airflow_provider_wa_phones.sandbox import SandboxServer, data

pytestmark = pytest.mark.integration

UPPER_UUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
DEMO = data.CAMS_SPACE_ID
LIST = "QueryChatappPhoneNumbers"

ClientFactory = Callable[..., Client]


@pytest.fixture
def make_client(sandbox: SandboxServer) -> ClientFactory:
    """Builds an SDK client for the sandbox: plain http, no retries, short timeouts."""

    def make(
        key_id: str = data.CAMS_ACCESS_KEY_ID,
        secret: str = data.CAMS_ACCESS_KEY_SECRET,
        security_token: str | None = None,
    ) -> Client:
        return Client(
            Config(
                access_key_id=key_id,
                access_key_secret=secret,
                security_token=security_token,
                region_id=data.CAMS_REGION,
                endpoint=f"127.0.0.1:{sandbox.port}",
                protocol="http",
                # In tea-openapi 0.4.6 retries follow Config.retry_options (RuntimeOptions.autoretry is
                # not read); timeouts are milliseconds.
                retry_options=RetryOptions({"retryable": False}),
                connect_timeout=2000,
                read_timeout=5000,
            )
        )

    return make


def list_phones(client: Client, **fields: str) -> models.QueryChatappPhoneNumbersResponse:
    return client.query_chatapp_phone_numbers(models.QueryChatappPhoneNumbersRequest(**fields))


def profile(client: Client, space_id: str, number: str) -> models.QueryPhoneBusinessProfileResponse:
    request = models.QueryPhoneBusinessProfileRequest(cust_space_id=space_id, phone_number=number)
    return client.query_phone_business_profile(request)


def client_error(call: Callable[[], object]) -> ClientException:
    with pytest.raises(ClientException) as raised:
        call()
    return raised.value


def test_sdk_lists_the_phones_of_a_space(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    response = list_phones(make_client(), cust_space_id=DEMO)
    assert response.status_code == 200
    body = response.body
    assert (body.code, body.message, body.success, body.access_denied_detail) == (
        "OK",
        "SUCCESS",
        True,
        "None",
    )
    assert UPPER_UUID.fullmatch(body.request_id)
    assert [(p.phone_number, p.verified_name, p.status, p.quality_rating) for p in body.phone_numbers] == [
        ("8613900001111", "Ali Demo Store", "CONNECTED", "GREEN"),
        ("6591110000", "SG Sender", "PENDING", "UNKNOWN"),
        ("6281299990000", "Toko Jaya", "CONNECTED", "GREEN"),
        ("60123456789", "MY Shop", "CONNECTED", "YELLOW"),
    ]
    store = body.phone_numbers[0]
    assert (store.messaging_limit_tier, store.code_verification_status, store.name_status) == (
        "TIER_10K",
        "VERIFIED",
        "Approval",
    )
    assert store.is_official == "true"
    calling = store.calling_configure
    assert (calling.max_talk_time, calling.calling.status) == (600, "ENABLED")
    assert calling.calling.call_hours.weekly_operating_hours[0].day_of_week == "MONDAY"
    # What the SDK put on the wire, as the sandbox recorded it.
    (sent,) = sandbox.requests(action=LIST)
    assert (sent.method, sent.path, sent.body, sent.code) == ("POST", "/", b"", "OK")
    assert "SignedHeaders=accept;host;user-agent;x-acs-action" in sent.headers["authorization"]


def test_sdk_default_space_and_status_filter(sandbox: SandboxServer, make_client: ClientFactory) -> None:
    client = make_client()
    assert [p.phone_number for p in list_phones(client).body.phone_numbers][:1] == ["8613900001111"]
    second = list_phones(client, cust_space_id=data.CAMS_SECOND_SPACE_ID).body.phone_numbers
    assert [p.phone_number for p in second] == ["971501234567"]
    pending = list_phones(client, cust_space_id=DEMO, status="PENDING", isv_code="isv-ignored")
    assert [p.phone_number for p in pending.body.phone_numbers] == ["6591110000"]
    sandbox.advance(9)
    banned = list_phones(client, status="BANNED").body.phone_numbers
    assert [(p.phone_number, p.quality_rating) for p in banned] == [("6281299990000", "RED")]
    assert list_phones(client, status="PENDING").body.phone_numbers == []


def test_sdk_reads_a_business_profile(make_client: ClientFactory) -> None:
    response = profile(make_client(), DEMO, "8613900001111")
    body = response.body
    assert (response.status_code, body.code, body.success) == (200, "OK", True)
    assert body.data.address == "长沙市岳麓区"
    assert body.data.websites == ["https://sandbox.example.com/ali-demo-store", "https://alibaba.com"]
    assert (body.data.vertical, body.data.email) == ("Retail", "store@sandbox.example.com")
    gulf = profile(make_client(), data.CAMS_SECOND_SPACE_ID, "971501234567").body.data
    assert gulf.description == "تجار الخليج · Gulf Traders"


def test_sdk_with_sts_credentials(make_client: ClientFactory) -> None:
    sts = make_client(
        data.CAMS_STS_ACCESS_KEY_ID,
        data.CAMS_STS_ACCESS_KEY_SECRET,
        security_token=data.CAMS_STS_SECURITY_TOKEN,
    )
    assert len(list_phones(sts, cust_space_id=DEMO).body.phone_numbers) == 4
    forged = make_client(
        data.CAMS_STS_ACCESS_KEY_ID, data.CAMS_STS_ACCESS_KEY_SECRET, security_token="forged"
    )
    error = client_error(lambda: list_phones(forged))
    assert (error.status_code, error.code) == (400, "InvalidSecurityToken.MismatchWithAccessKey")
    expired = make_client(
        data.CAMS_EXPIRED_STS_ACCESS_KEY_ID,
        data.CAMS_EXPIRED_STS_ACCESS_KEY_SECRET,
        security_token=data.CAMS_EXPIRED_STS_SECURITY_TOKEN,
    )
    error = client_error(lambda: list_phones(expired))
    assert (error.status_code, error.code) == (400, "InvalidSecurityToken.Expired")


def test_sdk_raises_on_a_wrong_secret_without_retrying(
    sandbox: SandboxServer, make_client: ClientFactory
) -> None:
    error = client_error(lambda: list_phones(make_client(secret="not-the-secret"), cust_space_id=DEMO))
    assert (error.status_code, error.code) == (400, "SignatureDoesNotMatch")
    assert UPPER_UUID.fullmatch(error.request_id)
    assert sandbox.request_count(action=LIST) == 1


def test_sdk_surfaces_business_failures_on_http_200(make_client: ClientFactory) -> None:
    client = make_client()
    # A space of someone else's is refused by the gateway, with HTTP 400 as Alibaba's tables give it.
    foreign = client_error(lambda: list_phones(client, cust_space_id="someone-elses-space"))
    assert (foreign.status_code, foreign.code) == (400, "Unknown.ResourceOwnerId")
    missing = profile(client, DEMO, "971501234567")
    assert (missing.status_code, missing.body.code, missing.body.success) == (
        200,
        "PhoneNumber.NotExist",
        False,
    )


def test_sdk_query_encoding_is_verified(make_client: ClientFactory) -> None:
    # The SDK sends "a b" as "a+b" in the URL and signs "a%20b"; "+", "*", "/" and UTF-8 go too.
    client = make_client()
    error = client_error(lambda: list_phones(client, cust_space_id="空间 a+b*c/d~e", status="NOT A STATUS"))
    assert error.code == "Unknown.ResourceOwnerId"  # verified, then refused on ownership


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        (data.CAMS_NOCAMS_ACCESS_KEY_ID, data.CAMS_NOCAMS_ACCESS_KEY_SECRET, "Product.Unsubscript"),
        (data.CAMS_RAM_DENIED_ACCESS_KEY_ID, data.CAMS_RAM_DENIED_ACCESS_KEY_SECRET, "Ram.PermissionDeny"),
        ("LTAI5tNobodyAtAll", "x", "InvalidAccessKeyId.NotFound"),
        (
            data.CAMS_INACTIVE_ACCESS_KEY_ID,
            data.CAMS_INACTIVE_ACCESS_KEY_SECRET,
            "InvalidAccessKeyId.Inactive",
        ),
    ],
)
def test_sdk_sees_account_errors(make_client: ClientFactory, key_id: str, secret: str, code: str) -> None:
    error = client_error(lambda: profile(make_client(key_id, secret), DEMO, "8613900001111"))
    assert error.code == code
    if code == "Ram.PermissionDeny":
        assert error.access_denied_detail["AuthAction"] == "cams:QueryPhoneBusinessProfile"


def test_sdk_missing_parameter(make_client: ClientFactory) -> None:
    error = client_error(lambda: profile(make_client(), DEMO, None))  # type: ignore[arg-type]
    assert (error.status_code, error.code) == (400, "MissingParameter")
    assert "PhoneNumber" in error.message


def test_sdk_recognises_throttling(
    sandbox: SandboxServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox.state.cams, "monotonic", lambda: 100.0)  # every call lands in one window
    client = make_client()
    for _ in range(10):
        assert list_phones(client).body.code == "OK"
    with pytest.raises(ThrottlingException) as raised:
        list_phones(client)
    # The SDK reads x-acs-retry-after in milliseconds: the sandbox asks for one second.
    assert (raised.value.code, raised.value.retry_after, raised.value.status_code) == (
        "Throttling.User",
        1000,
        400,
    )
    assert sandbox.request_count(action=LIST) == 11  # no retry behind our back
