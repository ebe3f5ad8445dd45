"""The operation contract (operations/base.py) and both services' operations, driven with plain data:
a settings stand-in in, the request's bytes and the reading of an answer out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from airflow_provider_wa_phones.exceptions import AuthenticationError, MalformedResponseError, ServiceError
from airflow_provider_wa_phones.operations import cams, nxcloud
from airflow_provider_wa_phones.operations.base import Answer, Operation, Request


@dataclass(frozen=True)
class Target:
    base_url: str = "http://127.0.0.1:9"
    secrets: tuple[str, ...] = field(default=("s3cr3t-value",))


def answer(payload: object, status: int = 200) -> Answer:
    return Answer(status, {}, json.dumps(payload).encode())


NXCLOUD_OPERATIONS = [nxcloud.GET_PHONE, nxcloud.PHONE_LIST, nxcloud.NUMBER_CHECK, nxcloud.NUMBER_CHECK_QUERY]
CAMS_OPERATIONS = [cams.PHONE_NUMBERS, cams.BUSINESS_PROFILE]


@pytest.mark.parametrize("operation", NXCLOUD_OPERATIONS + CAMS_OPERATIONS, ids=lambda op: op.name)
def test_every_operation_of_both_services_follows_the_one_contract(
    operation: Operation[object, object],
) -> None:
    assert isinstance(operation, Operation)
    assert isinstance(operation.name, str) and operation.name
    assert isinstance(operation.charged, bool)


def test_only_the_number_check_submit_is_charged() -> None:
    charged = [op.name for op in NXCLOUD_OPERATIONS + CAMS_OPERATIONS if op.charged]
    assert charged == ["numberCheck"]


def test_the_contract_cannot_be_used_without_a_builder_and_a_reader() -> None:
    with pytest.raises(TypeError, match="abstract"):
        Operation()  # type: ignore[abstract]


def test_an_nxcloud_request_is_a_post_of_the_exact_body_bytes_with_its_selecting_headers() -> None:
    body = nxcloud.get_phone_body("app-1", ["+86 138 0013 8000"])
    request = nxcloud.GET_PHONE.request(Target(), body)
    assert request == Request(
        "POST",
        "http://127.0.0.1:9/api/wa/getPhone",
        {"Content-Type": "application/json", "bizType": "2", "action": "getPhone"},
        nxcloud.encode_body(body),
    )
    assert json.loads(request.body) == {
        "appkey": "app-1",
        "messaging_product": "whatsapp",
        "business_phones": "8613800138000",
    }


def test_an_nxcloud_answer_is_read_into_its_records_or_its_typed_error() -> None:
    records = nxcloud.PHONE_LIST.read(Target(), answer({"code": 0, "data": [{"phone": "1"}]}))
    assert records == [{"phone": "1"}]
    with pytest.raises(AuthenticationError) as caught:
        nxcloud.GET_PHONE.read(Target(), answer({"code": 1003, "message": "bad sign for s3cr3t-value"}))
    assert "s3cr3t-value" not in str(caught.value)
    with pytest.raises(MalformedResponseError):
        nxcloud.NUMBER_CHECK.read(Target(), answer({"code": 0, "data": {"batchNo": "b"}}))
    assert nxcloud.NUMBER_CHECK.read(Target(), answer({"code": 0, "data": {"messageId": "m"}})) == (None, "m")


def test_a_cams_request_carries_its_parameters_as_the_canonical_query_and_no_body() -> None:
    params = cams.phone_numbers_params("space 1".replace(" ", "-"), status="connected")
    request = cams.PHONE_NUMBERS.request(Target(base_url="https://cams.example"), params)
    assert request.method == "POST"
    assert request.url == "https://cams.example/?CustSpaceId=space-1&Status=CONNECTED"
    assert request.headers == {"x-acs-action": "QueryChatappPhoneNumbers", "x-acs-version": cams.VERSION}
    assert request.body == b""
    assert (
        cams.PHONE_NUMBERS.request(Target(base_url="https://cams.example"), {}).url == "https://cams.example/"
    )


def test_a_cams_answer_is_read_into_its_value_or_its_typed_error() -> None:
    numbers = cams.PHONE_NUMBERS.read(
        Target(), answer({"Code": "OK", "PhoneNumbers": [{"PhoneNumber": "1"}]})
    )
    assert numbers == [{"PhoneNumber": "1"}]
    assert cams.BUSINESS_PROFILE.read(Target(), answer({"Code": "OK"})) == {}
    with pytest.raises(ServiceError) as caught:
        cams.PHONE_NUMBERS.read(Target(), answer({"Code": "Boom", "Message": "s3cr3t-value"}, status=400))
    assert "s3cr3t-value" not in str(caught.value)
    assert cams.PHONE_NUMBERS.action == cams.PHONE_NUMBERS.name == "QueryChatappPhoneNumbers"
