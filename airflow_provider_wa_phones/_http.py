"""The synchronous HTTP plumbing both hooks share: one session, requests prepared once.

``requests.Session.request`` re-merges session settings, re-parses the URL and re-resolves the
environment on every call; a hook that sends the same kind of request thousands of times prepares
it once and sends signed copies.
"""

from __future__ import annotations

import os

import requests

USER_AGENT = "airflow-provider-wa-phones"


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


def send(
    session: requests.Session,
    template: requests.PreparedRequest,
    body: bytes,
    timeout: float,
    url: str | None = None,
) -> requests.Response:
    """Send a copy of ``template`` with ``body`` (and ``url``, already encoded), signed by the
    session's auth at this moment, so every attempt carries a fresh signature."""
    request = template.copy()
    if url is not None:
        request.url = url
    request.body = body
    request.headers["Content-Length"] = str(len(body))
    if session.auth is not None:
        request = session.auth(request)
    # Straight to the transport adapter: no redirects to follow, no cookies to keep, and proxies
    # and TLS settings were resolved when the session was made.
    adapter = session.get_adapter(request.url or "")
    return adapter.send(
        request, timeout=timeout, verify=session.verify, proxies=session.proxies, cert=session.cert
    )
