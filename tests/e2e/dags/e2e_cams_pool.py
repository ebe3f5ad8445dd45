"""E2E only: the README's CAMS limit across processes, kept by a pool in a real deployment.

``scripts/e2e.py`` creates the pool as the README says (``airflow pools set alibaba_cams 2 ...``).
Five tasks, each in its own worker process with its hook limited to ``10 // 2 = 5`` calls per
second, make 15 ``QueryPhoneBusinessProfile`` calls each. Without the pool they would run at once,
25 calls per second against CAMS's 10 per account and operation; with it at most two run at a
time. The script checks that at most two overlapped, and that the sandbox throttled no call.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

POOL = "alibaba_cams"
SLOTS = 2  # as created by scripts/e2e.py
TASKS = 5
CALLS = 15
NUMBER = "8613900001111"  # a CONNECTED sender number of the sandbox's CAMS space


@dag(
    dag_id="e2e_cams_pool",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["whatsapp", "alibaba_cams", "e2e"],
    doc_md=__doc__,
)
def e2e_cams_pool():
    @task(pool=POOL)
    def profile_calls() -> int:
        from airflow_provider_wa_phones.hooks.cams import CamsHook

        hook = CamsHook(rate_limit=10 // SLOTS)
        for _ in range(CALLS):
            hook.query_phone_business_profile(phone_number=NUMBER)
        return CALLS

    for index in range(TASKS):
        profile_calls.override(task_id=f"profile_calls_{index}")()


e2e_cams_pool()
