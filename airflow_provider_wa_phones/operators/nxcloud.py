"""Operators for NxCloud: phone information, the integrator phone list, number checks.

DAG files import this module at parse time, so it imports only ``airflow.sdk``; the hook, HTTP and
phone-number libraries load when a task runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias, ObjectStoragePath

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.checks import absent
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.lineage import (
    file_dataset,
    operator_lineage,
    record_output_file,
    service_dataset,
)
from airflow_provider_wa_phones.operators.base import NxCloudTask
from airflow_provider_wa_phones.results import batch_entries, batches_of

if TYPE_CHECKING:
    from airflow.sdk import Context


class NxCloudPhoneInfoOperator(NxCloudTask):
    """Fetch the WhatsApp status, quality rating and limits of sender numbers (``getPhone``).

    :param phones: numbers to look up, as a list or a comma-separated string, each with its country
        code (``+86 138 0000 1234`` is fine). Omit it for every number of the application.
        Templated.
    :param appkey: NxCloud application key; defaults to the connection's ``appkey``. Templated.
    :param nxcloud_conn_id: an ``nxcloud`` connection. Templated.

    Returns (XCom) a list of phone records in the provider's common shape: ``phone_number``,
    ``display_phone_number``, ``verified_name``, ``status``, ``quality_rating``, ``name_status``,
    ``code_verification_status``, ``messaging_limit_tier``, ``service`` and NxCloud's other fields.
    """

    template_fields: Sequence[str] = ("phones", "appkey", "nxcloud_conn_id")

    def __init__(
        self, *, phones: str | list[str] | None = None, appkey: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.phones = phones
        self.appkey = appkey

    def execute(self, context: Context) -> list[dict[str, Any]]:
        records = self.hook.get_phone_records(phones=self.phones, appkey=self.appkey)
        self.log.info("NxCloud returned %d phone records", len(records))
        return records


class NxCloudPhoneListOperator(NxCloudTask):
    """List every WhatsApp number of an application, for integrator accounts (``phoneList``).

    :param appkey: NxCloud application key; defaults to the connection's ``appkey``. Templated.
    :param nxcloud_conn_id: an ``nxcloud`` connection. Templated.

    Returns (XCom) a list of phone records in the common shape, with NxCloud's ``register_status``,
    ``waba_id`` and ``waba_name`` kept.
    """

    template_fields: Sequence[str] = ("appkey", "nxcloud_conn_id")

    def __init__(self, *, appkey: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.appkey = appkey

    def execute(self, context: Context) -> list[dict[str, Any]]:
        records = self.hook.list_phone_records(appkey=self.appkey)
        self.log.info("NxCloud listed %d numbers", len(records))
        return records


class NxCloudNumberCheckOperator(NxCloudTask):
    """Submit phone numbers for a number check; one batch per country, as NxCloud requires, and per
    chunk of at most ``max_numbers_per_request`` numbers.

    Give the numbers either in ``phones`` or in a file (``phones_path``), not both.

    :param phones: the numbers, as a list or a comma-separated string, each with its country code
        (at most 100,000; for more, use ``phones_path``). Duplicates are checked once. Templated.
    :param phones_path: a contact file: any ``ObjectStoragePath`` URL (``s3://conn@bucket/key``,
        ``file:///data/contacts.csv``) or a local path; ``.gz`` is decompressed as it is read. It
        is read as a stream into a compact form (8 bytes a number), so a file of a million rows
        never goes through XCom or memory as text. Templated.
    :param phones_format: ``auto`` (default: from the name, ``.csv``, ``.jsonl``/``.ndjson``,
        anything else one number per line), ``lines``, ``csv`` or ``jsonl``.
    :param phones_column: where the number is: for CSV a header name or a 0-based index (default:
        the column headed ``phone``, ``phone_number``, ``mobile``, ``msisdn``, ``tel``,
        ``telephone`` or ``number``, in any letter case, else the first column), for JSON Lines a
        field name (default ``phone``). Templated.
    :param on_invalid: ``skip`` (default): rows without a valid number are skipped and counted,
        the first ten logged with their line numbers; ``fail``: any such row fails the task before
        any request. A file without one valid number always fails before any request. Blank lines
        and a header row are neither.
    :param max_numbers_per_request: the most numbers one submit request carries (1 to 100,000,
        default 10,000). NxCloud publishes no limit; 10,000 is this package's conservative choice
        (a body of about 140 KB). Each request gets its own batch number,
        ``<batch_no>-<country>-<k>``, the same on every try.
    :param appkey: NxCloud application key; defaults to the connection's ``appkey``. Templated.
    :param batch_no: your batch number (at most 64 characters, unique per run: template it); with
        numbers from several countries each batch gets the country as a suffix (``<batch_no>-CN``).
        When omitted, one is derived from the task instance (``af-<hash of dag, task, run, map
        index>``), so it is the same on every try. Templated.
    :param check_level: 1 basic (default), 4 call, 5 HLR. Templated.
    :param dr_url: optional http(s) URL NxCloud calls back with each result. Templated.
    :param nxcloud_conn_id: an ``nxcloud`` connection. Templated.

    A submit is charged per number, so a task retry never submits a batch twice: on a retry each
    batch is looked up first and reused when NxCloud already has it, and an answer lost on the way
    back is recovered by looking the batch up rather than sending it again.

    Returns (XCom) one entry per batch: ``batch_no``, ``message_id``, ``country``, ``phone_count``,
    ``date`` (the day to query results under) and ``reused``. Pass it to
    ``NxCloudNumberCheckResultsOperator`` or ``NxCloudNumberCheckSensor`` as ``batches``. With
    ``phones_path``, the XCom key ``phones_summary`` holds what the file held: ``rows``, ``valid``
    (distinct), ``duplicates``, ``invalid``, ``invalid_rows`` (the first ten, with ``line``,
    ``value`` and ``reason``), ``by_country`` and ``requests``.
    """

    template_fields: Sequence[str] = (
        "phones",
        "phones_path",
        "phones_column",
        "appkey",
        "batch_no",
        "check_level",
        "dr_url",
        "nxcloud_conn_id",
    )

    def __init__(
        self,
        *,
        phones: str | list[str] | None = None,
        phones_path: str | ObjectStoragePath | None = None,
        phones_format: str = "auto",
        phones_column: str | int | None = None,
        on_invalid: str = "skip",
        max_numbers_per_request: int = 10_000,
        appkey: str | None = None,
        batch_no: str | None = None,
        check_level: int | str = 1,
        dr_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if phones is None and phones_path is None:
            raise ParameterError("phones", "give the numbers in phones or a contact file in phones_path")
        if phones is not None and phones_path is not None:
            raise ParameterError("phones_path", "give either phones or phones_path, not both")
        # Not templated, so checked now.
        if phones_format not in ("auto", "lines", "csv", "jsonl"):
            raise ParameterError(
                "phones_format", f"must be one of auto, lines, csv, jsonl, got {checks.quoted(phones_format)}"
            )
        if on_invalid not in ("skip", "fail"):
            raise ParameterError("on_invalid", f"must be 'skip' or 'fail', got {checks.quoted(on_invalid)}")
        self.max_numbers_per_request = checks.whole_number(
            "max_numbers_per_request", max_numbers_per_request, 1, 100_000
        )
        self.phones = phones
        self.phones_path = phones_path
        self.phones_format = phones_format
        self.phones_column = phones_column
        self.on_invalid = on_invalid
        #: What the contact file held (set while a task reads one), for the XCom ``phones_summary``.
        self._summary: dict[str, Any] | None = None
        self.appkey = appkey
        self.batch_no = batch_no
        self.check_level = check_level
        self.dr_url = dr_url

    def _phones(self, context: Context) -> Any:
        """The numbers to submit: ``phones`` as given, or the contact file read and reported."""
        if self.phones is not None:
            return self.phones
        # light DAG parsing: the file reader (csv, gzip, phonenumbers) loads when a task runs
        from airflow_provider_wa_phones.contacts import read_contacts

        contacts = read_contacts(self.phones_path, self.phones_format, self.phones_column)
        summary = contacts.summary()
        self.log.info(
            "Read %s: %s rows, %s valid numbers (distinct), %s duplicates, %s invalid; by country: %s",
            summary["source"],
            f"{contacts.rows:,}",
            f"{contacts.valid:,}",
            f"{contacts.duplicates:,}",
            f"{contacts.invalid:,}",
            ", ".join(f"{country} {count:,}" for country, count in summary["by_country"].items()),
        )
        for row in contacts.invalid_rows:
            self.log.warning("Invalid row, line %d: %s (%s)", row.line, row.value, row.reason)
        if contacts.invalid and self.on_invalid == "fail":
            raise ParameterError(
                "phones_path",
                f"{contacts.describe_invalid()} and on_invalid='fail': nothing was submitted",
            )
        self._summary = summary
        return contacts

    def execute(self, context: Context) -> list[dict[str, Any]]:
        ti = context.get("ti")
        retry = ti is not None and ti.try_number > 1
        self._summary = None
        phones = self._phones(context)
        batches = self.hook.submit_number_check(
            phones=phones,
            max_numbers_per_request=self.max_numbers_per_request,
            appkey=self.appkey,
            batch_no=self.batch_no if not absent(self.batch_no) else (task_batch_no(ti) if ti else None),
            check_level=self.check_level,
            dr_url=self.dr_url,
            reuse_existing=retry,
            reuse_since=_run_started(context) if retry else None,
            reuse_wait=self._reuse_wait(ti) if retry else 0.0,
        )
        if len(batches) == 1:
            (batch,) = batches
            self.log.info(
                "%s %d %s numbers as batch %s (message id %s)",
                "Reused already submitted" if batch["reused"] else "Submitted",
                batch["phone_count"],
                batch["country"],
                batch["batch_no"],
                batch["message_id"],
            )
        else:
            reused = [batch for batch in batches if batch["reused"]]
            self.log.info(
                "%d batches: %s numbers submitted now in %d, %s reused from an earlier try in %d",
                len(batches),
                f"{sum(batch['phone_count'] for batch in batches if not batch['reused']):,}",
                len(batches) - len(reused),
                f"{sum(batch['phone_count'] for batch in reused):,}",
                len(reused),
            )
        if self._summary is not None and ti is not None:
            ti.xcom_push(key="phones_summary", value={**self._summary, "requests": len(batches)})
        return batches

    def _reuse_wait(self, ti: Any) -> float:
        """How long this retry looks for an earlier try's batch before paying for a new one."""
        delay = self.retry_delay.total_seconds() if self.retry_delay is not None else 0.0
        # light DAG parsing: the submit policy loads when a task retry needs it
        from airflow_provider_wa_phones.submits import reuse_wait

        return reuse_wait(delay, getattr(ti, "start_date", None))


def _run_started(context: Any) -> Any:
    """When the DAG run began (no try of its tasks can have submitted earlier), if Airflow says."""

    run = context.get("dag_run")
    for moment in (getattr(run, "start_date", None), getattr(run, "run_after", None)):
        if isinstance(moment, dt.datetime) and moment.tzinfo is not None:
            return min(moment, dt.datetime.now(dt.timezone.utc))
    return None


def task_batch_no(ti: Any) -> str:
    """A batch number that names one task instance and stays the same across its tries."""

    identity = f"{ti.dag_id}|{ti.task_id}|{ti.run_id}|{getattr(ti, 'map_index', -1)}"
    return "af-" + hashlib.sha256(identity.encode()).hexdigest()[:24]


#: The asset alias the results operator publishes its files through, unless told otherwise.
RESULTS_ASSET = "nxcloud-number-check-results"


class NxCloudNumberCheckResultsOperator(NxCloudTask):
    """Read number-check results, page by page, into XCom or a JSON Lines file.

    Say which results either with ``batches`` (the XCom of ``NxCloudNumberCheckOperator``) or with
    ``date`` plus ``batch_no`` or ``message_id``.

    :param batches: list of batch entries as returned by ``NxCloudNumberCheckOperator``
        (``submit.output``). Templated, so an XCom reference resolves.
    :param date: the day the numbers were submitted (``yyyy-MM-dd``, within the last 14 days).
        Templated.
    :param batch_no: batch number to read. Templated.
    :param message_id: a ``messageId`` to read. The service matches it exactly: a one-number
        submit's id, or one record's id (records of a several-number submit carry
        ``<submit id>-<digits>``; read those through ``batches`` or ``batch_no``). Templated.
    :param phone: only the record of this number. Templated.
    :param appkey: limit results to this application (not sent when omitted). Templated.
    :param page_size: records per request, 1 to 100 (default 100).
    :param output_path: where to stream the records as JSON Lines: any ``ObjectStoragePath`` URL
        (``file:///data/checks/{{ run_id | output_file_name('number-check', 'jsonl') }}`` with
        :func:`~airflow_provider_wa_phones.reports.output_file_name` as a DAG filter,
        ``s3://conn@bucket/key``; name it after the run: manual runs have no ``ds``). The file
        appears only when complete, and replaces nothing but a regular file: an existing device,
        FIFO, socket or symbolic link, and anything under ``/dev``, ``/proc`` or ``/sys``, is
        refused, as are hidden characters (a trailing newline, direction or zero-width marks) and
        paths over 4,096 characters. A local file is published as ``file:///<absolute path>``.
        Templated.
    :param max_xcom_records: without ``output_path``, the most records returned through XCom; more
        fails the task and asks for ``output_path``, so XCom never holds a large result set.
    :param output_asset: the name of the ``AssetAlias`` the task declares as its outlet: each file
        it writes is published through it as an ``Asset`` (its URL, without credentials), with
        ``record_count`` and ``summary`` in the event's extra, so a DAG scheduled on
        ``AssetAlias(output_asset)`` runs on fresh results. Default
        ``"nxcloud-number-check-results"``; None declares nothing.
    :param page_concurrency: result pages read at once once the first has told how many there are
        (1 to 32, default 6).
    :param nxcloud_conn_id: an ``nxcloud`` connection. Templated.

    Returns (XCom) the list of records without ``output_path``; with it, a dict with
    ``output_path``, ``asset_uri``, ``record_count`` and ``summary`` (counts by pre-check,
    validity, region, and of checks that failed; ``by_status``: each record's status, ``FAILED``
    for a failed check, else its HLR validity or pre-check; ``by_country``: those statuses per
    region). The records are streamed to the file page by page, so memory stays flat however many
    batches and records there are.
    """

    template_fields: Sequence[str] = (
        "batches",
        "date",
        "batch_no",
        "message_id",
        "phone",
        "appkey",
        "output_path",
        "nxcloud_conn_id",
    )

    def __init__(
        self,
        *,
        batches: list[dict[str, Any]] | None = None,
        date: str | None = None,
        batch_no: str | None = None,
        message_id: str | None = None,
        phone: str | None = None,
        appkey: str | None = None,
        page_size: int = 100,
        output_path: str | None = None,
        max_xcom_records: int = 1000,
        output_asset: str | None = RESULTS_ASSET,
        page_concurrency: int = 6,
        **kwargs: Any,
    ) -> None:
        # light DAG parsing: airflow.sdk loads each of its names on first use

        if output_asset is not None and output_path is not None and "outlets" not in kwargs:
            kwargs["outlets"] = [AssetAlias(checks.text("output_asset", output_asset, max_length=1500))]
        super().__init__(**kwargs)
        self.output_asset = output_asset
        self.page_concurrency = checks.whole_number("page_concurrency", page_concurrency, 1, 32)
        self.batches = batches
        self.date = date
        self.batch_no = batch_no
        self.message_id = message_id
        self.phone = phone
        self.appkey = appkey
        # Not templated, so checked now.
        self.page_size = checks.whole_number("page_size", page_size, 1, 100)
        self.output_path = output_path
        self.max_xcom_records = _xcom_limit(max_xcom_records)

    def _records(self) -> Iterator[dict[str, Any]]:
        """Check every argument now, then return the records of all queries, read lazily.

        With ``batches``, each batch yields only its own submit's records, under every day it may
        be filed under.
        """

        settings: dict[str, Any] = {"phone": self.phone, "appkey": self.appkey, "page_size": self.page_size}
        if self.batches is None:
            # A missing date is refused there, with a ParameterError naming it.
            date: Any = self.date
            return self.hook.iter_number_check_results(date, self.batch_no, self.message_id, **settings)

        batch_entries(self.batches, "batches")
        if not all(absent(value) for value in (self.date, self.batch_no, self.message_id)):
            raise ParameterError("batches", "give either batches or date with batch_no/message_id, not both")
        chosen = batches_of(self.batches, "batches")
        return chain.from_iterable([self.hook.iter_batch_results(batch, **settings) for batch in chosen])

    def hook_settings(self) -> dict[str, Any]:
        return {**super().hook_settings(), "page_concurrency": self.page_concurrency}

    def execute(self, context: Context) -> Any:
        target = None if absent(self.output_path) else _output_target(self.output_path)
        records = self._records()
        if target is None:
            return self._collect(records)
        outcome = self._write(records, target)
        self._publish(context, outcome)
        return outcome

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage datasets of a finished run (the OpenLineage provider calls this): the
        results file written as the output (none without ``output_path``), and the NxCloud
        number-check query read as the input (namespace: the connection's base URL; name: the
        operation's path, ``/api/number/query``). None without the OpenLineage provider."""
        # light DAG parsing: the operations (and the hook's settings) load when a run is reported
        from airflow_provider_wa_phones.operations import nxcloud as ops

        # output_path is rendered by now, and was checked when the file was written.
        outputs = [] if absent(self.output_path) else [file_dataset(ObjectStoragePath(str(self.output_path)))]
        inputs = [service_dataset(self.hook.settings.base_url, ops.NUMBER_CHECK_QUERY.path)]
        return operator_lineage(inputs, outputs)

    def _publish(self, context: Context, outcome: dict[str, Any]) -> None:
        """Announce the file through the declared ``AssetAlias`` (a DAG scheduled on it runs)."""
        # light DAG parsing: airflow.sdk loads each of its names on first use

        aliases = [outlet for outlet in self.outlets if isinstance(outlet, AssetAlias)]
        events = context.get("outlet_events")
        if not aliases or events is None:  # execute() called outside a task run: nothing to announce
            return
        extra = {"record_count": outcome["record_count"], "summary": outcome["summary"]}
        for alias in aliases:
            events[alias].add(Asset(uri=outcome["asset_uri"]), extra=extra)
        self.log.info(
            "Published %s through asset alias %s", outcome["asset_uri"], ", ".join(a.name for a in aliases)
        )

    def _collect(self, records: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:

        result: list[dict[str, Any]] = []
        for record in records:
            if len(result) >= self.max_xcom_records:
                raise ParameterError(
                    "output_path",
                    f"more than max_xcom_records={self.max_xcom_records} results; set output_path to "
                    "stream them to a file instead of XCom",
                )
            result.append(record)
        self.log.info("Read %d number-check results", len(result))
        return result

    def _write(self, records: Iterator[dict[str, Any]], target: Any) -> dict[str, Any]:
        summary = _Summary()

        def write(out: Any) -> None:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                summary.add(record)

        if _is_local(target):
            path = _local_path(target)
            _write_local(path, str(self.output_path), write)
            shown, asset_uri = str(target), "file://" + path
        else:
            partial = target.with_name(target.name + ".partial")
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                # Through the path's fsspec filesystem, not partial.open(): ObjectStoragePath records
                # each file it opens as hook lineage, and the .partial file is no one's data.
                with partial.fs.open(partial.path, "w", encoding="utf-8") as out:
                    write(out)
                partial.rename(target)
            except BaseException:
                _quietly(lambda: partial.unlink(missing_ok=True))
                raise
            # The URL without the connection id a storage URL may carry (s3://conn@bucket/key).
            shown, asset_uri = str(target), f"{target.protocol}://{target.path}"
        # The finished file, named as the asset published for it (lineage.record_output_file).
        record_output_file(asset_uri, target)
        self.log.info("Wrote %d number-check results to %s", summary.total, shown)
        return {
            "output_path": shown,
            "asset_uri": asset_uri,
            "record_count": summary.total,
            "summary": summary.as_dict(),
        }


def _write_local(path: str, text: str, write: Any) -> None:
    """Write a local results file through ``<path>.partial`` and a rename that replaces nothing but
    a regular file: the partial file is created afresh (never opened through a link or onto a
    device), and the target is checked again just before the rename."""

    partial = path + ".partial"
    _check_local_target(partial, text + ".partial")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _quietly(lambda: os.unlink(partial))  # a crashed earlier try's leftover (a regular file)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            write(out)
        _check_local_target(path, text)  # something may have appeared there meanwhile
        os.replace(partial, path)
    except BaseException:
        _quietly(lambda: os.unlink(partial))
        raise


def _quietly(cleanup: Any) -> None:
    """Run a cleanup whose failure must not hide the error being raised (or fail a finished task)."""

    with contextlib.suppress(Exception):  # the first error is the one to report
        cleanup()


def _xcom_limit(value: Any) -> int:

    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError("max_xcom_records", f"must be a whole number >= 1, got {checks.quoted(value)}")
    return value


#: The longest ``output_path`` accepted (Linux allows 4,096 bytes for a whole path).
MAX_OUTPUT_PATH = 4096
#: Where no results file belongs: device, process and kernel files (``/dev/null`` was once
#: replaced by a regular file through the write-then-rename).
_SYSTEM_FOLDERS = ("/dev", "/proc", "/sys")


def _output_target(output_path: Any) -> Any:
    """``output_path`` as an ObjectStoragePath naming a file, or ParameterError (before any request).

    A local target must be a regular file or not exist yet: a device, FIFO, socket or symbolic link
    is refused (the finished file replaces the target by a rename), and so is anything under
    ``/dev``, ``/proc`` or ``/sys``.
    """
    # light DAG parsing: airflow.sdk loads each of its names on first use

    text = str(output_path) if isinstance(output_path, ObjectStoragePath) else output_path
    if not isinstance(text, str) or not text.strip():
        raise ParameterError("output_path", f"must be a file URL or path, got {checks.quoted(output_path)}")
    if len(text) > MAX_OUTPUT_PATH:
        raise ParameterError(
            "output_path", f"must be at most {MAX_OUTPUT_PATH} characters, got {len(text):,}"
        )
    if "\x00" in text:
        raise ParameterError("output_path", f"must not hold a NUL character, got {checks.quoted(text)}")
    if not checks.is_clean_text(text):
        raise ParameterError(
            "output_path",
            "must be a file URL or path without control characters (a trailing newline, a tab...), "
            f"direction marks, zero-width characters or surrounding spaces, got {checks.quoted(text)}",
        )
    if text.endswith("/") or text.rstrip("/").endswith(":/") or text.endswith("://"):
        raise ParameterError(
            "output_path",
            f"must name a file, not a folder: {checks.quoted(text)} ends with '/'; add a file name such as "
            "results.jsonl",
        )
    try:
        target = ObjectStoragePath(text)
    except Exception as exc:  # unknown scheme, missing filesystem package, bad URL
        raise ParameterError(
            "output_path", f"cannot be opened as storage ({type(exc).__name__}): {checks.quoted(text)}"
        ) from None
    if not target.name or target.name in (".", ".."):
        raise ParameterError("output_path", f"must name a file, got {checks.quoted(text)}")
    if _is_local(target):
        _check_local_target(_local_path(target), text)
        return target
    _check_filesystem(target, text)
    # Renaming the finished file onto a folder would put it inside, as <folder>/<name>.partial.
    try:
        is_dir = target.is_dir()
    except (ImportError, ValueError) as exc:
        raise ParameterError(
            "output_path",
            f"cannot be opened as storage ({type(exc).__name__}: {checks.quoted(str(exc))}): "
            f"{checks.quoted(text)}",
        ) from None
    if is_dir:
        raise ParameterError("output_path", f"must name a file, but {checks.quoted(text)} is a folder")
    return target


def _is_local(target: Any) -> bool:
    return target.protocol in ("", "file", "local")


def _local_path(target: Any) -> str:
    """The absolute local path of a local target."""

    path: str = os.path.abspath(target.path)
    return path


def _check_local_target(path: str, text: str) -> None:
    """Refuse a local target that exists and is not a regular file, or lies under a system folder."""

    folder = os.path.realpath(os.path.dirname(path))
    if any(folder == root or folder.startswith(root + "/") for root in _SYSTEM_FOLDERS):
        raise ParameterError(
            "output_path",
            f"must not be under /dev, /proc or /sys (device and kernel files), got {checks.quoted(text)}",
        )
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ParameterError(
            "output_path", f"cannot be checked ({type(exc).__name__}): {checks.quoted(text)}"
        ) from None
    if stat.S_ISDIR(mode):
        raise ParameterError("output_path", f"must name a file, but {checks.quoted(text)} is a folder")
    if not stat.S_ISREG(mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise ParameterError(
            "output_path",
            f"must be a regular file or a new one, but {checks.quoted(text)} is {kind}; the finished "
            "file would replace it",
        )


_FILE_KINDS = {
    0o020000: "a character device",
    0o060000: "a block device",
    0o010000: "a FIFO (named pipe)",
    0o140000: "a socket",
    0o120000: "a symbolic link (name the file itself)",
}


#: The filesystem package and the Airflow provider that register each common storage scheme.
_STORAGE_PACKAGES = {
    "s3": "s3fs and apache-airflow-providers-amazon",
    "s3a": "s3fs and apache-airflow-providers-amazon",
    "gs": "gcsfs and apache-airflow-providers-google",
    "gcs": "gcsfs and apache-airflow-providers-google",
    "abfs": "adlfs and apache-airflow-providers-microsoft-azure",
    "abfss": "adlfs and apache-airflow-providers-microsoft-azure",
    "az": "adlfs and apache-airflow-providers-microsoft-azure",
    "adl": "adlfs and apache-airflow-providers-microsoft-azure",
}


def _check_filesystem(target: Any, text: str) -> None:
    """A storage scheme this installation cannot open (a missing filesystem package or provider):
    ParameterError saying what to install, not a bare ImportError when the file is opened."""

    protocol = target.protocol
    name = str(protocol[0] if isinstance(protocol, (tuple, list)) else protocol)
    try:
        target.fs  # noqa: B018 - resolving the filesystem is the check
    except (ImportError, ValueError) as exc:
        needs = _STORAGE_PACKAGES.get(name.lower(), f"the package and Airflow provider of {name}://")
        raise ParameterError(
            "output_path",
            f"{name}:// cannot be opened here: install {needs} ({type(exc).__name__} for "
            f"{checks.quoted(text)})",
        ) from None


class _Summary:
    """Counts that let a DAG decide what to do without reading the whole result file."""

    def __init__(self) -> None:
        self.total = 0
        self.failed = 0
        self.pre_check: Counter[str] = Counter()
        self.validity: Counter[str] = Counter()
        self.region: Counter[str] = Counter()
        self.status: Counter[str] = Counter()
        self.country_status: dict[str, Counter[str]] = {}

    def add(self, record: dict[str, Any]) -> None:
        self.total += 1
        failed = record.get("code") not in (None, 0, "0")
        if failed:
            self.failed += 1
        pre_check = str(record.get("preCheck") or "UNKNOWN")
        self.pre_check[pre_check] += 1
        if record.get("validity"):
            self.validity[str(record["validity"])] += 1
        region = str(record.get("regionCode") or "UNKNOWN")
        self.region[region] += 1
        # One status per record: the check failed, else the deepest answer it has (HLR validity for
        # level 5, the pre-check otherwise).
        status = "FAILED" if failed else str(record.get("validity") or pre_check)
        self.status[status] += 1
        self.country_status.setdefault(region, Counter())[status] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "failed_checks": self.failed,
            "pre_check": dict(self.pre_check),
            "validity": dict(self.validity),
            "by_region": dict(self.region),
            "by_status": dict(self.status),
            "by_country": {region: dict(counts) for region, counts in self.country_status.items()},
        }
