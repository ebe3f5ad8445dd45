"""The oracle itself: it agrees with the README's examples, and every "valid" generator yields values
it calls valid (so a failure elsewhere is the package's, not a generator the oracle disowns)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property import rules, values
from tests.property.harness import examples
from tests.property.rules import EITHER, INVALID, VALID

TODAY = dt.datetime.now(dt.timezone.utc).date()

README_EXAMPLES = [
    # (rule, value, verdict): the README's examples, both ways.
    (rules.phone, "+86 138-0000-1234", VALID),
    (rules.phone, "(+86) 13800001234", VALID),
    (rules.phone, "0086 13800001234", VALID),
    (rules.phone, "8613800001234", VALID),
    (rules.phone, "+1 800 FLOWERS", INVALID),
    (rules.phone, "+86 1", INVALID),
    (rules.phone, "12", INVALID),
    (rules.phone, "6512", INVALID),
    (rules.phone, 8613800001234.0, INVALID),
    (rules.phone, "8613800001234\n", INVALID),
    (rules.phone, "\uff18613800001234", INVALID),
    (lambda v: rules.phones(v, empty_means_all=True), None, VALID),
    (lambda v: rules.phones(v, empty_means_all=True), [], VALID),
    (lambda v: rules.phones(v, empty_means_all=False), [], INVALID),
    (lambda v: rules.phones(v, empty_means_all=True), " , ;", INVALID),
    (lambda v: rules.phones(v, empty_means_all=True), {"cn": "8613800001234"}, INVALID),
    (lambda v: rules.phones(v, empty_means_all=True), "+86 138 0000 1234, 12345", INVALID),
    (lambda v: rules.phones(v, empty_means_all=True), "+86 138 0000 1234\r\n+1 650 253 0000\n", VALID),
    (lambda v: rules.phones(v, empty_means_all=True), ("8613800001234",), EITHER),
    (rules.appkey, "app-1", VALID),
    (rules.appkey, "two words", INVALID),
    (rules.appkey, "", INVALID),
    (rules.appkey, "appkey\n", INVALID),
    (rules.appkey, "a" * 129, INVALID),
    (rules.check_level, 4, VALID),
    (rules.check_level, "4", VALID),
    (rules.check_level, "HLR", INVALID),
    (rules.check_level, 3, INVALID),
    (rules.check_level, True, INVALID),
    (rules.identifier, "b" * 64, VALID),
    (rules.identifier, "b" * 65, INVALID),
    (rules.identifier, "", INVALID),
    (rules.dr_url, "https://example.com/dr", VALID),
    (rules.dr_url, "example.com/dr", INVALID),
    (rules.dr_url, "ftp://example.com/dr", INVALID),
    (rules.date, TODAY.isoformat(), VALID),
    (rules.date, TODAY, VALID),
    (rules.date, "22-11-2026", INVALID),
    (rules.date, "2026-02-30", INVALID),
    (rules.date, "2020-01-01", INVALID),
    (rules.date, "2999-01-01", INVALID),
    (rules.page, 0, INVALID),
    (rules.page, -1, INVALID),
    (rules.page_size, 500, INVALID),
    (rules.page_size, 2.5, INVALID),
    (rules.page_size, 100, VALID),
    (rules.space_id, "a b", INVALID),
    (rules.space_id, "demo space", INVALID),
    (rules.space_id, "x" * 129, INVALID),
    (rules.space_id, "cams-space_1.a:b", VALID),
    (rules.cams_status, "connected", VALID),
    (rules.cams_status, "ONLINE", INVALID),
    (rules.cams_status, "active", INVALID),
    (rules.expected_count, 0, INVALID),
    (rules.expected_count, "-3", INVALID),
    (rules.expected_count, True, INVALID),
    (rules.expected_count, "3", VALID),
    (rules.target_status, " ", INVALID),
    (rules.target_status, 1, INVALID),
    (lambda v: rules.failure_statuses(v, "CONNECTED"), "BANNED", INVALID),
    (lambda v: rules.failure_statuses(v, "connected"), ["banned", "Connected"], INVALID),
    (lambda v: rules.failure_statuses(v, "PENDING"), ["pending "], INVALID),
    (lambda v: rules.failure_statuses(v, "PENDING"), ["BANNED", 3], INVALID),
    (lambda v: rules.failure_statuses(v, "PENDING"), None, INVALID),
    (rules.max_xcom_records, 0, INVALID),
    (rules.sign_algorithm, "sha1", INVALID),
    (rules.sign_algorithm, 256, INVALID),
    (rules.sign_algorithm, "SHA256", VALID),
    (rules.region, "Singapore", INVALID),
    (rules.region, "AP-SOUTHEAST-1", INVALID),
    (rules.region, "ap-southeast-1", VALID),
    (rules.host, "", VALID),
    (rules.host, "api2.nxcloud.com", VALID),
    (rules.host, "HTTPS://cams.example.com:8443/", VALID),
    (rules.host, "https://example.com/proxy", INVALID),
    (rules.host, "https://example.com#x", INVALID),
    (rules.host, "https://example.com?x=1", INVALID),
    (rules.host, "https://user:pw@example.com", INVALID),
    (rules.host, "0:0", INVALID),
    (rules.host, "HTTP://0:0", INVALID),
    (rules.expected_count, 10**6, VALID),
    (rules.expected_count, 10**6 + 1, INVALID),
    (rules.expected_count, str(10**20), INVALID),
    (rules.dr_url, "https:///cb", INVALID),
]


@pytest.mark.parametrize(("rule", "value", "verdict"), README_EXAMPLES)
def test_the_oracle_agrees_with_the_readme(rule, value, verdict) -> None:
    assert rule(value) is verdict


VALID_GENERATORS = {
    "phone": (values.phone, rules.phone),
    "phone_list": (values.phone_list, lambda v: rules.phones(v, empty_means_all=False)),
    "appkey": (values.appkey, rules.appkey),
    "check_level": (values.check_level, rules.check_level),
    "identifier": (values.identifier, rules.identifier),
    "dr_url": (values.dr_url, rules.dr_url),
    "date": (values.date, rules.date),
    "page": (values.page, rules.page),
    "page_size": (values.page_size, rules.page_size),
    "space_id": (values.space_id, rules.space_id),
    "cams_status": (values.cams_status, rules.cams_status),
    "credential": (values.credential, rules.credential),
}


@examples(0.3)
@given(data=st.data(), name=st.sampled_from(sorted(VALID_GENERATORS)))
def test_valid_generators_yield_valid_values(data: st.DataObject, name: str) -> None:
    strategy, rule = VALID_GENERATORS[name]
    value = data.draw(strategy, label=name)
    assert rule(value) is VALID, f"{name}: {values.short(value)}"


@examples(0.2)
@given(st.sampled_from(values.PHONES))
def test_the_hand_written_countries_match_the_library(entry: tuple[str, str, str]) -> None:
    cc, national, country = entry
    assert rules.country_suffix(cc + national) == country
