"""Generated values: anything a DAG author, a template or an XCom can hand over, and near misses of
the valid values of each argument.

``anything()`` draws from every kind of Python value (any unicode text including lone surrogates
and control characters, 1 MiB strings, 5,000-digit integers and their text, floats with NaN and
infinities, ``Decimal`` with signalling NaN, bytes, nested and self-containing containers, objects,
callables, None, bools). ``near(valid)`` takes a valid value and breaks it a little (a trailing
newline, a lookalike digit, one character too many), which is where validation bugs hide.
``short()`` prints any of them in a line, so a failing example stays readable.
"""

from __future__ import annotations

import datetime as dt
import re
import reprlib
import string
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

#: How long a "1 MB" string is (characters).
BIG = 1 << 20
#: Characters that sit at the edges of validation rules: line breaks, controls, Unicode spaces,
#: zero-width and byte-order marks, lone surrogates.
EDGE_CHARACTERS = (
    "\n", "\r", "\r\n", "\t", "\x00", "\x0b", "\x0c", "\x1c", "\x1f", "\x7f", "\x85", "\xa0",
    "\u2028", "\u2029", "\u200b", "\u3000", "\ufeff", "\ud800", "\udfff", "\udc80", " ",
)  # fmt: skip
#: Unicode characters that look like (or upper-case to) ASCII ones, keyed by the ASCII one.
LOOKALIKES = {
    "0": "\uff10\u0660\u06f0", "1": "\uff11\u0661\u00b9", "4": "\uff14\u0664", "5": "\uff15\u0665",
    "8": "\uff18\u0668\u09ee", "3": "\u0663\uff13", "6": "\u0666", "9": "\u0669",
    "a": "\u0430\u00e1", "c": "\u0441", "e": "\u0435", "i": "\u0131\u0456", "o": "\u043e",
    "p": "\u0440", "s": "\u017f\u0455", "k": "\u212a", "-": "\u2010\u2212", ".": "\u2024",
    "+": "\uff0b", " ": "\xa0\u2009", "/": "\u2215", ":": "\uff1a", "_": "\uff3f",
}  # fmt: skip


class Opaque:
    """An arbitrary object of a user's class."""

    def __repr__(self) -> str:
        return "Opaque()"


