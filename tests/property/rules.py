"""The test oracle: what each argument and connection field may be.

Written from README.md's Validation section and DESIGN.md, not from the package's code, so a test
fails when the package is wrong instead of agreeing with it. Each predicate says VALID (must be
accepted and the call must complete), INVALID (must be refused with an error naming it, before any
request) or EITHER (the documents do not settle it: refusing is fine, so is accepting, but a
refusal still has to be the package's error, named, early and short).

Where the documents are ambiguous, the strict reading is taken; every such choice is marked
"strict:" below and listed in the report. EITHER is used only where README and DESIGN disagree or
say nothing at all about an upper bound.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import phonenumbers

from airflow_provider_wa_phones.retry import RetryPolicy


class V(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    EITHER = "either"


VALID, INVALID, EITHER = V.VALID, V.INVALID, V.EITHER


def worst(*verdicts: V) -> V:
    """INVALID beats EITHER beats VALID."""
    if INVALID in verdicts:
        return INVALID
    return EITHER if EITHER in verdicts else VALID


def is_text(value: Any) -> bool:
    return isinstance(value, str)


def is_whole(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    return (is_whole(value) or isinstance(value, float)) and not isinstance(value, bool)


# -- phone numbers ----------------------------------------------------------------------------------

#: README: "digits, spaces and + ( ) . - / only (no letters, no extensions)".
#: strict: "spaces" means U+0020; a tab, CR, NBSP or other Unicode space is not one, and ASCII
#: digits only (a fullwidth or Arabic-Indic digit is a lookalike).
PHONE_CHARACTERS = frozenset("0123456789 +().-/")
#: README: "a float such as 8613800001234.0 is refused" (strict: its text form too).
_FLOAT_TEXT = re.compile(r"\+?[0-9]+\.0+")


def phone(value: Any) -> V:
    """One phone number with its country code, as text."""
    # strict: README says "as text"; an int is not text (the package's signatures say str).
    if not is_text(value):
        return INVALID
    text = value.strip(" ")
    if not text or not set(text) <= PHONE_CHARACTERS or _FLOAT_TEXT.fullmatch(text):
        return INVALID
    # A plus is the international prefix: first, or right after an opening parenthesis.
    if text.count("+") > 1 or ("+" in text and not text.startswith(("+", "(+"))):
        return INVALID
    digits = "".join(char for char in text if char.isdigit())
    if text.startswith("00"):  # "0086 138…": the international call prefix
        digits = digits[2:]
    return VALID if possible_number(digits) else INVALID


def possible_number(digits: str) -> bool:
    if not digits or len(digits) > 20:
        return False
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(parsed))


#: A string of numbers is split on "," ";" and new lines (a CRLF line break counts as one).
_PHONE_SEPARATORS = re.compile(r",|;|\r?\n")


def phone_entries(value: Any) -> list[Any] | None:
    """The entries of a phones argument, or None when it is not a list or a string."""
    if is_text(value):
        # Blank parts (only spaces) are dropped; strict: a part of a tab is not blank.
        return [part for part in _PHONE_SEPARATORS.split(value) if part.strip(" ")]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return None


def one_shot(value: Any) -> bool:
    """An iterator (a generator): an Iterable[str] to DESIGN, not a list to README; the oracle does
    not consume it (the call could not read it afterwards)."""
    return isinstance(value, Iterator)


def phones(value: Any, *, empty_means_all: bool) -> V:
    """A list of numbers or a separated string; at least one (unless empty means "all numbers")."""
    if value is None or (is_text(value) and value == "") or (isinstance(value, list) and not value):
        return VALID if empty_means_all else INVALID
    if one_shot(value):
        return EITHER
    entries = phone_entries(value)
    if entries is None:
        return INVALID  # a dict, bytes, a number, an object (README: "a list or a string, not a dict")
    # README says "a list or a string", DESIGN's signature Iterable[str]: other collections are EITHER.
    container = VALID if isinstance(value, (str, list)) else EITHER
    if not entries:
        return EITHER if empty_means_all and container is EITHER else INVALID
    return worst(container, *(phone(entry) for entry in entries))


def normalised_phone(value: Any) -> V:
    """What a trigger takes: digits with the country code, nothing else."""
    if not is_text(value) or not value.isascii() or not value.isdigit():
        return INVALID
    return VALID if possible_number(value) else INVALID


def country_suffix(number: str) -> str:
    """The ``-<country>`` a multi-country submit appends (README: ``-CN``), from the library's region."""
    parsed = phonenumbers.parse("+" + number, None)
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region != "ZZ" else str(parsed.country_code)


def normalise(value: str) -> str:
    """Digits with country code of a VALID phone (for the oracle's own bookkeeping)."""
    digits = "".join(char for char in value if char.isdigit())
    digits = digits[2:] if value.strip(" ").startswith("00") else digits
    parsed = phonenumbers.parse("+" + digits, None)
    return f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"


# -- NxCloud arguments ------------------------------------------------------------------------------


