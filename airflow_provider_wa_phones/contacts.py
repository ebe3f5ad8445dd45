"""Contact lists read from files: one number per line, CSV or JSON Lines, gzip or not, local or in
object storage, read as a stream.

A contact list is a CRM export or a warehouse unload of up to millions of rows. It is read row by
row and kept as one sorted array of 64-bit integers per country (a normalised number is at most 15
digits and never starts with 0), so a million numbers take about 8 MB, not the ~100 MB of as many
strings. Every row ends in one of: a valid number (kept once however often it appears), a
duplicate, an invalid row (counted, the first ones kept with their line numbers), a blank line or
a header (skipped). Nothing is dropped without being counted.

No request is made here: the file is read whole, and every problem found, before the first submit.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.phones import normalize_with_country

#: The file formats ``phones_format`` names; ``auto`` picks one from the file name.
FORMATS = ("auto", "lines", "csv", "jsonl")
#: What ``on_invalid`` may say: skip and count invalid rows, or fail the task before any request.
ON_INVALID = ("skip", "fail")
#: Invalid rows kept (with line numbers) for the log and the XCom summary; the rest are counted.
SHOWN_INVALID = 10
#: A line longer than this is no contact list row (a binary file, a file without line breaks).
MAX_LINE = 65_536
#: The most distinct valid numbers one file may hold (8 bytes each in memory: 40 MB).
MAX_NUMBERS = 5_000_000
#: The JSON Lines field read when ``phones_column`` is not given.
DEFAULT_JSON_FIELD = "phone"
#: Header names (any letter case) a CSV file's phone column is found by when ``phones_column`` is
#: not given; a file whose first row has none of them is read from its first column.
PHONE_HEADERS = ("phone", "phone_number", "phonenumber", "mobile", "msisdn", "tel", "telephone", "number")

_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script: a header cell, not a number


@dataclass(frozen=True)
class InvalidRow:
    """One row that holds no valid number: where it is, what it held (cut short) and why."""

    line: int
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "value": self.value, "reason": self.reason}


@dataclass
class ContactList:
    """The valid numbers of a contact file, per country, with the count of everything else.

    ``numbers[country]`` is a sorted array of the country's distinct numbers (as integers: the
    digits with country code); :meth:`phones` gives them back as text.
    """

    source: str = ""
    format: str = "lines"
    rows: int = 0
    duplicates: int = 0
    invalid: int = 0
    header: bool = False
    invalid_rows: list[InvalidRow] = field(default_factory=list)
    numbers: dict[str, array[int]] = field(default_factory=dict)

    @property
    def valid(self) -> int:
        """Distinct valid numbers."""
        return sum(len(numbers) for numbers in self.numbers.values())

    def phones(self, country: str, start: int = 0, stop: int | None = None) -> list[str]:
        """The numbers of ``country`` from ``start`` to ``stop`` (sorted), as digits."""
        return [str(number) for number in self.numbers[country][start:stop]]

    def summary(self, shown: int = SHOWN_INVALID) -> dict[str, Any]:
        """What the file held, for the log and XCom: counts, per-country counts and the first
        invalid rows with their line numbers."""
        return {
            "source": self.source,
            "format": self.format,
            "rows": self.rows,
            "valid": self.valid,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "invalid_rows": [row.as_dict() for row in self.invalid_rows[:shown]],
            "by_country": {country: len(numbers) for country, numbers in self.numbers.items()},
        }

    def describe_invalid(self) -> str:
        """One line naming the invalid rows (count and the first few), for errors and logs."""
        shown = "; ".join(f"line {row.line}: {row.value} ({row.reason})" for row in self.invalid_rows[:5])
        more = f" and {self.invalid - 5} more" if self.invalid > 5 else ""
        return f"{self.invalid:,} invalid row{'s' if self.invalid != 1 else ''} ({shown}{more})"


class _Collector:
    """Builds a :class:`ContactList` row by row."""

    def __init__(self, contacts: ContactList) -> None:
        self.contacts = contacts
        self.pending: dict[str, array[int]] = {}
        self.seen_data = False

    def add(self, line: int, value: Any, *, may_be_header: bool = False) -> None:
        """One row's value: a number, or a header (only before the first data row), or invalid."""
        if isinstance(value, str) and not value.strip(" \t\r\n\ufeff"):
            return  # a blank cell or line: nothing to check
        contacts = self.contacts
        try:
            digits, country = normalize_with_country(value.strip() if isinstance(value, str) else value)
        except ParameterError as exc:
            if may_be_header and not self.seen_data and isinstance(value, str) and _LETTER.search(value):
                contacts.header = True
                self.seen_data = True
                return
            self.seen_data = True
            contacts.rows += 1
            self.invalid(line, value, exc.rule.split(": expected ")[0])
            return
        self.seen_data = True
        contacts.rows += 1
        numbers = self.pending.get(country)
        if numbers is None:
            numbers = self.pending[country] = array("Q")
        numbers.append(int(digits))

    def invalid(self, line: int, value: Any, reason: str) -> None:
        contacts = self.contacts
        contacts.invalid += 1
        if len(contacts.invalid_rows) < SHOWN_INVALID:
            shown = (
                checks.quoted(value, 40) if not isinstance(value, str) else checks.shorten(repr(value), 40)
            )
            contacts.invalid_rows.append(InvalidRow(line, shown, checks.shorten(reason, 160)))

    def finish(self) -> ContactList:
        """Sort each country's numbers and drop the repeats (counted as duplicates)."""
        contacts = self.contacts
        total = 0
        for country, numbers in self.pending.items():
            unique = array("Q", sorted(set(numbers)))
            contacts.duplicates += len(numbers) - len(unique)
            contacts.numbers[country] = unique
            total += len(unique)
            if total > MAX_NUMBERS:
                raise ParameterError(
                    "phones_path",
                    f"holds more than {MAX_NUMBERS:,} distinct valid numbers; split the file (each "
                    "task's list is kept in memory, 8 bytes a number)",
                )
        self.pending = {}
        return contacts


