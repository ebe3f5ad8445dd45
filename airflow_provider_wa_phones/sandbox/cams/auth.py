"""Checks of the ACS3-HMAC-SHA256 signature (Alibaba Cloud signature V3) of a CAMS request.

Written independently of the provider's client-side signing on purpose: the sandbox is a second
implementation of the published convention, so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from airflow_provider_wa_phones.sandbox.cams.models import AccessKey, CamsError

ALGORITHM = "ACS3-HMAC-SHA256"
DATE_WINDOW_SECONDS = 15 * 60
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Every request must sign these; x-acs-security-token too whenever it is sent.
REQUIRED_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)
SECURITY_TOKEN_HEADER = "x-acs-security-token"
# The official SDK sends the key id again next to an STS token; when present it must agree.
ACCESS_KEY_ID_HEADER = "x-acs-accesskey-id"
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_HEX_RE = re.compile(r"[0-9a-f]{64}")
# STS tokens are long base64-like strings; whitespace or other characters mean a damaged copy.
_TOKEN_RE = re.compile(r"[A-Za-z0-9+/=_.\-]+")
# Header values travel as bytes; surrogateescape keeps non-UTF-8 bytes intact through hashing.
_ENCODING = ("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: ACS3-HMAC-SHA256 ...`` header."""

    key_id: str
    signed_headers: tuple[str, ...]  # lower case, sorted, without duplicates
    signature: str


def percent_encode(value: str | bytes) -> str:
    """RFC 3986 encoding: unreserved ``A-Z a-z 0-9 - _ . ~`` stay, everything else is ``%XX`` of UTF-8."""
    return quote(value, safe="-_.~")


def parse_query(raw_query: str) -> list[tuple[bytes, bytes]]:
    """The raw query string as (key, value) byte pairs, in order, percent-decoded.

    ``+`` decodes to a space: the official Python SDK signs a space as ``%20`` but sends it as ``+``
    (``urlencode``), so the real gateway must read ``+`` that way. RFC 3986 clients send ``%2B`` for
    a plus sign and never a bare ``+``, so they lose nothing.
    """
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_decode(key), _decode(value)))
    return pairs


def query_params(raw_query: str) -> dict[str, str]:
    """Operation parameters from the raw query string; the first occurrence of a repeated key wins."""
    params: dict[str, str] = {}
    for key, value in parse_query(raw_query):
        params.setdefault(key.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
    return params


def canonical_query(raw_query: str) -> str:
    """Decoded pairs re-encoded per RFC 3986, sorted by key (then value), joined as ``k=v&k=v``."""
    encoded = sorted((percent_encode(key), percent_encode(value)) for key, value in parse_query(raw_query))
    return "&".join(f"{key}={value}" for key, value in encoded)


def header_map(raw_headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names in lower case; a repeated header's trimmed values sorted and joined with ``,``."""
    values: dict[str, list[str]] = {}
    for name, value in raw_headers:
        values.setdefault(name.lower(), []).append(value.strip())
    return {name: ",".join(sorted(parts)) for name, parts in values.items()}


def canonical_request(
    method: str, raw_query: str, headers: Mapping[str, str], signed_headers: Iterable[str], payload_hash: str
) -> str:
    """``METHOD \\n / \\n query \\n name:value\\n... \\n a;b;c \\n payload_hash`` over ``signed_headers``."""
    names = sorted({name.lower() for name in signed_headers})
    header_lines = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
    return "\n".join(
        (method.upper(), "/", canonical_query(raw_query), header_lines, ";".join(names), payload_hash)
    )


def string_to_sign(canonical: str) -> str:
    """``ACS3-HMAC-SHA256\\n`` followed by the hex SHA-256 of the canonical request."""
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode(*_ENCODING)).hexdigest()}"


