"""Sending one request and getting its answer, sync (requests) and async (aiohttp), for both services.

Failures are turned into :class:`~airflow_provider_wa_phones.exceptions.TransportError` here and only
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
from http.client import HTTPException
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError, ReadTimeoutError

from airflow_provider_wa_phones import deadline, redact
from airflow_provider_wa_phones import deadline as deadlines
from airflow_provider_wa_phones.checks import shorten
from airflow_provider_wa_phones.exceptions import (
    AnswerTooLargeError,
    RedirectError,
    TransportError,
    WaPhonesError,
)
from airflow_provider_wa_phones.operations.base import (
    DEFAULT_MAX_ANSWER_BYTES,
    Answer,
    Request,
)

if TYPE_CHECKING:
    import aiohttp
    import requests

    # Self and Unpack are in typing from Python 3.11; type checkers read typing_extensions' (it comes
    # with Airflow and pydantic). Never imported at run time: annotations are postponed.
    from typing_extensions import Self

USER_AGENT = "airflow-provider-wa-phones"


#: Computes the headers that sign a request (``NxCloudAuth.sign``, ``CamsAuth.sign``).
Sign = Callable[[Request], Mapping[str, str]]


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

    session = requests.Session()
    # Only the headers that carry information: every header is parsed (and for CAMS hashed) on
    # both ends, and HTTP/1.1 keeps connections alive by itself.
    session.headers = requests.structures.CaseInsensitiveDict(
        {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    )
    session.trust_env = False
    # Adapters whose connections stop at the call's deadline (connecting, sending, the head).

    session.mount("https://", deadline.new_adapter())
    session.mount("http://", deadline.new_adapter())
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


# Bytes asked for per read: each read is one receive from the socket (decoded at most this much).
_CHUNK = 64 * 1024


def send(
    session: requests.Session,
    request: Request,
    timeout: float,
    call: CallInfo,
    max_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
) -> Answer:
    """Send ``request`` through ``session``, signed by the session's auth (a ``requests`` AuthBase
    that sees the prepared request) at this moment, so every attempt carries a fresh signature.

    The request is prepared here as it was built, not through ``Session.request``: requests would
    re-quote a query that is signed as it stands, and merge the environment on every call. It goes
    straight to the session's transport adapter, not through ``Session.send``: that one resolves
    redirects (even with ``allow_redirects=False`` it prepares the next request, reading the whole
    body first), and here a redirect is an error (:func:`redirect_error`), never followed.

    The whole call has one deadline, ``timeout`` seconds after it starts: requests' own timeout
    bounds each receive, so an answer trickled a byte at a time would never time out. Until the
    answer's head is read, :mod:`~airflow_provider_wa_phones.deadline` watches the call and shuts
    its connection down at the deadline (a session from :func:`new_session` mounts its adapters);
    connecting is bounded by ``timeout`` too (per address tried, DNS by the system). The body is
    read in receives of at most 64 KiB, each bounded by what is left of the deadline, and at most
    ``max_bytes`` of it (decoded) are read (:func:`too_large`).
    """

    failure: TransportError | None = None
    response: Any = None
    deadline = time.monotonic() + timeout
    watch = deadlines.watch(deadline)
    try:
        prepared = requests.PreparedRequest()
        prepared.method = request.method
        prepared.url = request.url
        prepared.headers = requests.structures.CaseInsensitiveDict({**session.headers, **request.headers})
        prepared.headers["Content-Length"] = str(len(request.body))
        prepared.body = request.body
        if callable(session.auth):
            prepared = session.auth(prepared)
        proxies = requests.utils.resolve_proxies(prepared, session.proxies, session.trust_env)
        adapter = session.get_adapter(prepared.url or "")
        response = adapter.send(
            prepared,
            stream=True,
            timeout=(timeout, timeout),
            verify=session.verify,
            cert=session.cert,
            proxies=proxies,
        )
    except (requests.RequestException, OSError, ValueError, TypeError, UnicodeError) as exc:
        if watch.fired:  # whatever the shut-down connection made the libraries raise
            failure = timed_out(call, timeout, unsent=not watch.sending or never_sent(exc))
        else:
            failure = transport_error(call, exc)
    finally:
        deadlines.end(watch)
    if failure is None and watch.fired:
        # The head ended at the shutdown and was taken as complete (http.client ends headers at
        # the end of the stream): it is not the answer.
        response.close()
        failure = timed_out(call, timeout, unsent=False)
    # Raised here, not in the except clause: the library's exception (whose text may quote a
    # credential) is not kept as this one's context.
    if failure is not None:
        raise failure
    complete = False
    try:
        if 300 <= response.status_code < 400:
            raise redirect_error(call, response.status_code, response.headers.get("Location"))
        content = _read_sync(response.raw, deadline, timeout, max_bytes, call, response.status_code)
        complete = True  # read to its end: urllib3 has put the connection back in the pool
    finally:
        if not complete:
            response.close()  # an unread rest is dropped with its connection, never read to reuse it
    return Answer(response.status_code, response.headers, content)


def _read_sync(
    raw: Any, deadline: float, timeout: float, max_bytes: int, call: CallInfo, status: int
) -> bytes:
    """The decoded body of a urllib3 response, read by ``deadline`` and up to ``max_bytes``."""

    sock = getattr(getattr(raw, "connection", None), "sock", None)
    parts: list[bytes] = []
    size = 0
    failure: TransportError | None = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if sock is not None:
                # One receive may not outlast the call's deadline (requests' timeout is per receive).
                sock.settimeout(left)
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise too_large(call, max_bytes, status)
            parts.append(chunk)
    except (HTTPError, HTTPException, OSError) as exc:
        failure = _cut_off(call, exc, timeout)
    if failure is not None:
        raise failure
    return b"".join(parts)


def _cut_off(call: CallInfo, exc: BaseException, timeout: float) -> TransportError:
    """The error for an answer whose body did not arrive whole (the request was sent)."""

    if isinstance(exc, (TimeoutError, ReadTimeoutError)) or "timed out" in str(exc):
        return timed_out(call, timeout, unsent=False)
    return TransportError(
        f"{call.service} {call.operation}: the answer was cut off ({type(exc).__name__}), "
        f"from {shorten(call.base, 100)}",
        unsent=False,
    )


def timed_out(call: CallInfo, timeout: float, *, unsent: bool) -> TransportError:
    """The error for a request that ran out of its one deadline: ``unsent`` when no byte of it
    left this machine (connecting took the time), else it may have been taken."""
    return TransportError(
        f"{call.service} {call.operation}: no whole answer within the timeout ({timeout:g} s, one "
        "deadline for the whole request: connecting, sending, the answer's head and body), from "
        f"{shorten(call.base, 100)}",
        unsent=unsent,
    )


def too_large(call: CallInfo, max_bytes: int, status: int) -> AnswerTooLargeError:
    """The error for an answer whose decoded body grew past ``max_bytes``."""
    return AnswerTooLargeError(
        f"{call.service} {call.operation}: the answer (HTTP {status}) from {shorten(call.base, 100)} "
        f"is larger than {max_bytes} bytes once decoded (max_answer_bytes); reading stopped there. "
        "No answer of this service is that large: a broken server, a proxy or a compressed bomb. "
        "Retrying will not help.",
        limit=max_bytes,
        # A 4xx comes from before the service acted; anything else may have been processed.
        may_have_taken_effect=not 400 <= status < 500,
    )


def redirect_error(call: CallInfo, status: int, location: str | None) -> RedirectError:
    """The error for a redirect (HTTP 3xx), which is never followed; see :class:`RedirectError`
    for whether the request may have been taken."""

    where = ""
    if location:
        try:
            target = urlsplit(location.strip())
            # Scheme and host only: a Location's path or query may quote the request, a userinfo a password.
            where = f"{target.scheme}://{target.hostname}" if target.hostname else "a relative address"
            if target.port:
                where += f":{target.port}"
        except ValueError:
            where = "an unreadable address"
    where = redact.quote(where, call.secrets, 100)
    return RedirectError(
        f"{call.service} {call.operation}: {shorten(call.base, 100)} answered HTTP {status}, a redirect"
        + (f" to {where}" if where else "")
        + ". Redirects are not followed: the request is signed for this host, and its credentials must "
        "not go anywhere else. Set the connection's host to the address the service answers on "
        "(an http:// host redirected to https:// is the usual case). Retrying will not help.",
        status=status,
        location=where,
    )


# --- async: aiohttp, one session per event loop ------------------------------------------------------


async def asend(
    session: aiohttp.ClientSession,
    request: Request,
    timeout: float,
    call: CallInfo,
    sign: Sign,
    max_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
) -> Answer:
    """:func:`send` on aiohttp, which has no per-request auth: ``sign(request)`` computes the
    signing headers at this moment. ``ClientTimeout(total=timeout)`` is the call's one deadline:
    it covers connecting, sending and reading the whole body."""
    # light sync workers: aiohttp loads only where the async hooks run (the triggerer)
    import aiohttp
    from yarl import URL  # light sync workers: aiohttp's URLs

    failure: WaPhonesError | None = None
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
            try:
                if 300 <= response.status < 400:
                    raise redirect_error(call, response.status, response.headers.get("Location"))
                parts: list[bytes] = []
                size = 0
                # Streamed: aiohttp decodes gzip/deflate as it receives, a bounded piece at a time.
                async for chunk in response.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large(call, max_bytes, response.status)
                    parts.append(chunk)
            except WaPhonesError:
                response.close()  # the unread rest is dropped with its connection
                raise
            answer = Answer(response.status, response.headers, b"".join(parts))
    except WaPhonesError as exc:
        failure = exc
    # The total timeout, or aiohttp's ServerTimeoutError: asyncio.TimeoutError, which is only the
    # built-in TimeoutError from Python 3.11.
    except (TimeoutError, asyncio.TimeoutError) as exc:
        failure = timed_out(call, timeout, unsent=never_sent(exc))
    except (aiohttp.ClientError, ValueError, TypeError, UnicodeError) as exc:
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
    # light sync workers: aiohttp loads only where the async hooks run (the triggerer)
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
            cause = exc.args[0] if exc.args else None
            reason = cause.reason if isinstance(cause, MaxRetryError) else cause
            return isinstance(reason, NewConnectionError)  # NameResolutionError is one too
    aiohttp = sys.modules.get("aiohttp")
    # ConnectionTimeoutError: the total timeout ran out while connecting.
    connecting = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) if aiohttp else ()
    return isinstance(exc, connecting)


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
