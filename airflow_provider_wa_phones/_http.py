"""The synchronous HTTP plumbing both hooks share: one session, requests prepared once.

``requests.Session.request`` re-merges session settings, re-parses the URL and re-resolves the
environment on every call; a hook that sends the same kind of request thousands of times prepares
it once and sends signed copies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import requests
from requests.adapters import HTTPAdapter

USER_AGENT = "airflow-provider-wa-phones"


class ConnectFailed(requests.ConnectionError):
    """No connection could be made (refused, DNS failure): not a byte of the request was sent."""


def never_sent(exc: BaseException) -> bool:
    """Whether a transport failure surely happened before the request left this machine."""
    return isinstance(exc, (ConnectFailed, requests.ConnectTimeout))


def new_session(base_url: str) -> requests.Session:
    """A keep-alive session whose proxy and CA settings are read from the environment once."""
    session = requests.Session()
    # HTTP/1.1 keeps connections alive and accepts any type by default; every header is parsed
    # (and for CAMS hashed) on both ends, so only the ones that carry information are sent.
    session.headers = requests.structures.CaseInsensitiveDict(
        {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    )
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


def prepare_template(
    session: requests.Session, method: str, url: str, headers: dict[str, str]
) -> requests.PreparedRequest:
    """A prepared request without body or signature, to be copied for each call."""
    return requests.Request(method, url, headers={**session.headers, **headers}).prepare()


class Answer:
    """The parts of an HTTP answer the hooks read."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, content: bytes, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = headers


def send(
    session: requests.Session,
    template: requests.PreparedRequest,
    body: bytes,
    timeout: float,
    url: str | None = None,
) -> Answer:
    """Send a copy of ``template`` with ``body`` (and ``url``, already encoded), signed by the
    session's auth at this moment, so every attempt carries a fresh signature.

    The request goes to the connection pool the session's adapter resolved (proxies and TLS
    settings included) without building a ``requests.Response``: for small JSON answers that layer
    costs more client time than the request itself. Transport failures surface as the
    ``requests`` exceptions the hooks already classify.
    """
    import urllib3

    request = template.copy()
    if url is not None:
        request.url = url
    request.body = body
    request.headers["Content-Length"] = str(len(body))
    if callable(session.auth):
        request = session.auth(request)
    adapter = session.get_adapter(request.url or "")
    if not isinstance(adapter, HTTPAdapter):
        raise TypeError(f"the session must use requests' HTTPAdapter, not {type(adapter).__name__}")
    try:
        pool = adapter.get_connection_with_tls_context(request, session.verify, session.proxies, session.cert)
        answer = pool.urlopen(
            request.method or "POST",
            adapter.request_url(request, session.proxies),
            body=body,
            headers={name: header_text(request, name) for name in request.headers},
            redirect=False,
            assert_same_host=False,
            preload_content=True,
            decode_content=True,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )
    except urllib3.exceptions.NewConnectionError as exc:  # refused, or DNS (NameResolutionError)
        raise ConnectFailed(exc, request=request) from exc
    except urllib3.exceptions.ConnectTimeoutError as exc:
        raise requests.ConnectTimeout(exc, request=request) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.ReadTimeout(exc, request=request) from exc
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc, request=request) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(exc, request=request) from exc
    return Answer(answer.status, answer.data, answer.headers)


def body_bytes(request: requests.PreparedRequest) -> bytes:
    """The prepared request's body as the bytes that will be sent (hooks only send bytes)."""
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes):
        return body
    raise TypeError("this provider signs only in-memory bodies")


def header_text(request: requests.PreparedRequest, name: str) -> str:
    """A header of the prepared request as text."""
    value = request.headers[name]
    return value.decode("latin-1") if isinstance(value, bytes) else value
