"""The charged-submit policy: a number check is paid per number, so a batch is sent at most once.

- **Retry only a sure refusal.** A submit is sent again only when the service surely did not take
  it: a code in its own envelope, a throttle, a request that never left this machine.
- **Look up, never resend, an answer lost on the way back** (a dropped connection, a gateway 5xx,
  garbage on a 2xx): the batch is looked up for ``lost_response_wait`` seconds, as results appear.
- **Reuse on a task retry.** Before sending, a retry looks the batch up under every day an earlier
  try may have filed it (UTC and UTC+8, across midnight), waiting until that try's results would
  have shown, and reuses the batch when found.
- **This submit's records only.** A batch is found by its number, then told apart from other
  submits under the same number (a batch number reused by another run) by its ``messageId``.
- **The submit's own error wins.** When the lookup fails too, the submit's error is raised with the
  lookup's as a note.

No HTTP here: the hook passes a function that reads one query page.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_wa_phones.api import nxcloud as api
from airflow_provider_wa_phones.exceptions import WaPhonesError
from airflow_provider_wa_phones.results import ResultWalk, submits_in

#: NxCloud pushes results 10 s to 5 minutes after a submit; a lookup may conclude "never taken" only
#: once the latest possible submit is older than this.
RESULT_DEADLINE = 300.0
#: Seconds between two looks while waiting for a batch to show.
LOOKUP_STEP = 2.0

#: Reads one number-check query page: takes the query body, returns the parsed page.
QueryPage = Callable[[dict[str, Any]], Mapping[str, Any]]


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


@dataclass(frozen=True)
class Found:
    """A submit the service has: its id and the days its records are filed under."""

    submit_id: str
    dates: tuple[str, ...]


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
    now = now or dt.datetime.now(dt.UTC)
    since_start = (now - try_started).total_seconds() if try_started is not None else 0.0
    return max(0.0, RESULT_DEADLINE - retry_delay - max(since_start, 0.0))


def submit_dates(submitted_at: dt.datetime) -> list[str]:
    """The days a submit made at ``submitted_at`` may be filed under: either calendar, allowing for
    clocks near midnight and for results filed when they arrive (up to 5 minutes later)."""
    return api.filing_dates(submitted_at, submitted_at + dt.timedelta(seconds=RESULT_DEADLINE))
