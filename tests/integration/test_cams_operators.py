from __future__ import annotations

import json

import pytest

from airflow_provider_wa_phones.operators.cams import (
    CamsPhoneBusinessProfileOperator,
    CamsPhoneNumbersOperator,
)
from airflow_provider_wa_phones.phones import COMMON_FIELDS
from airflow_provider_wa_phones.sandbox import data

pytestmark = pytest.mark.integration


def test_phone_numbers_operator_returns_the_common_shape(sandbox):
    records = CamsPhoneNumbersOperator(task_id="numbers").execute({})
    assert len(records) == 4
    for record in records:
        assert set(COMMON_FIELDS) <= set(record)
        assert record["service"] == "alibaba_cams"
        assert record["display_phone_number"].startswith("+")
        assert "new_name_status" in record
    assert data.CAMS_ACCESS_KEY_SECRET not in json.dumps(records)


def test_status_filter_is_templatable_and_applied(sandbox):
    assert "status" in CamsPhoneNumbersOperator.template_fields
    records = CamsPhoneNumbersOperator(task_id="numbers", status="CONNECTED").execute({})
    assert {r["status"] for r in records} == {"CONNECTED"}


def test_business_profile_operator(sandbox):
    profile = CamsPhoneBusinessProfileOperator(task_id="profile", phone_number="+86 139 0000 1111").execute(
        {}
    )
    assert profile["phone_number"] == "8613900001111"
    assert profile["cust_space_id"] == "cams-space-demo"
    assert {"address", "description", "vertical", "email", "websites", "profile_picture_url"} <= set(profile)
