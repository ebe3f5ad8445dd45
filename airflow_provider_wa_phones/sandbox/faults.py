"""Faults the sandbox injects into service requests (never into ``/_sandbox/*``).

:class:`FaultInjector` decides which request meets which fault: one-shot faults first, then a random
plan drawn from ``random.Random(seed)``, so the same request sequence meets the same faults.
:func:`serve_with_fault` answers a request with its fault; ``app.RequestRecorder`` calls it.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, cast

from airflow_provider_wa_phones.sandbox.cams.models import HOST_ID, RECOMMEND_URL, RETRY_AFTER_MS

# Before the service sees the request (its state does not change): http_500/502/503 (a gateway's HTML
# page), throttle (CAMS 400 Throttling.User with x-acs-retry-after, NxCloud a bare 429) and reset (TCP
# reset, no answer). After the service processed it (state changed, charges made): slow (the answer
# after slow_seconds), truncated (the body cut short under a matching content-length) and lost (the
# connection closes instead of the answer).
FAULT_KINDS = ("http_500", "http_502", "http_503", "reset", "slow", "throttle", "truncated", "lost")
#: Kinds that strike before the service processes the request, so its state does not change.
BEFORE_PROCESSING = frozenset({"http_500", "http_502", "http_503", "reset", "throttle"})
# ASGI scope key under which a route (or a throttle fault) leaves the envelope's code for the
# request log (an int for NxCloud, a string such as "OK" or "Throttling.User" for CAMS).
ENVELOPE_CODE_SCOPE_KEY = "wa_phones_sandbox.envelope_code"
#: Longer than any client timeout a test sets, short enough not to hold up a server shutdown for long.
DEFAULT_SLOW_SECONDS = 10.0

# How long a broken connection may take to be noticed by the server before the request gives up waiting.
_DISCONNECT_TIMEOUT = 2.0


def _check_kind(kind: Any) -> str:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(FAULT_KINDS)}")
    return cast(str, kind)  # one of FAULT_KINDS


def _check_slow_seconds(seconds: Any) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise ValueError(f"slow_seconds must be a number >= 0, got {seconds!r}")
    return float(seconds)


def _names(value: str | Iterable[str] | None, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = frozenset([value] if isinstance(value, str) else value)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError(f"{what} must be None or non-empty strings, got {value!r}")
    return names


@dataclass(frozen=True)
class FaultPlan:
    """Random faults: each matching request is faulted with probability ``rate``, its kind drawn
    uniformly from ``kinds``. ``paths`` / ``actions`` (CAMS ``x-acs-action``) limit the requests
    it applies to; None means all.
    """

    rate: float
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    paths: frozenset[str] | None = None
    actions: frozenset[str] | None = None
    slow_seconds: float = DEFAULT_SLOW_SECONDS

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) or not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be a probability between 0 and 1, got {self.rate!r}")
        kinds = (self.kinds,) if isinstance(self.kinds, str) else tuple(self.kinds)
        if not kinds:
            raise ValueError("kinds must name at least one fault kind")
        object.__setattr__(self, "kinds", tuple(_check_kind(kind) for kind in kinds))
        object.__setattr__(self, "rate", float(self.rate))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "paths", _names(self.paths, "paths"))
        object.__setattr__(self, "actions", _names(self.actions, "actions"))
        object.__setattr__(self, "slow_seconds", _check_slow_seconds(self.slow_seconds))

    def matches(self, path: str, action: str | None) -> bool:
        """Whether a request to ``path`` (of CAMS ``action``) is subject to this plan."""
        return (self.paths is None or path in self.paths) and (self.actions is None or action in self.actions)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "paths": None if self.paths is None else sorted(self.paths),
            "actions": None if self.actions is None else sorted(self.actions),
            "slow_seconds": self.slow_seconds,
        }


@dataclass(frozen=True)
class Fault:
    """The fault one request meets."""

    kind: str
    slow_seconds: float = DEFAULT_SLOW_SECONDS


@dataclass
class _OneShot:
    kind: str
    remaining: int
    path: str | None = None
    action: str | None = None
    slow_seconds: float | None = None
    after: int = 0  # matching requests still to let through before the first strike

    def matches(self, path: str, action: str | None) -> bool:
        return (self.path is None or self.path == path) and (self.action is None or self.action == action)

    def as_json(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            "kind": self.kind,
            "count": self.remaining,
            "path": self.path,
            "action": self.action,
            "slow_seconds": self.slow_seconds,
        }
        if self.after:  # only while counting down, so the shape without `after` stays as it was
            view["after"] = self.after
        return view


@dataclass
class FaultInjector:
    """Decides which fault, if any, each service request meets. Thread-safe.

    ``initial`` is the plan given at start-up; :meth:`reset` returns to it (reseeded).
    """

    initial: FaultPlan | None = None
    _plan: FaultPlan | None = field(default=None, init=False)
    _rng: random.Random = field(default_factory=random.Random, init=False)
    _queue: list[_OneShot] = field(default_factory=list, init=False)
    _counts: Counter[str] = field(default_factory=Counter, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.reset()

    def set_plan(self, plan: FaultPlan | None) -> None:
        """Replace the random plan (None: no random faults); its generator starts again from its seed."""
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed if plan is not None else 0)

    def fail_next(
        self,
        kind: str,
        count: int = 1,
        path: str | None = None,
        action: str | None = None,
        slow_seconds: float | None = None,
        *,
        after: int = 0,
    ) -> None:
        """Queue ``count`` one-shot faults for the next requests to ``path`` / of ``action`` (any if None).

        One-shot faults are used in the order queued and before the random plan. With ``after``, the
        first ``after`` matching requests (counted from now, whatever else happens to them) pass
        this fault by, so it strikes matching requests ``after + 1`` to ``after + count``: e.g. the
        answer of the last chunk of a three-chunk submit is lost with ``("lost", path=..., after=2)``.
        A request a fault lets by meets the faults queued after it, or the random plan, as usual.
        """
        _check_kind(kind)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a whole number >= 1, got {count!r}")
        for name, value in (("path", path), ("action", action)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be None or a non-empty string, got {value!r}")
        seconds = None if slow_seconds is None else _check_slow_seconds(slow_seconds)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a whole number >= 0, got {after!r}")
        with self._lock:
            self._queue.append(_OneShot(kind, count, path, action, seconds, after))

    def clear(self) -> None:
        """No random plan, no queued faults, nothing counted."""
        with self._lock:
            self._plan = None
            self._queue.clear()
            self._counts.clear()

    def reset(self) -> None:
        """Back to the start-up plan (reseeded), no queued faults, nothing counted."""
        self.set_plan(self.initial)
        with self._lock:
            self._queue.clear()
            self._counts.clear()

    def choose(self, path: str, action: str | None) -> Fault | None:
        """The fault for the next request to ``path`` (of CAMS ``action``), counted; None for none."""
        with self._lock:
            plan = self._plan
            default_slow = plan.slow_seconds if plan is not None else DEFAULT_SLOW_SECONDS
            chosen: _OneShot | None = None
            # Every fault still counting down counts each matching request, even one an earlier
            # fault strikes; the first matching fault not counting down strikes it.
            for queued in self._queue:
                if not queued.matches(path, action):
                    continue
                if queued.after:
                    queued.after -= 1
                elif chosen is None:
                    chosen = queued
            if chosen is not None:
                chosen.remaining -= 1
                if chosen.remaining == 0:
                    self._queue.remove(chosen)
                self._counts[chosen.kind] += 1
                slow = chosen.slow_seconds if chosen.slow_seconds is not None else default_slow
                return Fault(chosen.kind, slow)
            # Requests the plan does not cover draw nothing, so their number cannot shift its sequence.
            if plan is None or not plan.matches(path, action):
                return None
            if self._rng.random() >= plan.rate:
                return None
            kind = self._rng.choice(plan.kinds)
            self._counts[kind] += 1
            return Fault(kind, plan.slow_seconds)

    def counts(self) -> dict[str, int]:
        """How many requests met each kind of fault (only kinds that happened)."""
        with self._lock:
            return {kind: self._counts[kind] for kind in FAULT_KINDS if self._counts[kind]}

    def as_json(self) -> dict[str, Any]:
        """The plan, the queued one-shot faults and the counts."""
        with self._lock:
            plan = None if self._plan is None else self._plan.as_json()
            queued = [entry.as_json() for entry in self._queue]
        return {"plan": plan, "next": queued, "counts": self.counts()}


def make_plan(value: FaultPlan | Mapping[str, Any] | None) -> FaultPlan | None:
    """A plan from a :class:`FaultPlan`, the keyword arguments of one, or None."""
    if value is None or isinstance(value, FaultPlan):
        return value
    if isinstance(value, Mapping):
        return FaultPlan(**value)
    raise TypeError(
        f"faults must be a FaultPlan, a mapping of its fields or None, got {type(value).__name__}"
    )


# --- answering a request with its fault (plain ASGI, no web framework) -----------------------------

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

_GATEWAY_STATUS = {"http_500": 500, "http_502": 502, "http_503": 503}
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
}


async def serve_with_fault(
    fault: Fault,
    app: ASGIApp,
    scope: MutableMapping[str, Any],
    receive: Receive,
    request_receive: Receive,
    send: Send,
    server_send: Send,
    unanswered: Callable[[int], None],
) -> None:
    """Answer one request with ``fault`` instead of (or on top of) the service's own answer.

    ``request_receive`` replays the request body to ``app``; ``receive`` is the server's, used to
    notice a disconnect. ``send`` sends to the client; ``server_send`` is the server's own send, the
    way to reach its connection. ``unanswered(status)`` is called before the client is left without
    an answer, with the status the service answered (0 if it never saw the request).
    """
    kind = fault.kind
    cams = _is_cams(scope)
    if kind in _GATEWAY_STATUS:
        await _send_page(send, _GATEWAY_STATUS[kind], cams)
    elif kind == "throttle":
        await (_send_cams_throttle(scope, send) if cams else _send_page(send, 429, cams))
    elif kind == "reset":
        unanswered(0)
        await _break_connection(server_send, receive, send, reset=True)
    else:
        start, body = await _capture(app, scope, request_receive)
        if kind == "lost":
            unanswered(start["status"])
            await _break_connection(server_send, receive, send, reset=False)
        elif kind == "truncated":
            cut = body[: len(body) // 2]
            headers = [(n, v) for n, v in start.get("headers", ()) if n.lower() != b"content-length"]
            headers.append((b"content-length", str(len(cut)).encode("ascii")))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": cut, "more_body": False})
        else:  # slow
            if await _disconnected_within(receive, fault.slow_seconds):
                unanswered(start["status"])
                return
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})


def _is_cams(scope: MutableMapping[str, Any]) -> bool:
    # CAMS answers on "/" and every CAMS request names its operation; NxCloud has paths of its own.
    return scope["path"] == "/" or any(name.lower() == b"x-acs-action" for name, _ in scope["headers"])


async def _send_page(send: Send, status: int, cams: bool) -> None:
    """The HTML error page a gateway in front of the service answers with."""
    title = f"{status} {_REASONS[status]}"
    server = "Tengine" if cams else "nginx"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        f"<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n"
    ).encode("ascii")
    await _send_whole(send, status, page, b"text/html")


async def _send_cams_throttle(scope: MutableMapping[str, Any], send: Send) -> None:
    request_id = str(uuid.uuid4()).upper()
    body = {
        "RequestId": request_id,
        "HostId": HOST_ID,
        "Code": "Throttling.User",
        "Message": "Request was denied due to user flow control.",
        "Recommend": f"{RECOMMEND_URL}?q=Throttling.User&product=cams&requestId={request_id}",
    }
    # The recorder logs this code like the one a route leaves in the scope.
    scope[ENVELOPE_CODE_SCOPE_KEY] = "Throttling.User"
    await _send_whole(
        send,
        400,
        json.dumps(body).encode("utf-8"),
        b"application/json;charset=utf-8",
        [
            (b"x-acs-request-id", request_id.encode("ascii")),
            (b"x-acs-retry-after", str(RETRY_AFTER_MS).encode("ascii")),
        ],
    )


async def _send_whole(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode("ascii")),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _capture(app: ASGIApp, scope: MutableMapping[str, Any], receive: Receive) -> tuple[Message, bytes]:
    """Run the service and keep its answer instead of sending it."""
    start: Message = {"type": "http.response.start", "status": 500, "headers": []}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = dict(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


async def _disconnected_within(receive: Receive, seconds: float) -> bool:
    """Wait up to ``seconds``; True as soon as the client hangs up."""

    async def hang_up() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    # wait_for, not asyncio.timeout (Python 3.11+); it raises asyncio.TimeoutError, the built-in
    # TimeoutError only from 3.11.
    try:
        await asyncio.wait_for(hang_up(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


async def _break_connection(server_send: Send, receive: Receive, send: Send, *, reset: bool) -> None:
    """Drop the client's connection without a byte of answer: a TCP reset, or a plain close.

    ASGI has no message for this, so it goes through the server's transport (uvicorn's send is a
    method of the request cycle that holds it). Elsewhere the answer starts and stops half way.
    """
    transport = getattr(getattr(server_send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]})
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: closing sends RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # Return only once the server knows the connection is gone, or it would answer in our place.
    await _disconnected_within(receive, _DISCONNECT_TIMEOUT)