def signature(secret: str, to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``to_sign`` keyed with the AccessKey secret."""
    return hmac.new(secret.encode(), to_sign.encode(*_ENCODING), hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> Authorization:
    """The parts of an Authorization header; raises CamsError ``IncompleteSignature`` if malformed."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"the Authorization header must use {ALGORITHM}.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, part = item.strip().partition("=")
        if sep:
            parts[name] = part.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
    if missing:
        raise _incomplete(f"the Authorization header lacks {', '.join(missing)}.")
    names = tuple(
        sorted({name.strip().lower() for name in parts["SignedHeaders"].split(";") if name.strip()})
    )
    return Authorization(key_id=parts["Credential"], signed_headers=names, signature=parts["Signature"])


def verify_request(
    method: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    find_key: Callable[[str], AccessKey | None],
    now: float,
    use_nonce: Callable[[str, str], bool],
) -> AccessKey:
    """The AccessKey that signed this request, whose nonce is then recorded as used.

    ``headers`` have lower-case names (see :func:`header_map`), ``now`` is the server's wall clock in
    seconds since the epoch. Raises CamsError with the gateway's code otherwise, checking in this
    order: Authorization and signed-header coverage (IncompleteSignature), body hash
    (SignatureDoesNotMatch), key (InvalidAccessKeyId.NotFound / .Inactive), security token
    (MissingSecurityToken,
    InvalidSecurityToken.Malformed / .MismatchWithAccessKey / .Expired), date
    (InvalidTimeStamp.Format / .Expired), signature
    (SignatureDoesNotMatch), nonce (SignatureNonceUsed).
    """
    header = headers.get("authorization", "")
    if not header:
        raise _incomplete("the Authorization header is missing.")
    authorization = parse_authorization(header)
    signed = set(authorization.signed_headers)
    required = set(REQUIRED_SIGNED_HEADERS)
    if SECURITY_TOKEN_HEADER in headers:
        required.add(SECURITY_TOKEN_HEADER)
    unsigned = sorted(required - signed)
    if unsigned:
        raise _incomplete(f"SignedHeaders must include {', '.join(unsigned)}.")
    absent = sorted(name for name in signed if not headers.get(name, "").strip())
    if absent:
        raise _incomplete(f"signed header {', '.join(absent)} is missing or empty.")
    payload_hash = hashlib.sha256(body).hexdigest()
    sent_hash = headers["x-acs-content-sha256"].strip().lower()
    if not _HEX_RE.fullmatch(sent_hash) or not hmac.compare_digest(sent_hash, payload_hash):
        raise CamsError(
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header is not the hex SHA-256 of the request body.",
        )
    key = find_key(authorization.key_id)
    if key is None:
        raise CamsError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    if not key.active:
        raise CamsError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
    if headers.get(ACCESS_KEY_ID_HEADER, authorization.key_id) != authorization.key_id:
        raise _incomplete(f"{ACCESS_KEY_ID_HEADER} differs from the Credential of the Authorization header.")
    check_security_token(key, headers.get(SECURITY_TOKEN_HEADER), now)
    check_signed_time(headers["x-acs-date"], now)
    canonical = canonical_request(method, raw_query, headers, authorization.signed_headers, payload_hash)
    to_sign = string_to_sign(canonical)
    expected = signature(key.secret, to_sign)
    if not hmac.compare_digest(expected.encode(), authorization.signature.encode(*_ENCODING)):
        # Like the real gateway, say what the server signed, so a client can diff its own steps.
        raise CamsError(
            "SignatureDoesNotMatch",
            f"Specified signature does not match our calculation. server string to sign is:{to_sign}"
            f" (canonical request: {canonical!r})",
        )
    if not use_nonce(key.key_id, headers["x-acs-signature-nonce"].strip()):
        raise CamsError("SignatureNonceUsed", "Specified signature nonce was used already.")
    return key


def check_security_token(key: AccessKey, token: str | None, now: float) -> None:
    """The STS checks, with the codes Alibaba's error centre lists for each case (also used by the
    emulated STS for a chained AssumeRole's source key)."""
    expected = key.security_token
    if expected is None:
        # A permanent key that sends a token is refused: the token would be silently meaningless.
        if token is not None:
            raise _token_mismatch()
        return
    if token is None or not token.strip():
        raise CamsError("MissingSecurityToken", "SecurityToken is mandatory for this action.")
    if not _TOKEN_RE.fullmatch(token):
        raise CamsError("InvalidSecurityToken.Malformed", "Specified security token is malformed.")
    if not hmac.compare_digest(token.encode(*_ENCODING), expected.encode()):
        raise _token_mismatch()
    if key.token_expires_at is not None and now >= key.token_expires_at:
        raise CamsError("InvalidSecurityToken.Expired", "Specified security token has expired.")


def _token_mismatch() -> CamsError:
    return CamsError(
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Specified security token does not match the access key.",
    )


def check_signed_time(value: str, now: float, field: str = "x-acs-date") -> None:
    """The signing time ``field`` (CAMS's ``x-acs-date``, an RPC call's ``Timestamp``): ISO 8601 in
    UTC, within 15 minutes of the server's clock, as the gateway requires of both."""
    if not _DATE_RE.fullmatch(value):
        raise _bad_date(field)
    try:
        signed_at = dt.datetime.strptime(value, DATE_FORMAT).replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        raise _bad_date(field) from None
    if abs(now - signed_at) > DATE_WINDOW_SECONDS:
        raise CamsError(
            "InvalidTimeStamp.Expired",
            f"Specified time stamp or date value is expired (more than {DATE_WINDOW_SECONDS // 60} minutes "
            "from the server's clock).",
        )


def _bad_date(field: str) -> CamsError:
    return CamsError(
        "InvalidTimeStamp.Format",
        f"Specified time stamp or date value is not well formatted ({field} must be {DATE_FORMAT}, UTC).",
    )


def _decode(component: str) -> bytes:
    return unquote_to_bytes(component.replace("+", " "))


def _incomplete(detail: str) -> CamsError:
    return CamsError(
        "IncompleteSignature", f"The request signature does not conform to Aliyun standards: {detail}"
    )