class StrLike:
    """Not text, but its ``str()`` is valid text: only a coercing check would take it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"StrLike({short(self.text)})"


def a_function() -> None:
    """A callable passed where a value was meant (a forgotten call in a DAG file)."""


def _nested(depth: int) -> list[Any]:
    value: list[Any] = ["8613800001234"]
    for _ in range(depth):
        value = [value]
    return value


def _self_containing() -> list[Any]:
    value: list[Any] = ["8613800001234"]
    value.append(value)
    return value


DEEP = _nested(5000)
SELF_CONTAINING = _self_containing()


# -- printing -------------------------------------------------------------------------------------


class _ShortRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 60
        self.maxother = 60
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdict = 5

    def repr_str(self, x: str, level: int) -> str:
        text = super().repr_str(x, level)
        return text if len(x) <= self.maxstring else f"{text}<{len(x)} chars>"

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 200:  # str() of a 5,000-digit int raises: show its size
            return f"<{'-' if x < 0 else ''}int of ~{int(x.bit_length() * 0.30103) + 1} digits>"
        return repr(x)


_SHORT = _ShortRepr()


def short(value: Any) -> str:
    """A one-line repr of any generated value, cut to a readable length."""
    try:
        return _SHORT.repr(value)
    except Exception as exc:  # a value whose repr fails is shown by type
        return f"<{type(value).__name__}: repr failed with {type(exc).__name__}>"


# -- anything ------------------------------------------------------------------------------------

#: Any code point, lone surrogates and controls included (st.text's default excludes surrogates).
any_character = st.characters()


def any_text(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(any_character, max_size=max_size)


edge_character = st.sampled_from(EDGE_CHARACTERS)

#: A 1 MiB string: of one character, of a valid value repeated, or of a separator. (A valid phone
#: list is 64 KiB, 3,600 numbers: at 1 MiB, 58,000 numbers, each case spends seconds in the
#: phone-number library, which is work, not validation.)
big_text = st.one_of(
    st.sampled_from(["x", "8", " ", "\n", "\xe9", "\ud800", "CONNECTED"]).map(
        lambda unit: unit * (BIG // len(unit))
    ),
    st.just("+86 138 0000 1234," * (BIG // 16 // 18)),
)

#: A 5,000-digit integer (Python refuses to turn one into text by default) and its text.
huge_int = st.tuples(st.integers(1, 9), st.integers(0, 10**20), st.booleans()).map(
    lambda t: (t[0] * 10**4999 + t[1]) * (-1 if t[2] else 1)
)
huge_digits = st.tuples(st.sampled_from("123456789"), st.text("0123456789", min_size=20, max_size=20)).map(
    lambda t: t[0] + t[1] * 250
)

floats = st.one_of(
    st.floats(),  # NaN and both infinities included
    st.sampled_from([8613800001234.0, 4.0, 1.0, 2.5, -0.0, 1e308, 5e-324, float("nan"), float("inf")]),
)
decimals = st.one_of(
    st.decimals(),
    st.sampled_from(
        [Decimal("4"), Decimal("8613800001234"), Decimal("sNaN"), Decimal("NaN"), Decimal("-Infinity")]
    ),
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    huge_int,
    floats,
    decimals,
    st.fractions(),
    st.complex_numbers(max_magnitude=1e9),
)

objects = st.one_of(
    st.sampled_from(
        [object(), Opaque(), a_function, len, int, str, dict, print, Ellipsis, NotImplemented, type]
    ),
    st.builds(StrLike, st.sampled_from(["CONNECTED", "8613800001234", "4", "app-1", "2026-01-01", "md5"])),
    st.builds(lambda: (item for item in ["8613800001234"])),  # a one-shot generator
    st.dates(),
    st.datetimes(),
    st.timedeltas(),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    any_text(),
    st.lists(edge_character, min_size=1, max_size=4).map("".join),
    big_text,
    huge_digits,
    st.binary(max_size=16),
    st.sampled_from([b"8613800001234", b"CONNECTED", bytearray(b"4")]),
    objects,
)

_hashable = st.one_of(st.none(), st.booleans(), st.integers(), any_text(6), st.binary(max_size=6))

containers = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(_hashable, inner, max_size=3),
        st.frozensets(_hashable, max_size=3),
        st.sets(_hashable, max_size=3),
    ),
    max_leaves=6,
)


def anything(*, deep: bool = True) -> st.SearchStrategy[Any]:
    """Any value at all, weighted towards the awkward ones.

    ``deep`` adds a list nested 5,000 levels deep and a list that contains itself. Operators cannot
    be given either: Airflow's own BaseOperator walks every argument for XCom references and hits
    the recursion limit before the provider's code runs, so the operator and sensor tests leave
    them out.
    """
    shapes = [[], {}, (), "", " "] + ([DEEP, SELF_CONTAINING] if deep else [])
    return st.one_of(scalars, containers, st.sampled_from(shapes))


# -- near misses -----------------------------------------------------------------------------------


def _lookalike(text: str, position: int) -> str:
    candidates = [i for i, char in enumerate(text) if char.lower() in LOOKALIKES]
    if not candidates:
        return text + "\uff10"
    index = candidates[position % len(candidates)]
    options = LOOKALIKES[text[index].lower()]
    return text[:index] + options[position % len(options)] + text[index + 1 :]


def _break_text(text: str, how: str, extra: str, position: int) -> Any:
    spot = position % (len(text) + 1)
    if how == "append":
        return text + extra
    if how == "prepend":
        return extra + text
    if how == "insert":
        return text[:spot] + extra + text[spot:]
    if how == "drop":
        return text[:spot] + text[spot + 1 :]
    if how == "lookalike":
        return _lookalike(text, position)
    if how == "case":
        return text.swapcase() if position % 2 else text.lower()
    if how == "repeat":
        return text * (2 + position % 70)
    if how == "bytes":
        return text.encode("utf-8", "surrogatepass")
    if how == "list":
        return [text]
    if how == "strlike":
        return StrLike(text)
    if how == "number" and text.isascii() and text.isdigit() and len(text) < 4000:
        return int(text)
    return text + "\n"  # the template that renders with a trailing newline


def _break_number(number: int, how: str, position: int) -> Any:
    options: list[Any] = [
        number + 1, number - 1, -number, 0, number * 10**30, str(number), f" {number}", f"{number}\n",
        f"+{number}", float(number), Decimal(number), Fraction(number, 1), number == 1, str(number).encode(),
        f"{number}.0", f"0{number}", _lookalike(str(number), position), [number], StrLike(str(number)),
    ]  # fmt: skip
    return options[position % len(options)]


TEXT_BREAKS = (
    "append", "prepend", "insert", "drop", "lookalike", "case", "repeat", "bytes", "list", "strlike",
    "number", "newline",
)  # fmt: skip


def near(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value changed a little: padded, cut, re-cased, retyped, or one character swapped."""
    extra = st.one_of(edge_character, st.characters(), any_text(4))

    def break_it(value: Any, how: str, more: str, position: int) -> Any:
        if isinstance(value, str):
            return _break_text(value, how, more, position)
        if isinstance(value, int) and not isinstance(value, bool):
            return _break_number(value, how, position)
        if isinstance(value, list) and value:
            index = position % len(value)
            item = value[index]
            changed = _break_text(item, how, more, position) if isinstance(item, str) else None
            return [*value[:index], changed, *value[index + 1 :]]
        if isinstance(value, dt.date):
            return [value.isoformat(), str(value), value.isoformat() + "\n", value.toordinal()][position % 4]
        return [value]

    return st.builds(break_it, valid, st.sampled_from(TEXT_BREAKS), extra, st.integers(0, 10_000))


