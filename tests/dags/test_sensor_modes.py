"""Every sensor in poke, reschedule and deferrable mode, in a real Airflow (dag.test) against the
sandbox. The sandbox's clock stands still until the sensor has looked once; then a helper thread
moves it past the status change, so each wait really waits and the timing is exact.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_wa_phones.sandbox import data
from tests.conftest import DAGS_FOLDER

pytestmark = pytest.mark.dags

DAG_FILE = DAGS_FOLDER / "sensor_modes.py"
MODES = ["poke", "reschedule", "deferrable"]
GET_PHONE = "/api/wa/getPhone"
LIST_CAMS = "QueryChatappPhoneNumbers"


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


@pytest.fixture
def logs(caplog, capsys):
    """Everything the run logged or printed, read after the run."""
    caplog.set_level("DEBUG")

    def read() -> str:
        captured = capsys.readouterr()
        return caplog.text + captured.out + captured.err

    return read


def run(dagbag, dag_id):
    dag_run = dagbag.get_dag(dag_id).test()
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def assert_no_secrets(text: str) -> None:
    for secret in (data.NXCLOUD_ACCESS_SECRET, data.CAMS_ACCESS_KEY_SECRET):
        assert secret not in text


@pytest.mark.parametrize("mode", MODES)
def test_nxcloud_phone_status_sensor_waits_for_connected(
    mode, dagbag, sandbox_env, out_dir, advance_when_looked, logs
):
    _, looked = advance_when_looked(6, path=GET_PHONE)
    states = run(dagbag, f"nxcloud_phone_{mode}")
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
    assert_no_secrets(logs() + json.dumps(records))


@pytest.mark.parametrize("mode", MODES)
def test_cams_phone_status_sensor_waits_for_connected(
    mode, dagbag, sandbox_env, out_dir, advance_when_looked, logs
):
    advance_when_looked(6, action=LIST_CAMS)
    states = run(dagbag, f"cams_phone_{mode}")
    assert states == {"wait": "success", "keep": "success"}
    assert sandbox_env.request_count(action=LIST_CAMS) >= 2
    (record,) = json.loads((out_dir / f"cams_phone_{mode}.json").read_text())
    assert (record["phone_number"], record["status"], record["service"]) == (
        "6591110000",
        "CONNECTED",
        "alibaba_cams",
    )
    assert_no_secrets(logs() + json.dumps(record))


@pytest.mark.parametrize("mode", MODES)
def test_number_check_sensor_waits_for_every_result(mode, dagbag, sandbox_env, out_dir, advance_when_looked):
    advance_when_looked(10, path="/api/number/query")
    states = run(dagbag, f"number_check_{mode}")
    assert states == {"submit": "success", "wait": "success", "keep": "success"}
    summary = json.loads((out_dir / f"number_check_{mode}.json").read_text())
    assert (summary["expected"], summary["found"]) == (2, 2)
    assert len(summary["batches"]) == 2  # one per country
    # The sensor really waited: a batch queried before the results arrived was queried again after
    # (a batch seen finished is not queried again, so two batches make three queries or more).
    assert sandbox_env.request_count(path="/api/number/query") >= 3


@pytest.mark.parametrize("mode", MODES)
def test_a_number_that_turns_banned_fails_at_the_next_poke(
    mode, dagbag, sandbox_env, advance_when_looked, logs
):
    _, looked = advance_when_looked(9, path=GET_PHONE)
    states = run(dagbag, f"nxcloud_banned_{mode}")
    assert states == {"wait": "failed"}
    assert "5511987654321 is BANNED" in logs()
    # Looked once while waiting, once after the ban, and stopped: within one poke interval.
    assert sandbox_env.request_count(path=GET_PHONE) == looked["before"] + 1


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_skips_instead(mode, dagbag, sandbox_env, advance_when_looked):
    advance_when_looked(10, action=LIST_CAMS)
    assert run(dagbag, f"cams_banned_soft_{mode}") == {"wait": "skipped"}
