"""Phone-number normalisation and the phone record shared by both services.

Both services want numbers as digits with the country code and no ``+``; people write them in
every other way. Normalising here, before any request, turns a typo into a clear error instead of
a rejected batch. Phone records from both services are mapped onto one snake_case shape so one
report can mix them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_wa_phones.checks import quoted
from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.services import CAMS, NXCLOUD

#: The fields every phone record has, whichever service it came from.
COMMON_FIELDS = (
    "phone_number",
    "display_phone_number",
    "verified_name",
    "status",
    "quality_rating",
    "name_status",
    "code_verification_status",
    "messaging_limit_tier",
)

_SEPARATORS = re.compile(r"\r\n|[,;\n]")  # a Windows line break too; a lone CR is no separator
# Digits, spaces and the punctuation people write numbers with; nothing else, anywhere in the value.
_ALLOWED = re.compile(r" *\(?\+?[0-9 ().\-/]+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_FLOAT_TEXT = re.compile(r"\+?[0-9]{6,}\.0+|[0-9](\.[0-9]+)?[eE]\+?[0-9]+")
_EXAMPLE = "digits with the country code, e.g. +86 138 0000 1234 or 8613800001234"
#: E.164 numbers have at most 15 digits; with spaces and punctuation a written one stays short.
MAX_LENGTH = 40
#: At most this many numbers in one argument (a submit is charged per number).
MAX_PHONES = 100_000


def normalize_phone(value: str | int, param: str = "phone") -> str:
    """Return ``value`` as digits with the country code, or raise :class:`ParameterError`.

    Accepts ``+86 138-0000-1234``, ``(+86) 13800001234``, ``0086 13800001234`` and plain digits;
    a number without a country code cannot be told apart from one with it, so plain digits are
    read as already carrying it.
    """
    # light DAG parsing: phonenumbers (metadata for every region) loads when a number is checked
    import phonenumbers  # heavy (metadata for every region): only when a number is checked

    parsed = _parse(value, param)
    # The national significant number keeps the leading zero some countries (Italy) need.
    return f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"


def normalize_with_country(value: str | int, param: str = "phone") -> tuple[str, str]:
    """:func:`normalize_phone` and :func:`country_of` of ``value`` at once (one parse)."""
    # light DAG parsing: phonenumbers loads when a number is checked
    import phonenumbers

    parsed = _parse(value, param)
    return (
        f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}",
        _region(phonenumbers, parsed),
    )


def _parse(value: str | int, param: str) -> Any:
    """``value`` parsed by phonenumbers, or ParameterError saying why it is no phone number."""
    # light DAG parsing: phonenumbers loads when a number is checked
    import phonenumbers

    # A float (a spreadsheet or pandas column) has lost its formatting and maybe digits: its
    # ".0" must not be read as one more digit.
    if isinstance(value, float) or (
        isinstance(value, str) and len(value) <= MAX_LENGTH and _FLOAT_TEXT.fullmatch(value.strip(" "))
    ):
        raise ParameterError(
            param,
            f"{quoted(value)} looks like a number read as a float; pass phone numbers as text ({_EXAMPLE})",
        )
    if isinstance(value, int) and not isinstance(value, bool):
        raise ParameterError(
            param,
            f"{quoted(value, 24)} is a number, not text: a number loses the + or 00 a phone number may "
            f"start with; pass phone numbers as text ({_EXAMPLE})",
        )
    if not isinstance(value, str):
        raise ParameterError(param, f"{quoted(value)} is not a phone number: expected {_EXAMPLE}")
    text = value
    if len(text) > MAX_LENGTH or not _ALLOWED.fullmatch(text):
        raise ParameterError(param, f"{quoted(value)} is not a phone number: expected {_EXAMPLE}")
    text = text.strip(" ")
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = _NOT_DIGIT.sub("", text)
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise ParameterError(
            param, f"{quoted(value)} is not a possible phone number for any country: expected {_EXAMPLE}"
        )
    return parsed


def normalize_phones(values: str | int | Iterable[str | int] | None, param: str = "phones") -> list[str]:
    """Return the numbers in ``values`` normalised and de-duplicated, in their first order.

    ``values`` may be a list (tuple, set) or a string separated by commas, semicolons or new lines.
    All bad entries are reported together, so a long contact list is fixed in one go.
    """
    if values is None:
        raise ParameterError(param, "at least one phone number is required")
    if isinstance(values, (float, int)) and not isinstance(values, bool):
        items: list[Any] = [values]  # refused below, with the reason for one number
    elif isinstance(values, str):
        if len(values) > MAX_PHONES * MAX_LENGTH:
            raise ParameterError(param, f"is too long ({len(values)} characters)")
        items = [part for part in _SEPARATORS.split(values) if part.strip(" \t")]
    elif isinstance(values, (list, tuple, set, frozenset)):
        items = list(values)
    else:
        raise ParameterError(
            param, f"expected a list of phone numbers or a comma-separated string, got {quoted(values)}"
        )
    if not items:
        raise ParameterError(param, "at least one phone number is required")
    if len(items) > MAX_PHONES:
        raise ParameterError(param, f"at most {MAX_PHONES} numbers at once, got {len(items)}")
    result: dict[str, None] = {}
    errors: list[ParameterError] = []
    bad: list[str] = []
    for item in items:
        try:
            result[normalize_phone(item, param)] = None
        except ParameterError as exc:
            errors.append(exc)
            bad.append(quoted(item, 40))
    if len(items) == 1 and errors:
        raise errors[0]  # one number: its own, precise reason
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        noun = "entry is not a phone number" if len(bad) == 1 else "entries are not phone numbers"
        raise ParameterError(param, f"{len(bad)} {noun} ({shown}): expected {_EXAMPLE}")
    return list(result)


def country_of(phone: str) -> str:
    """Return the ISO region of a normalised number, or ``+<calling code>`` when it has none."""
    # light DAG parsing: phonenumbers loads when a number is checked
    import phonenumbers

    return _region(phonenumbers, phonenumbers.parse("+" + phone, None))


def _region(phonenumbers: Any, parsed: Any) -> str:
    region = phonenumbers.region_code_for_number(parsed)
    if region and region != "ZZ":
        return str(region)
    return f"+{parsed.country_code}"


def _digits(text: Any) -> str | None:
    digits = _NOT_DIGIT.sub("", str(text or ""))
    return digits or None


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


#: The common shape's state fields, and the field each service keeps it in: (NxCloud, CAMS).
STATE_FIELDS = {
    "status": ("status", "Status"),
    "quality_rating": ("quality_rating", "QualityRating"),
    "name_status": ("name_status", "NameStatus"),
    "code_verification_status": ("code_verification_status", "CodeVerificationStatus"),
    "messaging_limit_tier": ("current_limit", "MessagingLimitTier"),
}


def _states(raw: Mapping[str, Any], service: int) -> dict[str, Any]:
    """The state fields of ``raw`` (``service``: 0 NxCloud, 1 CAMS); an empty string is None."""
    return {name: _blank_to_none(raw.get(sources[service])) for name, sources in STATE_FIELDS.items()}


def nxcloud_phone_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Map one NxCloud ``getPhone`` / ``phoneList`` record onto the common shape."""
    record: dict[str, Any] = {
        "phone_number": _digits(raw.get("business_phone")) or _digits(raw.get("display_phone_number")),
        "display_phone_number": raw.get("display_phone_number"),
        "verified_name": raw.get("verified_name"),
        **_states(raw, 0),
    }
    consumed = {"business_phone", *(sources[0] for sources in STATE_FIELDS.values()), *record}
    record.update({key: value for key, value in raw.items() if key not in consumed})
    record["service"] = NXCLOUD.conn_type
    return record


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    """``MessagingLimitTier`` → ``messaging_limit_tier``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def display_number(phone: str | None) -> str | None:
    """Format digits with country code the international way (``+86 139 0000 1111``)."""
    digits = _digits(phone)
    if digits is None:
        return phone
    # light DAG parsing: phonenumbers loads when a number is checked
    import phonenumbers

    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return "+" + digits
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def cams_phone_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Map one CAMS ``PhoneNumbers[]`` item onto the common shape; other fields become snake_case."""
    phone = raw.get("PhoneNumber")
    # Masked numbers ("861380000****") stay as CAMS shows them rather than losing digits.
    masked = isinstance(phone, str) and "*" in phone
    record: dict[str, Any] = {
        "phone_number": phone if masked else _digits(phone),
        "display_phone_number": phone if masked else display_number(phone),
        "verified_name": raw.get("VerifiedName"),
        **_states(raw, 1),
    }
    consumed = {"PhoneNumber", "VerifiedName", *(sources[1] for sources in STATE_FIELDS.values())}
    record.update({snake_case(key): value for key, value in raw.items() if key not in consumed})
    record["service"] = CAMS.conn_type
    return record
