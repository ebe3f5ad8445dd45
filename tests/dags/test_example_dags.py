"""Each example DAG runs end to end in Airflow (dag.test, real metadata DB) against the sandbox."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_wa_phones.reports import output_file_name
from airflow_provider_wa_phones.sandbox import data

pytestmark = pytest.mark.dags

from tests.conftest import DAGS_FOLDER as DAGS_DIR  # noqa: E402

SECRETS = (data.NXCLOUD_ACCESS_SECRET, data.CAMS_ACCESS_KEY_SECRET)

#: A scheduled run has a logical date; a manual one (UI, REST API, `airflow dags trigger`) has none
#: in Airflow 3, and templates naming ds or ts then fail. Every example DAG runs both ways.
RUNS = pytest.mark.parametrize("dated", [True, False], ids=["scheduled", "manual-no-logical-date"])


def run_dag(dag, dated: bool):
    return dag.test() if dated else dag.test(logical_date=None)


def assert_named_after_the_run(path, run) -> None:
    from airflow_provider_wa_phones.reports import file_safe

    assert file_safe(run.run_id) in path.name  # not "...-None.json", not the day: one file per run


def get_dag(file_name: str, dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR / file_name)).get_dag(dag_id)


def test_example_dags_parse_without_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    assert {"phone_health", "number_check", "onboarding"} <= set(bag.dag_ids)


@RUNS
def test_phone_health_dag_reports_both_services_and_flags_numbers(
    sandbox_env, tmp_path, caplog, capsys, dated
):
    caplog.set_level(logging.DEBUG)
    run = run_dag(get_dag("example_phone_health.py", "phone_health"), dated)
    assert run.state == "success"
    assert (run.logical_date is None) is not dated
    (report,) = tmp_path.glob("phone-health-*.json")
    assert_named_after_the_run(report, run)
    rows = json.loads(report.read_text(encoding="utf-8"))
    services = [row["service"] for row in rows]
    assert (services.count("nxcloud"), services.count("alibaba_cams")) == (5, 4)
    flagged = {(row["service"], row["phone_number"]): row["attention"] for row in rows if row["attention"]}
    assert ("nxcloud", "8613800001234") not in flagged
    assert "status PENDING" in flagged[("nxcloud", "6281234567890")]
    assert "quality RED" in flagged[("nxcloud", "447700900123")]
    assert "status PENDING" in flagged[("alibaba_cams", "6591110000")]
    assert "quality YELLOW" in flagged[("alibaba_cams", "60123456789")]
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "cams_phone_numbers" in logs
    for secret in SECRETS:
        assert secret not in logs
        assert secret not in json.dumps(rows)


@RUNS
def test_number_check_dag_submits_waits_deferred_and_summarises(
    sandbox_env, tmp_path, advance_when_looked, dated
):
    advance_when_looked(10, path="/api/number/query")
    run = run_dag(get_dag("example_number_check.py", "number_check"), dated)
    assert (run.logical_date is None) is not dated
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(["submit", "wait_for_results", "results", "summarise"], "success")
    assert sandbox_env.request_count(path="/api/number/check") == 4  # CN, ID, US, GB
    (results,) = tmp_path.glob("number-check-*.jsonl")
    assert results.name == output_file_name(run.run_id, "number-check", "jsonl")  # the one sanitiser
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 7
    invalid = [r["phone"] for r in records if r["preCheck"] != "YES"]
    assert invalid == ["8612000000000"]


@RUNS
def test_contact_file_dag_checks_every_valid_number_of_the_file_once(
    sandbox_env, tmp_path, advance_when_looked, monkeypatch, dated
):
    from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

    contacts = tmp_path / "contacts" / "contacts.csv.gz"
    contacts.parent.mkdir()
    truth = write_contact_file(str(contacts), 3_000, countries=5, seed=3)
    monkeypatch.setenv("WA_PHONES_CONTACTS", str(contacts))  # the param's default, read at parse time
    advance_when_looked(10, path="/api/number/query")
    run = run_dag(get_dag("example_contact_file_check.py", "contact_file_check"), dated)
    assert (run.logical_date is None) is not dated
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(["submit", "wait_for_results", "results", "summarise"], "success")
    sent = [json.loads(r.body)["phone"].split(",") for r in sandbox_env.requests(path="/api/number/check")]
    assert len(sent) == 5  # one per country: under 10,000 numbers each
    numbers = [number for chunk in sent for number in chunk]
    assert len(numbers) == len(set(numbers)) == truth.valid
    (results,) = tmp_path.glob("contact-check-*.jsonl")
    assert_named_after_the_run(results, run)
    assert len(results.read_text(encoding="utf-8").splitlines()) == truth.valid
    summary = run.get_task_instance("summarise").xcom_pull(task_ids="summarise")
    assert summary["file"]["invalid"] == truth.invalid
    assert summary["file"]["duplicates"] == truth.duplicates
    assert {region: sum(counts.values()) for region, counts in summary["by_country"].items()} == dict(
        truth.by_country
    )


@RUNS
def test_onboarding_dag_waits_for_both_services_then_reads_the_profile(
    sandbox_env, tmp_path, advance_when_looked, dated
):
    advance_when_looked(6)  # whichever service is asked first, both PENDING numbers then connect
    run = run_dag(get_dag("example_onboarding.py", "onboarding"), dated)
    assert (run.logical_date is None) is not dated
    (report,) = tmp_path.glob("onboarding-*.json")
    assert_named_after_the_run(report, run)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(
        ["wait_nxcloud_connected", "wait_cams_connected", "cams_profile", "ready"], "success"
    )
    assert sandbox_env.request_count(action="QueryPhoneBusinessProfile") == 1
    # The first wait saw PENDING then CONNECTED (two polls); the second found CONNECTED at once.
    polls = sandbox_env.request_count(path="/api/wa/getPhone") + sandbox_env.request_count(
        action="QueryChatappPhoneNumbers"
    )
    assert polls >= 3


def test_every_example_task_is_retried_after_a_passing_failure(airflow_db):
    """The examples ride out a failure that a new try cures (the Airflow 3.3.2 race that fails a
    just-resumed deferrable sensor, a worker lost mid-task) without waiting long."""
    from datetime import timedelta
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    examples = [bag.get_dag(dag_id) for dag_id in bag.dag_ids]
    examples = [dag for dag in examples if Path(dag.fileloc).name.startswith("example_")]
    assert {dag.dag_id for dag in examples} == {
        "phone_health",
        "number_check",
        "onboarding",
        "quality_alert",
        "contact_file_check",
    }
    tasks = {(dag.dag_id, task.task_id): task for dag in examples for task in dag.tasks}
    for key, task in tasks.items():
        assert task.retries >= 1, key
        assert timedelta(0) < task.retry_delay <= timedelta(minutes=5), key


@pytest.mark.parametrize("task_id", ["wait_nxcloud_connected", "wait_cams_connected"])
def test_a_retried_deferrable_sensor_defers_again_and_resumes(sandbox_env, task_id):
    """A try the scheduler failed after its trigger fired is retried: the new try looks, defers to the
    same trigger (nothing of the earlier try carried over) and finishes on its event."""
    import asyncio

    from airflow.sdk.exceptions import TaskDeferred

    sensor = get_dag("example_onboarding.py", "onboarding").get_task(task_id)
    deferrals = []
    for try_number in (1, 2):  # the numbers are still PENDING: each try defers
        with pytest.raises(TaskDeferred) as deferred:
            sensor.execute({"ti": None, "try_number": try_number})
        deferrals.append(deferred.value)
    first, retry = deferrals
    assert retry.trigger.serialize() == first.trigger.serialize()
    assert retry.method_name == "execute_complete"
    sandbox_env.advance(6)  # past the PENDING numbers' change to CONNECTED

    async def first_event(trigger):
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    event = asyncio.run(asyncio.wait_for(first_event(retry.trigger), 30))
    records = sensor.resume_execution(retry.method_name, {"event": event}, {"ti": None})
    assert records and {record["status"] for record in records} == {"CONNECTED"}
