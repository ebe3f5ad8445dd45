"""The sandbox's NxCloud number check at a million numbers: submit, read back, and the memory it takes.

Starts an in-process :class:`SandboxServer` on 127.0.0.1 (a free port; stopped at the end), then,
over real HTTP through the provider's :class:`NxCloudHook`:

* submits ``--submits`` chunks (default 100) of ``--chunk`` numbers (default 10,000), one country
  per chunk, round-robin over 10 countries, each country's chunks under one batch number;
* advances the sandbox clock past the result delay and reads every result page (pageSize 100);
* prints the time per submit and per page (client round trip and the sandbox's own share, timed
  inside the backend), the process RSS growth, and the sandbox's charge totals.

    PYTHONPATH=. python benchmarks/sandbox_scale.py [--submits 100] [--chunk 10000] [--full]

Not part of the test suite (a million numbers take a while on a shared machine). ``--full`` keeps
the request log and faults on (the default is the lean sandbox the throughput benchmarks use).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import phonenumbers  # noqa: E402

COUNTRIES = ("ID", "BR", "IN", "MX", "NG", "PH", "VN", "TR", "EG", "PK")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def numbers(region: str, count: int) -> list[str]:
    """``count`` distinct numbers of ``region``: its example mobile number with the tail varied."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    national = phonenumbers.national_significant_number(example)
    width = len(str(count - 1))
    head = national[: len(national) - width]
    return [f"{example.country_code}{head}{i:0{width}d}" for i in range(count)]


class Timed:
    """Times the handler of the NxCloud route at ``path``: the time the sandbox itself spends."""

    def __init__(self, path: str) -> None:
        import dataclasses

        from airflow_provider_wa_phones.sandbox.nxcloud import routes

        self.times: list[float] = []
        (operation,) = [op for op in routes.OPERATIONS if op.path == path]
        original: Callable[..., Any] = operation.handler

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.times.append(time.perf_counter() - start)

        # The router reads OPERATIONS when the app is built: patch before the server starts.
        routes.OPERATIONS = tuple(
            dataclasses.replace(op, handler=timed) if op is operation else op for op in routes.OPERATIONS
        )


def summary(label: str, times: list[float]) -> str:
    if not times:
        return f"{label}: none"
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return (
        f"{label}: n={len(ms)} mean {statistics.fmean(ms):.2f} ms, median {statistics.median(ms):.2f} ms, "
        f"p95 {p95:.2f} ms, max {ms[-1]:.2f} ms, total {sum(ms) / 1000:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--full", action="store_true", help="request log and faults on")
    parser.add_argument("--pages", type=int, default=0, help="read only this many pages per batch (0: all)")
    args = parser.parse_args()

    from decimal import Decimal

    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
    from airflow_provider_wa_phones.sandbox import SandboxServer, data
    from airflow_provider_wa_phones.sandbox.nxcloud.models import NxCloudBackend

    per_country = -(-args.submits // len(COUNTRIES)) * args.chunk
    plan = {region: numbers(region, per_country) for region in COUNTRIES}
    total = args.submits * args.chunk
    print(f"{args.submits} submits of {args.chunk:,} numbers ({total:,}) over {len(COUNTRIES)} countries")

    submit_timer = Timed("/api/number/check")
    query_timer = Timed("/api/number/query")
    with SandboxServer(time_scale=0, lean=not args.full, host="127.0.0.1") as sandbox:
        os.environ.update(sandbox.airflow_env())
        backend = sandbox.state.nxcloud
        assert isinstance(backend, NxCloudBackend)
        backend.app(data.NXCLOUD_APPKEY).balance = Decimal(10**9)
        hook = NxCloudHook()
        rss_start = rss_mb()
        client_submits: list[float] = []
        batches: dict[str, str] = {}
        started = time.perf_counter()
        for index in range(args.submits):
            region = COUNTRIES[index % len(COUNTRIES)]
            offset = (index // len(COUNTRIES)) * args.chunk
            chunk = plan[region][offset : offset + args.chunk]
            start = time.perf_counter()
            (entry,) = hook.submit_number_check(chunk, batch_no=f"scale-{region}")
            client_submits.append(time.perf_counter() - start)
            batches[entry["batch_no"]] = entry["date"]
        submit_wall = time.perf_counter() - started
        rss_submitted = rss_mb()
        del plan

        sandbox.advance(3600)
        client_pages: list[float] = []
        records = 0
        started = time.perf_counter()
        for batch_no, date in batches.items():
            page, last = 1, 1
            while page <= last:
                start = time.perf_counter()
                answer = hook.query_number_check(date, batch_no=batch_no, page=page, page_size=100)
                client_pages.append(time.perf_counter() - start)
                records += len(answer["result"])
                last = answer["totalPage"] if not args.pages else min(answer["totalPage"], args.pages)
                page += 1
        query_wall = time.perf_counter() - started
        rss_read = rss_mb()
        hook.close()

        totals = sandbox.charge_totals()
        print(summary("submit, client round trip", client_submits))
        print(summary("submit, inside the sandbox", submit_timer.times))
        print(f"all submits: {submit_wall:.1f} s wall")
        print(summary("query page, client round trip", client_pages))
        print(summary("query page, inside the sandbox", query_timer.times))
        print(f"all pages: {query_wall:.1f} s wall, {records:,} records read")
        print(
            f"RSS: {rss_start:.0f} MB before, {rss_submitted:.0f} MB after the submits "
            f"(+{rss_submitted - rss_start:.0f} MB), {rss_read:.0f} MB after reading"
        )
        print(f"charges: {totals}")
    print("sandbox stopped")


if __name__ == "__main__":
    main()
