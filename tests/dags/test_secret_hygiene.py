"""No credential or request signature reaches what a DAG run leaves behind.

Every example DAG (found in the DagBag, so a new one is covered without touching this file) runs
through ``dag.test()`` against the sandbox, with the CAMS connection on STS credentials so the
security token is used too. Then the secrets of every demo account and every signature the sandbox
received are looked for in: the console output (the task log of ``dag.test()``, unmasked), the task
log files a worker would write (``tests.secrets.task_log_files``), XCom values, rendered template
fields and trigger kwargs. A DAG scheduled on watched assets makes its calls in the watchers'
triggers: they run first, and their events' payloads and serialized kwargs are searched too.
"""

from __future__ import annotations

import functools
import json
import os
import traceback
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wa_phones.sandbox import data
from tests.conftest import DAGS_FOLDER, REPO
from tests.secrets import (
    collect_airflow_logs,
    find_secrets,
    log_files,
    metadata_haystacks,
    signatures_seen,
    task_log_files,
)

pytestmark = pytest.mark.dags

EXAMPLE_DAGS_DIR = REPO / "example_dags"
WRONG_NXCLOUD_SECRET = "hygiene-wrong-nx-secret-5c1e"


@functools.cache
def _dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def _example_dag_ids() -> list[str]:
    """Every DAG of the dags folder that comes from a file in example_dags/."""
    return sorted(
        dag_id
        for dag_id, dag in _dagbag().dags.items()
        if Path(dag.fileloc).resolve().is_relative_to(EXAMPLE_DAGS_DIR.resolve())
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "example_dag_id" in metafunc.fixturenames:
        metafunc.parametrize("example_dag_id", _example_dag_ids())


@pytest.fixture(scope="module")
def dagbag():
    bag = _dagbag()
    assert not {path: error for path, error in bag.import_errors.items() if "example_" in path}
    return bag


@pytest.fixture
def sts_cams(sandbox_env, monkeypatch):
    """Point ``alibaba_cams_default`` at the sandbox with the temporary (STS) credentials."""
    conn = sandbox_env.connections()["alibaba_cams_default"]
    conn.update(login=data.CAMS_STS_ACCESS_KEY_ID, password=data.CAMS_STS_ACCESS_KEY_SECRET)
    conn["extra"] = {**conn["extra"], "security_token": data.CAMS_STS_SECURITY_TOKEN}
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))
    return sandbox_env


def _watchers(dag) -> list:
    """The asset watchers a DAG is scheduled on (their triggers make its service calls)."""
    condition = getattr(dag.timetable, "asset_condition", None)
    assets = getattr(condition, "objects", None) or []
    return [watcher for asset in assets for watcher in getattr(asset, "watchers", None) or []]


def _watch(dag, sandbox) -> tuple[list[dict], list[str]]:
    """Run the DAG's watcher triggers as a triggerer would (looking every 50 ms) until each has
    fired; return the events' payloads and the serialised kwargs the trigger table would hold."""
    from tests.watching import quick, watch_changes

    triggers = [quick(watcher.trigger) for watcher in _watchers(dag)]
    changes = watch_changes(triggers, sandbox, done=lambda fired: all(fired))
    return changes, [json.dumps(trigger.serialize(), default=str) for trigger in triggers]


def _run(dag, capfd, caplog, conf=None):
    """Run ``dag`` with task log files written; return the run, the task results and the console text."""
    caplog.set_level("INFO")
    capfd.readouterr()  # only this run's output
    with task_log_files() as results:
        run = dag.test(run_conf=conf) if conf else dag.test()
    out, err = capfd.readouterr()
    return run, results, out + err + caplog.text


def test_every_example_dag_is_discovered():
    assert {"phone_health", "number_check", "onboarding"} <= set(_example_dag_ids())


def _first_look(dag) -> dict[str, Any]:
    """Which request lets the sandbox clock move: results of number checks submitted after it moved
    would never arrive (the clock stands still), so a DAG that checks numbers waits for its
    trigger's first results query (the sensor has deferred by then); any other DAG's first request
    is a look."""
    if any(type(task).__name__ == "NxCloudNumberCheckSensor" for task in dag.tasks):
        return {"path": "/api/number/query", "from_triggerer": True}
    return {}


