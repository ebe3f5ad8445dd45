"""A task retry's lookups of an earlier try's batches: one deadline for all, progress in the log.

No server and no real sleeps: the clock is a counter that each sleep and each query page moves.
"""

from __future__ import annotations

import itertools
import logging
import re

import pytest

from airflow_provider_wa_phones import submits
from airflow_provider_wa_phones.operations import nxcloud as api

#: Seconds one query page takes on the fake clock (a slow service makes the rounds long).
QUERY_SECONDS = 0.25
EMPTY_PAGE = {"result": [], "totalPage": 0, "totalSize": 0}


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.queries: list[tuple[float, str]] = []
        self.sent: list[str] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds

    def query_page(self, body: dict) -> dict:
        self.queries.append((self.now, body["batchNo"]))
        self.now += QUERY_SECONDS
        return EMPTY_PAGE

    def send(self, body: dict) -> tuple[str | None, str]:
        self.sent.append(body["batchNo"])
        return body["batchNo"], f"{len(self.sent):032x}"


def _batches(count: int) -> list[api.SubmitBatch]:
    return [
        api.SubmitBatch(f"C{index}", [f"+1 415 555 {index:04d}"], {"batchNo": f"run-C{index}"})
        for index in range(count)
    ]


def _retry(fake: FakeTime, count: int, wait: float, log: logging.Logger | None = None) -> list[dict]:
    options = submits.Options(reuse_existing=True, reuse_wait=wait)
    return submits.submit(
        _batches(count), options, fake.send, fake.query_page, sleep=fake.sleep, clock=fake.clock, log=log
    )


@pytest.mark.parametrize("count", [4, 40])
def test_every_batch_s_lookups_end_by_one_deadline(count):
    fake = FakeTime()
    started = fake.now
    entries = _retry(fake, count, wait=300)
    # Looked up until the shared deadline, then each missing batch submitted once (and paid once).
    assert fake.sent == [f"run-C{index}" for index in range(count)]
    assert [entry["reused"] for entry in entries] == [False] * count
    last_lookup = max(moment for moment, _ in fake.queries)
    assert last_lookup < started + 300
    # The deadline ends the lookups, not a wait per batch: the lookups end within one round (a
    # query per day looked under, per batch) of it.
    per_look = next(index for index, (_, number) in enumerate(fake.queries) if number != "run-C0")
    assert fake.now - started < 300 + count * per_look * QUERY_SECONDS
    # Every batch was looked up more than once while there was time.
    looks = {number: sum(1 for _, seen in fake.queries if seen == number) for _, number in fake.queries}
    assert min(looks.values()) > 1


def test_four_and_forty_batches_are_given_up_on_at_the_same_deadline():
    ends = []
    for count in (4, 40):
        fake = FakeTime()
        started = fake.now
        _retry(fake, count, wait=300)
        ends.append(fake.now - started)
    # The old lookups waited reuse_wait per batch: 4 x 300 s and 40 x 300 s.
    assert all(300 <= end < 320 for end in ends), ends


def test_each_batch_is_looked_up_once_even_when_no_time_is_left():
    fake = FakeTime()
    _retry(fake, 40, wait=0)
    assert sorted({number for _, number in fake.queries}) == sorted(f"run-C{i}" for i in range(40))
    assert len(fake.sent) == 40


def test_batches_found_are_reused_and_only_the_missing_ones_submitted():
    fake = FakeTime()
    shows_at = fake.now + 50  # the earlier try's batch C1 shows after 50 s

    def query_page(body: dict) -> dict:
        fake.queries.append((fake.now, body["batchNo"]))
        fake.now += QUERY_SECONDS
        if body["batchNo"] == "run-C1" and fake.now >= shows_at:
            record = {"messageId": "ab" * 16, "phone": "+1 415 555 0001", "batchNo": "run-C1"}
            return {"result": [record], "totalPage": 1, "totalSize": 1}
        return EMPTY_PAGE

    options = submits.Options(reuse_existing=True, reuse_wait=120)
    entries = submits.submit(_batches(3), options, fake.send, query_page, sleep=fake.sleep, clock=fake.clock)
    assert [entry["reused"] for entry in entries] == [False, True, False]
    assert fake.sent == ["run-C0", "run-C2"]  # C1 is not paid for again
    # C1 was no longer looked up once found; the others were, until the deadline.
    assert max(moment for moment, number in fake.queries if number == "run-C1") < shows_at + 5
    assert max(moment for moment, number in fake.queries if number == "run-C0") > shows_at + 60


class _Lines(logging.Handler):
    def __init__(self, fake: FakeTime) -> None:
        super().__init__()
        self.fake = fake
        self.lines: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((self.fake.now, record.getMessage()))


@pytest.mark.parametrize("count", [4, 40])
def test_the_wait_is_logged_at_least_every_30_seconds(count):
    fake = FakeTime()
    started = fake.now
    log = logging.getLogger(f"test_submit_lookups.{count}")
    log.setLevel(logging.INFO)
    log.propagate = False
    handler = _Lines(fake)
    log.addHandler(handler)
    try:
        _retry(fake, count, wait=300, log=log)
    finally:
        log.removeHandler(handler)
    waiting = [(moment, line) for moment, line in handler.lines if line.startswith("Looking for")]
    assert waiting[0][0] == started
    moments = [started] + [moment for moment, _ in waiting] + [fake.now]
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    # The log is written between two batches' lookups, so a line may come one lookup late. A lookup
    # queries each day the batch may be filed under: two to four days, by the time of day in UTC and
    # in the service's calendar (UTC+8), so its length is read from the queries, not assumed.
    one_lookup = next(index for index, (_, number) in enumerate(fake.queries) if number != "run-C0")
    assert 1 <= one_lookup <= 4
    assert max(gaps) <= submits.LOG_EVERY + one_lookup * QUERY_SECONDS
    assert len(waiting) >= 10  # 300 s at one line per 30 s
    first = waiting[0][1]
    assert f"{count} of {count} batches" in first and "run-C0" in first and "300 s left" in first
    # The lookups end with their summary; the requests' progress lines follow it.
    (summary,) = [line for _, line in handler.lines if "not found after" in line]
    assert re.search(rf"\b{count} not found after 30\d s", summary)
