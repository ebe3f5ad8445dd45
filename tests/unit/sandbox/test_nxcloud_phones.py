"""WhatsApp number rules of the NxCloud backend (getPhone, phoneList), without HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.nxcloud.models import (
    GET_PHONE_FIELDS,
    Account,
    App,
    NxCloudBackend,
    NxCloudError,
    Phone,
)
from airflow_provider_wa_phones.sandbox.state import SandboxClock

SEEDED_APP_PHONES = ["8613800001234", "14155550123", "6281234567890", "5511987654321", "447700900123"]


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(time_scale=0.0)  # virtual time moves only through advance()


@pytest.fixture
def backend(clock: SandboxClock) -> NxCloudBackend:
    return NxCloudBackend(clock, seed=0)


@pytest.fixture
def integrator(backend: NxCloudBackend) -> Account:
    account = backend.find_account(data.NXCLOUD_ACCESS_KEY)
    assert account is not None
    return account


@pytest.fixture
def basic(backend: NxCloudBackend) -> Account:
    account = backend.find_account(data.NXCLOUD_BASIC_ACCESS_KEY)
    assert account is not None
    return account


def get_phone(backend: NxCloudBackend, account: Account, **body: Any) -> dict[str, Any]:
    return backend.get_phone(
        account, {"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp", **body}
    )


def error_code(call: Any, *args: Any, **kwargs: Any) -> int:
    with pytest.raises(NxCloudError) as raised:
        call(*args, **kwargs)
    return raised.value.code


def test_seeded_accounts_have_documented_credentials(backend: NxCloudBackend) -> None:
    integrator = backend.find_account("sandbox-nx-access-key")
    basic = backend.find_account("sandbox-nx-basic-key")
    checkonly = backend.find_account("sandbox-nx-checkonly-key")
    assert (
        integrator is not None and integrator.secret == "sandbox-nx-access-secret" and integrator.integrator
    )
    assert basic is not None and basic.secret == "sandbox-nx-basic-secret" and not basic.integrator
    assert checkonly is not None and checkonly.biz_types == frozenset({1})
    assert backend.find_account("sandbox-nx-unknown") is None


def test_keyed_shape_returns_every_number_of_the_app(backend: NxCloudBackend, integrator: Account) -> None:
    result = get_phone(backend, integrator)
    assert list(result) == SEEDED_APP_PHONES
    for records in result.values():
        assert len(records) == 1
        assert set(records[0]) == set(GET_PHONE_FIELDS)
    assert result["8613800001234"][0] == {
        "display_phone_number": "+86 138 0000 1234",
        "quality_rating": "GREEN",
        "verified_name": "牛小信科技",
        "name_status": "APPROVED",
        "status": "CONNECTED",
        "current_limit": "TIER_1K",
        "code_verification_status": "VERIFIED",
    }


def test_list_shape_app_answers_with_business_phones(backend: NxCloudBackend, integrator: Account) -> None:
    result = get_phone(backend, integrator, appkey=data.NXCLOUD_LIST_APPKEY)
    assert list(result) == ["business_phones"]
    assert [r["display_phone_number"] for r in result["business_phones"]] == [
        "+86 138 0000 1234",
        "+1 415-555-0123",
    ]


def test_business_phones_accepts_both_separators_a_plus_and_repeats(
    backend: NxCloudBackend, integrator: Account
) -> None:
    result = get_phone(backend, integrator, business_phones="+14155550123, 5511987654321,14155550123,")
    assert list(result) == ["14155550123", "5511987654321"]
    assert result["14155550123"][0]["verified_name"] == "Glory HK"
    assert get_phone(backend, integrator, business_phones="  ") == get_phone(backend, integrator)


def test_pending_number_connects_at_t5(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    def record() -> dict[str, Any]:
        return get_phone(backend, integrator, business_phones="6281234567890")["6281234567890"][0]

    assert (record()["status"], record()["quality_rating"], record()["name_status"]) == (
        "PENDING",
        "UNKNOWN",
        "PENDING_REVIEW",
    )
    clock.advance(4.99)
    assert record()["status"] == "PENDING"
    clock.advance(0.01)
    assert (record()["status"], record()["quality_rating"], record()["name_status"]) == (
        "CONNECTED",
        "GREEN",
        "APPROVED",
    )


def test_brazilian_number_is_flagged_then_banned(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    def status() -> tuple[str, str]:
        record = get_phone(backend, integrator, business_phones="5511987654321")["5511987654321"][0]
        return record["status"], record["quality_rating"]

    assert status() == ("CONNECTED", "GREEN")
    clock.advance(4)
    assert status() == ("FLAGGED", "RED")
    clock.advance(4)
    assert status() == ("BANNED", "RED")


@pytest.mark.parametrize(
    "body",
    [
        {"appkey": None},
        {"appkey": ""},
        {"messaging_product": None},
        {"messaging_product": "sms"},
        {"business_phones": ["14155550123"]},
        {"business_phones": "14155550123,abc"},
        {"business_phones": "+1 415 555 0123"},
    ],
)
def test_bad_parameters_are_9000(backend: NxCloudBackend, integrator: Account, body: dict[str, Any]) -> None:
    assert error_code(get_phone, backend, integrator, **body) == 9000


def test_getphone_appkey_and_number_errors(backend: NxCloudBackend, integrator: Account) -> None:
    assert error_code(get_phone, backend, integrator, appkey="no-such-app") == 9008
    assert error_code(get_phone, backend, integrator, appkey=data.NXCLOUD_BASIC_APPKEY) == 9010
    assert error_code(get_phone, backend, integrator, business_phones="8613800001234,8613999999999") == 9002
    # Known to the sandbox, but bound to another application.
    assert error_code(get_phone, backend, integrator, business_phones="6591234567") == 9006
    list_app = {"appkey": data.NXCLOUD_LIST_APPKEY}
    assert error_code(get_phone, backend, integrator, **list_app, business_phones="6281234567890") == 9006


def test_phone_list_adds_registration_and_waba(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    records = backend.list_phones(integrator, {"appkey": data.NXCLOUD_APPKEY})
    assert records[0]["display_phone_number"] == "+86 138 0000 1234"
    assert len(records) == len(SEEDED_APP_PHONES)
    assert set(records[0]) == {*GET_PHONE_FIELDS, "register_status", "waba_id", "waba_name"}
    assert records[0]["register_status"] == 5
    assert records[0]["waba_name"] == "Sandbox WABA"
    pending = next(r for r in records if r["verified_name"] == "Nusantara Shop")
    assert (pending["register_status"], pending["status"]) == (3, "PENDING")
    clock.advance(5)
    pending = next(
        r
        for r in backend.list_phones(integrator, {"appkey": data.NXCLOUD_APPKEY})
        if r["verified_name"] == "Nusantara Shop"
    )
    assert (pending["register_status"], pending["status"]) == (5, "CONNECTED")


def test_phone_list_errors(backend: NxCloudBackend, integrator: Account, basic: Account) -> None:
    assert error_code(backend.list_phones, integrator, {}) == 9000
    assert error_code(backend.list_phones, basic, {"appkey": data.NXCLOUD_BASIC_APPKEY}) == 9007
    assert error_code(backend.list_phones, integrator, {"appkey": "no-such-app"}) == 9008
    assert error_code(backend.list_phones, integrator, {"appkey": data.NXCLOUD_BASIC_APPKEY}) == 9010


def test_added_phone_follows_its_timeline_and_reset_removes_it(
    backend: NxCloudBackend, integrator: Account, clock: SandboxClock
) -> None:
    phone = Phone(
        phone_number="6281111111111",
        timeline=[
            (0, {"status": "PENDING", "display_phone_number": "+62 811-1111-1111"}),
            (2, {"status": "CONNECTED"}),
        ],
    )
    backend.add_phone(phone, appkeys=[data.NXCLOUD_APPKEY])
    backend.app(data.NXCLOUD_APPKEY).balance = Decimal(0)
    assert (
        get_phone(backend, integrator, business_phones="6281111111111")["6281111111111"][0]["status"]
        == "PENDING"
    )
    clock.advance(2)
    record = get_phone(backend, integrator, business_phones="6281111111111")["6281111111111"][0]
    assert record["status"] == "CONNECTED"
    assert record["quality_rating"] == ""  # fields the timeline never sets are empty
    backend.reset()
    assert error_code(get_phone, backend, integrator, business_phones="6281111111111") == 9002
    assert backend.app(data.NXCLOUD_APPKEY).balance == Decimal("100.0")


def test_unknown_getphone_shape_is_rejected(backend: NxCloudBackend) -> None:
    with pytest.raises(ValueError, match="getphone_shape"):
        backend.add_app(App(appkey="x", customer_id="c", getphone_shape="nested"))
