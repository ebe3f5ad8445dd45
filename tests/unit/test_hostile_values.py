"""Retry hints and quoted texts from misbehaving servers (issue 19), below the HTTP layer."""

from __future__ import annotations

import hashlib
import math

import pytest

from airflow_provider_wa_phones import redact
from airflow_provider_wa_phones.exceptions import ThrottledError
from airflow_provider_wa_phones.operations.answers import MAX_RETRY_HINT, retry_after_seconds
from airflow_provider_wa_phones.operations.cams import retry_after_ms
from airflow_provider_wa_phones.retry import RetryPolicy


@pytest.mark.parametrize(
    "value", ["²", "٣", "-5", "NaN", "inf", "1e9", "1_000", "1.5", "", " ", "0", "Mon, 99 Foo 2026", "\x00"]
)
def test_a_malformed_retry_after_counts_as_absent(value):
    assert retry_after_seconds(value) is None
    assert retry_after_ms(value) is None


@pytest.mark.parametrize("value", ["99999999999999999999", "9" * 5000, "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_an_absurd_retry_after_is_capped_at_a_day(value):
    assert retry_after_seconds(value) == MAX_RETRY_HINT


def test_a_plain_retry_after_is_read():
    assert retry_after_seconds(" 7 ") == 7.0
    assert retry_after_ms("1500") == 1.5
    assert retry_after_ms("9" * 400) == MAX_RETRY_HINT


@pytest.mark.parametrize("hint", [10**30, math.inf, math.nan, -1.0, float("1e308")])
def test_the_retry_policy_survives_any_hint_an_error_carries(hint):
    error = ThrottledError(
        service="S", operation="op", code="Throttling", message="slow", retryable=True, retry_after=hint
    )
    calls = []

    def attempt():
        calls.append(1)
        raise error

    with pytest.raises(ThrottledError):
        RetryPolicy(max_attempts=3, initial_delay=0, max_delay=0).run(
            attempt, name="op", log=_Quiet(), sleep=lambda seconds: None
        )
    assert calls


class _Quiet:
    def warning(self, msg, *args):
        pass


def test_a_sent_signature_is_scrubbed_in_any_case_and_in_part():
    signature = hashlib.sha256(b"hostile-values").hexdigest()
    redact.remember_signature(signature)
    text = f"Sign: {signature.upper()}; signature {signature}; head {signature[:20]}!"
    scrubbed = redact.scrub(text)
    assert signature[:16] not in scrubbed.lower()
    assert signature[-16:] not in scrubbed.lower()


def test_a_quoted_text_is_short_and_says_how_long_it_was():
    quoted = redact.quote("m" * 1_000_000)
    assert len(quoted) < 600
    assert quoted.endswith("(1000000 characters)")
    assert redact.quote("short") == "short"


def test_a_secret_cut_in_half_by_the_first_cut_is_not_shown_in_part():
    # Scrubbing the other secret shrinks the text, so what stood at the first cut (4,000 characters)
    # ends up inside the 500 shown: half a secret there must not survive.
    secret, other = "s3cr3t-value-that-is-long", "X" * 100
    start = (other + " ") * 39
    text = start + "a" * (redact.MAX_QUOTED * 8 - 10 - len(start)) + secret + "z" * 10_000
    quoted = redact.quote(text, [secret, other], limit=redact.MAX_QUOTED)
    assert "s3cr3t" not in quoted
    assert quoted.endswith(f"({len(text)} characters)")
