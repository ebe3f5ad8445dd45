"""NxCloud state and rules: accounts, applications, WhatsApp numbers and number-check batches.

No HTTP here. Each operation takes the authenticated account and the parsed JSON body, and returns
the envelope's ``data`` or raises :class:`NxCloudError` carrying the service's code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import re
import threading
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any, Protocol, TypeGuard

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import carrier as phone_carrier

# Loaded by phonenumbers.carrier already: nothing to gain from importing it late.
from phonenumbers.carrierdata import CARRIER_LONGEST_PREFIX

from airflow_provider_wa_phones.sandbox import data

try:  # the regular-expression parser the re module uses (sre_parse before Python 3.11)
    import re._constants as _regex_constants  # type: ignore[import-not-found,unused-ignore]
    import re._parser as _regex_parser  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    import sre_constants as _regex_constants  # type: ignore[no-redef,unused-ignore]
    import sre_parse as _regex_parser  # type: ignore[no-redef,unused-ignore]

GET_PHONE_FIELDS = (
    "display_phone_number",
    "quality_rating",
    "verified_name",
    "name_status",
    "status",
    "current_limit",
    "code_verification_status",
)
GETPHONE_SHAPES = ("keyed", "list")
CHECK_LEVELS = (1, 4, 5)
RETENTION_DAYS = 14
MAX_BATCH_NO_LENGTH = 64
MAX_PAGE_SIZE = 100
MAX_PRELOAD_COUNT = 999_999
DEFAULT_RESULT_DELAY = (0.5, 3.0)
# How many consecutive records of one submit share a messageId (the service's example shows two).
SHARED_RUN_LENGTHS = (1, 2, 2, 3)
#: The calendars the query's ``date`` may file results under; NxCloud does not say which it uses.
CALENDARS = {"UTC": dt.timezone.utc, "UTC+8": dt.timezone(dt.timedelta(hours=8))}

# The service's numberType codes (see the number-check query page).
_NUMBER_TYPES = {
    PhoneNumberType.FIXED_LINE: 1,
    PhoneNumberType.MOBILE: 2,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: 2,
    PhoneNumberType.TOLL_FREE: 3,
    PhoneNumberType.VOIP: 4,
    PhoneNumberType.UAN: 5,
    PhoneNumberType.PERSONAL_NUMBER: 6,
    PhoneNumberType.VOICEMAIL: 7,
    PhoneNumberType.PREMIUM_RATE: 8,
    PhoneNumberType.SHARED_COST: 8,
}
# Call-check outcomes as (early, answered, response); drawn per number from a hash.
_CALL_OUTCOMES = (
    ("YES", "YES", "bell"),
    ("YES", "YES", "bell"),
    ("YES", "YES", "music"),
    ("YES", "NO", "no_response"),
    ("YES", "NO", "busy"),
    ("YES", "YES", "voicemail"),
    ("NO", "NO", "power_off"),
    ("NO", "NO", "not_available"),
)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS_RE = re.compile(r"[0-9]+")
_ready_at = attrgetter("ready_at")
_MESSAGE_ID_RE = re.compile(r"([0-9a-f]{32})(?:-([0-9]{6}))?")


class NxCloudError(Exception):
    """A failure the service reports in its envelope: ``code`` and a short English ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Clock(Protocol):
    """The two sandbox clocks a backend reads."""

    def elapsed(self) -> float:
        """Virtual seconds since the sandbox started (drives timelines and result delays)."""
        ...

    def wall_time(self) -> float:
        """The server's wall clock, seconds since the epoch (drives record dates)."""
        ...


@dataclass(frozen=True)
class Account:
    """An API account: its credentials, the customer it belongs to and what it may call."""

    access_key: str
    secret: str
    customer_id: str
    biz_types: frozenset[int]
    integrator: bool = False


@dataclass
class App:
    """An application (appkey) of a customer, with its bound numbers and check balance."""

    appkey: str
    customer_id: str
    getphone_shape: str = "keyed"
    balance: Decimal = Decimal(0)
    phone_numbers: list[str] = field(default_factory=list)


