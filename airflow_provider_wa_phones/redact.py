"""Keeping credentials out of every text this provider produces.

Services echo what they were sent, libraries quote the header they refused, and a Test button
shows whatever an exception says. Every such text passes through :func:`scrub` with the
connection's credential values (and any request signature) before it reaches an error, a log line
or the UI.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_wa_phones.exceptions import WaPhonesError

HIDDEN = "***"
# A CAMS Authorization header's signature, and NxCloud's "sign" header, as a library or a service
# would quote them, in any case ("Sign: ...", "SIGNATURE=...", "signature <HEX>").
_SIGNATURES = (
    re.compile(r"(Signature=)[0-9A-Za-z+/=]{16,}", re.IGNORECASE),
    re.compile(r"""(['"]?sign(?:ature)?['"]?\s*[:=]?\s*['"]?)[0-9a-fA-F]{32,}""", re.IGNORECASE),
)
# A run of hex digits long enough to be (part of) a signature (md5: 32 digits, sha256: 64).
_HEX_RUN = re.compile(r"[0-9a-fA-F]{16,}")
# Hex digits at the end of a text that was cut: they may be the first part of a signature.
_HEX_TAIL = re.compile(r"[0-9a-fA-F]{1,64}\Z")
#: How many signatures this process sent are remembered (the newest), to scrub them from answers.
#: A triggerer may have a few thousand requests in flight; each entry is about 100 bytes.
MAX_REMEMBERED_SIGNATURES = 4096
_sent: deque[str] = deque(maxlen=MAX_REMEMBERED_SIGNATURES)
_sent_lock = threading.Lock()
#: How many fetched secrets (temporary AccessKey secrets, STS tokens, OIDC tokens) are remembered,
#: the newest: a refresh adds two, so this covers days of hourly refreshes of many connections.
MAX_REMEMBERED_SECRETS = 1024
_secrets: deque[str] = deque(maxlen=MAX_REMEMBERED_SECRETS)
# Credential fields as a URL query, JSON or a dict's repr would show them (a library's error text
# may quote the STS request it sent, or the answer it could not read).
_CREDENTIAL_FIELDS = re.compile(
    r"""((?:AccessKeySecret|SecurityToken|OIDCToken|access_key_secret|security_token)['"]?\s*[:=]\s*['"]?)"""
    r"""[^&\s'",}]{4,}""",
    re.IGNORECASE,
)


def remember_signature(signature: str) -> None:
    """Remember a signature this process sent, so that :func:`scrub` hides it from any text
    (a service or a proxy may quote the request it refuses), in any letter case."""
    if isinstance(signature, str) and len(signature) >= 16:
        with _sent_lock:
            _sent.append(signature.lower())


def remember_secret(secret: str | None) -> None:
    """Remember a secret this process fetched (a temporary key, a token), so that :func:`scrub`
    hides it from any text from now on, with or without it being passed in."""
    if isinstance(secret, str) and len(secret) >= 4:
        with _sent_lock:
            if secret not in _secrets:
                _secrets.append(secret)


def known_secrets() -> tuple[str, ...]:
    """The secrets :func:`remember_secret` was given (the newest :data:`MAX_REMEMBERED_SECRETS`)."""
    with _sent_lock:
        return tuple(_secrets)


def _recent_signatures() -> tuple[str, ...]:
    with _sent_lock:
        return tuple(_sent)


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
    """``text`` with every given secret, every signature this process sent recently (in any letter
    case), every fetched secret remembered, and anything shaped like a request signature or a
    credential field (``SecurityToken=...``), hidden."""
    for secret in (*secrets, *known_secrets()):
        if isinstance(secret, str) and secret:
            for form in _spellings(secret):
                text = text.replace(form, HIDDEN)
    sent = _recent_signatures()
    if sent and _HEX_RUN.search(text):
        # Signatures are hex (NxCloud's md5/sha256 "sign", the ACS3 HMAC-SHA256): a run of hex
        # digits that holds one or a part of one (16 digits or more), whatever its case, is hidden.
        def hide(match: re.Match[str]) -> str:
            run = match.group().lower()
            return HIDDEN if any(run in sig or sig in run for sig in sent) else match.group()

        text = _HEX_RUN.sub(hide, text)
    for pattern in (*_SIGNATURES, _CREDENTIAL_FIELDS):
        text = pattern.sub(lambda match: match.group(1) + HIDDEN, text)
    return text


class SecretFilter(logging.Filter):
    """A logging filter that hides every secret :func:`scrub` knows from a record's message and
    traceback (for loggers of libraries that handle credentials)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: show it as it is, scrubbed
            message = f"{record.msg!r} % {record.args!r}"
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.msg, record.args = f"{scrubbed}\n{scrub(text)}", None
            record.exc_info, record.exc_text = None, None
        return True


#: The longest text a message quotes from a service (its own message, a body's first characters).
MAX_QUOTED = 500


def quote(
    text: str, secrets: Iterable[str | None] = (), limit: int = MAX_QUOTED, *, size: int | None = None
) -> str:
    """A text taken from an answer, made fit for a message: scrubbed (as :func:`scrub`) and cut to
    ``limit`` characters, saying how long it was when cut.

    ``size`` is the length of the whole text when ``text`` is only its start. A huge text is cut
    before it is scrubbed (scrubbing a megabyte for every error would cost more than the call), and
    a tail at that first cut that may be the first part of a secret or a signature is dropped: the
    scrub, seeing only part of it, would not recognise it.
    """
    if not isinstance(text, str):
        text = str(text)
    cut = size is not None and size > len(text)  # the caller passed the start of a longer text
    size = len(text) if size is None else size
    cut = cut or len(text) > limit * 8
    if cut:
        secrets = tuple(secrets)
        text = _without_partial_secret(text[: limit * 8], secrets)
    text = scrub(text, secrets)
    if len(text) > limit:
        text, cut = text[:limit], True  # scrubbed already: no secret is left to cut in half
    return f"{text}... ({size} characters)" if cut else text


def _without_partial_secret(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` (cut from a longer one) without a tail that may be the first part of a secret or a
    signature, which :func:`scrub` would not recognise."""
    text = _HEX_TAIL.sub("", text)
    for secret in secrets:
        if isinstance(secret, str) and secret:
            for form in _spellings(secret):
                for length in range(min(len(form) - 1, len(text)), 3, -1):
                    if text.endswith(form[:length]):
                        text = text[:-length]
                        break
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

    text = str(exc) if isinstance(exc, WaPhonesError) else f"{type(exc).__name__}: {exc}"
    return scrub(text, secrets)
