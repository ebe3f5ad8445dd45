"""NxCloud triggers: number-check batches to finish and numbers to reach a status (deferred
sensors), and numbers that change (``AssetWatcher``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones import connections
from airflow_provider_wa_phones.operations.nxcloud import check_appkey
from airflow_provider_wa_phones.phones import normalize_phones
from airflow_provider_wa_phones.results import Batch, batch_entries
from airflow_provider_wa_phones.services import NXCLOUD
from airflow_provider_wa_phones.triggers.base import PollingTrigger, PollOptions
from airflow_provider_wa_phones.triggers.polling import PhoneStatusPolling
from airflow_provider_wa_phones.triggers.watch import PhoneWatch
from airflow_provider_wa_phones.waits import (
    DEFAULT_BATCH_CONCURRENCY,
    Decision,
    NumberCheckProgress,
    check_batch_concurrency,
)

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Unpack


def _hook(nxcloud_conn_id: str, settings: dict[str, Any]) -> Any:
    """The async hook an NxCloud trigger polls with."""
    # light DAG parsing: DAG files that build an AssetWatcher import this module; the hook brings
    # aiohttp and requests (run() imports it in a thread first, off the triggerer's event loop).
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudAsyncHook

    return NxCloudAsyncHook(nxcloud_conn_id, **settings)


class _NxCloudApplication:
    """The account an NxCloud phone trigger looks at: an application (``appkey``)."""

    service = NXCLOUD.conn_type
    appkey: str | None
    nxcloud_conn_id: str
    hook_settings: Any

    def account(self) -> tuple[Any, Any]:
        return self.nxcloud_conn_id, self.appkey

    def check_account(self) -> None:
        self.appkey = None if self.appkey is None else check_appkey(self.appkey)
        self.nxcloud_conn_id = connections.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)

    def make_hook(self) -> Any:
        return _hook(self.nxcloud_conn_id, self.hook_settings())

    async def fetch_account(self, hook: Any) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = await hook.get_phone_records(appkey=self.appkey)
        return records


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

    def __init__(
        self,
        phones: list[str],
        target_status: str,
        failure_statuses: list[str],
        appkey: str | None = None,
        nxcloud_conn_id: str = NXCLOUD.default_conn_id,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(target_status, failure_statuses, **options)
        self.phones = phones
        self.appkey = appkey
        self.nxcloud_conn_id = nxcloud_conn_id

    def check_phones(self) -> None:
        self.phones = normalize_phones(self.phones, "phones")

    def awaited_phones(self) -> list[str]:
        return self.phones

    def kwargs(self) -> dict[str, Any]:
        return {
            "phones": self.phones,
            "target_status": self.target_status,
            "failure_statuses": self.failure_statuses,
            "appkey": self.appkey,
            "nxcloud_conn_id": self.nxcloud_conn_id,
        }

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = await hook.get_phone_records(self.phones, self.appkey)
        return records


class NxCloudPhoneWatchTrigger(_NxCloudApplication, PhoneWatch):
    """Fires when a number of an NxCloud application changes: one event per number and field, for
    an ``AssetWatcher`` (see the README, "Watching numbers").

    :param appkey: the application whose numbers to watch; the connection's when None.
    :param phones: only these numbers (digits with country code); every number of the application
        when None.
    :param nxcloud_conn_id: the connection id.

    ``fields``, ``becomes``, ``leaves``, ``fire_on_first`` and the poll options: see
    :class:`~airflow_provider_wa_phones.triggers.watch.PhoneWatch`.
    """

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
        super().__init__(fields, becomes, leaves, fire_on_first, **options)
        self.appkey = appkey
        self.nxcloud_conn_id = nxcloud_conn_id
        self.phones = phones

    def check_phones(self) -> None:
        self.phones = None if self.phones is None else normalize_phones(self.phones, "phones")

    def watched_phones(self) -> list[str] | None:
        return self.phones

    def kwargs(self) -> dict[str, Any]:
        return {
            "appkey": self.appkey,
            "nxcloud_conn_id": self.nxcloud_conn_id,
            "phones": self.phones,
            "fields": self.fields,
            "becomes": self.becomes,
            "leaves": self.leaves,
            "fire_on_first": self.fire_on_first,
        }


class NxCloudNumberCheckTrigger(PollingTrigger):
    """Waits until every number-check batch has as many result records as numbers submitted: per
    poll, one query per unfinished batch and day it may be filed under while the service counts too
    few records, then every page of it (only the submit's own records count).

    A batch seen finished is not queried again by this trigger instance; ``batch_concurrency``
    unfinished batches are queried at once. Which batches are finished is kept in memory only: a
    triggerer restart rebuilds the trigger from its kwargs, and its first poll queries every batch
    once more. Each poll logs one line of progress (batches finished, records counted).

    :param batches: plain dicts (``Batch.as_kwargs()``): ``dates``, ``expected``, ``batch_no``,
        ``submit_id``, ``message_id``.
    :param appkey: limit the query to this application (not sent when None).
    :param nxcloud_conn_id: the connection id (credentials are read from it, never serialised).
    :param batch_concurrency: batches queried at once, 1 to 32 (default 8); each reads up to the
        hook's ``page_concurrency`` pages at once.
    :param options: ``poke_interval``, ``request_timeout``, ``retry`` (see :class:`PollOptions`).
    """

    def __init__(
        self,
        batches: list[dict[str, Any]],
        appkey: str | None = None,
        nxcloud_conn_id: str = NXCLOUD.default_conn_id,
        batch_concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(**options)
        self.batches = batches
        self.appkey = appkey
        self.nxcloud_conn_id = nxcloud_conn_id
        self.batch_concurrency = batch_concurrency
        self._progress: NumberCheckProgress | None = None

    def check_arguments(self) -> None:
        super().check_arguments()
        self.batches = [
            Batch.from_kwargs(batch).as_kwargs() for batch in batch_entries(self.batches, one=False)
        ]
        self.appkey = None if self.appkey is None else check_appkey(self.appkey)
        self.nxcloud_conn_id = connections.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)
        self.batch_concurrency = check_batch_concurrency(self.batch_concurrency)

    def kwargs(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "appkey": self.appkey,
            "nxcloud_conn_id": self.nxcloud_conn_id,
            "batch_concurrency": self.batch_concurrency,
        }

    def make_hook(self) -> Any:
        return _hook(self.nxcloud_conn_id, self.hook_settings())

    def progress(self) -> NumberCheckProgress:
        """The batches and those seen finished by this instance's earlier polls."""
        if self._progress is None:
            self._progress = NumberCheckProgress([Batch.from_kwargs(batch) for batch in self.batches])
        return self._progress

    async def decide(self, hook: Any) -> Decision:
        progress = self.progress()
        semaphore = asyncio.Semaphore(self.batch_concurrency)

        async def count(index: int, target: Batch) -> None:
            async with semaphore:
                progress.take(index, await hook.count_batch_results(target, appkey=self.appkey))

        tasks = [asyncio.ensure_future(count(index, target)) for index, target in progress.unfinished()]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One query failed (or the trigger was cancelled): stop the others before the error ends
            # this poll; the batches seen finished meanwhile stay known.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return progress.decision()
