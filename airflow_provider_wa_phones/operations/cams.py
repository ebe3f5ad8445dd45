"""Each Alibaba Cloud CAMS operation, described once: its action, how its parameters are built and
checked, how its answer is read, as :class:`~airflow_provider_wa_phones.operations.base.Operation`
values. No I/O: the sync and the async hook send what an operation's ``request`` builds and hand
the answer to its ``read``.

Both operations are RPC calls of API version 2020-06-06: ``POST /`` with every parameter in the
query string and an empty body; both only read, so they may always be sent again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_wa_phones import checks, redact, signing
from airflow_provider_wa_phones.codes import CAMS_CODES, cams_error, clock_skew_note, is_clock_skew
from airflow_provider_wa_phones.exceptions import MalformedResponseError, ParameterError
from airflow_provider_wa_phones.operations.answers import (
    MAX_RETRY_HINT,
    capped_hint,
    load_json,
    no_envelope_error,
    retry_after_seconds,
)
from airflow_provider_wa_phones.operations.base import Answer, Operation, Request, Target
from airflow_provider_wa_phones.phones import normalize_phone
from airflow_provider_wa_phones.services import CAMS

VERSION = "2020-06-06"
DEFAULT_REGION = "ap-southeast-1"
QUERY_PHONE_NUMBERS = "QueryChatappPhoneNumbers"
QUERY_BUSINESS_PROFILE = "QueryPhoneBusinessProfile"

#: Every phone status Alibaba's pages document (they disagree with each other, so all are kept).
STATUSES = frozenset(
    {
        "CONNECTED", "PENDING", "FLAGGED", "RATE_LIMITED", "RESTRICTED", "BANNED", "DELETED",
        "MIGRATED", "DISCONNECTED", "UNVERIFIED", "UNKNOWN", "OFFLINE", "PAUSED",
    }
)  # fmt: skip

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+")


def endpoint_for(region: str) -> str:
    """The public CAMS endpoint of a region."""
    return f"https://cams.{region}.aliyuncs.com"


def check_region(region: Any) -> str:
    """Return ``region`` if it looks like an Alibaba Cloud region id (``ap-southeast-1``)."""
    if not isinstance(region, str) or len(region) > 64 or not _REGION.fullmatch(region):
        raise ParameterError(
            "region", f"must be a region id such as ap-southeast-1, got {checks.quoted(region)}"
        )
    return region


def check_cust_space_id(value: Any, required: bool) -> str | None:
    """Return a valid ``CustSpaceId``, None when optional and absent, else raise."""
    if checks.absent(value):
        if required:
            raise ParameterError(
                "cust_space_id", "required: pass cust_space_id= or set the connection's cust_space_id field"
            )
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ParameterError(
            "cust_space_id",
            f"must be a space id (letters, digits, '-', '_', '.'), got {checks.quoted(value)}",
        )
    return value


def phone_numbers_params(
    cust_space_id: str | None = None, isv_code: str | None = None, status: str | None = None
) -> dict[str, str]:
    """Parameters of ``QueryChatappPhoneNumbers``; ``status`` is matched case-insensitively."""
    params = {}
    space = check_cust_space_id(cust_space_id, required=False)
    if space:
        params["CustSpaceId"] = space
    if not checks.absent(isv_code):
        if not isinstance(isv_code, str) or not _ID.fullmatch(isv_code):
            raise ParameterError(
                "isv_code", f"must be an ISV verification code, got {checks.quoted(isv_code)}"
            )
        params["IsvCode"] = isv_code
    if not checks.absent(status):
        upper = status.upper() if isinstance(status, str) else None
        if upper not in STATUSES:
            raise ParameterError(
                "status", f"must be one of {', '.join(sorted(STATUSES))}, got {checks.quoted(status)}"
            )
        params["Status"] = upper
    return params


def business_profile_params(phone_number: Any, cust_space_id: str | None) -> dict[str, str]:
    """Parameters of ``QueryPhoneBusinessProfile`` (both required)."""
    if checks.absent(phone_number):
        raise ParameterError("phone_number", "required: the sender number whose profile to read")
    space = check_cust_space_id(cust_space_id, required=True)
    return {"CustSpaceId": space or "", "PhoneNumber": normalize_phone(phone_number, "phone_number")}


def parse_response(
    action: str,
    http_status: int,
    content: bytes,
    server_date: str | None = None,
    scrub: tuple[str, ...] = (),
    *,
    endpoint: str = "",
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return a successful answer or raise the typed error it stands for.

    ``Code`` is checked even on HTTP 200: CAMS reports business failures that way. A throttle's
    ``x-acs-retry-after`` header is read as Alibaba's SDKs read it, in milliseconds; a bare 429
    from a gateway may carry a standard ``Retry-After`` in seconds instead.
    """
    headers = headers or {}
    answer = load_json(content)
    if not isinstance(answer, dict) or ("Code" not in answer and http_status != 200):
        raise no_envelope_error(
            CAMS.name,
            action,
            http_status,
            content,
            base_url=endpoint,
            scrub=scrub,
            retry_after=headers.get("Retry-After"),
        )
    code = answer.get("Code")
    if http_status == 200 and code in (None, "OK") and answer.get("Success") is not False:
        return answer
    # The service's words, scrubbed, then cut short (cut first, half a secret could stay).
    code = redact.quote(str(code or f"HTTP {http_status}"), scrub, 120)
    message = redact.quote(str(answer.get("Message") or ""), scrub)
    if is_clock_skew(CAMS_CODES.get(code)):
        message = "; ".join(filter(None, [message, clock_skew_note(server_date, time.time())]))
    error = cams_error(
        action,
        code,
        message,
        http_status=http_status,
        request_id=_text(answer.get("RequestId")),
        recommend=_text(answer.get("Recommend")),
    )
    error.retry_after = retry_after_ms(headers.get("x-acs-retry-after"))
    if error.retry_after is None and http_status == 429:
        error.retry_after = retry_after_seconds(headers.get("Retry-After"))
    raise error


