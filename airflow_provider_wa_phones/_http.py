"""The synchronous HTTP plumbing both hooks share: one session, requests prepared once.

``requests.Session.request`` re-merges session settings, re-parses the URL and re-resolves the
environment on every call; a hook that sends the same kind of request thousands of times prepares
it once and sends signed copies.
"""

from __future__ import annotations

import os

import requests


def new_session(base_url: str) -> requests.Session:
    """A keep-alive session whose proxy and CA settings are read from the environment once."""
    session = requests.Session()
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
    return session.send(request, timeout=timeout, allow_redirects=False)
