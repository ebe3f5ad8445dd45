"""CAMS state and rules: accounts, AccessKeys, spaces, phones, business profiles, nonces and throttling.

No HTTP here. The gateway checks that follow a valid signature (:func:`check_api`,
:meth:`CamsBackend.use_nonce`, :meth:`CamsBackend.admit`) and the two operations raise
:class:`CamsError`; an operation otherwise returns the response body without its ``RequestId``.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_wa_phones.sandbox import data

API_VERSION = "2020-06-06"
ACTIONS = ("QueryChatappPhoneNumbers", "QueryPhoneBusinessProfile")
HOST_ID = f"cams.{data.CAMS_REGION}.aliyuncs.com"
RECOMMEND_URL = "https://api.alibabacloud.com/troubleshoot"
DEFAULT_RATE_LIMIT = 10
RATE_WINDOW_SECONDS = 1.0
# Throttled clients are told to wait this long: x-acs-retry-after is in milliseconds, as Alibaba's
# official SDKs read it (and cap it at 120,000).
RETRY_AFTER_MS = 1000
NONCE_TTL_SECONDS = 15 * 60
DEFAULT_NONCE_CAPACITY = 100_000

PHONE_FIELDS = (
    "PhoneNumber",
    "VerifiedName",
    "Status",
    "QualityRating",
    "CodeVerificationStatus",
    "NameStatus",
    "NewNameStatus",
    "MessagingLimitTier",
    "StatusCallbackUrl",
    "UpCallbackUrl",
    "StatusQueue",
    "UpQueue",
    "IsOfficial",
    "CallingConfigure",
)
PROFILE_FIELDS = ("Address", "Description", "Vertical", "Email", "ProfilePictureUrl", "Websites", "About")


class CamsError(Exception):
    """A failure as the service reports it.

    ``status`` 200 marks a business failure (an envelope with ``Success: false``); any other status is
    a gateway error. ``headers`` go on the response, ``details`` into the error body.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = dict(headers or {})
        self.details = dict(details or {})

    @property
    def is_business_failure(self) -> bool:
        """True when the service answers HTTP 200 with ``Code != "OK"``."""
        return self.status == 200


class Clock(Protocol):
    """The sandbox clock a backend reads."""

    def elapsed(self) -> float:
        """Virtual seconds since the sandbox started (drives phone timelines)."""
        ...


@dataclass(frozen=True)
class CamsAccount:
    """An Alibaba Cloud account: whether it subscribed to CAMS and the space used when none is named."""

    account_id: str
    subscribed: bool = True
    default_space_id: str | None = None


@dataclass(frozen=True)
class AccessKey:
    """An AccessKey pair of an account. STS keys carry their security token.

    ``actions`` None means every operation (the account's own key); otherwise the operations a RAM
    policy grants.
    """

    key_id: str
    secret: str
    account_id: str
    security_token: str | None = None
    actions: frozenset[str] | None = None
    active: bool = True  # a disabled key answers InvalidAccessKeyId.Inactive
    token_expires_at: float | None = None  # STS: the token's expiry on the server's wall clock

    def allows(self, action: str) -> bool:
        """Whether this key may call ``action``."""
        return self.actions is None or action in self.actions


@dataclass(frozen=True)
class Space:
    """A customer space (CustSpaceId) owned by one account."""

    space_id: str
    account_id: str


@dataclass
class CamsPhone:
    """A WhatsApp number in a space; its fields follow a timeline on the virtual clock."""

    phone_number: str
    space_id: str
    timeline: list[tuple[float, dict[str, Any]]]
    profile: dict[str, Any] = field(default_factory=dict)

    def fields_at(self, t: float) -> dict[str, Any]:
        """The phone's API fields at virtual time ``t``: timeline entries up to ``t`` applied in order."""
        fields: dict[str, Any] = {}
        for start, overrides in sorted(self.timeline, key=lambda entry: entry[0]):
            if start > t:
                break
            fields.update(overrides)
        return fields


class NonceStore:
    """Signature nonces seen per AccessKey in the last ``ttl`` seconds, at most ``capacity`` of them.

    When full, the oldest entry goes first even if unexpired: memory stays bounded under a flood of
    requests, at the price of accepting a replay that old.
    """

    def __init__(self, ttl: float = NONCE_TTL_SECONDS, capacity: int = DEFAULT_NONCE_CAPACITY) -> None:
        if ttl <= 0 or capacity < 1:
            raise ValueError("ttl must be > 0 and capacity >= 1")
        self.ttl = float(ttl)
        self.capacity = capacity
        # Insertion order is expiry order, because ``now`` comes from a monotonic clock.
        self._expires: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def use(self, key_id: str, nonce: str, now: float) -> bool:
        """Record ``nonce`` for ``key_id`` at ``now``; False if it was already used within the TTL."""
        entry = (key_id, nonce)
        with self._lock:
            while self._expires and next(iter(self._expires.values())) <= now:
                self._expires.popitem(last=False)
            if entry in self._expires:
                return False
            self._expires[entry] = now + self.ttl
            if len(self._expires) > self.capacity:
                self._expires.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._expires)

    def clear(self) -> None:
        """Forget every nonce."""
        with self._lock:
            self._expires.clear()


