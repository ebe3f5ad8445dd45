"""Alibaba Cloud ChatApp Message Service (CAMS) hooks: phone numbers and business profiles.

Each method checks its arguments with :mod:`airflow_provider_wa_phones.operations.cams` and makes
its call through :mod:`airflow_provider_wa_phones.hooks.base`, keeping under the documented rate
limit with :mod:`airflow_provider_wa_phones.ratelimit`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones import checks, credentials
from airflow_provider_wa_phones._compat import with_legacy_connection_form
from airflow_provider_wa_phones.checks import shorten
from airflow_provider_wa_phones.connections import CamsSettings
from airflow_provider_wa_phones.hooks import base
from airflow_provider_wa_phones.operations import cams as ops
from airflow_provider_wa_phones.operations.base import Operation
from airflow_provider_wa_phones.phones import cams_phone_record
from airflow_provider_wa_phones.ratelimit import SlidingWindowLimiter, shared_limiter
from airflow_provider_wa_phones.services import CAMS

if TYPE_CHECKING:
    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Unpack

__all__ = ["CAMS_RATE_LIMIT", "CamsAsyncHook", "CamsHook", "CamsSettings"]

#: Calls per second per operation and account that CAMS documents.
CAMS_RATE_LIMIT = 10


class _Cams(base.ServiceHookBase, service=CAMS):
    """What both CAMS hooks share: the connection and its settings, the rate limit, and each
    method, written once (see :class:`~airflow_provider_wa_phones.hooks.base.hook_method`).
    """

    settings_class = CamsSettings
    cams_conn_id: str

    def __init__(
        self,
        cams_conn_id: str = CAMS.default_conn_id,
        *,
        rate_limit: int | None = CAMS_RATE_LIMIT,
        **options: Unpack[base.HookOptions],
    ) -> None:
        super().__init__(cams_conn_id, **options)
        self.rate_limit = checks.rate_limit("rate_limit", rate_limit)

    @base.hook_method
    def query_phone_numbers(
        self, cust_space_id: str | None = None, isv_code: str | None = None, status: str | None = None
    ) -> base.Steps[list[dict[str, Any]]]:
        """Return the space's sender numbers (``QueryChatappPhoneNumbers``), CAMS field names kept.

        ``cust_space_id`` defaults to the connection's, else the account's default space (None and
        ``""``, what an unset template renders, both mean "not given"); ``status`` filters
        (CONNECTED, BANNED, ...).
        """
        if checks.absent(cust_space_id):
            cust_space_id = (yield base.SETTINGS).cust_space_id
        params = ops.phone_numbers_params(cust_space_id, isv_code, status)
        result: list[dict[str, Any]] = yield base.Call(ops.PHONE_NUMBERS, params)
        return result

    @base.hook_method
    def query_phone_records(
        self, cust_space_id: str | None = None, isv_code: str | None = None, status: str | None = None
    ) -> base.Steps[list[dict[str, Any]]]:
        """:meth:`query_phone_numbers`'s records in the provider's common phone-record shape (CAMS's
        other fields in snake_case): where every operator, sensor and trigger gets them mapped
        (:func:`~airflow_provider_wa_phones.phones.cams_phone_record`)."""
        raw = yield from _Cams.query_phone_numbers.steps(self, cust_space_id, isv_code, status)
        return [cams_phone_record(record) for record in raw]

    @base.hook_method
    def query_phone_business_profile(
        self, phone_number: str, cust_space_id: str | None = None
    ) -> base.Steps[dict[str, Any]]:
        """Return the business profile of a sender number (``QueryPhoneBusinessProfile``'s ``Data``).

        ``cust_space_id`` defaults to the connection's (None and ``""`` both mean "not given"); one
        of them is required.
        """
        if checks.absent(cust_space_id):
            cust_space_id = (yield base.SETTINGS).cust_space_id
        params = ops.business_profile_params(phone_number, cust_space_id)
        result: dict[str, Any] = yield base.Call(ops.BUSINESS_PROFILE, params)
        return result

    def _limiter(self, operation: Operation[Any, Any], settings: CamsSettings) -> SlidingWindowLimiter | None:
        """The process-wide limiter of this account and operation, None when the limit is off.

        Keyed on who calls (:attr:`CamsSettings.account`: base URL, mode, AccessKey ID or role), not
        on the key signing: refreshed temporary keys keep the same limiter.
        """
        if not self.rate_limit:
            return None
        return shared_limiter((*settings.account, operation.name), self.rate_limit)


@with_legacy_connection_form
class CamsHook(_Cams, base.ServiceHook):
    """Calls Alibaba Cloud CAMS with ACS3-signed, validated, rate-limited requests.

    :param cams_conn_id: an ``alibaba_cams`` connection: host = endpoint override, extras
        ``region`` (default ap-southeast-1) and ``cust_space_id`` (default space); the keys come
        from the extra ``auth_type``: ``access_key`` (login = AccessKey ID, password = AccessKey
        secret, extra ``security_token`` for STS keys), ``ram_role_arn`` (``role_arn``, optional
        ``role_session_name``, ``external_id``, ``policy``, ``duration_seconds``; the role is
        assumed with login/password, else the default chain's keys), ``oidc_role_arn`` (RRSA:
        ``role_arn``, ``oidc_provider_arn``, ``oidc_token_file``, defaulting to the
        ``ALIBABA_CLOUD_*`` variables), ``ecs_ram_role`` (optional ``role_name``),
        ``credentials_uri``, or ``default`` (Alibaba Cloud's default chain; also what a connection
        without login, password and ``auth_type`` uses). The STS modes take ``sts_region``,
        ``sts_endpoint`` and ``enable_vpc``. Temporary keys are fetched by Alibaba Cloud's
        credential library and refreshed before they expire
        (:mod:`~airflow_provider_wa_phones.credentials`).
    :param timeout: seconds each request may take in all, its answer's body included.
    :param retry_policy: how transient failures (throttling, server errors) are retried.
    :param max_answer_bytes: the largest answer body read, once decoded (default 16 MiB).
    :param rate_limit: most calls per second per operation from this process (CAMS allows 10),
        1 to 1,000; None turns the client-side limit off.
    """

    settings: CamsSettings

    def _before_send(self, operation: Operation[Any, Any], settings: Any) -> None:
        limiter = self._limiter(operation, settings)
        if limiter is not None:
            limiter.wait()
        # Temporary keys are fetched (when due) before the request's own deadline starts; the
        # session's auth signs with the same process-wide source.
        credentials.source_for(settings).current()

    def _probe(self) -> str:
        settings = self.settings
        count = len(self.query_phone_numbers())
        space = settings.cust_space_id or "the account's default space"
        source = credentials.source_for(settings)
        keys = source.last or source.current()
        return (
            f"Connected to CAMS at {shorten(settings.base_url, 100)}: {count} numbers in {space}; "
            f"{source.describe(keys)}"
        )


class CamsAsyncHook(_Cams, base.AsyncServiceHook):
    """The CAMS calls triggers need, on aiohttp: the same operations, ACS3 signing, parsing and rate
    limit as :class:`CamsHook`, without blocking the event loop.

    Use it as ``async with CamsAsyncHook(conn_id) as hook:``; every hook in one event loop shares
    one HTTP session.
    """

    async def settings(self) -> CamsSettings:
        """The connection's fields, read once per hook without blocking the loop."""
        settings: CamsSettings = await super().settings()
        return settings

    async def _before_send(self, operation: Operation[Any, Any], settings: Any) -> None:
        limiter = self._limiter(operation, settings)
        if limiter is not None:
            await asyncio.sleep(limiter.reserve())
