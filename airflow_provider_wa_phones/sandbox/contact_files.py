"""Generated contact files for the demo, the tests and the benchmarks: numbers of ten countries,
written the ways people write them, with a share of invalid rows and of repeated numbers.

:func:`write_contact_file` says exactly what it wrote (rows, valid and distinct numbers, invalid
rows, duplicates, numbers per country), so a test can compare a reader's counts with the truth.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: (region, how a number is written with ``{}`` for its subscriber digits, how many of them, and the
#: normalised prefix): mobile ranges every region of the number plan accepts as possible.
COUNTRIES = (
    ("CN", "+86 138 {}", 8, "86138"),
    ("US", "+1 (415) 5{}", 6, "14155"),
    ("ID", "+62 812 {}", 8, "62812"),
    ("IN", "+91 98{}", 8, "9198"),
    ("BR", "+55 11 9{}", 8, "55119"),
    ("MX", "+52 55 {}", 8, "5255"),
    ("GB", "+44 7400 {}", 6, "447400"),
    ("DE", "+49 151 {}", 8, "49151"),
    ("FR", "+33 6 {}", 8, "336"),
    ("NG", "+234 803 {}", 7, "234803"),
)

#: Rows that hold no valid number, as contact exports have them.
INVALID_VALUES = ("n/a", "12345", "+999 1234", "unknown", "+86 138", "call me", "0", "+1 (415) 5")


@dataclass
class WrittenFile:
    """What :func:`write_contact_file` wrote: the truth to compare a reader against."""

    path: str
    rows: int = 0
    invalid: int = 0
    duplicates: int = 0
    by_country: Counter[str] = field(default_factory=Counter)

    @property
    def valid(self) -> int:
        """Distinct valid numbers."""
        return sum(self.by_country.values())


def write_contact_file(
    path: str,
    rows: int,
    *,
    countries: int = 10,
    invalid_share: float = 0.05,
    duplicate_share: float = 0.05,
    file_format: str = "csv",
    seed: int = 0,
) -> WrittenFile:
    """Write ``rows`` data rows to ``path`` (``.gz``: compressed) and return what was written.

    ``file_format``: ``csv`` (columns ``name,phone,segment`` with a header), ``lines`` (one number
    per line, with a header line ``phone``) or ``jsonl`` (``{"name":…, "phone":…}``). About
    ``invalid_share`` of the rows hold no valid number and ``duplicate_share`` repeat an earlier
    number written another way; the numbers are spread evenly over the first ``countries``
    countries of :data:`COUNTRIES`.
    """
    if file_format not in ("csv", "lines", "jsonl"):
        raise ValueError(f"file_format must be csv, lines or jsonl, got {file_format!r}")
    if not 1 <= countries <= len(COUNTRIES):
        raise ValueError(f"countries must be 1 to {len(COUNTRIES)}, got {countries!r}")
    rng = random.Random(seed)
    chosen = COUNTRIES[:countries]
    written = WrittenFile(path=path)
    used: set[tuple[int, int]] = set()
    recent: list[tuple[int, int]] = []
    raw: Any = gzip.open(path, "wb", compresslevel=1) if path.endswith(".gz") else open(path, "wb")  # noqa: SIM115
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n") if file_format == "csv" else None
        if writer is not None:
            writer.writerow(["name", "phone", "segment"])
        elif file_format == "lines":
            out.write("phone\n")
        for row in range(rows):
            draw = rng.random()
            if draw < invalid_share:
                value = rng.choice(INVALID_VALUES)
                written.invalid += 1
            else:
                if draw < invalid_share + duplicate_share and recent:
                    country, subscriber = rng.choice(recent)
                    written.duplicates += 1
                else:
                    country = row % len(chosen)
                    digits = chosen[country][2]
                    while True:
                        subscriber = rng.randrange(10**digits)
                        if (country, subscriber) not in used:
                            break
                    used.add((country, subscriber))
                    written.by_country[chosen[country][0]] += 1
                    if len(recent) < 1000:
                        recent.append((country, subscriber))
                    else:
                        recent[rng.randrange(1000)] = (country, subscriber)
                _, pattern, digits, _ = chosen[country]
                value = pattern.format(f"{subscriber:0{digits}d}")
                if rng.random() < 0.3:
                    value = value.replace(" ", "")
            written.rows += 1
            if writer is not None:
                writer.writerow([f"contact {row}", value, rng.choice(("a", "b", "c"))])
            elif file_format == "lines":
                out.write(value + "\n")
            else:
                out.write(json.dumps({"name": f"contact {row}", "phone": value}) + "\n")
    os.chmod(path, 0o644)
    return written
