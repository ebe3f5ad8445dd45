"""`make demo`: run the example DAGs in a real Airflow against the local sandbox and show results.

Starts the sandbox on a free loopback port, gives Airflow a fresh home with a migrated SQLite
database and connections pointing at the sandbox, runs each example DAG with `airflow dags test`,
prints what the DAGs found, and stops the sandbox. Airflow's own output goes to build/demo/*.log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "demo"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = ["phone_health"]


def airflow(args: list[str], env: dict[str, str], log_name: str) -> None:
    log = WORK / f"{log_name}.log"
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(
            [AIRFLOW, *args], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    took = time.monotonic() - started
    if result.returncode != 0:
        print(f"airflow {' '.join(args)} failed after {took:.0f} s; last lines of {log}:")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        raise SystemExit(result.returncode)
    print(f"  airflow {' '.join(args)}: ok in {took:.0f} s (log: {log.relative_to(REPO)})")


def main() -> None:
    from airflow_provider_wa_phones.reports import format_table
    from airflow_provider_wa_phones.sandbox import SandboxServer

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "reports").mkdir(parents=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(WORK / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        "WA_PHONES_REPORT_DIR": str(WORK / "reports"),
    }
    with SandboxServer() as sandbox:
        print(f"Sandbox running at {sandbox.url}")
        env.update(sandbox.airflow_env())
        airflow(["db", "migrate"], env, "db-migrate")
        for dag_id in DAGS:
            airflow(["dags", "test", dag_id], env, dag_id)
        print(f"Sandbox answered {sandbox.request_count()} signed requests; stopping it.")

    for report in sorted((WORK / "reports").glob("*.json")):
        rows = json.loads(report.read_text(encoding="utf-8"))
        flagged = sum(1 for row in rows if row.get("attention"))
        print(
            f"\n{report.stem}: {len(rows)} numbers, {flagged} need attention ({report.relative_to(REPO)})\n"
        )
        print(format_table(rows))


if __name__ == "__main__":
    main()
