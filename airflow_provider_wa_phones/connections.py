"""What the hooks need from an Airflow connection, read and checked once, before anything is signed.

Every field is checked whole: credentials hold no whitespace or control characters, an ``extra``
must be JSON (Airflow alone would drop a broken one silently), a host must be an http(s) URL. An
error names the field and never shows a credential.
"""

from __future__ import annotations

import json
import os
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
from airflow_provider_wa_phones.services import AUTH_TYPES

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


MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43_200
DEFAULT_DURATION_SECONDS = 3600
_ROLE_ARN = re.compile(r"acs:ram::[0-9]{1,32}:role/[!-~]{1,1024}")
_OIDC_PROVIDER_ARN = re.compile(r"acs:ram::[0-9]{1,32}:oidc-provider/[!-~]{1,1024}")
_SESSION_NAME = re.compile(r"[A-Za-z0-9.@_-]{2,64}")
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9=,.@:/_+-]{2,1224}")
_ROLE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ENDPOINT = re.compile(r"([A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?")
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


def _arn(conn: str, name: str, value: Any, pattern: re.Pattern[str], shape: str) -> str:
    if not isinstance(value, str) or len(value) > 2048 or not pattern.fullmatch(value):
        raise ConnectionConfigError(
            conn, name, f"must be an ARN like {shape}, got {checks.quoted(value, 80)}"
        )
    return value


