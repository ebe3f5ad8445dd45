"""Each NxCloud operation, described once: where it is sent, how its body is built and checked, how
its answer is read and whether it is charged, as values of
:class:`~airflow_provider_wa_phones.operations.base.Operation`. No I/O: the sync and the async
hook send what an operation's ``request`` builds and hand the answer to its ``read``. The
service's calendar and retention rules live here too.

Each ``*_body`` function checks its arguments and returns the JSON body of one request, so a bad
argument fails before anything is signed or sent.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from airflow_provider_wa_phones import checks, redact
from airflow_provider_wa_phones.checks import shorten
from airflow_provider_wa_phones.exceptions import MalformedResponseError, ParameterError
from airflow_provider_wa_phones.operations.answers import load_json, no_envelope_error
from airflow_provider_wa_phones.operations.base import Answer, Operation, Request, Target
from airflow_provider_wa_phones.phones import country_of, normalize_phone, normalize_phones
from airflow_provider_wa_phones.services import NXCLOUD

if TYPE_CHECKING:
    from airflow_provider_wa_phones.contacts import ContactList

DEFAULT_HOST = "https://api2.nxcloud.com"
CHECK_LEVELS = (1, 4, 5)
MAX_PAGE_SIZE = 100
MAX_PAGE = 2**31 - 1
MAX_BATCH_NO = 64
RETENTION_DAYS = 14


# --- the service's calendar ---------------------------------------------------------------------------

#: NxCloud pushes results 10 s to 5 minutes after a submit; a lookup may conclude "never taken" only
#: once the latest possible submit is older than this.
RESULT_DEADLINE = 300.0
#: NxCloud is run in UTC+8; no page says whether the query's ``date`` is that day or the UTC one.
SERVICE_TIMEZONE = dt.timezone(dt.timedelta(hours=8))
CALENDARS = (dt.timezone.utc, SERVICE_TIMEZONE)
#: Clocks differ: a submit this close to midnight may be filed under the day before or after.
MIDNIGHT_SLACK = dt.timedelta(minutes=5)


def filing_dates(since: dt.datetime, until: dt.datetime | None = None) -> list[str]:
    """Every day (``yyyy-MM-dd``, oldest first) a submit made between ``since`` and ``until`` (default:
    the same instant) may be filed under, in either calendar, within the 14 days the service keeps."""
    until = until or since
    low, high = since - MIDNIGHT_SLACK, until + MIDNIGHT_SLACK
    now = dt.datetime.now(dt.timezone.utc)
    earliest = (now - dt.timedelta(days=RETENTION_DAYS)).date()
    days: set[dt.date] = set()
    for zone in CALENDARS:
        day, last = low.astimezone(zone).date(), high.astimezone(zone).date()
        while day <= last:
            if day >= earliest:
                days.add(day)
            day += dt.timedelta(days=1)
    return [day.isoformat() for day in sorted(days)]


def submit_dates(submitted_at: dt.datetime) -> list[str]:
    """The days a submit made at ``submitted_at`` may be filed under: either calendar, allowing for
    clocks near midnight and for results filed when they arrive (up to 5 minutes later)."""
    return filing_dates(submitted_at, submitted_at + dt.timedelta(seconds=RESULT_DEADLINE))


R = TypeVar("R")
#: What every NxCloud request builder prepares: the JSON body of one call.
Body = dict[str, Any]


@dataclass(frozen=True)
class NxCloudOperation(Operation[Body, R]):
    """One NxCloud endpoint: its path, the common-header values that select it (``bizType``,
    ``action``), how its ``data`` is read and whether it costs money (``charged``: never sent
    twice blindly)."""

    name: str
    path: str
    biz_type: str
    action: str
    parse: Callable[[Any], R]
    charged: bool = False

    def request(self, target: Target, prepared: Body) -> Request:
        """A ``POST`` of ``prepared`` (built by a ``*_body`` function) to the operation's path,
        unsigned: the connection's :class:`~airflow_provider_wa_phones.auth.NxCloudAuth` signs each
        attempt afresh over these exact bytes."""
        headers = {"Content-Type": "application/json", "bizType": self.biz_type, "action": self.action}
        return Request("POST", target.base_url + self.path, headers, encode_body(prepared))

    def read(self, target: Target, answer: Answer) -> R:
        """The answer's parsed ``data``, or the typed error it stands for."""
        data = parse_envelope(
            self,
            answer.status,
            answer.content,
            target.secrets,
            answer.headers.get("Date"),
            base_url=target.base_url,
            retry_after=answer.headers.get("Retry-After"),
        )
        return self.parse(data)


