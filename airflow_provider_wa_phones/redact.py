"""Keeping credentials out of every text this provider produces.

Services echo what they were sent, libraries quote the header they refused, and a Test button
shows whatever an exception says. Every such text passes through :func:`scrub` with the
connection's credential values (and any request signature) before it reaches an error, a log line
or the UI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

HIDDEN = "***"
# A CAMS Authorization header's signature, and NxCloud's "sign" header as a library would quote it.
_SIGNATURES = (
    re.compile(r"(Signature=)[0-9A-Za-z+/=]{16,}"),
    re.compile(r"""(['"]?sign['"]?\s*[:=]\s*['"]?)[0-9a-fA-F]{32,64}"""),
)
#: Extras that hold secrets, under their own names and the names older tooling gives them.
SECRET_EXTRAS = (
    "security_token",
    "access_key_secret",
    "extra__alibaba_cams__security_token",
    "extra__alibaba_cams__access_key_secret",
)


def _spellings(secret: str) -> list[str]:
    """A secret as it may appear in a text: as it is, trimmed, and escaped the way ``repr`` shows
    it (a token with a trailing newline shows as ``token\\n``)."""
    forms = {secret, secret.strip(), repr(secret)[1:-1]}
    return sorted((form for form in forms if len(form) >= 4), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret, and anything shaped like a request signature, hidden."""
    for secret in secrets:
        if isinstance(secret, str) and secret:
            for form in _spellings(secret):
                text = text.replace(form, HIDDEN)
    for pattern in _SIGNATURES:
        text = pattern.sub(lambda match: match.group(1) + HIDDEN, text)
    return text


def connection_secrets(read: Callable[[str], Any], conn_id: Any) -> tuple[str, ...]:
    """The credential values of a connection, read straight from it (best effort: for scrubbing a
    text when the connection could not even be checked)."""
    try:
        conn = read(conn_id)
    except Exception:
        return ()
    values: list[Any] = [getattr(conn, "password", None)]
    raw = getattr(conn, "extra", None)
    try:
        extra = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        extra = None
    if isinstance(extra, dict):
        values.extend(extra.get(name) for name in SECRET_EXTRAS)
    elif isinstance(raw, str):
        values.append(raw)  # an extra that is not JSON may still hold a token: hide all of it
    return tuple(value for value in values if isinstance(value, str) and value)


def failure_message(exc: BaseException, secrets: Iterable[str | None]) -> str:
    """What a Test button shows for ``exc``: the package's own message, or the type and text of
    anything else, scrubbed either way."""
    from airflow_provider_wa_phones.errors import WaPhonesError

    text = str(exc) if isinstance(exc, WaPhonesError) else f"{type(exc).__name__}: {exc}"
    return scrub(text, secrets)
