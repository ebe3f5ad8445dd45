"""NxCloud hook: WhatsApp phone information, the integrator's phone list and number checks."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import requests
from airflow.sdk import BaseHook
from requests.auth import AuthBase

from airflow_provider_wa_phones import checks, redact, signing
from airflow_provider_wa_phones._http import body_bytes, header_text, new_session, prepare_template, send
from airflow_provider_wa_phones.aio import HoldsSharedSession
from airflow_provider_wa_phones.api import nxcloud as api
from airflow_provider_wa_phones.api.answers import shorten
from airflow_provider_wa_phones.exceptions import (
    ConnectionConfigError,
    ParameterError,
    TransportError,
    WaPhonesError,
)
from airflow_provider_wa_phones.results import Batch, ResultWalk
from airflow_provider_wa_phones.retry import NO_RETRY, CallStats, RetryPolicy


@dataclass(frozen=True)
class NxCloudSettings:
    """What a hook or trigger needs from an ``nxcloud`` connection, checked once."""

    conn_id: str
    base_url: str
    access_key: str
    access_secret: str = field(repr=False)
    appkey: str | None = None
    algorithm: str = "md5"

    @classmethod
    def from_connection(cls, conn: Any) -> NxCloudSettings:
        """Read and check the fields of an Airflow connection object.

        Every field is checked here, before anything is signed: an error names the field and never
        shows a credential.
        """
        extra = checks.connection_extra(conn)

        def extra_value(name: str) -> Any:
            # The connection form stores conn-fields under their own name; older tooling prefixes them.
            return extra.get(name, extra.get(f"extra__nxcloud__{name}"))

        access_key = checks.credential(conn.conn_id, "login", conn.login, "NxCloud access key")
        secret = checks.credential(conn.conn_id, "password", conn.password, "NxCloud access secret")
        algorithm = extra_value("sign_algorithm")
        algorithm = "md5" if algorithm is None or algorithm == "" else algorithm
        algorithm = algorithm.lower() if isinstance(algorithm, str) else algorithm
        if not isinstance(algorithm, str) or algorithm not in signing.NXCLOUD_ALGORITHMS:
            raise ConnectionConfigError(
                conn.conn_id, "sign_algorithm", f"must be md5 or sha256, got {checks.quoted(algorithm)}"
            )
        appkey = extra_value("appkey")
        if appkey not in (None, ""):
            try:
                api.check_appkey(appkey)
            except ParameterError:
                raise ConnectionConfigError(
                    conn.conn_id,
                    "appkey",
                    "must be a non-empty string without spaces or control characters, "
                    f"got {checks.quoted(appkey)}",
                ) from None
        return cls(
            conn_id=conn.conn_id,
            base_url=checks.base_url(conn, api.DEFAULT_HOST),
            access_key=access_key,
            access_secret=secret,
            appkey=appkey or None,
            algorithm=algorithm,
        )


class NxCloudAuth(AuthBase):
    """Signs a prepared NxCloud request over the exact body bytes it will send.

    The request carries its ``bizType`` and ``action`` headers; this adds ``accessKey``, a fresh
    ``ts`` and ``sign`` (and ``algorithm`` when it is not md5), so every attempt is signed anew.
    """

    def __init__(self, access_key: str, access_secret: str, algorithm: str = "md5"):
        self.access_key = access_key
        self._access_secret = access_secret
        self.algorithm = algorithm

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(
            signing.nxcloud_headers(
                self.access_key,
                self._access_secret,
                header_text(request, "action"),
                header_text(request, "bizType"),
                body_bytes(request),
                self.algorithm,
            )
        )
        return request

    def __repr__(self) -> str:
        return f"NxCloudAuth(access_key={self.access_key!r}, algorithm={self.algorithm!r})"


class NxCloudHook(BaseHook):
    """Calls the NxCloud open API with a signed, validated request.

    :param nxcloud_conn_id: an ``nxcloud`` connection: host, login = access key, password = access
        secret, extras ``appkey`` (default application) and ``sign_algorithm`` (md5 or sha256).
    :param timeout: seconds to wait for each answer.
    :param retry_policy: how transient failures are retried; each attempt is signed afresh.
    """

    conn_name_attr = "nxcloud_conn_id"
    default_conn_name = "nxcloud_default"
    conn_type = "nxcloud"
    hook_name = "NxCloud"

    def __init__(
        self,
        nxcloud_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.nxcloud_conn_id = nxcloud_conn_id
        self.timeout = checks.seconds("timeout", timeout, high=checks.MAX_REQUEST_TIMEOUT)
        self.retry_policy = checks.retry_policy("retry_policy", retry_policy) or RetryPolicy()
        self.stats = CallStats()
        self._sleep = time.sleep

    @cached_property
    def settings(self) -> NxCloudSettings:
        """The connection's fields, read once per hook."""
        from airflow.sdk.log import mask_secret

        conn_id = checks.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)
        try:
            conn = self.get_connection(conn_id)
        except Exception as exc:
            if checks.is_missing_connection(exc):
                raise checks.missing_connection(conn_id, "nxcloud_conn_id") from None
            raise
        settings = NxCloudSettings.from_connection(conn)
        mask_secret(settings.access_secret)
        return settings

    def get_conn(self) -> requests.Session:
        """Return the hook's HTTP session, created once and reused for every call."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = new_session(self.settings.base_url)
        session.auth = NxCloudAuth(
            self.settings.access_key, self.settings.access_secret, self.settings.algorithm
        )
        return session

    def _template(self, operation: api.Operation) -> requests.PreparedRequest:
        templates: dict[api.Operation, requests.PreparedRequest] = self.__dict__.setdefault("_templates", {})
        if operation not in templates:
            headers = {
                "Content-Type": "application/json",
                "bizType": operation.biz_type,
                "action": operation.action,
            }
            url = self.settings.base_url + operation.path
            templates[operation] = prepare_template(self._session, "POST", url, headers)
        return templates[operation]

    def close(self) -> None:
        """Release the pooled HTTP connections."""
        self.__dict__.pop("_templates", None)
        if "_session" in self.__dict__:
            self.__dict__.pop("_session").close()

    # -- operations -------------------------------------------------------------------------

    def get_phone_info(
        self, phones: str | Iterable[str] | None = None, appkey: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the WhatsApp records of ``phones`` (all of the application's when omitted).

        Records keep NxCloud's field names; when the service keys its answer by phone number,
        each record also carries that number as ``business_phone``.
        """
        body = api.get_phone_body(self._appkey(appkey), phones)
        return api.flatten_phone_info(self._call(api.GET_PHONE, body))

    def list_phones(self, appkey: str | None = None) -> list[dict[str, Any]]:
        """Return every number of the application, as the integrator ``phoneList`` shows them."""
        return api.parse_phone_list(self._call(api.PHONE_LIST, api.phone_list_body(self._appkey(appkey))))

    def submit_number_check(
        self,
        phones: str | Iterable[str],
        appkey: str | None = None,
        batch_no: str | None = None,
        check_level: int | str = 1,
        dr_url: str | None = None,
        *,
        reuse_existing: bool = False,
        reuse_since: dt.datetime | None = None,
        reuse_wait: float = 0.0,
        lost_response_wait: float = 60.0,
    ) -> list[dict[str, Any]]:
        """Submit numbers for checking, one request per country; return one entry per batch.

        Each entry has ``batch_no``, ``message_id`` (the submit's; its records carry it),
        ``country``, ``phone_count``, ``date`` and ``dates`` (the days to query results under: the
        service files under UTC or UTC+8 days, it does not say which), ``submitted_at`` and
        ``reused``. A submit is charged, so it is never sent twice blindly (see
        :mod:`airflow_provider_wa_phones.submits`): it is retried only when the service surely did
        not take it, and an answer lost on the way back is recovered by looking the batch up for up
        to ``lost_response_wait`` seconds instead of sending it again. With ``reuse_existing`` (a
        task retry), a batch an earlier try submitted since ``reuse_since`` (default: a day ago) is
        reused without submitting, looking for up to ``reuse_wait`` seconds for its results to show.
        Both need a ``batch_no``.
        """
        from airflow_provider_wa_phones import submits

        chosen_appkey = self._appkey(appkey)
        batches = api.submit_batches(chosen_appkey, phones, batch_no, check_level, dr_url)
        reuse_existing = False if reuse_existing is None else checks.flag("reuse_existing", reuse_existing)
        reuse_wait = checks.seconds("reuse_wait", reuse_wait, high=submits.RESULT_DEADLINE, allow_zero=True)
        lost_response_wait = checks.seconds(
            "lost_response_wait", lost_response_wait, high=3600, allow_zero=True
        )
        now = dt.datetime.now(dt.UTC)
        since = _aware("reuse_since", reuse_since) if reuse_since is not None else now - dt.timedelta(days=1)
        submitted = []
        for batch in batches:
            number = batch.body.get("batchNo")
            found = None
            if reuse_existing and number:
                dates = api.filing_dates(since, now + dt.timedelta(seconds=submits.RESULT_DEADLINE))
                found = submits.await_submit(
                    self._query_page, number, dates, batch.phones, reuse_wait, sleep=self._sleep
                )
            if found is not None:
                submitted.append(_entry(batch, number, found.submit_id, list(found.dates), None, reused=True))
            else:
                submitted.append(self._submit_once(batch, lost_response_wait))
        return submitted

    def _submit_once(self, batch: api.SubmitBatch, lost_response_wait: float) -> dict[str, Any]:
        """Send one batch under the charged-submit policy (:mod:`airflow_provider_wa_phones.submits`)."""
        from airflow_provider_wa_phones import submits

        number = batch.body.get("batchNo")
        submitted_at = dt.datetime.now(dt.UTC)
        dates = submits.submit_dates(submitted_at)
        try:
            answer_batch_no, message_id = api.parse_submit(
                self._call(api.NUMBER_CHECK, batch.body, idempotent=False)
            )
        except WaPhonesError as exc:
            if not number or not exc.may_have_taken_effect:
                raise
            try:
                found = submits.await_submit(
                    self._query_page, number, dates, batch.phones, lost_response_wait, sleep=self._sleep
                )
            except WaPhonesError as lookup:
                exc.add_note(f"Looking the batch up failed too: {lookup}")
                raise exc from None
            if found is None:
                exc.add_note(
                    "The submit may have been accepted (and charged): it was not sent again. Look the "
                    f"batch up (batch_no {number!r}) before submitting it again."
                )
                raise
            self.log.warning("The answer to batch %s was lost, but NxCloud has it: not resending", number)
            return _entry(batch, number, found.submit_id, list(found.dates), submitted_at, reused=True)
        return _entry(batch, answer_batch_no or number, message_id, dates, submitted_at, reused=False)

    def _query_page(self, body: dict[str, Any]) -> dict[str, Any]:
        return api.parse_query_page(self._call(api.NUMBER_CHECK_QUERY, body))

    def query_number_check(
        self,
        date: str | dt.date,
        batch_no: str | None = None,
        message_id: str | None = None,
        phone: str | None = None,
        appkey: str | None = None,
        page: int = 1,
        page_size: int = api.MAX_PAGE_SIZE,
    ) -> dict[str, Any]:
        """Return one page of number-check results: ``page``, ``pageSize``, ``totalPage``,
        ``totalSize`` and ``result`` (records with NxCloud's field names).

        ``appkey`` is sent only when given: the service then limits results to that application.
        ``message_id`` is matched exactly by the service: a several-number submit's records carry
        ``<message id>-<digits>``, so read a submit's records by its ``batch_no`` (or with
        :meth:`iter_batch_results`).
        """
        body = api.query_body(date, batch_no, message_id, phone, appkey, page, page_size)
        return self._query_page(body)

    def iter_number_check_results(
        self,
        date: str | dt.date,
        batch_no: str | None = None,
        message_id: str | None = None,
        phone: str | None = None,
        appkey: str | None = None,
        page_size: int = api.MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield every result record, fetching one page at a time as the caller consumes them.

        A record is yielded once, identified by its ``messageId`` and ``phone`` (several phones of
        one submit may share a messageId); when results move between pages while they are read,
        the pages are read again until every record the service counts has come through.
        Arguments are checked now, before the first page is requested.
        """
        body = api.query_body(date, batch_no, message_id, phone, appkey, 1, page_size)
        date_text = body.pop("date")
        body.pop("page")
        return self._drain(ResultWalk(body, [date_text]))

    def iter_batch_results(
        self,
        batch: Batch | Mapping[str, Any],
        phone: str | None = None,
        appkey: str | None = None,
        page_size: int = api.MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Yield the result records of one entry returned by :meth:`submit_number_check`: only the
        records of that submit (its ``message_id``), under every day it may be filed under.

        Arguments are checked now, before the first page is requested.
        """
        chosen = batch if isinstance(batch, Batch) else Batch.from_entry(batch, "batch")
        return self._drain(chosen.walk(appkey, phone, page_size))

    def count_batch_results(self, batch: Batch, appkey: str | None = None) -> tuple[int, bool]:
        """How many result records of ``batch`` the service has, and whether that is all of them.

        Reads one page per day while the service's totals show the batch cannot be finished yet,
        every page once they could.
        """
        walk = batch.walk(appkey, stop_below=batch.expected)
        for _ in self._drain(walk):
            pass
        return walk.kept, not walk.partial

    def _drain(self, walk: ResultWalk) -> Iterator[dict[str, Any]]:
        while (body := walk.next_body()) is not None:
            yield from walk.take(self._query_page(body))

    def test_connection(self) -> tuple[bool, str]:
        """Make one cheap signed call and say whether the credentials work."""
        # The Test button wants one cheap answer: no retries, and never an exception.
        policy, self.retry_policy = self.retry_policy, NO_RETRY
        try:
            settings = self.settings
            if settings.appkey:
                count = len(self.get_phone_info())
                detail = f"application {settings.appkey} has {count} WhatsApp numbers"
            else:
                today = dt.datetime.now(dt.UTC).date()
                self.query_number_check(today, batch_no="connection-test", page_size=1)
                detail = "number-check query accepted (no appkey set)"
        except Exception as exc:  # the Test button shows any failure, scrubbed of every credential
            return False, redact.failure_message(exc, self._secrets())
        finally:
            self.retry_policy = policy
        return True, f"Connected to NxCloud at {shorten(settings.base_url, 100)}: {detail}"

    def _secrets(self) -> tuple[str, ...]:
        """The connection's credential values, to keep them out of any text."""
        if "settings" in self.__dict__:
            return (self.settings.access_secret,)
        return redact.connection_secrets(self.get_connection, self.nxcloud_conn_id)

    # -- plumbing ---------------------------------------------------------------------------

    def _appkey(self, appkey: str | None) -> str:
        return api.check_appkey(appkey if appkey is not None else self.settings.appkey)

    def _call(self, operation: api.Operation, body: dict[str, Any], *, idempotent: bool = True) -> Any:
        """Send one signed request, retrying transient failures, and return the answer's data.

        A request that is not ``idempotent`` (a charged submit) is retried only when the failure
        shows the service did not take it.
        """
        payload = api.encode_body(body)
        settings = self.settings
        template = self._template(operation)

        def attempt() -> Any:
            started = time.monotonic()
            self.stats.requests += 1
            failure: TransportError | None = None
            try:
                response = send(self._session, template, payload, self.timeout)
            except requests.RequestException as exc:
                failure = _transport_error(operation, settings.base_url, exc)
            except (ValueError, TypeError, UnicodeError) as exc:
                # A library refusing what it was given (http.client quotes a header it will not
                # send): nothing left the machine, and its words may hold a credential.
                failure = TransportError(
                    f"NxCloud {operation.name}: the request could not be sent ({type(exc).__name__}: "
                    f"{redact.scrub(str(exc), (settings.access_secret,))})",
                    unsent=True,
                )
            # Raised here, not in the except clause: the library's exception (whose text may
            # quote a credential) is not kept as this one's context.
            if failure is not None:
                raise failure
            self.log.debug(
                "NxCloud %s: HTTP %s in %.0f ms",
                operation.name,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            return api.parse_envelope(
                operation,
                response.status_code,
                response.content,
                (settings.access_secret,),
                response.headers.get("Date"),
                base_url=settings.base_url,
                retry_after=response.headers.get("Retry-After"),
            )

        return self.retry_policy.run(
            attempt,
            name=f"NxCloud {operation.name}",
            log=self.log,
            may_retry=None if idempotent else _surely_not_taken,
            on_retry=self.stats.record_retry,
            sleep=self._sleep,
        )


def _surely_not_taken(exc: WaPhonesError) -> bool:
    """Whether a failed request certainly had no effect, so sending it again cannot double it."""
    return not exc.may_have_taken_effect


def _aware(param: str, value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ParameterError(param, f"must be a timezone-aware datetime, got {shorten(repr(value))}")
    return value


def _entry(
    batch: api.SubmitBatch,
    batch_no: str | None,
    message_id: str,
    dates: list[str],
    submitted_at: dt.datetime | None,
    *,
    reused: bool,
) -> dict[str, Any]:
    return {
        "batch_no": batch_no,
        "message_id": message_id,
        "country": batch.country,
        "phone_count": len(batch.phones),
        "date": dates[0],
        "dates": dates,
        "submitted_at": submitted_at.isoformat() if submitted_at else None,
        "reused": reused,
    }


def _transport_error(
    operation: api.Operation, base_url: str, exc: requests.RequestException
) -> TransportError:
    from airflow_provider_wa_phones._http import never_sent

    return TransportError(
        f"NxCloud {operation.name}: no answer from {shorten(base_url, 100)} ({type(exc).__name__})",
        unsent=never_sent(exc),
    )


class NxCloudAsyncHook(HoldsSharedSession, BaseHook):
    """The NxCloud calls triggers need, on aiohttp: same validation, signing and parsing as
    :class:`NxCloudHook`, without blocking the event loop.

    Use it as ``async with NxCloudAsyncHook(conn_id) as hook:``; every hook in one event loop
    shares one HTTP session.
    """

    conn_name_attr = "nxcloud_conn_id"
    default_conn_name = "nxcloud_default"
    conn_type = "nxcloud"
    hook_name = "NxCloud"

    def __init__(
        self,
        nxcloud_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.nxcloud_conn_id = nxcloud_conn_id
        self.timeout = checks.seconds("timeout", timeout, high=checks.MAX_REQUEST_TIMEOUT)
        self.retry_policy = checks.retry_policy("retry_policy", retry_policy) or RetryPolicy()
        self.stats = CallStats()
        self._settings: NxCloudSettings | None = None

    async def settings(self) -> NxCloudSettings:
        """The connection's fields, read once per hook without blocking the loop."""
        if self._settings is None:
            from airflow.sdk.log import amask_secret

            conn_id = checks.conn_id("nxcloud_conn_id", self.nxcloud_conn_id)
            try:
                conn = await self.aget_connection(conn_id)
            except Exception as exc:
                if checks.is_missing_connection(exc):
                    raise checks.missing_connection(conn_id, "nxcloud_conn_id") from None
                raise
            self._settings = NxCloudSettings.from_connection(conn)
            await amask_secret(self._settings.access_secret)
        return self._settings

    async def get_phone_info(
        self, phones: str | Iterable[str] | None = None, appkey: str | None = None
    ) -> list[dict[str, Any]]:
        """As :meth:`NxCloudHook.get_phone_info`."""
        settings = await self.settings()
        chosen = appkey if appkey is not None else settings.appkey
        body = api.get_phone_body(api.check_appkey(chosen), phones)
        return api.flatten_phone_info(await self._call(api.GET_PHONE, body))

    async def query_number_check(
        self,
        date: str | dt.date,
        batch_no: str | None = None,
        message_id: str | None = None,
        phone: str | None = None,
        appkey: str | None = None,
        page: int = 1,
        page_size: int = api.MAX_PAGE_SIZE,
    ) -> dict[str, Any]:
        """As :meth:`NxCloudHook.query_number_check`."""
        body = api.query_body(date, batch_no, message_id, phone, appkey, page, page_size)
        return await self._query_page(body)

    async def count_batch_results(self, batch: Batch, appkey: str | None = None) -> tuple[int, bool]:
        """As :meth:`NxCloudHook.count_batch_results`."""
        walk = batch.walk(appkey, stop_below=batch.expected)
        while (body := walk.next_body()) is not None:
            walk.take(await self._query_page(body))
        return walk.kept, not walk.partial

    async def _query_page(self, body: dict[str, Any]) -> dict[str, Any]:
        return api.parse_query_page(await self._call(api.NUMBER_CHECK_QUERY, body))

    async def _call(self, operation: api.Operation, body: dict[str, Any]) -> Any:

        import aiohttp

        session = self.http()
        settings = await self.settings()
        payload = api.encode_body(body)
        url = settings.base_url + operation.path
        timeout = aiohttp.ClientTimeout(total=self.timeout)

        async def attempt() -> Any:
            headers = {
                "Content-Type": "application/json",
                **signing.nxcloud_headers(
                    settings.access_key,
                    settings.access_secret,
                    operation.action,
                    operation.biz_type,
                    payload,
                    settings.algorithm,
                ),
            }
            self.stats.requests += 1
            failure: TransportError | None = None
            try:
                async with session.post(url, data=payload, headers=headers, timeout=timeout) as response:
                    content = await response.read()
                    status, date = response.status, response.headers.get("Date")
                    retry_after = response.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientError) as exc:
                failure = TransportError(
                    f"NxCloud {operation.name}: no answer from {shorten(settings.base_url, 100)} "
                    f"({type(exc).__name__})",
                    unsent=isinstance(exc, aiohttp.ClientConnectorError),
                )
            except (ValueError, TypeError, UnicodeError) as exc:
                failure = TransportError(
                    f"NxCloud {operation.name}: the request could not be sent ({type(exc).__name__}: "
                    f"{redact.scrub(str(exc), (settings.access_secret,))})",
                    unsent=True,
                )
            # Raised here, not in the except clause: the library's exception (whose text may
            # quote a credential) is not kept as this one's context.
            if failure is not None:
                raise failure
            return api.parse_envelope(
                operation,
                status,
                content,
                (settings.access_secret,),
                date,
                base_url=settings.base_url,
                retry_after=retry_after,
            )

        return await self.retry_policy.arun(
            attempt, name=f"NxCloud {operation.name}", log=self.log, on_retry=self.stats.record_retry
        )
