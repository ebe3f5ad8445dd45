"""The CAMS limit across worker processes, as the README says to keep it: a pool of N slots for
CAMS tasks, each task's hook limited to ``10 // N`` calls per second.

Airflow runs every task in its own process, so a hook's limiter sees only its own task. Here N
worker processes call the live sandbox at once, which throttles above 10 calls per second per
account and operation as CAMS documents; the sandbox's answers are the judge.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

WORKER = """
import json, sys
from airflow_provider_wa_phones.exceptions import ThrottledError
from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.retry import NO_RETRY

hook = CamsHook(retry_policy=NO_RETRY, rate_limit=int(sys.argv[1]))
sys.stdin.readline()  # start together
throttled = 0
for _ in range(int(sys.argv[2])):
    try:
        hook.query_phone_numbers()
    except ThrottledError:
        throttled += 1
print(json.dumps({"throttled": throttled}))
"""


def run_workers(slots: int, rate_limit: int, calls: int) -> list[int]:
    """``slots`` CAMS tasks running at once (the pool's slots), each in its own process."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(rate_limit), str(calls)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for _ in range(slots)
    ]
    for worker in workers:  # every process is loaded before any calls: they overlap
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    return [json.loads(out.strip().splitlines()[-1])["throttled"] for out in outputs]


def test_a_pool_of_two_slots_at_five_calls_a_second_each_is_never_throttled(sandbox):
    assert run_workers(slots=2, rate_limit=10 // 2, calls=20) == [0, 0]
    assert sandbox.request_count(action="QueryChatappPhoneNumbers") == 40


def test_two_tasks_each_at_the_full_limit_are_throttled(sandbox):
    # The check can fail: without dividing the limit by the slots, the account's limit is exceeded.
    assert sum(run_workers(slots=2, rate_limit=10, calls=20)) > 0
