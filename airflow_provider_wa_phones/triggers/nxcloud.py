"""NxCloud triggers: number-check batches to finish and numbers to reach a status (deferred
sensors), and numbers that change (``AssetWatcher``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Unpack

from airflow_provider_wa_phones.services import NXCLOUD
from airflow_provider_wa_phones.triggers.base import (
    PhoneStatusPolling,
    PhoneWatch,
    PollingTrigger,
    PollOptions,
)

if TYPE_CHECKING:
    from airflow_provider_wa_phones.waits import Decision


class _NxCloudApplication:
    """The account an NxCloud phone trigger looks at: an application (``appkey``)."""

    service = NXCLOUD.conn_type
    scope_param, conn_param = "appkey", NXCLOUD.conn_id_param
    appkey: str | None
    nxcloud_conn_id: str
    hook_settings: Any

    def check_scope(self, value: Any) -> str | None:
        from airflow_provider_wa_phones.operations.nxcloud import check_appkey

        return None if value is None else check_appkey(value)

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook

        return NxCloudAsyncHook(self.nxcloud_conn_id, **self.hook_settings())

    async def fetch_account(self, hook: Any) -> list[dict[str, Any]]:
        from airflow_provider_wa_phones.phones import nxcloud_phone_record

        return [nxcloud_phone_record(r) for r in await hook.get_phone_info(appkey=self.appkey)]


class NxCloudPhoneStatusTrigger(_NxCloudApplication, PhoneStatusPolling):
    """Waits until every number in ``phones`` has ``target_status``: one ``getPhone`` call per poll
    whatever the number of phones, shared by every such trigger of the application in a triggerer
    with shared streams (Airflow 3.3).

    :param phones: normalised numbers (digits with country code).
    :param target_status: the awaited status, e.g. CONNECTED.
    :param failure_statuses: statuses that end the wait as a failure.
    :param appkey: NxCloud application; the connection's when None.
    :param nxcloud_conn_id: the connection id (credentials are read from it, never serialised).
    :param options: ``poke_interval``, ``request_timeout``, ``retry`` (see :class:`PollOptions`).
    """

    phones_param = "phones"
    phones: list[str]

    def __init__(
        self,
        phones: list[str],
        target_status: str,
        failure_statuses: list[str],
        appkey: str | None = None,
        nxcloud_conn_id: str = NXCLOUD.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(phones, target_status, failure_statuses, appkey, nxcloud_conn_id, **options)

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        from airflow_provider_wa_phones.phones import nxcloud_phone_record

        return [nxcloud_phone_record(r) for r in await hook.get_phone_info(self.phones, self.appkey)]


class NxCloudPhoneWatchTrigger(_NxCloudApplication, PhoneWatch):
    """Fires when a number of an NxCloud application changes: one event per number and field, for
    an ``AssetWatcher`` (see the README, "Watching numbers").

    :param appkey: the application whose numbers to watch; the connection's when None.
    :param phones: only these numbers (digits with country code); every number of the application
        when None.
    :param nxcloud_conn_id: the connection id.

    ``fields``, ``becomes``, ``leaves``, ``fire_on_first`` and the poll options: see
    :class:`~airflow_provider_wa_phones.triggers.base.PhoneWatch`.
    """

    phones_param = "phones"

    def __init__(
        self,
        appkey: str | None = None,
        phones: list[str] | None = None,
        fields: list[str] | None = None,
        becomes: dict[str, Any] | None = None,
        leaves: dict[str, Any] | None = None,
        fire_on_first: bool = False,
        nxcloud_conn_id: str = NXCLOUD.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(appkey, nxcloud_conn_id, phones, fields, becomes, leaves, fire_on_first, **options)


class NxCloudNumberCheckTrigger(PollingTrigger):
    """Waits until every number-check batch has as many result records as numbers submitted: per
    poll, one query per batch and day it may be filed under while the service counts too few
    records, then every page of it (only the submit's own records count).

    :param batches: plain dicts (``Batch.as_kwargs()``): ``dates``, ``expected``, ``batch_no``,
        ``submit_id``, ``message_id``.
    :param appkey: limit the query to this application (not sent when None).
    :param nxcloud_conn_id: the connection id (credentials are read from it, never serialised).
    :param options: ``poke_interval``, ``request_timeout``, ``retry`` (see :class:`PollOptions`).
    """

    def __init__(
        self,
        batches: list[dict[str, Any]],
        appkey: str | None = None,
        nxcloud_conn_id: str = NXCLOUD.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(**options)
        self.batches = batches
        self.appkey = appkey
        self.nxcloud_conn_id = nxcloud_conn_id

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import connections
        from airflow_provider_wa_phones.operations.nxcloud import check_appkey
        from airflow_provider_wa_phones.results import Batch, batch_entries

        super().check_arguments()
        self.batches = [
            Batch.from_kwargs(batch).as_kwargs() for batch in batch_entries(self.batches, one=False)
        ]
        self.appkey = None if self.appkey is None else check_appkey(self.appkey)
        self.nxcloud_conn_id = connections.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)

    def kwargs(self) -> dict[str, Any]:
        return {"batches": self.batches, "appkey": self.appkey, "nxcloud_conn_id": self.nxcloud_conn_id}

    def make_hook(self) -> Any:
        from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook

        return NxCloudAsyncHook(self.nxcloud_conn_id, **self.hook_settings())

    async def decide(self, hook: Any) -> Decision:
        from airflow_provider_wa_phones.results import Batch
        from airflow_provider_wa_phones.waits import number_check

        targets = [Batch.from_kwargs(batch) for batch in self.batches]
        return number_check(targets, [await hook.count_batch_results(t, appkey=self.appkey) for t in targets])
