"""When to try a request again, shared by the synchronous hooks and the asynchronous triggers."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.exceptions import ParameterError, ServiceError, WaPhonesError
from airflow_provider_wa_phones.operations.answers import capped_hint

T = TypeVar("T")


class WarningLog(Protocol):
    """Where retries are reported: a stdlib logger or adapter, or a hook's Airflow (structlog) logger."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total waiting time.

    Only errors whose ``retryable`` flag is set are retried; each attempt is signed afresh.
    """

    max_attempts: int = 4
    initial_delay: float = 0.5
    max_delay: float = 8.0
    multiplier: float = 2.0
    max_total_delay: float = 30.0

    def __post_init__(self) -> None:
        # ParameterError is a ValueError: callers that caught the old ValueError still do.
        checks.whole_number("max_attempts", self.max_attempts, 1, 100)
        for name in ("initial_delay", "max_delay", "max_total_delay"):
            checks.seconds(name, getattr(self, name), allow_zero=True)
        checks.seconds("multiplier", self.multiplier, low=1.0, high=100.0, allow_zero=True)

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Yield the wait before each retry; stops when attempts or the time budget run out."""
        budget = _Budget(self, rng)
        while (delay := budget.next_delay()) is not None:
            yield delay

    def run(
        self,
        attempt: Callable[[], T],
        *,
        name: str,
        log: WarningLog,
        may_retry: Callable[[WaPhonesError], bool] | None = None,
        on_retry: Callable[[WaPhonesError, float], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or the policy runs out.

        An error is retried when its ``retryable`` flag is set and ``may_retry`` (if given) agrees.
        A server's ``retry_after`` hint lengthens the wait, but never past the policy's time
        budget: a longer hint ends the call at once with the hint in the error. ``on_retry`` hears
        of every retry.
        """
        budget = _Budget(self, name=name, log=log, may_retry=may_retry, on_retry=on_retry)
        while True:
            try:
                return attempt()
            except WaPhonesError as exc:
                sleep(budget.retry_after(exc))

    async def arun(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        name: str,
        log: WarningLog,
        may_retry: Callable[[WaPhonesError], bool] | None = None,
        on_retry: Callable[[WaPhonesError, float], None] | None = None,
    ) -> T:
        """:meth:`run` for coroutines: waits with ``asyncio.sleep`` so the event loop keeps going."""
        budget = _Budget(self, name=name, log=log, may_retry=may_retry, on_retry=on_retry)
        while True:
            try:
                return await attempt()
            except WaPhonesError as exc:
                await asyncio.sleep(budget.retry_after(exc))


_JITTER = random.Random()


class _Budget:
    """What is left of one call's retries: attempts, waiting time and the backoff ceiling."""

    def __init__(
        self,
        policy: RetryPolicy,
        rng: random.Random | None = None,
        *,
        name: str = "",
        log: WarningLog | None = None,
        may_retry: Callable[[WaPhonesError], bool] | None = None,
        on_retry: Callable[[WaPhonesError, float], None] | None = None,
    ) -> None:
        self.policy = policy
        # The process's shared generator unless one is given: seeding one per call costs more than
        # the call's own bookkeeping, and most calls never retry.
        self.rng = rng or _JITTER
        self.retries = 0
        self.spent = 0.0
        self.ceiling = policy.initial_delay
        self.name, self.log, self.may_retry, self.on_retry = name, log, may_retry, on_retry

    def retry_after(self, exc: WaPhonesError) -> float:
        """Seconds to wait before retrying after ``exc`` (reported to the log and ``on_retry``);
        raises ``exc`` when it is not to be retried.

        Raises ``exc`` with the service's hint in its message when the hint alone is longer than
        the waiting time left: waiting that long inside a task would look like a hang.
        """
        if not exc.retryable or (self.may_retry is not None and not self.may_retry(exc)):
            raise exc
        hint = _usable_hint(getattr(exc, "retry_after", None))
        left = self.left()
        if hint > left and isinstance(exc, ServiceError):
            raise exc.with_detail(_come_back_later(hint, left)) from exc
        delay = self.next_delay(hint)
        if delay is None:
            raise exc
        if self.log is not None:
            self.log.warning("%s failed (%s); retrying in %.1f s", self.name, exc, delay)
        if self.on_retry is not None:
            self.on_retry(exc, delay)
        return delay

    def left(self) -> float:
        """Seconds of waiting the policy still allows."""
        return self.policy.max_total_delay - self.spent

    def next_delay(self, at_least: float = 0.0) -> float | None:
        """Book the next retry's wait (backoff with jitter, at least ``at_least``), or None when
        attempts or waiting time have run out."""
        policy = self.policy
        left = self.left()
        if self.retries >= policy.max_attempts - 1 or left <= 0:
            return None
        delay = max(min(self.rng.uniform(0, self.ceiling), left), at_least)
        self.spent += delay
        self.retries += 1
        self.ceiling = min(self.ceiling * policy.multiplier, policy.max_delay)
        return delay


def _usable_hint(value: Any) -> float:
    """A service's retry hint as a wait in seconds: 0 when absent, not a number, not positive or
    NaN; at most a day (an error built by hand may carry any value; the readers cap theirs)."""
    return capped_hint(value) or 0.0


def _come_back_later(hint: float, left: float) -> str:
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=hint)
    seconds = f"{hint:.0f}" if hint >= 10 else f"{hint:.1f}"
    return (
        f"the service asks to wait {seconds} s before the next try, more than the {left:.1f} s left of "
        f"the retry budget (max_total_delay); try again after {when:%Y-%m-%d %H:%M:%S} UTC"
    )


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass
class CallStats:
    """What a hook's calls cost: requests sent and retries taken, by cause."""

    requests: int = 0
    retries: int = 0
    retry_causes: dict[str, int] = field(default_factory=dict)
    # Pages are read by several threads at once: counting is guarded.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_request(self) -> None:
        with self._lock:
            self.requests += 1

    def record_retry(self, exc: WaPhonesError, delay: float) -> None:
        cause = str(getattr(exc, "code", None) or type(exc).__name__)
        with self._lock:
            self.retries += 1
            self.retry_causes[cause] = self.retry_causes.get(cause, 0) + 1


def checked_policy(param: str, value: Any) -> RetryPolicy | None:
    """None or a :class:`RetryPolicy`, else a :class:`ParameterError` naming ``param``."""
    if value is not None and not isinstance(value, RetryPolicy):
        raise ParameterError(
            param,
            f"must be a RetryPolicy (airflow_provider_wa_phones.retry) or None, got {checks.quoted(value)}",
        )
    return value
