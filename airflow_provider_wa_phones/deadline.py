"""One deadline for a whole sync request: connecting, sending and the answer's head (issue 19).

requests' ``timeout`` bounds each receive, not the request: a server that sends its status line and
headers a few bytes a second keeps a call running for as long as it likes. The body is read by
:func:`airflow_provider_wa_phones.transport.send` a receive at a time under the deadline; this
module bounds what comes before, the part urllib3 reads by itself.

How: :func:`watch` registers the call's deadline with one shared monitor thread (per process, started
with the first call) and makes it the calling thread's current watch. The transport adapter
(:func:`new_adapter`) gives urllib3 connection classes that tell the current watch which connection
the call uses (when connecting and before sending any byte) and end the watch as soon as the answer's head
is read. At the deadline, the monitor shuts the connection's socket down: a receive blocked in
urllib3 returns at once, and the call fails. A watch that fired before the request's first byte
was sent refuses to send it, so "surely never sent" (``Watch.sending`` false) is exact.

The monitor and a call ending take one lock, so a watch never fires after its call has ended (and
after a connection went back to the pool for another call to use). The normal path costs a lock
taken twice and a thread-local read: the monitor is woken only when a deadline is earlier than the
one it sleeps towards. Imported by the transport only, when a session is made (it needs requests).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter


class Watch:
    """The deadline of one call on this thread, and what the monitor did about it."""

    __slots__ = ("connection", "deadline", "fired", "sending")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None  # the urllib3 connection the call uses, once it has one
        self.fired = False  # the deadline passed before the answer's head was read
        self.sending = False  # a byte of the request went to the socket: it may have been taken

    def _fire(self) -> None:
        """At the deadline (the monitor holds the lock): stop what the call is waiting for."""
        self.fired = True
        sock = getattr(self.connection, "sock", None)
        # Through TLS (and a TLS proxy's tunnel) to the plain socket: shutting that down makes a
        # blocked receive return at once, where SSLSocket.shutdown would also unwrap it under the
        # reading thread's feet.
        while sock is not None and not isinstance(sock, socket.socket):
            sock = getattr(sock, "socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile: the call is failing anyway
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Monitor:
    """One thread that fires the watches whose deadline has passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._active: set[Watch] = set()
        self._thread: threading.Thread | None = None
        self._next = math.inf  # the deadline the thread sleeps towards

    def add(self, watch: Watch) -> None:
        with self._lock:
            self._active.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wa-phones-deadlines", daemon=True)
                self._thread.start()
            elif watch.deadline < self._next:
                self._wake.notify()

    def end(self, watch: Watch) -> None:
        """The call is past the part this watch covers: it will not fire from now on."""
        with self._lock:
            self._active.discard(watch)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for watch in [w for w in self._active if w.deadline <= now]:
                    self._active.discard(watch)
                    watch._fire()
                self._next = min((w.deadline for w in self._active), default=math.inf)
                self._wake.wait(None if self._next == math.inf else self._next - now)


_monitor = _Monitor()
_local = threading.local()


def _forget_after_fork() -> None:
    # A forked child (a task runner) has no monitor thread, and its lock may have been taken
    # by a thread that does not exist there: it starts afresh.
    global _monitor, _local
    _monitor, _local = _Monitor(), threading.local()


os.register_at_fork(after_in_child=_forget_after_fork)


def watch(deadline: float) -> Watch:
    """Start watching the calling thread's request, due by ``deadline`` (``time.monotonic()``)."""
    current = Watch(deadline)
    _local.watch = current
    _monitor.add(current)
    return current


def end(current: Watch) -> None:
    """The calling thread's request is over (or its head was read): stop watching it."""
    _monitor.end(current)
    if getattr(_local, "watch", None) is current:
        _local.watch = None


def _current() -> Watch | None:
    current: Watch | None = getattr(_local, "watch", None)
    return current


class _Watched:
    """Mixed into urllib3's connection classes: report to the calling thread's watch."""

    def connect(self) -> None:
        current = _current()
        if current is not None:
            current.connection = self
        super().connect()  # type: ignore[misc]

    def send(self, data: Any) -> None:
        # Every byte of a request leaves through here (http.client connects here when needed).
        current = _current()
        if current is not None:
            current.connection = self
            if getattr(self, "sock", None) is None:
                self.connect()
            if current.fired:  # connecting took the time: nothing is sent
                raise TimeoutError("the request's deadline passed before it was sent")
            current.sending = True
        super().send(data)  # type: ignore[misc]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        current = _current()
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            # The head is read: from here the transport bounds each receive of the body itself,
            # and the connection may go back to the pool once the body is read.
            if current is not None:
                _monitor.end(current)


_watched_classes: dict[type, type] = {}


def _watched(cls: type) -> type:
    """``cls`` (a urllib3 connection class: plain, TLS, SOCKS) with ``_Watched`` mixed in."""
    if issubclass(cls, _Watched):
        return cls
    watched = _watched_classes.get(cls)
    if watched is None:
        watched = _watched_classes[cls] = type(f"Watched{cls.__name__}", (_Watched, cls), {})
    return watched


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connection pools make ``_Watched`` connections."""

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        # Before the pool's first connection is made (each pool passes through here first).
        pool.ConnectionCls = _watched(pool.ConnectionCls)
        return pool


def new_adapter() -> DeadlineAdapter:
    """The adapter a hook's session mounts for http:// and https://."""
    return DeadlineAdapter()
