"""NxCloud hook: WhatsApp phone information, the integrator's phone list and number checks."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import requests
from requests.auth import AuthBase

from airflow_provider_wa_phones import signing
from airflow_provider_wa_phones._compat import BaseHook, with_legacy_connection_form
from airflow_provider_wa_phones._http import body_bytes, header_text, new_session, prepare_template, send
from airflow_provider_wa_phones.aio import HoldsSharedSession
from airflow_provider_wa_phones.api import nxcloud as api
from airflow_provider_wa_phones.exceptions import (
    ConnectionConfigError,
    ServiceError,
    ThrottledError,
    TransportError,
    WaPhonesError,
)
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
        """Read and check the fields of an Airflow connection object."""
        extra = conn.extra_dejson or {}
        if not isinstance(extra, dict):
            raise ConnectionConfigError(conn.conn_id, "extra", "must be a JSON object of named fields")

        def extra_value(name: str) -> Any:
            # The connection form stores conn-fields under their own name; older tooling prefixes them.
            return extra.get(name, extra.get(f"extra__nxcloud__{name}"))

        if not conn.login:
            raise ConnectionConfigError(conn.conn_id, "login", "the NxCloud access key is empty")
        if not conn.password:
            raise ConnectionConfigError(conn.conn_id, "password", "the NxCloud access secret is empty")
        algorithm = extra_value("sign_algorithm") or "md5"
        algorithm = algorithm.lower() if isinstance(algorithm, str) else algorithm
        if algorithm not in signing.NXCLOUD_ALGORITHMS:
            raise ConnectionConfigError(
                conn.conn_id, "sign_algorithm", f"must be md5 or sha256, got {algorithm!r}"
            )
        return cls(
            conn_id=conn.conn_id,
            base_url=_base_url(conn),
            access_key=conn.login,
            access_secret=conn.password,
            appkey=extra_value("appkey") or None,
            algorithm=algorithm,
        )


def _base_url(conn: Any) -> str:
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return api.DEFAULT_HOST
    if "://" not in host:
        host = f"{conn.schema or 'https'}://{host}"
    if conn.port and host.count(":") < 2:
        host = f"{host}:{conn.port}"
    return host


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


@with_legacy_connection_form
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
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self.stats = CallStats()
        self._sleep = time.sleep

    @cached_property
    def settings(self) -> NxCloudSettings:
        """The connection's fields, read once per hook."""
        from airflow.sdk.log import mask_secret

        settings = NxCloudSettings.from_connection(self.get_connection(self.nxcloud_conn_id))
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
        data = self._call(api.PHONE_LIST, api.phone_list_body(self._appkey(appkey)))
        return [dict(item) for item in data or [] if isinstance(item, dict)]

    def submit_number_check(
        self,
        phones: str | Iterable[str],
        appkey: str | None = None,
        batch_no: str | None = None,
        check_level: int | str = 1,
        dr_url: str | None = None,
        *,
        reuse_existing: bool = False,
        lost_response_wait: float = 60.0,
    ) -> list[dict[str, Any]]:
        """Submit numbers for checking, one request per country; return one entry per batch.

        Each entry has ``batch_no``, ``message_id``, ``country``, ``phone_count``, ``date`` (the day
        to query the results under) and ``reused``. A submit is charged, so it is never sent twice
        blindly: it is retried only when the service surely did not take it, and when an answer is
        lost on the way back, the batch is looked up (for up to ``lost_response_wait`` seconds, as
        results appear) instead of being sent again. With ``reuse_existing`` (a task retry), a
        batch the service already has is reused without submitting. Both need a ``batch_no``.
        """
        batches = api.submit_batches(self._appkey(appkey), phones, batch_no, check_level, dr_url)
        today = dt.datetime.now(dt.UTC).date().isoformat()
        submitted = []
        for batch in batches:
            number = batch.body.get("batchNo")
            message_id = self._find_batch(today, number) if reuse_existing and number else None
            reused = message_id is not None
            if not reused:
                try:
                    data = self._call(api.NUMBER_CHECK, batch.body, idempotent=False) or {}
                except WaPhonesError as exc:
                    if not number or not (exc.retryable and not _surely_not_taken(exc)):
                        raise
                    message_id = self._await_batch(today, number, lost_response_wait)
                    if message_id is None:
                        raise
                    self.log.warning(
                        "The answer to batch %s was lost, but NxCloud has it: not resending", number
                    )
                    reused = True
                else:
                    number, message_id = data.get("batchNo") or number, data.get("messageId")
            submitted.append(
                {
                    "batch_no": number,
                    "message_id": message_id or None,
                    "country": batch.country,
                    "phone_count": len(batch.phones),
                    "date": today,
                    "reused": reused,
                }
            )
        return submitted

    def _find_batch(self, date: str, batch_no: str) -> str | None:
        """The message id of a batch the service has results for ("" if unknown), else None."""
        page = self.query_number_check(date, batch_no=batch_no, page_size=1)
        if not int(page.get("totalSize") or 0):
            return None
        first = (page.get("result") or [{}])[0].get("messageId") or ""
        # Records of a several-number submit carry "<submit id>-<index>".
        head, _, tail = first.rpartition("-")
        return head if head and tail.isdigit() else first

    def _await_batch(self, date: str, batch_no: str, wait: float) -> str | None:
        """Look for a batch until ``wait`` seconds of waiting have passed (results take time)."""
        waited = 0.0
        while True:
            found = self._find_batch(date, batch_no)
            if found is not None or waited >= wait:
                return found
            step = min(2.0, wait - waited)
            self._sleep(step)
            waited += step

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
        """
        body = api.query_body(date, batch_no, message_id, phone, appkey, page, page_size)
        data = self._call(api.NUMBER_CHECK_QUERY, body) or {}
        data.setdefault("result", [])
        return data

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

        Arguments are checked now, before the first page is requested.
        """
        first = api.query_body(date, batch_no, message_id, phone, appkey, 1, page_size)
        return self._walk_pages(first)

    def _walk_pages(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        page = 1
        while True:
            data = self._call(api.NUMBER_CHECK_QUERY, {**body, "page": page}) or {}
            records = data.get("result") or []
            for record in records:
                # Results that arrive while paging can shift a page boundary: never yield twice.
                key = record.get("messageId")
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                yield record
            if not records or page >= int(data.get("totalPage") or 0):
                return
            page += 1

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
        except WaPhonesError as exc:
            return False, str(exc)
        except Exception as exc:  # e.g. the connection id does not exist
            return False, f"{type(exc).__name__}: {exc}"
        finally:
            self.retry_policy = policy
        return True, f"Connected to NxCloud at {settings.base_url}: {detail}"

    # -- plumbing ---------------------------------------------------------------------------

    def _appkey(self, appkey: str | None) -> str:
        return api.check_appkey(appkey if appkey is not None else self.settings.appkey)

    def _call(self, operation: api.Operation, body: dict[str, Any], *, idempotent: bool = True) -> Any:
        """Send one signed request, retrying transient failures, and return the answer's data."""
        payload = api.encode_body(body)
        settings = self.settings
        template = self._template(operation)

        def attempt() -> Any:
            started = time.monotonic()
            self.stats.requests += 1
            try:
                response = send(self._session, template, payload, self.timeout)
            except requests.RequestException as exc:
                raise _transport_error(operation, settings.base_url, exc) from None
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
            )

        try:
            return self.retry_policy.run(
                attempt,
                name=f"NxCloud {operation.name}",
                log=self.log,
                may_retry=None if idempotent else _surely_not_taken,
                on_retry=self.stats.record_retry,
                sleep=self._sleep,
            )
        except WaPhonesError as exc:
            if exc.retryable and not idempotent and not _surely_not_taken(exc):
                exc.add_note(
                    "The request may have been accepted (and charged): it was not sent again. Look the "
                    "batch up with query_number_check before submitting it again."
                )
            raise


