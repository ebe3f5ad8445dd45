"""Request signing as ``requests`` auth objects, for this provider's hooks and for the http provider.

Both classes are built as ``auth_type(login, password)``, the way Airflow's ``HttpHook`` and
``HttpOperator`` build one from an ``http`` connection, so any other endpoint of these services
(sending a message, say) can be called with the same signing. ``from_connection`` builds one that
reads this provider's own connection (STS token included) when it first signs, for
``request_kwargs={"auth": ...}`` where no ``auth_type`` is taken (``HttpSensor``). They see the
prepared request, so they sign exactly the bytes and query that are sent, and sign every attempt
afresh. The async hooks await :meth:`~CamsAuth.asign` (aiohttp has no per-request auth hook).

A CAMS connection without stored keys signs with the keys its
:class:`~airflow_provider_wa_phones.credentials.KeySource` holds at that moment (fetched and
refreshed by Alibaba Cloud's credential providers, :mod:`~airflow_provider_wa_phones.credentials`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from requests.auth import AuthBase

from airflow_provider_wa_phones import _compat, connections, credentials, redact, signing
from airflow_provider_wa_phones.connections import CamsSettings, NxCloudSettings
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.operations.base import Request
from airflow_provider_wa_phones.services import CAMS, NXCLOUD

if TYPE_CHECKING:
    import requests


def _body(request: requests.PreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytes):
        return body
    raise TypeError("only in-memory bodies can be signed: pass data= as bytes, str or a dict")


def _header(headers: Mapping[str, Any], name: str, why: str) -> str:
    value = headers.get(name)
    if value is None:
        raise ParameterError("headers", f"a {name!r} header is needed to sign the request ({why})")
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


class _FromConnection(AuthBase):
    """Signs with the auth of a connection of this provider, read (and its secrets masked) when it
    first signs: in the worker that runs the task, not when the DAG file is parsed."""

    def __init__(self, auth_class: type[AuthBase], conn_id: str) -> None:
        self._auth_class = auth_class
        self.conn_id = conn_id
        self._auth: AuthBase | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._auth is None:
            with connections.defined("conn_id", self.conn_id):
                conn = _compat.BaseHook.get_connection(connections.conn_id("conn_id", self.conn_id))
            settings_class = CamsSettings if self._auth_class is CamsAuth else NxCloudSettings
            settings = settings_class.from_connection(conn)
            for secret in settings.secrets:
                if secret:
                    _compat.mask_secret(secret)
            self._auth = for_settings(settings)
        return self._auth(request)

    def __repr__(self) -> str:
        return f"{self._auth_class.__name__}.from_connection({self.conn_id!r})"


class NxCloudAuth(AuthBase):
    """Signs an NxCloud request over the exact body bytes sent: adds ``accessKey``, a fresh ``ts``
    and ``sign`` (and ``algorithm`` when not md5). The request carries its own ``bizType`` and
    ``action`` headers (``{"bizType": "2", "action": "getPhone"}``).

    :param access_key: the connection's login.
    :param access_secret: the connection's password.
    :param algorithm: ``md5`` (default) or ``sha256``.
    """

    def __init__(self, access_key: str, access_secret: str, algorithm: str = "md5") -> None:
        self.access_key = access_key
        self._access_secret = access_secret
        self.algorithm = algorithm

    @classmethod
    def from_connection(cls, conn_id: str = NXCLOUD.default_conn_id) -> AuthBase:
        """Sign with the credentials and algorithm of the ``nxcloud`` connection ``conn_id``, read
        when the first request is signed."""
        return _FromConnection(cls, conn_id)

    def sign(self, request: Request) -> dict[str, str]:
        """The headers that sign ``request``, computed now."""
        return self._headers(request.headers, request.body)

    async def asign(self, request: Request) -> dict[str, str]:
        """:meth:`sign`, for the async hooks (NxCloud's keys are stored: nothing to wait for)."""
        return self.sign(request)

    def _headers(self, headers: Mapping[str, Any], body: bytes) -> dict[str, str]:
        why = "NxCloud signs bizType and action"
        signed = signing.nxcloud_headers(
            self.access_key,
            self._access_secret,
            _header(headers, "action", why),
            _header(headers, "bizType", why),
            body,
            self.algorithm,
        )
        # A service may quote the request it refuses: no text this process shows may hold the sign.
        redact.remember_signature(signed["sign"])
        return signed

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self._headers(request.headers, _body(request)))
        return request

    def __repr__(self) -> str:
        return f"NxCloudAuth(access_key={self.access_key!r}, algorithm={self.algorithm!r})"


