"""The charged-submit policy: a number check is paid per number, so a batch is sent at most once.

- **Retry only a sure refusal.** A submit is sent again only when the service surely did not take
  it: a code in its own envelope, a throttle, a request that never left this machine.
- **Look up, never resend, an answer lost on the way back** (a dropped connection, a gateway 5xx,
  garbage on a 2xx): the batch is looked up for ``lost_response_wait`` seconds, as results appear.
- **Reuse on a task retry.** Before sending, a retry looks every batch up under every day an earlier
  try may have filed it (UTC and UTC+8, across midnight), waiting until that try's results would
  have shown, and reuses each batch found. All the batches share one deadline (``reuse_wait`` from
  the start of the lookups, however many batches there are), and the wait is logged at least every
  :data:`LOG_EVERY` seconds: which batches are still awaited and how long is left.
- **This submit's records only.** A batch is found by its number, then told apart from other
  submits under the same number (a batch number reused by another run) by its ``messageId``.
- **The submit's own error wins.** When the lookup fails too, the submit's error is raised with the
  lookup's as a note.

No HTTP here: the hook passes a function that sends one submit and one that reads a query page.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.checks import shorten
from airflow_provider_wa_phones.exceptions import BatchConflictError, ParameterError, WaPhonesError, add_note
from airflow_provider_wa_phones.operations import nxcloud as api
from airflow_provider_wa_phones.operations.nxcloud import RESULT_DEADLINE, filing_dates, submit_dates
from airflow_provider_wa_phones.results import ResultWalk, submits_in

#: Seconds between two looks while waiting for a batch to show.
LOOKUP_STEP = 2.0
#: A retry waiting for an earlier try's batches says what it waits for at least this often (seconds).
LOG_EVERY = 30.0

#: Reads one number-check query page: takes the query body, returns the parsed page.
QueryPage = Callable[[dict[str, Any]], Mapping[str, Any]]
#: Sends one (charged) submit: takes the body, returns the answer's ``(batchNo, messageId)``.
SendSubmit = Callable[[dict[str, Any]], tuple[str | None, str]]


@dataclass(frozen=True)
class Options:
    """How :func:`submit` treats an earlier try and a lost answer (see the module's policy)."""

    reuse_existing: bool = False
    reuse_since: dt.datetime | None = None
    reuse_wait: float = 0.0
    lost_response_wait: float = 60.0

    @classmethod
    def checked(
        cls, reuse_existing: Any, reuse_since: Any, reuse_wait: Any, lost_response_wait: Any
    ) -> Options:
        """The options of :meth:`NxCloudHook.submit_number_check`, each checked (ParameterError)."""
        options = cls(
            reuse_existing=False if reuse_existing is None else checks.flag("reuse_existing", reuse_existing),
            reuse_wait=checks.seconds("reuse_wait", reuse_wait, high=RESULT_DEADLINE, allow_zero=True),
            lost_response_wait=checks.seconds(
                "lost_response_wait", lost_response_wait, high=3600, allow_zero=True
            ),
        )
        if reuse_since is not None and (
            not isinstance(reuse_since, dt.datetime) or reuse_since.tzinfo is None
        ):
            raise ParameterError(
                "reuse_since", f"must be a timezone-aware datetime, got {shorten(repr(reuse_since))}"
            )
        if reuse_since is not None:
            # Not in the future (a minute of clock skew allowed); before the 14 days the service
            # keeps, nothing can be found: it reads as the start of that window.
            now = dt.datetime.now(dt.timezone.utc)
            if reuse_since > now + dt.timedelta(minutes=1):
                raise ParameterError(
                    "reuse_since", f"must not be in the future, got {shorten(repr(reuse_since))}"
                )
            reuse_since = max(reuse_since, now - dt.timedelta(days=api.RETENTION_DAYS))
        return replace(options, reuse_since=reuse_since)


def submit(
    batches: Sequence[api.SubmitBatch],
    options: Options,
    send: SendSubmit,
    query_page: QueryPage,
    *,
    sleep: Callable[[float], None] = time.sleep,
    log: Any = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Submit each batch under the policy above; one entry per batch (see
    :meth:`NxCloudHook.submit_number_check`). ``clock`` (seconds, monotonic) and ``sleep`` time the
    waits."""
    found: dict[int, Found] = {}
    if options.reuse_existing:
        now = dt.datetime.now(dt.timezone.utc)
        since = options.reuse_since or now - dt.timedelta(days=1)
        dates = filing_dates(since, now + dt.timedelta(seconds=RESULT_DEADLINE))
        numbered = _Numbered(batches)
        found = await_earlier(
            query_page, numbered, dates, options.reuse_wait, sleep=sleep, clock=clock, log=log
        )
    entries = []
    # One request's body at a time: a plan of a million numbers builds each chunk when it is sent.
    for index in range(len(batches)):
        batch = batches[index]
        earlier = found.get(index)
        if earlier is not None:
            number = batch.body.get("batchNo")
            entries.append(_entry(batch, number, earlier.submit_id, list(earlier.dates), None, reused=True))
        else:
            entries.append(_submit_once(batch, options.lost_response_wait, send, query_page, sleep, log))
        if log is not None and len(batches) > 1:
            _log_progress(log, index + 1, len(batches), entries)
    return entries


def _log_progress(log: Any, done: int, total: int, entries: list[dict[str, Any]]) -> None:
    """A line per request of a multi-request submit: how far it has come."""
    entry = entries[-1]
    numbers = sum(item["phone_count"] for item in entries)
    log.info(
        "Request %d of %d: %s %d %s numbers as batch %s (%s numbers so far)",
        done,
        total,
        "reused" if entry["reused"] else "submitted",
        entry["phone_count"],
        entry["country"],
        entry["batch_no"],
        f"{numbers:,}",
    )


class _Numbered(Mapping[int, api.SubmitBatch]):
    """The requests of a plan that carry a batch number, by index, each built when looked at."""

    def __init__(self, batches: Sequence[api.SubmitBatch]) -> None:
        self._batches = batches
        numbers = getattr(batches, "batch_no", None)
        if numbers is not None:
            self._keys = [index for index in range(len(batches)) if numbers(index)]
        else:
            self._keys = [index for index, batch in enumerate(batches) if batch.body.get("batchNo")]

    def __getitem__(self, key: int) -> api.SubmitBatch:
        if key not in self._keys:
            raise KeyError(key)
        return self._batches[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def batch_no(self, key: int) -> str:
        numbers = getattr(self._batches, "batch_no", None)
        return str(numbers(key) if numbers is not None else self._batches[key].body.get("batchNo"))


def await_earlier(
    query_page: QueryPage,
    batches: Mapping[int, api.SubmitBatch],
    dates: list[str],
    wait: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    log: Any = None,
) -> dict[int, Found]:
    """The batches (by key) an earlier try submitted, looked up together until ``wait`` seconds have
    passed: one deadline for all of them, each looked up at least once, every :data:`LOOKUP_STEP`
    seconds while some are missing. What is still awaited is logged at the start and at least every
    :data:`LOG_EVERY` seconds."""
    started = clock()
    slept = 0.0

    def elapsed() -> float:
        # The clock's time, or the time slept when a test's sleep does not move the clock.
        return max(clock() - started, slept)

    # Keys only: a request's numbers are built when it is looked up, not all at once.
    pending = dict.fromkeys(batches)
    found: dict[int, Found] = {}

    def number(key: int) -> str:
        named = getattr(batches, "batch_no", None)
        return str(named(key)) if named is not None else str(batches[key].body.get("batchNo"))

    next_log = 0.0
    first_round = True

    def report(now: float) -> None:
        nonlocal next_log
        if log is None or now < next_log:
            return
        numbers = [number(key) for key in pending]
        shown = ", ".join(numbers[:10]) + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
        log.info(
            "Looking for %d of %d batches an earlier try may have submitted (%s): %.0f s left "
            "before the missing ones are submitted",
            len(numbers),
            len(batches),
            shown,
            max(0.0, wait - now),
        )
        next_log = now + LOG_EVERY

    while pending:
        for key in list(pending):
            now = elapsed()
            if not first_round and now >= wait:
                break
            report(now)
            hit = find_submit(query_page, number(key), dates, _LazyPhones(batches, key))
            if hit is not None:
                found[key] = hit
                del pending[key]
        first_round = False
        now = elapsed()
        if not pending or now >= wait:
            break
        report(now)
        step = min(LOOKUP_STEP, wait - now)
        sleep(step)
        slept += step
    if log is not None and batches:
        log.info(
            "Earlier try's batches: %d found and reused, %d not found after %.0f s of looking "
            "(submitting those now)",
            len(found),
            len(pending),
            elapsed(),
        )
    return found


def _submit_once(
    batch: api.SubmitBatch,
    lost_response_wait: float,
    send: SendSubmit,
    query_page: QueryPage,
    sleep: Callable[[float], None],
    log: Any,
) -> dict[str, Any]:
    number = batch.body.get("batchNo")
    submitted_at = dt.datetime.now(dt.timezone.utc)
    dates = submit_dates(submitted_at)
    try:
        answer_batch_no, message_id = send(batch.body)
    except WaPhonesError as exc:
        if not number or not exc.may_have_taken_effect:
            raise
        try:
            found = await_submit(query_page, number, dates, batch.phones, lost_response_wait, sleep=sleep)
        except WaPhonesError as lookup:
            add_note(exc, f"Looking the batch up failed too: {lookup}")
            raise exc from None
        if found is None:
            add_note(
                exc,
                "The submit may have been accepted (and charged): it was not sent again. Look the "
                f"batch up (batch_no {number!r}) before submitting it again.",
            )
            raise
        if log is not None:
            log.warning("The answer to batch %s was lost, but NxCloud has it: not resending", number)
        return _entry(batch, number, found.submit_id, list(found.dates), submitted_at, reused=True)
    return _entry(batch, answer_batch_no or number, message_id, dates, submitted_at, reused=False)


def _entry(
    batch: api.SubmitBatch,
    batch_no: str | None,
    message_id: str,
    dates: list[str],
    submitted_at: dt.datetime | None,
    *,
    reused: bool,
) -> dict[str, Any]:
    return {
        "batch_no": batch_no,
        "message_id": message_id,
        "country": batch.country,
        "phone_count": len(batch.phones),
        "date": dates[0],
        "dates": dates,
        "submitted_at": submitted_at.isoformat() if submitted_at else None,
        "reused": reused,
    }


@dataclass(frozen=True)
class Found:
    """A submit the service has: its id and the days its records are filed under."""

    submit_id: str
    dates: tuple[str, ...]


class _LazyPhones(Collection[str]):
    """A request's numbers, built only if a lookup must tell two submits apart by them."""

    def __init__(self, batches: Mapping[int, api.SubmitBatch], key: int) -> None:
        self._batches = batches
        self._key = key
        self._phones: set[str] | None = None

    def _get(self) -> set[str]:
        if self._phones is None:
            self._phones = set(self._batches[self._key].phones)
        return self._phones

    def __contains__(self, phone: object) -> bool:
        return phone in self._get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def find_submit(
    query_page: QueryPage, batch_no: str, dates: list[str], phones: Collection[str], appkey: str | None = None
) -> Found | None:
    """The submit filed under ``batch_no`` on any of ``dates``, or None when there is none.

    Several submits under one number are told apart by their phones (``phones``: this batch's);
    when that leaves more than one, :class:`BatchConflictError`.
    """
    base = {"batchNo": batch_no, "pageSize": api.MAX_PAGE_SIZE}
    if appkey is not None:
        base["appkey"] = appkey
    where: dict[str, set[str]] = {}
    phones_of: dict[str, set[str]] = {}
    for date in dates:
        walk = ResultWalk(base, [date])
        records = []
        while (body := walk.next_body()) is not None:
            records.extend(walk.take(query_page(body)))
        for submit_id, record_phones in submits_in(records).items():
            where.setdefault(submit_id, set()).add(date)
            phones_of.setdefault(submit_id, set()).update(record_phones)
    candidates = list(where)
    if len(candidates) > 1:
        # The service's examples mask some digits; a masked phone cannot rule a submit out.
        ours = set(phones)
        candidates = [
            submit_id
            for submit_id in candidates
            if all("*" in phone or phone in ours for phone in phones_of[submit_id])
        ]
        if len(candidates) != 1:
            raise BatchConflictError(batch_no, where)
    if not candidates:
        return None
    submit_id = candidates[0]
    return Found(submit_id, tuple(sorted(where[submit_id])))


def await_submit(
    query_page: QueryPage,
    batch_no: str,
    dates: list[str],
    phones: Collection[str],
    wait: float,
    *,
    appkey: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Found | None:
    """:func:`find_submit`, looking again every few seconds until ``wait`` seconds of waiting."""
    waited = 0.0
    while True:
        found = find_submit(query_page, batch_no, dates, phones, appkey)
        if found is not None or waited >= wait:
            return found
        step = min(LOOKUP_STEP, wait - waited)
        sleep(step)
        waited += step


def reuse_wait(retry_delay: float, try_started: dt.datetime | None, now: dt.datetime | None = None) -> float:
    """How long a task retry should look for an earlier try's batch before submitting again.

    The earlier try ended at least ``retry_delay`` seconds before this try started; its submit, if
    any, shows in the results within :data:`RESULT_DEADLINE` seconds.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    since_start = (now - try_started).total_seconds() if try_started is not None else 0.0
    return max(0.0, RESULT_DEADLINE - retry_delay - max(since_start, 0.0))
