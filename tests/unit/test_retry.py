from __future__ import annotations

import logging
import random

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError, ThrottledError, TransportError
from airflow_provider_wa_phones.retry import RetryPolicy

LOG = logging.getLogger("test")


class _Highest(random.Random):
    """Jitter that always draws the top of its range, so each delay shows its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


def backoff_faults(delays: list[float], policy: RetryPolicy) -> list[str]:
    """What is wrong with ``delays`` drawn at the top of their range (``_Highest``) under ``policy``:
    each must be the previous one times the multiplier, capped at ``max_delay`` and at what is left
    of the budget, and there must be as many as attempts and budget allow."""
    faults = []
    ceiling, spent = policy.initial_delay, 0.0
    expected = []
    while len(expected) < policy.max_attempts - 1 and spent < policy.max_total_delay:
        delay = min(ceiling, policy.max_total_delay - spent)
        expected.append(delay)
        spent += delay
        ceiling = min(ceiling * policy.multiplier, policy.max_delay)
    if delays != expected:
        faults.append(f"delays {delays}, expected {expected}")
    return faults


def test_delays_grow_and_stay_within_attempts_and_budget():
    policy = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=4.0, max_total_delay=6.0)
    delays = list(policy.delays(random.Random(1)))
    assert 1 <= len(delays) <= 5
    assert sum(delays) <= 6.0
    assert all(0 <= d <= 4.0 for d in delays)
    # Growth: drawn at the top of the jitter's range, each wait doubles up to max_delay, and the
    # last is cut to what is left of the budget.
    assert list(policy.delays(_Highest())) == [1.0, 2.0, 3.0]
    roomy = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=4.0, max_total_delay=100.0)
    assert list(roomy.delays(_Highest())) == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_faults(list(policy.delays(_Highest())), policy) == []
    assert backoff_faults(list(roomy.delays(_Highest())), roomy) == []
    # Under full jitter each wait stays below its own ceiling (1, 2, then 4).
    for seed in range(20):
        drawn = list(roomy.delays(random.Random(seed)))
        assert all(d <= min(2.0**i, 4.0) for i, d in enumerate(drawn)), (seed, drawn)


def test_the_growth_check_fails_on_delays_that_do_not_grow():
    roomy = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=4.0, max_total_delay=100.0)
    # Planted defects: no growth (a multiplier ignored), one attempt too many, a cap ignored.
    assert backoff_faults([1.0, 1.0, 1.0, 1.0, 1.0], roomy)
    assert backoff_faults([1.0, 2.0, 4.0, 4.0, 4.0, 4.0], roomy)
    assert backoff_faults([1.0, 2.0, 4.0, 8.0, 16.0], roomy)
    flat = RetryPolicy(
        max_attempts=6, initial_delay=1.0, max_delay=4.0, max_total_delay=100.0, multiplier=1.0
    )
    assert list(flat.delays(_Highest())) == [1.0] * 5
    assert backoff_faults(list(flat.delays(_Highest())), roomy)


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
