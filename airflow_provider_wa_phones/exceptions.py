"""One error hierarchy for both services (the public import path: DAG code imports from here).

Every error says which parameter or which service answer caused it, what to do about it, and
whether retrying the same request can help (``retryable``) or whether the request may have been
acted on although no clear answer came back (``may_have_taken_effect``). No error text ever
contains a credential (:mod:`airflow_provider_wa_phones.redact`). What each service code means is
in :mod:`airflow_provider_wa_phones.codes`, which stands above this module.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Collection
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

    if sys.version_info < (3, 11):
        # Python 3.10's tracebacks (and so the task log) do not print __notes__; 3.11 prints each
        # note on its own line under the message, which this gives the same look.
        def __str__(self) -> str:
            return "\n".join([super().__str__(), *vars(self).get("__notes__", [])])


def add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``, which Python 3.11 brought: on 3.10 the note is appended to
    ``__notes__`` the same way (what structlog's tracebacks and the tests read), and a
    :class:`WaPhonesError` shows its notes in ``str()`` since 3.10's tracebacks would not."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        vars(error).setdefault("__notes__", []).append(note)


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


class RedirectError(MalformedResponseError):
    """The answer was a redirect (HTTP 3xx). Redirects are never followed: the request is signed
    for the connection's host, and following would carry its credentials and signature to another
    address. Not retried (the same URL redirects again): the connection's host must name the
    address the service answers on. ``location`` is where the redirect pointed (scheme and host only).

    ``may_have_taken_effect`` is false for 301, 302, 307 and 308: those answer *instead of*
    processing the request ("it is elsewhere, send it there"), and in front of an API they come from
    a gateway or load balancer that never forwarded it (an http→https or old-host redirect). It is
    true for 303 ("See Other": by definition the answer to a request that was processed, pointing at
    its result) and any other 3xx, whose meaning for a POST is not defined: a charged submit that got
    one is looked up, never sent again blindly.
    """

    def __init__(self, message: str, *, status: int, location: str = ""):
        super().__init__(message, retryable=False, may_have_taken_effect=status not in (301, 302, 307, 308))
        self.status = status
        self.location = location


class AnswerTooLargeError(MalformedResponseError):
    """The answer's body (after gzip/deflate decoding) grew past the hook's ``max_answer_bytes``;
    reading stopped there. Not retried: the same request would fetch the same oversized body again.
    Every documented answer of these services is a few kilobytes to a few hundred (a page of at
    most 100 records), so this is a broken or hostile server, a proxy or a decompression bomb.
    """

    def __init__(self, message: str, *, limit: int, may_have_taken_effect: bool = True):
        super().__init__(message, retryable=False, may_have_taken_effect=may_have_taken_effect)
        self.limit = limit


@dataclass(eq=False, repr=False, kw_only=True)
class ServiceError(WaPhonesError):
    """The service answered and refused the request: its ``code`` and ``message``, what to do about
    it (``remedy``), and the answer's ``request_id`` and ``http_status`` when known."""

    service: str
    operation: str
    code: int | str
    message: str
    remedy: str = ""
    retryable: bool = False
    request_id: str | None = None
    http_status: int | None = None
    #: Seconds the service asked the client to wait before trying again, if it said.
    retry_after: float | None = None
    # A code in the service's own envelope is a refusal: the request was not taken. Only a bare
    # gateway failure (a 5xx without the envelope) leaves that open.
    may_have_taken_effect: bool = False

    def __post_init__(self) -> None:
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


@dataclass(eq=False, repr=False, kw_only=True)
class CredentialsUnavailableError(AuthenticationError):
    """No valid keys: Alibaba Cloud's credential provider of the connection's ``auth_type`` failed
    (STS, the OIDC token file, the ECS metadata service, a credentials URI, the default chain) and
    no earlier keys are still valid. ``auth_type`` and ``identity`` (the role ARN, the URI's host,
    the default chain: never a secret) say which; the next call asks the provider again, so a
    retry works once it answers."""

    auth_type: str = ""
    identity: str = ""


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


class BatchConflictError(WaPhonesError):
    """Several submits share the batch number, and nothing tells which one this task made."""

    def __init__(self, batch_no: str, submit_ids: Collection[str]) -> None:
        self.batch_no = batch_no
        self.submit_ids = sorted(submit_ids)
        super().__init__(
            f"batch_no {batch_no!r} names {len(self.submit_ids)} submits ({', '.join(self.submit_ids)}), "
            "so a retry cannot tell which one an earlier try made: it neither reuses one nor pays for "
            "another. Give each run its own batch_no (the default names the task instance), then "
            "read the earlier results with NxCloudNumberCheckResultsOperator(message_id=...)."
        )


# The code tables lived here too until 0.x; codes.py stands above this module (it builds these
# errors), so the old names are loaded only when an old import asks for them.
_MOVED_TO_CODES = frozenset(
    {
        "CAMS_CODES", "NXCLOUD_CODES", "ErrorKind", "cams_error", "clock_skew_note", "is_clock_skew",
        "nxcloud_error",
    }
)  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_CODES:
        # 0.x import path: codes stands above this module (it builds these errors)
        from airflow_provider_wa_phones import codes

        warnings.warn(
            f"import {name} from airflow_provider_wa_phones.codes; "
            "airflow_provider_wa_phones.exceptions holds the error classes only",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(codes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
