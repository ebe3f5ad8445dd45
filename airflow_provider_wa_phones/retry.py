"""When to try a request again, shared by the synchronous hooks and the asynchronous triggers."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from airflow_provider_wa_phones.exceptions import WaPhonesError

T = TypeVar("T")


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
        log: logging.Logger | logging.LoggerAdapter,
        may_retry: Callable[[WaPhonesError], bool] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or the policy runs out.

        An error is retried when its ``retryable`` flag is set and ``may_retry`` (if given) agrees;
        a server's ``retry_after`` hint lengthens the wait.
        """
        delays = self.delays()
        while True:
            try:
                return attempt()
            except WaPhonesError as exc:
                if not exc.retryable or (may_retry is not None and not may_retry(exc)):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                delay = max(delay, getattr(exc, "retry_after", None) or 0.0)
                log.warning("%s failed (%s); retrying in %.1f s", name, exc, delay)
                sleep(delay)

    async def arun(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        name: str,
        log: logging.Logger | logging.LoggerAdapter,
    ) -> T:
        """:meth:`run` for coroutines: waits with ``asyncio.sleep`` so the event loop keeps going."""
        import asyncio

        delays = self.delays()
        while True:
            try:
                return await attempt()
            except WaPhonesError as exc:
                delay = next(delays, None) if exc.retryable else None
                if delay is None:
                    raise
                delay = max(delay, getattr(exc, "retry_after", None) or 0.0)
                log.warning("%s failed (%s); retrying in %.1f s", name, exc, delay)
                await asyncio.sleep(delay)


NO_RETRY = RetryPolicy(max_attempts=1)
