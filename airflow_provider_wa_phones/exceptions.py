"""The provider's errors under their public import path.

The hierarchy lives in :mod:`airflow_provider_wa_phones.errors`, what each service code means in
:mod:`airflow_provider_wa_phones.codes`; DAG code imports both from here, as the README shows.
"""

from __future__ import annotations

from airflow_provider_wa_phones.codes import (
    CAMS_CODES,
    NXCLOUD_CODES,
    ErrorKind,
    cams_error,
    clock_skew_note,
    is_clock_skew,
    nxcloud_error,
)
from airflow_provider_wa_phones.errors import (
    AnswerTooLargeError,
    AuthenticationError,
    BatchConflictError,
    BillingError,
    ClockSkewError,
    ConnectionConfigError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    ParameterError,
    RedirectError,
    ServiceError,
    ServiceUnavailableError,
    ThrottledError,
    TransportError,
    WaPhonesError,
)

__all__ = [
    "CAMS_CODES",
    "NXCLOUD_CODES",
    "AnswerTooLargeError",
    "AuthenticationError",
    "BatchConflictError",
    "BillingError",
    "ClockSkewError",
    "ConnectionConfigError",
    "ErrorKind",
    "InvalidRequestError",
    "MalformedResponseError",
    "NotFoundError",
    "ParameterError",
    "RedirectError",
    "ServiceError",
    "ServiceUnavailableError",
    "ThrottledError",
    "TransportError",
    "WaPhonesError",
    "cams_error",
    "clock_skew_note",
    "is_clock_skew",
    "nxcloud_error",
]
