"""When a wait is over: the decisions sensors (in a worker) and triggers (in the triggerer) share.

Pure functions over plain data, so a sensor's poke and a trigger's poll cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wa_phones.exceptions import ParameterError

#: Statuses from which a number does not come back to CONNECTED by waiting.
DEFAULT_FAILURE_STATUSES = ("BANNED", "DELETED", "MIGRATED", "DISCONNECTED")


@dataclass
class PhoneStatusCheck:
    """Where each awaited number stands."""

    target_status: str
    failed: dict[str, str | None] = field(default_factory=dict)
    waiting: dict[str, str | None] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return not self.failed and not self.waiting

    def describe(self) -> str:
        if self.failed:
            listed = ", ".join(f"{phone} is {status}" for phone, status in self.failed.items())
            return f"waiting for {self.target_status} is pointless: {listed}"
        if self.waiting:
            listed = ", ".join(
                f"{phone} is {status or 'not listed yet'}" for phone, status in self.waiting.items()
            )
            return f"waiting for {self.target_status}: {listed}"
        return f"every number is {self.target_status}"


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
            continue
        if status in failure_statuses:
            check.failed[phone] = status
        else:
            check.waiting[phone] = status
    return check


def check_status_arguments(target_status: Any, failure_statuses: Any) -> tuple[str, list[str]]:
    """Return the awaited status and the failure statuses, upper-cased, or raise."""
    if not isinstance(target_status, str) or not target_status.strip():
        raise ParameterError("target_status", f"must be a status such as CONNECTED, got {target_status!r}")
    target = target_status.strip().upper()
    if (
        failure_statuses is None
        or isinstance(failure_statuses, str)
        or not isinstance(failure_statuses, (list, tuple, set, frozenset))
        or not all(isinstance(s, str) for s in failure_statuses)
    ):
        raise ParameterError("failure_statuses", "must be a list of statuses, e.g. ['BANNED', 'DELETED']")
    failures = sorted({status.strip().upper() for status in failure_statuses})
    if target in failures:
        raise ParameterError("failure_statuses", f"must not contain the target status {target}")
    return target, failures


@dataclass(frozen=True)
class BatchTarget:
    """One number-check batch to wait for and how many result records finish it."""

    date: str
    expected: int
    batch_no: str | None = None
    message_id: str | None = None

    def label(self) -> str:
        return f"batch {self.batch_no}" if self.batch_no else f"message {self.message_id}"


def batch_targets(
    batches: Any = None,
    batch_no: Any = None,
    expected_count: Any = None,
    message_id: Any = None,
    date: Any = None,
) -> list[BatchTarget]:
    """Turn a sensor's arguments into the batches to wait for, or raise :class:`ParameterError`.

    Either ``batches`` (what NxCloudNumberCheckOperator returns), or ``batch_no`` with
    ``expected_count``, or a ``message_id`` (one record unless ``expected_count`` says more).
    """
    from airflow_provider_wa_phones.api.nxcloud import check_date

    if batches is not None:
        if batch_no or message_id or expected_count:
            raise ParameterError("batches", "give either batches or batch_no/message_id, not both")
        if isinstance(batches, Mapping):
            batches = [batches]
        if not isinstance(batches, list) or not batches or not all(isinstance(b, Mapping) for b in batches):
            raise ParameterError(
                "batches", "must be the non-empty list returned by NxCloudNumberCheckOperator"
            )
        return [
            BatchTarget(
                date=check_date(batch.get("date")),
                expected=_expected(batch.get("phone_count"), "batches"),
                batch_no=batch.get("batch_no"),
                message_id=None if batch.get("batch_no") else batch.get("message_id"),
            )
            for batch in batches
        ]
    if not batch_no and not message_id:
        raise ParameterError("batch_no", "give batches, batch_no with expected_count, or message_id")
    if batch_no and expected_count in (None, ""):
        raise ParameterError("expected_count", "required with batch_no: how many numbers the batch holds")
    expected = _expected(1 if expected_count in (None, "") else expected_count, "expected_count")
    return [
        BatchTarget(
            date=check_date(date), expected=expected, batch_no=batch_no or None, message_id=message_id or None
        )
    ]


def _expected(value: Any, param: str) -> int:
    # An empty batch would be "finished" at once; never succeed on nothing.
    if isinstance(value, bool) or not str(value).strip().isdigit() or int(value) < 1:
        raise ParameterError(
            param, f"the number of records to wait for must be a whole number >= 1, got {value!r}"
        )
    return int(value)


def number_check_summary(targets: list[BatchTarget], found: list[int]) -> dict[str, Any]:
    """Progress of every batch, and whether all are finished."""
    batches = [
        {
            "batch_no": target.batch_no,
            "message_id": target.message_id,
            "date": target.date,
            "expected": target.expected,
            "found": count,
        }
        for target, count in zip(targets, found, strict=True)
    ]
    return {
        "done": all(count >= target.expected for target, count in zip(targets, found, strict=True)),
        "expected": sum(target.expected for target in targets),
        "found": sum(found),
        "batches": batches,
    }
