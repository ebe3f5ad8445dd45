"""Deferrable wait on Alibaba Cloud CAMS: sender numbers to reach a status."""

from __future__ import annotations

from typing import Any, Unpack

from airflow_provider_wa_phones.triggers.base import PhoneStatusPolling, PollOptions


class CamsPhoneStatusTrigger(PhoneStatusPolling):
    """Waits until every number in ``phone_numbers`` has ``target_status``, with one
    ``QueryChatappPhoneNumbers`` call per poll whatever the number of phones.

    :param phone_numbers: normalised numbers (digits with country code).
    :param target_status: the awaited status, e.g. CONNECTED.
    :param failure_statuses: statuses that end the wait as a failure.
    :param cust_space_id: the ChatApp space; the connection's when None.
    :param cams_conn_id: the connection id (credentials are read from it, never serialised).
    :param options: ``poke_interval``, ``request_timeout``, ``retry`` (see :class:`PollOptions`).
    """

    phones_param, scope_param, conn_param = "phone_numbers", "cust_space_id", "cams_conn_id"
    phone_numbers: list[str]
    cust_space_id: str | None
    cams_conn_id: str

    def __init__(
        self,
        phone_numbers: list[str],
        target_status: str,
        failure_statuses: list[str],
        cust_space_id: str | None = None,
        cams_conn_id: str = "alibaba_cams_default",
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(
            phone_numbers, target_status, failure_statuses, cust_space_id, cams_conn_id, **options
        )

    def check_scope(self, value: Any) -> str | None:
        from airflow_provider_wa_phones.operations.cams import check_cust_space_id

        return check_cust_space_id(value, required=False)

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook

        return CamsAsyncHook(self.cams_conn_id, **self.hook_settings())

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        from airflow_provider_wa_phones.phones import cams_phone_record

        return [
            cams_phone_record(r) for r in await hook.query_phone_numbers(cust_space_id=self.cust_space_id)
        ]