class SlidingWindowThrottle:
    """At most ``limit`` accepted requests per bucket in any window of ``window`` seconds.

    Only accepted requests count: a throttled one does not push the window further out. ``limit``
    None (or 0) disables throttling.
    """

    def __init__(self, limit: int | None = DEFAULT_RATE_LIMIT, window: float = RATE_WINDOW_SECONDS) -> None:
        if window <= 0:
            raise ValueError(f"window must be > 0, got {window}")
        self.window = float(window)
        self._arrivals: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()
        self.limit = limit

    @property
    def limit(self) -> int | None:
        """Accepted requests allowed per window and bucket, or None when unlimited."""
        return self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"the rate limit must be a non-negative integer or None, got {value!r}")
        with self._lock:
            self._limit = value or None
            self._arrivals.clear()

    def admit(self, bucket: Hashable, now: float) -> bool:
        """Whether a request arriving at ``now`` in ``bucket`` is accepted (and then counted)."""
        with self._lock:
            if self._limit is None:
                return True
            arrivals = self._arrivals.setdefault(bucket, deque())
            while arrivals and arrivals[0] <= now - self.window:
                arrivals.popleft()
            if len(arrivals) >= self._limit:
                return False
            arrivals.append(now)
            return True

    def clear(self) -> None:
        """Forget every arrival."""
        with self._lock:
            self._arrivals.clear()


def check_api(version: str, action: str) -> None:
    """Raise the gateway's error unless ``action`` is an operation of API version ``version``."""
    if version != API_VERSION:
        raise CamsError("InvalidVersion", "Specified parameter Version is not valid.", 400)
    if action not in ACTIONS:
        raise CamsError(
            "InvalidAction.NotFound", "Specified api is not found, please check your url and method.", 404
        )


