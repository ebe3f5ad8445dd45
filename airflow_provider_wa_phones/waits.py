"""When a wait is over: the decisions sensors (in a worker) and triggers (in the triggerer) share.

One pure function per kind of wait turns what a poll returned into a :class:`Decision`: done, keep
waiting, or fail, and why. The sensor base (:mod:`airflow_provider_wa_phones.sensors.base`) and the
trigger base (:mod:`airflow_provider_wa_phones.triggers.base`) act on it unchanged, so a poke and a
trigger's poll cannot disagree. The arguments of each wait are checked here too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.checks import absent
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.operations.nxcloud import check_date
from airflow_provider_wa_phones.results import Batch, batches_of, expected_count

#: Statuses from which a number does not come back to CONNECTED by waiting.
DEFAULT_FAILURE_STATUSES = ("BANNED", "DELETED", "MIGRATED", "DISCONNECTED")
#: Number-check batches a deferred wait queries at once (``batch_concurrency``), and the most allowed.
DEFAULT_BATCH_CONCURRENCY = 8
MAX_BATCH_CONCURRENCY = 32


@dataclass(frozen=True)
class Decision:
    """What one poll means: ``done`` (the wait is over; ``value`` is its result), ``wait`` (look
    again later) or ``fail`` (the awaited state cannot come), with a message saying why.

    ``key`` names the value in a trigger's event (``records``, ``summary``).
    """

    state: Literal["done", "wait", "fail"]
    message: str
    key: str
    value: Any

    def event(self) -> dict[str, Any] | None:
        """A trigger's event payload for this decision, None to keep waiting."""
        if self.state == "wait":
            return None
        return {
            "status": "success" if self.state == "done" else "failure",
            "message": self.message,
            self.key: self.value,
        }


def phone_status(
    records: Iterable[Mapping[str, Any]],
    phones: list[str],
    target_status: str,
    failure_statuses: Collection[str],
) -> Decision:
    """Every number of ``phones`` has ``target_status`` (done), one has a failure status (fail), or
    some are not there yet (wait). ``records``: common-shape phone records, others are ignored; the
    value is the awaited numbers' records."""
    wanted = set(phones)
    kept = [dict(record) for record in records if record.get("phone_number") in wanted]
    check = check_phone_statuses(kept, phones, target_status, failure_statuses)
    state: Literal["done", "wait", "fail"] = "fail" if check.failed else "done" if check.done else "wait"
    return Decision(state, check.describe(), "records", kept)


def number_check(targets: list[Batch], counts: list[tuple[int, bool]]) -> Decision:
    """Every batch has as many records as numbers submitted (done), or not yet (wait); the value is
    the progress summary (see :func:`number_check_summary`), the message one line of progress
    ("Number check: 37 of 120 batches finished, 412,345 of 1,200,000 records")."""
    summary = number_check_summary(targets, counts)
    done = summary.pop("done")
    message = (
        f"Number check: {summary['batches_finished']} of {summary['batches_total']} batches finished, "
        f"{summary['records_counted']:,} of {summary['records_expected']:,} records"
    )
    return Decision("done" if done else "wait", message, "summary", summary)


def check_batch_concurrency(value: Any) -> int:
    """How many batches a number-check wait queries at once: a whole number from 1 to 32."""
    return checks.whole_number("batch_concurrency", value, 1, MAX_BATCH_CONCURRENCY)


def batch_finished(target: Batch, count: tuple[int, bool]) -> bool:
    """Whether ``count`` (records found, and whether that count is complete) finishes ``target``."""
    found, complete = count
    return complete and found >= target.expected


class NumberCheckProgress:
    """The batches of one number-check wait and the counts of those already seen finished, so that
    later polls of the same wait query only the others (a finished batch stays finished: its
    records are kept for days and never leave).

    Held by one sensor or trigger instance, in memory only: a new instance (a triggerer restart, a
    reschedule-mode poke, a deferred sensor's trigger) starts over and queries every batch once.
    Drive it with :meth:`unfinished` (what to query now, by index) and :meth:`take` (each count as
    it comes in), then :meth:`decision`.
    """

    def __init__(self, targets: list[Batch]) -> None:
        self.targets = list(targets)
        self._finished: dict[int, tuple[int, bool]] = {}
        self._counts: dict[int, tuple[int, bool]] = {}

    def unfinished(self) -> list[tuple[int, Batch]]:
        """The batches not seen finished yet, with their index in ``targets``."""
        return [(index, target) for index, target in enumerate(self.targets) if index not in self._finished]

    def take(self, index: int, count: tuple[int, bool]) -> None:
        """Remember this poll's count of batch ``index``; a finished one is never queried again."""
        self._counts[index] = count
        if batch_finished(self.targets[index], count):
            self._finished[index] = count

    def decision(self) -> Decision:
        """What this poll's counts (and the finished batches' earlier ones) mean, as
        :func:`number_check`; the counts are then forgotten, the finished batches kept."""
        counts, self._counts = self._counts, {}
        missing = [index for index, _ in self.unfinished() if index not in counts]
        if missing:
            raise ValueError(f"no count for batches {missing[:5]} in this poll")
        return number_check(
            self.targets, [self._finished.get(index) or counts[index] for index in range(len(self.targets))]
        )


