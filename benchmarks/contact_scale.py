"""`make bench` rows for contact files at scale: a generated file of N rows (10 countries, 5 %
invalid, 5 % repeated numbers) submitted, waited for and read back against the sandbox, each task
in a fresh process as Airflow runs it.

Per task it reports the peak RSS of the whole process (Airflow's own imports included, the
kernel's ``VmHWM`` of the task process alone), the client CPU it spent and the requests it made
(the hook's count).
The same is run for 100,000 and 1,000,000 rows, so the growth can be read off.

Run alone: ``.venv/bin/python benchmarks/contact_scale.py [rows ...]``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

#: The code common to each task process: a task instance stub, the CPU and RSS read-outs.
PRELUDE = """
import json, sys, time, datetime as dt
from types import SimpleNamespace
sys.path.insert(0, {repo!r})
def peak_mb():
    # VmHWM: this process's own peak. ru_maxrss would also count the parent it was forked from
    # (the kernel carries the larger of the two across exec), here the bench that wrote the file.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
ti = SimpleNamespace(dag_id="bench", task_id="t", run_id="bench__1", map_index=-1, try_number=1,
                     start_date=dt.datetime.now(dt.timezone.utc))
pushed = {{}}
ti.xcom_push = lambda key, value: pushed.__setitem__(key, value)
"""

SUBMIT = (
    PRELUDE
    + """
from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator
op = NxCloudNumberCheckOperator(task_id="submit", phones_path={path!r})
op.hook.list_phones()  # warm: the hook's imports, session and connection
before, cpu = peak_mb(), time.process_time()
batches = op.execute({{"ti": ti}})
cpu = time.process_time() - cpu
json.dump(batches, open({batches!r}, "w"))
print(json.dumps({{"peak_mb": peak_mb(), "warm_mb": before, "cpu": cpu,
                  "requests": op.hook.stats.requests - 1,
                  "batches": len(batches), "summary": pushed["phones_summary"]}}))
"""
)

WAIT = (
    PRELUDE
    + """
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor
batches = json.load(open({batches!r}))
op = NxCloudNumberCheckSensor(task_id="wait", batches=batches, poke_interval=1, timeout=3600)
op.hook.list_phones()
before, cpu = peak_mb(), time.process_time()
polls, done = 0, False
while not done:
    polls += 1
    done = op.poke({{"ti": ti}}).is_done
cpu = time.process_time() - cpu
print(json.dumps({{"peak_mb": peak_mb(), "warm_mb": before, "cpu": cpu,
                  "requests": op.hook.stats.requests - 1,
                  "polls": polls}}))
"""
)

RESULTS = (
    PRELUDE
    + """
from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckResultsOperator
batches = json.load(open({batches!r}))
op = NxCloudNumberCheckResultsOperator(task_id="results", batches=batches, output_path={output!r})
op.hook.list_phones()
before, cpu = peak_mb(), time.process_time()
outcome = op.execute({{"ti": ti}})
cpu = time.process_time() - cpu
print(json.dumps({{"peak_mb": peak_mb(), "warm_mb": before, "cpu": cpu,
                  "requests": op.hook.stats.requests - 1,
                  "records": outcome["record_count"]}}))
"""
)


def task(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run one task's code in a fresh interpreter; it prints one JSON object on its last line."""
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=False, cwd=REPO
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark task failed:\n{result.stderr[-3000:]}")
    outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    outcome["wall"] = time.monotonic() - started
    return outcome


def advance(url: str, seconds: float) -> None:
    import requests

    requests.post(f"{url}/_sandbox/advance", json={"seconds": seconds}, timeout=60).raise_for_status()


