"""STS state and rules: roles, the OIDC provider and its tokens, the keys handed out, their lifetime
and outages. No HTTP here; failures raise :class:`~airflow_provider_wa_phones.sandbox.cams.models.CamsError`
(the gateway error of every Alibaba RPC API) with STS's codes.

Keys handed out (by AssumeRole, AssumeRoleWithOIDC, the credentials URI and the ECS metadata
service) are added to the CAMS backend's AccessKeys with their security token and expiry, so CAMS
accepts them until they expire (on the sandbox's wall clock) and answers
``InvalidSecurityToken.Expired`` afterwards.

Error codes (HTTP status) and where they come from (``docs/sts-sources.md`` in the docs
has the URLs). "Assumed" marks what no page we found states:

* ``EntityNotExist.Role`` (404): code and message from the ACK "Use RRSA" page (SDK errors
  table); the status is assumed.
* ``NoPermission`` (403): code from STS's "AssumeRole common errors" page; status assumed.
* ``AuthenticationFail.NoPermission`` (400): code and both messages (unknown provider, role not
  trusting it) from the ACK "Use RRSA" page; status assumed.
* ``AuthenticationFail.OIDCToken.Expired`` and ``.IssuerNotMatch`` (400): code and message from
  the ACK "Use RRSA" page; status assumed.
* ``AuthenticationFail.OIDCToken.Invalid`` (400): the code real STS answers a bogus token in the
  official credentials SDKs' integration tests; message and status assumed.
* ``InvalidParameter.DurationSeconds`` and ``.RoleSessionName`` (400): code and message from STS's
  "AssumeRole common errors" page; status assumed.
* ``MissingParameter`` (400) and ``ServiceUnavailable`` (503, the outage control): Alibaba's
  common gateway codes, assumed for STS.

The source-key checks (``InvalidAccessKeyId.NotFound`` 404, ``InvalidAccessKeyId.Inactive``,
``MissingSecurityToken``, ``InvalidSecurityToken.*``, ``SignatureDoesNotMatch``,
``InvalidTimeStamp.*``, ``SignatureNonceUsed``, all HTTP 400 but the first) are the common gateway
codes the CAMS side already answers (``shared/contracts/cams/errors.json``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.cams.models import AccessKey, CamsBackend, CamsError, NonceStore

API_VERSION = "2015-04-01"
ACTIONS = ("AssumeRole", "AssumeRoleWithOIDC")
HOST_ID = "sts.aliyuncs.com"
MIN_DURATION_SECONDS = 900
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: The credential services an outage can take down: STS, the credentials URI, the ECS metadata.
SERVICES = ("sts", "credentials_uri", "ecs_metadata")
#: The ECS metadata service's longest token (the header X-aliyun-ecs-metadata-token-ttl-seconds).
ECS_TOKEN_MAX_TTL = 21600
_SESSION_NAME_RE = re.compile(r"[A-Za-z0-9.@_-]{2,64}")
#: At most this many handed-out keys are remembered (CAMS forgets the oldest beyond it): with short
#: lifetimes a client refreshes on every call, and the sandbox runs inside long test suites.
MAX_ISSUED = 100_000
_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class WallClock(Protocol):
    """The sandbox clock an STS backend reads."""

    def wall_time(self) -> float:
        """Seconds since the epoch as the server sees them (real time plus the set offset)."""
        ...


@dataclass(frozen=True)
class Role:
    """A RAM role: who may assume it (accounts by AssumeRole, OIDC providers by AssumeRoleWithOIDC)."""

    arn: str
    account_id: str
    trusted_accounts: tuple[str, ...] = ()
    trusted_oidc_providers: tuple[str, ...] = ()
    max_session_duration: int = data.STS_MAX_SESSION_DURATION

    @property
    def name(self) -> str:
        """The role's name, the part of its ARN after ``role/``."""
        return self.arn.rpartition("role/")[2]


@dataclass(frozen=True)
class IssuedCredentials:
    """One set of temporary keys handed out, and when they expire (server wall clock, whole seconds)."""

    access_key_id: str
    access_key_secret: str
    security_token: str
    expires_at: int

    @property
    def expiration(self) -> str:
        """``Expiration`` as STS writes it: ``%Y-%m-%dT%H:%M:%SZ`` in UTC."""
        return format_time(self.expires_at)


