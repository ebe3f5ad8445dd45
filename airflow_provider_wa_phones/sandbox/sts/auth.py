"""Checks of the RPC signature V1 (HMAC-SHA1) that STS's AssumeRole requires.

Written from Alibaba Cloud's RPC signature documentation, independently of any client code (the
official credentials library included), so a shared mistake cannot pass unnoticed:

1. take every query parameter except ``Signature``, percent-encode name and value per RFC 3986
   (UTF-8; unreserved ``A-Z a-z 0-9 - _ . ~`` stay; a space is ``%20``, ``*`` is ``%2A``);
2. sort the pairs by encoded name and join them as ``name=value`` with ``&``: the canonical query;
3. the string to sign is ``GET&%2F&`` followed by the percent-encoded canonical query;
4. the signature is the Base64 of HMAC-SHA1 over it, keyed with the AccessKey secret followed by ``&``.

The query string itself is decoded as a form would be (``+`` is a space): the official clients build
it with ``urlencode``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping

from airflow_provider_wa_phones.sandbox.cams.auth import (
    check_security_token,
    check_signed_time,
    parse_query,
    percent_encode,
)
from airflow_provider_wa_phones.sandbox.cams.models import AccessKey, CamsError

SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"


def rpc_params(raw_query: str) -> dict[str, str]:
    """The decoded query parameters; a repeated name is refused (the signature would be ambiguous)."""
    params: dict[str, str] = {}
    for raw_key, raw_value in parse_query(raw_query):
        key = raw_key.decode("utf-8", "replace")
        if key in params:
            raise _incomplete(f"the parameter {key} is given twice.")
        params[key] = raw_value.decode("utf-8", "replace")
    return params


def canonical_query(params: Mapping[str, str]) -> str:
    """Steps 1 and 2: the encoded pairs but ``Signature``, sorted, joined with ``&``."""
    pairs = sorted(
        (percent_encode(key), percent_encode(value)) for key, value in params.items() if key != "Signature"
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """Step 3: ``METHOD&%2F&<encoded canonical query>``."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def rpc_signature(secret: str, to_sign: str) -> str:
    """Step 4: Base64 of HMAC-SHA1 keyed with ``secret + "&"``."""
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_rpc_request(
    method: str,
    params: Mapping[str, str],
    *,
    find_key: Callable[[str], AccessKey | None],
    now: float,
    use_nonce: Callable[[str, str], bool],
) -> AccessKey:
    """The AccessKey that signed this RPC request, whose nonce is then recorded as used.

    ``now`` is the server's wall clock. Raises :class:`CamsError` with the gateway's code, checking
    in this order: signature parameters (IncompleteSignature), key (InvalidAccessKeyId.NotFound /
    .Inactive), security token (MissingSecurityToken, InvalidSecurityToken.Malformed /
    .MismatchWithAccessKey / .Expired), timestamp (InvalidTimeStamp.Format / .Expired), signature
    (SignatureDoesNotMatch), nonce (SignatureNonceUsed).
    """
    missing = [
        name
        for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce")
        if not params.get(name)
    ]
    if missing:
        raise _incomplete(f"the request lacks {', '.join(missing)}.")
    if params["SignatureMethod"] != SIGNATURE_METHOD or params["SignatureVersion"] != SIGNATURE_VERSION:
        raise _incomplete(
            f"SignatureMethod must be {SIGNATURE_METHOD}, SignatureVersion {SIGNATURE_VERSION}."
        )
    key = find_key(params["AccessKeyId"])
    if key is None:
        raise CamsError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    if not key.active:
        raise CamsError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
    check_security_token(key, params.get("SecurityToken"), now)
    check_signed_time(params.get("Timestamp", ""), now, "Timestamp")
    to_sign = string_to_sign(method, params)
    expected = rpc_signature(key.secret, to_sign)
    if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
        # Like the real gateway, say what the server signed, so a client can diff its own steps.
        raise CamsError(
            "SignatureDoesNotMatch",
            f"Specified signature is not matched with our calculation. server string to sign is:{to_sign}",
        )
    if not use_nonce(key.key_id, params["SignatureNonce"]):
        raise CamsError("SignatureNonceUsed", "Specified signature nonce was used already.")
    return key


def _incomplete(detail: str) -> CamsError:
    return CamsError(
        "IncompleteSignature", f"The request signature does not conform to Aliyun standards: {detail}"
    )
