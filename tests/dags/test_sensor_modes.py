"""Every sensor in poke, reschedule and deferrable mode, in a real Airflow (dag.test) against the
sandbox. The sandbox's clock stands still until the sensor has looked once; then a helper thread
moves it past the status change, so each wait really waits and the timing is exact.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.dags

from tests.conftest import DAGS_FOLDER  # noqa: E402

DAG_FILE = DAGS_FOLDER / "sensor_modes.py"
MODES = ["poke", "reschedule", "deferrable"]
GET_PHONE = "/api/wa/getPhone"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag


@pytest.fixture
def out_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WA_PHONES_TEST_OUT", str(tmp_path))
    return tmp_path


def run(dagbag, dag_id):
    run = dagbag.get_dag(dag_id).test()
    return run, {ti.task_id: ti.state for ti in run.get_task_instances()}


@pytest.mark.parametrize("mode", MODES)
def test_nxcloud_phone_status_sensor_waits_for_connected(
    mode, dagbag, sandbox_env, out_dir, advance_when_looked
):
    thread, looked = advance_when_looked(6, path=GET_PHONE)
    _dag_run, states = run(dagbag, f"nxcloud_phone_{mode}")
    thread.join(5)
    assert states == {"wait": "success", "keep": "success"}
    assert looked["before"] >= 1
    assert sandbox_env.request_count(path=GET_PHONE) >= 2  # it saw PENDING, then CONNECTED
    records = json.loads((out_dir / f"nxcloud_phone_{mode}.json").read_text())
    assert {r["phone_number"]: r["status"] for r in records} == {
        "6281234567890": "CONNECTED",
        "8613800001234": "CONNECTED",
    }
    # One getPhone call per poke for all phones: every request asked for both numbers.
    for request in sandbox_env.requests(path=GET_PHONE):
        assert b"6281234567890,8613800001234" in request.body


@pytest.mark.parametrize("mode", MODES)
def test_cams_phone_status_sensor_waits_for_connected(
    mode, dagbag, sandbox_env, out_dir, advance_when_looked
):
    thread, _looked = advance_when_looked(6, action="QueryChatappPhoneNumbers")
    _dag_run, states = run(dagbag, f"cams_phone_{mode}")
    thread.join(5)
    assert states == {"wait": "success", "keep": "success"}
    assert sandbox_env.request_count(action="QueryChatappPhoneNumbers") >= 2
    (record,) = json.loads((out_dir / f"cams_phone_{mode}.json").read_text())
    assert (record["phone_number"], record["status"], record["service"]) == (
        "6591110000",
        "CONNECTED",
        "alibaba_cams",
    )


@pytest.mark.parametrize("mode", MODES)
def test_number_check_sensor_waits_for_every_result(mode, dagbag, sandbox_env, out_dir, advance_when_looked):
    thread, _looked = advance_when_looked(10, path="/api/number/query")
    _dag_run, states = run(dagbag, f"number_check_{mode}")
    thread.join(5)
    assert states == {"submit": "success", "wait": "success", "keep": "success"}
    summary = json.loads((out_dir / f"number_check_{mode}.json").read_text())
    assert (summary["expected"], summary["found"]) == (2, 2)
    assert len(summary["batches"]) == 2  # one per country
    # The first look found nothing (results take time), so the sensor really waited.
    first_query_codes = [r.code for r in sandbox_env.requests(path="/api/number/query")]
    assert len(first_query_codes) >= 4


@pytest.mark.parametrize("mode", MODES)
def test_a_number_that_turns_banned_fails_at_the_next_poke(
    mode, dagbag, sandbox_env, caplog, capsys, advance_when_looked
):
    thread, looked = advance_when_looked(9, path=GET_PHONE)
    _dag_run, states = run(dagbag, f"nxcloud_banned_{mode}")
    thread.join(5)
    assert states == {"wait": "failed"}
    captured = capsys.readouterr()
    assert "5511987654321 is BANNED" in caplog.text + captured.out + captured.err
    # Looked once while CONNECTED/FLAGGED, once after the ban, and stopped: within one poke interval.
    assert sandbox_env.request_count(path=GET_PHONE) == looked["before"] + 1


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_skips_instead(mode, dagbag, sandbox_env, advance_when_looked):
    thread, _looked = advance_when_looked(10, action="QueryChatappPhoneNumbers")
    _dag_run, states = run(dagbag, f"cams_banned_soft_{mode}")
    thread.join(5)
    assert states == {"wait": "skipped"}
