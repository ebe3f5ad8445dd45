"""A plain local HTTP server that counts every request and answers it like NxCloud or CAMS would.

It is deliberately not the project's sandbox: it checks no signature and keeps no state, so any
request that reaches it counts, and any request the client builds gets a minimal valid answer
(an accepted value completes). It also serves as the HTTP(S) proxy of the code under test, so a
request meant for any other host (a fuzzed connection host, the default public endpoint) is
counted here too and never leaves the machine: an ``https`` host arrives as ``CONNECT`` and is
refused.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: The ``data`` of NxCloud's envelope, per path: the smallest answer the hooks accept.
NXCLOUD_DATA: dict[str, Any] = {
    "/api/wa/getPhone": {"business_phones": []},
    "/api/wa/integrator/embedded/register/phoneList": [],
    "/api/number/check": {"batchNo": None, "messageId": "m-1"},
    "/api/number/query": {"page": 1, "pageSize": 1, "totalPage": 0, "totalSize": 0, "result": []},
}

#: CAMS answers per ``x-acs-action`` (all CAMS calls are ``POST /``).
CAMS_ANSWERS: dict[str, dict[str, Any]] = {
    "QueryChatappPhoneNumbers": {"RequestId": "x", "Code": "OK", "PhoneNumbers": []},
    "QueryPhoneBusinessProfile": {"RequestId": "x", "Code": "OK", "Data": {}},
}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a fuzzed timeout of microseconds) is not the server's error."""


class CountingServer:
    """Serve on 127.0.0.1 in a background thread; ``count`` is the number of requests seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="counting-http", daemon=True)

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def _seen(self) -> None:
        with self._lock:
            self._count += 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: without this, Nagle's algorithm holds the body until
            # the client's delayed ACK of the headers, 40 ms per answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_CONNECT(self) -> None:  # an https request through the proxy: counted, refused
                server._seen()
                self.close_connection = True
                self._answer(403, {"error": "the counting server does not tunnel"})

            def do_POST(self) -> None:
                server._seen()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                # Through the proxy the request line holds the absolute URL.
                path = urlsplit(self.path).path or "/"
                if path in NXCLOUD_DATA:
                    data = NXCLOUD_DATA[path]
                    if path == "/api/number/check":
                        data = {**data, "batchNo": _json_field(body, "batchNo")}
                    self._answer(200, {"code": 0, "msg": "ok", "data": data})
                elif path == "/" and self.headers.get("x-acs-action") in CAMS_ANSWERS:
                    self._answer(200, CAMS_ANSWERS[self.headers["x-acs-action"]])
                else:
                    self._answer(404, {"error": f"no such path {path!r}"})

            do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

            def _answer(self, status: int, payload: Any) -> None:
                content = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        return Handler


def _json_field(body: bytes, name: str) -> Any:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value.get(name) if isinstance(value, dict) else None
