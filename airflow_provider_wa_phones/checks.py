"""The rules every argument is held to, before anything is signed or sent.

Each check returns the value (normalised where the rule says so) or raises :class:`ParameterError`
naming the argument. Rules match the *whole* value (a trailing newline is not "a value followed by
nothing"), accept only what can be sent as it is (no lone surrogates, no control characters), and
quote a bad value cut to a readable length, never a megabyte of it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from airflow_provider_wa_phones.exceptions import ParameterError

QUOTE_LIMIT = 80
#: The longest wait for one answer an operator, sensor or hook accepts (seconds).
MAX_REQUEST_TIMEOUT = 3600.0
#: The most calls per second a client-side rate limit may allow (CAMS documents 10).
MAX_RATE_LIMIT = 1000
#: The most records one number-check batch can be waited for (a submit holds at most 100,000).
MAX_EXPECTED_COUNT = 1_000_000


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` (a URL, a name: nothing secret) cut to ``limit`` characters, saying how long it was
    when cut. The two text cutters live here: this one for text shown as it is, :func:`quoted` for
    a value shown as Python writes it; a text read from an answer goes through
    :func:`airflow_provider_wa_phones.redact.quote` instead, which also hides credentials."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long it was when cut."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"a whole number of {value.bit_length()} bits"  # repr() of 4,300+ digits raises
    try:
        text = repr(value)
    except Exception:  # an object whose __repr__ fails (or nests too deep) is still a bad value
        return f"<{type(value).__name__} object>"
    if len(text) <= limit:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters as text"
    return f"{text[:limit]}... ({size})"


#: Unicode categories that never belong in a value: control (CR, LF, tab...), format (zero-width
#: and direction marks), lone surrogates, line and paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def absent(value: Any) -> bool:
    """None, or "" (what a template that rendered nothing gives): the argument was not given."""
    return value is None or (isinstance(value, str) and value == "")


def is_clean_text(value: str) -> bool:
    """Text without hidden characters (see ``_HIDDEN``; private-use and not yet assigned code points
    are allowed: they may be some system's data) and without leading or trailing whitespace."""
    if value != value.strip():
        return False
    if value.isprintable():  # the common case, checked in C
        return True

    return not any(unicodedata.category(char) in _HIDDEN for char in value)


def text(
    param: str,
    value: Any,
    *,
    max_length: int,
    pattern: re.Pattern[str] | None = None,
    rule: str = "",
) -> str:
    """A non-empty string of at most ``max_length`` clean characters, all of it matching ``pattern``."""
    what = rule or f"a non-empty string of at most {max_length} characters"
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(param, f"must be {what}, got {quoted(value)}")
    if len(value) > max_length:
        raise ParameterError(param, f"must be at most {max_length} characters, got {len(value)}")
    if not is_clean_text(value):
        raise ParameterError(
            param, f"must be {what} without control characters or surrounding spaces, got {quoted(value)}"
        )
    if pattern is not None and not pattern.fullmatch(value):
        raise ParameterError(param, f"must be {what}, got {quoted(value)}")
    return value


_WHOLE = re.compile(r"-?[0-9]{1,18}")


def whole_number(param: str, value: Any, low: int, high: int | None = None) -> int:
    """An int (or its decimal text, as templates render it) between ``low`` and ``high``.

    Booleans, floats (``5.0`` has lost its meaning), ``Decimal`` and text with spaces are refused.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ParameterError(param, f"must be a whole number, got {quoted(value)}")
    if isinstance(value, str):
        if not _WHOLE.fullmatch(value):
            raise ParameterError(param, f"must be a whole number, got {quoted(value)}")
        number = int(value)
    else:
        number = value
    if number < low or (high is not None and number > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        # Compare before printing: str() of a 5,000-digit int raises in Python 3.11.
        shown = str(number) if abs(number) < 10**18 else f"a {number.bit_length()}-bit number"
        raise ParameterError(param, f"must be {bound}, got {shown}")
    return number


def seconds(
    param: str, value: Any, *, low: float = 0.0, high: float = 86_400.0, allow_zero: bool = False
) -> float:
    """A finite number of seconds in ``(low, high]`` (``[low, high]`` with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(param, f"must be a number of seconds, got {quoted(value)}")
    if isinstance(value, int) and abs(value) > 10**12:
        raise ParameterError(param, f"must be between {low:g} and {high:g} seconds, got a huge number")
    number = float(value)
    too_low = number < low if allow_zero else number <= low
    if math.isnan(number) or too_low or number > high:
        bound = f"between {low:g} and {high:g}" if allow_zero else f"more than {low:g} and at most {high:g}"
        raise ParameterError(param, f"must be {bound} seconds, got {quoted(value)}")
    return number


def rate_limit(param: str, value: Any) -> int | None:
    """None (no client-side limit) or calls per second, 1 to :data:`MAX_RATE_LIMIT`."""
    return None if value is None else whole_number(param, value, 1, MAX_RATE_LIMIT)


def flag(param: str, value: Any) -> bool:
    """True or False, nothing that merely looks like one."""
    if not isinstance(value, bool):
        raise ParameterError(param, f"must be True or False, got {quoted(value)}")
    return value
