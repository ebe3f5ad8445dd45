"""CAMS backend rules without HTTP: seed, timelines, spaces, profiles, throttle and nonce store."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.cams.models import (
    PHONE_FIELDS,
    PROFILE_FIELDS,
    AccessKey,
    CamsAccount,
    CamsBackend,
    CamsError,
    CamsPhone,
    NonceStore,
    SlidingWindowThrottle,
    Space,
    check_api,
)
from airflow_provider_wa_phones.sandbox.state import SandboxClock, SandboxState

DEMO_PHONES = ["8613900001111", "6591110000", "6281299990000", "60123456789"]


class FakeMonotonic:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(time_scale=0.0)


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def backend(clock: SandboxClock, monotonic: FakeMonotonic) -> CamsBackend:
    return CamsBackend(clock, monotonic=monotonic)


def key_of(backend: CamsBackend, key_id: str) -> AccessKey:
    key = backend.find_access_key(key_id)
    assert key is not None
    return key


@pytest.fixture
def main_key(backend: CamsBackend) -> AccessKey:
    return key_of(backend, data.CAMS_ACCESS_KEY_ID)


def phones(backend: CamsBackend, key: AccessKey, **params: str) -> list[dict[str, Any]]:
    result = backend.query_chatapp_phone_numbers(key, params)
    assert (result["Code"], result["Message"], result["Success"]) == ("OK", "SUCCESS", True)
    return result["PhoneNumbers"]


def by_number(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["PhoneNumber"]: item for item in items}


def raised(call: Any, *args: Any) -> CamsError:
    with pytest.raises(CamsError) as error:
        call(*args)
    return error.value


def test_seeded_credentials_are_the_documented_ones(backend: CamsBackend) -> None:
    main = key_of(backend, "LTAI5tSandboxCamsKey")
    sts = key_of(backend, "STS.sandboxCamsTemporary")
    assert (main.secret, main.security_token, main.actions) == ("sandbox-cams-access-key-secret", None, None)
    assert (sts.secret, sts.security_token) == ("sandbox-cams-sts-secret", "sandbox-cams-sts-token-7f3a9c")
    assert sts.account_id == main.account_id
    assert key_of(backend, "LTAI5tSandboxNoCams").secret == "sandbox-nocams-secret"
    assert key_of(backend, "LTAI5tSandboxRamDenied").secret == "sandbox-ramdenied-secret"
    assert backend.find_access_key("LTAI5tNobody") is None


def test_default_space_lists_every_field_of_every_phone(backend: CamsBackend, main_key: AccessKey) -> None:
    items = phones(backend, main_key)
    assert [item["PhoneNumber"] for item in items] == DEMO_PHONES
    assert all(tuple(item) == PHONE_FIELDS for item in items)
    store = by_number(items)["8613900001111"]
    assert {
        name: store[name] for name in ("VerifiedName", "Status", "QualityRating", "MessagingLimitTier")
    } == {
        "VerifiedName": "Ali Demo Store",
        "Status": "CONNECTED",
        "QualityRating": "GREEN",
        "MessagingLimitTier": "TIER_10K",
    }
    assert (store["CodeVerificationStatus"], store["NameStatus"]) == ("VERIFIED", "Approval")
    assert store["CallingConfigure"]["Calling"]["Status"] == "ENABLED"
    assert by_number(items)["60123456789"]["QualityRating"] == "YELLOW"
    # IsvCode is accepted and ignored; an explicit empty CustSpaceId means the default space too.
    assert phones(backend, main_key, IsvCode="isv-1", CustSpaceId="") == items


def test_timelines_follow_the_virtual_clock(
    backend: CamsBackend, main_key: AccessKey, clock: SandboxClock
) -> None:
    def state(number: str) -> tuple[str, str]:
        item = by_number(phones(backend, main_key))[number]
        return item["Status"], item["QualityRating"]

    assert (state("6591110000"), state("6281299990000")) == (("PENDING", "UNKNOWN"), ("CONNECTED", "GREEN"))
    clock.advance(2.9)
    assert (state("6591110000"), state("6281299990000")) == (("PENDING", "UNKNOWN"), ("CONNECTED", "GREEN"))
    clock.advance(0.1)
    assert state("6281299990000") == ("FLAGGED", "YELLOW")
    clock.advance(2)
    assert state("6591110000") == ("CONNECTED", "GREEN")
    assert by_number(phones(backend, main_key))["6591110000"]["NameStatus"] == "Approval"
    clock.advance(4)
    assert (state("6281299990000"), state("8613900001111")) == (("BANNED", "RED"), ("CONNECTED", "GREEN"))


def test_status_filter_is_an_exact_match(
    backend: CamsBackend, main_key: AccessKey, clock: SandboxClock
) -> None:
    def numbers(status: str) -> list[str]:
        return [item["PhoneNumber"] for item in phones(backend, main_key, Status=status)]

    assert numbers("CONNECTED") == ["8613900001111", "6281299990000", "60123456789"]
    assert numbers("PENDING") == ["6591110000"]
    assert numbers("connected") == []
    assert numbers("") == DEMO_PHONES  # an empty filter is no filter
    clock.advance(9)
    assert numbers("CONNECTED") == ["8613900001111", "6591110000", "60123456789"]
    assert numbers("BANNED") == ["6281299990000"]


def test_spaces_and_ownership(backend: CamsBackend, main_key: AccessKey) -> None:
    second = phones(backend, main_key, CustSpaceId="cams-space-second")
    assert [(item["PhoneNumber"], item["VerifiedName"]) for item in second] == [
        ("971501234567", "Gulf Traders")
    ]
    assert [
        item["PhoneNumber"] for item in phones(backend, main_key, CustSpaceId="cams-space-demo")
    ] == DEMO_PHONES
    backend.add_account(CamsAccount("other-account", default_space_id="other-space"))
    backend.add_space(Space("other-space", "other-account"))
    for space_id in ("other-space", "no-such-space"):
        error = raised(backend.query_chatapp_phone_numbers, main_key, {"CustSpaceId": space_id})
        # Alibaba's error tables give this code with HTTP 400, as a gateway error.
        assert (error.code, error.status, error.is_business_failure) == (
            "Unknown.ResourceOwnerId",
            400,
            False,
        )


def test_sts_key_sees_its_accounts_spaces(backend: CamsBackend) -> None:
    sts = key_of(backend, data.CAMS_STS_ACCESS_KEY_ID)
    assert [item["PhoneNumber"] for item in phones(backend, sts)] == DEMO_PHONES


def test_business_profile_keeps_non_ascii_text(backend: CamsBackend, main_key: AccessKey) -> None:
    result = backend.query_phone_business_profile(
        main_key, {"CustSpaceId": "cams-space-demo", "PhoneNumber": "8613900001111"}
    )
    assert (result["Code"], result["Message"], result["Success"]) == ("OK", "None", True)
    profile = result["Data"]
    assert tuple(profile) == PROFILE_FIELDS
    assert profile["Address"] == "长沙市岳麓区"
    assert profile["Websites"] == ["https://sandbox.example.com/ali-demo-store", "https://alibaba.com"]
    gulf = backend.query_phone_business_profile(
        main_key, {"CustSpaceId": "cams-space-second", "PhoneNumber": "971501234567"}
    )["Data"]
    assert gulf["Vertical"] == "Wholesale"


def test_results_are_copies_of_the_state(backend: CamsBackend, main_key: AccessKey) -> None:
    params = {"CustSpaceId": "cams-space-demo", "PhoneNumber": "8613900001111"}
    backend.query_phone_business_profile(main_key, params)["Data"]["Websites"].append("https://evil.example")
    phones(backend, main_key)[0]["CallingConfigure"]["Calling"]["Status"] = "DISABLED"
    assert len(backend.query_phone_business_profile(main_key, params)["Data"]["Websites"]) == 2
    assert phones(backend, main_key)[0]["CallingConfigure"]["Calling"]["Status"] == "ENABLED"


@pytest.mark.parametrize(
    ("params", "missing"),
    [
        ({"PhoneNumber": "8613900001111"}, "CustSpaceId"),
        ({"CustSpaceId": "cams-space-demo"}, "PhoneNumber"),
        ({"CustSpaceId": "cams-space-demo", "PhoneNumber": ""}, "PhoneNumber"),
        ({}, "CustSpaceId"),
    ],
)
def test_profile_parameters_are_mandatory(
    backend: CamsBackend, main_key: AccessKey, params: dict[str, str], missing: str
) -> None:
    error = raised(backend.query_phone_business_profile, main_key, params)
    assert (error.code, error.status) == ("MissingParameter", 400)
    assert error.message == (
        f"The input parameter {missing} that is mandatory for processing this request is not supplied."
    )


@pytest.mark.parametrize(
    ("space_id", "number", "code"),
    [
        ("cams-space-demo", "971501234567", "PhoneNumber.NotExist"),  # a phone of the other space
        ("cams-space-demo", "+8613900001111", "PhoneNumber.NotExist"),  # digits only
        ("cams-space-demo", "8613800009999", "PhoneNumber.NotExist"),
        ("cams-space-elsewhere", "8613900001111", "Unknown.ResourceOwnerId"),
    ],
)
def test_profile_business_failures_are_http_200(
    backend: CamsBackend, main_key: AccessKey, space_id: str, number: str, code: str
) -> None:
    error = raised(
        backend.query_phone_business_profile, main_key, {"CustSpaceId": space_id, "PhoneNumber": number}
    )
    # The space check comes first and is a gateway error (HTTP 400); a phone outside it is a business one.
    assert (error.code, error.status) == (code, 400 if code == "Unknown.ResourceOwnerId" else 200)


def test_subscription_then_permission(backend: CamsBackend, main_key: AccessKey) -> None:
    backend.admit(main_key, "QueryChatappPhoneNumbers")
    unsubscribed = raised(
        backend.admit, key_of(backend, data.CAMS_NOCAMS_ACCESS_KEY_ID), "QueryChatappPhoneNumbers"
    )
    assert (unsubscribed.code, unsubscribed.status) == ("Product.Unsubscript", 400)
    denied = raised(
        backend.admit, key_of(backend, data.CAMS_RAM_DENIED_ACCESS_KEY_ID), "QueryPhoneBusinessProfile"
    )
    assert (denied.code, denied.status) == ("Ram.PermissionDeny", 400)
    assert denied.details["AccessDeniedDetail"]["AuthAction"] == "cams:QueryPhoneBusinessProfile"
    # A RAM user of an unsubscribed account hears about the subscription first.
    backend.add_access_key(AccessKey("LTAIram2", "s", data.CAMS_NOCAMS_ACCOUNT_ID, actions=frozenset()))
    assert (
        raised(backend.admit, key_of(backend, "LTAIram2"), "QueryChatappPhoneNumbers").code
        == "Product.Unsubscript"
    )
    # Permission is per action.
    backend.add_access_key(
        AccessKey("LTAIram3", "s", data.CAMS_ACCOUNT_ID, actions=frozenset({"QueryChatappPhoneNumbers"}))
    )
    backend.admit(key_of(backend, "LTAIram3"), "QueryChatappPhoneNumbers")
    assert (
        raised(backend.admit, key_of(backend, "LTAIram3"), "QueryPhoneBusinessProfile").code
        == "Ram.PermissionDeny"
    )


def test_throttle_allows_10_per_sliding_second(
    backend: CamsBackend, main_key: AccessKey, monotonic: FakeMonotonic
) -> None:
    action = "QueryChatappPhoneNumbers"
    start = monotonic.now

    def admitted(at: float) -> bool:
        monotonic.now = start + at
        try:
            backend.admit(main_key, action)
        except CamsError as error:
            assert (error.code, error.status, error.headers) == (
                "Throttling.User",
                400,
                {"x-acs-retry-after": "1000"},
            )
            return False
        return True

    assert all(admitted(i / 10) for i in range(10))  # 0.0 .. 0.9
    assert not admitted(0.95)
    assert admitted(1.0)  # the arrival at 0.0 left the window
    assert not admitted(1.05)
    # Throttled requests did not count: at 1.1 only 0.2 .. 1.0 remain, so one more fits.
    assert admitted(1.1)
    assert not admitted(1.1)


def test_throttle_buckets_are_per_key_and_per_action(
    backend: CamsBackend, main_key: AccessKey, monotonic: FakeMonotonic
) -> None:
    for _ in range(10):
        backend.admit(main_key, "QueryChatappPhoneNumbers")
    assert raised(backend.admit, main_key, "QueryChatappPhoneNumbers").code == "Throttling.User"
    backend.admit(main_key, "QueryPhoneBusinessProfile")
    backend.admit(key_of(backend, data.CAMS_STS_ACCESS_KEY_ID), "QueryChatappPhoneNumbers")
    # An explicit arrival time is what counts, not the clock when admit() runs.
    backend.admit(main_key, "QueryChatappPhoneNumbers", arrival=monotonic.now + 1.0)


@pytest.mark.parametrize("limit", [None, 0])
def test_rate_limit_can_be_lifted_and_reset_restores_it(
    clock: SandboxClock, monotonic: FakeMonotonic, limit: int | None
) -> None:
    backend = CamsBackend(clock, rate_limit=3, monotonic=monotonic)
    key = key_of(backend, data.CAMS_ACCESS_KEY_ID)
    for _ in range(3):
        backend.admit(key, "QueryChatappPhoneNumbers")
    assert raised(backend.admit, key, "QueryChatappPhoneNumbers").code == "Throttling.User"
    backend.rate_limit = limit
    assert backend.rate_limit is None
    for _ in range(50):
        backend.admit(key, "QueryChatappPhoneNumbers")
    backend.reset()
    assert backend.rate_limit == 3
    with pytest.raises(ValueError):
        backend.rate_limit = -1
    unlimited = CamsBackend(clock, rate_limit=limit, monotonic=monotonic)
    for _ in range(50):
        unlimited.admit(key, "QueryChatappPhoneNumbers")


def test_throttle_rejects_bad_settings() -> None:
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError):
            SlidingWindowThrottle(limit=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SlidingWindowThrottle(window=0)


def test_nonce_store_expires_and_is_per_key() -> None:
    store = NonceStore(ttl=900)
    assert store.use("k1", "n", now=0.0)
    assert not store.use("k1", "n", now=899.9)
    assert store.use("k2", "n", now=1.0)
    assert store.use("k1", "n", now=900.0)  # expired, so usable again (and recorded anew)
    assert not store.use("k1", "n", now=1000.0)
    assert store.use("k1", "other", now=2000.0)
    assert len(store) == 1  # everything older than 15 minutes was dropped


def test_nonce_store_is_bounded() -> None:
    store = NonceStore(ttl=900, capacity=3)
    for nonce in "abcd":
        assert store.use("k", nonce, now=0.0)
    assert len(store) == 3
    assert store.use("k", "a", now=0.0)  # the oldest entry made room
    assert not store.use("k", "d", now=0.0)
    with pytest.raises(ValueError):
        NonceStore(capacity=0)


def test_backend_nonces_use_its_monotonic_clock_and_reset(
    backend: CamsBackend, monotonic: FakeMonotonic
) -> None:
    assert backend.use_nonce("k", "n")
    monotonic.now += 899
    assert not backend.use_nonce("k", "n")
    backend.reset()
    assert backend.use_nonce("k", "n")
    monotonic.now += 900
    assert backend.use_nonce("k", "n")


def test_check_api() -> None:
    check_api("2020-06-06", "QueryPhoneBusinessProfile")
    version = raised(check_api, "2017-05-25", "QueryChatappPhoneNumbers")
    action = raised(check_api, "2020-06-06", "SendChatappMessage")
    assert (version.code, version.status, action.code, action.status) == (
        "InvalidVersion",
        400,
        "InvalidAction.NotFound",
        404,
    )


def test_reset_restores_the_seed(backend: CamsBackend, main_key: AccessKey) -> None:
    phone = backend.phone("8613900001111")
    phone.profile["Address"] = "changed"
    backend.add_phone(CamsPhone("8613900002222", "cams-space-demo", [(0, {"Status": "CONNECTED"})]))
    assert len(phones(backend, main_key)) == 5
    backend.reset()
    assert len(phones(backend, main_key)) == 4
    assert backend.phone("8613900001111").profile["Address"] == "长沙市岳麓区"
    with pytest.raises(ValueError, match="unknown space"):
        backend.add_phone(CamsPhone("1", "nowhere", []))


def test_sandbox_state_wires_cams_in() -> None:
    state = SandboxState(time_scale=0.0, cams_rate_limit=None)
    assert state.cams.rate_limit is None
    state.cams.rate_limit = 5
    state.reset()
    assert state.cams.rate_limit is None
    assert SandboxState().cams.rate_limit == 10
