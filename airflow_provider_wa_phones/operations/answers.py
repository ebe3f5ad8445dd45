"""Reading answers of either service: JSON that may be anything, and answers without an envelope."""

from __future__ import annotations

import json
import time
from typing import Any

from airflow_provider_wa_phones import redact
from airflow_provider_wa_phones.errors import (
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


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` header (seconds, or an HTTP date) in seconds, if it says anything."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text) if int(text) > 0 else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    wait = when - time.time()
    return wait if wait > 0 else None


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
    snippet = redact.scrub(content[:80].decode("utf-8", "replace"), scrub)
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


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was when cut."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
