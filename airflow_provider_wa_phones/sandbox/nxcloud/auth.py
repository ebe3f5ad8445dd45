"""Checks of NxCloud's common headers and request signature.

Written independently of the provider's client-side signing on purpose: the sandbox is a second
implementation of the published convention, so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping

from airflow_provider_wa_phones.sandbox.nxcloud.models import Account, NxCloudError

TS_WINDOW_MS = 60_000
# Header names as documented; HTTP compares them case-insensitively.
REQUIRED_HEADERS = ("accessKey", "ts", "bizType", "action", "sign")
_HASHES = {"md5": hashlib.md5, "sha256": hashlib.sha256}
_TS_RE = re.compile(r"[0-9]+")


def expected_sign(
    access_key: str,
    action: str,
    biz_type: str,
    ts: str,
    body: bytes,
    secret: str,
    algorithm: str = "md5",
) -> str:
    """The lowercase hex signature of these header values, raw body bytes and secret."""
    message = f"accessKey={access_key}&action={action}&bizType={biz_type}&ts={ts}".encode()
    if body:
        message += b"&body=" + body
    message += f"&accessSecret={secret}".encode()
    return _HASHES[algorithm](message).hexdigest()


def verify_request(
    headers: Mapping[str, str],
    body: bytes,
    *,
    find_account: Callable[[str], Account | None],
    now_ms: int,
    biz_type: int,
    action: str,
) -> Account:
    """The account that signed this request for the operation ``(biz_type, action)``.

    Raises NxCloudError with the service's authentication code (1001 to 1005) otherwise.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    values = {name: lowered.get(name.lower(), "") for name in REQUIRED_HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise NxCloudError(1001, f"missing required header: {', '.join(missing)}")
    account = find_account(values["accessKey"])
    if account is None:
        raise NxCloudError(1005, "unknown accessKey")
    ts = values["ts"]
    if not _TS_RE.fullmatch(ts):
        raise NxCloudError(1004, "ts must be the current time in milliseconds since the epoch")
    if abs(now_ms - int(ts)) > TS_WINDOW_MS:
        raise NxCloudError(1004, "timestamp outside the 60 s window")
    algorithm = lowered.get("algorithm") or "md5"
    if algorithm not in _HASHES:
        raise NxCloudError(1003, "unsupported signature algorithm (use md5 or sha256)")
    expected = expected_sign(
        values["accessKey"], values["action"], values["bizType"], ts, body, account.secret, algorithm
    )
    if not hmac.compare_digest(expected.encode(), values["sign"].encode("utf-8", "replace")):
        raise NxCloudError(1003, "invalid signature")
    if (values["bizType"], values["action"]) != (str(biz_type), action):
        raise NxCloudError(1002, f"this path expects bizType {biz_type} and action {action}")
    if biz_type not in account.biz_types:
        raise NxCloudError(1005, f"accessKey has no permission for bizType {biz_type}")
    return account
