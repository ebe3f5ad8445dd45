"""One error hierarchy for both services.

Every error says which parameter or which service answer caused it, what to do about it, and
whether retrying the same request can help. No error text ever contains a credential: the hooks
scrub their own secrets (:mod:`airflow_provider_wa_phones.redact`) from anything a service or a
library says before it reaches a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class WaPhonesError(Exception):
    """Base class of every error raised by this provider.

    ``retryable``: sending the same request again may succeed. ``may_have_taken_effect``: the
    request may have reached the service and been acted on although no clear answer came back (a
    charged submit must then be looked up, never sent again blindly).
    """

    retryable: bool = False
    may_have_taken_effect: bool = False

    # Process pools and some executors' result backends pickle errors. The default pickling calls
    # __init__ with args alone, which fails for keyword-only errors; this keeps every attribute.
    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, WaPhonesError)
        return self.args == other.args and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), self.args))


def _rebuild(cls: type[WaPhonesError], args: tuple[Any, ...], state: dict[str, Any]) -> WaPhonesError:
    """An error of ``cls`` with ``args`` and attributes ``state``, without calling its __init__."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ParameterError(WaPhonesError, ValueError):
    """An argument broke a rule; raised before any request is sent."""

    def __init__(self, param: str, rule: str):
        self.param = param
        self.rule = rule
        super().__init__(f"{param}: {rule}")


class ConnectionConfigError(WaPhonesError):
    """The Airflow connection lacks a field or holds a value the hook cannot use."""

    def __init__(self, conn_id: str, field: str, rule: str):
        self.conn_id = conn_id
        self.field = field
        self.rule = rule
        super().__init__(f"connection {conn_id!r}, field {field}: {rule}")


class TransportError(WaPhonesError):
    """The request did not get an answer: connection refused or reset, DNS failure, timeout.

    ``unsent`` is true when the request surely never reached the service (connection refused).
    """

    retryable = True

    def __init__(self, message: str, *, unsent: bool = False):
        super().__init__(message)
        self.unsent = unsent
        self.may_have_taken_effect = not unsent


class MalformedResponseError(WaPhonesError):
    """The answer is not the service's documented envelope, or not of the documented shape.

    A success status (or a 5xx) with garbage may come from the service itself: the request may have
    been processed, and another try may get a clean answer. A 4xx without the envelope comes from
    something else (a wrong host, a proxy, a firewall): it is not retried, since it will not change.
    """

    def __init__(self, message: str, *, retryable: bool = True, may_have_taken_effect: bool = True):
        super().__init__(message)
        self.retryable = retryable
        self.may_have_taken_effect = may_have_taken_effect


class ServiceError(WaPhonesError):
    """The service answered and refused the request."""

    def __init__(
        self,
        *,
        service: str,
        operation: str,
        code: int | str,
        message: str,
        remedy: str = "",
        retryable: bool = False,
        request_id: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        may_have_taken_effect: bool = False,
    ):
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.remedy = remedy
        self.retryable = retryable
        self.request_id = request_id
        self.http_status = http_status
        #: Seconds the service asked the client to wait before trying again, if it said.
        self.retry_after = retry_after
        # A code in the service's own envelope is a refusal: the request was not taken. Only a bare
        # gateway failure (a 5xx without the envelope) leaves that open.
        self.may_have_taken_effect = may_have_taken_effect
        super().__init__(self._render())

    def with_detail(self, detail: str) -> ServiceError:
        """The same error with ``detail`` added to its message (errors are raised once, not edited)."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.message = f"{self.message}; {detail}"
        Exception.__init__(copy, copy._render())
        return copy

    def _render(self) -> str:
        # Services end their messages with a period or not; the text adds its own.
        text = f"{self.service} {self.operation} failed with code {self.code}: {self.message.rstrip('. ')}"
        if self.remedy:
            text += f". {self.remedy.rstrip('. ')}"
        text += ". A retry may help." if self.retryable else ". Retrying will not help."
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class AuthenticationError(ServiceError):
    """Credentials, signature or account permission were rejected."""


class ClockSkewError(AuthenticationError):
    """The request time was outside the service's window: the local clock is off."""


class InvalidRequestError(ServiceError):
    """The service rejected the parameters."""


class NotFoundError(ServiceError):
    """An appkey, phone number or other resource is unknown, unbound or belongs to someone else."""


class BillingError(ServiceError):
    """The account cannot be charged: no balance, no pricing, deduction failed."""


class ThrottledError(ServiceError):
    """The service asked the client to slow down."""


class ServiceUnavailableError(ServiceError):
    """The service failed on its side; the same request may succeed later."""


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
            service="NxCloud",
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
        service="NxCloud",
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
        service="Alibaba Cloud CAMS",
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
    from email.utils import parsedate_to_datetime

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
