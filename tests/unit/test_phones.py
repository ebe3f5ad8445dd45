from __future__ import annotations

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.phones import (
    COMMON_FIELDS,
    country_of,
    normalize_phone,
    normalize_phones,
    nxcloud_phone_record,
)


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138-0000-1234",
        "8613800001234",
        "(+86) 138 0000 1234",
        "0086 13800001234",
        " +86.138.0000.1234 ",
    ],
)
def test_spellings_of_one_number_normalise_alike(raw):
    assert normalize_phone(raw) == "8613800001234"


def test_italian_leading_zero_is_kept():
    assert normalize_phone("+39 06 1234 5678") == "390612345678"


@pytest.mark.parametrize("raw", ["abc", "123", "+86 1", "1-800-FLOWERS", "", "+", "86 138 0000 1234 ext 5"])
def test_what_is_not_a_phone_number_is_refused_with_the_parameter_named(raw):
    with pytest.raises(ParameterError) as info:
        normalize_phone(raw, "phones")
    assert info.value.param == "phones"
    assert str(info.value).startswith("phones: ")


def test_lists_and_strings_are_split_and_deduplicated_in_order():
    assert normalize_phones("8613800001234, +1 415-555-0123;\n8613800001234") == [
        "8613800001234",
        "14155550123",
    ]
    assert normalize_phones(["+1 415 555 0123", "8613800001234"]) == ["14155550123", "8613800001234"]


def test_every_bad_entry_is_reported_at_once():
    with pytest.raises(ParameterError, match=r"2 entries are not phone numbers \('x', 'y'\)"):
        normalize_phones(["8613800001234", "x", "y"])


@pytest.mark.parametrize("empty", [None, "", [], " , "])
def test_no_numbers_is_refused(empty):
    with pytest.raises(ParameterError, match="at least one phone number"):
        normalize_phones(empty)


def test_country_is_the_region_or_the_calling_code():
    assert country_of("8613800001234") == "CN"
    assert country_of("14155550123") == "US"
    assert country_of("447700900123") == "+44"  # possible but in no region's valid ranges


def test_nxcloud_record_maps_onto_the_common_shape_and_keeps_the_rest():
    record = nxcloud_phone_record(
        {
            "display_phone_number": "+86 138 0000 1234",
            "quality_rating": "GREEN",
            "verified_name": "牛小信科技",
            "name_status": "APPROVED",
            "status": "CONNECTED",
            "current_limit": "",
            "code_verification_status": "VERIFIED",
            "waba_id": "1169",
        }
    )
    assert set(COMMON_FIELDS) <= set(record)
    assert record["phone_number"] == "8613800001234"
    assert record["messaging_limit_tier"] is None
    assert record["waba_id"] == "1169"
    assert record["service"] == "nxcloud"
    assert "current_limit" not in record


def test_keyed_answer_number_wins_over_a_masked_display_number():
    record = nxcloud_phone_record({"business_phone": "8613800001234", "display_phone_number": "+86 xxx 24"})
    assert record["phone_number"] == "8613800001234"
    assert "business_phone" not in record


def test_a_number_given_as_an_int_is_refused_as_not_text():
    # README: "as text". A spreadsheet's number has lost any 00 or + it was written with.
    with pytest.raises(ParameterError, match="is a number, not text") as caught:
        normalize_phone(8613800001234)
    assert caught.value.param == "phone"