@dataclass(frozen=True)
class SubmitBatch:
    """The part of a number-check submit that goes to the service in one call (one country)."""

    country: str
    phones: list[str]
    body: dict[str, Any]


def encode_body(body: dict[str, Any]) -> bytes:
    """Serialise a request body once; these exact bytes are signed and sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_APPKEY = re.compile(r"\S{1,128}")  # no whitespace anywhere (clean text: no control characters)
_VISIBLE = re.compile(r"\S+")
_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")  # with a host: "https:///cb" has none
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_appkey(appkey: Any) -> str:
    """Return ``appkey`` if it can be an NxCloud appkey, else raise :class:`ParameterError`."""
    if not isinstance(appkey, str) or not _APPKEY.fullmatch(appkey) or not checks.is_clean_text(appkey):
        raise ParameterError(
            "appkey",
            "required: a non-empty string without spaces (pass appkey= or set the connection's appkey field)"
            + (f", got {checks.quoted(appkey)}" if appkey is not None else ""),
        )
    return appkey


def get_phone_body(appkey: str, phones: str | Iterable[str] | None) -> dict[str, Any]:
    """Body of ``getPhone``; no phones (None, "" or an empty list) means every number of the application."""
    body: dict[str, Any] = {"appkey": check_appkey(appkey), "messaging_product": "whatsapp"}
    if not _means_all(phones):
        body["business_phones"] = ",".join(normalize_phones(phones))
    return body


def _means_all(phones: Any) -> bool:
    return phones is None or (isinstance(phones, (str, list, tuple)) and len(phones) == 0)


def phone_list_body(appkey: str) -> dict[str, Any]:
    """Body of the integrator ``phoneList``."""
    return {"appkey": check_appkey(appkey)}


#: The most numbers one submit request carries unless told otherwise. No public page gives a limit;
#: 10,000 numbers make a body of about 140 KB, small for any gateway, and a lost answer then leaves
#: at most that many numbers in doubt. A choice, configurable per call (``max_numbers_per_request``).
DEFAULT_NUMBERS_PER_REQUEST = 10_000
#: The bounds of ``max_numbers_per_request``.
NUMBERS_PER_REQUEST_RANGE = (1, 100_000)


class SubmitPlan(Sequence[SubmitBatch]):
    """Every request of one number-check submit, built one at a time when asked for: a million
    numbers stay in their compact form (:class:`~airflow_provider_wa_phones.contacts.ContactList`)
    until their chunk is sent.

    Each country's numbers are cut into chunks of at most ``max_numbers_per_request``. Batch
    numbers: the given ``batch_no`` when there is one request; otherwise ``<batch_no>-<country>``
    when the countries differ and ``-<k>`` (1, 2, ...) when a country has several chunks. The same
    input gives the same chunks and numbers on every try, so a task retry recognises them.
    """

    def __init__(
        self,
        groups: Mapping[str, Sequence[Any]],
        fields: dict[str, Any],
        batch_no: str | None,
        max_numbers_per_request: int,
    ) -> None:
        self._groups = groups
        self._fields = fields
        #: (country, start, stop, batch number) of each request.
        self._chunks: list[tuple[str, int, int, str | None]] = []
        for country, members in groups.items():
            count = -(-len(members) // max_numbers_per_request)
            for k in range(count):
                start = k * max_numbers_per_request
                stop = min(start + max_numbers_per_request, len(members))
                self._chunks.append((country, start, stop, None))
        several_countries = len(groups) > 1
        if batch_no is not None:
            for index, (country, start, stop, _) in enumerate(self._chunks):
                number = batch_no
                if several_countries:
                    number += f"-{country.lstrip('+')}"
                if len(groups[country]) > max_numbers_per_request:
                    number += f"-{start // max_numbers_per_request + 1}"
                if len(number) > MAX_BATCH_NO:
                    raise ParameterError(
                        "batch_no",
                        f"must be at most {MAX_BATCH_NO} characters including the country suffix "
                        f"and chunk number added per request ({number!r} is {len(number)})",
                    )
                self._chunks[index] = (country, start, stop, number)

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, index: int) -> SubmitBatch: ...

    @overload
    def __getitem__(self, index: slice) -> list[SubmitBatch]: ...

    def __getitem__(self, index: int | slice) -> SubmitBatch | list[SubmitBatch]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        country, start, stop, number = self._chunks[index]
        phones = [str(phone) for phone in self._groups[country][start:stop]]
        body: dict[str, Any] = {"appkey": self._fields["appkey"], "phone": ",".join(phones)}
        body["checkLevel"] = self._fields["checkLevel"]
        if number is not None:
            body["batchNo"] = number
        if "drUrl" in self._fields:
            body["drUrl"] = self._fields["drUrl"]
        return SubmitBatch(country=country, phones=phones, body=body)

    def batch_no(self, index: int) -> str | None:
        """The batch number of request ``index``, without building it."""
        return self._chunks[index][3]

    def phone_count(self, index: int) -> int:
        """How many numbers request ``index`` carries, without building it."""
        _, start, stop, _ = self._chunks[index]
        return stop - start


def submit_batches(
    appkey: str,
    phones: str | Iterable[str] | ContactList,
    batch_no: str | None = None,
    check_level: int | str = 1,
    dr_url: str | None = None,
    max_numbers_per_request: int | str = DEFAULT_NUMBERS_PER_REQUEST,
) -> SubmitPlan:
    """Split a number-check submit into requests: one country each, as the service requires, and at
    most ``max_numbers_per_request`` numbers each (see :class:`SubmitPlan` for the batch numbers).

    ``phones``: a list or a comma-separated string (normalised here; their order is kept), or a
    :class:`~airflow_provider_wa_phones.contacts.ContactList` read from a file (sorted per country).
    """
    appkey = check_appkey(appkey)
    level = checks.whole_number("check_level", check_level, 1)
    if level not in CHECK_LEVELS:
        raise ParameterError(
            "check_level", f"must be one of 1 (basic), 4 (call) or 5 (HLR), got {checks.quoted(level)}"
        )
    per_request = checks.whole_number(
        "max_numbers_per_request", max_numbers_per_request, *NUMBERS_PER_REQUEST_RANGE
    )
    if batch_no is not None:
        checks.text("batch_no", batch_no, max_length=MAX_BATCH_NO, rule="a non-empty string")
    if dr_url is not None:
        checks.text("dr_url", dr_url, max_length=2048, pattern=_URL, rule="an http(s) URL")
    # light DAG parsing: sensors import this module at parse time; a contact list exists only in a task
    from airflow_provider_wa_phones.contacts import ContactList

    groups: Mapping[str, Sequence[Any]]
    if isinstance(phones, ContactList):
        groups = {country: numbers for country, numbers in phones.numbers.items() if len(numbers)}
        if not groups:
            raise ParameterError("phones", "at least one phone number is required")
    else:
        grouped: dict[str, list[str]] = {}
        for phone in normalize_phones(phones):
            grouped.setdefault(country_of(phone), []).append(phone)
        groups = grouped
    fields: dict[str, Any] = {"appkey": appkey, "checkLevel": level}
    if dr_url is not None:
        fields["drUrl"] = dr_url
    return SubmitPlan(groups, fields, batch_no, per_request)


def check_date(value: Any, today: dt.date | None = None) -> str:
    """Return ``value`` as ``yyyy-MM-dd`` if it lies within the service's 14-day retention."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ParameterError("date", f"{value!r} is not a calendar date (yyyy-MM-dd)") from None
    else:
        raise ParameterError("date", f"must be a date in the form yyyy-MM-dd, got {checks.quoted(value)}")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    # The service keeps 14 days; one day of slack ahead covers its UTC+8 calendar.
    earliest, latest = today - dt.timedelta(days=RETENTION_DAYS), today + dt.timedelta(days=1)
    if not earliest <= day <= latest:
        raise ParameterError(
            "date",
            f"{day.isoformat()} is outside the {RETENTION_DAYS}-day window the service keeps "
            f"({earliest.isoformat()} to {latest.isoformat()})",
        )
    return day.isoformat()


