"""When to try a request again, shared by the synchronous hooks and the asynchronous triggers."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from airflow_provider_wa_phones.exceptions import WaPhonesError

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
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.max_total_delay < 0:
            raise ValueError("delays must not be negative")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Yield the wait before each retry; stops when attempts or the time budget run out."""
        rng = rng or random.Random()
        spent = 0.0
        ceiling = self.initial_delay
        for _ in range(self.max_attempts - 1):
            remaining = self.max_total_delay - spent
            if remaining <= 0:
                return
            delay = min(rng.uniform(0, ceiling), remaining)
            spent += delay
            yield delay
            ceiling = min(ceiling * self.multiplier, self.max_delay)

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

        An error is retried when its ``retryable`` flag is set and ``may_retry`` (if given) agrees;
        a server's ``retry_after`` hint lengthens the wait. ``on_retry`` hears of every retry.
        """
        delays = self.delays()
        while True:
            try:
                return attempt()
            except WaPhonesError as exc:
                delay = _wait_before_retry(exc, delays, may_retry)
                if delay is None:
                    raise
                log.warning("%s failed (%s); retrying in %.1f s", name, exc, delay)
                if on_retry is not None:
                    on_retry(exc, delay)
                sleep(delay)

    async def arun(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        name: str,
        log: WarningLog,
        on_retry: Callable[[WaPhonesError, float], None] | None = None,
    ) -> T:
        """:meth:`run` for coroutines: waits with ``asyncio.sleep`` so the event loop keeps going."""
        import asyncio

        delays = self.delays()
        while True:
            try:
                return await attempt()
            except WaPhonesError as exc:
                delay = _wait_before_retry(exc, delays, None)
                if delay is None:
                    raise
                log.warning("%s failed (%s); retrying in %.1f s", name, exc, delay)
                if on_retry is not None:
                    on_retry(exc, delay)
                await asyncio.sleep(delay)


def _wait_before_retry(
    exc: WaPhonesError, delays: Iterator[float], may_retry: Callable[[WaPhonesError], bool] | None
) -> float | None:
    """Seconds to wait before retrying after ``exc``, or None to give up."""
    if not exc.retryable or (may_retry is not None and not may_retry(exc)):
        return None
    delay = next(delays, None)
    if delay is None:
        return None
    return max(delay, getattr(exc, "retry_after", None) or 0.0)


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass
class CallStats:
    """What a hook's calls cost: requests sent and retries taken, by cause."""

    requests: int = 0
    retries: int = 0
    retry_causes: dict[str, int] = field(default_factory=dict)

    def record_retry(self, exc: WaPhonesError, delay: float) -> None:
        cause = str(getattr(exc, "code", None) or type(exc).__name__)
        self.retries += 1
        self.retry_causes[cause] = self.retry_causes.get(cause, 0) + 1
