"""The keys a CAMS connection signs with: stored in the connection, or fetched and refreshed by
Alibaba Cloud's own credential providers (``alibabacloud-credentials``) without stalling a task or
a triggerer's event loop.

:func:`source_for` gives the :class:`KeySource` of a connection's settings: :class:`StoredKeys`
for ``access_key``, else one :class:`RefreshingKeys` per distinct credential settings per process,
shared by every hook and trigger (sync and async) of the process. The library fetches (its
providers, its STS calls); this module decides when to ask it:

- the keys are cached here and the library is asked again only when they near expiry (a margin of
  a quarter of their lifetime, at most 15 minutes), and, while they are still valid, at most once
  per :data:`RETRY_INTERVAL`. The library alone would treat STS keys as stale 15 minutes before
  they expire, refetch on every call when they live less than that, and *raise* when a refresh
  fails in those 15 minutes although the keys still work;
- a failed refresh while the cached keys are valid logs a warning and uses them; once they have
  expired it raises :class:`~airflow_provider_wa_phones.exceptions.CredentialsUnavailableError`
  naming the mode and identity (never a secret), and the next call asks again;
- async callers of one source share one refresh per event loop, and a refresh never waits for a
  lock inside the loop: the library's async refresh takes a ``threading.Lock`` (with a 5 s
  blocking timeout) in the loop, so only one caller of a source is ever inside the library;
- every fetched secret and token is masked (Airflow's masker and :mod:`redact`) as it arrives.

The library is imported only when a key is first needed. Importing it adds ``StreamHandler``\\ s to
its loggers (raw stderr, outside Airflow's logging and masking): they are taken off once, and a
filter that hides every known secret is put on those loggers instead.

Test seam: with ``WA_PHONES_ECS_METADATA_HOST=host:port`` in the environment, ECS RAM role
providers (``ecs_ram_role``, and the one inside the default chain) ask that host instead of the
metadata service ``100.100.100.200``.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from airflow_provider_wa_phones import _compat, redact
from airflow_provider_wa_phones.connections import CamsSettings
from airflow_provider_wa_phones.exceptions import CredentialsUnavailableError

log = logging.getLogger(__name__)

#: ``host:port`` of an ECS metadata service to ask instead of ``100.100.100.200`` (tests, sandbox).
ECS_METADATA_HOST_ENV = "WA_PHONES_ECS_METADATA_HOST"
#: While the cached keys are valid, the provider is asked at most this often (seconds).
RETRY_INTERVAL = 30.0
#: The longest margin before expiry at which new keys are fetched (seconds).
REFRESH_MARGIN = 15 * 60
#: Keys are signed with only until this long before they expire (at most; a tenth of their
#: lifetime when that is shorter): a request signed in the last instant would reach the service
#: after expiry and be refused with ``InvalidSecurityToken.Expired``, which no retry fixes.
EXPIRY_SAFETY = 60.0
#: Keys whose expiry the provider does not say (the default chain drops it) are asked for again
#: after this long, and taken as valid for :data:`UNKNOWN_LIFETIME` after they were fetched (the
#: library hands out no STS keys with less than 15 minutes left).
UNKNOWN_RECHECK = 60.0
#: How long keys without a stated expiry are taken as valid after they were fetched (seconds).
UNKNOWN_LIFETIME = 15 * 60
#: The loggers the library (and its HTTP layer, Tea) log to; 1.0.2 used module names.
LIBRARY_LOGGERS = ("credentials", "alibabacloud-tea")
#: The HTTP client loggers the library's calls go through: at DEBUG, urllib3 logs each request line,
#: and AssumeRoleWithOIDC carries its OIDC token in the query. They get the filter, keep handlers.
HTTP_LOGGERS = ("urllib3.connectionpool",)
_LIBRARY_PREFIX = "alibabacloud_credentials"

_REMEDIES = {
    "ram_role_arn": "Check that STS (the connection's sts_endpoint or sts_region, else sts.aliyuncs.com) is "
    "reachable from this worker, that the role exists and trusts the source keys (login and password, "
    "else the default chain's), and that those keys are valid",
    "oidc_role_arn": "Check that STS is reachable from this worker, that the OIDC token file exists and is "
    "fresh, and that the role trusts the OIDC provider",
    "ecs_ram_role": "Check that this runs on an ECS instance with a RAM role attached (role_name) and that "
    "its metadata service answers with IMDSv2 tokens",
    "credentials_uri": "Check that the credentials URI answers with Code Success and a key pair",
    "default": "Put keys in the connection, or make a source of the default chain available "
    "(ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET, the RRSA variables, a credentials file, the ECS "
    "RAM role, ALIBABA_CLOUD_CREDENTIALS_URI)",
}


class Keys(NamedTuple):
    """One key pair to sign with. ``expiration``: when temporary keys expire (epoch seconds), None
    for stored keys or when the provider does not say."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None
    expiration: float | None

    def __repr__(self) -> str:
        return f"Keys(access_key_id={self.access_key_id!r}, expiration={self.expiration!r})"