#: Categories of characters no identifier may hold: controls, invisible format characters (zero-width
#: space, BOM), lone surrogates (they cannot even be encoded), and line or paragraph separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def visible(text: str) -> bool:
    """No control, format, surrogate or line-separator character (spaces are judged apart)."""
    return not any(unicodedata.category(char) in _HIDDEN for char in text)


def appkey(value: Any) -> V:
    """README: 1 to 128 characters, no whitespace; the whole value (``"appkey\\n"`` is refused).

    strict: no invisible characters either (``visible``).
    """
    if not is_text(value) or not 1 <= len(value) <= 128:
        return INVALID
    return VALID if visible(value) and not any(char.isspace() for char in value) else INVALID


def check_level(value: Any) -> V:
    """1, 4 or 5, or their text (a templated ``'4'``); strict: exactly that text, no padding."""
    if is_whole(value):
        return VALID if value in (1, 4, 5) else INVALID
    return VALID if is_text(value) and value in ("1", "4", "5") else INVALID


def identifier(value: Any, limit: int = 64) -> V:
    """A batch number or message id: a non-empty string of at most ``limit`` characters.

    strict: ``visible``, and no whitespace at either end (a template's trailing newline is refused).
    """
    if not is_text(value) or not 1 <= len(value) <= limit:
        return INVALID
    return VALID if visible(value) and value.strip() == value else INVALID


_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")


def dr_url(value: Any) -> V:
    """An http:// or https:// URL without spaces; strict: with a host, printable, lower-case scheme."""
    if value is None:
        return VALID
    return VALID if is_text(value) and _URL.fullmatch(value) and visible(value) else INVALID


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date(value: Any, today: dt.date | None = None) -> V:
    """``yyyy-MM-dd`` (strict: exactly, ASCII digits, no padding) or a date/datetime, within the
    14 days the service keeps: UTC today - 14 to today + 1."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif is_text(value) and _DAY.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return INVALID
    else:
        return INVALID
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return VALID if today - dt.timedelta(days=14) <= day <= today + dt.timedelta(days=1) else INVALID


def rules_either(verdict: V) -> V:
    return EITHER if verdict is VALID else verdict


def whole_number(value: Any, low: int, high: int | None, *, text: V = EITHER) -> V:
    """A whole number in ``low..high``; its exact ASCII text gets ``text`` (EITHER where the
    argument is not templated: README says "a whole number", the signature says int)."""
    if is_whole(value):
        return VALID if low <= value and (high is None or value <= high) else INVALID
    if is_text(value) and value.isascii() and value.isdigit():
        significant = value.lstrip("0") or "0"
        if len(significant) > 18:  # no count or page of this many digits means anything: EITHER
            return rules_either(text) if high is None else INVALID
        number = int(significant)
        return text if low <= number and (high is None or number <= high) else INVALID
    return INVALID


def page(value: Any) -> V:
    # strict: the service's page is a 32-bit integer; README gives no upper bound.
    return whole_number(value, 1, 2**31 - 1)


def page_size(value: Any) -> V:
    return whole_number(value, 1, 100)


def optional(value: Any, rule: Any) -> V:
    """None means "not given". An empty string is what an unset template renders to: README keeps
    it as "not given" for optional text, and refusing it is fine too (EITHER)."""
    if value is None:
        return VALID
    if is_text(value) and value == "":
        return EITHER
    return rule(value)


# -- CAMS arguments ---------------------------------------------------------------------------------

_SPACE_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def space_id(value: Any) -> V:
    """README: 1 to 128 of letters, digits, ``_ - . :``; strict: ASCII letters and digits."""
    return VALID if is_text(value) and _SPACE_ID.fullmatch(value) else INVALID


CAMS_STATUSES = frozenset(
    {
        "BANNED", "CONNECTED", "DELETED", "DISCONNECTED", "FLAGGED", "MIGRATED", "OFFLINE", "PAUSED",
        "PENDING", "RATE_LIMITED", "RESTRICTED", "UNKNOWN", "UNVERIFIED",
    }
)  # fmt: skip


def cams_status(value: Any) -> V:
    """One of the documented statuses, any case; strict: ASCII case only (``'pau\u017fed'`` upper-cases to
    PAUSED but is not a spelling of it), no padding, and text (not something whose str() matches)."""
    return VALID if is_text(value) and value.isascii() and value.upper() in CAMS_STATUSES else INVALID


# -- sensors and triggers ---------------------------------------------------------------------------


_STATUS = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def target_status(value: Any) -> V:
    """A status word (README: letters, digits and ``_``, at most 40, compared upper-cased); the whole
    value: a padded or newline-ended status is refused, like every other rule."""
    return VALID if is_text(value) and _STATUS.fullmatch(value) else INVALID


def failure_statuses(value: Any, target: Any) -> V:
    """A list of statuses (not one string) without the target (compared stripped, upper-cased).

    strict: every entry a non-blank string. A tuple is fine (the default is one); a set is EITHER.
    """
    if isinstance(value, (list, tuple)):
        container = VALID
    elif isinstance(value, (set, frozenset)):
        container = EITHER
    else:
        return INVALID
    if not all(target_status(entry) is VALID for entry in value) or len(value) > 50:
        return INVALID
    if target_status(target) is VALID and target.upper() in {s.upper() for s in value}:
        return INVALID
    return container


#: Issue 19: the most records a batch can be waited for (a submit holds at most 100,000 numbers);
#: ``10**5000`` once passed the check and then raised OverflowError.
MAX_EXPECTED_COUNT = 1_000_000


def expected_count(value: Any) -> V:
    """A whole number from 1 to 1,000,000, or its text (it is templated); not a bool."""
    return whole_number(value, 1, MAX_EXPECTED_COUNT, text=VALID)


def max_xcom_records(value: Any) -> V:
    return VALID if is_whole(value) and value >= 1 else INVALID


def seconds(value: Any, *, most: float, zero: V = INVALID) -> V:
    """A finite number of seconds > 0; above ``most`` nothing is documented (EITHER)."""
    if not is_real(value):
        return INVALID
    if isinstance(value, float) and not math.isfinite(value):
        return INVALID
    if value == 0:
        return zero
    if value < 0:
        return INVALID
    return VALID if value <= most else EITHER


def request_timeout(value: Any) -> V:
    return seconds(value, most=3600)


def poke_interval(value: Any) -> V:
    return seconds(value, most=7 * 86400, zero=EITHER)


def request_retry(value: Any) -> V:
    return VALID if value is None or isinstance(value, RetryPolicy) else INVALID


_RETRY_FIELDS = {"max_attempts", "initial_delay", "max_delay", "multiplier", "max_total_delay"}


def retry_fields(value: Any) -> V:
    """A trigger's ``retry``: None or RetryPolicy fields as plain data."""
    if value is None:
        return VALID
    if not isinstance(value, dict) or not set(value) <= _RETRY_FIELDS:
        return INVALID
    for name, field in value.items():
        if name == "max_attempts":
            if not (is_whole(field) and 1 <= field <= 100):
                return INVALID
        elif not (is_real(field) and math.isfinite(field) and 0 <= field <= 3600):
            return INVALID
    return VALID


