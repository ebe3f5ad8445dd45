"""Deferrable wait on Alibaba Cloud CAMS: sender numbers to reach a status."""

from __future__ import annotations

from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_wa_phones.triggers._polling import PollingTrigger, phone_status_event


class CamsPhoneStatusTrigger(PollingTrigger):
    """Waits until every number in ``phone_numbers`` has ``target_status``, with one
    ``QueryChatappPhoneNumbers`` call per poll whatever the number of phones.

    :param phone_numbers: normalised numbers (digits with country code).
    :param target_status: the awaited status, e.g. CONNECTED.
    :param failure_statuses: statuses that end the wait as a failure.
    :param cust_space_id: the ChatApp space; the connection's when None.
    :param cams_conn_id: the connection id (credentials are read from it, never serialised).
    :param poke_interval: seconds between polls.
    :param request_timeout: seconds to wait for each answer.
    :param retry: ``RetryPolicy`` fields as plain data (None: the default policy).
    """

    def __init__(
        self,
        phone_numbers: list[str],
        target_status: str,
        failure_statuses: list[str],
        cust_space_id: str | None = None,
        cams_conn_id: str = "alibaba_cams_default",
        poke_interval: float = 30.0,
        request_timeout: float = 30.0,
        retry: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(poke_interval, request_timeout, retry)
        self.phone_numbers = phone_numbers
        self.target_status = target_status
        self.failure_statuses = failure_statuses
        self.cust_space_id = cust_space_id
        self.cams_conn_id = cams_conn_id

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import checks
        from airflow_provider_wa_phones.api.cams import check_cust_space_id
        from airflow_provider_wa_phones.phones import normalize_phones
        from airflow_provider_wa_phones.waits import check_status_arguments

        super().check_arguments()
        self.phone_numbers = normalize_phones(self.phone_numbers, "phone_numbers")
        self.target_status, self.failure_statuses = check_status_arguments(
            self.target_status, self.failure_statuses
        )
        self.cust_space_id = check_cust_space_id(self.cust_space_id, required=False)
        self.cams_conn_id = checks.conn_id("cams_conn_id", self.cams_conn_id)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "phone_numbers": self.phone_numbers,
                "target_status": self.target_status,
                "failure_statuses": self.failure_statuses,
                "cust_space_id": self.cust_space_id,
                "cams_conn_id": self.cams_conn_id,
                **self.common_kwargs(),
            },
        )

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook

        return CamsAsyncHook(self.cams_conn_id, **self.hook_settings())

    async def check(self, hook: Any) -> TriggerEvent | None:
        from airflow_provider_wa_phones.phones import cams_phone_record
        from airflow_provider_wa_phones.waits import check_phone_statuses

        raw = await hook.query_phone_numbers(cust_space_id=self.cust_space_id)
        wanted = set(self.phone_numbers)
        records = [record for record in map(cams_phone_record, raw) if record["phone_number"] in wanted]
        return phone_status_event(
            check_phone_statuses(records, self.phone_numbers, self.target_status, self.failure_statuses),
            records,
        )
