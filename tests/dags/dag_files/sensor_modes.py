"""Test DAGs: every sensor in every mode (poke, reschedule, deferrable), plus hopeless waits.

Each DAG ends with a task that writes the sensor's XCom to $WA_PHONES_TEST_OUT/<dag_id>.json, so
the test can check what reached XCom.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckOperator
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor, NxCloudPhoneStatusSensor

MODES = {"poke": {"mode": "poke"}, "reschedule": {"mode": "reschedule"}, "deferrable": {"deferrable": True}}
COMMON = {"poke_interval": 1, "timeout": 120}


@task
def keep(value, dag_id: str):
    import json
    from pathlib import Path

    Path(os.environ["WA_PHONES_TEST_OUT"], f"{dag_id}.json").write_text(json.dumps(value))


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"])


for mode, kwargs in MODES.items():
    with _dag(f"nxcloud_phone_{mode}") as dag:
        wait = NxCloudPhoneStatusSensor(
            task_id="wait", phones=["+62 812-3456-7890", "8613800001234"], **COMMON, **kwargs
        )
        keep(wait.output, dag.dag_id)
    globals()[dag.dag_id] = dag

    with _dag(f"cams_phone_{mode}") as dag:
        wait = CamsPhoneStatusSensor(task_id="wait", phone_numbers="+65 9111 0000", **COMMON, **kwargs)
        keep(wait.output, dag.dag_id)
    globals()[dag.dag_id] = dag

    with _dag(f"number_check_{mode}") as dag:
        submit = NxCloudNumberCheckOperator(task_id="submit", phones=["+86 138 0000 1234", "+1 415 555 0123"])
        wait = NxCloudNumberCheckSensor(task_id="wait", batches=submit.output, **COMMON, **kwargs)
        keep(wait.output, dag.dag_id)
    globals()[dag.dag_id] = dag

    with _dag(f"nxcloud_banned_{mode}") as dag:
        # Still waiting for the PENDING Indonesian number when the Brazilian one is banned.
        NxCloudPhoneStatusSensor(
            task_id="wait", phones="+55 11 98765-4321, +62 812-3456-7890", **COMMON, **kwargs
        )
    globals()[dag.dag_id] = dag

    with _dag(f"cams_banned_soft_{mode}") as dag:
        CamsPhoneStatusSensor(
            task_id="wait", phone_numbers="6281299990000, 6591110000", soft_fail=True, **COMMON, **kwargs
        )
    globals()[dag.dag_id] = dag