def read_contacts(path: Any, phones_format: str = "auto", phones_column: Any = None) -> ContactList:
    """Read the contact file at ``path`` (an ``ObjectStoragePath`` or its URL; a local path too).

    ``phones_format``: ``lines`` (one number per line), ``csv`` (the number in ``phones_column``,
    a header name or a 0-based index; by default the column whose header is one of
    :data:`PHONE_HEADERS`, else the first), ``jsonl`` (the number in the
    field ``phones_column``, default ``phone``) or ``auto`` (from the name: ``.csv``, ``.jsonl`` or
    ``.ndjson``, otherwise lines; a ``.gz`` suffix is looked through). A ``.gz`` file is
    decompressed as it is read; text is UTF-8 (a byte-order mark is fine).

    A header (a first row that is no number and holds letters) and blank lines are skipped. Every
    other row that holds no valid number is counted as invalid. Problems with the file itself
    (missing, unreadable, not UTF-8, not gzip, a line over 64 KiB) raise :class:`ParameterError`
    naming ``phones_path``.
    """
    # light DAG parsing: airflow.sdk loads its storage classes on first use
    from airflow.sdk import ObjectStoragePath

    text = str(path) if isinstance(path, ObjectStoragePath) else path
    if not isinstance(text, str) or not text.strip() or not checks.is_clean_text(text) or "\x00" in text:
        raise ParameterError("phones_path", f"must be a file URL or path, got {checks.quoted(path)}")
    kind = _format_of(text, phones_format)
    column = _column(kind, phones_column)
    try:
        target = path if isinstance(path, ObjectStoragePath) else ObjectStoragePath(text)
    except Exception as exc:  # unknown scheme, missing filesystem package, bad URL
        raise ParameterError(
            "phones_path", f"cannot be opened as storage ({type(exc).__name__}): {checks.quoted(text)}"
        ) from None
    source = f"{target.protocol}://{target.path}" if target.protocol not in ("", "file", "local") else text
    contacts = ContactList(source=source, format=kind)
    collector = _Collector(contacts)
    try:
        with _open_binary(target) as raw:
            binary: Any = gzip.GzipFile(fileobj=raw, mode="rb") if _is_gzip(text) else raw
            stream = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            lines = _bounded_lines(stream, text)
            if kind == "csv":
                _read_csv(lines, column, collector)
            elif kind == "jsonl":
                _read_jsonl(lines, str(column), collector)
            else:
                for number, line in enumerate(lines, start=1):
                    collector.add(number, line.rstrip("\r\n"), may_be_header=True)
    except ParameterError:
        raise
    except FileNotFoundError:
        raise ParameterError("phones_path", f"no file at {checks.quoted(text)}") from None
    except IsADirectoryError:
        raise ParameterError(
            "phones_path", f"must name a file, but {checks.quoted(text)} is a folder"
        ) from None
    except UnicodeDecodeError as exc:
        raise ParameterError(
            "phones_path",
            f"is not UTF-8 text ({exc.reason} at byte {exc.start} of a block): {checks.quoted(text)}",
        ) from None
    except (gzip.BadGzipFile, EOFError, OSError) as exc:
        raise ParameterError(
            "phones_path",
            f"cannot be read ({type(exc).__name__}: {checks.shorten(str(exc), 120)}): {checks.quoted(text)}",
        ) from None
    contacts = collector.finish()
    if contacts.valid == 0:
        detail = f"; {contacts.describe_invalid()}" if contacts.invalid else ""
        raise ParameterError(
            "phones_path",
            f"holds no valid phone number ({contacts.rows:,} rows{detail}): {checks.quoted(text)}",
        )
    return contacts


