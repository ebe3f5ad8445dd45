"""When a wait is over: the decisions sensors (in a worker) and triggers (in the triggerer) share.

Pure functions over plain data, so a sensor's poke and a trigger's poll cannot disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.results import Batch

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
    from dataclasses import replace

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
            Batch.from_entry(batch, "batches", _expected(batch.get("phone_count"), "batches"))
            for batch in batches
        ]
    if not batch_no and not message_id:
        raise ParameterError("batch_no", "give batches, batch_no with expected_count, or message_id")
    if batch_no and expected_count in (None, ""):
        raise ParameterError("expected_count", "required with batch_no: how many numbers the batch holds")
    expected = _expected(1 if expected_count in (None, "") else expected_count, "expected_count")
    from airflow_provider_wa_phones.api.nxcloud import check_date

    day = check_date(date)
    target = Batch.from_entry({"date": day, "batch_no": batch_no, "message_id": message_id}, "batch_no")
    # Given by hand, a batch number's every record counts: there is no submit to tell them apart.
    return [replace(target, submit_id=None, expected=expected)]


def _expected(value: Any, param: str) -> int:
    # An empty batch would be "finished" at once; never succeed on nothing.
    if isinstance(value, bool) or not str(value).strip().isdigit() or int(value) < 1:
        raise ParameterError(
            param, f"the number of records to wait for must be a whole number >= 1, got {value!r}"
        )
    return int(value)


def number_check_summary(targets: list[Batch], counts: list[tuple[int, bool]]) -> dict[str, Any]:
    """Progress of every batch (``counts``: records found, and whether that count is complete), and
    whether all are finished."""
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
    done = all(
        complete and found >= target.expected
        for target, (found, complete) in zip(targets, counts, strict=True)
    )
    return {
        "done": done,
        "expected": sum(target.expected for target in targets),
        "found": sum(found for found, _ in counts),
        "batches": rows,
    }