def _matching(conn: str, name: str, value: Any, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ConnectionConfigError(conn, name, f"must be {rule}, got {checks.quoted(value, 80)}")
    return value


def _path(conn: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 4096 or not checks.is_clean_text(value):
        raise ConnectionConfigError(
            conn,
            name,
            f"must be a file path (non-empty, no control characters), got {checks.quoted(value, 80)}",
        )
    return value


def _policy(conn: str, value: Any) -> str:
    """An extra ``policy``: a JSON object (or its text) of at most 1,024 characters once written,
    returned compact. The credentials library encodes a space in a signed query as ``+`` where
    Alibaba's RPC signature wants ``%20``, so a policy written with spaces would be refused with
    ``SignatureDoesNotMatch``: the policy is sent as compact JSON with no space at all."""
    text = value
    if isinstance(value, dict):
        try:
            text = json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError):
            text = None
    parsed: Any = None
    if isinstance(text, str) and len(text) <= 1024:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
    if not isinstance(parsed, dict):
        raise ConnectionConfigError(
            conn,
            "policy",
            "must be a JSON policy object of at most 1024 characters (its value is not shown here)",
        )
    # Compact and ASCII; a space left inside a string becomes the same JSON character, escaped.
    return json.dumps(parsed, separators=(",", ":")).replace(" ", "\\u0020")


def _duration(conn: str, value: Any) -> int:
    try:
        return checks.whole_number("duration_seconds", value, MIN_DURATION_SECONDS, MAX_DURATION_SECONDS)
    except ParameterError as exc:
        raise ConnectionConfigError(conn, "duration_seconds", f"{exc.rule} (seconds STS keys live)") from None


def _flag(conn: str, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise ConnectionConfigError(conn, name, f"must be true or false, got {checks.quoted(value, 80)}")


def _endpoint(conn: str, value: Any) -> str:
    """``sts_endpoint``: ``host`` or ``host:port`` (STS is always called over HTTPS)."""
    match = _ENDPOINT.fullmatch(value) if isinstance(value, str) else None
    port = int(match.group(2)[1:]) if match and match.group(2) else None
    if match is None or not _is_host_name(match.group(1)) or (port is not None and not 0 < port < 65536):
        raise ConnectionConfigError(
            conn,
            "sts_endpoint",
            "must be host or host:port, without a scheme (STS is always called over HTTPS), "
            f"got {checks.quoted(value, 80)}",
        )
    return str(value)


def _uri(conn: str, name: str, value: Any) -> str:
    """``credentials_uri``: an http(s) URL with a host, without user:password@ or a fragment."""
    ok = isinstance(value, str) and 0 < len(value) <= 2048 and _CREDENTIAL.fullmatch(value) is not None
    parts = None
    if ok:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError:
            parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not _is_host_name(parts.hostname or "")
        or "@" in parts.netloc
        or parts.fragment
    ):
        raise ConnectionConfigError(
            conn,
            name,
            "must be an http(s) URL with a host, without user:password@ or '#' (its value is not shown here)",
        )
    return str(value)


def uri_shown(uri: str) -> str:
    """A credentials URI as messages may show it: scheme, host, port and path, never its query."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class CamsSettings(ConnectionSettings):
    """An ``alibaba_cams`` connection: the ``region``, the default ``cust_space_id``, and how it gets
    its keys (``auth_type``): stored AccessKey ID and secret (login, password, an STS
    ``security_token``), or one of Alibaba Cloud's credential providers (a RAM role, RRSA/OIDC, the
    ECS instance role, a credentials URI, the default chain) with the fields each one needs.

    ``key`` and ``secret`` are the stored keys ("" when the mode has none); for ``ram_role_arn``
    they are the keys that assume the role (none: the default chain's).
    """

    security_token: str | None = field(default=None, repr=False)
    region: str = cams_ops.DEFAULT_REGION
    cust_space_id: str | None = None
    auth_type: str = "access_key"
    role_arn: str | None = None
    role_session_name: str | None = None
    external_id: str | None = field(default=None, repr=False)
    policy: str | None = field(default=None, repr=False)
    duration_seconds: int = DEFAULT_DURATION_SECONDS
    oidc_provider_arn: str | None = None
    oidc_token_file: str | None = None
    role_name: str | None = None
    credentials_uri: str | None = field(default=None, repr=False)
    sts_region: str | None = None
    sts_endpoint: str | None = None
    enable_vpc: bool | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The stored secret and STS token, and a credentials URI's query (it may carry a token)."""
        uri_query = urlsplit(self.credentials_uri).query if self.credentials_uri else ""
        return (self.secret, self.security_token or "", *([uri_query] if uri_query else []))

    @property
    def identity(self) -> str:
        """Who the keys act as, for messages (never a secret): the AccessKey ID, the role ARN, the
        credentials URI's host, or the default chain."""
        mode = self.auth_type
        if mode == "access_key":
            return f"AccessKey {self.key}"
        if mode == "ram_role_arn":
            return f"role {self.role_arn}"
        if mode == "oidc_role_arn":
            return f"role {self.role_arn} via OIDC provider {self.oidc_provider_arn}"
        if mode == "ecs_ram_role":
            return f"ECS RAM role {self.role_name}" if self.role_name else "the ECS instance's RAM role"
        if mode == "credentials_uri":
            return f"credentials URI {uri_shown(self.credentials_uri or '')}"
        return "Alibaba Cloud's default credential chain"

    @property
    def account(self) -> tuple[str, ...]:
        """A stable name for whose calls these are (base URL, mode, AccessKey ID / role ARN / role
        name / URI / connection id): what rate limits and shared polls key on, unchanged when
        temporary keys are refreshed."""
        mode = self.auth_type
        who = {
            "access_key": self.key,
            "ram_role_arn": self.role_arn,
            "oidc_role_arn": self.role_arn,
            "ecs_ram_role": self.role_name or self.conn_id,
            "credentials_uri": uri_shown(self.credentials_uri or ""),
        }.get(mode) or self.conn_id
        return (self.base_url, mode, who)

    @classmethod
    def from_connection(cls, conn: Any) -> CamsSettings:
        """Read and check the fields of an Airflow connection object.

        Credentials come from login/password, or from the ``access_key_id`` / ``access_key_secret``
        extras that connections of the ``alibaba_cloud`` type already carry, or from the provider
        ``auth_type`` names (none of them and no ``auth_type``: the default chain). Variables
        ``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` and
        ``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` are read here (when the hook reads its connection) as the
        defaults of ``oidc_role_arn``'s fields.
        """
        extra = connection_extra(conn)
        name = conn.conn_id

        def extra_value(field_name: str) -> Any:
            return extra.get(field_name, extra.get(f"extra__alibaba_cams__{field_name}"))

        def given(field_name: str) -> Any:
            value = extra_value(field_name)
            return None if value is None or value == "" else value

        mode = given("auth_type")
        if mode is not None and mode not in AUTH_TYPES:
            raise ConnectionConfigError(
                name, "auth_type", f"must be one of {', '.join(AUTH_TYPES)}, got {checks.quoted(mode, 80)}"
            )
        has_keys = any(
            value not in (None, "")
            for value in (
                conn.login,
                conn.password,
                extra_value("access_key_id"),
                extra_value("access_key_secret"),
            )
        )
        if mode is None:
            mode = "access_key" if has_keys else "default"

        key_id = key_secret = ""
        token = given("security_token")
        if token is not None:
            token = credential(name, "security_token", token, "STS security token")
        if mode == "access_key" or (mode == "ram_role_arn" and has_keys):
            use_extra_key = not conn.login and extra_value("access_key_id")
            use_extra_secret = not conn.password and extra_value("access_key_secret")
            key_id = credential(
                name,
                "access_key_id" if use_extra_key else "login",
                extra_value("access_key_id") if use_extra_key else conn.login,
                "AccessKey ID",
            )
            key_secret = credential(
                name,
                "access_key_secret" if use_extra_secret else "password",
                extra_value("access_key_secret") if use_extra_secret else conn.password,
                "AccessKey secret",
            )
        region = extra_value("region")
        region = cams_ops.DEFAULT_REGION if region is None or region == "" else region
        try:
            cams_ops.check_region(region)
        except ParameterError as exc:
            raise ConnectionConfigError(name, "region", exc.rule) from None
        space = extra_value("cust_space_id")
        if space not in (None, ""):
            try:
                cams_ops.check_cust_space_id(space, required=False)
            except ParameterError as exc:
                raise ConnectionConfigError(name, "cust_space_id", exc.rule) from None

        # Every field given is checked whatever the mode (a typo shows now, not when the mode
        # changes); the mode then says which it needs.
        role_shape = "acs:ram::<account id>:role/<role name>"
        provider_shape = "acs:ram::<account id>:oidc-provider/<provider name>"
        role_arn = given("role_arn")
        if role_arn is not None:
            role_arn = _arn(name, "role_arn", role_arn, _ROLE_ARN, role_shape)
        provider_arn = given("oidc_provider_arn")
        if provider_arn is not None:
            provider_arn = _arn(name, "oidc_provider_arn", provider_arn, _OIDC_PROVIDER_ARN, provider_shape)
        token_file = given("oidc_token_file")
        if token_file is not None:
            token_file = _path(name, "oidc_token_file", token_file)
        session_name = given("role_session_name")
        if session_name is not None:
            session_name = _matching(
                name, "role_session_name", session_name, _SESSION_NAME, "2 to 64 letters, digits or . @ _ -"
            )
        external_id = given("external_id")
        if external_id is not None:
            external_id = _matching(
                name,
                "external_id",
                external_id,
                _EXTERNAL_ID,
                "2 to 1224 letters, digits or = , . @ : / _ + -",
            )
        policy = given("policy")
        if policy is not None:
            policy = _policy(name, policy)
        duration = given("duration_seconds")
        duration = DEFAULT_DURATION_SECONDS if duration is None else _duration(name, duration)
        role_name = given("role_name")
        if role_name is not None:
            role_name = _matching(
                name, "role_name", role_name, _ROLE_NAME, "a RAM role name (letters, digits, . _ -)"
            )
        uri = given("credentials_uri")
        if uri is not None:
            uri = _uri(name, "credentials_uri", uri)
        sts_region = given("sts_region")
        if sts_region is not None:
            try:
                cams_ops.check_region(sts_region)
            except ParameterError as exc:
                raise ConnectionConfigError(name, "sts_region", exc.rule) from None
        sts_endpoint = given("sts_endpoint")
        if sts_endpoint is not None:
            sts_endpoint = _endpoint(name, sts_endpoint)
        enable_vpc = given("enable_vpc")
        if enable_vpc is not None:
            enable_vpc = _flag(name, "enable_vpc", enable_vpc)

        if mode in ("ram_role_arn", "oidc_role_arn") and role_arn is None:
            env = os.environ.get("ALIBABA_CLOUD_ROLE_ARN") if mode == "oidc_role_arn" else None
            if not env:
                where = " (or ALIBABA_CLOUD_ROLE_ARN in the environment)" if mode == "oidc_role_arn" else ""
                raise ConnectionConfigError(name, "role_arn", f"is required for auth_type {mode}{where}")
            role_arn = _arn(name, "role_arn (from ALIBABA_CLOUD_ROLE_ARN)", env, _ROLE_ARN, role_shape)
        if mode == "oidc_role_arn":
            if provider_arn is None:
                env = os.environ.get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
                if not env:
                    raise ConnectionConfigError(
                        name,
                        "oidc_provider_arn",
                        "is required for auth_type oidc_role_arn "
                        "(or ALIBABA_CLOUD_OIDC_PROVIDER_ARN in the environment)",
                    )
                provider_arn = _arn(
                    name, "oidc_provider_arn (from ALIBABA_CLOUD_OIDC_PROVIDER_ARN)", env, _OIDC_PROVIDER_ARN,
                    provider_shape,
                )  # fmt: skip
            if token_file is None:
                env = os.environ.get("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
                if not env:
                    raise ConnectionConfigError(
                        name,
                        "oidc_token_file",
                        "is required for auth_type oidc_role_arn "
                        "(or ALIBABA_CLOUD_OIDC_TOKEN_FILE in the environment)",
                    )
                token_file = _path(name, "oidc_token_file (from ALIBABA_CLOUD_OIDC_TOKEN_FILE)", env)
        if mode == "credentials_uri" and uri is None:
            raise ConnectionConfigError(name, "credentials_uri", "is required for auth_type credentials_uri")
        uses = {
            "access_key": set(),
            "ram_role_arn": {"role_arn", "role_session_name", "external_id", "policy", "sts"},
            "oidc_role_arn": {"role_arn", "role_session_name", "policy", "oidc", "sts"},
            "ecs_ram_role": {"role_name"},
            "credentials_uri": {"credentials_uri"},
            "default": set(),
        }[mode]
        return cls(
            conn_id=name,
            base_url=base_url(conn, cams_ops.endpoint_for(region)),
            key=key_id,
            secret=key_secret,
            security_token=token if mode in ("access_key", "ram_role_arn") and key_id else None,
            region=region,
            cust_space_id=space or None,
            max_answer_bytes=answer_cap(name, extra_value("max_answer_bytes")),
            auth_type=mode,
            role_arn=role_arn if "role_arn" in uses else None,
            role_session_name=session_name if "role_session_name" in uses else None,
            external_id=external_id if "external_id" in uses else None,
            policy=policy if "policy" in uses else None,
            duration_seconds=duration,
            oidc_provider_arn=provider_arn if "oidc" in uses else None,
            oidc_token_file=token_file if "oidc" in uses else None,
            role_name=role_name if "role_name" in uses else None,
            credentials_uri=uri if "credentials_uri" in uses else None,
            sts_region=sts_region if "sts" in uses else None,
            sts_endpoint=sts_endpoint if "sts" in uses else None,
            enable_vpc=enable_vpc if "sts" in uses else None,
        )