class CamsAuth(AuthBase):
    """Signs an Alibaba Cloud RPC request with ACS3-HMAC-SHA256 (signature V3).

    The request carries ``x-acs-action`` and ``x-acs-version`` headers and its parameters in the
    query; the query is rewritten in its canonical form (sorted, RFC 3986) before it is signed, so
    what is signed is what is sent, whichever way the caller encoded it.

    :param access_key_id: the connection's login.
    :param access_key_secret: the connection's password.
    :param security_token: for temporary (STS) credentials.
    """

    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str | None = None) -> None:
        self.source: credentials.KeySource = credentials.StoredKeys(
            access_key_id, access_key_secret, security_token
        )

    @classmethod
    def from_source(cls, source: credentials.KeySource) -> CamsAuth:
        """Sign with the keys ``source`` holds at each request (refreshed ones included)."""
        auth = cls.__new__(cls)
        auth.source = source
        return auth

    @classmethod
    def from_connection(cls, conn_id: str = CAMS.default_conn_id) -> AuthBase:
        """Sign with the credentials (and STS token) of the ``alibaba_cams`` connection ``conn_id``,
        read when the first request is signed."""
        return _FromConnection(cls, conn_id)

    @property
    def access_key_id(self) -> str | None:
        """The AccessKey ID signed with: the stored one, or the last one fetched (None before)."""
        keys = self.source.last
        return keys.access_key_id if keys is not None else None

    def sign(self, request: Request) -> dict[str, str]:
        """The headers that sign ``request``, computed now (its query must be canonical already, as
        :meth:`airflow_provider_wa_phones.operations.cams.CamsOperation.request` builds it)."""
        return self._sign_with(self.source.current(), request)

    async def asign(self, request: Request) -> dict[str, str]:
        """:meth:`sign` for the async hooks: temporary keys are fetched without blocking the loop."""
        return self._sign_with(await self.source.current_async(), request)

    def _sign_with(self, keys: credentials.Keys, request: Request) -> dict[str, str]:
        url = urlsplit(request.url)
        return self._headers(keys, request.method, url.netloc, url.query, request.headers, request.body)

    def _headers(
        self,
        keys: credentials.Keys,
        method: str,
        host: str,
        query: str,
        headers: Mapping[str, Any],
        body: bytes,
    ) -> dict[str, str]:
        why = "Alibaba Cloud signs the operation and its version"
        signed = signing.acs3_headers(
            access_key_id=keys.access_key_id,
            access_key_secret=keys.access_key_secret,
            host=host,
            action=_header(headers, "x-acs-action", why),
            version=_header(headers, "x-acs-version", why),
            canonical_query=query,
            method=method,
            body=body,
            security_token=keys.security_token,
        )
        # A service may quote the request it refuses: no text this process shows may hold the signature.
        redact.remember_signature(signed["Authorization"].rpartition("Signature=")[2])
        return signed

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        query = signing.acs3_canonical_query(dict(parse_qsl(url.query, keep_blank_values=True)))
        request.url = urlunsplit(url._replace(query=query))
        keys = self.source.current()
        headers = self._headers(
            keys, request.method or "POST", url.netloc, query, request.headers, _body(request)
        )
        request.headers.update(headers)
        return request

    def __repr__(self) -> str:
        if isinstance(self.source, credentials.StoredKeys):
            return f"CamsAuth(access_key_id={self.access_key_id!r})"
        return f"CamsAuth(auth_type={self.source.auth_type!r}, identity={self.source.identity!r})"


@overload
def for_settings(settings: NxCloudSettings) -> NxCloudAuth: ...
@overload
def for_settings(settings: CamsSettings) -> CamsAuth: ...
def for_settings(settings: NxCloudSettings | CamsSettings) -> NxCloudAuth | CamsAuth:
    """The signing of a connection's settings, for requests (as ``session.auth``) and for the async
    hook (its :meth:`~NxCloudAuth.sign`)."""
    if isinstance(settings, CamsSettings):
        return CamsAuth.from_source(credentials.source_for(settings))
    return NxCloudAuth(settings.key, settings.secret, settings.algorithm)