@dataclass
class PhoneStatusCheck:
    """Where each awaited number stands."""

    target_status: str
    failed: dict[str, str | None] = field(default_factory=dict)
    waiting: dict[str, str | None] = field(default_factory=dict)
    reached: int = 0

    @property
    def done(self) -> bool:
        return not self.failed and not self.waiting

    def describe(self) -> str:
        total = self.reached + len(self.failed) + len(self.waiting)
        tally = f"{self.reached} of {total} {self.target_status}"
        if self.failed:
            listed = ", ".join(f"{phone} is {status}" for phone, status in self.failed.items())
            return f"{tally}; waiting for {self.target_status} is pointless: {listed}"
        if self.waiting:
            listed = ", ".join(
                f"{phone} is {status or 'not listed yet'}" for phone, status in self.waiting.items()
            )
            return f"{tally}; waiting for {listed}"
        return f"{tally}: every number is {self.target_status}"


def check_phone_statuses(
    records: Iterable[Mapping[str, Any]],
    phones: Iterable[str],
    target_status: str,
    failure_statuses: Collection[str],
) -> PhoneStatusCheck:
    """Compare common-shape phone records with the awaited status of each number in ``phones``."""
    status_of = {record.get("phone_number"): record.get("status") for record in records}
    check = PhoneStatusCheck(target_status)
    for phone in phones:
        status = status_of.get(phone)
        if status == target_status:
            check.reached += 1
            continue
        if status in failure_statuses:
            check.failed[phone] = status
        else:
            check.waiting[phone] = status
    return check


_STATUS = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def check_status_arguments(target_status: Any, failure_statuses: Any) -> tuple[str, list[str]]:
    """Return the awaited status and the failure statuses, upper-cased, or raise."""

    target = checks.text(
        "target_status", target_status, max_length=40, pattern=_STATUS, rule="a status such as CONNECTED"
    ).upper()
    if (
        not isinstance(failure_statuses, (list, tuple, set, frozenset))
        or len(failure_statuses) > 50
        or not all(isinstance(s, str) and _STATUS.fullmatch(s) for s in failure_statuses)
    ):
        raise ParameterError(
            "failure_statuses",
            f"must be a list of statuses, e.g. ['BANNED', 'DELETED'], got {checks.quoted(failure_statuses)}",
        )
    failures = sorted({status.upper() for status in failure_statuses})
    if target in failures:
        raise ParameterError("failure_statuses", f"must not contain the target status {target}")
    return target, failures


def batch_targets(
    batches: Any = None,
    batch_no: Any = None,
    expected_count: Any = None,
    message_id: Any = None,
    date: Any = None,
) -> list[Batch]:
    """Turn a sensor's arguments into the batches to wait for, or raise :class:`ParameterError`.

    Either ``batches`` (what NxCloudNumberCheckOperator returns: each batch counts only its own
    submit's records, under every day it may be filed under), or ``batch_no`` with
    ``expected_count`` and ``date``, or a ``message_id`` (one record unless ``expected_count`` says
    more).
    """

    if batches is not None:
        if not all(absent(value) for value in (batch_no, message_id, expected_count, date)):
            raise ParameterError("batches", "give either batches or batch_no/message_id/date, not both")

        return batches_of(batches, "batches", counted=True)
    if absent(batch_no) and absent(message_id):
        raise ParameterError("batch_no", "give batches, batch_no with expected_count, or message_id")
    if not absent(batch_no) and absent(expected_count):
        raise ParameterError("expected_count", "required with batch_no: how many numbers the batch holds")
    expected = _expected(1 if absent(expected_count) else expected_count, "expected_count")

    day = check_date(date)
    given_batch = None if absent(batch_no) else checks.text("batch_no", batch_no, max_length=64)
    given_message = None if absent(message_id) else checks.text("message_id", message_id, max_length=64)
    # Given by hand, a batch number's every record counts: there is no submit to tell them apart.
    return [Batch(dates=(day,), batch_no=given_batch, message_id=given_message, expected=expected)]


def _expected(value: Any, param: str) -> int:
    """How many records finish a batch: at least one (an empty batch would be "finished" at once)."""

    return expected_count(value, param)


def number_check_summary(targets: list[Batch], counts: list[tuple[int, bool]]) -> dict[str, Any]:
    """Progress of every batch (``counts``: records found, and whether that count is complete), and
    whether all are finished: ``expected`` and ``found`` records in all, per-batch ``batches`` rows,
    and the tally a long wait logs: ``batches_finished`` of ``batches_total``, ``records_counted``
    of ``records_expected`` (the same sums as ``found`` and ``expected``)."""
    rows = [
        {
            "batch_no": target.batch_no,
            "message_id": target.submit_id or target.message_id,
            "dates": list(target.dates),
            "expected": target.expected,
            "found": found,
        }
        for target, (found, _) in zip(targets, counts, strict=True)
    ]
    finished = sum(batch_finished(target, count) for target, count in zip(targets, counts, strict=True))
    expected = sum(target.expected for target in targets)
    found = sum(found for found, _ in counts)
    return {
        "done": finished == len(targets),
        "expected": expected,
        "found": found,
        "batches": rows,
        "batches_finished": finished,
        "batches_total": len(targets),
        "records_counted": found,
        "records_expected": expected,
    }