def format_time(seconds: float) -> str:
    """Seconds since the epoch as STS writes times (UTC, whole seconds)."""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime(EXPIRATION_FORMAT)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StsBackend:
    """The emulated STS, credentials URI and ECS metadata service of one sandbox. Thread-safe.

    ``lifetime`` (seconds) is how long every key handed out lives, whatever DurationSeconds asked
    (which is still validated); None: DurationSeconds (3600 s for the URI and the metadata service).
    """

    def __init__(
        self,
        clock: WallClock,
        cams: CamsBackend,
        lifetime: float | None = None,
        ecs_hardened: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._cams = cams
        self._configured_lifetime = _checked_lifetime(lifetime)
        self._configured_hardened = ecs_hardened
        self.monotonic = monotonic
        self._lock = threading.RLock()
        self._nonces = NonceStore()
        self.reset()

    def reset(self) -> None:
        """Seed roles and provider again; no outage; lifetime and hardening as configured."""
        with self._lock:
            self.roles = {role["arn"]: Role(**role) for role in data.STS_ROLES}
            self.oidc_providers = {data.STS_OIDC_PROVIDER_ARN: data.STS_OIDC_ISSUER}
            # A fresh signing key: tokens of an earlier run (or sandbox) are not this IdP's.
            self._oidc_key = secrets.token_bytes(32)
            self.lifetime = self._configured_lifetime
            self.ecs_hardened = self._configured_hardened
            self.down: set[str] = set()
            self._ecs_tokens: dict[str, float] = {}
            self.issued: deque[IssuedCredentials] = deque()
        self._nonces.clear()

    # --- controls --------------------------------------------------------------------------------

    def set_lifetime(self, seconds: float | None) -> None:
        """Every key handed out from now on lives ``seconds`` (None: what the request asked)."""
        self.lifetime = _checked_lifetime(seconds)

    def set_outage(self, down: bool, services: Iterable[str] | None = None) -> None:
        """Take ``services`` (all of :data:`SERVICES` when None) down (HTTP 503) or bring them back."""
        chosen = set(SERVICES if services is None else services)
        unknown = chosen - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown service(s) {sorted(unknown)}; choose from {', '.join(SERVICES)}")
        with self._lock:
            if down:
                self.down |= chosen
            else:
                self.down -= chosen

    def check_up(self, service: str) -> None:
        """Raise the outage's ServiceUnavailable if ``service`` is down."""
        if service in self.down:
            raise CamsError(
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
                503,
            )

    def use_nonce(self, key_id: str, nonce: str) -> bool:
        """Record a signature nonce; False if this key used it within the last 15 minutes."""
        return self._nonces.use(key_id, nonce, self.monotonic())

    # --- OIDC tokens -----------------------------------------------------------------------------

    def issue_oidc_token(
        self,
        lifetime: float = 3600.0,
        subject: str = data.STS_OIDC_SUBJECT,
        provider_arn: str = data.STS_OIDC_PROVIDER_ARN,
        audience: str = data.STS_OIDC_AUDIENCE,
    ) -> str:
        """A signed JWT from the provider's issuer, valid ``lifetime`` seconds of the server's clock
        (negative: already expired). Write it into the token file a client reads."""
        now = self._clock.wall_time()
        issuer = self.oidc_providers.get(provider_arn, f"https://{provider_arn.rpartition('/')[2]}.invalid")
        header = {"alg": "HS256", "typ": "JWT", "kid": "sandbox"}
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "iat": int(now),
            "exp": math.floor(now + lifetime),
            "jti": secrets.token_hex(8),
        }
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        return f"{signing_input}.{self._oidc_signature(signing_input)}"

    def _oidc_signature(self, signing_input: str) -> str:
        return _b64url(hmac.new(self._oidc_key, signing_input.encode(), hashlib.sha256).digest())

    def _oidc_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token this sandbox's IdP signed, or AuthenticationFail.OIDCToken.Invalid."""
        parts = token.strip().split(".")
        invalid = CamsError("AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid.")
        if len(parts) != 3:
            raise invalid
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._oidc_signature(signing_input).encode(), parts[2].encode()):
            raise invalid
        try:
            claims = json.loads(_b64url_decode(parts[1]))
        except ValueError:
            raise invalid from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise invalid
        return claims

    # --- STS operations --------------------------------------------------------------------------

    def assume_role(self, source: AccessKey, params: Mapping[str, str]) -> dict[str, Any]:
        """AssumeRole for the (already authenticated) ``source`` key."""
        role = self._role(_required(params, "RoleArn"))
        session = _session_name(params)
        duration = _duration(params, role)
        if source.account_id not in role.trusted_accounts:
            raise CamsError(
                "NoPermission",
                f"You are not authorized to do this action. No permission perform sts:AssumeRole on this "
                f"Role: {role.arn}.",
                403,
            )
        return self._answer(role, session, duration)

    def assume_role_with_oidc(self, params: Mapping[str, str]) -> dict[str, Any]:
        """AssumeRoleWithOIDC: no signature, the OIDC token proves who asks."""
        provider_arn = _required(params, "OIDCProviderArn")
        role_arn = _required(params, "RoleArn")
        token = _required(params, "OIDCToken")
        session = _session_name(params)
        issuer = self.oidc_providers.get(provider_arn)
        if issuer is None:
            raise CamsError("AuthenticationFail.NoPermission", "No such OIDC Provider registered.")
        claims = self._oidc_claims(token)
        if claims.get("iss") != issuer:
            raise CamsError(
                "AuthenticationFail.OIDCToken.IssuerNotMatch",
                "The issuer in the OIDC Token doesn't match the OIDC Provider registered.",
            )
        if self._clock.wall_time() >= claims["exp"]:
            raise CamsError("AuthenticationFail.OIDCToken.Expired", "This JsonWebToken is expired.")
        role = self._role(role_arn)
        duration = _duration(params, role)
        if provider_arn not in role.trusted_oidc_providers:
            raise CamsError("AuthenticationFail.NoPermission", "There is no permission")
        answer = self._answer(role, session, duration)
        answer["OIDCTokenInfo"] = {
            "Subject": str(claims.get("sub", "")),
            "Issuer": issuer,
            "ClientIds": str(claims.get("aud", "")),
            "IssuanceTime": format_time(int(claims.get("iat", 0))),
            "ExpirationTime": format_time(claims["exp"]),
            "VerificationInfo": "Success",
        }
        return answer

    def _role(self, arn: str) -> Role:
        role = self.roles.get(arn)
        if role is None:
            raise CamsError("EntityNotExist.Role", f"The role not exists: {arn}.", 404)
        return role

    def _answer(self, role: Role, session: str, duration: int) -> dict[str, Any]:
        credentials = self.issue(role.account_id, duration)
        role_id = str(int(hashlib.sha256(role.arn.encode()).hexdigest()[:15], 16))
        return {
            "AssumedRoleUser": {
                "AssumedRoleId": f"{role_id}:{session}",
                "Arn": f"acs:ram::{role.account_id}:assumed-role/{role.name}/{session}",
            },
            "Credentials": _credentials_json(credentials),
            "SourceIdentity": "",
        }

    # --- keys ------------------------------------------------------------------------------------

    def issue(self, account_id: str = data.STS_ACCOUNT_ID, duration: float = 3600) -> IssuedCredentials:
        """New temporary keys of ``account_id``, living :attr:`lifetime` (or ``duration``) seconds,
        accepted by CAMS with their security token until then."""
        lifetime = duration if self.lifetime is None else self.lifetime
        credentials = IssuedCredentials(
            access_key_id=f"STS.{_random_text(24)}",
            access_key_secret=_random_text(40),
            security_token=f"CAIS{_random_text(120)}",
            expires_at=math.floor(self._clock.wall_time() + lifetime),
        )
        self._cams.add_access_key(
            AccessKey(
                key_id=credentials.access_key_id,
                secret=credentials.access_key_secret,
                account_id=account_id,
                security_token=credentials.security_token,
                token_expires_at=float(credentials.expires_at),
            )
        )
        with self._lock:
            self.issued.append(credentials)
            while len(self.issued) > MAX_ISSUED:
                self._cams.remove_access_key(self.issued.popleft().access_key_id)
        return credentials

    def service_credentials(self, service: str) -> dict[str, Any]:
        """The answer of the credentials URI or the metadata service: fresh keys, ``Code: Success``."""
        self.check_up(service)
        credentials = self.issue()
        return {
            "Code": "Success",
            **_credentials_json(credentials),
            "LastUpdated": format_time(self._clock.wall_time()),
        }

    # --- ECS metadata tokens ---------------------------------------------------------------------

    def ecs_token(self, ttl_header: str | None) -> str:
        """A metadata token for ``PUT /latest/api/token``; ValueError if the TTL header is not 1..21600."""
        self.check_up("ecs_metadata")
        try:
            ttl = int(ttl_header or "")
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= ECS_TOKEN_MAX_TTL:
            raise ValueError(
                "X-aliyun-ecs-metadata-token-ttl-seconds must be a whole number from 1 to "
                f"{ECS_TOKEN_MAX_TTL}"
            )
        token = _random_text(48)
        with self._lock:
            self._ecs_tokens[token] = self._clock.wall_time() + ttl
        return token

    def ecs_token_valid(self, token: str | None) -> bool:
        """Whether ``token`` is a metadata token this service issued that has not expired."""
        if not token:
            return False
        with self._lock:
            expires = self._ecs_tokens.get(token)
        return expires is not None and self._clock.wall_time() < expires


