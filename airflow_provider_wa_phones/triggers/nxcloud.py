"""Deferrable waits on NxCloud: number-check batches to finish, numbers to reach a status."""

from __future__ import annotations

from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_wa_phones.triggers._polling import PollingTrigger, phone_status_event


class NxCloudPhoneStatusTrigger(PollingTrigger):
    """Waits until every number in ``phones`` has ``target_status``, with one ``getPhone`` call
    per poll whatever the number of phones.

    :param phones: normalised numbers (digits with country code).
    :param target_status: the awaited status, e.g. CONNECTED.
    :param failure_statuses: statuses that end the wait as a failure.
    :param appkey: NxCloud application; the connection's when None.
    :param nxcloud_conn_id: the connection id (credentials are read from it, never serialised).
    :param poke_interval: seconds between polls.
    :param request_timeout: seconds to wait for each answer.
    :param retry: ``RetryPolicy`` fields as plain data (None: the default policy).
    """

    def __init__(
        self,
        phones: list[str],
        target_status: str,
        failure_statuses: list[str],
        appkey: str | None = None,
        nxcloud_conn_id: str = "nxcloud_default",
        poke_interval: float = 30.0,
        request_timeout: float = 30.0,
        retry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(poke_interval, request_timeout, retry)
        self.phones = phones
        self.target_status = target_status
        self.failure_statuses = failure_statuses
        self.appkey = appkey
        self.nxcloud_conn_id = nxcloud_conn_id

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import checks
        from airflow_provider_wa_phones.api.nxcloud import check_appkey
        from airflow_provider_wa_phones.phones import normalize_phones
        from airflow_provider_wa_phones.waits import check_status_arguments

        super().check_arguments()
        self.phones = normalize_phones(self.phones, "phones")
        self.target_status, self.failure_statuses = check_status_arguments(
            self.target_status, self.failure_statuses
        )
        self.appkey = None if self.appkey is None else check_appkey(self.appkey)
        self.nxcloud_conn_id = checks.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "phones": self.phones,
                "target_status": self.target_status,
                "failure_statuses": self.failure_statuses,
                "appkey": self.appkey,
                "nxcloud_conn_id": self.nxcloud_conn_id,
                **self.common_kwargs(),
            },
        )

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook

        return NxCloudAsyncHook(self.nxcloud_conn_id, **self.hook_settings())

    async def check(self, hook: Any) -> TriggerEvent | None:
        from airflow_provider_wa_phones.phones import nxcloud_phone_record
        from airflow_provider_wa_phones.waits import check_phone_statuses

        records = [nxcloud_phone_record(r) for r in await hook.get_phone_info(self.phones, self.appkey)]
        return phone_status_event(
            check_phone_statuses(records, self.phones, self.target_status, self.failure_statuses), records
        )


class NxCloudNumberCheckTrigger(PollingTrigger):
    """Waits until every number-check batch has as many result records as numbers submitted: per
    poll, one query per batch and day it may be filed under while the service counts too few
    records, then every page of it (only the submit's own records count).

    :param batches: plain dicts (``Batch.as_kwargs()``): ``dates``, ``expected``, ``batch_no``,
        ``submit_id``, ``message_id``.
    :param appkey: limit the query to this application (not sent when None).
    :param nxcloud_conn_id: the connection id (credentials are read from it, never serialised).
    :param poke_interval: seconds between polls.
    :param request_timeout: seconds to wait for each answer.
    :param retry: ``RetryPolicy`` fields as plain data (None: the default policy).
    """

    def __init__(
        self,
        batches: list[dict[str, Any]],
        appkey: str | None = None,
        nxcloud_conn_id: str = "nxcloud_default",
        poke_interval: float = 30.0,
        request_timeout: float = 30.0,
        retry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(poke_interval, request_timeout, retry)
        self.batches = batches
        self.appkey = appkey
        self.nxcloud_conn_id = nxcloud_conn_id

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import checks
        from airflow_provider_wa_phones.api.nxcloud import check_appkey
        from airflow_provider_wa_phones.exceptions import ParameterError
        from airflow_provider_wa_phones.results import Batch

        super().check_arguments()
        if not isinstance(self.batches, list) or not 0 < len(self.batches) <= 1000:
            raise ParameterError(
                "batches", f"must be a non-empty list of batches, got {checks.quoted(self.batches)}"
            )
        self.batches = [Batch.from_kwargs(batch).as_kwargs() for batch in self.batches]
        self.appkey = None if self.appkey is None else check_appkey(self.appkey)
        self.nxcloud_conn_id = checks.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "batches": self.batches,
                "appkey": self.appkey,
                "nxcloud_conn_id": self.nxcloud_conn_id,
                **self.common_kwargs(),
            },
        )

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook

        return NxCloudAsyncHook(self.nxcloud_conn_id, **self.hook_settings())

    async def check(self, hook: Any) -> TriggerEvent | None:
        from airflow_provider_wa_phones.results import Batch
        from airflow_provider_wa_phones.waits import number_check_summary

        targets = [Batch.from_kwargs(batch) for batch in self.batches]
        counts = [await hook.count_batch_results(target, appkey=self.appkey) for target in targets]
        summary = number_check_summary(targets, counts)
        if summary.pop("done"):
            return TriggerEvent(
                {"status": "success", "message": "every batch is finished", "summary": summary}
            )
        self.log.info("Number check: %d of %d results", summary["found"], summary["expected"])
        return None