def lifetime(keys: Keys, now: float | None = None, *, stored: bool = False) -> str:
    """How long ``keys`` live, in words: ``temporary keys, 59 min left``."""
    if stored:
        return "stored STS keys" if keys.security_token else "stored keys"
    if keys.expiration is None:
        return "temporary keys, expiry not stated by the provider"
    left = keys.expiration - (time.time() if now is None else now)
    if left <= 0:
        return "temporary keys, expired"
    minutes = int(left // 60)
    if minutes < 1:
        return "temporary keys, less than a minute left"
    if minutes < 120:
        return f"temporary keys, {minutes} min left"
    return f"temporary keys, {minutes // 60} h {minutes % 60} min left"


class KeySource:
    """Where a connection's keys come from: :meth:`current` (sync) or :meth:`current_async`."""

    auth_type: str
    identity: str

    def current(self) -> Keys:
        """The keys to sign with now."""
        raise NotImplementedError

    async def current_async(self) -> Keys:
        """:meth:`current` without blocking the event loop."""
        raise NotImplementedError

    @property
    def last(self) -> Keys | None:
        """The keys :meth:`current` gave last (None before the first), without asking for any."""
        raise NotImplementedError

    def describe(self, keys: Keys) -> str:
        """The mode, identity and lifetime of ``keys``, for the Test button (never a secret)."""
        return f"auth_type {self.auth_type}, {self.identity}, {lifetime(keys)}"


class StoredKeys(KeySource):
    """The keys stored in the connection (``access_key``): nothing to fetch or refresh."""

    auth_type = "access_key"

    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str | None = None) -> None:
        self._keys = Keys(access_key_id, access_key_secret, security_token or None, None)
        self.identity = f"AccessKey {access_key_id}"

    def current(self) -> Keys:
        return self._keys

    async def current_async(self) -> Keys:
        return self._keys

    @property
    def last(self) -> Keys | None:
        return self._keys

    def describe(self, keys: Keys) -> str:
        return f"auth_type {self.auth_type}, {self.identity}, {lifetime(keys, stored=True)}"

    def __repr__(self) -> str:
        return f"StoredKeys(access_key_id={self._keys.access_key_id!r})"


