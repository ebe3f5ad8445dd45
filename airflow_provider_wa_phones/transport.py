"""Sending one request and getting its answer, sync (requests) and async (aiohttp), for both services.

Failures are turned into :class:`~airflow_provider_wa_phones.errors.TransportError` here and only
here, and whether the request surely never left this machine (so a charged submit may be sent
again) is read from the exception's type, in :func:`never_sent`. Everything the hooks read of an
answer is in :class:`Answer`: status, headers and body.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from airflow_provider_wa_phones import redact
from airflow_provider_wa_phones.errors import TransportError
from airflow_provider_wa_phones.operations.answers import shorten

if TYPE_CHECKING:
    import aiohttp
    import requests

USER_AGENT = "airflow-provider-wa-phones"


@dataclass(frozen=True, slots=True)
class Request:
    """One request as an operation builds it: the body is the exact bytes to sign and send."""

    method: str
    url: str  # the query, if any, already encoded as it must be sent (CAMS signs it as it stands)
    headers: Mapping[str, str]
    body: bytes


#: Computes the headers that sign a request (``NxCloudAuth.sign``, ``CamsAuth.sign``).
Sign = Callable[[Request], Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the hooks read of an HTTP answer."""

    status: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class CallInfo:
    """Who sends what, for error messages: the service, the operation, the base URL the connection
    names, and the credential values no message may show."""

    service: str
    operation: str
    base: str
    secrets: tuple[str, ...] = field(default=(), repr=False)


# --- sync: requests ----------------------------------------------------------------------------------


def new_session(base_url: str) -> requests.Session:
    """A keep-alive session whose proxy and CA settings are read from the environment once."""
    import requests

    session = requests.Session()
    # Only the headers that carry information: every header is parsed (and for CAMS hashed) on
    # both ends, and HTTP/1.1 keeps connections alive by itself.
    session.headers = requests.structures.CaseInsensitiveDict(
        {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    )
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


def send(session: requests.Session, request: Request, timeout: float, call: CallInfo) -> Answer:
    """Send ``request`` through ``session``, signed by the session's auth (a ``requests`` AuthBase
    that sees the prepared request) at this moment, so every attempt carries a fresh signature.

    The request is prepared here as it was built, not through ``Session.request``: requests would
    re-quote a query that is signed as it stands, and merge the environment on every call.
    """
    import requests

    failure: TransportError | None = None
    try:
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        prepared.headers = requests.structures.CaseInsensitiveDict({**session.headers, **request.headers})
        prepared.headers["Content-Length"] = str(len(request.body))
        prepared.body = request.body
        if callable(session.auth):
            prepared = session.auth(prepared)
        response = session.send(prepared, timeout=timeout, allow_redirects=False)
    except (requests.RequestException, ValueError, TypeError, UnicodeError) as exc:
        failure = transport_error(call, exc)
    # Raised here, not in the except clause: the library's exception (whose text may quote a
    # credential) is not kept as this one's context.
    if failure is not None:
        raise failure
    return Answer(response.status_code, response.headers, response.content)


# --- async: aiohttp, one session per event loop ------------------------------------------------------


async def asend(
    session: aiohttp.ClientSession, request: Request, timeout: float, call: CallInfo, sign: Sign
) -> Answer:
    """:func:`send` on aiohttp, which has no per-request auth: ``sign(request)`` computes the
    signing headers at this moment."""
    import aiohttp
    from yarl import URL

    failure: TransportError | None = None
    try:
        headers = {**request.headers, **sign(request)}
        async with session.request(
            request.method,
            URL(request.url, encoded=True),  # yarl would re-encode a plain string's signed query
            data=request.body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            answer = Answer(response.status, response.headers, await response.read())
    except (TimeoutError, aiohttp.ClientError, ValueError, TypeError, UnicodeError) as exc:
        failure = transport_error(call, exc)
    if failure is not None:
        raise failure
    return answer


class _Shared:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.users = 0


_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Shared] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def shared_session() -> AsyncIterator[aiohttp.ClientSession]:
    """Lend the running loop's shared session for the duration of the ``async with`` block.

    A triggerer runs thousands of waits in one loop; a session each would mean thousands of
    connection pools. The session opens with its first user and closes when its last user is done.
    """
    import aiohttp

    loop = asyncio.get_running_loop()
    entry = _by_loop.get(loop)
    if entry is None or entry.session.closed:
        # trust_env: proxy settings come from the environment once, when the session opens.
        entry = _by_loop[loop] = _Shared(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100),
                trust_env=True,
                # The services see who calls, as from the sync hooks; the client library is named
                # too, so a log on their side (or the sandbox's) tells a triggerer's requests apart.
                headers={"User-Agent": f"{USER_AGENT} aiohttp/{aiohttp.__version__}"},
            )
        )
    entry.users += 1
    try:
        yield entry.session
    finally:
        entry.users -= 1
        if entry.users == 0:
            # A newer entry may have replaced this one (its session was closed under its users):
            # only this entry's own registration goes.
            if _by_loop.get(loop) is entry:
                del _by_loop[loop]
            await entry.session.close()


