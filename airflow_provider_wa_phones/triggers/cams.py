"""Alibaba Cloud CAMS triggers: numbers to reach a status (deferred sensors), and numbers that
change (``AssetWatcher``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones import connections
from airflow_provider_wa_phones.operations.cams import check_cust_space_id
from airflow_provider_wa_phones.phones import normalize_phones
from airflow_provider_wa_phones.services import CAMS
from airflow_provider_wa_phones.triggers.base import PollOptions
from airflow_provider_wa_phones.triggers.polling import PhoneStatusPolling
from airflow_provider_wa_phones.triggers.watch import PhoneWatch

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Unpack


class _CamsSpace:
    """The account a CAMS phone trigger looks at: a ChatApp space (``cust_space_id``)."""

    service = CAMS.conn_type
    cust_space_id: str | None
    cams_conn_id: str
    hook_settings: Any

    def account(self) -> tuple[Any, Any]:
        return self.cams_conn_id, self.cust_space_id

    def check_account(self) -> None:
        self.cust_space_id = check_cust_space_id(self.cust_space_id, required=False)
        self.cams_conn_id = connections.conn_id("cams_conn_id", self.cams_conn_id)

    def make_hook(self) -> Any:
        # light DAG parsing: DAG files that build an AssetWatcher import this module; the hook brings
        # aiohttp and requests (run() imports it in a thread first, off the triggerer's event loop).
        from airflow_provider_wa_phones.hooks.cams import CamsAsyncHook

        return CamsAsyncHook(self.cams_conn_id, **self.hook_settings())

    async def fetch_account(self, hook: Any) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = await hook.query_phone_records(cust_space_id=self.cust_space_id)
        return records


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

    def __init__(
        self,
        phone_numbers: list[str],
        target_status: str,
        failure_statuses: list[str],
        cust_space_id: str | None = None,
        cams_conn_id: str = CAMS.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(target_status, failure_statuses, **options)
        self.phone_numbers = phone_numbers
        self.cust_space_id = cust_space_id
        self.cams_conn_id = cams_conn_id

    def check_phones(self) -> None:
        self.phone_numbers = normalize_phones(self.phone_numbers, "phone_numbers")

    def awaited_phones(self) -> list[str]:
        return self.phone_numbers

    def kwargs(self) -> dict[str, Any]:
        return {
            "phone_numbers": self.phone_numbers,
            "target_status": self.target_status,
            "failure_statuses": self.failure_statuses,
            "cust_space_id": self.cust_space_id,
            "cams_conn_id": self.cams_conn_id,
        }

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
    :class:`~airflow_provider_wa_phones.triggers.watch.PhoneWatch`.
    """

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
        super().__init__(fields, becomes, leaves, fire_on_first, **options)
        self.cust_space_id = cust_space_id
        self.cams_conn_id = cams_conn_id
        self.phone_numbers = phone_numbers

    def check_phones(self) -> None:
        phones = self.phone_numbers
        self.phone_numbers = None if phones is None else normalize_phones(phones, "phone_numbers")

    def watched_phones(self) -> list[str] | None:
        return self.phone_numbers

    def kwargs(self) -> dict[str, Any]:
        return {
            "cust_space_id": self.cust_space_id,
            "cams_conn_id": self.cams_conn_id,
            "phone_numbers": self.phone_numbers,
            "fields": self.fields,
            "becomes": self.becomes,
            "leaves": self.leaves,
            "fire_on_first": self.fire_on_first,
        }
