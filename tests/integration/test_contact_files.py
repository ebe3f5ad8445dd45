"""Contact files submitted through NxCloudNumberCheckOperator against the sandbox: every format,
every valid number sent exactly once in requests of at most ``max_numbers_per_request``, bad rows
reported, and every refusal before any request (counted from the sandbox's request log)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
)
from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

pytestmark = pytest.mark.integration

SUBMIT = "/api/number/check"


class XComTI(SimpleNamespace):
    """The task instance fields the submit operator reads, and the XCom it pushes."""

    def __init__(self) -> None:
        super().__init__(dag_id="contacts", task_id="submit", run_id="manual__1", map_index=-1, try_number=1)
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # what XCom stores must be JSON
        self.pushed[key] = value


def submitted(sandbox) -> list[list[str]]:
    """The numbers of each submit request the sandbox received, in order."""
    return [json.loads(r.body)["phone"].split(",") for r in sandbox.requests(SUBMIT)]


@pytest.mark.parametrize(
    ("name", "file_format", "column"),
    [
        ("contacts.csv", "csv", "phone"),
        ("contacts.csv.gz", "csv", 1),
        ("contacts.txt", "lines", None),
        ("contacts.txt.gz", "lines", None),
        ("contacts.jsonl", "jsonl", None),
        ("contacts.ndjson.gz", "jsonl", "phone"),
    ],
)
def test_every_valid_number_of_a_file_is_sent_once_in_bounded_requests(
    sandbox, tmp_path, name, file_format, column
):
    path = tmp_path / name
    truth = write_contact_file(str(path), 1_200, countries=3, file_format=file_format, seed=7)
    ti = XComTI()
    batches = NxCloudNumberCheckOperator(
        task_id="submit", phones_path=str(path), phones_column=column, max_numbers_per_request=150
    ).execute({"ti": ti})

    requests = submitted(sandbox)
    assert len(requests) == len(batches)
    assert max(len(numbers) for numbers in requests) <= 150
    sent = [number for numbers in requests for number in numbers]
    assert len(sent) == len(set(sent)) == truth.valid  # each distinct valid number once, none lost
    assert sum(b["phone_count"] for b in batches) == truth.valid
    numbers = [b["batch_no"] for b in batches]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("af-") and n.count("-") == 3 for n in numbers)  # af-<hash>-<CC>-<k>

    summary = ti.pushed["phones_summary"]
    assert (summary["rows"], summary["valid"], summary["invalid"], summary["duplicates"]) == (
        truth.rows,
        truth.valid,
        truth.invalid,
        truth.duplicates,
    )
    assert summary["by_country"] == dict(truth.by_country)
    assert summary["requests"] == len(batches)
    assert 0 < len(summary["invalid_rows"]) <= 10
    assert all(row["line"] >= 2 and row["reason"] for row in summary["invalid_rows"])


def test_the_same_file_gives_the_same_requests_on_every_try(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    write_contact_file(str(path), 500, countries=2)
    plans = []
    for _ in range(2):
        sandbox.reset()
        sandbox.clear_requests()
        NxCloudNumberCheckOperator(
            task_id="submit", phones_path=str(path), max_numbers_per_request=100
        ).execute({"ti": XComTI()})
        plans.append(
            [(json.loads(r.body)["batchNo"], json.loads(r.body)["phone"]) for r in sandbox.requests(SUBMIT)]
        )
    assert plans[0] == plans[1]


def test_results_of_a_file_submit_carry_a_per_country_and_status_summary(sandbox, tmp_path):
    path = tmp_path / "c.csv"
    truth = write_contact_file(str(path), 300, countries=3)
    batches = NxCloudNumberCheckOperator(
        task_id="submit", phones_path=str(path), max_numbers_per_request=40
    ).execute({"ti": XComTI()})
    sandbox.advance(10)
    target = tmp_path / "results.jsonl"
    outcome = NxCloudNumberCheckResultsOperator(
        task_id="results", batches=batches, output_path=str(target)
    ).execute({})
    summary = outcome["summary"]
    assert outcome["record_count"] == summary["total"] == truth.valid
    assert sum(summary["by_status"].values()) == truth.valid
    assert set(summary["by_country"]) == set(truth.by_country)
    for region, counts in summary["by_country"].items():
        assert sum(counts.values()) == truth.by_country[region]
    phones = [json.loads(line)["phone"] for line in target.read_text().splitlines()]
    assert len(phones) == len(set(phones)) == truth.valid


def test_on_invalid_fail_refuses_the_file_before_any_request(sandbox, tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("phone\n+86 138 0000 1234\nnot a number\n+1 415 555 0123\n12\n")
    with pytest.raises(ParameterError) as info:
        NxCloudNumberCheckOperator(task_id="s", phones_path=str(path), on_invalid="fail").execute(
            {"ti": XComTI()}
        )
    assert info.value.param == "phones_path"
    assert "2 invalid rows" in str(info.value) and "line 3" in str(info.value) and "line 5" in str(info.value)
    assert sandbox.request_count(SUBMIT) == 0


def test_skipped_rows_are_logged_with_their_line_numbers(sandbox, tmp_path, capsys):
    path = tmp_path / "c.txt"
    path.write_text("phone\n+86 138 0000 1234\nnot a number\n\n+1 415 555 0123\n")
    batches = NxCloudNumberCheckOperator(task_id="s", phones_path=str(path)).execute({"ti": XComTI()})
    assert sum(b["phone_count"] for b in batches) == 2
    log = capsys.readouterr().out  # the task logger writes through structlog
    assert "Invalid row, line 3: 'not a number'" in log
    assert "3 rows, 2 valid numbers (distinct), 0 duplicates, 1 invalid" in log


@pytest.mark.parametrize(
    ("content", "kwargs", "param", "fragment"),
    [
        (b"phone\nnone\n\nn/a\n", {}, "phones_path", "holds no valid phone number (2 rows"),
        (b"", {}, "phones_path", "holds no valid phone number (0 rows"),
        (b"\xff\xfe+86 138\n", {}, "phones_path", "is not UTF-8 text"),
        (
            b"name,tel\na,+8613800001234\n",
            {"phones_format": "csv", "phones_column": "phone"},
            "phones_column",
            "not a column",
        ),
        (b"+8613800001234\n" + b"9" * 70_000 + b"\n", {}, "phones_path", "line 2 is longer than 65,536"),
        (b"+8613800001234\n", {"phones_column": "phone"}, "phones_column", "CSV and JSON Lines files only"),
    ],
)
def test_a_bad_file_is_refused_before_any_request(sandbox, tmp_path, content, kwargs, param, fragment):
    path = tmp_path / "c.txt"
    path.write_bytes(content)
    with pytest.raises(ParameterError) as info:
        NxCloudNumberCheckOperator(task_id="s", phones_path=str(path), **kwargs).execute({"ti": XComTI()})
    assert info.value.param == param
    assert fragment in str(info.value)
    assert sandbox.request_count(SUBMIT) == 0


def test_missing_and_broken_files_are_refused_before_any_request(sandbox, tmp_path):
    broken = tmp_path / "c.txt.gz"
    broken.write_bytes(gzip.compress(b"+8613800001234\n" * 100)[:-20])  # cut short
    for path, fragment in (
        (tmp_path / "none.csv", "no file at"),
        (broken, "cannot be read"),
        (tmp_path, "folder"),
    ):
        with pytest.raises(ParameterError, match=fragment) as info:
            NxCloudNumberCheckOperator(task_id="s", phones_path=str(path)).execute({"ti": XComTI()})
        assert info.value.param == "phones_path"
    assert sandbox.request_count(SUBMIT) == 0


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({}, "phones"),
        ({"phones": "+8613800001234", "phones_path": "/tmp/x.csv"}, "phones_path"),
        ({"phones_path": "/tmp/x.csv", "phones_format": "xlsx"}, "phones_format"),
        ({"phones_path": "/tmp/x.csv", "on_invalid": "ignore"}, "on_invalid"),
        ({"phones_path": "/tmp/x.csv", "max_numbers_per_request": 0}, "max_numbers_per_request"),
        ({"phones_path": "/tmp/x.csv", "max_numbers_per_request": 100_001}, "max_numbers_per_request"),
        ({"phones_path": "/tmp/x.csv", "max_numbers_per_request": True}, "max_numbers_per_request"),
    ],
)
def test_operator_arguments_are_checked_when_the_dag_is_parsed(kwargs, param):
    with pytest.raises(ParameterError) as info:
        NxCloudNumberCheckOperator(task_id="s", **kwargs)
    assert info.value.param == param


def test_phones_path_is_templated():
    assert {"phones_path", "phones_column"} <= set(NxCloudNumberCheckOperator.template_fields)


def test_submitted_numbers_keep_today_as_their_filing_day(sandbox, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"phone": "+86 138 0000 1234"}\n{"phone": "+86 138 0000 1235"}\n')
    (batch,) = NxCloudNumberCheckOperator(task_id="s", phones_path=f"file://{path}").execute({"ti": XComTI()})
    assert batch["phone_count"] == 2
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert today in batch["dates"]