def open_sessions() -> int:
    """How many shared sessions are open (for tests and diagnostics)."""
    return sum(1 for entry in _by_loop.values() if not entry.session.closed)


class HoldsSharedSession:
    """For async hooks: ``async with hook:`` holds the loop's shared session while in use."""

    _lease: Any = None
    _session: Any = None

    async def __aenter__(self) -> Self:
        self._lease = shared_session()
        self._session = await self._lease.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        lease, self._lease, self._session = self._lease, None, None
        await lease.__aexit__(*exc_info)

    def http(self) -> aiohttp.ClientSession:
        """The held session; calls outside ``async with`` are a programming error."""
        if self._session is None:
            raise RuntimeError(f"use {type(self).__name__} inside 'async with'")
        session: aiohttp.ClientSession = self._session
        return session


# --- failures -----------------------------------------------------------------------------------------


def transport_error(call: CallInfo, exc: BaseException) -> TransportError:
    """The one error a transport failure becomes, for either library."""
    if isinstance(exc, (ValueError, TypeError, UnicodeError)) and not _is_library_failure(exc):
        # A library refusing what it was given (http.client quotes a header it will not send):
        # nothing left the machine, and its words may hold a credential.
        return TransportError(
            f"{call.service} {call.operation}: the request could not be sent ({type(exc).__name__}: "
            f"{redact.scrub(str(exc), call.secrets)})",
            unsent=True,
        )
    return TransportError(
        f"{call.service} {call.operation}: no answer from {shorten(call.base, 100)} ({type(exc).__name__})",
        unsent=never_sent(exc),
    )


def never_sent(exc: BaseException) -> bool:
    """Whether a transport failure surely happened before the request left this machine: no
    connection was made (refused, DNS failure, connect timeout)."""
    requests = sys.modules.get("requests")
    if requests is not None:
        if isinstance(exc, requests.ConnectTimeout):
            return True
        if isinstance(exc, requests.ConnectionError):
            from urllib3.exceptions import MaxRetryError, NewConnectionError

            cause = exc.args[0] if exc.args else None
            reason = cause.reason if isinstance(cause, MaxRetryError) else cause
            return isinstance(reason, NewConnectionError)  # NameResolutionError is one too
    aiohttp = sys.modules.get("aiohttp")
    return aiohttp is not None and isinstance(exc, aiohttp.ClientConnectorError)


def _is_library_failure(exc: BaseException) -> bool:
    """requests' and aiohttp's own errors that also derive from ValueError (InvalidURL, ...)."""
    requests = sys.modules.get("requests")
    aiohttp = sys.modules.get("aiohttp")
    return (requests is not None and isinstance(exc, requests.RequestException)) or (
        aiohttp is not None and isinstance(exc, aiohttp.ClientError)
    )


def elapsed_ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.monotonic()`` reading), for the hooks' debug log."""
    return (time.monotonic() - started) * 1000
