from __future__ import annotations

import logging
import random
import time

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError, ThrottledError, TransportError
from airflow_provider_wa_phones.ratelimit import SlidingWindowLimiter, shared_limiter
from airflow_provider_wa_phones.retry import RetryPolicy

LOG = logging.getLogger("test")


def test_delays_grow_and_stay_within_attempts_and_budget():
    policy = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=4.0, max_total_delay=6.0)
    delays = list(policy.delays(random.Random(1)))
    assert 1 <= len(delays) <= 5
    assert sum(delays) <= 6.0
    assert all(0 <= d <= 4.0 for d in delays)


def _flaky(failures):
    calls = {"n": 0}

    def attempt():
        calls["n"] += 1
        if calls["n"] <= len(failures):
            raise failures[calls["n"] - 1]
        return "done"

    return attempt, calls


def test_run_retries_transient_errors_then_succeeds():
    attempt, calls = _flaky([TransportError("reset"), TransportError("reset")])
    slept = []
    assert RetryPolicy(max_attempts=3).run(attempt, name="x", log=LOG, sleep=slept.append) == "done"
    assert calls["n"] == 3 and len(slept) == 2


def test_run_does_not_retry_permanent_errors():
    attempt, calls = _flaky([ParameterError("p", "bad")])
    with pytest.raises(ParameterError):
        RetryPolicy().run(attempt, name="x", log=LOG, sleep=lambda s: None)
    assert calls["n"] == 1


def test_run_gives_up_after_max_attempts_and_honours_retry_after():
    throttled = ThrottledError(
        service="S", operation="o", code="T", message="m", retryable=True, retry_after=2.0
    )
    attempt, calls = _flaky([throttled] * 5)
    slept = []
    with pytest.raises(ThrottledError):
        RetryPolicy(max_attempts=3, initial_delay=0.1).run(attempt, name="x", log=LOG, sleep=slept.append)
    assert calls["n"] == 3
    assert slept == [2.0, 2.0]


def test_may_retry_can_veto():
    attempt, calls = _flaky([TransportError("lost")])
    with pytest.raises(TransportError):
        RetryPolicy().run(attempt, name="x", log=LOG, may_retry=lambda e: False, sleep=lambda s: None)
    assert calls["n"] == 1


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
