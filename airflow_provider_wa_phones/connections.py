"""What the hooks need from an Airflow connection, read and checked once, before anything is signed.

Every field is checked whole: credentials hold no whitespace or control characters, an ``extra``
must be JSON (Airflow alone would drop a broken one silently), a host must be an http(s) URL. An
error names the field and never shows a credential.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_wa_phones import checks, signing
from airflow_provider_wa_phones.exceptions import ConnectionConfigError, ParameterError
from airflow_provider_wa_phones.operations import base as operations_base
from airflow_provider_wa_phones.operations import cams as cams_ops
from airflow_provider_wa_phones.operations import nxcloud as nxcloud_ops

_CONN_ID = re.compile(r"[A-Za-z0-9_.\-]{1,250}")
_CREDENTIAL = re.compile(r"[!-~]+")  # visible ASCII: keys, secrets and STS tokens never hold spaces


def conn_id(param: str, value: Any) -> str:
    """An Airflow connection id (letters, digits, ``_ . -``, at most 250 characters)."""
    return checks.text(
        param, value, max_length=250, pattern=_CONN_ID, rule="a connection id (letters, digits, _ . -)"
    )


def credential(conn: str, name: str, value: Any, what: str) -> str:
    """A key, secret or token from a connection: visible ASCII without spaces. The error names the
    field and never shows the value (it is a secret, or next to one)."""
    if not isinstance(value, str) or not value:
        raise ConnectionConfigError(conn, name, f"the {what} is empty")
    if len(value) > 4096 or not _CREDENTIAL.fullmatch(value):
        raise ConnectionConfigError(
            conn,
            name,
            f"the {what} holds spaces, line breaks, control or non-ASCII characters; copy it again "
            "without them (its value is not shown here)",
        )
    return value


def connection_extra(conn: Any) -> dict[str, Any]:
    """The connection's extra fields. Airflow silently reads an extra that is not valid JSON as no
    extra at all (the appkey, region and STS token then vanish); here it is an error."""
    raw = getattr(conn, "extra", None)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        extra = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        extra = None
    if not isinstance(extra, dict):
        raise ConnectionConfigError(
            conn.conn_id,
            "extra",
            'must be a JSON object of named fields, e.g. {"appkey": "..."} (its value is not shown here)',
        )
    return extra


def base_url(conn: Any, default: str) -> str:
    """``scheme://host[:port]`` from a connection's host (a URL, or a bare host with the schema
    field as the scheme, https when empty) and port; ``default`` when host is empty.

    The host names where to send and nothing more: a path, a query (``?``), a fragment (``#``: it
    would cut every CAMS query parameter off) or a ``user:password@`` is refused, as is port 0. The
    scheme is http or https in any case (``HTTP://`` is read as ``http://``). An error never shows
    a user name or password a host holds.
    """
    host = conn.host
    if host is None or host == "":
        return default
    # The whole value: a host of spaces or one ending in a newline is a typo, not "the default".
    if not isinstance(host, str) or len(host) > 2048 or not _CREDENTIAL.fullmatch(host):
        raise ConnectionConfigError(
            conn.conn_id, "host", f"must be a URL or host name, got {checks.quoted(_without_userinfo(host))}"
        )
    shown = checks.quoted(_without_userinfo(host))
    if "@" in host:
        raise ConnectionConfigError(
            conn.conn_id,
            "host",
            "must not hold a user name or password (user:password@); the credentials go in the login "
            "and password fields (the value is not shown here)",
        )
    url = host
    if "://" in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme.lower()}://{rest}"
    else:
        scheme = conn.schema or "https"
        if not isinstance(scheme, str) or scheme.lower() not in ("http", "https"):
            raise ConnectionConfigError(
                conn.conn_id,
                "schema",
                f"must be http or https (or empty for https), got {checks.quoted(scheme)}",
            )
        url = f"{scheme.lower()}://{url}"
    if "?" in url or "#" in url:
        raise ConnectionConfigError(
            conn.conn_id,
            "host",
            f"must be scheme://host[:port] without a query or fragment ('?', '#'), got {shown}",
        )
    try:
        parts = urlsplit(url)
        port_in_host = parts.port
    except ValueError:
        raise ConnectionConfigError(conn.conn_id, "host", f"is not a valid URL: {shown}") from None
    if (
        parts.scheme not in ("http", "https")
        or parts.netloc.endswith(":")
        or not _is_host_name(parts.hostname or "")
    ):
        raise ConnectionConfigError(
            conn.conn_id, "host", f"must be an http(s) URL or a host name, got {shown}"
        )
    if parts.path.strip("/"):
        raise ConnectionConfigError(
            conn.conn_id,
            "host",
            f"must be scheme://host[:port] without a path (the service's paths are added to it), got {shown}",
        )
    if port_in_host == 0:
        raise ConnectionConfigError(conn.conn_id, "host", f"port must be 1 to 65535, got 0 in {shown}")
    url = f"{parts.scheme}://{parts.netloc}"
    port = conn.port
    if port not in (None, "", 0) and port_in_host is None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConnectionConfigError(
                conn.conn_id, "port", f"must be 1 to 65535, got {checks.quoted(port)}"
            )
        url = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}", path=""))
    return url


def _without_userinfo(host: Any) -> Any:
    """``host`` with any ``user:password@`` replaced by ``***@``, for messages."""
    if not isinstance(host, str) or "@" not in host:
        return host
    return re.sub(r"^([^/]*//)?[^/]*@", lambda m: (m.group(1) or "") + "***@", host)


_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ADDRESS = re.compile(r"[0-9A-Fa-f:.]+")


def _is_host_name(name: str) -> bool:
    """A DNS name (labels of 1 to 63 letters, digits and inner hyphens, at most 253 in all) or an
    IP address."""
    if _ADDRESS.fullmatch(name) and any(char in name for char in ".:"):
        return True
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.rstrip(".").split("."))


def missing_connection(conn: str, param: str = "conn_id") -> Exception:
    """The error for a connection id that no backend defines; ``param`` is the argument that named it."""
    return ConnectionConfigError(
        conn,
        param,
        "is not defined: add it under Admin > Connections, as AIRFLOW_CONN_<ID> or in a secrets backend",
    )


def is_missing_connection(exc: BaseException) -> bool:
    """Whether ``exc`` is Airflow saying a connection id is not defined (its class moved between
    Airflow versions, so it is recognised by name)."""
    return type(exc).__name__ == "AirflowNotFoundException"


@contextmanager
def defined(param: str, conn: str) -> Iterator[None]:
    """Around reading connection ``conn`` (named by the argument ``param``): a connection no backend
    defines is a ConnectionConfigError that says where to define it."""
    try:
        yield
    except Exception as exc:
        if is_missing_connection(exc):
            raise missing_connection(conn, param) from None
        raise


def answer_cap(conn: str, value: Any) -> int | None:
    """The ``max_answer_bytes`` extra: None when unset, else a whole number of bytes within the
    bounds the hooks' option has (JSON numbers or their decimal text)."""
    if value is None or value == "":
        return None
    try:
        return checks.whole_number(
            "max_answer_bytes", value, operations_base.MIN_ANSWER_BYTES, operations_base.MAX_ANSWER_BYTES
        )
    except ParameterError as exc:
        raise ConnectionConfigError(conn, "max_answer_bytes", exc.rule) from None


@dataclass(frozen=True)
class ConnectionSettings:
    """What every hook needs from its connection, checked once: where to send (``base_url``:
    scheme, host and port) and the credential pair (``key``: the login, ``secret``: the password)."""

    conn_id: str
    base_url: str
    key: str
    secret: str = field(repr=False)
    #: The ``max_answer_bytes`` extra (None: not set); a hook's own option wins over it.
    max_answer_bytes: int | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The credential values no text may show."""
        return (self.secret,)


@dataclass(frozen=True)
class NxCloudSettings(ConnectionSettings):
    """An ``nxcloud`` connection: access key and secret, the default ``appkey`` and the signing
    ``algorithm``."""

    appkey: str | None = None
    algorithm: str = "md5"

    @classmethod
    def from_connection(cls, conn: Any) -> NxCloudSettings:
        """Read and check the fields of an Airflow connection object.

        Every field is checked here, before anything is signed: an error names the field and never
        shows a credential.
        """
        extra = connection_extra(conn)

        def extra_value(name: str) -> Any:
            # The connection form stores conn-fields under their own name; older tooling prefixes them.
            return extra.get(name, extra.get(f"extra__nxcloud__{name}"))

        access_key = credential(conn.conn_id, "login", conn.login, "NxCloud access key")
        secret = credential(conn.conn_id, "password", conn.password, "NxCloud access secret")
        algorithm = extra_value("sign_algorithm")
        algorithm = "md5" if algorithm is None or algorithm == "" else algorithm
        algorithm = algorithm.lower() if isinstance(algorithm, str) else algorithm
        if not isinstance(algorithm, str) or algorithm not in signing.NXCLOUD_ALGORITHMS:
            raise ConnectionConfigError(
                conn.conn_id, "sign_algorithm", f"must be md5 or sha256, got {checks.quoted(algorithm)}"
            )
        appkey = extra_value("appkey")
        if appkey not in (None, ""):
            try:
                nxcloud_ops.check_appkey(appkey)
            except ParameterError:
                raise ConnectionConfigError(
                    conn.conn_id,
                    "appkey",
                    "must be a non-empty string without spaces or control characters, "
                    f"got {checks.quoted(appkey)}",
                ) from None
        return cls(
            conn_id=conn.conn_id,
            base_url=base_url(conn, nxcloud_ops.DEFAULT_HOST),
            key=access_key,
            secret=secret,
            appkey=appkey or None,
            algorithm=algorithm,
            max_answer_bytes=answer_cap(conn.conn_id, extra_value("max_answer_bytes")),
        )


@dataclass(frozen=True)
class CamsSettings(ConnectionSettings):
    """An ``alibaba_cams`` connection: AccessKey ID and secret, an STS ``security_token`` for
    temporary credentials, the ``region`` and the default ``cust_space_id``."""

    security_token: str | None = field(default=None, repr=False)
    region: str = cams_ops.DEFAULT_REGION
    cust_space_id: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.secret, self.security_token or "")

    @classmethod
    def from_connection(cls, conn: Any) -> CamsSettings:
        """Read and check the fields of an Airflow connection object.

        Credentials come from login/password, or from the ``access_key_id`` / ``access_key_secret``
        extras that connections of the ``alibaba_cloud`` type already carry.
        """
        extra = connection_extra(conn)

        def extra_value(name: str) -> Any:
            return extra.get(name, extra.get(f"extra__alibaba_cams__{name}"))

        use_extra_key = not conn.login and extra_value("access_key_id")
        use_extra_secret = not conn.password and extra_value("access_key_secret")
        key_id = credential(
            conn.conn_id,
            "access_key_id" if use_extra_key else "login",
            extra_value("access_key_id") if use_extra_key else conn.login,
            "AccessKey ID",
        )
        key_secret = credential(
            conn.conn_id,
            "access_key_secret" if use_extra_secret else "password",
            extra_value("access_key_secret") if use_extra_secret else conn.password,
            "AccessKey secret",
        )
        token = extra_value("security_token")
        if token not in (None, ""):
            token = credential(conn.conn_id, "security_token", token, "STS security token")
        region = extra_value("region")
        region = cams_ops.DEFAULT_REGION if region is None or region == "" else region
        try:
            cams_ops.check_region(region)
        except ParameterError as exc:
            raise ConnectionConfigError(conn.conn_id, "region", exc.rule) from None
        space = extra_value("cust_space_id")
        if space not in (None, ""):
            try:
                cams_ops.check_cust_space_id(space, required=False)
            except ParameterError as exc:
                raise ConnectionConfigError(conn.conn_id, "cust_space_id", exc.rule) from None
        return cls(
            conn_id=conn.conn_id,
            base_url=base_url(conn, cams_ops.endpoint_for(region)),
            key=key_id,
            secret=key_secret,
            security_token=token or None,
            region=region,
            cust_space_id=space or None,
            max_answer_bytes=answer_cap(conn.conn_id, extra_value("max_answer_bytes")),
        )
