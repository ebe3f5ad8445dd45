"""Request signatures of the supported services, as pure functions.

Nothing here performs I/O or imports Airflow or an HTTP library, so the same code signs requests
for the synchronous hooks and the asynchronous triggers, and can be checked against published
vectors in isolation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

NXCLOUD_ALGORITHMS = ("md5", "sha256")


def nxcloud_string_to_sign(
    access_key: str, action: str, biz_type: str, ts: str, body: bytes, access_secret: str
) -> bytes:
    """Return the exact bytes NxCloud hashes: sorted common headers, the raw body, the secret."""
    head = f"accessKey={access_key}&action={action}&bizType={biz_type}&ts={ts}".encode()
    # The body is appended as the bytes that travel on the wire, never re-serialised.
    middle = b"&body=" + body if body else b""
    return head + middle + f"&accessSecret={access_secret}".encode()


def nxcloud_sign(
    access_key: str,
    access_secret: str,
    action: str,
    biz_type: str,
    ts: str,
    body: bytes,
    algorithm: str = "md5",
) -> str:
    """Return the lowercase hex NxCloud signature of one request."""
    if algorithm not in NXCLOUD_ALGORITHMS:
        raise ValueError(f"algorithm must be one of {NXCLOUD_ALGORITHMS}, got {algorithm!r}")
    payload = nxcloud_string_to_sign(access_key, action, biz_type, ts, body, access_secret)
    return hashlib.new(algorithm, payload).hexdigest()


def nxcloud_headers(
    access_key: str,
    access_secret: str,
    action: str,
    biz_type: str,
    body: bytes,
    algorithm: str = "md5",
    ts_ms: int | None = None,
) -> dict[str, str]:
    """Return the signed common headers for one NxCloud request.

    ``ts_ms`` defaults to the current time; pass it only to reproduce a known signature.
    """
    ts = str(ts_ms if ts_ms is not None else time.time_ns() // 1_000_000)
    headers = {
        "accessKey": access_key,
        "ts": ts,
        "bizType": biz_type,
        "action": action,
        "sign": nxcloud_sign(access_key, access_secret, action, biz_type, ts, body, algorithm),
    }
    if algorithm != "md5":
        headers["algorithm"] = algorithm
    return headers


ACS3_ALGORITHM = "ACS3-HMAC-SHA256"


def acs3_percent_encode(text: str) -> str:
    """Percent-encode per RFC 3986 as Alibaba Cloud signs it: only ``A-Z a-z 0-9 - _ . ~`` stay."""

    return quote(text, safe="-_.~")


def acs3_canonical_query(params: Mapping[str, Any]) -> str:
    """Return the canonical query string: None dropped, encoded, sorted by key, ``k=v`` joined by ``&``.

    Send exactly this string as the URL's query so the server sees what was signed.
    """
    pairs = sorted(
        (acs3_percent_encode(str(key)), acs3_percent_encode(str(value)))
        for key, value in params.items()
        if value is not None
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


def acs3_signature(
    access_key_secret: str,
    method: str,
    canonical_query: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    path: str = "/",
) -> tuple[str, str]:
    """Return ``(signed_headers, signature)`` for a request whose headers are all to be signed."""
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    names = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method.upper(),
            path,
            canonical_query,
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = f"{ACS3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signature = hmac.new(access_key_secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return signed_headers, signature


def acs3_headers(
    *,
    access_key_id: str,
    access_key_secret: str,
    host: str,
    action: str,
    version: str,
    canonical_query: str,
    method: str = "POST",
    body: bytes = b"",
    security_token: str | None = None,
    date: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return every header of one ACS3-signed Alibaba Cloud RPC request, ``Authorization`` included.

    ``date`` (``YYYY-MM-DDTHH:MM:SSZ``) and ``nonce`` default to now and a fresh random value; pass
    them only to reproduce a known signature.
    """
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "x-acs-signature-nonce": nonce or secrets.token_hex(16),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if security_token:
        headers["x-acs-security-token"] = security_token
    signed_headers, signature = acs3_signature(access_key_secret, method, canonical_query, headers, body)
    headers["Authorization"] = (
        f"{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
    return headers
