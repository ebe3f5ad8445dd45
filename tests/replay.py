"""A plain local HTTP server that answers with exactly the bytes it is given.

Contract tests use it instead of the sandbox: the sandbox is ours and shares our assumptions, so
published answers (``tests/contract/published/``) and hand-made hostile ones (HTML from a proxy,
JSON of the wrong shape, throttling without an envelope) are replayed byte for byte from here.
It binds 127.0.0.1 only and counts every request it receives.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """One canned HTTP answer."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
        return cls(status, json.dumps(payload).encode(), dict(headers or {}))


@dataclass(frozen=True)
class Received:
    """What the server saw of one request."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


#: A route answers a request: a fixed answer, a list served in turn (the last one repeats), or a
#: function of the request.
Route = Answer | list[Answer] | Callable[[Received], Answer]


class ReplayServer:
    """Serves ``routes`` (path -> :data:`Route`) on a free loopback port; 404 for anything else.

    Use it as a context manager; :attr:`url` is the base URL and :attr:`received` the requests seen.
    """

    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.received: list[Received] = []
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ReplayServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, path: str | None = None) -> int:
        """How many requests arrived (at ``path``)."""
        with self._lock:
            return sum(1 for request in self.received if path is None or request.path == path)

    def set(self, path: str, route: Route) -> None:
        """Replace the answer of ``path`` and start its list of answers from the top."""
        with self._lock:
            self.routes[path] = route
            self._served.pop(path, None)

    def answer(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            route = self.routes.get(request.path)
            served = self._served.get(request.path, 0)
            self._served[request.path] = served + 1
        if route is None:
            return Answer(404, b"<html><body>404 Not Found</body></html>", content_type="text/html")
        if callable(route):
            return route(request)
        if isinstance(route, list):
            return route[min(served, len(route) - 1)]
        return route


def received(handler: BaseHTTPRequestHandler) -> Received:
    """The request ``handler`` is serving, its body read."""
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    url = urlsplit(handler.path)
    headers = {k.lower(): v for k, v in handler.headers.items()}
    return Received(handler.command, url.path, url.query, headers, body)


def write_answer(handler: BaseHTTPRequestHandler, answer: Answer) -> None:
    """Send ``answer`` as it stands, with its length."""
    handler.send_response(answer.status)
    if answer.content_type:
        handler.send_header("Content-Type", answer.content_type)
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(answer.body)))
    handler.end_headers()
    handler.wfile.write(answer.body)


def _handler(replay: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            write_answer(self, replay.answer(received(self)))

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test reads `received`, not stderr

    return Handler


def nxcloud_connection(url: str, **extra: Any) -> str:
    """An ``nxcloud`` connection (JSON for ``AIRFLOW_CONN_*``) pointing at ``url``."""
    return json.dumps(
        {
            "conn_type": "nxcloud",
            "host": url,
            "login": "replay-access-key",
            "password": "replay-access-secret",
            "extra": {"appkey": "replay-app", **extra},
        }
    )


def cams_connection(url: str, **extra: Any) -> str:
    """An ``alibaba_cams`` connection (JSON for ``AIRFLOW_CONN_*``) pointing at ``url``."""
    return json.dumps(
        {
            "conn_type": "alibaba_cams",
            "host": url,
            "login": "LTAIreplaykey",
            "password": "replay-cams-secret",
            "extra": {"region": "ap-southeast-1", "cust_space_id": "replay-space", **extra},
        }
    )


def pages(records: Iterable[dict[str, Any]]) -> Callable[[Received], Answer]:
    """A number-check query route that pages ``records`` the way the service documents it."""
    items = list(records)

    def route(request: Received) -> Answer:
        body = json.loads(request.body)
        page, size = body["page"], body["pageSize"]
        chunk = items[(page - 1) * size : page * size]
        total_pages = -(-len(items) // size)
        data = {"result": chunk, "totalSize": len(items), "totalPage": total_pages, "pageSize": size}
        return Answer.json({"msg": "Request successful", "code": 0, "data": {**data, "page": page}})

    return route
