"""NxCloudHook, operators and sensor against NxCloud's published examples and error shapes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from airflow_provider_wa_phones.exceptions import (
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
)
from tests.contract.conftest import PUBLISHED, published, published_bytes
from tests.replay import Answer

TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()
GET_PHONE, PHONE_LIST = "/api/wa/getPhone", "/api/wa/integrator/embedded/register/phoneList"
SUBMIT, QUERY = "/api/number/check", "/api/number/query"
SHARED = "nxcloud/number-query-success-shared-messageid.json"
SHARED_SUBMIT_ID = "33f7c158a4194abe9ccdf3eac34a8422"


def raw(name: str, status: int = 200) -> Answer:
    return Answer(status, published_bytes(name))


def test_published_copy_matches_the_shared_contracts():
    shared = Path(__file__).resolve().parents[3] / "shared" / "contracts"
    if not shared.is_dir():
        pytest.skip("the shared contracts folder is not beside this checkout (a CI clone)")
    ours = {p.relative_to(PUBLISHED): p.read_bytes() for p in PUBLISHED.rglob("*") if p.is_file()}
    theirs = {p.relative_to(shared): p.read_bytes() for p in shared.rglob("*") if p.is_file()}
    assert ours == theirs


# --- getPhone and phoneList ------------------------------------------------------------------------


def test_get_phone_published_answer_gives_one_record_per_keyed_number(nxcloud, replay):
    replay.set(GET_PHONE, raw("nxcloud/getphone-success.json"))
    records = nxcloud.get_phone_info(["+86 138 0000 1234"])
    assert [r["business_phone"] for r in records] == ["86xxx24", "1xxx99"]
    assert records[0]["verified_name"] == "GLORY JACK"
    sent = json.loads(replay.received[0].body)
    # The published request's fields are the ones the hook sends.
    assert set(sent) == set(published("nxcloud/getphone-request.json"))


def test_phone_list_published_answer_keeps_every_field(nxcloud, replay):
    replay.set(PHONE_LIST, raw("nxcloud/phonelist-success.json"))
    records = nxcloud.list_phones()
    assert records == published("nxcloud/phonelist-success.json")["data"]
    assert set(json.loads(replay.received[0].body)) == set(published("nxcloud/phonelist-request.json"))


@pytest.mark.parametrize("path", [GET_PHONE, PHONE_LIST])
def test_published_failure_minus_one_is_retried_then_raised(nxcloud, replay, path):
    name = "getphone-failure.json" if path == GET_PHONE else "phonelist-failure.json"
    replay.set(path, raw(f"nxcloud/{name}"))
    call = nxcloud.get_phone_info if path == GET_PHONE else nxcloud.list_phones
    with pytest.raises(ServiceUnavailableError) as caught:
        call()
    assert caught.value.code == -1
    assert replay.count(path) == 3  # the FAST policy's three attempts


# --- number-check query ----------------------------------------------------------------------------


def test_two_records_sharing_one_message_id_both_come_through_the_iterator(nxcloud, replay):
    replay.set(QUERY, raw(SHARED))
    records = list(nxcloud.iter_number_check_results(TODAY, batch_no="101713775788"))
    assert [r["phone"] for r in records] == ["8498****", "849****"]
    assert replay.count(QUERY) == 1


def test_two_records_sharing_one_message_id_both_reach_xcom_and_the_output_file(replay, tmp_path):
    from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckResultsOperator

    replay.set(QUERY, raw(SHARED))
    to_xcom = NxCloudNumberCheckResultsOperator(task_id="xcom", date=TODAY, batch_no="101713775788")
    assert len(to_xcom.execute({})) == 2
    target = tmp_path / "results.jsonl"
    to_file = NxCloudNumberCheckResultsOperator(
        task_id="file", date=TODAY, batch_no="101713775788", output_path=f"file://{target}"
    )
    outcome = to_file.execute({})
    assert outcome["record_count"] == 2
    assert len(target.read_text().splitlines()) == 2


def test_batch_of_two_records_sharing_one_message_id_is_finished_for_the_sensor(replay):
    from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor

    replay.set(QUERY, raw(SHARED))
    batch = {
        "batch_no": "101713775788",
        "message_id": SHARED_SUBMIT_ID,
        "phone_count": 2,
        "date": TODAY,
    }
    sensor = NxCloudNumberCheckSensor(task_id="wait", batches=[batch])
    outcome = sensor.poke({})
    assert outcome.is_done
    assert outcome.xcom_value["found"] == 2


def test_results_of_a_submitted_batch_are_the_records_of_that_submit(replay):
    from airflow_provider_wa_phones.operators.nxcloud import NxCloudNumberCheckResultsOperator

    replay.set(QUERY, raw(SHARED))
    batch = {"batch_no": "101713775788", "message_id": SHARED_SUBMIT_ID, "phone_count": 2, "date": TODAY}
    records = NxCloudNumberCheckResultsOperator(task_id="r", batches=[batch]).execute({})
    assert [r["phone"] for r in records] == ["8498****", "849****"]


def test_empty_published_page_reads_nothing_in_one_request(nxcloud, replay):
    replay.set(QUERY, raw("nxcloud/number-query-success-empty.json"))
    assert list(nxcloud.iter_number_check_results(TODAY, batch_no="101713775788")) == []
    assert replay.count(QUERY) == 1


def test_published_query_failure_is_a_parameter_refusal_after_one_request(nxcloud, replay):
    replay.set(QUERY, raw("nxcloud/number-query-failure.json"))
    with pytest.raises(InvalidRequestError) as caught:
        nxcloud.query_number_check(TODAY, batch_no="101713775788")
    assert caught.value.code == 88
    assert "Incorrect date format" in str(caught.value)
    assert replay.count(QUERY) == 1


def test_query_request_has_the_published_fields(nxcloud, replay):
    replay.set(QUERY, raw("nxcloud/number-query-success-empty.json"))
    nxcloud.query_number_check(TODAY, batch_no="101713775788")
    assert set(json.loads(replay.received[0].body)) == set(published("nxcloud/number-query-request.json"))


# --- number-check submit ---------------------------------------------------------------------------


def test_published_submit_success_gives_the_message_id_and_batch_no(nxcloud, replay):
    replay.set(SUBMIT, raw("nxcloud/number-submit-success.json"))
    (batch,) = nxcloud.submit_number_check(["+234 803 000 1234"], batch_no="20220901", dr_url="http://x.y/dr")
    assert batch["message_id"] == "301ef45b8de54d8aad95c5264c3756be"
    assert batch["batch_no"] == "20220901"
    sent = json.loads(replay.received[0].body)
    assert set(sent) == set(published("nxcloud/number-submit-request.json"))


@pytest.mark.parametrize("status", [200, 400, 404, 500, 502])
def test_published_submit_failure_is_a_refusal_whatever_the_http_status(nxcloud, replay, status):
    # No page says which HTTP status comes with an error: a documented code decides, not the status.
    replay.set(SUBMIT, raw("nxcloud/number-submit-failure.json", status))
    replay.set(QUERY, raw("nxcloud/number-query-success-empty.json"))
    with pytest.raises(NotFoundError) as caught:
        nxcloud.submit_number_check(["+234 803 000 1234"], batch_no="20220901")
    assert caught.value.code == 202
    assert replay.count(SUBMIT) == 1
    assert replay.count(QUERY) == 0  # a refusal was not taken: nothing to look up


@pytest.mark.parametrize("status", [200, 400, 500])
def test_published_query_failure_is_the_same_error_whatever_the_http_status(nxcloud, replay, status):
    replay.set(QUERY, raw("nxcloud/number-query-failure.json", status))
    with pytest.raises(InvalidRequestError):
        nxcloud.query_number_check(TODAY, batch_no="101713775788")
    assert replay.count(QUERY) == 1


@pytest.mark.parametrize("status", [200, 500, 503])
def test_a_documented_retryable_code_on_a_submit_is_a_refusal_and_retried(nxcloud, replay, status):
    # 299 "system error" in NxCloud's own envelope: the service answered and did not take the batch.
    refused = Answer.json(
        {"code": 299, "msg": "system error", "data": {"messageId": "", "batchNo": ""}}, status
    )
    replay.set(SUBMIT, [refused, raw("nxcloud/number-submit-success.json")])
    replay.set(QUERY, raw("nxcloud/number-query-success-empty.json"))
    (batch,) = nxcloud.submit_number_check(["+234 803 000 1234"], batch_no="20220901")
    assert batch["message_id"] == "301ef45b8de54d8aad95c5264c3756be"
    assert replay.count(SUBMIT) == 2
    assert replay.count(QUERY) == 0
