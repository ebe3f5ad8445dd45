"""NxCloud hooks: WhatsApp phone information, the integrator's phone list and number checks.

Each method checks its arguments with :mod:`airflow_provider_wa_phones.operations.nxcloud` and
makes its calls through :mod:`airflow_provider_wa_phones.hooks.base`; the charged submit follows
:mod:`airflow_provider_wa_phones.submits`, result paging :mod:`airflow_provider_wa_phones.results`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones import checks, submits
from airflow_provider_wa_phones._compat import with_legacy_connection_form
from airflow_provider_wa_phones.checks import shorten
from airflow_provider_wa_phones.connections import NxCloudSettings
from airflow_provider_wa_phones.hooks import base
from airflow_provider_wa_phones.operations import nxcloud as ops
from airflow_provider_wa_phones.phones import nxcloud_phone_record
from airflow_provider_wa_phones.results import Batch, ReadProgress, ResultWalk
from airflow_provider_wa_phones.services import NXCLOUD

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Unpack

    from airflow_provider_wa_phones.contacts import ContactList

__all__ = ["NxCloudAsyncHook", "NxCloudHook", "NxCloudSettings"]

#: Result pages read at once after the first: answers are bound by the round trip, not by CPU.
DEFAULT_PAGE_CONCURRENCY = 6
MAX_PAGE_CONCURRENCY = 32


def common_records(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """NxCloud phone records (``getPhone``, ``phoneList``) in the provider's common shape
    (:func:`~airflow_provider_wa_phones.phones.nxcloud_phone_record`): where every operator, sensor
    and trigger gets them mapped."""
    return [nxcloud_phone_record(record) for record in raw]


class _NxCloud(base.ServiceHookBase, service=NXCLOUD):
    """What both NxCloud hooks share: the connection and its settings, and each method that the
    async hook has too, written once (see :class:`~airflow_provider_wa_phones.hooks.base.hook_method`).
    """

    settings_class = NxCloudSettings
    nxcloud_conn_id: str

    def __init__(
        self,
        nxcloud_conn_id: str = NXCLOUD.default_conn_id,
        *,
        page_concurrency: int = DEFAULT_PAGE_CONCURRENCY,
        **options: Unpack[base.HookOptions],
    ) -> None:
        super().__init__(nxcloud_conn_id, **options)
        self.page_concurrency = checks.whole_number(
            "page_concurrency", page_concurrency, 1, MAX_PAGE_CONCURRENCY
        )

    @base.hook_method
    def get_phone_info(
        self, phones: str | Iterable[str] | None = None, appkey: str | None = None
    ) -> base.Steps[list[dict[str, Any]]]:
        """Return the WhatsApp records of ``phones`` (all of the application's when omitted).

        Records keep NxCloud's field names; when the service keys its answer by phone number,
        each record also carries that number as ``business_phone``.
        """
        if appkey is None:
            appkey = (yield base.SETTINGS).appkey
        result: list[dict[str, Any]] = yield base.Call(
            ops.GET_PHONE, ops.get_phone_body(ops.check_appkey(appkey), phones)
        )
        return result

    @base.hook_method
    def list_phones(self, appkey: str | None = None) -> base.Steps[list[dict[str, Any]]]:
        """Return every number of the application, as the integrator ``phoneList`` shows them."""
        if appkey is None:
            appkey = (yield base.SETTINGS).appkey
        result: list[dict[str, Any]] = yield base.Call(
            ops.PHONE_LIST, ops.phone_list_body(ops.check_appkey(appkey))
        )
        return result

    @base.hook_method
    def get_phone_records(
        self, phones: str | Iterable[str] | None = None, appkey: str | None = None
    ) -> base.Steps[list[dict[str, Any]]]:
        """:meth:`get_phone_info`'s records in the provider's common phone-record shape."""
        raw = yield from _NxCloud.get_phone_info.steps(self, phones, appkey)
        return common_records(raw)

    @base.hook_method
    def list_phone_records(self, appkey: str | None = None) -> base.Steps[list[dict[str, Any]]]:
        """:meth:`list_phones`'s records in the provider's common phone-record shape."""
        raw = yield from _NxCloud.list_phones.steps(self, appkey)
        return common_records(raw)

    @base.hook_method
    def query_number_check(
        self,
        date: str | dt.date,
        batch_no: str | None = None,
        message_id: str | None = None,
        phone: str | None = None,
        appkey: str | None = None,
        page: int = 1,
        page_size: int = ops.MAX_PAGE_SIZE,
    ) -> base.Steps[dict[str, Any]]:
        """Return one page of number-check results: ``page``, ``pageSize``, ``totalPage``,
        ``totalSize`` and ``result`` (records with NxCloud's field names).

        ``appkey`` is sent only when given: the service then limits results to that application.
        ``message_id`` is matched exactly by the service: a several-number submit's records carry
        ``<message id>-<digits>``, so read a submit's records by its ``batch_no`` (or with
        :meth:`iter_batch_results`).
        """
        body = ops.query_body(date, batch_no, message_id, phone, appkey, page, page_size)
        result: dict[str, Any] = yield base.Call(ops.NUMBER_CHECK_QUERY, body)
        return result

    @base.hook_method
    def count_batch_results(
        self, batch: Batch | Mapping[str, Any], appkey: str | None = None
    ) -> base.Steps[tuple[int, bool]]:
        """How many result records of ``batch`` the service has, and whether that is all of them.

        ``batch``: a :class:`~airflow_provider_wa_phones.results.Batch` or one entry returned by
        :meth:`NxCloudHook.submit_number_check` (its ``phone_count`` records finish it), as
        :meth:`NxCloudHook.iter_batch_results` takes. Reads one page per day while the service's
        totals show the batch cannot be finished yet, every page once they could.
        """
        chosen = Batch.of(batch, "batch", counted=True)
        walk = chosen.walk(appkey, stop_below=chosen.expected)
        while bodies := walk.next_bodies(self.page_concurrency):
            for page in (yield [base.Call(ops.NUMBER_CHECK_QUERY, body) for body in bodies]):
                walk.take(page)
        return walk.kept, not walk.partial


@with_legacy_connection_form
class NxCloudHook(_NxCloud, base.ServiceHook):
    """Calls the NxCloud open API with signed, validated requests.

    :param nxcloud_conn_id: an ``nxcloud`` connection: host, login = access key, password = access
        secret, extras ``appkey`` (default application) and ``sign_algorithm`` (md5 or sha256).
    :param timeout: seconds each request may take in all, its answer's body included.
    :param retry_policy: how transient failures are retried; each attempt is signed afresh.
    :param max_answer_bytes: the largest answer body read, once decoded (default 16 MiB).
    :param page_concurrency: number-check result pages read at once once the first page has told
        how many there are (1 to 32, default 6); records keep their order either way.
    """

    settings: NxCloudSettings

    def submit_number_check(
        self,
        phones: str | Iterable[str] | ContactList,
        appkey: str | None = None,
        batch_no: str | None = None,
        check_level: int | str = 1,
        dr_url: str | None = None,
        *,
        reuse_existing: bool = False,
        reuse_since: dt.datetime | None = None,
        reuse_wait: float = 0.0,
        lost_response_wait: float = 60.0,
        max_numbers_per_request: int = ops.DEFAULT_NUMBERS_PER_REQUEST,
    ) -> list[dict[str, Any]]:
        """Submit numbers for checking, one request per country and per chunk of at most
        ``max_numbers_per_request`` numbers (default 10,000; 1 to 100,000); return one entry per
        request (batch).

        ``phones``: a list, a comma-separated string, or a
        :class:`~airflow_provider_wa_phones.contacts.ContactList` read from a file with
        :func:`~airflow_provider_wa_phones.contacts.read_contacts` (its numbers are built into
        request bodies one chunk at a time). With several requests and a ``batch_no``, each gets a
        suffix: ``-<country>`` when the countries differ, ``-<k>`` when a country has several chunks.

        Each entry has ``batch_no``, ``message_id`` (the submit's; its records carry it),
        ``country``, ``phone_count``, ``date`` and ``dates`` (the days to query results under: the
        service files under UTC or UTC+8 days, it does not say which), ``submitted_at`` and
        ``reused``. A submit is charged, so it is never sent twice blindly (see
        :mod:`airflow_provider_wa_phones.submits`): it is retried only when the service surely did
        not take it, and an answer lost on the way back is recovered by looking the batch up for up
        to ``lost_response_wait`` seconds instead of sending it again. With ``reuse_existing`` (a
        task retry), a batch an earlier try submitted since ``reuse_since`` (default: a day ago) is
        reused without submitting: the batches are looked up together for up to ``reuse_wait``
        seconds in all (one deadline, however many batches) for their results to show, with a log
        line at least every 30 s; those not found are then submitted. Both need a ``batch_no``.
        """
        batches = ops.submit_batches(
            self._appkey(appkey), phones, batch_no, check_level, dr_url, max_numbers_per_request
        )
        options = submits.Options.checked(reuse_existing, reuse_since, reuse_wait, lost_response_wait)

        def send(body: dict[str, Any]) -> tuple[str | None, str]:
            answer: tuple[str | None, str] = self._call(ops.NUMBER_CHECK, body)
            return answer

        return submits.submit(batches, options, send, self._query_page, sleep=self._sleep, log=self.log)

    def iter_number_check_results(
        self,
        date: str | dt.date,
        batch_no: str | None = None,
        message_id: str | None = None,
        phone: str | None = None,
        appkey: str | None = None,
        page_size: int = ops.MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield every result record, fetching one page at a time as the caller consumes them.

        A record is yielded once, identified by its ``messageId`` and ``phone`` (several phones of
        one submit may share a messageId); when results move between pages while they are read,
        the pages are read again until every record the service counts has come through.
        Arguments are checked now, before the first page is requested.
        """
        body = ops.query_body(date, batch_no, message_id, phone, appkey, 1, page_size)
        date_text = body.pop("date")
        body.pop("page")
        return self._drain(ResultWalk(body, [date_text]))

    def iter_batch_results(
        self,
        batch: Batch | Mapping[str, Any],
        phone: str | None = None,
        appkey: str | None = None,
        page_size: int = ops.MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield the result records of one entry returned by :meth:`submit_number_check`: only the
        records of that submit (its ``message_id``), under every day it may be filed under.

        Arguments are checked now, before the first page is requested.
        """
        chosen = Batch.of(batch, "batch")
        return self._drain(chosen.walk(appkey, phone, page_size))

    def _drain(self, walk: ResultWalk) -> Iterator[dict[str, Any]]:
        """The walk's records as its pages come in: ``page_concurrency`` pages at a time once the
        first page of a day has told how many there are, in order, with progress in the log."""
        progress = ReadProgress(self.log, walk)
        while bodies := walk.next_bodies(self.page_concurrency):
            pages = self._call_all([base.Call(ops.NUMBER_CHECK_QUERY, body) for body in bodies])
            for page in pages:
                records = walk.take(page)
                progress.page(len(records))
                yield from records
        progress.done()

    def _query_page(self, body: dict[str, Any]) -> dict[str, Any]:
        page: dict[str, Any] = self._call(ops.NUMBER_CHECK_QUERY, body)
        return page

    def _appkey(self, appkey: str | None) -> str:
        return ops.check_appkey(appkey if appkey is not None else self.settings.appkey)

    def _probe(self) -> str:
        settings = self.settings
        if settings.appkey:
            detail = f"application {settings.appkey} has {len(self.get_phone_info())} WhatsApp numbers"
        else:
            today = dt.datetime.now(dt.timezone.utc).date()
            self.query_number_check(today, batch_no="connection-test", page_size=1)
            detail = "number-check query accepted (no appkey set)"
        return f"Connected to NxCloud at {shorten(settings.base_url, 100)}: {detail}"


class NxCloudAsyncHook(_NxCloud, base.AsyncServiceHook):
    """The NxCloud calls triggers need, on aiohttp: the same operations, signing and parsing as
    :class:`NxCloudHook`, without blocking the event loop.

    Use it as ``async with NxCloudAsyncHook(conn_id) as hook:``; every hook in one event loop
    shares one HTTP session.
    """

    async def settings(self) -> NxCloudSettings:
        """The connection's fields, read once per hook without blocking the loop."""
        settings: NxCloudSettings = await super().settings()
        return settings
