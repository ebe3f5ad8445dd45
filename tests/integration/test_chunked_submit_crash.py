"""Paid once through a crash: a worker SIGKILLed in the middle of a multi-chunk submit of a contact
file, then retried in a new process, and a lost answer to the last chunk. Each number must be
charged exactly once across the tries, as the sandbox counts charges (not as the operator logs).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_provider_wa_phones.sandbox import SandboxServer
from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

pytestmark = pytest.mark.integration

SUBMIT = "/api/number/check"
WORKER = Path(__file__).with_name("submit_worker.py")
REPO = Path(__file__).resolve().parents[2]
#: Generous bounds for a loaded 2-core CI machine; each wait polls and ends as soon as it holds.
DEADLINE = 90.0


def poll(what: str, condition, timeout: float = DEADLINE, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def worker(path: Path, try_number: int, per_request: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(path), str(try_number), str(per_request)],
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def test_a_worker_killed_mid_submit_and_retried_pays_each_number_once(tmp_path):
    path = tmp_path / "contacts.csv"
    truth = write_contact_file(str(path), 5_250, countries=3, seed=2)
    with SandboxServer(time_scale=0) as sandbox:
        env = {**os.environ, **sandbox.airflow_env()}
        # The 4th request is charged, then its answer hangs: the worker is killed while waiting.
        sandbox.fail_next("slow", path=SUBMIT, after=3, slow_seconds=20)
        first = worker(path, 1, 500, env)
        try:
            poll("four charged requests", lambda: len(sandbox.charges()) >= 4 or first.poll() is not None)
            assert first.poll() is None, first.communicate()
            first.send_signal(signal.SIGKILL)
            assert first.wait(timeout=30) == -signal.SIGKILL
        finally:
            first.kill()
            first.communicate()
        killed = sandbox.charges()
        assert len(killed) == 4
        # Minutes pass before the retry; the killed try's records show in the results by then.
        sandbox.advance(10)
        retry = worker(path, 2, 500, env)
        out, err = retry.communicate(timeout=DEADLINE * 2)
        assert retry.returncode == 0, err[-3000:]
        batches = json.loads(out.strip().splitlines()[-1])
        charges = sandbox.charges()
        counts = sandbox.charge_counts()

    retried = charges[len(killed) :]
    charged = [sum(c["count"] for c in killed), sum(c["count"] for c in retried)]
    print(
        f"\nfile: {truth.rows:,} rows, {truth.valid:,} valid distinct numbers; charged by the sandbox: "
        f"{charged[0]:,} in the killed try ({len(killed)} requests), {charged[1]:,} in the retry "
        f"({len(retried)} requests); charged twice: {sum(1 for n in counts.values() if n > 1)}"
    )
    assert len(counts) == truth.valid == sum(charged)  # every valid number of the file was charged
    assert set(counts.values()) == {1}  # and none twice
    assert [b["reused"] for b in batches].count(True) == len(killed)
    assert {c["batch_no"] for c in killed} == {b["batch_no"] for b in batches if b["reused"]}
    assert sum(b["phone_count"] for b in batches) == truth.valid
    assert len(batches) == len(charges)


def test_a_lost_answer_to_the_last_chunk_is_looked_up_not_paid_again(tmp_path, monkeypatch):
    from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator

    path = tmp_path / "contacts.txt.gz"
    truth = write_contact_file(str(path), 1_000, countries=2, file_format="lines", seed=4)
    with SandboxServer(time_scale=0) as sandbox:
        for name, value in sandbox.airflow_env().items():
            monkeypatch.setenv(name, value)
        requests = -(-truth.by_country["CN"] // 100) + -(-truth.by_country["US"] // 100)
        # The last request is charged, then its connection closes without an answer.
        sandbox.fail_next("lost", path=SUBMIT, after=requests - 1)
        stop = threading.Event()

        def time_passes() -> None:
            # Once the answer is lost, results start showing (the lookup finds the batch there).
            while not stop.is_set():
                if sandbox.fault_counts().get("lost"):
                    sandbox.advance(10)
                    return
                stop.wait(0.02)

        mover = threading.Thread(target=time_passes, daemon=True)
        mover.start()
        try:
            ti = SimpleNamespace(dag_id="lost", task_id="s", run_id="r", map_index=-1, try_number=1)
            ti.xcom_push = lambda key, value: None
            batches = NxCloudNumberCheckOperator(
                task_id="s", phones_path=str(path), max_numbers_per_request=100
            ).execute({"ti": ti})
        finally:
            stop.set()
            mover.join(timeout=5)
        charges = sandbox.charges()
        counts = sandbox.charge_counts()
    assert len(batches) == len(charges) == requests
    assert [b["reused"] for b in batches] == [False] * (requests - 1) + [True]  # recovered by lookup
    assert len(counts) == truth.valid and set(counts.values()) == {1}
