"""Keeping credentials out of texts (``redact``): scrub, quote, a connection's secrets and the Test
button's message, on plain strings."""

from __future__ import annotations

import json
from types import SimpleNamespace

from airflow_provider_wa_phones import redact
from airflow_provider_wa_phones.exceptions import ParameterError

SECRET = "my-access-secret-123"


def test_scrub_hides_each_given_secret_everywhere_and_leaves_the_rest():
    text = f"refused {SECRET} (again: {SECRET})"
    assert redact.scrub(text, [SECRET, None, ""]) == "refused *** (again: ***)"
    assert redact.scrub("nothing to hide", [SECRET]) == "nothing to hide"


def test_scrub_hides_a_secret_trimmed_and_as_repr_shows_it():
    token = "sts-token-value\n"
    assert redact.scrub("token sts-token-value here", [token]) == "token *** here"
    assert redact.scrub("got 'sts-token-value\\n'", [token]) == "got '***'"


def test_scrub_does_not_hide_secrets_shorter_than_four_characters_inside_words():
    assert redact.scrub("abcabc", ["abc"]) == "abcabc"


def test_scrub_hides_signatures_a_header_or_a_service_quotes():
    md5 = "0123456789abcdef0123456789abcdef"
    assert redact.scrub(f"header sign: {md5}") == "header sign: ***"
    assert redact.scrub(f"SIGNATURE={md5.upper()}") == "SIGNATURE=***"
    acs = "Signature=Zm9vYmFyYmF6cXV4cXV1eA=="
    assert redact.scrub(f"Authorization: ACS3-HMAC-SHA256 Credential=id,{acs}") == (
        "Authorization: ACS3-HMAC-SHA256 Credential=id,Signature=***"
    )


def test_a_remembered_signature_is_hidden_in_any_case_and_in_part():
    signature = "fedcba9876543210" * 4
    redact.remember_signature(signature)
    assert redact.scrub(f"echo {signature.upper()}") == "echo ***"
    assert redact.scrub(f"start {signature[:20]} end") == "start *** end"
    other = "0f1e2d3c4b5a69780f1e2d3c4b5a6978"  # a hex run no one sent stays
    assert redact.scrub(f"id {other}") == f"id {other}"


def test_short_or_non_text_signatures_are_not_remembered():
    redact.remember_signature("abc123")
    redact.remember_signature(12345678901234567890)  # type: ignore[arg-type]
    assert redact.scrub("abc123 and 12345678901234567890") == "abc123 and 12345678901234567890"


def test_quote_keeps_a_short_text_and_cuts_a_long_one_saying_its_length():
    assert redact.quote("short answer") == "short answer"
    text = "x" * 600
    assert redact.quote(text) == "x" * redact.MAX_QUOTED + "... (600 characters)"
    assert redact.quote("abcdef", limit=3) == "abc... (6 characters)"


def test_quote_of_the_start_of_a_longer_text_says_the_whole_length():
    assert redact.quote("start", size=10_000) == "start... (10000 characters)"


def test_quote_scrubs_before_it_shows():
    assert redact.quote(f"bad secret {SECRET}", [SECRET]) == "bad secret ***"


def test_quote_drops_the_start_of_a_secret_left_at_the_first_cut():
    limit = 10
    text = "a" * (limit * 8 - 6) + SECRET  # the first cut (80 characters) leaves "my-acc"
    shown = redact.quote(text, [SECRET], limit=limit)
    assert "my-acc" not in shown
    assert shown.endswith(f"... ({len(text)} characters)")


def test_quote_accepts_any_value_as_text():
    assert redact.quote(12345) == "12345"  # type: ignore[arg-type]


def test_connection_secrets_reads_the_password_and_the_secret_extras():
    conn = SimpleNamespace(
        password="pw-secret",
        extra=json.dumps({"security_token": "tok", "region": "ap-southeast-1", "access_key_secret": ""}),
    )
    assert redact.connection_secrets(lambda conn_id: conn, "c") == ("pw-secret", "tok")


def test_connection_secrets_hides_an_extra_that_is_not_json_whole():
    conn = SimpleNamespace(password=None, extra="token=abc; not json")
    assert redact.connection_secrets(lambda conn_id: conn, "c") == ("token=abc; not json",)


def test_connection_secrets_of_a_connection_that_cannot_be_read_is_empty():
    def missing(conn_id: str) -> object:
        raise LookupError(conn_id)

    assert redact.connection_secrets(missing, "nope") == ()


def test_failure_message_keeps_the_packages_own_text_and_names_other_types():
    own = ParameterError("appkey", f"must not be {SECRET}")
    assert redact.failure_message(own, [SECRET]) == str(own).replace(SECRET, "***")
    assert SECRET not in redact.failure_message(own, [SECRET])
    assert redact.failure_message(ValueError(f"x {SECRET}"), [SECRET]) == "ValueError: x ***"
