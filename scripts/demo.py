"""`make demo`: run the example DAGs in a real Airflow against the local sandbox and show results.

Starts the sandbox on a free loopback port, gives Airflow a fresh home with a migrated SQLite
database and connections pointing at the sandbox, runs each example DAG with `airflow dags test`
(the sandbox is reset before each, so its numbers go from PENDING to CONNECTED while the DAG waits),
prints what the DAGs found, and stops the sandbox. Airflow's own output goes to build/demo/*.log.

``quality_alert`` is scheduled on its watchers' asset, which needs a scheduler and a triggerer
(``make e2e`` runs it that way). Here the demo plays the triggerer's part: it runs the DAG's own
watcher triggers against the sandbox until the sandbox's timeline turns numbers RED and BANNED,
then runs the DAG once with those changes as its conf.
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
#: Seconds between the demo watchers' looks (the sandbox's timeline moves in seconds).
WATCH_INTERVAL = "1"


def airflow(args: list[str], env: dict[str, str], log_name: str, shown: str | None = None) -> None:
    """Run ``airflow *args``; ``shown`` stands for the arguments in what is printed (a long conf)."""
    log = WORK / f"{log_name}.log"
    shown = shown or " ".join(args)
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(
            [AIRFLOW, *args], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    took = time.monotonic() - started
    if result.returncode != 0:
        print(f"airflow {shown} failed after {took:.0f} s; last lines of {log}:")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        raise SystemExit(result.returncode)
    print(f"  airflow {shown}: ok in {took:.0f} s (log: {log.relative_to(REPO)})")


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


def watch_for_changes(env: dict[str, str], expected: int, timeout: float = 60.0) -> list[dict[str, object]]:
    """Run quality_alert's watcher triggers (as the triggerer would) until ``expected`` changes."""
    import asyncio

    os.environ.update(env)
    sys.path.insert(0, str(REPO / "example_dags"))
    from example_quality_alert import SENDER_INCIDENTS

    async def collect() -> list[dict[str, object]]:
        changes: list[dict[str, object]] = []

        async def run(trigger: object) -> None:
            async for event in trigger.run():  # type: ignore[attr-defined]
                changes.append(event.payload)

        tasks = [asyncio.create_task(run(watcher.trigger)) for watcher in SENDER_INCIDENTS.watchers]
        deadline = time.monotonic() + timeout
        while len(changes) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return changes

    started = time.monotonic()
    changes = asyncio.run(collect())
    print(f"  watchers: {len(changes)} changes in {time.monotonic() - started:.0f} s")
    if len(changes) < expected:
        raise SystemExit(f"the watchers saw {len(changes)} changes, {expected} expected")
    return changes


def show_quality_alert() -> None:
    from airflow_provider_wa_phones.reports import format_table

    for incidents in sorted(REPORTS.glob("incidents-*.jsonl")):
        rows = [json.loads(line) for line in incidents.read_text(encoding="utf-8").splitlines()]
        print(f"\nquality_alert: {len(rows)} incidents ({incidents.relative_to(REPO)})\n")
        columns = ("service", "phone_number", "verified_name", "field", "old", "new")
        print(format_table(rows, columns))


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
        sandbox.reset()
        env["WA_PHONES_WATCH_INTERVAL"] = WATCH_INTERVAL
        # Two numbers (one per service) go RED and BANNED within 10 s: 2 changes each.
        changes = watch_for_changes(env, expected=4)
        airflow(
            ["dags", "test", "quality_alert", "--conf", json.dumps({"changes": changes})],
            env,
            "quality_alert",
            shown=f"dags test quality_alert --conf '{{\"changes\": [<{len(changes)} changes>]}}'",
        )
        print(f"Sandbox answered {sandbox.request_count()} signed requests to the last DAG; stopping it.")

    show_phone_health()
    show_number_check()
    show_onboarding()
    show_quality_alert()


if __name__ == "__main__":
    main()
