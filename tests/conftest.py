"""Test-wide Airflow settings: a private AIRFLOW_HOME, no example DAGs, this repo's DAGs folder.

They must be in the environment before anything imports airflow, which is why they are set at
import time of this root conftest.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_home = Path(tempfile.mkdtemp(prefix="wa-phones-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "example_dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"
# Tests never reach the real services: no connection may default to a production host.
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_"):
        del os.environ[name]
