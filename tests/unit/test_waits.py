"""When a wait is over (``waits``): the decisions sensors and triggers share, and the checks of
each wait's arguments, from plain records and counts."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_wa_phones import waits
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.results import Batch

TODAY = dt.datetime.now(dt.UTC).date().isoformat()
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
    assert (waiting.state, waiting.message) == ("wait", "Number check: 2 of 3 results")
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
    }
    assert done.event()["summary"] == done.value  # type: ignore[index]


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
