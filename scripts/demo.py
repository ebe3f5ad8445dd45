"""`make demo`: run the example DAGs in a real Airflow against the local sandbox and show results.

Starts the sandbox on a free loopback port, gives Airflow a fresh home with a migrated SQLite
database and connections pointing at the sandbox, runs each example DAG with `airflow dags test`
(the sandbox is reset before each, so its numbers go from PENDING to CONNECTED while the DAG waits),
prints what the DAGs found, and stops the sandbox. Airflow's own output goes to build/demo/*.log.

``quality_alert`` is scheduled on its watchers' asset, which needs a scheduler and a triggerer
(``make e2e`` runs it that way). Here the demo plays the triggerer's part: it runs the DAG's own
watcher triggers against the sandbox until the sandbox's timeline turns numbers RED and BANNED,
then runs the DAG once with those changes as its conf. The sandbox's clock is held while the
watchers take their first look, so the timeline starts once they have (however slow the machine).

Each DAG's result is printed as soon as it finishes; a DAG that fails does not stop the others,
and the demo then exits non-zero naming every DAG that failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "demo"
REPORTS = WORK / "reports"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = ["phone_health", "number_check", "contact_file_check", "onboarding"]
#: The generated contact file contact_file_check reads: a CRM export of a few thousand rows.
CONTACTS = WORK / "contacts" / "contacts.csv.gz"
CONTACT_ROWS = 5_000
#: Seconds between the demo watchers' looks (the sandbox's timeline moves in seconds).
WATCH_INTERVAL = "1"


class DemoStepFailed(Exception):
    """One step of the demo failed; what it printed says why."""


def airflow(args: list[str], env: dict[str, str], log_name: str, shown: str | None = None) -> None:
    """Run ``airflow *args``; ``shown`` stands for the arguments in what is printed (a long conf).
    Raises :class:`DemoStepFailed` when it fails."""
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
        raise DemoStepFailed(f"airflow {shown} exited with {result.returncode}")
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


def show_contact_file_check() -> None:
    for results in sorted(REPORTS.glob("contact-check-*.jsonl")):
        statuses: dict[str, dict[str, int]] = {}
        with results.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                counts = statuses.setdefault(record.get("regionCode") or "UNKNOWN", {})
                counts[record.get("preCheck") or "UNKNOWN"] = (
                    counts.get(record.get("preCheck") or "UNKNOWN", 0) + 1
                )
        total = sum(sum(counts.values()) for counts in statuses.values())
        print(
            f"\ncontact_file_check: {CONTACT_ROWS:,} rows of {CONTACTS.relative_to(REPO)} -> "
            f"{total:,} distinct "
            f"valid numbers checked ({results.relative_to(REPO)})\n"
        )
        for region, counts in sorted(statuses.items()):
            print(
                f"  {region}: "
                + ", ".join(f"preCheck {key} {value:,}" for key, value in sorted(counts.items()))
            )


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


def watch_for_changes(sandbox: Any, expected: int, timeout: float = 60.0) -> list[dict[str, object]]:
    """Run quality_alert's watcher triggers (as the triggerer would) until ``expected`` changes.

    The sandbox's clock is held from its reset until every watcher has finished its first look
    (its baseline), then released: the timeline's changes come after the baselines, however long
    importing Airflow and the DAG or the first look takes on a busy machine.
    """
    import asyncio

    from airflow_provider_wa_phones.operations import cams, nxcloud

    sys.path.insert(0, str(REPO / "example_dags"))
    from example_quality_alert import SENDER_INCIDENTS

    # A watcher's first look is one request; a second request means its first look is done.
    looks = {"nxcloud": {"path": nxcloud.GET_PHONE.path}, "cams": {"action": cams.QUERY_PHONE_NUMBERS}}

    async def collect() -> list[dict[str, object]]:
        changes: list[dict[str, object]] = []

        async def run(trigger: object) -> None:
            async for event in trigger.run():  # type: ignore[attr-defined]
                changes.append(event.payload)

        tasks = [asyncio.create_task(run(watcher.trigger)) for watcher in SENDER_INCIDENTS.watchers]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            sandbox.request_count(**where) < 2 for where in looks.values()
        ):
            if any(task.done() for task in tasks):
                break
            await asyncio.sleep(0.1)
        released_at = sandbox.release_clock()
        print(f"  watchers: baselines taken; the sandbox's timeline runs from {released_at:.0f} s")
        while len(changes) < expected and time.monotonic() < deadline:
            if all(task.done() for task in tasks):
                break
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                print(f"  a watcher failed: {type(result).__name__}: {result}")
        return changes

    started = time.monotonic()
    changes = asyncio.run(collect())
    print(f"  watchers: {len(changes)} changes in {time.monotonic() - started:.0f} s")
    if len(changes) < expected:
        raise DemoStepFailed(f"the watchers saw {len(changes)} changes, {expected} expected")
    return changes


def show_quality_alert() -> None:
    from airflow_provider_wa_phones.reports import format_table

    for incidents in sorted(REPORTS.glob("incidents-*.jsonl")):
        rows = [json.loads(line) for line in incidents.read_text(encoding="utf-8").splitlines()]
        print(f"\nquality_alert: {len(rows)} incidents ({incidents.relative_to(REPO)})\n")
        columns = ("service", "phone_number", "verified_name", "field", "old", "new")
        print(format_table(rows, columns))


SHOW = {
    "phone_health": show_phone_health,
    "number_check": show_number_check,
    "contact_file_check": show_contact_file_check,
    "onboarding": show_onboarding,
    "quality_alert": show_quality_alert,
}


def main() -> int:
    from airflow_provider_wa_phones.sandbox import SandboxServer

    shutil.rmtree(WORK, ignore_errors=True)
    REPORTS.mkdir(parents=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(WORK / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        "WA_PHONES_REPORT_DIR": str(REPORTS),
        "WA_PHONES_CONTACTS": str(CONTACTS),
    }
    failed: list[str] = []
    from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

    CONTACTS.parent.mkdir(parents=True)
    written = write_contact_file(str(CONTACTS), CONTACT_ROWS, seed=1)
    print(
        f"Wrote {CONTACTS.relative_to(REPO)}: {written.rows:,} rows, "
        f"{written.valid:,} distinct valid numbers, "
        f"{written.invalid:,} invalid rows, {written.duplicates:,} repeated numbers"
    )

    def step(dag_id: str, run: Callable[[], None]) -> None:
        """Run one DAG and print its result at once; a failure is noted, not raised."""
        try:
            run()
            SHOW[dag_id]()
        except DemoStepFailed as failure:
            print(f"\n{dag_id}: FAILED ({failure})\n")
            failed.append(dag_id)
        sys.stdout.flush()

    with SandboxServer() as sandbox:
        print(f"Sandbox running at {sandbox.url}")
        env.update(sandbox.airflow_env())
        try:
            airflow(["db", "migrate"], env, "db-migrate")
        except DemoStepFailed as failure:
            print(f"Airflow's database could not be set up: {failure}")
            return 1
        for dag_id in DAGS:
            sandbox.reset()
            step(dag_id, lambda dag_id=dag_id: airflow(["dags", "test", dag_id], env, dag_id))

        def quality_alert() -> None:
            env["WA_PHONES_WATCH_INTERVAL"] = WATCH_INTERVAL
            os.environ.update(env)
            # Import Airflow and the DAG before the timeline starts; the clock is held from the
            # reset until the watchers have their baselines (see watch_for_changes).
            sys.path.insert(0, str(REPO / "example_dags"))
            import example_quality_alert  # noqa: F401

            sandbox.reset()
            sandbox.hold_clock()
            # Two numbers (one per service) go RED and leave CONNECTED: 2 changes each.
            changes = watch_for_changes(sandbox, expected=4)
            airflow(
                ["dags", "test", "quality_alert", "--conf", json.dumps({"changes": changes})],
                env,
                "quality_alert",
                shown=f"dags test quality_alert --conf '{{\"changes\": [<{len(changes)} changes>]}}'",
            )

        step("quality_alert", quality_alert)
        print(f"Sandbox answered {sandbox.request_count()} signed requests to the last DAG; stopping it.")
    if failed:
        print(f"The demo failed: {', '.join(failed)} (logs in {WORK.relative_to(REPO)})")
        return 1
    print("Every example DAG ran.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
