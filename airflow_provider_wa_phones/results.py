"""Reading number-check results: which days to look under, which records count, paging that loses
and doubles nothing. No I/O here: the sync hook and the async hook drive the same walk.

NxCloud leaves three things open, and each is handled every possible way:

- the calendar of the query's ``date`` (UTC, or UTC+8 where the service is run): a batch is looked
  for under every day it may be filed under
  (:func:`airflow_provider_wa_phones.operations.nxcloud.filing_dates`);
- record identity: several phones of one submit may share a ``messageId`` (the service's own
  example shows two), so a record is ``(messageId, phone)``;
- a reused ``batchNo``: only records whose ``messageId`` belongs to *this* submit count.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.checks import quoted
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.operations import nxcloud as api

#: A page boundary that moved while paging (results arriving, a service sorting differently) can
#: hide a record; the walk reads the pages again when it saw fewer records than the service counts.
MAX_PASSES = 3


# A submit's id is a 32-character hex uuid (the wiki), perhaps written with dashes (its callback
# examples); a record of a several-number submit carries "<id>-<digits>".
_SUBMIT_ID = re.compile(
    r"(?P<id>[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?:-\d+)?"
)


def submit_id_of(message_id: str) -> str:
    """The id of the submit a record's ``messageId`` belongs to, in one spelling (no dashes, lower case)."""
    match = _SUBMIT_ID.fullmatch(message_id)
    if match:
        return match["id"].replace("-", "").lower()
    head, _, tail = message_id.rpartition("-")
    return head if head and tail.isdigit() else message_id


def belongs_to(record: Any, submit_id: str | None) -> bool:
    """Whether a result record comes from the submit ``submit_id`` (every record does when None)."""
    if submit_id is None:
        return True
    message_id = record.get("messageId") if isinstance(record, dict) else None
    return isinstance(message_id, str) and submit_id_of(message_id) == submit_id_of(submit_id)


def record_key(record: dict[str, Any]) -> tuple[str, str]:
    """What identifies a result record: several phones of one submit may share a messageId (the
    service's own example shows two), so it takes the phone too."""
    return (str(record.get("messageId")), str(record.get("phone")))