def fuzzed(valid: st.SearchStrategy[Any], *, deep: bool = True) -> st.SearchStrategy[Any]:
    """What one argument receives in a test: a valid value, a near miss, or anything at all."""
    return st.one_of(valid, near(valid), anything(deep=deep))


# -- valid values -------------------------------------------------------------------------------

#: Numbers that are possible (and valid) for their country, with the country suffix a multi-country
#: submit adds to the batch number (written down by hand, not computed by the package).
PHONES = (
    ("86", "13800001234", "CN"),
    ("1", "6502530000", "US"),
    ("44", "2079460958", "GB"),
    ("65", "91110000", "SG"),
    ("49", "30123456", "DE"),
    ("91", "9876543210", "IN"),
    ("55", "11912345678", "BR"),
    ("971", "501234567", "AE"),
    ("81", "9012345678", "JP"),
    ("800", "12345678", "001"),
)
_PREFIXES = ("+{cc} ", "+{cc}", "00{cc} ", "{cc}", "(+{cc}) ", "+{cc}-", "+{cc}.", "00{cc}")
_SEPARATORS = (" ", "-", ".", "/", "")


def _format_phone(entry: tuple[str, str, str], prefix: str, separator: str, pad: bool) -> str:
    cc, national, _ = entry
    groups = [national[i : i + 4] for i in range(0, len(national), 4)]
    text = prefix.format(cc=cc) + separator.join(groups)
    return f" {text} " if pad else text


