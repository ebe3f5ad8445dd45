"""What each documented service code means to a caller: the error class, a remedy, retry or not.

The tables are data; :func:`nxcloud_error` and :func:`cams_error` turn one answer's code into the
typed error of :mod:`airflow_provider_wa_phones.exceptions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from airflow_provider_wa_phones.exceptions import (
    AuthenticationError,
    BillingError,
    ClockSkewError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
    ServiceUnavailableError,
    ThrottledError,
)
from airflow_provider_wa_phones.services import CAMS, NXCLOUD


@dataclass(frozen=True)
class ErrorKind:
    """What a documented service code means to a caller."""

    error_class: type[ServiceError]
    meaning: str
    remedy: str
    retryable: bool = False


_CONTACT = "If it persists, contact NxCloud support with the request time"

NXCLOUD_CODES: dict[int, ErrorKind] = {
    -1: ErrorKind(ServiceUnavailableError, "request failed", _CONTACT, retryable=True),
    1001: ErrorKind(
        AuthenticationError, "a required common header is missing", "This is a client bug; report it"
    ),
    1002: ErrorKind(
        InvalidRequestError,
        "wrong bizType/action or body parameters",
        "Check the operation's parameters",
    ),
    1003: ErrorKind(
        AuthenticationError,
        "invalid signature",
        "Check the connection's access key and access secret (login and password) and its sign_algorithm",
    ),
    1004: ErrorKind(
        ClockSkewError,
        "timestamp outside the 60 s window",
        "Synchronise this machine's clock (NTP); the service allows 60 s of skew",
    ),
    1005: ErrorKind(
        AuthenticationError,
        "access key unknown or not allowed for this business line",
        "Check the connection's access key (login) and that the account has this product enabled",
    ),
    9000: ErrorKind(InvalidRequestError, "parameter exception", "Check the required parameters"),
    9001: ErrorKind(ServiceUnavailableError, "system business error", _CONTACT, retryable=True),
    9002: ErrorKind(
        NotFoundError, "merchant phone number error", "Check that the number is a WhatsApp sender number"
    ),
    9006: ErrorKind(
        NotFoundError,
        "WhatsApp number not bound to the application",
        "Ask NxCloud to bind the number to this appkey",
    ),
    9007: ErrorKind(
        AuthenticationError,
        "not an integrator account",
        "The phone list is only for integrator accounts; use get_phone_info instead",
    ),
    9008: ErrorKind(NotFoundError, "appkey does not exist", "Check the appkey"),
    9010: ErrorKind(
        NotFoundError,
        "appkey belongs to another customer than the access key",
        "Use the appkey of the account whose access key the connection holds",
    ),
    88: ErrorKind(InvalidRequestError, "request failed", "Check the query parameters"),
    201: ErrorKind(InvalidRequestError, "parameter error", "Check the submitted parameters"),
    202: ErrorKind(NotFoundError, "appkey unavailable or incorrect", "Check the appkey"),
    203: ErrorKind(
        InvalidRequestError,
        "country or operator not recognised",
        "Check the numbers carry their country code",
    ),
    204: ErrorKind(BillingError, "deduction failed", "Check the account balance and billing settings"),
    205: ErrorKind(BillingError, "no pricing for this destination", "Ask NxCloud to enable pricing"),
    206: ErrorKind(ServiceUnavailableError, "check service error", _CONTACT, retryable=True),
    207: ErrorKind(InvalidRequestError, "invalid check type", "check_level must be 1, 4 or 5"),
    210: ErrorKind(
        NotFoundError,
        "appkey belongs to another customer than the access key",
        "Use the appkey of the account whose access key the connection holds",
    ),
    211: ErrorKind(BillingError, "insufficient balance", "Top up the NxCloud account"),
    212: ErrorKind(InvalidRequestError, "batchNo too long", "batch_no must be at most 64 characters"),
    288: ErrorKind(ServiceUnavailableError, "submit failed", _CONTACT, retryable=True),
    299: ErrorKind(ServiceUnavailableError, "system error", _CONTACT, retryable=True),
}


def nxcloud_error(
    operation: str, code: int, message: str, *, http_status: int | None = None, note: str | None = None
) -> ServiceError:
    """Build the typed error for an NxCloud answer with a non-zero ``code``.

    ``note`` is a finding of the client's own to add, such as the measured clock skew.
    """
    kind = NXCLOUD_CODES.get(code)
    if kind is None:
        return ServiceError(
            service=NXCLOUD.name,
            operation=operation,
            code=code,
            message=message or "undocumented error code",
            http_status=http_status,
        )
    # Keep the service's own words: they often name the exact field at fault.
    same = not message or message.strip().lower() == kind.meaning
    text = kind.meaning if same else f"{kind.meaning} ({message.strip()})"
    if note:
        text = f"{text}; {note}"
    return kind.error_class(
        service=NXCLOUD.name,
        operation=operation,
        code=code,
        message=text,
        remedy=kind.remedy,
        retryable=kind.retryable,
        http_status=http_status,
    )


_CAMS_CREDENTIALS = "Check the connection's AccessKey ID and secret (login and password)"
_STS_PAIR = (
    "Temporary credentials come as a triple: put the AccessKey ID, secret and SecurityToken of the same "
    "AssumeRole answer in login, password and security_token"
)

CAMS_CODES: dict[str, ErrorKind] = {
    "Throttling": ErrorKind(ThrottledError, "flow control", "Slow down", retryable=True),
    "Throttling.User": ErrorKind(ThrottledError, "flow control for this user", "Slow down", retryable=True),
    "Throttling.Api": ErrorKind(ThrottledError, "flow control for this API", "Slow down", retryable=True),
    "System.LimitControl": ErrorKind(ThrottledError, "system flow control", "Slow down", retryable=True),
    "ServiceUnavailable": ErrorKind(ServiceUnavailableError, "service unavailable", "", retryable=True),
    "InternalError": ErrorKind(ServiceUnavailableError, "internal error", "", retryable=True),
    # A fresh nonce and date fix it, and every attempt is signed with new ones.
    "SignatureNonceUsed": ErrorKind(AuthenticationError, "signature nonce reused", "", retryable=True),
    "InvalidTimeStamp.Expired": ErrorKind(
        ClockSkewError,
        "request time more than 15 minutes off",
        "Synchronise this machine's clock (NTP)",
    ),
    "SignatureDoesNotMatch": ErrorKind(AuthenticationError, "signature does not match", _CAMS_CREDENTIALS),
    "IncompleteSignature": ErrorKind(AuthenticationError, "incomplete signature", "This is a client bug"),
    "InvalidAccessKeyId.NotFound": ErrorKind(
        AuthenticationError, "AccessKey ID not found", _CAMS_CREDENTIALS
    ),
    "InvalidAccessKeyId.Inactive": ErrorKind(
        AuthenticationError,
        "AccessKey disabled",
        "Enable the AccessKey in the RAM console or put an active one in the connection's login/password",
    ),
    "InvalidSecurityToken.MismatchWithAccessKey": ErrorKind(
        AuthenticationError,
        "STS token does not belong to the AccessKey ID",
        _STS_PAIR,
    ),
    # An older name of the same refusal, still seen in SDK users' code.
    "InvalidSecurityToken.Mismatch": ErrorKind(
        AuthenticationError, "STS token does not belong to the AccessKey ID", _STS_PAIR
    ),
    "InvalidSecurityToken.Malformed": ErrorKind(
        AuthenticationError,
        "STS token malformed",
        "Copy the whole SecurityToken into the connection's security_token field (no spaces or line breaks)",
    ),
    "InvalidSecurityToken.Expired": ErrorKind(
        AuthenticationError,
        "STS token expired",
        "Temporary credentials expire: fetch new ones (AssumeRole) and update the connection",
    ),
    "MissingSecurityToken": ErrorKind(
        AuthenticationError,
        "STS token missing",
        "Temporary (STS.) AccessKeys need their SecurityToken in the connection's security_token field",
    ),
    "Product.Unsubscript": ErrorKind(
        AuthenticationError, "product not subscribed", "Activate ChatApp Message Service for this account"
    ),
    "Ram.PermissionDeny": ErrorKind(
        AuthenticationError, "not authorized", "Grant the RAM user the cams:Query* permissions"
    ),
    "Unknown.ResourceOwnerId": ErrorKind(
        NotFoundError, "resource does not belong to the caller", "Check cust_space_id"
    ),
    "PhoneNumber.NotExist": ErrorKind(NotFoundError, "phone number not in this space", "Check phone_number"),
    "MissingParameter": ErrorKind(InvalidRequestError, "a required parameter is missing", ""),
    "InvalidParameter": ErrorKind(InvalidRequestError, "a parameter is invalid", ""),
}


def cams_error(
    operation: str,
    code: str,
    message: str,
    *,
    http_status: int | None = None,
    request_id: str | None = None,
    recommend: str | None = None,
) -> ServiceError:
    """Build the typed error for a CAMS answer whose ``Code`` is not ``OK``."""
    kind = CAMS_CODES.get(code)
    if kind is None and http_status == 429:
        kind = ErrorKind(ThrottledError, "too many requests", "Slow down", retryable=True)
    elif kind is None:
        server_side = http_status is not None and http_status >= 500
        kind = ErrorKind(
            ServiceUnavailableError if server_side else ServiceError, "", "", retryable=server_side
        )
    remedy = "; ".join(part for part in (kind.remedy, f"diagnosis: {recommend}" if recommend else "") if part)
    return kind.error_class(
        service=CAMS.name,
        operation=operation,
        code=code,
        message=message or kind.meaning or "no message",
        remedy=remedy,
        retryable=kind.retryable,
        request_id=request_id,
        http_status=http_status,
    )


def clock_skew_note(server_date: str | None, local_now: float) -> str | None:
    """Say how far this machine's clock is from the server's ``Date`` header, if it tells."""

    if not server_date:
        return None
    try:
        server = parsedate_to_datetime(server_date).timestamp()
    except (TypeError, ValueError):
        return None
    skew = round(local_now - server)
    if skew == 0:
        return "local clock agrees with the server's to the second; the request may have been delayed"
    side = "ahead of" if skew > 0 else "behind"
    return f"local clock is {abs(skew)} s {side} the server"


def is_clock_skew(kind: ErrorKind | None) -> bool:
    """Whether a documented code means the request time was out of the service's window."""
    return kind is not None and issubclass(kind.error_class, ClockSkewError)
