"""The sandbox under abuse: it runs inside users' test suites and CI, so a careless or hostile
client must not hold its connections, fill its memory, or make it answer HTTP 500."""

from __future__ import annotations

import json
import socket
import time

import requests

from airflow_provider_wa_phones.sandbox import SandboxServer
from airflow_provider_wa_phones.sandbox.state import RecordedRequest, RequestLog
from tests.unit.sandbox.test_http import call  # signs like a client, from the test's own steps

IDLE = 0.5


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (reads until EOF, with a deadline)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def connect(sb: SandboxServer) -> socket.socket:
    return socket.create_connection((sb.host, sb.port), timeout=5)


def test_a_connection_that_never_sends_a_request_is_closed():
    with SandboxServer(idle_timeout=IDLE) as sb, connect(sb) as sock:
        assert closed_within(sock, IDLE + 3)


def test_headers_sent_a_byte_at_a_time_do_not_hold_the_connection():
    with SandboxServer(idle_timeout=IDLE) as sb, connect(sb) as sock:
        head = b"POST /api/wa/getPhone HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        started = time.monotonic()
        closed = False
        for byte in head:  # every byte restarted uvicorn's own clock; this one does not restart
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if closed_within(sock, 0.05):
                closed = True
                break
        assert closed and time.monotonic() - started < IDLE + 3


def test_a_body_that_trickles_in_gets_408_and_the_connection_closes():
    with SandboxServer(idle_timeout=IDLE) as sb, connect(sb) as sock:
        sock.sendall(b"POST /api/wa/getPhone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        sock.settimeout(IDLE + 3)
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408")
        assert closed_within(sock, IDLE + 3)


def test_an_idle_keep_alive_connection_is_closed_after_its_answer():
    with SandboxServer(idle_timeout=IDLE) as sb, connect(sb) as sock:
        sock.sendall(b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_within(sock, IDLE + 3)


def test_a_body_over_the_limit_is_refused_with_413():
    with SandboxServer(max_body_bytes=1000) as sb:
        response = requests.post(f"{sb.url}/api/wa/getPhone", data=b"x" * 5000, timeout=10)
        assert response.status_code == 413
        assert sb.request_count() == 0


def test_json_nested_100000_deep_gets_the_service_s_parameter_error_not_500():
    with SandboxServer() as sb, requests.Session() as session:
        body = b"[" * 100_000 + b"]" * 100_000  # the bytes as sent, not a JSON string of them
        response = call(sb, session, "/api/wa/getPhone", body)
        assert response.status_code == 200
        assert response.json()["code"] == 1002


def test_the_request_log_is_bounded_in_bytes_as_well_as_entries():
    log = RequestLog(maxlen=1000, max_bytes=10_000)
    for _ in range(100):
        log.record(RecordedRequest("POST", "/p", {"h": "v"}, b"x" * 1000, 200, 0, 0.0, "", None))
        assert log.bytes <= 10_000
    kept = log.entries()
    assert 5 <= len(kept) <= 10
    assert log.count("/p") == 100  # the counters still count everything
    log.clear()
    assert (log.bytes, log.entries()) == (0, [])


def test_normal_clients_are_not_affected():
    with SandboxServer(idle_timeout=IDLE) as sb, requests.Session() as session:
        for _ in range(3):  # one kept-alive connection, reused while it is fresh
            assert session.get(f"{sb.url}/_sandbox/health", timeout=5).json() == {"status": "ok"}
        answer = call(sb, session, "/api/wa/getPhone", json.dumps({"appkey": "x"}).encode())
        assert (answer.status_code, answer.json()["code"]) == (200, 9000)
