"""A task worker, alone in its own process: runs NxCloudNumberCheckOperator's submit of a contact
file as try ``argv[2]`` of one task instance, and prints its batches as JSON on the last line.

Used by test_chunked_submit_crash.py, which SIGKILLs it mid-submit and runs it again as the retry.
The sandbox's connection comes from the environment (AIRFLOW_CONN_NXCLOUD_DEFAULT).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from types import SimpleNamespace


def main() -> None:
    path, try_number, per_request = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator

    now = dt.datetime.now(dt.timezone.utc)
    ti = SimpleNamespace(
        dag_id="crash",
        task_id="submit",
        run_id="manual__crash",
        map_index=-1,
        try_number=try_number,
        start_date=now,
    )
    ti.xcom_push = lambda key, value: None
    run = SimpleNamespace(start_date=now - dt.timedelta(minutes=5), run_after=None)
    operator = NxCloudNumberCheckOperator(
        task_id="submit",
        phones_path=path,
        max_numbers_per_request=per_request,
        # A retry looks for the earlier try's batches for 300 s - retry_delay - time since its start.
        retry_delay=dt.timedelta(seconds=294),
    )
    batches = operator.execute({"ti": ti, "dag_run": run})
    print(json.dumps(batches), flush=True)


if __name__ == "__main__":
    main()