def _open_binary(target: Any) -> Any:
    """The file's bytes as a stream: a local file with the built-in ``open``, any other through its
    fsspec filesystem (a buffered file object, whatever wrapper each Airflow 3.x puts around it)."""
    if target.protocol in ("", "file", "local"):
        return open(os.path.abspath(target.path), "rb")
    return target.fs.open(target.path, "rb")


def _is_gzip(text: str) -> bool:
    return text.lower().endswith(".gz")


def _format_of(text: str, phones_format: Any) -> str:
    if phones_format not in FORMATS:
        raise ParameterError(
            "phones_format", f"must be one of {', '.join(FORMATS)}, got {checks.quoted(phones_format)}"
        )
    if phones_format != "auto":
        return str(phones_format)
    name = text.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "lines"


def _column(kind: str, phones_column: Any) -> str | int | None:
    """``phones_column`` checked for the format: a name or 0-based index for CSV, a field name for
    JSON Lines, nothing for plain lines."""
    if kind == "lines":
        if phones_column is not None:
            raise ParameterError(
                "phones_column",
                "applies to CSV and JSON Lines files only; this file is read one number per line",
            )
        return None
    if kind == "jsonl":
        if phones_column is None:
            return DEFAULT_JSON_FIELD
        return checks.text("phones_column", phones_column, max_length=256, rule="a JSON field name")
    if phones_column is None:
        return None  # a header's phone column (PHONE_HEADERS), else the first column
    if isinstance(phones_column, int) and not isinstance(phones_column, bool):
        if not 0 <= phones_column <= 10_000:
            raise ParameterError("phones_column", f"a column index must be 0 to 10000, got {phones_column}")
        return phones_column
    if isinstance(phones_column, str) and phones_column.isdigit():
        return int(phones_column)  # a templated index arrives as text
    return checks.text(
        "phones_column", phones_column, max_length=256, rule="a CSV header name or 0-based index"
    )


def _bounded_lines(stream: io.TextIOWrapper, text: str) -> Iterator[str]:
    """The stream's lines (line breaks kept), refusing one longer than :data:`MAX_LINE`."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise ParameterError(
                "phones_path",
                f"line {number:,} is longer than {MAX_LINE:,} characters: not a contact list? "
                f"({checks.quoted(text)})",
            )
        yield line


def _read_csv(lines: Iterator[str], column: Any, collector: _Collector) -> None:
    reader = csv.reader(lines)
    index = column if isinstance(column, int) else None
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if index is None and column is None:
            # No column named: a header's phone column, else the first column.
            names = [cell.strip().lstrip("\ufeff").casefold() for cell in row]
            known = [name for name in PHONE_HEADERS if name in names]
            if known:
                index = names.index(known[0])
                collector.contacts.header = True
                collector.seen_data = True
                continue
            index = 0
        if index is None:
            # A named column: the first row is the header and must name it.
            names = [cell.strip().lstrip("\ufeff") for cell in row]
            if column in names:
                index = names.index(column)
            else:
                folded = [name.casefold() for name in names]
                if str(column).casefold() not in folded:
                    raise ParameterError(
                        "phones_column",
                        f"{column!r} is not a column of the header ({checks.shorten(', '.join(names), 200)})",
                    )
                index = folded.index(str(column).casefold())
            collector.contacts.header = True
            collector.seen_data = True
            continue
        if index >= len(row):
            collector.contacts.rows += 1
            collector.seen_data = True
            collector.invalid(line, ",".join(row), f"has {len(row)} fields, no column {index}")
            continue
        collector.add(line, row[index], may_be_header=True)


def _read_jsonl(lines: Iterator[str], name: str, collector: _Collector) -> None:
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            collector.contacts.rows += 1
            collector.invalid(line_number, line.rstrip("\r\n"), f"not JSON ({checks.shorten(str(exc), 60)})")
            continue
        if not isinstance(item, dict) or name not in item:
            collector.contacts.rows += 1
            what = "an object" if isinstance(item, dict) else f"a JSON {type(item).__name__}"
            collector.invalid(line_number, line.rstrip("\r\n"), f"{what} without the field {name!r}")
            continue
        value = item[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            collector.contacts.rows += 1
            collector.invalid(line_number, line.rstrip("\r\n"), f"the field {name!r} is empty")
            continue
        collector.add(line_number, value)