phone_entry = st.sampled_from(PHONES)
#: One valid phone number, written any of the documented ways; not one that reads like a float's text
#: ("+659111.0000": README refuses those).
phone = st.builds(
    _format_phone, phone_entry, st.sampled_from(_PREFIXES), st.sampled_from(_SEPARATORS), st.booleans()
).filter(lambda text: not re.fullmatch(r"\+?[0-9]+\.0+", text.strip()))
#: Several valid numbers, as a list or as one string separated by commas, semicolons or new lines.
phone_list = st.one_of(
    st.lists(phone, min_size=1, max_size=4),
    st.tuples(
        st.lists(phone, min_size=1, max_size=4), st.sampled_from([",", ";", "\n", ", ", "; ", "\r\n"])
    ).map(lambda t: t[1].join(t[0])),
    phone,
)
#: An appkey: 1-128 printable characters without whitespace.
appkey = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=128),
    st.text(st.characters(categories=["L", "M", "N", "P", "S"]), min_size=1, max_size=128),
)
check_level = st.sampled_from([1, 4, 5, "1", "4", "5"])
#: A batch number or message id: 1-64 printable characters, no whitespace at either end.
identifier = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=64),
    st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=64),
    st.sampled_from(["campaign-7", "b" * 64, "af-0123456789abcdef01234567", "m-1"]),
)
dr_url = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}{path}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["example.com", "127.0.0.1:8080", "dr.example.org", "\u4f8b\u5b50.\u6d4b\u8bd5"]),
    st.sampled_from(["", "/", "/dr", "/dr?x=1&y=2", "/a/b#frag", "/" + "p" * 2000]),
)


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _day(offset: int, form: str) -> Any:
    day = today() + dt.timedelta(days=offset)
    if form == "date":
        return day
    if form == "datetime":
        return dt.datetime.combine(day, dt.time(12, 30))
    return day.isoformat()


#: A day within the service's 14 days (today - 14 .. today + 1, UTC), as text, date or datetime.
date = st.builds(_day, st.integers(-14, 1), st.sampled_from(["text", "text", "date", "datetime"]))
#: A day just outside (or far outside) that window.
date_outside = st.builds(
    _day,
    st.one_of(st.integers(-40, -15), st.integers(2, 40), st.just(-3650)),
    st.sampled_from(["text", "date"]),
)
page = st.one_of(st.integers(1, 5), st.integers(1, 2**31 - 1))
page_size = st.integers(1, 100)
#: A CAMS space id or ISV code: 1-128 of ASCII letters, digits, ``_ - . :``.
space_id = st.text(string.ascii_letters + string.digits + "_-.:", min_size=1, max_size=128)
CAMS_STATUSES = (
    "BANNED", "CONNECTED", "DELETED", "DISCONNECTED", "FLAGGED", "MIGRATED", "OFFLINE", "PAUSED", "PENDING",
    "RATE_LIMITED", "RESTRICTED", "UNKNOWN", "UNVERIFIED",
)  # fmt: skip
cams_status = st.tuples(st.sampled_from(CAMS_STATUSES), st.sampled_from(["upper", "lower", "title"])).map(
    lambda t: getattr(t[0], t[1])()
)
status_word = st.one_of(
    cams_status,
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20),
    st.just(" connected "),
)
failure_statuses = st.one_of(
    st.lists(cams_status, max_size=4),
    st.tuples(cams_status, cams_status).map(list),
    st.just(("BANNED", "DELETED", "MIGRATED", "DISCONNECTED")),
)
timeout = st.one_of(st.floats(0.5, 120), st.integers(1, 600))


# -- connection fields -------------------------------------------------------------------------------


def any_string(valid: st.SearchStrategy[str], *, big: bool = True) -> st.SearchStrategy[str | None]:
    """What a connection field holds (text or nothing, as every secrets backend stores it): valid,
    a near miss, or any text. ``big`` adds 1 MiB values (Airflow's masker takes ~2 s per 1 MiB
    secret, so secrets get them only in the fuzz profile's wider search, not in every case)."""
    broken = near(valid).filter(lambda value: isinstance(value, str))
    garbage = [
        st.none(),
        st.just(""),
        any_text(),
        st.lists(edge_character, min_size=1, max_size=3).map("".join),
    ]
    if big:
        garbage.append(big_text)
    return st.one_of(valid, broken, huge_digits, *garbage)


#: Any value a JSON extra can hold.
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text(), huge_digits),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(any_text(6), inner, max_size=3)),
    max_leaves=4,
)
#: Access keys, secrets and STS tokens as the services issue them.
credential = st.text(string.ascii_letters + string.digits + "+/=-_", min_size=8, max_size=40)
