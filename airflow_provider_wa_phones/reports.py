"""Health checks on phone records and a plain-text table for logs and terminals."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

HEALTH_COLUMNS = (
    "service",
    "phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "messaging_limit_tier",
    "attention",
)


def attention_reasons(record: Mapping[str, Any]) -> list[str]:
    """Say why a sender number needs a look: not CONNECTED, or quality not GREEN."""
    reasons = []
    if record.get("status") != "CONNECTED":
        reasons.append(f"status {record.get('status') or 'unknown'}")
    if record.get("quality_rating") != "GREEN":
        reasons.append(f"quality {record.get('quality_rating') or 'unknown'}")
    return reasons


def health_report(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the records sorted for reading, each with an ``attention`` column filled in."""
    rows = [{**record, "attention": "; ".join(attention_reasons(record))} for record in records]
    return sorted(
        rows, key=lambda row: (not row["attention"], row.get("service") or "", row.get("phone_number") or "")
    )


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = HEALTH_COLUMNS) -> str:
    """Render rows as an aligned plain-text table (wide characters are counted as two columns)."""
    cells = [[_text(row.get(column)) for column in columns] for row in rows]
    widths = [max([_width(column)] + [_width(line[i]) for line in cells]) for i, column in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value + " " * (width - _width(value)) for value, width in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(columns), line(["-" * width for width in widths]), *(line(row) for row in cells)])


#: The longest part a run id gives a file name (a run id may hold 250 characters).
FILE_SAFE_LIMIT = 120


def file_safe(text: str) -> str:
    """``text`` (a run id such as ``manual__2026-11-26T13:00:00+00:00``) usable as part of a file
    name: every run of characters other than ASCII letters, digits, ``.``, ``_`` and ``-`` becomes
    one ``-`` (``manual__2026-11-26T13-00-00-00-00``), without leading or trailing ``-`` or ``.``,
    at most :data:`FILE_SAFE_LIMIT` characters; ``run`` when nothing is left.

    This is the one sanitiser of output file names: :func:`output_file_name` builds every name
    with it, so every report of every example DAG is named the same way.
    """

    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-.")
    return safe[:FILE_SAFE_LIMIT].rstrip("-.") or "run"


def output_file_name(run_id: str | None, kind: str, extension: str) -> str:
    """The name of an output file of one run: ``<kind>-<file_safe(run_id)>.<extension>``, e.g.
    ``number-check-manual__2026-11-26T13-00-00.134296-00-00.jsonl``.

    A DAG uses it in a template as a filter (``user_defined_filters={"output_file_name":
    output_file_name}``, then ``{{ run_id | output_file_name("number-check", "jsonl") }}``) or
    in Python. A run without an id (``dag.test()`` before Airflow sets one) is ``manual``.
    """
    return f"{file_safe(kind)}-{file_safe(run_id or 'manual')}.{file_safe(extension)}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _width(text: str) -> int:

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
