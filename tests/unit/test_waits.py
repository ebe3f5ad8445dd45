"""When a wait is over (``waits``): the decisions sensors and triggers share, and the checks of
each wait's arguments, from plain records and counts."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_wa_phones import waits
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.results import Batch

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
FAILURES = waits.DEFAULT_FAILURE_STATUSES


def phone(number: str, status: str | None) -> dict[str, object]:
    return {"phone_number": number, "status": status}


# -- phone status ----------------------------------------------------------------------------------


def test_every_number_connected_is_done_with_their_records():
    records = [phone("1", "CONNECTED"), phone("2", "CONNECTED"), phone("3", "PENDING")]
    decision = waits.phone_status(records, ["1", "2"], "CONNECTED", FAILURES)
    assert decision.state == "done"
    assert decision.message == "2 of 2 CONNECTED: every number is CONNECTED"
    assert decision.value == records[:2]  # only the awaited numbers
    assert decision.event() == {"status": "success", "message": decision.message, "records": records[:2]}


def test_a_number_not_there_yet_keeps_the_wait_going_and_says_which():
    decision = waits.phone_status([phone("1", "PENDING")], ["1", "2"], "CONNECTED", FAILURES)
    assert decision.state == "wait"
    assert decision.message == "0 of 2 CONNECTED; waiting for 1 is PENDING, 2 is not listed yet"
    assert decision.event() is None


def test_a_failure_status_ends_the_wait_as_a_failure():
    records = [phone("1", "CONNECTED"), phone("2", "BANNED")]
    decision = waits.phone_status(records, ["1", "2"], "CONNECTED", FAILURES)
    assert decision.state == "fail"
    assert decision.message == "1 of 2 CONNECTED; waiting for CONNECTED is pointless: 2 is BANNED"
    assert decision.event()["status"] == "failure"  # type: ignore[index]


def test_check_phone_statuses_sorts_each_number():
    check = waits.check_phone_statuses(
        [phone("1", "CONNECTED"), phone("2", "DELETED"), phone("3", "PENDING")],
        ["1", "2", "3", "4"],
        "CONNECTED",
        FAILURES,
    )
    assert (check.reached, check.failed, check.waiting, check.done) == (
        1,
        {"2": "DELETED"},
        {"3": "PENDING", "4": None},
        False,
    )


def test_status_arguments_are_upper_cased_and_checked():
    assert waits.check_status_arguments("connected", ["banned", "Deleted", "BANNED"]) == (
        "CONNECTED",
        ["BANNED", "DELETED"],
    )
    for target, failures, param in [
        ("not a status!", [], "target_status"),
        ("CONNECTED", "BANNED", "failure_statuses"),
        ("CONNECTED", ["BAD STATUS"], "failure_statuses"),
        ("CONNECTED", ["X"] * 51, "failure_statuses"),
        ("CONNECTED", ["connected"], "failure_statuses"),
    ]:
        with pytest.raises(ParameterError) as caught:
            waits.check_status_arguments(target, failures)
        assert caught.value.param == param, (target, failures)


# -- number check ----------------------------------------------------------------------------------


def test_a_number_check_is_done_when_every_batch_has_all_its_records_and_the_count_is_complete():
    targets = [
        Batch(dates=(TODAY,), batch_no="a", expected=2),
        Batch(dates=(TODAY,), message_id="m", expected=1),
    ]
    waiting = waits.number_check(targets, [(2, True), (0, True)])
    assert (waiting.state, waiting.message) == (
        "wait",
        "Number check: 1 of 2 batches finished, 2 of 3 records",
    )
    assert waits.number_check(targets, [(2, True), (1, False)]).state == "wait"  # a count not complete
    done = waits.number_check(targets, [(2, True), (1, True)])
    assert done.state == "done"
    assert done.value == {
        "expected": 3,
        "found": 3,
        "batches": [
            {"batch_no": "a", "message_id": None, "dates": [TODAY], "expected": 2, "found": 2},
            {"batch_no": None, "message_id": "m", "dates": [TODAY], "expected": 1, "found": 1},
        ],
        "batches_finished": 2,
        "batches_total": 2,
        "records_counted": 3,
        "records_expected": 3,
    }
    assert done.event()["summary"] == done.value  # type: ignore[index]


def test_the_progress_line_groups_thousands():
    targets = [Batch(dates=(TODAY,), batch_no=f"b{i}", expected=10_000) for i in range(120)]
    counts = [(10_000, True)] * 37 + [(5_000, False)] * 83
    decision = waits.number_check(targets, counts)
    assert decision.message == "Number check: 37 of 120 batches finished, 785,000 of 1,200,000 records"
    summary = decision.value
    assert (summary["batches_finished"], summary["batches_total"]) == (37, 120)
    assert (summary["records_counted"], summary["records_expected"]) == (785_000, 1_200_000)


def test_progress_keeps_finished_batches_and_asks_only_for_the_others():
    targets = [Batch(dates=(TODAY,), batch_no=f"b{i}", expected=2) for i in range(4)]
    progress = waits.NumberCheckProgress(targets)
    assert [index for index, _ in progress.unfinished()] == [0, 1, 2, 3]
    for index, count in enumerate([(2, True), (2, False), (1, True), (3, True)]):
        progress.take(index, count)
    first = progress.decision()
    assert first.state == "wait" and first.message.startswith("Number check: 2 of 4 batches finished")
    assert [index for index, _ in progress.unfinished()] == [1, 2]  # incomplete count, too few
    progress.take(1, (2, True))
    progress.take(2, (2, True))
    done = progress.decision()
    assert done.state == "done"
    assert [row["found"] for row in done.value["batches"]] == [2, 2, 2, 3]  # the earlier counts kept
    assert done.value["records_counted"] == 9 and progress.unfinished() == []


def test_progress_refuses_a_decision_without_every_unfinished_count():
    progress = waits.NumberCheckProgress(
        [Batch(dates=(TODAY,), batch_no="a"), Batch(dates=(TODAY,), batch_no="b")]
    )
    progress.take(0, (1, True))
    with pytest.raises(ValueError, match=r"\[1\]"):
        progress.decision()


@pytest.mark.parametrize("value", [1, 8, 32, "16"])
def test_batch_concurrency_is_a_whole_number_from_1_to_32(value):
    assert waits.check_batch_concurrency(value) == int(value)


@pytest.mark.parametrize("value", [0, 33, "x", True, 2.5, None, -1])
def test_a_bad_batch_concurrency_is_refused_naming_it(value):
    with pytest.raises(ParameterError) as caught:
        waits.check_batch_concurrency(value)
    assert caught.value.param == "batch_concurrency"


def test_batch_targets_from_the_operators_entries():
    entry = {
        "batch_no": "b",
        "message_id": "0123456789abcdef0123456789abcdef",
        "date": TODAY,
        "phone_count": 4,
    }
    (target,) = waits.batch_targets(batches=[entry])
    assert (target.batch_no, target.expected, target.dates) == ("b", 4, (TODAY,))


def test_batch_targets_by_hand_count_every_record_of_the_number():
    (target,) = waits.batch_targets(batch_no="b", expected_count=3, date=TODAY)
    assert target == Batch(dates=(TODAY,), batch_no="b", message_id=None, expected=3)
    (by_message,) = waits.batch_targets(message_id="m-1", date=TODAY, batch_no="")
    assert (by_message.message_id, by_message.expected) == ("m-1", 1)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"batches": [{"batch_no": "b", "date": TODAY, "phone_count": 1}], "batch_no": "b"}, "batches"),
        ({}, "batch_no"),
        ({"batch_no": "b", "date": TODAY}, "expected_count"),
        ({"batch_no": "b", "date": TODAY, "expected_count": 0}, "expected_count"),
        ({"message_id": "m", "date": "2000-01-01"}, "date"),
    ],
)
def test_bad_batch_targets_are_refused_naming_the_argument(kwargs, param):
    with pytest.raises(ParameterError) as caught:
        waits.batch_targets(**kwargs)
    assert caught.value.param == param
