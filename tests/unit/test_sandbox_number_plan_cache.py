"""The sandbox's number-plan cache answers exactly what phonenumbers answers, number by number."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from airflow_provider_wa_phones.sandbox.nxcloud import models
from airflow_provider_wa_phones.sandbox.nxcloud.models import NxCloudError


def answer(call, phone):
    try:
        return call(phone)
    except NxCloudError as error:
        return error.code


def variants(rng: random.Random, region: str, kind: phonenumbers.PhoneNumberType) -> list[str]:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return []
    base = f"{example.country_code}{phonenumbers.national_significant_number(example)}"
    numbers = []
    for _ in range(25):
        tail = rng.randrange(1, 7)
        number = base[:-tail] + "".join(rng.choice("0123456789") for _ in range(tail))
        if rng.random() < 0.2:
            number += rng.choice("0123456789")  # one digit too many
        numbers.append(number)
    return numbers


# Countries sharing a code (+1, +7, +44), national prefixes stripped when parsing (AR, MX, BR),
# Italian leading zeros (IT), long carrier prefixes, and the benchmark's countries.
REGIONS = [
    *("US", "CA", "JM", "RU", "KZ", "GB", "GG", "AR", "MX", "BR", "IT"),
    *("ID", "IN", "NG", "PH", "VN", "TR", "PK", "EG"),
]
KINDS = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]


@pytest.mark.parametrize("region", REGIONS)
def test_cached_answers_equal_phonenumbers_answers(region: str) -> None:
    models._NUMBER_INFO_CACHE.clear()
    rng = random.Random(region)
    numbers = [number for kind in KINDS for number in variants(rng, region, kind)]
    # Twice: the second round answers from the cache wherever a key was made.
    for number in numbers + numbers:
        assert answer(models._number_info, number) == answer(models._parse_number_info, number), number


def test_a_million_numbers_of_a_country_share_few_cache_entries() -> None:
    models._NUMBER_INFO_CACHE.clear()
    for index in range(2_000):
        models._number_info(f"62812{index:08d}")
    assert len(models._NUMBER_INFO_CACHE) <= 2


def test_numbers_without_a_known_country_code_are_not_cached() -> None:
    assert models._cache_key("0123456789") is None
    assert models._cache_key("999123456789") is None
    assert answer(models._number_info, "999123456789") == 203


def test_an_unknown_regex_construct_means_every_digit_counts() -> None:
    from airflow_provider_wa_phones.sandbox.nxcloud.models import _regex_parser

    # A backreference: the analysis does not know it, so nothing is "free".
    assert models._sequence_tail(_regex_parser.parse(r"(\d)\d{4}\1")) == (0, False)
    assert models._sequence_tail(_regex_parser.parse(r"8[1-9]\d{6,10}|(?:2\d|3[0-6])\d{6}")) == (6, False)
    assert models._sequence_width(_regex_parser.parse(r"0?(?=\d{3})"))[1] == 4
    assert models._sequence_width(_regex_parser.parse(r"0\d*"))[1] >= models._UNBOUNDED


def test_a_prefix_pattern_that_cannot_start_with_the_first_digit_reads_one_digit() -> None:
    from airflow_provider_wa_phones.sandbox.nxcloud.models import _regex_parser

    # Brazil's national prefix for parsing: numbers starting 1-8 cannot match it.
    brazil = _regex_parser.parse(r"(?:0|90)(?:(1[245]|2[1-35]|31|4[13]|[56]5|99)(\d{10,11}))?")
    assert models._sequence_first(brazil) == ({"0", "9"}, False)
    assert models._sequence_first(_regex_parser.parse(r"0?1")) == ({"0", "1"}, False)
    assert models._sequence_first(_regex_parser.parse(r"(?:0|)")) == ({"0"}, True)
    assert models._sequence_first(_regex_parser.parse(r"(?=1)")) == (None, False)
    assert models._cache_key("5511961234560") == ("551196123", 13)
