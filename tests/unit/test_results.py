"""Reading number-check results (``results``): the page walk, record identity, which records are
this submit's, and the batch entries, driven by plain pages (no server)."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from typing import Any

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.results import (
    MAX_BATCHES,
    MAX_PASSES,
    Batch,
    ReadProgress,
    ResultWalk,
    batch_entries,
    batches_of,
    belongs_to,
    expected_count,
    record_key,
    submit_id_of,
    submits_in,
)

SUBMIT = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
TODAY = dt.datetime.now(dt.timezone.utc).date()
DAY1, DAY2 = (TODAY - dt.timedelta(days=1)).isoformat(), TODAY.isoformat()


def rec(phone: str, message_id: str = SUBMIT) -> dict[str, Any]:
    return {"messageId": message_id, "phone": phone, "status": "valid"}


class Service:
    """Pages of records per date, as the service serves them (``size`` per page)."""

    def __init__(self, by_date: dict[str, list[dict[str, Any]]], size: int = 2) -> None:
        self.by_date, self.size, self.bodies = by_date, size, []

    def page(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        records = self.by_date.get(body["date"], [])
        start = (body["page"] - 1) * self.size
        return {
            "result": records[start : start + self.size],
            "totalSize": len(records),
            "totalPage": math.ceil(len(records) / self.size),
        }


def read_all(walk: ResultWalk, service: Service, at_once: int = 10) -> list[dict[str, Any]]:
    kept = []
    for _ in range(1000):  # bounded: a walk that never ends fails here
        bodies = walk.next_bodies(at_once)
        if not bodies:
            return kept
        for body in bodies:
            kept.extend(walk.take(service.page(body)))
    raise AssertionError("the walk did not end")


# -- identity --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message_id", "submit"),
    [
        (SUBMIT, SUBMIT),
        (SUBMIT.upper(), SUBMIT),
        ("01234567-89ab-cdef-0123-456789abcdef", SUBMIT),
        (f"{SUBMIT}-2", SUBMIT),
        ("batch-x-3", "batch-x"),
        ("plain", "plain"),
    ],
)
def test_submit_id_of_has_one_spelling(message_id, submit):
    assert submit_id_of(message_id) == submit


def test_belongs_to_keeps_only_this_submits_records():
    assert belongs_to(rec("1"), None)
    assert belongs_to(rec("1", f"{SUBMIT}-1"), SUBMIT)
    assert not belongs_to(rec("1", OTHER), SUBMIT)
    assert not belongs_to({"phone": "1"}, SUBMIT)
    assert not belongs_to("not a record", SUBMIT)


def test_a_record_is_its_message_id_and_phone():
    assert record_key(rec("1")) == (SUBMIT, "1")
    assert record_key(rec("1")) != record_key(rec("2"))


def test_submits_in_groups_phones_by_submit():
    records = [rec("1"), rec("2", f"{SUBMIT}-1"), rec("3", OTHER), {"messageId": "", "phone": "4"}]
    assert submits_in(records) == {SUBMIT: {"1", "2"}, OTHER: {"3"}}


# -- the walk --------------------------------------------------------------------------------------


def test_the_walk_reads_every_page_of_every_date_first_pages_first():
    service = Service({DAY1: [rec("1"), rec("2"), rec("3")], DAY2: [rec("4")]})
    walk = ResultWalk({"batchNo": "b", "pageSize": 2}, [DAY1, DAY2, DAY1])
    assert walk.dates == [DAY1, DAY2]  # duplicates dropped
    first = walk.next_bodies(10)
    assert [(b["date"], b["page"]) for b in first] == [(DAY1, 1), (DAY2, 1)]
    assert all(b["batchNo"] == "b" for b in first)
    kept = [r for body in first for r in walk.take(service.page(body))]
    assert [(b["date"], b["page"]) for b in walk.next_bodies(10)] == [(DAY1, 2)]
    kept.extend(walk.take(service.page({"batchNo": "b", "date": DAY1, "page": 2})))
    assert sorted(r["phone"] for r in kept) == ["1", "2", "3", "4"]
    assert walk.next_bodies(10) == [] and walk.next_body() is None
    assert (walk.kept, walk.counted, walk.partial, walk.passes) == (4, 4, False, 1)


def test_a_record_seen_twice_counts_once_and_other_submits_records_are_dropped():
    service = Service({DAY1: [rec("1"), rec("2", OTHER), rec("1")], DAY2: [rec("1"), rec("3")]})
    walk = ResultWalk({"batchNo": "b"}, [DAY1, DAY2], submit_id=SUBMIT)
    kept = read_all(walk, service)
    assert [r["phone"] for r in kept] == ["1", "3"]
    assert walk.kept == 2


def test_the_walk_reads_again_when_the_service_counts_more_than_it_showed():
    class Shifting(Service):
        def page(self, body):
            answer = super().page(body)
            answer["totalSize"] = 5  # one record always hidden by a moving page boundary
            return answer

    service = Shifting({DAY1: [rec("1"), rec("2"), rec("3"), rec("4")]})
    walk = ResultWalk({"batchNo": "b"}, [DAY1])
    assert len(read_all(walk, service)) == 4
    assert walk.passes == MAX_PASSES  # it tried, then stopped: no endless re-reading
    assert len(service.bodies) == 2 * MAX_PASSES


def test_stop_below_ends_after_the_first_pages_when_too_few_exist():
    service = Service({DAY1: [rec("1"), rec("2"), rec("3")], DAY2: []})
    walk = ResultWalk({"batchNo": "b"}, [DAY1, DAY2], stop_below=10)
    kept = read_all(walk, service)
    assert [r["phone"] for r in kept] == ["1", "2"]
    assert walk.partial  # page 2 of DAY1 was left unread
    assert len(service.bodies) == 2


def test_take_without_a_body_is_a_programming_error():
    walk = ResultWalk({"batchNo": "b"}, [DAY1])
    with pytest.raises(RuntimeError, match="without a body"):
        walk.take({"result": [], "totalSize": 0, "totalPage": 0})


# -- batches ---------------------------------------------------------------------------------------


def test_a_submit_entry_reads_this_submits_records_under_each_day():
    entry = {"batch_no": "b-1", "message_id": SUBMIT, "dates": [DAY1, DAY2], "phone_count": 3}
    batch = Batch.of(entry, counted=True)
    assert batch == Batch(dates=(DAY1, DAY2), batch_no="b-1", submit_id=SUBMIT, message_id=None, expected=3)
    assert Batch.of(batch) is batch


def test_an_entry_with_a_message_id_only_reads_that_message_exactly():
    batch = Batch.from_entry({"date": DAY2, "message_id": "m-1"}, "batches")
    assert (batch.batch_no, batch.submit_id, batch.message_id, batch.expected) == (None, None, "m-1", 1)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("not a dict", "must be an entry returned by NxCloudNumberCheckOperator"),
        ({"dates": [], "batch_no": "b"}, "dates must be a non-empty list"),
        ({"date": "2000-01-01", "batch_no": "b"}, "date:"),
        ({"date": DAY1}, "batch_no or message_id is required"),
        ({"date": DAY1, "batch_no": ""}, "batch_no:"),
        ({"date": DAY1, "batch_no": "b" * 65}, "batch_no:"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_parameter(entry, words):
    with pytest.raises(ParameterError) as caught:
        Batch.from_entry(entry, "batches")
    assert caught.value.param == "batches"
    assert words in str(caught.value)


def test_kwargs_round_trip_and_old_kwargs_still_load():
    batch = Batch(dates=(DAY1, DAY2), batch_no="b", submit_id=SUBMIT, expected=2)
    kwargs = batch.as_kwargs()
    assert kwargs["dates"] == [DAY1, DAY2]
    assert Batch.from_kwargs(kwargs) == batch
    # A trigger of version 0.1 stored one date and no submit id: every record of the number counts.
    old = Batch.from_kwargs({"date": DAY1, "batch_no": "b"})
    assert old == Batch(dates=(DAY1,), batch_no="b", submit_id=None, message_id=None, expected=1)
    with pytest.raises(ParameterError, match="expected"):
        Batch.from_kwargs({"date": DAY1, "batch_no": "b", "expected": 0})
    with pytest.raises(ParameterError, match="each batch must be a dict"):
        Batch.from_kwargs(["b"])  # type: ignore[arg-type]


def test_a_batch_walk_queries_by_batch_number_and_keeps_its_submit():
    batch = Batch(dates=(DAY1, DAY2), batch_no="b", submit_id=SUBMIT)
    walk = batch.walk(appkey="app", page_size=50)
    assert walk.submit_id == SUBMIT
    body = walk.next_body()
    assert body == {"batchNo": "b", "pageSize": 50, "appkey": "app", "date": DAY1, "page": 1}


def test_batch_entries_accepts_one_dict_or_a_list_and_nothing_else():
    entry = {"date": DAY1, "batch_no": "b"}
    assert batch_entries(entry) == [entry]
    assert batch_entries([entry, entry]) == [entry, entry]
    for bad in ([], [entry] * (MAX_BATCHES + 1), ["x"], "b", None):
        with pytest.raises(ParameterError, match="must be the non-empty list"):
            batch_entries(bad)
    with pytest.raises(ParameterError):
        batch_entries(entry, one=False)
    assert [b.batch_no for b in batches_of([entry, {**entry, "batch_no": "c"}])] == ["b", "c"]


def test_expected_count_is_a_whole_number_from_one():
    assert expected_count(3, "n") == 3
    for bad in (0, -1, 1.5, "x", None, True):
        with pytest.raises(ParameterError, match="whole number >= 1") as caught:
            expected_count(bad, "n")
        assert caught.value.param == "n"


# -- progress --------------------------------------------------------------------------------------


def test_read_progress_is_quiet_for_a_short_read_and_reports_a_long_one(caplog, monkeypatch):
    walk = ResultWalk({"batchNo": "b"}, [DAY1])
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the progress's clock, moved by hand
    log = logging.getLogger("test-results")
    with caplog.at_level(logging.INFO, logger="test-results"):
        progress = ReadProgress(log, walk)
        progress.page(10)
        assert caplog.messages == []
        now[0] += 20
        progress.page(30)
        now[0] += 40
        progress.done()
    assert caplog.messages[0].startswith("Read 2 pages, 40 records in 20 s")
    assert caplog.messages[1] == "Read 40 records in 2 pages, 1 min 00 s"