def measure(url: str, env: dict[str, str], rows: int) -> dict[str, Any]:
    """Submit, wait for and read back a generated file of ``rows`` rows; what each task cost."""
    import requests

    from airflow_provider_wa_phones.sandbox import data
    from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

    # A million basic checks cost 5,000 USD in the sandbox's price list: more than its seeded balance.
    balance = {"appkey": data.NXCLOUD_APPKEY, "balance": str(rows)}
    requests.put(f"{url}/_sandbox/nxcloud/balance", json=balance, timeout=30).raise_for_status()

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "contacts.csv.gz")
        truth = write_contact_file(path, rows, seed=rows)
        batches = os.path.join(folder, "batches.json")
        values = {"repo": str(REPO), "path": path, "batches": batches, "output": f"file://{folder}/out.jsonl"}
        submit = task(SUBMIT.format(**values), env)
        advance(url, 10)  # every result is ready once the sandbox's clock moves past the delay
        wait = task(WAIT.format(**values), env)
        results = task(RESULTS.format(**values), env)
    summary = submit.pop("summary")
    return {
        "rows": rows,
        "valid": truth.valid,
        "file_ok": (summary["valid"], summary["invalid"], summary["duplicates"])
        == (truth.valid, truth.invalid, truth.duplicates),
        "chunks": sum(math.ceil(n / 10_000) for n in truth.by_country.values()),
        "submit": submit,
        "wait": wait,
        "results": results,
    }


def rows_for(
    url: str, env: dict[str, str], sizes: tuple[int, ...] = (100_000, 1_000_000)
) -> list[tuple[str, str, str, str, bool]]:
    """The `make bench` rows (measure, baseline, result, target, met) for each size."""
    rows = []
    for size in sizes:
        m = measure(url, env, size)
        s, w, r = m["submit"], m["wait"], m["results"]
        label = f"{size:,} rows ({m['valid']:,} valid)"
        pages_at_least = math.ceil(m["valid"] / 100)
        rows.append((
            f"contact file, {label}: submit task", "the same process before the task ran",
            f"peak RSS {s['peak_mb']:.0f} MB (warm {s['warm_mb']:.0f} MB); {s['requests']} requests for "
            f"{m['chunks']} chunks; CPU {s['cpu'] / size * 1e5:.1f} s per 100,000 rows ({s['cpu']:.1f} s, "
            f"{s['wall']:.0f} s wall)",
            "<= 200 MB; requests = chunks; counts = the file's", s["peak_mb"] <= 200
            and s["requests"] == m["chunks"] == s["batches"] and m["file_ok"],
        ))  # fmt: skip
        rows.append((
            f"contact file, {label}: sensor (poke mode) until done", "-",
            f"{w['requests']} requests in {w['polls']} polls; peak RSS {w['peak_mb']:.0f} MB; CPU "
            f"{w['cpu']:.1f} s ({w['cpu'] / size * 1e5:.1f} s per 100,000)",
            "<= 200 MB", w["peak_mb"] <= 200,
        ))  # fmt: skip
        rows.append((
            f"contact file, {label}: results task to output_path", "-",
            f"peak RSS {r['peak_mb']:.0f} MB (warm {r['warm_mb']:.0f} MB); {r['requests']} requests for "
            f"{r['records']:,} records (>= {pages_at_least:,} pages); CPU {r['cpu'] / size * 1e5:.1f} s per "
            f"100,000 ({r['cpu']:.1f} s)",
            "<= 200 MB; every record", r["peak_mb"] <= 200 and r["records"] == m["valid"],
        ))  # fmt: skip
        rows.append((
            f"contact file, {label}: requests of the whole check", "chunks + sensor + result pages",
            f"{s['requests']} + {w['requests']} + {r['requests']} = "
            f"{s['requests'] + w['requests'] + r['requests']:,}",
            "chunks + polls' pages + result pages",
            s["requests"] == m["chunks"] and r["requests"] >= pages_at_least,
        ))  # fmt: skip
    return rows


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.run import Sandbox

    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp())
    sandbox = Sandbox()
    try:
        sizes = tuple(int(arg) for arg in argv) or (100_000, 1_000_000)
        for row in rows_for(sandbox.url, sandbox.env(), sizes):
            print("| " + " | ".join(str(cell) for cell in row) + " |", flush=True)
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