def _surely_not_taken(exc: WaPhonesError) -> bool:
    """Whether a failed request certainly had no effect, so sending it again cannot double it."""
    if isinstance(exc, TransportError):
        return exc.unsent
    # A documented error code in a well-formed answer is a refusal, not a lost acceptance.
    return isinstance(exc, ThrottledError) or (isinstance(exc, ServiceError) and exc.http_status == 200)


def _transport_error(
    operation: api.Operation, base_url: str, exc: requests.RequestException
) -> TransportError:
    # Refused connections and connect timeouts happen before a byte of the request is sent.
    unsent = isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)
    )
    return TransportError(
        f"NxCloud {operation.name}: no answer from {base_url} ({type(exc).__name__})", unsent=unsent
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
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy()
        self.stats = CallStats()
        self._settings: NxCloudSettings | None = None

    async def settings(self) -> NxCloudSettings:
        """The connection's fields, read once per hook without blocking the loop."""
        if self._settings is None:
            from airflow_provider_wa_phones._compat import amask_secret

            conn = await self.aget_connection(self.nxcloud_conn_id)
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
        data = await self._call(api.NUMBER_CHECK_QUERY, body) or {}
        data.setdefault("result", [])
        return data

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
            try:
                async with session.post(url, data=payload, headers=headers, timeout=timeout) as response:
                    content = await response.read()
                    status, date = response.status, response.headers.get("Date")
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise TransportError(
                    f"NxCloud {operation.name}: no answer from {settings.base_url} ({type(exc).__name__})"
                ) from None
            return api.parse_envelope(operation, status, content, (settings.access_secret,), date)

        return await self.retry_policy.arun(
            attempt, name=f"NxCloud {operation.name}", log=self.log, on_retry=self.stats.record_retry
        )
