"""Alibaba Cloud ChatApp Message Service (CAMS) hook: phone numbers and business profiles."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import requests
from airflow.sdk import BaseHook
from requests.auth import AuthBase

from airflow_provider_wa_phones import checks, redact, signing
from airflow_provider_wa_phones._http import (
    body_bytes,
    header_text,
    never_sent,
    new_session,
    prepare_template,
    send,
)
from airflow_provider_wa_phones.aio import HoldsSharedSession
from airflow_provider_wa_phones.api import cams as api
from airflow_provider_wa_phones.api.answers import shorten
from airflow_provider_wa_phones.exceptions import (
    ConnectionConfigError,
    ParameterError,
    TransportError,
)
from airflow_provider_wa_phones.ratelimit import shared_limiter
from airflow_provider_wa_phones.retry import NO_RETRY, CallStats, RetryPolicy

#: Calls per second per operation and account that CAMS documents.
CAMS_RATE_LIMIT = 10


@dataclass(frozen=True)
class CamsSettings:
    """What a hook or trigger needs from an ``alibaba_cams`` connection, checked once."""

    conn_id: str
    endpoint: str
    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    region: str = api.DEFAULT_REGION
    cust_space_id: str | None = None

    @property
    def host(self) -> str:
        """The ``host`` header value: what the request is signed for and sent to."""
        return urlsplit(self.endpoint).netloc

    @classmethod
    def from_connection(cls, conn: Any) -> CamsSettings:
        """Read and check the fields of an Airflow connection object.

        Credentials come from login/password, or from the ``access_key_id`` / ``access_key_secret``
        extras that connections of the ``alibaba_cloud`` type already carry.
        """
        extra = checks.connection_extra(conn)

        def extra_value(name: str) -> Any:
            return extra.get(name, extra.get(f"extra__alibaba_cams__{name}"))

        use_extra_key = not conn.login and extra_value("access_key_id")
        use_extra_secret = not conn.password and extra_value("access_key_secret")
        key_id = checks.credential(
            conn.conn_id,
            "access_key_id" if use_extra_key else "login",
            extra_value("access_key_id") if use_extra_key else conn.login,
            "AccessKey ID",
        )
        key_secret = checks.credential(
            conn.conn_id,
            "access_key_secret" if use_extra_secret else "password",
            extra_value("access_key_secret") if use_extra_secret else conn.password,
            "AccessKey secret",
        )
        token = extra_value("security_token")
        if token not in (None, ""):
            token = checks.credential(conn.conn_id, "security_token", token, "STS security token")
        region = extra_value("region")
        region = api.DEFAULT_REGION if region is None or region == "" else region
        try:
            api.check_region(region)
        except ParameterError as exc:
            raise ConnectionConfigError(conn.conn_id, "region", exc.rule) from None
        space = extra_value("cust_space_id")
        if space not in (None, ""):
            try:
                api.check_cust_space_id(space, required=False)
            except ParameterError as exc:
                raise ConnectionConfigError(conn.conn_id, "cust_space_id", exc.rule) from None
        return cls(
            conn_id=conn.conn_id,
            endpoint=checks.base_url(conn, api.endpoint_for(region)),
            access_key_id=key_id,
            access_key_secret=key_secret,
            security_token=token or None,
            region=region,
            cust_space_id=space or None,
        )


class CamsAuth(AuthBase):
    """Signs a prepared CAMS request with ACS3-HMAC-SHA256.

    It signs the query exactly as it stands in the prepared URL, so what is signed is what is sent;
    each call gets a fresh date and nonce.
    """

    def __init__(self, settings: CamsSettings) -> None:
        self._settings = settings

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(
            signing.acs3_headers(
                access_key_id=self._settings.access_key_id,
                access_key_secret=self._settings.access_key_secret,
                host=self._settings.host,
                action=header_text(request, "x-acs-action"),
                version=header_text(request, "x-acs-version"),
                canonical_query=urlsplit(request.url or "").query,
                method=request.method or "POST",
                body=body_bytes(request),
                security_token=self._settings.security_token,
            )
        )
        return request

    def __repr__(self) -> str:
        return f"CamsAuth(access_key_id={self._settings.access_key_id!r})"


class CamsHook(BaseHook):
    """Calls Alibaba Cloud CAMS with ACS3-signed, validated, rate-limited requests.

    :param cams_conn_id: an ``alibaba_cams`` connection: login = AccessKey ID, password = AccessKey
        secret, host = endpoint override, extras ``region`` (default ap-southeast-1),
        ``security_token`` (STS) and ``cust_space_id`` (default space).
    :param timeout: seconds to wait for each answer.
    :param retry_policy: how transient failures (throttling, server errors) are retried.
    :param rate_limit: most calls per second per operation from this process (CAMS allows 10);
        None turns the client-side limit off.
    """

    conn_name_attr = "cams_conn_id"
    default_conn_name = "alibaba_cams_default"
    conn_type = "alibaba_cams"
    hook_name = "Alibaba Cloud CAMS"

    def __init__(
        self,
        cams_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        rate_limit: int | None = CAMS_RATE_LIMIT,
    ) -> None:
        super().__init__()
        self.cams_conn_id = cams_conn_id
        self.timeout = checks.seconds("timeout", timeout, high=checks.MAX_REQUEST_TIMEOUT)
        self.retry_policy = checks.retry_policy("retry_policy", retry_policy) or RetryPolicy()
        self.rate_limit = None if rate_limit is None else checks.whole_number("rate_limit", rate_limit, 1)
        self.stats = CallStats()
        self._sleep = time.sleep

    @cached_property
    def settings(self) -> CamsSettings:
        """The connection's fields, read once per hook."""
        from airflow.sdk.log import mask_secret

        conn_id = checks.conn_id("cams_conn_id", self.cams_conn_id)
        try:
            conn = self.get_connection(conn_id)
        except Exception as exc:
            if checks.is_missing_connection(exc):
                raise checks.missing_connection(conn_id, "cams_conn_id") from None
            raise
        settings = CamsSettings.from_connection(conn)
        mask_secret(settings.access_key_secret)
        if settings.security_token:
            mask_secret(settings.security_token)
        return settings

    def get_conn(self) -> requests.Session:
        """Return the hook's HTTP session, created once and reused for every call."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = new_session(self.settings.endpoint)
        session.auth = CamsAuth(self.settings)
        return session

    def _template(self, action: str) -> requests.PreparedRequest:
        templates: dict[str, requests.PreparedRequest] = self.__dict__.setdefault("_templates", {})
        if action not in templates:
            headers = {"x-acs-action": action, "x-acs-version": api.VERSION, "host": self.settings.host}
            templates[action] = prepare_template(self._session, "POST", f"{self.settings.endpoint}/", headers)
        return templates[action]

    def close(self) -> None:
        """Release the pooled HTTP connections."""
        self.__dict__.pop("_templates", None)
        if "_session" in self.__dict__:
            self.__dict__.pop("_session").close()

    # -- operations -------------------------------------------------------------------------

    def query_phone_numbers(
        self, cust_space_id: str | None = None, isv_code: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the space's sender numbers (``QueryChatappPhoneNumbers``), CAMS field names kept.

        ``cust_space_id`` defaults to the connection's; ``status`` filters (CONNECTED, BANNED, ...).
        """
        space = cust_space_id if cust_space_id is not None else self.settings.cust_space_id
        params = api.phone_numbers_params(space, isv_code, status)
        return api.phone_numbers(self._call(api.QUERY_PHONE_NUMBERS, params))

    def query_phone_business_profile(
        self, phone_number: str, cust_space_id: str | None = None
    ) -> dict[str, Any]:
        """Return the business profile of a sender number (``QueryPhoneBusinessProfile``'s ``Data``)."""
        space = cust_space_id if cust_space_id is not None else self.settings.cust_space_id
        params = api.business_profile_params(phone_number, space)
        return api.business_profile(self._call(api.QUERY_BUSINESS_PROFILE, params))

    def test_connection(self) -> tuple[bool, str]:
        """Make one cheap signed call and say whether the credentials work."""
        # The Test button wants one cheap answer: no retries, and never an exception.
        policy, self.retry_policy = self.retry_policy, NO_RETRY
        try:
            settings = self.settings
            count = len(self.query_phone_numbers())
        except Exception as exc:  # the Test button shows any failure, scrubbed of every credential
            return False, redact.failure_message(exc, self._secrets())
        finally:
            self.retry_policy = policy
        space = settings.cust_space_id or "the account's default space"
        return True, f"Connected to CAMS at {shorten(settings.endpoint, 100)}: {count} numbers in {space}"

    def _secrets(self) -> tuple[str, ...]:
        """The connection's credential values, to keep them out of any text."""
        if "settings" in self.__dict__:
            return (self.settings.access_key_secret, self.settings.security_token or "")
        return redact.connection_secrets(self.get_connection, self.cams_conn_id)

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        """Send one signed RPC call, retrying transient failures, and return the answer."""
        settings = self.settings
        query = signing.acs3_canonical_query(params)
        # The canonical query is already percent-encoded: it goes into the URL untouched.
        url = f"{settings.endpoint}/?{query}" if query else f"{settings.endpoint}/"
        template = self._template(action)
        limiter = (
            shared_limiter((settings.endpoint, settings.access_key_id, action), self.rate_limit)
            if self.rate_limit
            else None
        )
        secrets = (settings.access_key_secret, settings.security_token or "")

        def attempt() -> dict[str, Any]:
            if limiter is not None:
                limiter.wait()
            started = time.monotonic()
            self.stats.requests += 1
            failure: TransportError | None = None
            try:
                response = send(self._session, template, b"", self.timeout, url=url)
            except requests.RequestException as exc:
                failure = TransportError(
                    f"Alibaba Cloud CAMS {action}: no answer from {shorten(settings.endpoint, 100)} "
                    f"({type(exc).__name__})",
                    unsent=never_sent(exc),
                )
            except (ValueError, TypeError, UnicodeError) as exc:
                # A library refusing what it was given (http.client quotes a header it will not
                # send): nothing left the machine, and its words may hold a credential.
                failure = TransportError(
                    f"Alibaba Cloud CAMS {action}: the request could not be sent ({type(exc).__name__}: "
                    f"{redact.scrub(str(exc), secrets)})",
                    unsent=True,
                )
            # Raised here, not in the except clause: the library's exception (whose text may
            # quote a credential) is not kept as this one's context.
            if failure is not None:
                raise failure
            self.log.debug(
                "CAMS %s: HTTP %s in %.0f ms",
                action,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            return api.parse_response(
                action,
                response.status_code,
                response.content,
                response.headers.get("Date"),
                secrets,
                endpoint=settings.endpoint,
                headers=response.headers,
            )

        return self.retry_policy.run(
            attempt, name=f"CAMS {action}", log=self.log, on_retry=self.stats.record_retry, sleep=self._sleep
        )


class CamsAsyncHook(HoldsSharedSession, BaseHook):
    """The CAMS call triggers need, on aiohttp: same validation, ACS3 signing, parsing and rate
    limit as :class:`CamsHook`, without blocking the event loop.

    Use it as ``async with CamsAsyncHook(conn_id) as hook:``; every hook in one event loop shares
    one HTTP session.
    """

    conn_name_attr = "cams_conn_id"
    default_conn_name = "alibaba_cams_default"
    conn_type = "alibaba_cams"
    hook_name = "Alibaba Cloud CAMS"

    def __init__(
        self,
        cams_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        rate_limit: int | None = CAMS_RATE_LIMIT,
    ) -> None:
        super().__init__()
        self.cams_conn_id = cams_conn_id
        self.timeout = checks.seconds("timeout", timeout, high=checks.MAX_REQUEST_TIMEOUT)
        self.retry_policy = checks.retry_policy("retry_policy", retry_policy) or RetryPolicy()
        self.rate_limit = None if rate_limit is None else checks.whole_number("rate_limit", rate_limit, 1)
        self.stats = CallStats()
        self._settings: CamsSettings | None = None

    async def settings(self) -> CamsSettings:
        """The connection's fields, read once per hook without blocking the loop."""
        if self._settings is None:
            from airflow.sdk.log import amask_secret

            conn_id = checks.conn_id("cams_conn_id", self.cams_conn_id)
            try:
                conn = await self.aget_connection(conn_id)
            except Exception as exc:
                if checks.is_missing_connection(exc):
                    raise checks.missing_connection(conn_id, "cams_conn_id") from None
                raise
            self._settings = CamsSettings.from_connection(conn)
            await amask_secret(self._settings.access_key_secret)
            if self._settings.security_token:
                await amask_secret(self._settings.security_token)
        return self._settings

    async def query_phone_numbers(
        self, cust_space_id: str | None = None, isv_code: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """As :meth:`CamsHook.query_phone_numbers`."""
        settings = await self.settings()
        space = cust_space_id if cust_space_id is not None else settings.cust_space_id
        return api.phone_numbers(
            await self._call(api.QUERY_PHONE_NUMBERS, api.phone_numbers_params(space, isv_code, status))
        )

    async def _call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        import asyncio

        import aiohttp
        from yarl import URL

        session = self.http()
        settings = await self.settings()
        query = signing.acs3_canonical_query(params)
        # yarl would re-encode a plain string URL; encoded=True sends the signed query untouched.
        url = URL(f"{settings.endpoint}/?{query}" if query else f"{settings.endpoint}/", encoded=True)
        limiter = (
            shared_limiter((settings.endpoint, settings.access_key_id, action), self.rate_limit)
            if self.rate_limit
            else None
        )
        secrets = (settings.access_key_secret, settings.security_token or "")
        timeout = aiohttp.ClientTimeout(total=self.timeout)

        async def attempt() -> dict[str, Any]:
            if limiter is not None:
                await asyncio.sleep(limiter.reserve())
            headers = signing.acs3_headers(
                access_key_id=settings.access_key_id,
                access_key_secret=settings.access_key_secret,
                host=settings.host,
                action=action,
                version=api.VERSION,
                canonical_query=query,
                security_token=settings.security_token,
            )
            self.stats.requests += 1
            failure: TransportError | None = None
            try:
                async with session.post(url, data=b"", headers=headers, timeout=timeout) as response:
                    content = await response.read()
                    status, response_headers = response.status, response.headers
            except (TimeoutError, aiohttp.ClientError) as exc:
                failure = TransportError(
                    f"Alibaba Cloud CAMS {action}: no answer from {shorten(settings.endpoint, 100)} "
                    f"({type(exc).__name__})",
                    unsent=isinstance(exc, aiohttp.ClientConnectorError),
                )
            except (ValueError, TypeError, UnicodeError) as exc:
                failure = TransportError(
                    f"Alibaba Cloud CAMS {action}: the request could not be sent ({type(exc).__name__}: "
                    f"{redact.scrub(str(exc), secrets)})",
                    unsent=True,
                )
            # Raised here, not in the except clause: the library's exception (whose text may
            # quote a credential) is not kept as this one's context.
            if failure is not None:
                raise failure
            return api.parse_response(
                action,
                status,
                content,
                response_headers.get("Date"),
                secrets,
                endpoint=settings.endpoint,
                headers=response_headers,
            )

        return await self.retry_policy.arun(
            attempt, name=f"CAMS {action}", log=self.log, on_retry=self.stats.record_retry
        )
