"""Sensors for NxCloud: a number-check batch to finish, sender numbers to reach a status.

DAG files import this module at parse time, so it imports only ``airflow.sdk``, the trigger it
defers to and the provider's light modules; hooks, HTTP and phone-number libraries load when a
task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones.operators.base import NxCloudTask
from airflow_provider_wa_phones.phones import normalize_phones
from airflow_provider_wa_phones.results import Batch
from airflow_provider_wa_phones.sensors.base import PhoneStatusWait, WaitSensor
from airflow_provider_wa_phones.waits import (
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_FAILURE_STATUSES,
    Decision,
    NumberCheckProgress,
    batch_targets,
    check_batch_concurrency,
)

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger


class NxCloudNumberCheckSensor(NxCloudTask, WaitSensor):
    """Wait until number-check batches are finished: as many result records as numbers submitted
    (a record whose check failed is finished too). Never succeeds on an empty result.

    Say what to wait for in one of three ways:

    :param batches: the XCom of ``NxCloudNumberCheckOperator`` (``submit.output``). Templated.
    :param batch_no: a batch number, with ``expected_count`` and ``date``. Templated.
    :param message_id: a one-number submit's message id (or one record's), with ``date``; the
        service matches it exactly, so wait for a several-number submit through ``batches`` or
        ``batch_no``. One record unless ``expected_count`` says more. Templated.
    :param expected_count: how many records finish the batch. Templated.
    :param date: the submit day, ``yyyy-MM-dd``. Templated.
    :param appkey: limit the query to this application (not sent when omitted). Templated.
    :param nxcloud_conn_id: an ``nxcloud`` connection. Templated.
    :param deferrable: wait in the triggerer instead of a worker slot.
    :param batch_concurrency: how many batches a deferred wait queries at once, 1 to 32 (default
        8); each reads up to the hook's ``page_concurrency`` pages at once. A poke in a worker
        queries the batches one after another. Checked when the sensor is built.

    Plus every ``BaseSensorOperator`` argument (``poke_interval``, ``timeout``, ``mode``,
    ``soft_fail``, ...). Each poke costs one query per unfinished batch and day it may be filed
    under while too few records exist, then every page of it. A batch seen finished is not queried
    again by the same wait: pokes of one ``mode="poke"`` task, or polls of one trigger. That memory
    is not stored anywhere: a ``mode="reschedule"`` poke, the trigger a deferrable sensor hands
    over to, or a restarted triggerer queries every batch once again. Each poke (or poll) logs one
    line: "Number check: 37 of 120 batches finished, 412,345 of 1,200,000 records". With
    ``batches`` only the submit's own records count, so another run's batch under the same number
    never finishes it. Returns (XCom) a summary: ``expected``, ``found``, per-batch ``batches``
    progress, and ``batches_finished``, ``batches_total``, ``records_counted``,
    ``records_expected``.
    """

    template_fields: Sequence[str] = (
        "batches",
        "batch_no",
        "message_id",
        "expected_count",
        "date",
        "appkey",
        "nxcloud_conn_id",
    )
    result_key = "summary"

    def __init__(
        self,
        *,
        batches: list[dict[str, Any]] | None = None,
        batch_no: str | None = None,
        message_id: str | None = None,
        expected_count: int | str | None = None,
        date: str | None = None,
        appkey: str | None = None,
        batch_concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batches = batches
        self.batch_no = batch_no
        self.message_id = message_id
        self.expected_count = expected_count
        self.date = date
        self.appkey = appkey
        # Not templated, so checked now: a bad value fails the DAG file's import, visibly.
        self.batch_concurrency = check_batch_concurrency(batch_concurrency)
        self._progress: NumberCheckProgress | None = None

    def _targets(self) -> list[Batch]:
        return batch_targets(self.batches, self.batch_no, self.expected_count, self.message_id, self.date)

    def check(self, context: Context) -> Decision:
        targets = self._targets()
        # Pokes of one task in one process (mode="poke") share this; other arguments start over.
        if self._progress is None or self._progress.targets != targets:
            self._progress = NumberCheckProgress(targets)
        progress = self._progress
        for index, target in progress.unfinished():
            progress.take(index, self.hook.count_batch_results(target, appkey=self.appkey))
        return progress.decision()

    def make_trigger(self) -> BaseTrigger:
        # light DAG parsing: the trigger (and the connection code it brings) loads when the sensor defers
        from airflow_provider_wa_phones.triggers.nxcloud import NxCloudNumberCheckTrigger

        return NxCloudNumberCheckTrigger(
            batches=[target.as_kwargs() for target in self._targets()],
            appkey=self.appkey,
            nxcloud_conn_id=self.nxcloud_conn_id,
            batch_concurrency=self.batch_concurrency,
            **self.trigger_settings(),
        )


class NxCloudPhoneStatusSensor(NxCloudTask, PhoneStatusWait):
    """Wait until every listed sender number has ``target_status`` (default CONNECTED).

    One ``getPhone`` call per poke covers all numbers. A number in a failure status fails the task
    at once, naming the number and its status (``soft_fail`` skips instead).

    :param phones: the numbers, as a list or comma-separated string, with country code. Templated.
    :param target_status: the awaited status. Templated.
    :param failure_statuses: statuses that end the wait (default BANNED, DELETED, MIGRATED,
        DISCONNECTED).
    :param appkey: NxCloud application; defaults to the connection's ``appkey``. Templated.
    :param nxcloud_conn_id: an ``nxcloud`` connection. Templated.
    :param deferrable: wait in the triggerer instead of a worker slot.

    Plus every ``BaseSensorOperator`` argument. Returns (XCom) the numbers' final phone records
    in the common shape.
    """

    template_fields: Sequence[str] = ("phones", "target_status", "appkey", "nxcloud_conn_id")

    def __init__(
        self,
        *,
        phones: str | list[str],
        target_status: str = "CONNECTED",
        failure_statuses: Sequence[str] = DEFAULT_FAILURE_STATUSES,
        appkey: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(target_status=target_status, failure_statuses=failure_statuses, **kwargs)
        self.phones = phones
        self.appkey = appkey

    def awaited_phones(self) -> list[str]:
        return normalize_phones(self.phones, "phones")

    def fetch_records(self, phones: list[str]) -> list[dict[str, Any]]:
        return self.hook.get_phone_records(phones=phones, appkey=self.appkey)

    def make_trigger(self) -> BaseTrigger:
        phones, target, failures = self.arguments()
        # light DAG parsing: the trigger (and the connection code it brings) loads when the sensor defers
        from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneStatusTrigger

        return NxCloudPhoneStatusTrigger(
            phones=phones,
            target_status=target,
            failure_statuses=failures,
            appkey=self.appkey,
            nxcloud_conn_id=self.nxcloud_conn_id,
            **self.trigger_settings(),
        )
