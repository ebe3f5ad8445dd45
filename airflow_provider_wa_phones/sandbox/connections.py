"""How long a connection may keep the sandbox waiting for its next request.

uvicorn restarts its keep-alive clock on any byte that arrives and sets no clock at all before a
connection's first request, so a client that connects and says nothing, or sends its headers a
byte at a time, holds a connection (and in a test suite, a thread's worth of sockets) forever.
Here the clock starts when the connection opens and again after each answer, and only a complete
request head stops it; request bodies are bounded in time and size by the application.
"""

from __future__ import annotations

import asyncio
from typing import Any


class _Guard:
    """Mixin for uvicorn's HTTP protocols; ``timeout_keep_alive`` is the allowance."""

    timeout_keep_alive: float
    timeout_keep_alive_task: asyncio.TimerHandle | None
    loop: asyncio.AbstractEventLoop
    cycle: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive,
            self.timeout_keep_alive_handler,  # type: ignore[attr-defined]
        )

    def data_received(self, data: bytes) -> None:
        # Hide the clock from uvicorn's "any byte restarts it" rule...
        clock, self.timeout_keep_alive_task = self.timeout_keep_alive_task, None
        super().data_received(data)  # type: ignore[misc]
        if clock is None or self.timeout_keep_alive_task is not None:
            return
        # ...and put it back unless a whole request head arrived (a request is now being served).
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if waiting_for_head:
            self.timeout_keep_alive_task = clock
        else:
            clock.cancel()


class _AbortIdleOnShutdown:
    """At shutdown, drop an idle connection instead of closing it politely.

    A polite TLS close waits for the client's close_notify, which an idle keep-alive client (the
    credentials library keeps one per endpoint) never sends: the server would wait for its graceful
    shutdown timeout on every stop.
    """

    cycle: Any
    transport: asyncio.Transport

    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()  # type: ignore[misc]


def guarded_protocol(tls: bool = False) -> type[asyncio.Protocol]:
    """uvicorn's fastest available HTTP protocol with the guard above (``tls``: and an idle
    connection dropped at shutdown)."""
    # light import: uvicorn loads when a server starts (server.py imports this module at the top).
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base: type[asyncio.Protocol] = HttpToolsProtocol
    except ImportError:
        # light import: as above; httptools is optional, h11 comes with uvicorn.
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    mixins: tuple[type, ...] = (_AbortIdleOnShutdown, _Guard) if tls else (_Guard,)
    return type(f"Guarded{base.__name__}", (*mixins, base), {})