@pytest.mark.timeout(120)
def test_example_dag_leaves_no_secret_behind(
    example_dag_id, dagbag, sts_cams, advance_when_looked, capfd, caplog, tmp_path
):
    dag = dagbag.get_dag(example_dag_id)
    watched: dict[str, str] = {}
    if _watchers(dag):  # asset-driven: the watchers call the services, the run gets their changes
        changes, kwargs_rows = _watch(dag, sts_cams)
        assert changes
        watched = {"asset events": json.dumps(changes), "watcher trigger kwargs": "\n".join(kwargs_rows)}
        run, results, console = _run(dag, capfd, caplog, conf={"changes": changes})
    else:
        advance_when_looked(10, **_first_look(dag))  # then PENDING numbers connect and results arrive
        conf = None
        if "contacts_path" in dag.params:  # a contact file to check, written for this run
            from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

            write_contact_file(str(tmp_path / "contacts.csv"), 300, countries=3)
            conf = {"contacts_path": str(tmp_path / "contacts.csv"), "report_dir": str(tmp_path)}
        run, results, console = _run(dag, capfd, caplog, conf=conf)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert set(states.values()) == {"success"}
    assert [task_id for task_id, result in results if result is None or result.error] == []
    signatures = signatures_seen(sts_cams)
    assert signatures, "the run made no signed request"
    for request in sts_cams.requests():
        if request.action:  # a CAMS call: signed with the STS key and carrying its token
            assert f"Credential={data.CAMS_STS_ACCESS_KEY_ID}," in request.headers["authorization"]
            assert request.headers["x-acs-security-token"] == data.CAMS_STS_SECURITY_TOKEN

    files = log_files(os.environ["AIRFLOW_HOME"], run.run_id)
    file_logs = collect_airflow_logs(os.environ["AIRFLOW_HOME"], run.run_id)
    db = metadata_haystacks(dag.dag_id, run.run_id)
    deferrable = {task.task_id for task in dag.tasks if getattr(task, "deferrable", False)}
    haystacks = {
        "console": console,
        "task log files": file_logs,
        **watched,
        **{k: v.text for k, v in db.items()},
    }

    # Each haystack holds what the run produced.
    for task_id in states:
        assert task_id in console
        assert any(f"task_id={task_id}" in path.parts for path in files), task_id
    assert all(path.stat().st_size for path in files)
    assert db["xcom"].rows > 0
    assert db["rendered_fields"].rows == len(states)
    # The first wait defers (the clock stands still until it has looked); a later one may find its
    # numbers ready at once and not defer.
    assert (0 < db["triggers"].rows <= len(deferrable)) if deferrable else db["triggers"].rows == 0

    leaks = {name: find_secrets(text, signatures) for name, text in haystacks.items()}
    assert leaks == {name: [] for name in haystacks}


def test_a_wrong_nxcloud_secret_fails_with_the_cause_and_without_any_secret(
    dagbag, sts_cams, monkeypatch, capfd, caplog
):
    conn = sts_cams.connections()["nxcloud_default"]
    monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps({**conn, "password": WRONG_NXCLOUD_SECRET}))
    dag = dagbag.get_dag("phone_health")
    for task in dag.tasks:  # the example retries failed tasks after 30 s; this is about the first try
        task.retries = 0
    run, results, console = _run(dag, capfd, caplog)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert states["nxcloud_list_phones"] == "failed"
    assert states["cams_phone_numbers"] == "success"
    errors = {task_id: result.error for task_id, result in results if result is not None and result.error}
    assert set(errors) == {"nxcloud_list_phones"}
    exception_text = "".join(traceback.format_exception(errors["nxcloud_list_phones"]))
    file_logs = collect_airflow_logs(os.environ["AIRFLOW_HOME"], run.run_id)
    assert "1003" in exception_text
    assert "invalid signature" in exception_text
    assert "1003" in console
    assert "1003" in file_logs

    haystacks = {
        "exception": exception_text,
        "console": console,
        "task log files": file_logs,
        **{name: haystack.text for name, haystack in metadata_haystacks(dag.dag_id, run.run_id).items()},
    }
    signatures = signatures_seen(sts_cams)
    leaks = {
        name: find_secrets(text, [WRONG_NXCLOUD_SECRET, *signatures]) for name, text in haystacks.items()
    }
    assert leaks == {name: [] for name in haystacks}