_CONN_ID = re.compile(r"[A-Za-z0-9_.\-]{1,250}")


def conn_id(value: Any) -> V:
    """A connection id as Airflow allows one: letters, digits, ``_ . -``, at most 250 characters
    (whether it exists is Airflow's to say)."""
    return VALID if is_text(value) and _CONN_ID.fullmatch(value) else INVALID


def flag(value: Any) -> V:
    """A switch (``deferrable``, ``reuse_existing``): True, False or None for the default. Anything
    else is EITHER: read for its truth is Python's custom, refusing it is stricter."""
    return VALID if value is None or isinstance(value, bool) else EITHER


# -- connection fields -------------------------------------------------------------------------------


def credential(value: Any) -> V:
    """An access key, secret or STS token: strict: printable ASCII without whitespace, at most 4,096
    characters (they travel in HTTP headers, which carry ISO-8859-1 at most and 8 KiB per line on
    common servers; a pasted trailing newline is refused; STS tokens run to ~2,000 characters)."""
    if not is_text(value) or not 1 <= len(value) <= 4096:
        return INVALID
    return VALID if value.isascii() and value.isprintable() and " " not in value else INVALID


_HOST = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://)?"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?/*"
)


def host(value: Any) -> V:
    """Empty for the public endpoint, else ``[http(s)://]host[:port]`` (the scheme in any case, RFC
    3986; trailing slashes are harmless); issue 19: no path, query, fragment or ``user:pw@`` (a
    ``#x`` cut every CAMS query parameter off); strict: no padding, an ASCII host name or address
    and a port from 1 to 65535 (``0:0`` and ``HTTP://0:0`` are refused)."""
    if value is None or value == "":
        return VALID
    if not is_text(value):
        return INVALID
    match = _HOST.fullmatch(value)
    if not match:
        return INVALID
    authority = value.split("://", 1)[-1].split("/", 1)[0]
    name = authority.rsplit(":", 1)[0] if ":" in authority and not authority.startswith("[") else authority
    if not name.startswith("[") and len(name.rstrip(".")) > 253:  # a DNS name has at most 253 characters
        return INVALID
    port = match.group("port")
    return VALID if port is None or 1 <= int(port) <= 65535 else INVALID


def sign_algorithm(value: Any) -> V:
    """md5 or sha256, any (ASCII) case; absent or empty means md5."""
    if value is None or value == "":
        return VALID
    return VALID if is_text(value) and value.isascii() and value.lower() in ("md5", "sha256") else INVALID


_REGION = re.compile(r"[a-z]{2,}(?:-[a-z0-9]+)+")


def region(value: Any) -> V:
    """A lower-case region id such as ap-southeast-1; absent or empty means ap-southeast-1."""
    if value is None or value == "":
        return VALID
    return VALID if is_text(value) and _REGION.fullmatch(value) else INVALID