@dataclass
class Phone:
    """A WhatsApp business number whose fields change along a timeline on the virtual clock."""

    phone_number: str
    timeline: list[tuple[float, dict[str, Any]]]
    waba_id: str = ""
    waba_name: str = ""

    def fields_at(self, t: float) -> dict[str, Any]:
        """The number's fields at virtual time ``t``: every timeline entry up to ``t`` applied in order."""
        fields: dict[str, Any] = {}
        for start, overrides in sorted(self.timeline, key=lambda entry: entry[0]):
            if start > t:
                break
            fields.update(overrides)
        return fields


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What the number plan says about a number, shared by every number of the same kind."""

    valid: bool
    region_code: str
    country_code: str
    number_type: int
    carrier: str


@dataclass(slots=True, eq=False)
class Submission:
    """One accepted submit call (or one preloaded batch): the fields its records share."""

    message_id: str
    batch_no: str
    customer_id: str
    appkey: str
    check_level: int
    price: Decimal
    date: str
    size: int
    #: Its records in submit order (what a messageId query searches).
    records: list[CheckRecord] = field(default_factory=list)

    def record_codes(self, rng: random.Random) -> list[int | None]:
        """The messageId code of each record, in submit order (see :attr:`CheckRecord.message_id`).

        A one-number submit's record carries the submit's id (code None). Otherwise each record
        carries ``<id>-<6-digit random code>``, and, as in the service's own query example, records
        of several phones can share one: the sandbox deals codes to consecutive runs of 1 to 3 phones.
        """
        if self.size == 1:
            return [None]
        codes: list[int | None] = []
        while len(codes) < self.size:
            code = rng.randrange(10**6)  # one int object for the run: records share it
            codes.extend([code] * min(rng.choice(SHARED_RUN_LENGTHS), self.size - len(codes)))
        return codes


class CheckRecord:
    """One number's check result; visible to queries once the virtual clock reaches ``ready_at``.

    Kept small, as a million of them may be held: the phone as an int, the national number as its
    offset in the phone's digits (or the digits themselves when the number plan rewrote them), the
    messageId as the submit's id and a code, and the order among records of equal ``ready_at`` by
    position (records are only ever added after those of earlier submits).
    """

    __slots__ = ("_national", "code", "info", "number", "ready_at", "submission")

    def __init__(
        self,
        ready_at: float,
        submission: Submission,
        phone: str,
        national_number: str,
        info: NumberInfo,
        code: int | None,
    ) -> None:
        self.ready_at = ready_at
        self.submission = submission
        self.number = int(phone)  # digits without a leading zero: no country code starts with 0
        self._national: int | str = (
            len(phone) - len(national_number) if phone.endswith(national_number) else national_number
        )
        self.info = info
        self.code = code

    @property
    def phone(self) -> str:
        """The number as submitted: digits with country code."""
        return str(self.number)

    @property
    def national_number(self) -> str:
        """The national (significant) number."""
        national = self._national
        return str(self.number)[national:] if isinstance(national, int) else national

    @property
    def message_id(self) -> str:
        """The submit's id for a one-number submit, else ``<submit's id>-<6-digit code>``."""
        if self.code is None:
            return self.submission.message_id
        return f"{self.submission.message_id}-{self.code:06d}"


@dataclass(frozen=True, slots=True, eq=False)
class Charge:
    """One accepted (charged) submit, as the sandbox books it whatever the client heard of it."""

    batch_no: str
    message_id: str
    appkey: str
    country_code: str
    check_level: int
    cost: Decimal
    date: str
    #: The numbers charged, as ints (8 bytes each: a million charged numbers stay small).
    numbers: Sequence[int]

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready view without the numbers themselves."""
        return {
            "batch_no": self.batch_no,
            "message_id": self.message_id,
            "appkey": self.appkey,
            "country_code": self.country_code,
            "check_level": self.check_level,
            "count": len(self.numbers),
            "cost": str(self.cost),
            "date": self.date,
        }


def _compact_numbers(phones: Iterable[str]) -> Sequence[int]:
    # A submitted number is digits without a leading zero (none has a country code starting with
    # 0), so int() keeps all of it; array stores 8 bytes a number, a list holds any longer one.
    numbers = [int(phone) for phone in phones]
    try:
        return array("q", numbers)
    except OverflowError:
        return numbers


class _ReadyOrder:
    """Records in the order they become visible, so pages already served never shift.

    Ordered by ``ready_at``, then by when they were added (records of a later submit, or later in
    one submit, come after on a tie).
    """

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: list[CheckRecord] = []

    def add(self, records: list[CheckRecord]) -> None:
        # Stable sorts keep the order of addition on ties. Only the tail the new records reach
        # into is merged again: nothing is resorted below the earliest new ready_at.
        new = sorted(records, key=_ready_at)
        if not new:
            return
        start = bisect_right(self.records, new[0].ready_at, key=_ready_at)
        if start == len(self.records):
            self.records.extend(new)
        else:
            tail = self.records[start:]
            tail.extend(new)
            tail.sort(key=_ready_at)
            self.records[start:] = tail

    def visible_count(self, now: float) -> int:
        """How many records are ready at ``now``: they are the first ones."""
        return bisect_right(self.records, now, key=_ready_at)


