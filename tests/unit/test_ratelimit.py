"""The client-side rate limit (``ratelimit``): at most so many starts per period, shared per key."""

from __future__ import annotations

import time

import pytest

from airflow_provider_wa_phones import ratelimit
from airflow_provider_wa_phones.ratelimit import SlidingWindowLimiter, shared_limiter


def test_limiter_spaces_the_eleventh_call_a_period_after_the_first():
    limiter = SlidingWindowLimiter(10, 1.0)
    start = time.monotonic()
    waits = [limiter.reserve() for _ in range(21)]
    assert waits[:10] == [0.0] * 10 or max(waits[:10]) < 0.01
    assert 0.95 <= waits[10] <= 1.0 + (time.monotonic() - start)
    assert 1.95 <= waits[20] <= 2.0 + (time.monotonic() - start)


def test_shared_limiter_is_one_per_key():
    assert shared_limiter(("a", "b"), 10) is shared_limiter(("a", "b"), 10)
    assert shared_limiter(("a", "b"), 10) is not shared_limiter(("a", "c"), 10)


class _Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(ratelimit.time, "monotonic", fake)
    monkeypatch.setattr(ratelimit.time, "sleep", fake.sleep)
    return fake


def test_the_window_admits_max_calls_then_books_each_next_start_a_period_after_the_oldest(clock):
    limiter = SlidingWindowLimiter(3, 1.0)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [limiter.reserve() for _ in range(3)] == [1.0, 1.0, 1.0]
    assert limiter.reserve() == 2.0
    clock.now += 1.5  # the last booked start is still 0.5 ahead: the next one may not come sooner
    assert limiter.reserve() == pytest.approx(0.5)
    clock.now += 10.0  # the window moved on: nothing to wait for
    assert limiter.reserve() == 0.0


def test_wait_sleeps_for_the_booked_delay_only_when_there_is_one(clock):
    limiter = SlidingWindowLimiter(1, 2.0)
    limiter.wait()
    limiter.wait()
    assert clock.slept == [2.0]


@pytest.mark.parametrize(("max_calls", "period"), [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_a_limit_that_admits_nothing_is_refused(max_calls, period):
    with pytest.raises(ValueError, match="max_calls must be at least 1"):
        SlidingWindowLimiter(max_calls, period)


def test_a_shared_limiter_is_replaced_when_its_limit_changes():
    first = shared_limiter(("acct", "op-change"), 10)
    assert shared_limiter(("acct", "op-change"), 10) is first
    other = shared_limiter(("acct", "op-change"), 5)
    assert other is not first and (other.max_calls, other.period) == (5, ratelimit.CAMS_PERIOD)