def query_body(
    date: Any,
    batch_no: str | None = None,
    message_id: str | None = None,
    phone: str | None = None,
    appkey: str | None = None,
    page: int | str = 1,
    page_size: int | str = MAX_PAGE_SIZE,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Body of one number-check query page."""
    if checks.absent(batch_no) and checks.absent(message_id):
        raise ParameterError("batch_no", "batch_no or message_id is required (the service needs one)")
    body: dict[str, Any] = {
        "page": checks.whole_number("page", page, 1),
        "pageSize": checks.whole_number("page_size", page_size, 1, MAX_PAGE_SIZE),
        "date": check_date(date, today),
    }
    if body["page"] > MAX_PAGE:  # the service's page is a 32-bit number
        raise ParameterError("page", f"must be at most {MAX_PAGE}, got {checks.quoted(body['page'])}")
    if not checks.absent(batch_no):
        body["batchNo"] = checks.text(
            "batch_no", batch_no, max_length=MAX_BATCH_NO, rule="a non-empty string"
        )
    if not checks.absent(message_id):
        body["messageId"] = checks.text(
            "message_id", message_id, max_length=64, pattern=_VISIBLE, rule="a messageId without spaces"
        )
    if not checks.absent(phone):
        body["phone"] = normalize_phone(phone, "phone")  # type: ignore[arg-type]  # checked there
    if appkey is not None:
        body["appkey"] = check_appkey(appkey)
    return body


def parse_envelope(
    operation: NxCloudOperation[Any],
    http_status: int,
    content: bytes,
    scrub: tuple[str, ...] = (),
    server_date: str | None = None,
    *,
    base_url: str = DEFAULT_HOST,
    retry_after: str | None = None,
) -> Any:
    """Return the ``data`` of a successful answer or raise the typed error it stands for.

    A documented ``code`` decides whatever the HTTP status (no page says which status comes with an
    error). ``scrub`` lists secrets to blank out of any text taken from the answer; ``server_date``
    (the answer's ``Date`` header) lets a clock-skew error say how far off this machine's clock is;
    ``retry_after`` is the answer's ``Retry-After`` header.
    """
    # light DAG parsing: sensors read this module at parse time; the code table loads with an error
    from airflow_provider_wa_phones.codes import NXCLOUD_CODES, clock_skew_note, is_clock_skew, nxcloud_error

    envelope = load_json(content)
    if not isinstance(envelope, dict) or "code" not in envelope:
        raise no_envelope_error(
            NXCLOUD.name,
            operation.name,
            http_status,
            content,
            base_url=base_url,
            scrub=scrub,
            retry_after=retry_after,
        )
    code = envelope.get("code")
    if code == 0 and not isinstance(code, bool):
        return envelope.get("data")
    # The service's words, scrubbed and cut short: a message of a megabyte stays a line.
    message = redact.quote(str(envelope.get("message") or envelope.get("msg") or ""), scrub)
    if not isinstance(code, int) or isinstance(code, bool):
        shown = redact.quote(repr(code), scrub, 80)
        raise MalformedResponseError(
            f"NxCloud {operation.name} answered a code that is not a number: {shown}"
        )
    note = clock_skew_note(server_date, time.time()) if is_clock_skew(NXCLOUD_CODES.get(code)) else None
    raise nxcloud_error(operation.name, code, message, http_status=http_status, note=note)


def _malformed(operation: str, what: str) -> MalformedResponseError:
    return MalformedResponseError(f"NxCloud {operation} answered data of an undocumented shape: {what}")


def _objects(operation: str, items: Any, what: str) -> list[dict[str, Any]]:
    """``items`` as a list of JSON objects, or a MalformedResponseError naming ``what``."""
    if not isinstance(items, list):
        raise _malformed(operation, f"{what} is a {type(items).__name__}, not a list")
    for item in items:
        if not isinstance(item, dict):
            raise _malformed(operation, f"an item of {what} is a {type(item).__name__}, not an object")
    return items


def flatten_phone_info(data: Any) -> list[dict[str, Any]]:
    """Return ``getPhone`` records from either documented shape.

    The field table says ``data.business_phones`` is a list; the example keys ``data`` by phone
    number, each holding a one-element list. Records from the keyed shape get that key as
    ``business_phone``, since the record itself may show the number only masked or formatted.
    """
    if not data:
        return []
    if not isinstance(data, dict):
        raise _malformed("getPhone", f"data is a {type(data).__name__}, not an object")
    if "business_phones" in data:
        return [dict(item) for item in _objects("getPhone", data["business_phones"], "business_phones")]
    records = []
    for phone, items in data.items():
        listed = items if isinstance(items, list) else [items]
        for item in _objects("getPhone", listed, f"the records of {shorten(phone, 40)}"):
            records.append({**item, "business_phone": phone})
    return records


def parse_phone_list(data: Any) -> list[dict[str, Any]]:
    """Return the integrator ``phoneList`` records (``data`` is a list of objects)."""
    if data is None:
        return []
    return [dict(item) for item in _objects("phoneList", data, "data")]


def parse_query_page(data: Any) -> dict[str, Any]:
    """Return one number-check query page with ``result`` (objects), ``totalPage`` and ``totalSize``
    as whole numbers; an absent or empty ``data`` is an empty page."""
    if data is None or data == {}:
        data = {}
    if not isinstance(data, dict):
        raise _malformed("numberCheckQuery", f"data is a {type(data).__name__}, not an object")
    page = dict(data)
    page["result"] = _objects("numberCheckQuery", data.get("result") or [], "result")
    for name in ("totalPage", "totalSize"):
        value = data.get(name) or 0
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
            raise _malformed(
                "numberCheckQuery", f"{name} is {redact.quote(repr(value), (), 40)}, not a whole number"
            )
        page[name] = int(value)
    return page


def parse_submit(data: Any) -> tuple[str | None, str]:
    """Return ``(batchNo, messageId)`` of an accepted submit."""
    if not isinstance(data, dict):
        raise _malformed("numberCheck", f"data is a {type(data).__name__}, not an object")
    message_id, batch_no = data.get("messageId"), data.get("batchNo")
    if not isinstance(message_id, str) or not message_id:
        raise _malformed("numberCheck", f"messageId is {redact.quote(repr(message_id), (), 40)}")
    if batch_no is not None and not isinstance(batch_no, str):
        raise _malformed("numberCheck", f"batchNo is {redact.quote(repr(batch_no), (), 40)}")
    return batch_no or None, message_id


GET_PHONE = NxCloudOperation("getPhone", "/api/wa/getPhone", "2", "getPhone", flatten_phone_info)
PHONE_LIST = NxCloudOperation(
    "phoneList", "/api/wa/integrator/embedded/register/phoneList", "2", "phoneList", parse_phone_list
)
NUMBER_CHECK = NxCloudOperation(
    "numberCheck", "/api/number/check", "1", "numbercheck", parse_submit, charged=True
)
NUMBER_CHECK_QUERY = NxCloudOperation(
    "numberCheckQuery", "/api/number/query", "1", "numbercheck", parse_query_page
)
