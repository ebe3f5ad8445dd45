"""The rules every argument is held to, before anything is signed or sent.

Each check returns the value (normalised where the rule says so) or raises :class:`ParameterError`
naming the argument. Rules match the *whole* value (a trailing newline is not "a value followed by
nothing"), accept only what can be sent as it is (no lone surrogates, no control characters), and
quote a bad value cut to a readable length, never a megabyte of it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from airflow_provider_wa_phones.exceptions import ParameterError

QUOTE_LIMIT = 80
#: The longest wait for one answer an operator, sensor or hook accepts (seconds).
MAX_REQUEST_TIMEOUT = 3600.0


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


def is_clean_text(value: str) -> bool:
    """Text without hidden characters (see ``_HIDDEN``; private-use and not yet assigned code points
    are allowed: they may be some system's data) and without leading or trailing whitespace."""
    if value != value.strip():
        return False
    if value.isprintable():  # the common case, checked in C
        return True
    import unicodedata

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


def flag(param: str, value: Any) -> bool:
    """True or False, nothing that merely looks like one."""
    if not isinstance(value, bool):
        raise ParameterError(param, f"must be True or False, got {quoted(value)}")
    return value


def retry_policy(param: str, value: Any) -> Any:
    """None or a ``RetryPolicy``."""
    from airflow_provider_wa_phones.retry import RetryPolicy

    if value is not None and not isinstance(value, RetryPolicy):
        raise ParameterError(
            param, f"must be a RetryPolicy (airflow_provider_wa_phones.retry) or None, got {quoted(value)}"
        )
    return value


# --- connections -----------------------------------------------------------------------------------

_CONN_ID = re.compile(r"[A-Za-z0-9_.\-]{1,250}")
_CREDENTIAL = re.compile(r"[!-~]+")  # visible ASCII: keys, secrets and STS tokens never hold spaces


def conn_id(param: str, value: Any) -> str:
    """An Airflow connection id (letters, digits, ``_ . -``, at most 250 characters)."""
    return text(
        param, value, max_length=250, pattern=_CONN_ID, rule="a connection id (letters, digits, _ . -)"
    )


def credential(conn: str, field: str, value: Any, what: str) -> str:
    """A key, secret or token from a connection: visible ASCII without spaces. The error names the
    field and never shows the value (it is a secret, or next to one)."""
    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    if not isinstance(value, str) or not value:
        raise ConnectionConfigError(conn, field, f"the {what} is empty")
    if len(value) > 4096 or not _CREDENTIAL.fullmatch(value):
        raise ConnectionConfigError(
            conn,
            field,
            f"the {what} holds spaces, line breaks, control or non-ASCII characters; copy it again "
            "without them (its value is not shown here)",
        )
    return value


def connection_extra(conn: Any) -> dict[str, Any]:
    """The connection's extra fields. Airflow silently reads an extra that is not valid JSON as no
    extra at all (the appkey, region and STS token then vanish); here it is an error."""
    import json

    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    raw = getattr(conn, "extra", None)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        extra = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        extra = None
    if not isinstance(extra, dict):
        raise ConnectionConfigError(
            conn.conn_id,
            "extra",
            'must be a JSON object of named fields, e.g. {"appkey": "..."} (its value is not shown here)',
        )
    return extra


def base_url(conn: Any, default: str) -> str:
    """``scheme://host[:port]`` from a connection's host (a URL, or a bare host with the schema
    field as the scheme, https when empty) and port; ``default`` when host is empty."""
    from urllib.parse import urlsplit

    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    host = conn.host
    if host is None or host == "":
        return default
    # The whole value: a host of spaces or one ending in a newline is a typo, not "the default".
    if not isinstance(host, str) or len(host) > 2048 or not _CREDENTIAL.fullmatch(host):
        raise ConnectionConfigError(conn.conn_id, "host", f"must be a URL or host name, got {quoted(host)}")
    url = host.rstrip("/")
    if "://" not in url:
        scheme = conn.schema or "https"
        if scheme not in ("http", "https"):
            raise ConnectionConfigError(
                conn.conn_id, "schema", f"must be http or https (or empty for https), got {quoted(scheme)}"
            )
        url = f"{scheme}://{url}"
    try:
        parts = urlsplit(url)
        port_in_host = parts.port
    except ValueError:
        raise ConnectionConfigError(conn.conn_id, "host", f"is not a valid URL: {quoted(host)}") from None
    if (
        parts.scheme not in ("http", "https")
        or parts.netloc.endswith(":")
        or not _is_host_name(parts.hostname or "")
    ):
        raise ConnectionConfigError(
            conn.conn_id, "host", f"must be an http(s) URL or a host name, got {quoted(host)}"
        )
    port = conn.port
    if port not in (None, "", 0) and port_in_host is None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConnectionConfigError(conn.conn_id, "port", f"must be 1 to 65535, got {quoted(port)}")
        from urllib.parse import urlunsplit

        url = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))
    return url


_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ADDRESS = re.compile(r"[0-9A-Fa-f:.]+")


def _is_host_name(name: str) -> bool:
    """A DNS name (labels of 1 to 63 letters, digits and inner hyphens, at most 253 in all) or an
    IP address."""
    if _ADDRESS.fullmatch(name) and any(char in name for char in ".:"):
        return True
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.rstrip(".").split("."))


def missing_connection(conn: str, param: str = "conn_id") -> Exception:
    """The error for a connection id that no backend defines; ``param`` is the argument that named it."""
    from airflow_provider_wa_phones.exceptions import ConnectionConfigError

    return ConnectionConfigError(
        conn,
        param,
        "is not defined: add it under Admin > Connections, as AIRFLOW_CONN_<ID> or in a secrets backend",
    )


def is_missing_connection(exc: BaseException) -> bool:
    """Whether ``exc`` is Airflow saying a connection id is not defined (its class moved between
    Airflow versions, so it is recognised by name)."""
    return type(exc).__name__ == "AirflowNotFoundException"
