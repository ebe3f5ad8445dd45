"""Alibaba Cloud CAMS triggers: numbers to reach a status (deferred sensors), and numbers that
change (``AssetWatcher``)."""

from __future__ import annotations

from typing import Any, Unpack

from airflow_provider_wa_phones.services import CAMS
from airflow_provider_wa_phones.triggers.base import PhoneStatusPolling, PhoneWatch, PollOptions


class _CamsSpace:
    """The account a CAMS phone trigger looks at: a ChatApp space (``cust_space_id``)."""

    service = CAMS.conn_type
    scope_param, conn_param = "cust_space_id", CAMS.conn_id_param
    cust_space_id: str | None
    cams_conn_id: str
    hook_settings: Any

    def check_scope(self, value: Any) -> str | None:
        from airflow_provider_wa_phones.operations.cams import check_cust_space_id

        return check_cust_space_id(value, required=False)

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook

        return CamsAsyncHook(self.cams_conn_id, **self.hook_settings())

    async def fetch_account(self, hook: Any) -> list[dict[str, Any]]:
        from airflow_provider_wa_phones.phones import cams_phone_record

        return [
            cams_phone_record(r) for r in await hook.query_phone_numbers(cust_space_id=self.cust_space_id)
        ]


class CamsPhoneStatusTrigger(_CamsSpace, PhoneStatusPolling):
    """Waits until every number in ``phone_numbers`` has ``target_status``: one
    ``QueryChatappPhoneNumbers`` call per poll whatever the number of phones, shared by every such
    trigger of the space in a triggerer with shared streams (Airflow 3.3).

    :param phone_numbers: normalised numbers (digits with country code).
    :param target_status: the awaited status, e.g. CONNECTED.
    :param failure_statuses: statuses that end the wait as a failure.
    :param cust_space_id: the ChatApp space; the connection's when None.
    :param cams_conn_id: the connection id (credentials are read from it, never serialised).
    :param options: ``poke_interval``, ``request_timeout``, ``retry`` (see :class:`PollOptions`).
    """

    phones_param = "phone_numbers"
    phone_numbers: list[str]

    def __init__(
        self,
        phone_numbers: list[str],
        target_status: str,
        failure_statuses: list[str],
        cust_space_id: str | None = None,
        cams_conn_id: str = CAMS.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(
            phone_numbers, target_status, failure_statuses, cust_space_id, cams_conn_id, **options
        )

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        return await self.fetch_account(hook)  # one call covers the whole space


class CamsPhoneWatchTrigger(_CamsSpace, PhoneWatch):
    """Fires when a number of a CAMS space changes: one event per number and field, for an
    ``AssetWatcher`` (see the README, "Watching numbers").

    :param cust_space_id: the space whose numbers to watch; the connection's when None.
    :param phone_numbers: only these numbers (digits with country code); every number of the space
        when None.
    :param cams_conn_id: the connection id.

    ``fields``, ``becomes``, ``leaves``, ``fire_on_first`` and the poll options: see
    :class:`~airflow_provider_wa_phones.triggers.base.PhoneWatch`.
    """

    phones_param = "phone_numbers"

    def __init__(
        self,
        cust_space_id: str | None = None,
        phone_numbers: list[str] | None = None,
        fields: list[str] | None = None,
        becomes: dict[str, Any] | None = None,
        leaves: dict[str, Any] | None = None,
        fire_on_first: bool = False,
        cams_conn_id: str = CAMS.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(
            cust_space_id, cams_conn_id, phone_numbers, fields, becomes, leaves, fire_on_first, **options
        )
