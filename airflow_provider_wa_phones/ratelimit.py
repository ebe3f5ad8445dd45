"""A client-side limit on calls per second, shared by every hook in a process.

CAMS allows 10 calls per second per account for each operation and throttles above that. Keeping
under the limit on the client is cheaper than being throttled and retrying.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class SlidingWindowLimiter:
    """At most ``max_calls`` starts in any ``period`` seconds.

    :meth:`reserve` books the next free start time and says how long to wait for it, so the same
    object serves threads (``time.sleep``) and event loops (``asyncio.sleep``).
    """

    def __init__(self, max_calls: int, period: float) -> None:
        if max_calls < 1 or period <= 0:
            raise ValueError("max_calls must be at least 1 and period positive")
        self.max_calls = max_calls
        self.period = period
        self._starts: deque[float] = deque(maxlen=max_calls)
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book a start time and return the seconds to wait before starting."""
        with self._lock:
            now = time.monotonic()
            start = now
            if self._starts:
                start = max(start, self._starts[-1])
            if len(self._starts) == self.max_calls:
                start = max(start, self._starts[0] + self.period)
            self._starts.append(start)
            return start - now

    def wait(self) -> None:
        """Block the calling thread until it may start a call."""
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)


_limiters: dict[tuple[str, ...], SlidingWindowLimiter] = {}
_registry_lock = threading.Lock()

# The service counts arrivals; a margin over one second keeps network jitter from bunching
# ten of our starts into one of its windows.
CAMS_PERIOD = 1.1


def shared_limiter(key: tuple[str, ...], max_calls: int, period: float = CAMS_PERIOD) -> SlidingWindowLimiter:
    """The process-wide limiter for ``key`` (for example account and operation)."""
    with _registry_lock:
        limiter = _limiters.get(key)
        if limiter is None or (limiter.max_calls, limiter.period) != (max_calls, period):
            limiter = _limiters[key] = SlidingWindowLimiter(max_calls, period)
        return limiter