@dataclass
class ResultWalk:
    """Reads every record of one number-check query, under each of ``dates``, page by page.

    Drive it with :meth:`next_bodies` (the query bodies that can be sent now, at once; none when
    done) and :meth:`take` (each parsed page that came back, in the order of the bodies; returns
    the new records to keep). First pages of every date come first; the first page of a date
    tells how many pages follow, and those may then be read together. With ``stop_below`` the
    walk ends once the service's totals show fewer than that many records exist (a sensor that
    only needs to know "not yet" reads one page per date).
    """

    base: dict[str, Any]
    dates: list[str]
    submit_id: str | None = None
    stop_below: int | None = None
    kept: int = 0
    partial: bool = False
    passes: int = 1
    _queue: deque[tuple[str, int]] = field(default_factory=deque)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _totals: dict[str, int] = field(default_factory=dict)
    _first_pages_left: int = 0
    _outstanding: deque[tuple[str, int]] = field(default_factory=deque)
    _queued_to: dict[str, int] = field(default_factory=dict)
    _done: bool = False

    def __post_init__(self) -> None:
        self.dates = list(dict.fromkeys(self.dates))
        self._start_pass()

    def _start_pass(self) -> None:
        self._queue = deque((date, 1) for date in self.dates)
        self._queued_to = dict.fromkeys(self.dates, 1)
        self._totals = {}
        self._first_pages_left = len(self.dates)

    def next_body(self) -> dict[str, Any] | None:
        """The next query body to send, or None when every record has been read."""
        bodies = self.next_bodies(1)
        return bodies[0] if bodies else None

    def next_bodies(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` query bodies that can be sent now (all of them may be in flight at once);
        empty when every record has been read."""
        bodies: list[dict[str, Any]] = []
        while not self._done and self._queue and len(bodies) < limit:
            date, page = self._queue.popleft()
            self._outstanding.append((date, page))
            bodies.append({**self.base, "date": date, "page": page})
        return bodies

    @property
    def counted(self) -> int:
        """How many records the service says there are, on the pages read so far."""
        return sum(self._totals.values())

    def take(self, page: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Take the answer to the last body (a page parsed by ``operations.nxcloud.parse_query_page``)."""
        if not self._outstanding:
            raise RuntimeError("take() without a body from next_bodies()")
        date, number = self._outstanding.popleft()
        new = []
        for record in page["result"]:
            key = record_key(record)
            if key in self._seen:
                continue
            self._seen.add(key)
            if belongs_to(record, self.submit_id):
                new.append(record)
        self.kept += len(new)
        self._totals[date] = max(self._totals.get(date, 0), page["totalSize"])
        # The pages a page shows to exist are queued at once (results that arrive meanwhile may add
        # pages: later pages extend the queue).
        if page["result"] and page["totalPage"] > self._queued_to.get(date, 0):
            self._queue.extend(
                (date, later) for later in range(self._queued_to[date] + 1, page["totalPage"] + 1)
            )
            self._queued_to[date] = page["totalPage"]
        if number == 1:
            self._first_pages_left -= 1
            short = self.stop_below is not None and sum(self._totals.values()) < self.stop_below
            if self._first_pages_left == 0 and short:
                self.partial = bool(self._queue)
                self._done = True
        if not self._queue and not self._outstanding and not self._done:
            self._end_pass()
        return new

    def _end_pass(self) -> None:
        if len(self._seen) >= sum(self._totals.values()) or self.passes >= MAX_PASSES:
            self._done = True
            return
        self.passes += 1
        self._start_pass()


@dataclass(frozen=True)
class Batch:
    """One number-check batch to read, as :class:`NxCloudNumberCheckOperator` returns it.

    ``dates``: the days it may be filed under; ``submit_id``: the submit's ``messageId``, whose
    records alone count (None reads every record of the batch number, e.g. a batch given by hand).
    """

    dates: tuple[str, ...]
    batch_no: str | None = None
    submit_id: str | None = None
    message_id: str | None = None
    expected: int = 1

    @classmethod
    def from_entry(cls, entry: Any, param: str, expected: int | None = None) -> Batch:
        """A :class:`Batch` from one entry of :meth:`NxCloudHook.submit_number_check` (or a dict a user
        wrote with ``date`` and ``batch_no`` or ``message_id``); raises ParameterError naming ``param``."""
        if not isinstance(entry, Mapping):
            raise ParameterError(
                param,
                f"must be an entry returned by NxCloudNumberCheckOperator (a dict), got {quoted(entry)}",
            )
        dates = entry.get("dates")
        if dates is None:
            dates = [entry.get("date")]
        if not isinstance(dates, (list, tuple)) or not 0 < len(dates) <= 30:
            raise ParameterError(
                param, f"dates must be a non-empty list of yyyy-MM-dd days, got {quoted(dates)}"
            )
        try:
            checked = tuple(api.check_date(date) for date in dates)
        except ParameterError as exc:
            raise ParameterError(param, f"{exc.param}: {exc.rule}") from None
        batch_no, message_id = entry.get("batch_no"), entry.get("message_id")
        # An entry is data, not a rendered template: an empty batch_no is refused, not read as "none".
        # An empty message_id is what a submit that got no id back leaves: the batch_no is enough.
        message_id = None if checks.absent(message_id) else message_id
        if batch_no is None and message_id is None:
            raise ParameterError(
                param, "batch_no: batch_no or message_id is required (the service needs one)"
            )
        for name, value, limit in (("batch_no", batch_no, api.MAX_BATCH_NO), ("message_id", message_id, 64)):
            if value is not None:
                try:
                    checks.text(name, value, max_length=limit, rule="a non-empty string")
                except ParameterError as exc:
                    raise ParameterError(param, f"{name}: {exc.rule}") from None
        return cls(
            dates=checked,
            batch_no=batch_no,
            # By batch number, the submit's id tells its records from other submits' under that number;
            # without one, the service's exact messageId search is all there is.
            submit_id=message_id if batch_no else None,
            message_id=None if batch_no else message_id,
            expected=expected if expected is not None else 1,
        )

    @classmethod
    def of(cls, value: Any, param: str = "batch", *, counted: bool = False) -> Batch:
        """``value`` as a :class:`Batch`: one already, or one entry of
        :meth:`NxCloudHook.submit_number_check` (checked by :meth:`from_entry`). With ``counted``,
        the entry's ``phone_count`` (required) is how many records finish it."""
        if isinstance(value, Batch):
            return value
        expected = None
        if counted and isinstance(value, Mapping):
            expected = expected_count(value.get("phone_count"), param)
        return cls.from_entry(value, param, expected)

    def as_kwargs(self) -> dict[str, Any]:
        """Plain data for a trigger's kwargs; ``Batch(**as_kwargs())`` gives it back."""
        return {**self.__dict__, "dates": list(self.dates)}

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, Any]) -> Batch:
        """A batch from a trigger's kwargs, also those a trigger of version 0.1 stored (one ``date``,
        no ``submit_id``): a triggerer restarted on a new version resumes the waits of the old one."""
        if not isinstance(kwargs, Mapping):
            raise ParameterError("batches", f"each batch must be a dict, got {quoted(kwargs)}")
        entry = {
            "dates": kwargs.get("dates"),
            "date": kwargs.get("date"),
            "batch_no": kwargs.get("batch_no"),
            "message_id": kwargs.get("submit_id") or kwargs.get("message_id"),
        }
        try:
            expected = expected_count(kwargs.get("expected", 1), "expected")
        except ParameterError as exc:
            raise ParameterError("batches", f"expected: {exc.rule}") from None
        batch = cls.from_entry(entry, "batches", expected)
        # A batch given by hand (no submit id) reads its message_id exactly, as the sensor does.
        if kwargs.get("batch_no") and not kwargs.get("submit_id"):
            return replace(batch, submit_id=None, message_id=None)
        return batch

    def query_base(self, appkey: str | None, phone: str | None, page_size: int) -> dict[str, Any]:
        """The query body without ``date`` and ``page``, checked (raises ParameterError)."""
        body = api.query_body(self.dates[0], self.batch_no, self.message_id, phone, appkey, 1, page_size)
        for date in self.dates[1:]:
            api.check_date(date)
        body.pop("date")
        body.pop("page")
        return body

    def walk(
        self,
        appkey: str | None = None,
        phone: str | None = None,
        page_size: int = api.MAX_PAGE_SIZE,
        stop_below: int | None = None,
    ) -> ResultWalk:
        """A walk over this batch's records (arguments are checked now)."""
        return ResultWalk(
            self.query_base(appkey, phone, page_size),
            list(self.dates),
            submit_id=self.submit_id,
            stop_below=stop_below,
        )


#: The most entries a ``batches`` argument may hold (a submit makes one per country).
MAX_BATCHES = 1000
BATCHES_RULE = "must be the non-empty list returned by NxCloudNumberCheckOperator"


def batch_entries(value: Any, param: str = "batches", *, one: bool = True) -> list[Mapping[str, Any]]:
    """The entries of a ``batches`` argument (what NxCloudNumberCheckOperator returns: a list of
    dicts, or with ``one`` a single dict), or ParameterError naming ``param``. The one place this
    shape is checked: the results operator, the sensor and the trigger (a list only: the sensor
    always hands it one) all read ``batches`` through it."""
    if one and isinstance(value, Mapping):
        value = [value]
    if (
        not isinstance(value, list)
        or not 0 < len(value) <= MAX_BATCHES
        or not all(isinstance(entry, Mapping) for entry in value)
    ):
        raise ParameterError(param, f"{BATCHES_RULE} (at most {MAX_BATCHES} dicts), got {quoted(value)}")
    return value


def batches_of(value: Any, param: str = "batches", *, counted: bool = False) -> list[Batch]:
    """Every entry of a ``batches`` argument as a :class:`Batch`, all checked before any is read."""
    return [Batch.of(entry, param, counted=counted) for entry in batch_entries(value, param)]


def expected_count(value: Any, param: str) -> int:
    """How many records finish a batch: a whole number from 1 to ``checks.MAX_EXPECTED_COUNT`` (an
    empty batch would be "finished" at once)."""
    try:
        return checks.whole_number(param, value, 1, checks.MAX_EXPECTED_COUNT)
    except ParameterError:
        raise ParameterError(
            param,
            "the number of records to wait for must be a whole number >= 1, got "
            f"{quoted(value)} (the most is {checks.MAX_EXPECTED_COUNT:,})",
        ) from None


def submits_in(records: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The submits a batch's records come from: submit id -> the phones of its records."""
    found: dict[str, set[str]] = {}
    for record in records:
        message_id = record.get("messageId")
        if isinstance(message_id, str) and message_id:
            found.setdefault(submit_id_of(message_id), set()).add(str(record.get("phone") or ""))
    return found


#: Seconds between two progress lines of a long read.
PROGRESS_EVERY = 15.0


class ReadProgress:
    """Log lines about a long read of result pages: pages and records so far, the rate, and how
    long the rest should take (from the service's count). Quiet for reads shorter than
    :data:`PROGRESS_EVERY` seconds."""

    def __init__(self, log: Any, walk: ResultWalk) -> None:

        self._clock = time.monotonic
        self.log, self.walk = log, walk
        self.started = self.last = self._clock()
        self.pages = self.records = 0

    def page(self, records: int) -> None:
        """One page was read, with ``records`` new records."""
        self.pages += 1
        self.records += records
        now = self._clock()
        if now - self.last >= PROGRESS_EVERY:
            self.last = now
            elapsed = now - self.started
            rate = self.records / elapsed if elapsed > 0 else 0.0
            left = max(self.walk.counted - self.walk.kept, 0)
            eta = f"about {_duration(left / rate)} left" if rate > 0 and left else "finishing"
            self.log.info(
                "Read %d pages, %d records in %s (%.0f records/s); %s",
                self.pages,
                self.records,
                _duration(elapsed),
                rate,
                eta,
            )

    def done(self) -> None:
        elapsed = self._clock() - self.started
        if elapsed >= PROGRESS_EVERY:
            self.log.info("Read %d records in %d pages, %s", self.records, self.pages, _duration(elapsed))


def _duration(elapsed: float) -> str:
    seconds = round(elapsed)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
