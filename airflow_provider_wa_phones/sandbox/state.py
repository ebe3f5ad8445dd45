"""Everything a running sandbox remembers: its clocks, the request log and one backend per service."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.cams.models import DEFAULT_RATE_LIMIT as DEFAULT_CAMS_RATE_LIMIT
from airflow_provider_wa_phones.sandbox.cams.models import CamsBackend
from airflow_provider_wa_phones.sandbox.faults import FaultInjector, FaultPlan
from airflow_provider_wa_phones.sandbox.nxcloud.models import DEFAULT_RESULT_DELAY, NxCloudBackend
from airflow_provider_wa_phones.sandbox.sts.models import StsBackend

DEFAULT_REQUEST_LOG_SIZE = 100_000
#: The request log keeps at most this many bytes of headers and bodies (the oldest go first).
DEFAULT_REQUEST_LOG_BYTES = 64 * 1024 * 1024
#: Seconds a connection may take to send its next request (head, then body) before it is closed.
DEFAULT_IDLE_TIMEOUT = 10.0
#: The largest request body accepted (a submit of 100,000 numbers is about 1.5 MB).
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


class SandboxClock:
    """The server's wall clock (real time plus an offset) and a virtual elapsed-time clock.

    The wall clock drives the signature time window, the Date header and record dates. The virtual
    clock drives number timelines and result delays: it runs at ``time_scale`` times real time and
    jumps forward with :meth:`advance`, so tests never sleep. :meth:`hold` stops it (only
    :meth:`advance` moves it then) until :meth:`release`, e.g. while clients take their baseline.
    """

    def __init__(self, time_scale: float = 1.0, offset_seconds: float = 0.0) -> None:
        if time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {time_scale}")
        self.time_scale = float(time_scale)
        self._initial_offset = float(offset_seconds)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Virtual time back to 0 and the wall-clock offset back to its initial value."""
        with self._lock:
            self._start = time.monotonic()
            self._advanced = 0.0
            self._held = False
            self.offset_seconds = self._initial_offset

    def wall_time(self) -> float:
        """Seconds since the epoch as the server sees them."""
        return time.time() + self.offset_seconds

    def elapsed(self) -> float:
        """Virtual seconds since the sandbox started or was reset."""
        if self._held:
            return self._advanced
        return (time.monotonic() - self._start) * self.time_scale + self._advanced

    @property
    def held(self) -> bool:
        """Whether virtual time is stopped (see :meth:`hold`)."""
        return self._held

    def hold(self) -> float:
        """Stop virtual time where it is (``advance`` still moves it); returns the elapsed time."""
        with self._lock:
            if not self._held:
                self._advanced = self.elapsed()
                self._held = True
            return self._advanced

    def release(self) -> float:
        """Let virtual time run again from where it stands; returns the elapsed time."""
        with self._lock:
            if self._held:
                self._start = time.monotonic()
                self._held = False
        return self.elapsed()

    def advance(self, seconds: float) -> float:
        """Move virtual time forward; returns the new elapsed time."""
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative time ({seconds} s)")
        with self._lock:
            self._advanced += seconds
        return self.elapsed()

    def set_offset(self, seconds: float) -> None:
        """Skew the server's wall clock by ``seconds`` relative to real time."""
        self.offset_seconds = float(seconds)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request to a service path and how the sandbox answered it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    code: int | str | None
    server_time: float
    query: str = ""  # the raw query string, exactly as it arrived
    fault: str | None = None  # the injected fault kind (see faults.py), None for a normal answer

    @property
    def size(self) -> int:
        """Bytes this entry holds: body, query and headers."""
        headers = sum(len(name) + len(value) for name, value in self.headers.items())
        return len(self.body) + len(self.query) + headers

    @property
    def action(self) -> str | None:
        """The operation of the request: CAMS's ``x-acs-action`` header, else an RPC ``Action``
        query parameter (STS's AssumeRole, AssumeRoleWithOIDC); None for neither."""
        return request_action(self.headers, self.query)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready view with the body as text."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "status": self.status,
            "code": self.code,
            "server_time": self.server_time,
            "fault": self.fault,
        }


def request_action(headers: dict[str, str], query: str) -> str | None:
    """CAMS's ``x-acs-action`` header, else the ``Action`` query parameter (RPC style, e.g. STS)."""
    action = headers.get("x-acs-action")
    if action is None and "Action=" in query:
        action = next((value for name, value in parse_qsl(query) if name == "Action"), None)
    return action