def _random_text(length: int) -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def _credentials_json(credentials: IssuedCredentials) -> dict[str, str]:
    return {
        "AccessKeyId": credentials.access_key_id,
        "AccessKeySecret": credentials.access_key_secret,
        "SecurityToken": credentials.security_token,
        "Expiration": credentials.expiration,
    }


def _checked_lifetime(seconds: float | None) -> float | None:
    if seconds is not None and not 0 < seconds < 10**9:
        raise ValueError(f"an STS lifetime must be a positive number of seconds, got {seconds!r}")
    return None if seconds is None else float(seconds)


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "")
    if not value:
        raise CamsError(
            "MissingParameter",
            f"The input parameter {name} that is mandatory for processing this request is not supplied.",
        )
    return value


def _session_name(params: Mapping[str, str]) -> str:
    name = _required(params, "RoleSessionName")
    if not _SESSION_NAME_RE.fullmatch(name):
        raise CamsError(
            "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed."
        )
    return name


def _duration(params: Mapping[str, str], role: Role) -> int:
    text = params.get("DurationSeconds", "3600")
    try:
        duration = int(text)
    except ValueError:
        duration = -1
    if not MIN_DURATION_SECONDS <= duration <= role.max_session_duration:
        raise CamsError(
            "InvalidParameter.DurationSeconds",
            f"The Min/Max value of DurationSeconds is 15min/{role.max_session_duration // 3600}hr.",
        )
    return duration
