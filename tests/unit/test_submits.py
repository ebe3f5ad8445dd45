"""The charged-submit policy (``submits``): send once, look a lost answer up, reuse an earlier try's
batch, on plain bodies with a fake send and a fake query page (no server, no real waiting)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_wa_phones import submits
from airflow_provider_wa_phones.exceptions import BatchConflictError, ParameterError, TransportError

NOW = dt.datetime.now(dt.timezone.utc)
TODAY = NOW.date().isoformat()
S1 = "0123456789abcdef0123456789abcdef"
S2 = "fedcba9876543210fedcba9876543210"


@dataclass
class FakeBatch:
    """What ``submits`` reads of a batch to submit: its country, phones and request body."""

    country: str
    phones: list[str]
    body: dict[str, Any]


def batch(number: str | None = "b-1", phones: tuple[str, ...] = ("8613800001234",)) -> FakeBatch:
    body: dict[str, Any] = {"appkey": "app", "phone": ",".join(phones), "checkLevel": 1}
    if number is not None:
        body["batchNo"] = number
    return FakeBatch("+86", list(phones), body)


@dataclass
class Service:
    """Records filed under (batchNo, date), one page each; what was sent and queried."""

    filed: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    queries: int = 0
    appear_after: int = 0  # queries before the records show

    def query_page(self, body: dict[str, Any]) -> dict[str, Any]:
        self.queries += 1
        records = (
            [] if self.queries <= self.appear_after else self.filed.get((body["batchNo"], body["date"]), [])
        )
        return {"result": records, "totalSize": len(records), "totalPage": 1 if records else 0}

    def send(self, body: dict[str, Any]) -> tuple[str | None, str]:
        self.sent.append(body)
        return body.get("batchNo"), S1


def file_records(service: Service, number: str, submit_id: str, phones: list[str], day: str = TODAY) -> None:
    service.filed[(number, day)] = [{"messageId": submit_id, "phone": phone} for phone in phones]


# -- calendars -------------------------------------------------------------------------------------


def test_a_midday_submit_is_filed_under_one_day_in_both_calendars():
    noon = dt.datetime.combine(
        NOW.date() - dt.timedelta(days=2), dt.time(2, 0), dt.timezone.utc
    )  # 10:00 in UTC+8
    assert submits.filing_dates(noon) == [noon.date().isoformat()]


def test_a_submit_near_midnight_may_be_filed_under_either_day():
    late = dt.datetime.combine(NOW.date() - dt.timedelta(days=3), dt.time(23, 58), dt.timezone.utc)
    day, next_day = late.date(), late.date() + dt.timedelta(days=1)
    assert submits.filing_dates(late) == [day.isoformat(), next_day.isoformat()]


def test_days_older_than_the_service_keeps_are_left_out():
    old = NOW - dt.timedelta(days=30)
    dates = submits.filing_dates(old, NOW)
    earliest = (NOW - dt.timedelta(days=14)).date().isoformat()
    assert dates[0] == earliest
    assert dates == sorted(dates) and len(dates) == len(set(dates))


def test_submit_dates_cover_the_results_arriving_five_minutes_later():
    late = dt.datetime.combine(NOW.date() - dt.timedelta(days=2), dt.time(23, 54), dt.timezone.utc)
    assert submits.submit_dates(late) == submits.filing_dates(late, late + dt.timedelta(seconds=300))
    assert len(submits.submit_dates(late)) == 2


def test_reuse_wait_is_what_is_left_of_the_result_deadline():
    started = NOW - dt.timedelta(seconds=10)
    assert submits.reuse_wait(60, started, NOW) == submits.RESULT_DEADLINE - 70
    assert submits.reuse_wait(60, None, NOW) == submits.RESULT_DEADLINE - 60
    assert submits.reuse_wait(600, started, NOW) == 0.0


# -- options ---------------------------------------------------------------------------------------


def test_options_default_to_no_reuse_and_a_minute_of_lookup():
    options = submits.Options.checked(None, None, 0, 60)
    assert options == submits.Options(
        reuse_existing=False, reuse_since=None, reuse_wait=0.0, lost_response_wait=60.0
    )


def test_reuse_since_must_be_aware_and_not_in_the_future_and_is_cut_to_the_kept_days():
    with pytest.raises(ParameterError, match="timezone-aware") as caught:
        submits.Options.checked(True, dt.datetime(2026, 1, 1), 0, 60)
    assert caught.value.param == "reuse_since"
    with pytest.raises(ParameterError, match="must not be in the future"):
        submits.Options.checked(True, NOW + dt.timedelta(hours=1), 0, 60)
    options = submits.Options.checked(True, NOW - dt.timedelta(days=100), 0, 60)
    assert options.reuse_since is not None
    assert options.reuse_since >= NOW - dt.timedelta(days=14, minutes=1)


@pytest.mark.parametrize(
    ("args", "param"),
    [
        ((1, None, 0, 60), "reuse_existing"),
        ((None, None, -1, 60), "reuse_wait"),
        ((None, None, 0, 3601), "lost_response_wait"),
    ],
)
def test_bad_options_are_refused_naming_the_option(args, param):
    with pytest.raises(ParameterError) as caught:
        submits.Options.checked(*args)
    assert caught.value.param == param


# -- finding a submit ------------------------------------------------------------------------------


def test_find_submit_finds_the_one_submit_under_a_number():
    service = Service()
    file_records(service, "b-1", S1, ["861"])
    assert submits.find_submit(service.query_page, "b-1", [TODAY], ["861"]) == submits.Found(S1, (TODAY,))
    assert submits.find_submit(service.query_page, "b-2", [TODAY], ["861"]) is None


def test_find_submit_tells_submits_apart_by_their_phones_or_refuses_to_guess():
    service = Service()
    service.filed[("b-1", TODAY)] = [{"messageId": S1, "phone": "861"}, {"messageId": S2, "phone": "862"}]
    assert submits.find_submit(service.query_page, "b-1", [TODAY], ["862"]) == submits.Found(S2, (TODAY,))
    with pytest.raises(BatchConflictError) as caught:
        submits.find_submit(service.query_page, "b-1", [TODAY], ["861", "862"])
    assert caught.value.submit_ids == sorted([S1, S2])


def test_a_masked_phone_cannot_rule_a_submit_out():
    service = Service()
    service.filed[("b-1", TODAY)] = [{"messageId": S1, "phone": "86****"}, {"messageId": S2, "phone": "999"}]
    assert submits.find_submit(service.query_page, "b-1", [TODAY], ["861"]).submit_id == S1  # type: ignore[union-attr]


def test_await_submit_looks_again_until_the_records_show_or_the_wait_ends():
    service = Service(appear_after=2)
    file_records(service, "b-1", S1, ["861"])
    slept: list[float] = []
    found = submits.await_submit(service.query_page, "b-1", [TODAY], ["861"], 60, sleep=slept.append)
    assert found == submits.Found(S1, (TODAY,))
    assert slept == [submits.LOOKUP_STEP, submits.LOOKUP_STEP]
    slept.clear()
    assert submits.await_submit(Service().query_page, "b-1", [TODAY], ["861"], 5, sleep=slept.append) is None
    assert sum(slept) == 5


# -- submit ----------------------------------------------------------------------------------------


def test_each_batch_is_sent_once_and_described():
    service = Service()
    entries = submits.submit([batch("b-1"), batch(None)], submits.Options(), service.send, service.query_page)
    assert len(service.sent) == 2 and service.queries == 0
    first = entries[0]
    assert (
        first["batch_no"],
        first["message_id"],
        first["country"],
        first["phone_count"],
        first["reused"],
    ) == (
        "b-1",
        S1,
        "+86",
        1,
        False,
    )
    assert first["date"] == first["dates"][0] and TODAY in first["dates"]
    assert first["submitted_at"] is not None


def test_a_sure_refusal_is_raised_without_a_lookup():
    service = Service()

    def refused(body: dict[str, Any]) -> tuple[str | None, str]:
        raise TransportError("connection refused", unsent=True)

    with pytest.raises(TransportError):
        submits.submit([batch()], submits.Options(), refused, service.query_page, sleep=lambda s: None)
    assert service.queries == 0


def test_a_lost_answer_is_looked_up_not_resent():
    service = Service()
    file_records(service, "b-1", S2, ["8613800001234"])
    sends: list[dict[str, Any]] = []

    def lost(body: dict[str, Any]) -> tuple[str | None, str]:
        sends.append(body)
        raise TransportError("connection reset")

    (entry,) = submits.submit([batch()], submits.Options(), lost, service.query_page, sleep=lambda s: None)
    assert len(sends) == 1
    assert (entry["message_id"], entry["reused"]) == (S2, True)


def test_a_lost_answer_not_found_raises_the_submit_error_saying_it_was_not_resent():
    service = Service()

    def lost(body: dict[str, Any]) -> tuple[str | None, str]:
        raise TransportError("connection reset")

    with pytest.raises(TransportError) as caught:
        submits.submit(
            [batch()], submits.Options(lost_response_wait=4), lost, service.query_page, sleep=lambda s: None
        )
    assert any("it was not sent again" in note for note in caught.value.__notes__)


def test_when_the_lookup_fails_too_the_submits_own_error_wins():
    def lost(body: dict[str, Any]) -> tuple[str | None, str]:
        raise TransportError("connection reset")

    def broken(body: dict[str, Any]) -> dict[str, Any]:
        raise TransportError("lookup refused", unsent=True)

    with pytest.raises(TransportError, match="connection reset") as caught:
        submits.submit([batch()], submits.Options(), lost, broken, sleep=lambda s: None)
    assert caught.value.__notes__ == ["Looking the batch up failed too: lookup refused"]


def test_a_retry_reuses_the_batch_an_earlier_try_submitted_and_sends_the_rest(caplog):
    service = Service()
    file_records(service, "b-1", S2, ["8613800001234"])
    options = submits.Options(reuse_existing=True, reuse_wait=4)
    log = logging.getLogger("test-submits")
    with caplog.at_level(logging.INFO, logger="test-submits"):
        entries = submits.submit(
            [batch("b-1"), batch("b-2")],
            options,
            service.send,
            service.query_page,
            sleep=lambda s: None,
            log=log,
        )
    assert [(e["batch_no"], e["message_id"], e["reused"]) for e in entries] == [
        ("b-1", S2, True),
        ("b-2", S1, False),
    ]
    assert [body["batchNo"] for body in service.sent] == ["b-2"]
    assert any("1 found and reused, 1 not found" in message for message in caplog.messages)


def test_await_earlier_shares_one_deadline_and_looks_at_each_batch_at_least_once():
    service = Service()
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    found = submits.await_earlier(
        service.query_page, {0: batch("b-1"), 1: batch("b-2")}, [TODAY], 5, sleep=sleep, clock=lambda: now[0]
    )
    assert found == {}
    assert sum(slept) == 5  # one deadline for both, however many there are
    assert service.queries >= 2
