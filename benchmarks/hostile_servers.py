"""What misbehaving servers cost the hooks (issue 19): peak memory and the longest call.

    .venv/bin/python benchmarks/hostile_servers.py

Each scenario runs in a fresh process (a clean memory baseline), with its server
(:mod:`tests.hostile.server`, 127.0.0.1) in that process and the real hooks, sync and async:

- a gzip bomb: about 1 MB that inflates to 1 GiB, answered as a 200 and as the ignored body of a
  502: peak RSS growth during the call, and how many requests the server saw (a retry policy that
  would retry a 502 is in force);
- an endless chunked body (bounded at 4 GiB or 60 s on the server's side): peak RSS growth;
- a body trickled at one byte a second with ``timeout=2``: the longest of three calls;
- a status line and headers trickled at 8 bytes a second (``head``) with ``timeout=2``: the longest
  of three calls.

RSS is sampled every 2 ms from /proc/self/statm; growth is the peak minus the RSS just before the
call. The figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MiB = 1024 * 1024
SCENARIOS = [
    (kind, client)
    for kind in ("bomb-200", "bomb-502", "endless", "trickle", "head")
    for client in ("sync", "async")
]


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """The highest RSS seen while the ``with`` block runs, sampled by a thread."""

    def __enter__(self) -> PeakRss:
        self.baseline = self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MiB


def one(kind: str, client: str) -> dict[str, Any]:
    """Run one scenario in this process; its figures."""
    import asyncio

    from airflow_provider_wa_phones.exceptions import WaPhonesError
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook, NxCloudHook
    from airflow_provider_wa_phones.retry import NO_RETRY, RetryPolicy
    from tests.hostile.server import (
        HostileServer,
        bomb_answer,
        endless_chunked,
        gzip_bomb,
        trickle,
        trickled_head,
    )
    from tests.replay import nxcloud_connection

    path = "/api/wa/getPhone"
    retrying = RetryPolicy(max_attempts=4, initial_delay=0.0, max_delay=0.0)
    policy, timeout = retrying, 30.0
    with HostileServer() as server:
        os.environ["AIRFLOW_CONN_NXCLOUD_DEFAULT"] = nxcloud_connection(server.url)
        if kind.startswith("bomb"):
            bomb = gzip_bomb(1024 * MiB)
            server.set(path, bomb_answer(bomb, 200 if kind == "bomb-200" else 502))
        elif kind == "endless":
            server.set(path, endless_chunked(server.stop, limit=4 * 1024 * MiB, seconds=60))
        else:
            body = json.dumps({"code": 0, "message": "ok", "data": {"business_phones": []}}).encode()
            if kind == "head":
                server.set(path, trickled_head(server.stop, body, threading.Event()))
            else:
                server.set(path, trickle(server.stop, body.ljust(600), every=1.0))
            policy, timeout = NO_RETRY, 2.0

        def call() -> str:
            try:
                if client == "sync":
                    hook = NxCloudHook(retry_policy=policy, timeout=timeout)
                    try:
                        hook.get_phone_info()
                    finally:
                        hook.close()
                else:

                    async def run() -> None:
                        async with NxCloudAsyncHook(retry_policy=policy, timeout=timeout) as hook:
                            await hook.get_phone_info()

                    asyncio.run(run())
            except WaPhonesError as exc:
                return type(exc).__name__
            return "no error"

        call()  # warm-up: imports, connection reading, the first session
        server.received.clear()
        figures: dict[str, Any] = {"scenario": kind, "client": client}
        if kind in ("trickle", "head"):
            durations = []
            for _ in range(3):
                started = time.monotonic()
                figures["error"] = call()
                durations.append(time.monotonic() - started)
            figures["longest_call_s"] = round(max(durations), 2)
        else:
            with PeakRss() as peak:
                started = time.monotonic()
                figures["error"] = call()
                figures["call_s"] = round(time.monotonic() - started, 2)
            figures["peak_rss_growth_mib"] = round(peak.growth_mib, 1)
            if kind.startswith("bomb"):
                figures["bomb_bytes"] = len(bomb)
            figures["requests"] = server.count()
    return figures


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(one(sys.argv[1], sys.argv[2])))
        return
    home = tempfile.mkdtemp(prefix="wa-phones-hostile-bench-")
    env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
    }
    print(f"{'scenario':<10} {'client':<6} {'error':<22} figures")
    for kind, client in SCENARIOS:
        done = subprocess.run(
            [sys.executable, __file__, kind, client], env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            print(f"{kind:<10} {client:<6} FAILED: {done.stderr.strip().splitlines()[-1:]}")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        rest = {k: v for k, v in figures.items() if k not in ("scenario", "client", "error")}
        print(f"{kind:<10} {client:<6} {figures['error']:<22} {rest}")


if __name__ == "__main__":
    main()