class RequestLog:
    """The most recent requests (bounded in number and in bytes) and a total count per path and
    action (unbounded). The sandbox runs inside users' test suites: a flood of large requests
    must not grow it without end."""

    def __init__(
        self, maxlen: int = DEFAULT_REQUEST_LOG_SIZE, max_bytes: int = DEFAULT_REQUEST_LOG_BYTES
    ) -> None:
        self._entries: deque[RecordedRequest] = deque()
        self.maxlen = maxlen
        self.max_bytes = max_bytes
        self.bytes = 0
        self._counts: Counter[tuple[str, str | None]] = Counter()
        self._lock = threading.Lock()

    def record(self, request: RecordedRequest) -> None:
        """Remember one request, forgetting the oldest while over either bound."""
        with self._lock:
            self._entries.append(request)
            self.bytes += request.size
            self._counts[request.path, request.action] += 1
            while self._entries and (len(self._entries) > self.maxlen or self.bytes > self.max_bytes):
                self.bytes -= self._entries.popleft().size

    def entries(self, path: str | None = None, action: str | None = None) -> list[RecordedRequest]:
        """Remembered requests, oldest first, optionally only those to ``path`` and/or of CAMS ``action``."""
        with self._lock:
            return [entry for entry in self._entries if _matches(entry.path, entry.action, path, action)]

    def count(self, path: str | None = None, action: str | None = None) -> int:
        """How many requests were received since the last clear, optionally to ``path`` / of ``action``."""
        with self._lock:
            return sum(
                count
                for (entry_path, entry_action), count in self._counts.items()
                if _matches(entry_path, entry_action, path, action)
            )

    def clear(self) -> None:
        """Forget every request and reset the counters."""
        with self._lock:
            self._entries.clear()
            self._counts.clear()
            self.bytes = 0


def _matches(entry_path: str, entry_action: str | None, path: str | None, action: str | None) -> bool:
    return (path is None or entry_path == path) and (action is None or entry_action == action)


class SandboxState:
    """The live state of one sandbox: clocks, request log, the per-service backends (NxCloud, CAMS,
    and the credential services of Alibaba Cloud: STS, credentials URI, ECS metadata) and the faults.

    ``faults`` is the random fault plan in force from the start (and again after :meth:`reset`).
    """

    def __init__(
        self,
        seed: int = 0,
        result_delay: tuple[float, float] = DEFAULT_RESULT_DELAY,
        time_scale: float = 1.0,
        clock_offset: float = 0.0,
        request_log_size: int = DEFAULT_REQUEST_LOG_SIZE,
        cams_rate_limit: int | None = DEFAULT_CAMS_RATE_LIMIT,
        faults: FaultPlan | None = None,
        lean: bool = False,
        result_calendar: str = "UTC",
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        request_log_bytes: int = DEFAULT_REQUEST_LOG_BYTES,
        timeline_cycle: float | None = None,
        sts_lifetime: float | None = None,
        ecs_metadata_hardened: bool = False,
    ) -> None:
        # timeline_cycle: seconds after which every number's timeline starts over (long-running
        # mode); longer than the timelines, or no number would reach its last state.
        if timeline_cycle is not None and not timeline_cycle > data.timeline_span():
            raise ValueError(
                f"timeline_cycle must be longer than the timelines ({data.timeline_span():g} s), "
                f"got {timeline_cycle!r}"
            )
        self.timeline_cycle = timeline_cycle
        # lean: no request log and no faults, for throughput runs (signatures are still checked).
        self.lean = lean
        self.clock = SandboxClock(time_scale=time_scale, offset_seconds=clock_offset)
        self.requests = RequestLog(maxlen=request_log_size, max_bytes=request_log_bytes)
        # A connection whose next request (head or body) has not arrived this many seconds after
        # it opened or after the last answer is closed; a body over max_body_bytes gets HTTP 413.
        self.idle_timeout = float(idle_timeout)
        self.max_body_bytes = int(max_body_bytes)
        # result_calendar: "UTC" or "UTC+8", the day NxCloud results are filed under (not published).
        self.nxcloud = NxCloudBackend(
            self.clock, seed=seed, result_delay=result_delay, calendar=result_calendar
        )
        # cams_rate_limit: accepted requests per AccessKey and action per second; None or 0 lifts it.
        self.cams = CamsBackend(self.clock, rate_limit=cams_rate_limit)
        self.nxcloud.timeline_cycle = self.cams.timeline_cycle = timeline_cycle
        # sts_lifetime: seconds every key the credential services hand out lives (None: as asked);
        # the keys are CAMS AccessKeys with a security token, expiring on the wall clock.
        self.sts = StsBackend(
            self.clock, self.cams, lifetime=sts_lifetime, ecs_hardened=ecs_metadata_hardened
        )
        self.faults = FaultInjector(faults)

    def reset(self) -> None:
        """Back to the seed: fresh backends, clocks and faults as configured, empty request log."""
        self.clock.reset()
        self.requests.clear()
        self.nxcloud.reset()
        self.cams.reset()
        self.sts.reset()
        self.faults.reset()
