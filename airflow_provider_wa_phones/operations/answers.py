"""Reading answers of either service: JSON that may be anything, and answers without an envelope."""

from __future__ import annotations

import json
import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

from airflow_provider_wa_phones import redact
from airflow_provider_wa_phones.checks import shorten
from airflow_provider_wa_phones.exceptions import (
    MalformedResponseError,
    ServiceUnavailableError,
    ThrottledError,
    WaPhonesError,
)


def load_json(content: bytes) -> Any:
    """The JSON value of an answer body, or None when it is not JSON (or too deeply nested to read)."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


#: The longest wait a service's retry hint is taken at: a day. A longer hint is read as a day (the
#: retry policy then stops at once and says when to come back), never as an error of its own.
MAX_RETRY_HINT = 86_400.0
# Only ASCII digits, and few enough of them to be a number of seconds: str.isdigit() and int()
# also take "²", "٣" and "1_000", and a hint of 10**20 s overflows every clock.
_DELTA_SECONDS = re.compile(r"[0-9]{1,15}")


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` header (seconds, or an HTTP date) in seconds, if it says anything.

    Malformed hints (signs, fractions, other digits, NaN, words) count as absent; a hint longer
    than :data:`MAX_RETRY_HINT` (a number, or a date however far off) is capped there.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return capped_hint(int(text)) if _DELTA_SECONDS.fullmatch(text) else MAX_RETRY_HINT

    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None
    return capped_hint(when - time.time())


def capped_hint(seconds: float) -> float | None:
    """A retry hint in seconds as the retry policy may use it: None unless positive and finite,
    at most :data:`MAX_RETRY_HINT`."""

    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return None
    if isinstance(seconds, int):
        return float(min(seconds, int(MAX_RETRY_HINT))) if seconds > 0 else None
    if math.isnan(seconds) or seconds <= 0:
        return None
    return min(seconds, MAX_RETRY_HINT)


def no_envelope_error(
    service: str,
    operation: str,
    http_status: int,
    content: bytes,
    *,
    base_url: str,
    scrub: tuple[str, ...] = (),
    retry_after: str | None = None,
) -> WaPhonesError:
    """The error for an answer that is not the service's JSON envelope, judged by its HTTP status.

    A 429 is a throttle (from the service or a gateway in front of it); a 5xx is a failure on the
    way that may have processed the request; a 2xx with garbage came from the service and may have
    too. Anything else (a 4xx or 3xx page) comes from something that is not the service: a wrong
    base URL, a proxy or a firewall. Retrying cannot change that, so it fails at once.
    """
    if http_status == 429:
        return ThrottledError(
            service=service,
            operation=operation,
            code=429,
            message="too many requests (HTTP 429 without the service's envelope, e.g. from a gateway)",
            remedy="Slow down",
            retryable=True,
            http_status=http_status,
            retry_after=retry_after_seconds(retry_after),
        )
    if http_status >= 500:
        return ServiceUnavailableError(
            service=service,
            operation=operation,
            code=http_status,
            message=f"HTTP {http_status} without the service's envelope",
            retryable=True,
            http_status=http_status,
            may_have_taken_effect=True,
        )
    # The body's start, decoded: bytes are at least one character, so 1,000 bytes hold the first 80.
    snippet = redact.quote(content[:1000].decode("utf-8", "replace"), scrub, 80, size=len(content))
    if 200 <= http_status < 300:
        return MalformedResponseError(
            f"{service} {operation} answered HTTP {http_status} from {shorten(base_url, 100)} "
            "without the JSON envelope "
            f"(cut short or garbled?): {snippet!r}"
        )
    return MalformedResponseError(
        f"{service} {operation} answered HTTP {http_status} from {shorten(base_url, 100)} "
        "without the JSON envelope "
        f"({snippet!r}): the base URL may not point at the {service} API (check the connection's host; "
        "a proxy or firewall in between answers like this too). Retrying will not help.",
        retryable=False,
        may_have_taken_effect=False,
    )
