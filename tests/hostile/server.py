"""Servers that misbehave on purpose, one behaviour each, for the hooks to meet over real HTTP.

:class:`HostileServer` is :class:`tests.replay.ReplayServer` (same routes, same counting) whose
routes may also be a :class:`Misbehaviour`: a function that writes the answer itself, byte by byte
if it likes (an endless chunked body, a body trickled one byte a second). It binds 127.0.0.1 only;
every misbehaviour stops when the client goes away or at its own bound, so no thread outlives the
test for long, and ``__exit__`` stops the server.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.replay import Answer, Received, ReplayServer, received, write_answer


@dataclass(frozen=True)
class Misbehaviour:
    """A route that writes its own answer on ``handler`` (a ``BaseHTTPRequestHandler``)."""

    write: Callable[[BaseHTTPRequestHandler, Received], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up in the middle of an endless answer is what the test wants."""


class HostileServer(ReplayServer):
    """A :class:`ReplayServer` whose routes may also be :class:`Misbehaviour`."""

    def __init__(self, routes: dict[str, Any] | None = None) -> None:
        super().__init__(routes)
        self.stop = threading.Event()  # set on exit: every misbehaviour's loop ends

    def __enter__(self) -> HostileServer:
        server = _Server(("127.0.0.1", 0), _handler(self))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        super().__exit__(*exc_info)


def _handler(hostile: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # a trickled byte leaves at once

        def _serve(self) -> None:
            request = received(self)
            answer = hostile.answer(request)  # counts it, picks the route
            if isinstance(answer, Misbehaviour):
                self.close_connection = True
                with contextlib.suppress(OSError):  # the client gave up: the misbehaviour is over
                    answer.write(self, request)
                return
            write_answer(self, answer)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# --- the misbehaviours ---------------------------------------------------------------------------


def redirect(status: int, location: str) -> Answer:
    """A redirect to ``location`` (a small JSON body, as some gateways send)."""
    return Answer(status, b'{"moved": true}', {"Location": location})


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of ``inflated`` zero bytes (1 GiB packs into about 1 MB), built a piece at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    piece = bytes(1024 * 1024)
    parts = [packer.compress(piece) for _ in range(inflated // len(piece))]
    parts.append(packer.compress(bytes(inflated % len(piece))))
    parts.append(packer.flush())
    return b"".join(parts)


def bomb_answer(bomb: bytes, status: int = 200) -> Answer:
    """``bomb`` served whole with ``Content-Encoding: gzip``."""
    return Answer(status, bomb, {"Content-Encoding": "gzip"})


def endless_chunked(stop: threading.Event, limit: int = 256 * 1024**2, seconds: float = 60.0) -> Misbehaviour:
    """A 200 whose chunked body never ends (bounded here by ``limit`` bytes and ``seconds``)."""

    def write(handler: BaseHTTPRequestHandler, request: Received) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"%x\r\n" % (64 * 1024) + b" " * (64 * 1024) + b"\r\n"
        handler.wfile.write(b'5\r\n{"a":\r\n')
        sent, ends = 0, time.monotonic() + seconds
        while sent < limit and time.monotonic() < ends and not stop.is_set():
            handler.wfile.write(chunk)
            sent += len(chunk)

    return Misbehaviour(write)


def trickle(stop: threading.Event, body: bytes, every: float = 1.0) -> Misbehaviour:
    """A 200 announcing ``body`` whole and sending it one byte each ``every`` seconds (bounded:
    it stops at the body's end, or when the client hangs up or the server stops)."""

    def write(handler: BaseHTTPRequestHandler, request: Received) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for i in range(len(body)):
            handler.wfile.write(body[i : i + 1])
            if stop.wait(every):
                return

    return Misbehaviour(write)


def trickled_head(
    stop: threading.Event, body: bytes, head_sent: threading.Event, piece: int = 2, every: float = 0.25
) -> Misbehaviour:
    """A 200 whose status line and headers arrive ``piece`` bytes each ``every`` seconds (a padded
    head of about 300 bytes: some 40 s at the defaults), then ``body`` at once; ``head_sent`` is set
    just before the head's last piece goes out (a client that got the whole head did not stop at
    its deadline). Each piece comes well within any per-receive timeout, so only a deadline for the
    whole request stops it. Bounded: it stops when the client hangs up or the server stops."""

    def write(handler: BaseHTTPRequestHandler, request: Received) -> None:
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + b"X-Padding: "
            + b"p" * 200
            + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        for start in range(0, len(head), piece):
            if start + piece >= len(head):
                head_sent.set()  # before the last piece: no client can have the whole head yet
            handler.wfile.write(head[start : start + piece])
            if stop.wait(every):
                return
        handler.wfile.write(body)

    return Misbehaviour(write)
