"""`make demo`: run the example DAGs in a real Airflow against the local sandbox and show results.

Starts the sandbox on a free loopback port, gives Airflow a fresh home with a migrated SQLite
database and connections pointing at the sandbox, runs each example DAG with `airflow dags test`
(the sandbox is reset before each, so its numbers go from PENDING to CONNECTED while the DAG waits),
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
REPORTS = WORK / "reports"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = ["phone_health", "number_check", "onboarding"]


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


def show_phone_health() -> None:
    from airflow_provider_wa_phones.reports import format_table

    for report in sorted(REPORTS.glob("phone-health-*.json")):
        rows = json.loads(report.read_text(encoding="utf-8"))
        flagged = sum(1 for row in rows if row.get("attention"))
        where = report.relative_to(REPO)
        print(f"\nphone_health: {len(rows)} sender numbers, {flagged} need attention ({where})\n")
        print(format_table(rows))


def show_number_check() -> None:
    from airflow_provider_wa_phones.reports import format_table

    for results in sorted(REPORTS.glob("number-check-*.jsonl")):
        rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
        invalid = sum(1 for row in rows if row.get("preCheck") != "YES")
        print(
            f"\nnumber_check: {len(rows)} numbers checked, {invalid} invalid ({results.relative_to(REPO)})\n"
        )
        columns = ("phone", "regionCode", "preCheck", "numberType", "carrier", "batchNo", "code")
        print(format_table(sorted(rows, key=lambda row: row["phone"]), columns))


def show_onboarding() -> None:
    from airflow_provider_wa_phones.reports import format_table

    for report in sorted(REPORTS.glob("onboarding-*.json")):
        outcome = json.loads(report.read_text(encoding="utf-8"))
        print(f"\nonboarding: every awaited number is CONNECTED ({report.relative_to(REPO)})\n")
        print(format_table(outcome["numbers"], ("service", "phone_number", "verified_name", "status")))
        profile = outcome["profile"]
        print(
            f"\nCAMS business profile of {profile['phone_number']}: {profile.get('vertical')}, "
            f"{profile.get('email')}, {profile.get('address')}"
        )


def main() -> None:
    from airflow_provider_wa_phones.sandbox import SandboxServer

    shutil.rmtree(WORK, ignore_errors=True)
    REPORTS.mkdir(parents=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(WORK / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        "WA_PHONES_REPORT_DIR": str(REPORTS),
    }
    with SandboxServer() as sandbox:
        print(f"Sandbox running at {sandbox.url}")
        env.update(sandbox.airflow_env())
        airflow(["db", "migrate"], env, "db-migrate")
        for dag_id in DAGS:
            sandbox.reset()
            airflow(["dags", "test", dag_id], env, dag_id)
        print(f"Sandbox answered {sandbox.request_count()} signed requests to the last DAG; stopping it.")

    show_phone_health()
    show_number_check()
    show_onboarding()


if __name__ == "__main__":
    main()
