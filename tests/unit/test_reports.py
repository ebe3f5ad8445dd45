"""The health report (``reports``): which numbers need a look, the table, and report file names."""

from __future__ import annotations

from airflow_provider_wa_phones.reports import (
    FILE_SAFE_LIMIT,
    attention_reasons,
    file_safe,
    format_table,
    health_report,
    output_file_name,
)


def test_attention_names_every_reason_and_nothing_for_a_healthy_number():
    assert attention_reasons({"status": "CONNECTED", "quality_rating": "GREEN"}) == []
    assert attention_reasons({"status": "BANNED", "quality_rating": "RED"}) == [
        "status BANNED",
        "quality RED",
    ]
    assert attention_reasons({}) == ["status unknown", "quality unknown"]


def test_the_report_puts_numbers_needing_attention_first_then_by_service_and_number():
    records = [
        {"service": "NxCloud", "phone_number": "2", "status": "CONNECTED", "quality_rating": "GREEN"},
        {"service": "CAMS", "phone_number": "9", "status": "CONNECTED", "quality_rating": "GREEN"},
        {"service": "NxCloud", "phone_number": "1", "status": "PENDING", "quality_rating": "GREEN"},
    ]
    rows = health_report(records)
    assert [(row["phone_number"], row["attention"]) for row in rows] == [
        ("1", "status PENDING"),
        ("9", ""),
        ("2", ""),
    ]
    assert "attention" not in records[0]  # the records themselves are left as they were


def test_the_table_aligns_columns_and_counts_wide_characters_as_two():
    rows = [{"name": "漢字", "n": 1}, {"name": "ab", "n": None}]
    assert format_table(rows, ["name", "n"]).splitlines() == [
        "name  n",
        "----  -",
        "漢字  1",
        "ab",
    ]


def test_an_empty_report_is_the_header_alone():
    assert format_table([], ["a", "bb"]).splitlines() == ["a  bb", "-  --"]


def test_file_safe_turns_a_run_id_into_a_plain_name_part():
    assert file_safe("manual__2026-11-26T13:00:00+00:00") == "manual__2026-11-26T13-00-00-00-00"
    assert file_safe("..::..") == "run"
    assert file_safe("-a b-") == "a-b"
    assert len(file_safe("x" * 250)) == FILE_SAFE_LIMIT


def test_output_file_name_joins_kind_run_and_extension():
    assert output_file_name("scheduled__2026-01-01T00:00:00+00:00", "health", "csv") == (
        "health-scheduled__2026-01-01T00-00-00-00-00.csv"
    )
    assert output_file_name(None, "health", "csv") == "health-manual.csv"
    assert output_file_name("r", "a/b", "../x") == "a-b-r.x"
