"""Request signatures of the supported services, as pure functions.

Nothing here performs I/O or imports Airflow or an HTTP library, so the same code signs requests
for the synchronous hooks and the asynchronous triggers, and can be checked against published
vectors in isolation.
"""

from __future__ import annotations

import hashlib
import time

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