class NxCloudBackend:
    """The emulated NxCloud service for one sandbox. Thread-safe; ``reset()`` restores the seed."""

    def __init__(
        self,
        clock: Clock,
        seed: int = 0,
        result_delay: tuple[float, float] = DEFAULT_RESULT_DELAY,
        calendar: str = "UTC",
    ) -> None:
        low, high = result_delay
        if not 0 <= low <= high:
            raise ValueError(f"result_delay must be (min, max) with 0 <= min <= max, got {result_delay!r}")
        if calendar not in CALENDARS:
            raise ValueError(f"calendar must be one of {', '.join(CALENDARS)}, got {calendar!r}")
        #: The calendar whose day a submit's results are filed under (the query's ``date``).
        self.calendar = calendar
        self._clock = clock
        self._seed = seed
        self._result_delay = (float(low), float(high))
        #: With a number of seconds, every number's timeline starts over that often (long-running mode).
        self.timeline_cycle: float | None = None
        self._lock = threading.RLock()
        self.reset()

    # --- setup -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every change and result; load the seed accounts, apps and numbers again."""
        with self._lock:
            self._rng = random.Random(self._seed)
            self._accounts: dict[str, Account] = {}
            self._apps: dict[str, App] = {}
            self._phones: dict[str, Phone] = {}
            self._batches: dict[tuple[str, str, str], _ReadyOrder] = {}
            self._submissions: dict[str, Submission] = {}
            self._charges: list[Charge] = []
            self._purged_before = ""
            for account in data.NXCLOUD_ACCOUNTS:
                self.add_account(Account(**{**account, "biz_types": frozenset(account["biz_types"])}))
            for phone in data.NXCLOUD_PHONES:
                self.add_phone(Phone(**{**phone, "timeline": list(phone["timeline"])}))
            for app in data.NXCLOUD_APPS:
                self.add_app(
                    App(
                        appkey=app["appkey"],
                        customer_id=app["customer_id"],
                        getphone_shape=app["getphone_shape"],
                        balance=Decimal(app["balance"]),
                        phone_numbers=list(app["phones"]),
                    )
                )

    def add_account(self, account: Account) -> None:
        """Add or replace an account."""
        with self._lock:
            self._accounts[account.access_key] = account

    def add_app(self, app: App) -> None:
        """Add or replace an application."""
        if app.getphone_shape not in GETPHONE_SHAPES:
            raise ValueError(f"getphone_shape must be one of {GETPHONE_SHAPES}, got {app.getphone_shape!r}")
        with self._lock:
            self._apps[app.appkey] = app

    def add_phone(self, phone: Phone, appkeys: Iterable[str] = ()) -> None:
        """Add or replace a WhatsApp number and bind it to the given applications."""
        with self._lock:
            self._phones[phone.phone_number] = phone
            for appkey in appkeys:
                bound = self._apps[appkey].phone_numbers
                if phone.phone_number not in bound:
                    bound.append(phone.phone_number)

    def find_account(self, access_key: str) -> Account | None:
        """The account with this access key, or None."""
        with self._lock:
            return self._accounts.get(access_key)

    def app(self, appkey: str) -> App:
        """The application with this appkey (KeyError if unknown)."""
        with self._lock:
            return self._apps[appkey]

    def set_balance(self, appkey: str, balance: str) -> str:
        """Set an application's balance (a decimal amount in USD, >= 0) for a large number check;
        returns it as text. ValueError for an unknown appkey or a bad amount; ``reset()`` restores
        the seed's."""
        try:
            amount = Decimal(balance)
        except (ArithmeticError, TypeError, ValueError):
            raise ValueError(f"balance must be a decimal amount, got {balance!r}") from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"balance must be a finite amount >= 0, got {balance!r}")
        with self._lock:
            if appkey not in self._apps:
                raise ValueError(f"unknown appkey {appkey!r}")
            self._apps[appkey].balance = amount
            return str(amount)

    def phone(self, phone_number: str) -> Phone:
        """The WhatsApp number with these digits (KeyError if unknown)."""
        with self._lock:
            return self._phones[phone_number]

    # --- WhatsApp --------------------------------------------------------------------------------

    def get_phone(self, account: Account, body: dict[str, Any]) -> dict[str, Any]:
        """``/api/wa/getPhone``: the requested numbers of an app, or all of them, in the app's shape."""
        appkey = _required_str(body, "appkey", 9000)
        if body.get("messaging_product") != "whatsapp":
            raise NxCloudError(9000, 'messaging_product is required and must be "whatsapp"')
        requested = _parse_business_phones(body.get("business_phones"))
        with self._lock:
            app = self._owned_app(account, appkey, unknown_code=9008, foreign_code=9010)
            for number in requested:
                if number not in self._phones:
                    raise NxCloudError(9002, f"phone {number} is not a WhatsApp business number")
                if number not in app.phone_numbers:
                    raise NxCloudError(9006, f"phone {number} is not bound to this application")
            now = self._clock.elapsed()
            numbers = requested or app.phone_numbers
            records = {number: self._phone_record(number, now) for number in numbers}
        if app.getphone_shape == "list":
            return {"business_phones": list(records.values())}
        return {number: [record] for number, record in records.items()}

    def list_phones(self, account: Account, body: dict[str, Any]) -> list[dict[str, Any]]:
        """``/api/wa/integrator/embedded/register/phoneList``: every number of an app, for integrators."""
        appkey = _required_str(body, "appkey", 9000)
        if not account.integrator:
            raise NxCloudError(9007, "this account is not an integrator")
        with self._lock:
            app = self._owned_app(account, appkey, unknown_code=9008, foreign_code=9010)
            now = self._clock.elapsed()
            records = []
            for number in app.phone_numbers:
                phone = self._phones[number]
                fields = phone.fields_at(data.timeline_time(now, self.timeline_cycle))
                records.append(
                    {
                        **self._phone_record(number, now),
                        "register_status": fields.get("register_status", 5),
                        "waba_id": phone.waba_id,
                        "waba_name": phone.waba_name,
                    }
                )
            return records

    def _phone_record(self, number: str, now: float) -> dict[str, Any]:
        fields = self._phones[number].fields_at(data.timeline_time(now, self.timeline_cycle))
        return {name: fields.get(name, "") for name in GET_PHONE_FIELDS}

    # --- number check ----------------------------------------------------------------------------

    def submit_number_check(self, account: Account, body: dict[str, Any]) -> dict[str, str]:
        """``/api/number/check``: charge the app and schedule one result record per submitted number."""
        appkey = _required_str(body, "appkey", 201)
        phone_field = _required_str(body, "phone", 201)
        batch_no = _optional_str(body, "batchNo", 201)
        _optional_str(body, "drUrl", 201)  # accepted; the sandbox makes no callbacks
        check_level = body.get("checkLevel")
        if check_level is None:
            check_level = 1
        elif not _is_int(check_level):
            raise NxCloudError(201, "checkLevel must be an integer")
        if batch_no is not None and len(batch_no) > MAX_BATCH_NO_LENGTH:
            raise NxCloudError(212, f"batchNo is longer than {MAX_BATCH_NO_LENGTH} characters")
        if check_level not in CHECK_LEVELS:
            raise NxCloudError(207, f"checkLevel must be one of {', '.join(map(str, CHECK_LEVELS))}")
        phones = [token.strip() for token in phone_field.split(",") if token.strip()]
        if not phones:
            raise NxCloudError(201, "phone is required")
        for phone in phones:
            if not _DIGITS_RE.fullmatch(phone):
                raise NxCloudError(201, f"phone {phone!r} must be digits with country code, without '+'")
        with self._lock:
            app = self._owned_app(account, appkey, unknown_code=202, foreign_code=210)
            parsed = [(phone, *_number_info(phone)) for phone in phones]
            if len({info.country_code for _, info, _ in parsed}) > 1:
                raise NxCloudError(201, "numbers of more than one country in one call")
            price = Decimal(data.NUMBER_CHECK_PRICES[check_level])
            cost = price * len(phones)
            if app.balance < cost:
                raise NxCloudError(211, f"insufficient balance: {cost} {data.NUMBER_CHECK_CURRENCY} needed")
            app.balance -= cost
            submission = Submission(
                message_id=self._new_message_id(),
                batch_no=batch_no or str(self._rng.randrange(10**11, 10**12)),
                customer_id=app.customer_id,
                appkey=app.appkey,
                check_level=check_level,
                price=price,
                date=self._today().isoformat(),
                size=len(phones),
            )
            now = self._clock.elapsed()
            low, high = self._result_delay
            codes = submission.record_codes(self._rng)
            uniform = self._rng.uniform
            records = [
                CheckRecord(now + uniform(low, high), submission, phone, national, info, code)
                for (phone, info, national), code in zip(parsed, codes, strict=True)
            ]
            self._store(submission, records)
            self._charges.append(
                Charge(
                    batch_no=submission.batch_no,
                    message_id=submission.message_id,
                    appkey=submission.appkey,
                    country_code=parsed[0][1].country_code,
                    check_level=check_level,
                    cost=cost,
                    date=submission.date,
                    numbers=_compact_numbers(phones),
                )
            )
            return {"messageId": submission.message_id, "batchNo": submission.batch_no}

    def query_number_check(self, account: Account, body: dict[str, Any]) -> dict[str, Any]:
        """``/api/number/query``: one page of the ready result records matching the filters."""
        page = body.get("page")
        if not _is_int(page) or page < 1:
            raise NxCloudError(88, "page must be an integer >= 1")
        page_size = body.get("pageSize")
        if not _is_int(page_size) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise NxCloudError(88, f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
        date = body.get("date")
        if not isinstance(date, str) or _parse_date(date) is None:
            raise NxCloudError(88, "Incorrect date format [yyyy-MM-dd]")
        message_id = _optional_str(body, "messageId", 88)
        batch_no = _optional_str(body, "batchNo", 88)
        phone = _optional_str(body, "phone", 88)
        appkey = _optional_str(body, "appkey", 88)
        if not message_id and not batch_no:
            raise NxCloudError(88, "batchNo and messageId cannot be empty at the same time")
        start = (page - 1) * page_size
        with self._lock:
            if appkey:
                self._owned_app(account, appkey, unknown_code=202, foreign_code=210)
            total, chosen = self._matching_page(
                account.customer_id, date, message_id, batch_no, phone, appkey, start, page_size
            )
        return {
            "page": page,
            "pageSize": page_size,
            "totalPage": math.ceil(total / page_size),
            "totalSize": total,
            "result": [self._result(record) for record in chosen],
        }

    def preload_batch(
        self,
        batch_no: str,
        count: int,
        date: str | None = None,
        appkey: str | None = None,
        check_level: int = 1,
    ) -> dict[str, Any]:
        """Add a batch of ``count`` already-ready results for distinct Indonesian mobile numbers.

        ``date`` defaults to the server's today, ``appkey`` to the seeded ``sandbox-wa-app``. Free of
        charge; meant for tests and benchmarks of pagination. Raises ValueError on bad input.
        """
        appkey = appkey or data.NXCLOUD_APPKEY
        if not isinstance(batch_no, str) or not 0 < len(batch_no) <= MAX_BATCH_NO_LENGTH:
            raise ValueError(f"batch_no must be 1 to {MAX_BATCH_NO_LENGTH} characters")
        if not _is_int(count) or not 1 <= count <= MAX_PRELOAD_COUNT:
            raise ValueError(f"count must be between 1 and {MAX_PRELOAD_COUNT}")
        if check_level not in CHECK_LEVELS:
            raise ValueError(f"check_level must be one of {CHECK_LEVELS}")
        if date is not None and _parse_date(date) is None:
            raise ValueError("date must be yyyy-MM-dd")
        with self._lock:
            if appkey not in self._apps:
                raise ValueError(f"unknown appkey {appkey!r}")
            app = self._apps[appkey]
            submission = Submission(
                message_id=self._new_message_id(),
                batch_no=batch_no,
                customer_id=app.customer_id,
                appkey=appkey,
                check_level=check_level,
                price=Decimal(data.NUMBER_CHECK_PRICES[check_level]),
                date=date or self._today().isoformat(),
                size=count,
            )
            # 62 812 xxxxxxxx: every number shares the prefix and length, hence one NumberInfo.
            first = 62812 * 10**8 + self._rng.randrange(10**7, 10**8 - count)
            info, _ = _number_info(str(first))
            now = self._clock.elapsed()
            codes = submission.record_codes(self._rng)
            records = []
            for offset in range(count):
                phone = str(first + offset)
                records.append(CheckRecord(now, submission, phone, phone[2:], info, codes[offset]))
            self._store(submission, records)
        return {
            "batch_no": batch_no,
            "message_id": submission.message_id,
            "count": count,
            "date": submission.date,
        }

    def _store(self, submission: Submission, records: list[CheckRecord]) -> None:
        self._purge_expired()
        key = (submission.customer_id, submission.batch_no, submission.date)
        self._batches.setdefault(key, _ReadyOrder()).add(records)
        submission.records = records
        self._submissions[submission.message_id] = submission

    def _message_records(self, message_id: str, now: float) -> list[CheckRecord]:
        """The ready records carrying ``message_id``, in ready order (searched in its submit)."""
        match = _MESSAGE_ID_RE.fullmatch(message_id)
        submission = self._submissions.get(match.group(1)) if match else None
        if match is None or submission is None:
            return []
        if match.group(2) is None:  # the submit's own id: only a one-number submit's record has it
            code = None if submission.size == 1 else -1
        else:
            code = None if submission.size == 1 else int(match.group(2))
            if code is None:
                return []
        # Records of one submit were added in submit order: a stable sort keeps it on ties.
        found = [r for r in submission.records if r.code == code and r.ready_at <= now]
        found.sort(key=_ready_at)
        return found

    def _matching_page(
        self,
        customer_id: str,
        date: str,
        message_id: str | None,
        batch_no: str | None,
        phone: str | None,
        appkey: str | None,
        start: int,
        size: int,
    ) -> tuple[int, list[CheckRecord]]:
        """How many ready records match, and those of ``start`` to ``start + size``."""
        if date < self._retention_start().isoformat():
            return 0, []
        now = self._clock.elapsed()
        if message_id:
            # The documented search is exact: a several-number submit's own id finds nothing, since
            # its records carry "<id>-<code>"; a record's id finds every record sharing it.
            visible = self._message_records(message_id, now)
        else:
            order = self._batches.get((customer_id, batch_no or "", date))
            if order is None:
                return 0, []
            if not (phone or appkey):
                # The batch index already selects customer, batch and date: the page is a slice.
                total = order.visible_count(now)
                return total, order.records[start : min(start + size, total)]
            visible = order.records[: order.visible_count(now)]
        # A submitted number is digits without a leading zero: no other phone filter can match.
        number = int(phone) if phone and _DIGITS_RE.fullmatch(phone) and phone[0] != "0" else None

        def wanted(record: CheckRecord) -> bool:
            submission = record.submission
            return (
                submission.customer_id == customer_id
                and submission.date == date
                and (not batch_no or submission.batch_no == batch_no)
                and (not phone or record.number == number)
                and (not appkey or submission.appkey == appkey)
            )

        matches = [record for record in visible if wanted(record)]
        return len(matches), matches[start : start + size]

    def _result(self, record: CheckRecord) -> dict[str, Any]:
        submission, info = record.submission, record.info
        result: dict[str, Any] = {
            "messageId": record.message_id,
            "batchNo": submission.batch_no,
            "phone": record.phone,
            "checkLevel": submission.check_level,
            "preCheck": "YES" if info.valid else "NO",
            "regionCode": info.region_code,
            "countryCode": info.country_code,
            "nationalNumber": record.national_number,
            "standNumber": info.country_code + record.national_number,
            "numberType": info.number_type,
            "carrier": info.carrier,
            "price": float(submission.price),
            "currency": data.NUMBER_CHECK_CURRENCY,
            "validity": "",
            "reachable": "",
            "roaming": "",
        }
        digest = hashlib.sha256(f"{self._seed}:{record.phone}".encode()).digest()
        if submission.check_level == 5:
            result.update(_hlr_outcome(info.valid, digest))
        elif submission.check_level == 4:
            early, answered, response = (
                _CALL_OUTCOMES[digest[3] % len(_CALL_OUTCOMES)]
                if info.valid
                else ("NO", "NO", "invalid_number")
            )
            result.update(early=early, answered=answered, response=response)
        if not info.valid:
            result.update(code=114, msg="invalid number format")
        return result

    # --- charges (what the sandbox billed, for tests; preloaded batches are free) ----------------

    def charges(self) -> list[dict[str, Any]]:
        """Every accepted submit since the last reset, in order: ``batch_no``, ``message_id``,
        ``appkey``, ``country_code``, ``check_level``, ``count`` (numbers charged), ``cost`` (a
        decimal string) and ``date`` (the day its results are filed under)."""
        with self._lock:
            return [charge.as_json() for charge in self._charges]

    def charge_counts(self) -> Counter[int]:
        """How many times each number was charged, keyed by the number as an int (``int(phone)``)."""
        with self._lock:
            charges = list(self._charges)
        counts: Counter[int] = Counter()
        for charge in charges:
            counts.update(charge.numbers)
        return counts

    def charged_numbers(self) -> dict[str, int]:
        """How many times each number (digits with country code, as submitted) was charged."""
        return {str(number): times for number, times in self.charge_counts().items()}

    def charge_totals(self) -> dict[str, Any]:
        """``submits`` charged, ``numbers`` charged in all, ``distinct_numbers``,
        ``numbers_charged_more_than_once`` and the total ``cost`` (a decimal string), without
        building a per-number map (one sorted pass over the charged numbers)."""
        with self._lock:
            charges = list(self._charges)
        numbers = sorted(number for charge in charges for number in charge.numbers)
        distinct = repeated = 0
        previous: int | None = None
        run = 0
        for number in numbers:
            if number != previous:
                distinct += 1
                previous, run = number, 1
            else:
                run += 1
                if run == 2:
                    repeated += 1
        return {
            "submits": len(charges),
            "numbers": len(numbers),
            "distinct_numbers": distinct,
            "numbers_charged_more_than_once": repeated,
            "cost": str(sum((charge.cost for charge in charges), Decimal(0))),
        }

    # --- helpers ---------------------------------------------------------------------------------

    def _owned_app(self, account: Account, appkey: str, *, unknown_code: int, foreign_code: int) -> App:
        app = self._apps.get(appkey)
        if app is None:
            raise NxCloudError(unknown_code, f"appkey {appkey} does not exist")
        if app.customer_id != account.customer_id:
            raise NxCloudError(foreign_code, "appkey belongs to another customer than the access key")
        return app

    def _new_message_id(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def _today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self._clock.wall_time(), tz=CALENDARS[self.calendar]).date()

    def _retention_start(self) -> dt.date:
        return self._today() - dt.timedelta(days=RETENTION_DAYS)

    def _purge_expired(self) -> None:
        """Drop records older than the retention window (only when the window has moved)."""
        cutoff = self._retention_start().isoformat()
        if cutoff == self._purged_before:
            return
        self._purged_before = cutoff
        self._batches = {key: order for key, order in self._batches.items() if key[2] >= cutoff}
        self._submissions = {
            message_id: submission
            for message_id, submission in self._submissions.items()
            if submission.date >= cutoff
        }


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _required_str(body: dict[str, Any], name: str, code: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise NxCloudError(code, f"{name} is required and must be a non-empty string")
    return value


def _optional_str(body: dict[str, Any], name: str, code: int) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise NxCloudError(code, f"{name} must be a string")
    return value


def _parse_date(value: str) -> dt.date | None:
    if not _DATE_RE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_business_phones(value: Any) -> list[str]:
    """Digits of each listed number, in order without duplicates; [] means every number."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise NxCloudError(9000, "business_phones must be a comma-separated string")
    numbers: list[str] = []
    for token in (raw.strip() for raw in value.split(",")):
        if not token:
            continue
        digits = token.removeprefix("+")
        if not _DIGITS_RE.fullmatch(digits):
            raise NxCloudError(9000, f"business_phones entry {token!r} is not a phone number")
        if digits not in numbers:
            numbers.append(digits)
    return numbers


def _number_info(phone: str) -> tuple[NumberInfo, str]:
    """The number plan's view of ``phone`` (digits with country code) and its national number.

    Answers from :data:`_NUMBER_INFO_CACHE` when the number plan provably cannot tell ``phone``
    from the numbers sharing its cache key (see :func:`_cache_key`); otherwise from phonenumbers.
    """
    key = _cache_key(phone)
    if key is not None:
        hit = _NUMBER_INFO_CACHE.get(key)
        if hit is not None:
            info, offset = hit
            return info, phone[offset:]
    info, national = _parse_number_info(phone)
    if key is not None and not national.startswith("0") and phone.endswith(national):
        if len(_NUMBER_INFO_CACHE) >= _NUMBER_INFO_CACHE_SIZE:
            _NUMBER_INFO_CACHE.clear()  # bounded: a flood of distinct prefixes starts it over
        _NUMBER_INFO_CACHE[key] = (info, len(phone) - len(national))
    return info, national


def _parse_number_info(phone: str) -> tuple[NumberInfo, str]:
    try:
        number = phonenumbers.parse("+" + phone)
    except phonenumbers.NumberParseException:
        raise NxCloudError(203, f"cannot determine the country of phone {phone}") from None
    country_code = number.country_code or 0
    country_region = phonenumbers.region_code_for_country_code(country_code)
    if country_region == phonenumbers.UNKNOWN_REGION:
        raise NxCloudError(203, f"cannot determine the country of phone {phone}")
    valid = phonenumbers.is_valid_number(number)
    info = NumberInfo(
        valid=valid,
        region_code=phonenumbers.region_code_for_number(number) or country_region,
        country_code=str(country_code),
        number_type=_NUMBER_TYPES.get(phonenumbers.number_type(number), 0) if valid else 0,
        carrier=phone_carrier.name_for_number(number, "en") if valid else "",
    )
    return info, phonenumbers.national_significant_number(number)


# --- the number-plan cache ---------------------------------------------------------------------------
#
# Parsing, validating, typing and finding the carrier of a number costs ~45 us in phonenumbers: 45 s
# for a million numbers. What phonenumbers says about a number is decided by regular expressions of
# the country's metadata, and by a carrier table keyed by the first CARRIER_LONGEST_PREFIX digits:
#
# * full-match patterns (the general, fixed-line, mobile, ... descriptions of every region of the
#   country code): when every way through a pattern ends with at least T "any digit" items, whether
#   a string of digits matches depends only on its length and all but its last T digits;
# * prefix patterns (national prefix for parsing, a region's leading digits): they look at no more
#   than their widest possible match (lookaheads included) from the start of the national number,
#   and at its first digit only when no match can start with that digit;
# * the country code (at most 3 digits) and the carrier table (its longest key).
#
# So two numbers of one length that agree up to ``_key_length`` digits get the same answer, and the
# same national number position, whenever no national prefix was stripped (checked on the first).
# Any construct the analysis does not know counts as "depends on every digit": no caching then.

_NUMBER_INFO_CACHE: dict[tuple[str, int], tuple[NumberInfo, int]] = {}
_NUMBER_INFO_CACHE_SIZE = 200_000
_KEY_LENGTHS: dict[tuple[str, int, str], int | None] = {}
_UNBOUNDED = 10**6
_DESC_FIELDS = (
    "general_desc",
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def _cache_key(phone: str) -> tuple[str, int] | None:
    """``(the digits that decide the answer, length)``, or None when every digit may matter."""
    for cc_length in (1, 2, 3):
        country_code = phone[:cc_length]
        if int(country_code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    first = phone[cc_length : cc_length + 1]  # the national number's first digit
    wanted = (country_code, len(phone), first)
    if wanted not in _KEY_LENGTHS:
        _KEY_LENGTHS[wanted] = _key_length(int(country_code), len(phone), first)
    key_length = _KEY_LENGTHS[wanted]
    if key_length is None or key_length >= len(phone):
        return None
    return phone[:key_length], len(phone)


def _key_length(country_code: int, length: int, first: str) -> int | None:
    try:
        metadata = []
        for region in phonenumbers.region_codes_for_country_code(country_code):
            entry = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
            if entry is None:
                return None
            metadata.append(entry)
        free_tail = _UNBOUNDED
        prefix_width = 0
        for entry in metadata:
            for name in _DESC_FIELDS:
                desc = getattr(entry, name, None)
                pattern = getattr(desc, "national_number_pattern", None)
                if pattern is not None:
                    free_tail = min(free_tail, _sequence_tail(_regex_parser.parse(pattern))[0])
            for pattern in (entry.national_prefix_for_parsing, entry.national_prefix, entry.leading_digits):
                if pattern:
                    parsed = _regex_parser.parse(pattern)
                    starts, nullable = _sequence_first(parsed)
                    if nullable or starts is None or first in starts:
                        prefix_width = max(prefix_width, _sequence_width(parsed)[1])
                    else:
                        prefix_width = max(prefix_width, 1)  # fails on the first digit
    except Exception:  # an unexpected metadata or regex shape: assume every digit matters
        return None
    return max(
        3 + prefix_width,  # the country code, then what the prefix patterns may read
        length - free_tail,
        phone_carrier_longest_prefix(),
    )


def phone_carrier_longest_prefix() -> int:
    """Digits of the longest key of phonenumbers' carrier table (E.164 digits, country code first)."""
    return int(CARRIER_LONGEST_PREFIX)


def _is_any_digit(op: Any, av: Any) -> bool:
    c = _regex_constants
    if op is not c.IN:
        return False
    return bool(av == [(c.CATEGORY, c.CATEGORY_DIGIT)] or av == [(c.RANGE, (ord("0"), ord("9")))])


def _sequence_tail(items: Any) -> tuple[int, bool]:
    """(how many trailing characters every match of ``items`` at least spends on "any digit"
    items, whether every match of it is nothing but such items, however many)."""
    tail = 0
    for op, av in reversed(list(items)):
        count, whole = _item_tail(op, av)
        tail += count
        if not whole:
            return tail, False
    return tail, True


def _item_tail(op: Any, av: Any) -> tuple[int, bool]:
    c = _regex_constants
    if _is_any_digit(op, av):
        return 1, True
    if op is c.SUBPATTERN:
        return _sequence_tail(av[-1])
    if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
        low, _, sub = av
        tail, whole = _sequence_tail(sub)
        if whole:
            return low * tail, True
        return (tail if low >= 1 else 0), False
    if op is c.BRANCH:
        tails = [_sequence_tail(branch) for branch in av[1]]
        return min(tail for tail, _ in tails), all(whole for _, whole in tails)
    return 0, False


def _sequence_first(items: Any) -> tuple[set[str] | None, bool]:
    """(the characters a non-empty match of ``items`` can start with, None if not known; whether
    it can match the empty string)."""
    starts: set[str] = set()
    for op, av in items:
        first, nullable = _item_first(op, av)
        if first is None:
            return None, False
        starts |= first
        if not nullable:
            return starts, False
    return starts, True


def _item_first(op: Any, av: Any) -> tuple[set[str] | None, bool]:
    c = _regex_constants
    if op is c.LITERAL:
        return {chr(av)}, False
    if op is c.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is c.LITERAL:
                chars.add(chr(value))
            elif kind is c.RANGE:
                chars.update(chr(code) for code in range(value[0], value[1] + 1))
            elif kind is c.CATEGORY and value is c.CATEGORY_DIGIT:
                return None, False  # any Unicode digit: not a set worth listing
            else:
                return None, False
        return chars, False
    if op is c.SUBPATTERN:
        return _sequence_first(av[-1])
    if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
        low, _, sub = av
        first, nullable = _sequence_first(sub)
        return first, nullable or low == 0
    if op is c.BRANCH:
        starts: set[str] = set()
        can_be_empty = False
        for branch in av[1]:
            first, nullable = _sequence_first(branch)
            if first is None:
                return None, False
            starts |= first
            can_be_empty = can_be_empty or nullable
        return starts, can_be_empty
    return None, False


def _sequence_width(items: Any) -> tuple[int, int]:
    """(the most characters a match of ``items`` consumes, the most it looks at, lookaheads included)."""
    consumed = examined = 0
    for op, av in items:
        width, looked = _item_width(op, av)
        examined = max(examined, consumed + looked)
        consumed += width
        examined = max(examined, consumed)
    return consumed, examined


def _item_width(op: Any, av: Any) -> tuple[int, int]:
    c = _regex_constants
    if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY):
        return 1, 1
    if op is c.AT:
        return 0, 1  # an anchor may look at the next character
    if op is c.SUBPATTERN:
        return _sequence_width(av[-1])
    if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
        _, high, sub = av
        width, looked = _sequence_width(sub)
        if high == c.MAXREPEAT:
            return (_UNBOUNDED, _UNBOUNDED) if width or looked else (0, 0)
        return high * width, (high - 1) * width + looked if high else 0
    if op is c.BRANCH:
        widths = [_sequence_width(branch) for branch in av[1]]
        return max(width for width, _ in widths), max(looked for _, looked in widths)
    if op is c.ASSERT or op is c.ASSERT_NOT:
        return 0, _sequence_width(av[1])[1]
    return _UNBOUNDED, _UNBOUNDED


def _hlr_outcome(valid: bool, digest: bytes) -> dict[str, str]:
    if not valid:
        return {"validity": "NO", "reachable": "UNKNOWN", "roaming": "UNKNOWN"}
    validity = ("YES",) * 8 + ("NO", "UNKNOWN")
    reachable = ("YES",) * 7 + ("NO", "NO", "UNKNOWN")
    result = {"validity": validity[digest[0] % 10], "reachable": "UNKNOWN", "roaming": "UNKNOWN"}
    if result["validity"] == "YES":
        result["reachable"] = reachable[digest[1] % 10]
    if result["reachable"] == "YES":
        result["roaming"] = "YES" if digest[2] % 10 == 0 else "NO"
    return result