class RefreshingKeys(KeySource):
    """Keys from one of the library's credential providers (``ICredentialsProvider``), cached here
    and refreshed before they expire (see the module's documentation).

    :param build: makes the provider, called (again after a failure) when keys are first needed.
    :param auth_type: the connection's mode, for messages.
    :param identity: who the keys act as (role ARN, URI host, ...), for messages; never a secret.
    :param clock: the wall clock (epoch seconds), replaceable in tests.
    """

    def __init__(
        self,
        build: Callable[[], Any],
        auth_type: str,
        identity: str,
        *,
        clock: Callable[[], float] = time.time,
        retry_interval: float = RETRY_INTERVAL,
        before_fetch: Callable[[], str | None] | None = None,
    ) -> None:
        self.auth_type = auth_type
        self.identity = identity
        self._build = build
        self._provider: Any = None
        self._clock = clock
        self._retry_interval = retry_interval
        self._before_fetch = before_fetch
        self._keys: Keys | None = None
        self._refresh_at = 0.0
        self._valid_until = 0.0
        self._next_attempt = 0.0
        #: How many times the provider was asked for keys (tests and benchmarks read it).
        self.fetches = 0
        # One caller in the library at a time, from any thread or loop: the sync path waits for it
        # (in a worker thread), the async path never blocks its loop on it.
        self._lock = threading.Lock()
        self._flights: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[Keys]] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RefreshingKeys(auth_type={self.auth_type!r}, identity={self.identity!r})"

    @property
    def last(self) -> Keys | None:
        return self._keys

    # --- when to ask ---------------------------------------------------------------------------

    def _cached(self, now: float) -> Keys | None:
        """The cached keys when they may be used without asking the provider, else None."""
        keys = self._keys
        if keys is None:
            return None
        if now < self._refresh_at:
            return keys
        if now < self._valid_until and now < self._next_attempt:
            return keys  # near expiry, but asked a moment ago: not again yet
        return None

    def _store(self, keys: Keys, now: float) -> None:
        if keys.expiration is not None:
            seen = max(keys.expiration - now, 0.0)
            self._refresh_at = keys.expiration - min(REFRESH_MARGIN, seen / 4)
            self._valid_until = keys.expiration - min(EXPIRY_SAFETY, seen / 10)
        else:
            self._refresh_at = now + UNKNOWN_RECHECK
            self._valid_until = now + UNKNOWN_LIFETIME
        self._next_attempt = now + self._retry_interval
        self._keys = keys

    def _failed(self, exc: Exception, now: float) -> Keys:
        """After the provider failed: the cached keys while they are valid, else the typed error."""
        self._next_attempt = now + self._retry_interval
        keys = self._keys
        if isinstance(exc, CredentialsUnavailableError) and not exc.retryable:
            raise exc
        if keys is not None and now < self._valid_until:
            log.warning(
                "Alibaba Cloud credentials (auth_type %s, %s): refresh failed (%s); signing with the "
                "current keys, valid for %d more seconds",
                self.auth_type,
                self.identity,
                _detail(exc),
                int(self._valid_until - now),
            )
            return keys
        raise self._unavailable(exc)

    def _unavailable(self, exc: Exception) -> CredentialsUnavailableError:
        if isinstance(exc, CredentialsUnavailableError):
            return exc
        expired = " (the earlier keys have expired)" if self._keys is not None else ""
        return self._error(f"no valid keys for {self.identity}{expired}: {_detail(exc)}", retryable=True)

    def _error(self, message: str, retryable: bool) -> CredentialsUnavailableError:
        """The typed error of this source: its mode and identity, never a secret."""
        return CredentialsUnavailableError(
            service="Alibaba Cloud credentials",
            operation=f"auth_type {self.auth_type}",
            code="CredentialsUnavailable",
            message=message,
            remedy=_REMEDIES.get(self.auth_type, ""),
            retryable=retryable,
            auth_type=self.auth_type,
            identity=self.identity,
        )

    def _read(self, credentials: Any) -> Keys:
        """Keys from what the provider returned, every secret masked the moment it is seen."""
        key_id = credentials.get_access_key_id()
        secret = credentials.get_access_key_secret()
        token = credentials.get_security_token()
        for value in (secret, token):
            redact.remember_secret(value)
        if not (isinstance(key_id, str) and key_id and isinstance(secret, str) and secret):
            raise ValueError("the provider answered without an AccessKey ID or secret")
        get_expiration = getattr(credentials, "get_expiration", None)
        expiration = get_expiration() if callable(get_expiration) else None
        if isinstance(expiration, bool) or not isinstance(expiration, (int, float)) or expiration <= 0:
            expiration = None
        return Keys(key_id, secret, token if isinstance(token, str) and token else None, expiration)

    def _provider_now(self) -> Any:
        if self._provider is None:
            try:
                self._provider = self._build()
            except CredentialsUnavailableError:
                raise
            except Exception as exc:  # the library refuses its arguments or its environment
                message = f"cannot set up the credential provider for {self.identity}: {_detail(exc)}"
                raise self._error(message, retryable=False) from None
        return self._provider

    # --- sync ----------------------------------------------------------------------------------

    def current(self) -> Keys:
        cached = self._cached(self._clock())
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cached(self._clock())  # another thread may have refreshed meanwhile
            if cached is not None:
                return cached
            try:
                if self._before_fetch is not None:
                    redact.remember_secret(self._before_fetch())
                provider = self._provider_now()
                self.fetches += 1
                keys = self._read(provider.get_credentials())
            except Exception as exc:
                return self._failed(exc, self._clock())
            self._store(keys, self._clock())
        for secret in (keys.access_key_secret, keys.security_token):
            if secret:
                _compat.mask_secret(secret)
        return keys

    # --- async ---------------------------------------------------------------------------------

    async def current_async(self) -> Keys:
        cached = self._cached(self._clock())
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        flight = self._flights.get(loop)
        if flight is None:
            flight = loop.create_task(self._refresh_async())
            self._flights[loop] = flight
            flight.add_done_callback(self._landed)
        # Shielded: a caller that is cancelled leaves the refresh running for the others.
        return await asyncio.shield(flight)

    def _landed(self, flight: asyncio.Task[Keys]) -> None:
        loop = flight.get_loop()
        if self._flights.get(loop) is flight:
            del self._flights[loop]
        if not flight.cancelled():
            flight.exception()  # retrieved here, so a refresh nobody awaits any more logs nothing

    async def _refresh_async(self) -> Keys:
        # A thread or another loop may be inside the library: wait for it without blocking this loop.
        while not self._lock.acquire(blocking=False):
            await asyncio.sleep(0.005)
        try:
            cached = self._cached(self._clock())
            if cached is not None:
                return cached
            try:
                if self._before_fetch is not None:
                    redact.remember_secret(await asyncio.to_thread(self._before_fetch))
                provider = self._provider_now()
                self.fetches += 1
                keys = self._read(await provider.get_credentials_async())
            except Exception as exc:
                return self._failed(exc, self._clock())
            self._store(keys, self._clock())
        finally:
            self._lock.release()
        for secret in (keys.access_key_secret, keys.security_token):
            if secret:
                await _compat.amask_secret(secret)
        return keys