def retry_after_ms(value: str | None) -> float | None:
    """``x-acs-retry-after`` in seconds: Alibaba's SDKs read it as whole milliseconds, positive.

    Anything but ASCII digits counts as absent; a hint past a day is capped (see
    :func:`~airflow_provider_wa_phones.operations.answers.capped_hint`).
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    if len(text) > 15:  # more milliseconds than any clock can wait: read as "very long"
        return MAX_RETRY_HINT
    return capped_hint(int(text) / 1000)


def _text(value: Any) -> str | None:
    return redact.quote(value, (), 200) if isinstance(value, str) and value else None


def phone_numbers(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``PhoneNumbers`` of a ``QueryChatappPhoneNumbers`` answer, each an object."""
    items = answer.get("PhoneNumbers")
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedResponseError(
            f"Alibaba Cloud CAMS {QUERY_PHONE_NUMBERS} answered PhoneNumbers of an undocumented shape: "
            f"{redact.quote(repr(items), (), 80)}"
        )
    return [dict(item) for item in items]


def business_profile(answer: dict[str, Any]) -> dict[str, Any]:
    """The ``Data`` object of a ``QueryPhoneBusinessProfile`` answer."""
    data = answer.get("Data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedResponseError(
            f"Alibaba Cloud CAMS {QUERY_BUSINESS_PROFILE} answered Data of an undocumented shape: "
            f"{redact.quote(repr(data), (), 80)}"
        )
    return dict(data)


R = TypeVar("R")
#: What every CAMS request builder prepares: the query parameters of one call.
Params = Mapping[str, str]


@dataclass(frozen=True)
class CamsOperation(Operation[Params, R]):
    """One CAMS RPC action and how its successful answer is read; both documented actions only
    read, so neither is charged."""

    name: str
    parse: Callable[[dict[str, Any]], R]
    charged: bool = False

    @property
    def action(self) -> str:
        """The RPC action (``x-acs-action``): the operation's name."""
        return self.name

    def request(self, target: Target, prepared: Params) -> Request:
        """``POST /`` with ``prepared`` (built by a ``*_params`` function) as the query, unsigned:
        the connection's :class:`~airflow_provider_wa_phones.auth.CamsAuth` signs each attempt
        afresh. The query is in its canonical form, so what is signed is exactly what is sent."""
        query = signing.acs3_canonical_query(prepared)
        url = f"{target.base_url}/?{query}" if query else f"{target.base_url}/"
        headers = {"x-acs-action": self.name, "x-acs-version": VERSION}
        return Request("POST", url, headers, b"")

    def read(self, target: Target, answer: Answer) -> R:
        """The answer's parsed value, or the typed error it stands for."""
        parsed = parse_response(
            self.name,
            answer.status,
            answer.content,
            answer.headers.get("Date"),
            target.secrets,
            endpoint=target.base_url,
            headers=answer.headers,
        )
        return self.parse(parsed)


PHONE_NUMBERS = CamsOperation(QUERY_PHONE_NUMBERS, phone_numbers)
BUSINESS_PROFILE = CamsOperation(QUERY_BUSINESS_PROFILE, business_profile)
