"""Contact files read into per-country arrays (contacts.py) and cut into bounded requests
(operations.nxcloud.SubmitPlan): formats, headers, bad rows with line numbers, duplicates, chunk
sizes and batch numbers. The generated files say what they hold, so every count is compared with
the writer's truth, not with the reader's own idea of it."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_wa_phones.contacts import SHOWN_INVALID, ContactList, read_contacts
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.operations import nxcloud as api
from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file


@pytest.mark.parametrize("file_format", ["csv", "lines", "jsonl"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_counts_match_what_the_writer_wrote(tmp_path, file_format, suffix):
    name = {"csv": "c.csv", "lines": "c.txt", "jsonl": "c.jsonl"}[file_format] + suffix
    truth = write_contact_file(str(tmp_path / name), 2_000, file_format=file_format, seed=11)
    contacts = read_contacts(str(tmp_path / name))
    assert contacts.format == file_format
    assert contacts.rows == truth.rows
    assert (contacts.valid, contacts.invalid, contacts.duplicates) == (
        truth.valid,
        truth.invalid,
        truth.duplicates,
    )
    assert {country: len(numbers) for country, numbers in contacts.numbers.items()} == dict(truth.by_country)
    assert contacts.header is (file_format != "jsonl")
    assert len(contacts.invalid_rows) == SHOWN_INVALID
    for numbers in contacts.numbers.values():
        assert list(numbers) == sorted(set(numbers))


def test_invalid_rows_carry_their_physical_line_numbers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(
        'name,Mobile\r\n"Ann\r\nSmith",+86 138 0000 1234\r\n\r\nBob,nope\r\nCid,+1 415 555 0123\r\nDan\r\n',
        newline="",
    )
    contacts = read_contacts(str(path))
    assert contacts.valid == 2 and contacts.header
    assert [(row.line, row.reason) for row in contacts.invalid_rows] == [
        (5, "'nope' is not a phone number"),
        (7, "has 1 fields, no column 1"),
    ]


def test_a_byte_order_mark_and_windows_line_breaks_are_fine(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"\xef\xbb\xbfphone\r\n+86 138 0000 1234\r\n+86 138 0000 1234\r\n")
    contacts = read_contacts(str(path))
    assert (contacts.rows, contacts.valid, contacts.duplicates, contacts.invalid) == (2, 1, 1, 0)


def test_the_same_number_written_differently_is_one_number(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("+86 138 0000 1234\n008613800001234\n(+86) 138-0000-1234\n8613800001234\n")
    contacts = read_contacts(str(path))
    assert (contacts.valid, contacts.duplicates) == (1, 3)
    assert contacts.phones("CN") == ["8613800001234"]


def test_a_header_is_only_the_first_row(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("+86 138 0000 1234\nphone\n")
    contacts = read_contacts(str(path))
    assert not contacts.header and contacts.invalid == 1 and contacts.invalid_rows[0].line == 2


def test_a_csv_column_by_index_and_by_header_in_any_case(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,Phone Number,tel\n1,x,+86 138 0000 1234\n2,y,+86 138 0000 1235\n")
    assert read_contacts(str(path), phones_column=2).valid == 2
    assert read_contacts(str(path), phones_column="2").valid == 2  # a templated index
    assert read_contacts(str(path), phones_column="TEL").valid == 2
    assert read_contacts(str(path)).valid == 2  # found by its header "tel"


def test_jsonl_rows_without_the_field_or_not_json_are_invalid(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"msisdn": "+8613800001234"}\n[1]\n{"phone": "+8613800001234"}\n{bad\n{"msisdn": ""}\n')
    contacts = read_contacts(str(path), phones_column="msisdn")
    assert contacts.valid == 1
    assert [row.line for row in contacts.invalid_rows] == [2, 3, 4, 5]


def test_gzip_is_told_by_the_name_and_a_plain_file_named_gz_is_refused(tmp_path):
    path = tmp_path / "c.txt.gz"
    path.write_text("+8613800001234\n")
    with pytest.raises(ParameterError, match="cannot be read") as info:
        read_contacts(str(path))
    assert info.value.param == "phones_path"
    path.write_bytes(gzip.compress(b"+8613800001234\n"))
    assert read_contacts(str(path)).valid == 1


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"phones_format": "xlsx"}, "phones_format"),
        ({"phones_format": "csv", "phones_column": -1}, "phones_column"),
        ({"phones_format": "csv", "phones_column": ""}, "phones_column"),
        ({"phones_format": "jsonl", "phones_column": 3}, "phones_column"),
        ({"phones_format": "lines", "phones_column": "phone"}, "phones_column"),
    ],
)
def test_bad_arguments_name_themselves(tmp_path, kwargs, param):
    path = tmp_path / "c.csv"
    path.write_text("+8613800001234\n")
    with pytest.raises(ParameterError) as info:
        read_contacts(str(path), **kwargs)
    assert info.value.param == param


@pytest.mark.parametrize("path", [None, "", " ", "a\nb", 3, "/tmp/x\x00y"])
def test_a_bad_path_is_refused(path):
    with pytest.raises(ParameterError) as info:
        read_contacts(path)
    assert info.value.param == "phones_path"


ROWS = st.lists(
    st.one_of(
        st.sampled_from(["+86 138 0000 1234", "0086 13800001235", "+1 415 555 0123", "+62 812 3456 7890"]),
        st.text(alphabet="0123456789 +-()abc,;\"'", max_size=20),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(rows=ROWS)
def test_every_row_is_valid_a_duplicate_invalid_or_blank(tmp_path_factory, rows):
    """No row is lost: the rows read add up, whatever the cells hold (quotes, commas, letters)."""
    import csv

    path = tmp_path_factory.mktemp("p") / "c.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "phone"])
        for index, value in enumerate(rows):
            writer.writerow([f"n{index}", value])
    try:
        contacts = read_contacts(str(path))
    except ParameterError as exc:
        assert "holds no valid phone number" in str(exc)
        return
    blank = sum(1 for value in rows if not value.strip(" \t"))
    assert contacts.rows == len(rows) - blank
    assert contacts.valid + contacts.duplicates + contacts.invalid == contacts.rows
    assert all(row.line >= 2 for row in contacts.invalid_rows)


# --- the plan of requests -------------------------------------------------------------------------


def contact_list(counts: dict[str, int]) -> ContactList:
    from array import array

    prefixes = {"CN": 8613800000000, "US": 14155550000, "ID": 6281200000000}
    return ContactList(
        numbers={c: array("Q", range(prefixes[c], prefixes[c] + n)) for c, n in counts.items()}
    )


def test_each_country_is_cut_into_chunks_of_at_most_the_limit():
    plan = api.submit_batches("app", contact_list({"CN": 25, "US": 10}), "run", max_numbers_per_request=10)
    assert [(b.country, len(b.phones), b.body["batchNo"]) for b in plan] == [
        ("CN", 10, "run-CN-1"),
        ("CN", 10, "run-CN-2"),
        ("CN", 5, "run-CN-3"),
        ("US", 10, "run-US"),
    ]
    every = [phone for batch in plan for phone in batch.body["phone"].split(",")]
    assert len(every) == len(set(every)) == 35
    assert [plan.batch_no(i) for i in range(len(plan))] == [b.body["batchNo"] for b in plan]
    assert [plan.phone_count(i) for i in range(len(plan))] == [10, 10, 5, 10]


def test_one_country_in_chunks_gets_only_the_chunk_number_and_one_request_keeps_the_batch_no():
    plan = api.submit_batches("app", contact_list({"CN": 3}), "run", max_numbers_per_request=2)
    assert [b.body["batchNo"] for b in plan] == ["run-1", "run-2"]
    (only,) = api.submit_batches("app", contact_list({"CN": 3}), "run")
    assert only.body["batchNo"] == "run"


def test_a_list_keeps_its_order_and_is_chunked_too():
    phones = ["+86 138 0000 1239", "+86 138 0000 1231", "+86 138 0000 1235"]
    plan = api.submit_batches("app", phones, "b", max_numbers_per_request=2)
    assert [b.phones for b in plan] == [["8613800001239", "8613800001231"], ["8613800001235"]]


def test_chunk_suffixes_count_against_the_64_character_limit():
    with pytest.raises(ParameterError, match="chunk number") as info:
        api.submit_batches("app", contact_list({"CN": 3, "US": 1}), "x" * 60, max_numbers_per_request=1)
    assert info.value.param == "batch_no"


@pytest.mark.parametrize("limit", [0, 100_001, True, 2.5, "ten", None])
def test_the_limit_is_checked(limit):
    with pytest.raises(ParameterError) as info:
        api.submit_batches("app", ["+8613800001234"], "b", max_numbers_per_request=limit)
    assert info.value.param == "max_numbers_per_request"


def test_the_plan_is_the_same_on_every_build():
    first = api.submit_batches("app", contact_list({"CN": 7, "ID": 4}), "r", max_numbers_per_request=3)
    second = api.submit_batches("app", contact_list({"CN": 7, "ID": 4}), "r", max_numbers_per_request=3)
    assert [b.body for b in first] == [b.body for b in second]
    assert first[1:3] == [first[1], first[2]]


def test_a_file_in_object_storage_is_read_through_its_filesystem(tmp_path, monkeypatch):
    """Any fsspec filesystem Airflow's ObjectStoragePath opens (here fsspec's in-memory one, which
    needs no network, registered as a provider would register s3): the same counts as the same
    file on disk, gzip included."""
    import fsspec
    from airflow.sdk.io import fs as airflow_fs

    local = tmp_path / "c.csv.gz"
    truth = write_contact_file(str(local), 500, seed=9)
    memory = fsspec.filesystem("memory")
    monkeypatch.setitem(airflow_fs._BUILTIN_SCHEME_TO_FS, "memory", lambda conn_id, options=None: memory)
    # The table is read once per process into a cache: clear it now and after the test.
    if hasattr(airflow_fs._register_filesystems, "cache_clear"):
        airflow_fs._register_filesystems.cache_clear()
    memory.pipe("/wa-phones-test/c.csv.gz", local.read_bytes())
    try:
        contacts = read_contacts("memory://wa-phones-test/c.csv.gz")
    finally:
        memory.rm("/wa-phones-test", recursive=True)
        if hasattr(airflow_fs._register_filesystems, "cache_clear"):
            airflow_fs._register_filesystems.cache_clear()
    assert contacts.source == "memory:///wa-phones-test/c.csv.gz"
    assert (contacts.valid, contacts.invalid, contacts.duplicates) == (
        truth.valid,
        truth.invalid,
        truth.duplicates,
    )