class CamsBackend:
    """The emulated CAMS service for one sandbox. Thread-safe; ``reset()`` restores the seed.

    ``monotonic`` is the real clock that measures the rate-limit window and nonce expiry; tests
    replace it (constructor or attribute) instead of sleeping.
    """

    def __init__(
        self,
        clock: Clock,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        monotonic: Callable[[], float] = time.monotonic,
        nonce_capacity: int = DEFAULT_NONCE_CAPACITY,
    ) -> None:
        self._clock = clock
        self.monotonic = monotonic
        self._configured_rate_limit = rate_limit
        self._throttle = SlidingWindowThrottle(rate_limit)
        self._nonces = NonceStore(capacity=nonce_capacity)
        #: With a number of seconds, every number's timeline starts over that often (long-running mode).
        self.timeline_cycle: float | None = None
        self._lock = threading.RLock()
        self.reset()

    # --- setup -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Reload the seed; forget nonces and arrivals; the rate limit back to the configured one."""
        with self._lock:
            self._accounts: dict[str, CamsAccount] = {}
            self._keys: dict[str, AccessKey] = {}
            self._spaces: dict[str, Space] = {}
            self._phones: dict[str, CamsPhone] = {}
            for account in data.CAMS_ACCOUNTS:
                self.add_account(CamsAccount(**account))
            for key in data.CAMS_ACCESS_KEYS:
                actions = key["actions"]
                self.add_access_key(
                    AccessKey(**{**key, "actions": None if actions is None else frozenset(actions)})
                )
            for space in data.CAMS_SPACES:
                self.add_space(Space(**space))
            for phone in data.CAMS_PHONES:
                self.add_phone(
                    CamsPhone(
                        phone_number=phone["phone_number"],
                        space_id=phone["space_id"],
                        timeline=copy.deepcopy(list(phone["timeline"])),
                        profile=copy.deepcopy(phone["profile"]),
                    )
                )
        self._nonces.clear()
        self._throttle.limit = self._configured_rate_limit

    def add_account(self, account: CamsAccount) -> None:
        """Add or replace an account."""
        with self._lock:
            self._accounts[account.account_id] = account

    def add_access_key(self, key: AccessKey) -> None:
        """Add or replace an AccessKey; its account must exist."""
        with self._lock:
            if key.account_id not in self._accounts:
                raise ValueError(f"unknown account {key.account_id!r}")
            self._keys[key.key_id] = key

    def remove_access_key(self, key_id: str) -> None:
        """Forget an AccessKey (the emulated STS drops its oldest handed-out keys); no error if unknown."""
        with self._lock:
            self._keys.pop(key_id, None)

    def add_space(self, space: Space) -> None:
        """Add or replace a space; its account must exist."""
        with self._lock:
            if space.account_id not in self._accounts:
                raise ValueError(f"unknown account {space.account_id!r}")
            self._spaces[space.space_id] = space

    def add_phone(self, phone: CamsPhone) -> None:
        """Add or replace a phone; its space must exist."""
        with self._lock:
            if phone.space_id not in self._spaces:
                raise ValueError(f"unknown space {phone.space_id!r}")
            self._phones[phone.phone_number] = phone

    def find_access_key(self, key_id: str) -> AccessKey | None:
        """The AccessKey with this id, or None."""
        with self._lock:
            return self._keys.get(key_id)

    def phone(self, phone_number: str) -> CamsPhone:
        """The phone with these digits (KeyError if unknown)."""
        with self._lock:
            return self._phones[phone_number]

    @property
    def rate_limit(self) -> int | None:
        """Accepted requests per AccessKey and action in any 1-second window; None when unlimited."""
        return self._throttle.limit

    @rate_limit.setter
    def rate_limit(self, value: int | None) -> None:
        self._throttle.limit = value

    # --- gateway checks after the signature ------------------------------------------------------

    def use_nonce(self, key_id: str, nonce: str) -> bool:
        """Record a signature nonce of ``key_id``; False if it was already used in the last 15 minutes."""
        return self._nonces.use(key_id, nonce, self.monotonic())

    def admit(self, key: AccessKey, action: str, *, arrival: float | None = None) -> None:
        """Subscription, RAM permission and rate limit of ``key`` for ``action``, in that order.

        ``arrival`` is the request's arrival on :attr:`monotonic` (default: now).
        """
        with self._lock:
            account = self._accounts[key.account_id]
        if not account.subscribed:
            raise CamsError("Product.Unsubscript", "You have not subscribed to the specified product.")
        if not key.allows(action):
            raise CamsError(
                "Ram.PermissionDeny",
                "You are not authorized to perform the operation.",
                details={
                    "AccessDeniedDetail": {
                        "AuthAction": f"cams:{action}",
                        "AuthPrincipalType": "SubUser",
                        "AuthPrincipalDisplayName": key.key_id,
                        "AuthPrincipalOwnerId": key.account_id,
                        "NoPermissionType": "ImplicitDeny",
                        "PolicyType": "AccountLevelIdentityBasedPolicy",
                    }
                },
            )
        now = self.monotonic() if arrival is None else arrival
        if not self._throttle.admit((key.key_id, action), now):
            raise CamsError(
                "Throttling.User",
                "Request was denied due to user flow control.",
                headers={"x-acs-retry-after": str(RETRY_AFTER_MS)},
            )

    # --- operations ------------------------------------------------------------------------------

    def query_chatapp_phone_numbers(self, key: AccessKey, params: Mapping[str, str]) -> dict[str, Any]:
        """``QueryChatappPhoneNumbers``: the phones of a space (default: the account's), by Status."""
        # IsvCode is accepted and ignored: the sandbox has no ISV authorisations to check.
        wanted_status = params.get("Status") or None
        with self._lock:
            space = self._owned_space(key, params.get("CustSpaceId") or None)
            now = self._clock.elapsed()
            items = [
                self._phone_item(phone, now)
                for phone in self._phones.values()
                if space is not None and phone.space_id == space.space_id
            ]
        if wanted_status is not None:
            items = [item for item in items if item["Status"] == wanted_status]
        return {
            "Code": "OK",
            "Message": "SUCCESS",
            "Success": True,
            "AccessDeniedDetail": "None",
            "PhoneNumbers": items,
        }

    def query_phone_business_profile(self, key: AccessKey, params: Mapping[str, str]) -> dict[str, Any]:
        """``QueryPhoneBusinessProfile``: the business profile of one phone of a space."""
        space_id = _required(params, "CustSpaceId")
        phone_number = _required(params, "PhoneNumber")
        with self._lock:
            space = self._owned_space(key, space_id)
            phone = self._phones.get(phone_number)
            # Exact digits only. The real service's answer for a number outside the space is not
            # documented; the sandbox chooses a business failure on HTTP 200, like a foreign space.
            if space is None or phone is None or phone.space_id != space_id:
                raise CamsError("PhoneNumber.NotExist", "The phone number does not exist.", 200)
            profile = {name: copy.deepcopy(phone.profile.get(name, "")) for name in PROFILE_FIELDS}
        if not isinstance(profile["Websites"], list):
            profile["Websites"] = []
        return {"Code": "OK", "Message": "None", "Success": True, "Data": profile}

    # --- helpers ---------------------------------------------------------------------------------

    def _owned_space(self, key: AccessKey, space_id: str | None) -> Space | None:
        """The named space (or the account's default one, None if it has none), owned by the key's account."""
        if space_id is None:
            default = self._accounts[key.account_id].default_space_id
            return self._spaces.get(default) if default else None
        space = self._spaces.get(space_id)
        # An unknown space and another account's space look the same, so ids of others do not leak.
        if space is None or space.account_id != key.account_id:
            raise CamsError("Unknown.ResourceOwnerId", "The resource does not belong to the current user.")
        return space

    def _phone_item(self, phone: CamsPhone, now: float) -> dict[str, Any]:
        fields = phone.fields_at(data.timeline_time(now, self.timeline_cycle))
        item = {name: copy.deepcopy(fields.get(name, "")) for name in PHONE_FIELDS}
        item["PhoneNumber"] = phone.phone_number
        if not isinstance(item["CallingConfigure"], dict):
            item["CallingConfigure"] = {}
        return item


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise CamsError(
            "MissingParameter",
            f"The input parameter {name} that is mandatory for processing this request is not supplied.",
        )
    return value