# A URL's query in a library's error text may hold the OIDC token or a signature: never shown.
_QUERY = re.compile(r"\?[^\s'\"]*")


def _detail(exc: BaseException) -> str:
    """What went wrong, for a message: the exception's type and text, without a URL's query and
    with every known secret hidden, cut to 200 characters."""
    text = _QUERY.sub("?...", f"{type(exc).__name__}: {exc}")
    return redact.quote(text, (), 200)


# --- the library ---------------------------------------------------------------------------------

_library_lock = threading.Lock()
_library_ready = False


def _providers() -> Any:
    """``alibabacloud_credentials.provider``, with its loggers made to go through Airflow's."""
    global _library_ready
    # light DAG parsing: the library (with Tea, APScheduler, aiofiles) loads when a key is needed
    import alibabacloud_credentials.provider as providers  # type: ignore[import-untyped]

    with _library_lock:
        if not _library_ready:
            quiet_library_loggers()
            _library_ready = True
    return providers


def quiet_library_loggers() -> None:
    """Take the ``StreamHandler``\\ s the library adds at import off its loggers (their records then
    reach Airflow's handlers and masking) and put a filter hiding every known secret on them."""
    names = {*LIBRARY_LOGGERS, *(n for n in logging.root.manager.loggerDict if n.startswith(_LIBRARY_PREFIX))}
    for name in sorted(names):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if type(handler) is logging.StreamHandler:
                logger.removeHandler(handler)
        if not any(isinstance(item, redact.SecretFilter) for item in logger.filters):
            logger.addFilter(redact.SecretFilter())
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(item, redact.SecretFilter) for item in logger.filters):
            logger.addFilter(redact.SecretFilter())


def _redirected(ecs: Any) -> Any:
    """An ECS RAM role provider, asking ``WA_PHONES_ECS_METADATA_HOST`` when that is set."""
    host = os.environ.get(ECS_METADATA_HOST_ENV)
    if host:
        ecs._EcsRamRoleCredentialsProvider__metadata_service_host = host
    return ecs


_build_lock = threading.Lock()


