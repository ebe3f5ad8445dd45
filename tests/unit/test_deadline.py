"""The sync hooks' deadline monitor (:mod:`airflow_provider_wa_phones.deadline`) on its own."""

from __future__ import annotations

import socket
import time
from types import SimpleNamespace

from airflow_provider_wa_phones import deadline


def _wait_for(condition, seconds: float = 10.0) -> bool:
    ends = time.monotonic() + seconds
    while not condition() and time.monotonic() < ends:
        time.sleep(0.01)
    return condition()


def test_a_watch_fires_at_its_deadline_and_a_blocked_receive_returns():
    ours, theirs = socket.socketpair()
    try:
        watch = deadline.watch(time.monotonic() + 0.2)
        watch.connection = SimpleNamespace(sock=ours)
        ours.settimeout(30)
        assert ours.recv(1) == b""  # returned at the deadline: the monitor shut the socket down
        assert watch.fired
    finally:
        deadline.end(watch)
        ours.close()
        theirs.close()


def test_a_later_watch_with_an_earlier_deadline_wakes_the_monitor():
    late = deadline.watch(time.monotonic() + 3600)
    early = deadline.watch(time.monotonic() + 0.1)
    try:
        assert _wait_for(lambda: early.fired)
        assert not late.fired
    finally:
        deadline.end(late)
        deadline.end(early)


def test_an_ended_watch_never_fires():
    ours, theirs = socket.socketpair()
    try:
        ended = deadline.watch(time.monotonic() + 0.1)
        ended.connection = SimpleNamespace(sock=ours)
        deadline.end(ended)
        marker = deadline.watch(time.monotonic() + 0.2)  # fires after the ended one was due
        assert _wait_for(lambda: marker.fired)
        assert not ended.fired
        theirs.sendall(b"x")
        assert ours.recv(1) == b"x"  # the socket is untouched
    finally:
        deadline.end(marker)
        ours.close()
        theirs.close()
