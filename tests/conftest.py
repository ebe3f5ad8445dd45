"""Test-wide Airflow settings: a private AIRFLOW_HOME, no example DAGs, this repo's DAGs folder.

They must be in the environment before anything imports airflow, which is why they are set at
import time of this root conftest.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_home = Path(tempfile.mkdtemp(prefix="wa-phones-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# dag.test() runs only DAGs from files under the dags folder: link the example DAGs and the
# test-only DAGs into one private folder.
_dags = _home / "dags"
_dags.mkdir()
for _file in [*(REPO / "example_dags").glob("*.py"), *(REPO / "tests" / "dags" / "dag_files").glob("*.py")]:
    (_dags / _file.name).symlink_to(_file)
DAGS_FOLDER = _dags
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_dags)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"
# Unit-test mode draws a new Fernet key in every process; a DAG file run as `python <file>` (the
# README snippets) shares this run's database, so it must decrypt what the test process wrote (an
# asset watcher's trigger kwargs): one key for every process of the run, as in a deployment.
os.environ["AIRFLOW__CORE__FERNET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
# Tests never reach the real services: no connection may default to a production host.
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_"):
        del os.environ[name]