def _default_chain(providers: Any) -> Any:
    """The library's default chain, in its own order, with an ECS RAM role provider that refreshes
    when asked instead of starting a scheduler thread (and, on 1.0.2, signal handlers) per chain."""
    default: Any = importlib.import_module("alibabacloud_credentials.provider.default")
    original = default.EcsRamRoleCredentialsProvider

    def ecs(**options: Any) -> Any:
        return _redirected(original(**{"async_update_enabled": False, **options}))

    with _build_lock:
        default.EcsRamRoleCredentialsProvider = ecs
        try:
            return providers.DefaultCredentialsProvider()
        finally:
            default.EcsRamRoleCredentialsProvider = original


def build_provider(settings: CamsSettings) -> Any:
    """The library's credential provider for ``settings`` (any mode but ``access_key``)."""
    providers = _providers()
    mode = settings.auth_type
    sts = {
        "sts_region_id": settings.sts_region,
        "sts_endpoint": settings.sts_endpoint,
        "enable_vpc": settings.enable_vpc,
    }
    if mode == "ram_role_arn":
        return providers.RamRoleArnCredentialsProvider(
            access_key_id=settings.key or None,
            access_key_secret=settings.secret or None,
            security_token=settings.security_token,
            credentials_provider=None if settings.key else _default_chain(providers),
            role_arn=settings.role_arn,
            role_session_name=settings.role_session_name,
            duration_seconds=settings.duration_seconds,
            policy=settings.policy,
            external_id=settings.external_id,
            **sts,
        )
    if mode == "oidc_role_arn":
        return providers.OIDCRoleArnCredentialsProvider(
            role_arn=settings.role_arn,
            oidc_provider_arn=settings.oidc_provider_arn,
            oidc_token_file_path=settings.oidc_token_file,
            role_session_name=settings.role_session_name,
            duration_seconds=settings.duration_seconds,
            policy=settings.policy,
            **sts,
        )
    if mode == "ecs_ram_role":
        return _redirected(
            providers.EcsRamRoleCredentialsProvider(
                role_name=settings.role_name, disable_imds_v1=True, async_update_enabled=False
            )
        )
    if mode == "credentials_uri":
        return providers.URLCredentialsProvider(uri=settings.credentials_uri)
    return _default_chain(providers)


def _token_reader(path: str) -> Callable[[], str | None]:
    """Reads the OIDC token file before each refresh, so the token the library sends is known to
    :mod:`redact` (a library error may quote the request)."""

    def read() -> str | None:
        try:
            with open(path, encoding="utf-8") as file:
                return file.read(65536).strip() or None
        except OSError:
            return None  # the library reports the missing file itself

    return read


# --- one source per credential settings per process ---------------------------------------------

_sources: dict[str, RefreshingKeys] = {}
_sources_lock = threading.Lock()


def _cache_key(settings: CamsSettings) -> str:
    """A digest of everything that decides which keys ``settings`` get (secrets included, hence
    a digest: the key never shows them)."""
    fields = [
        settings.auth_type, settings.key, settings.secret, settings.security_token, settings.role_arn,
        settings.role_session_name, settings.external_id, settings.policy, settings.duration_seconds,
        settings.oidc_provider_arn, settings.oidc_token_file, settings.role_name, settings.credentials_uri,
        settings.sts_region, settings.sts_endpoint, settings.enable_vpc,
        os.environ.get(ECS_METADATA_HOST_ENV),
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def source_for(settings: CamsSettings) -> KeySource:
    """The key source of a connection's settings: its stored keys, or the process-wide refreshing
    source shared by every hook and trigger with the same credential settings."""
    if settings.auth_type == "access_key":
        return StoredKeys(settings.key, settings.secret, settings.security_token)
    key = _cache_key(settings)
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            before = _token_reader(settings.oidc_token_file) if settings.oidc_token_file else None
            source = _sources[key] = RefreshingKeys(
                lambda: build_provider(settings), settings.auth_type, settings.identity, before_fetch=before
            )
        return source


def forget_sources() -> None:
    """Drop every cached source (tests; a process that changed its environment)."""
    with _sources_lock:
        _sources.clear()
