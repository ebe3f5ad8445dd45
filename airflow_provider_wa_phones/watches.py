"""What changed since the last look: the decisions of the phone watchers (the event triggers an
``AssetWatcher`` runs), pure functions over plain data.

A watch compares each poll's common-shape phone records with the state it last saw and returns one
:class:`Change` per number and field that changed and passes the filter. The state is plain JSON,
so a triggerer can keep it in Airflow's asset state store across restarts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.exceptions import ParameterError

#: The fields a watch can follow, in the common phone record's names.
WATCHABLE = ("status", "quality_rating", "messaging_limit_tier", "name_status")

_VALUE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


@dataclass(frozen=True)
class WatchSpec:
    """Which changes fire: of ``fields``, for ``phones`` (None: every number of the account).

    ``becomes`` keeps a field's change only when its new value is listed (``quality_rating`` becomes
    ``RED``); ``leaves`` only when its old value is listed (``status`` leaves ``CONNECTED``). Both
    may name several fields; a field named in neither fires on any change.
    """

    fields: tuple[str, ...] = WATCHABLE
    phones: tuple[str, ...] | None = None
    becomes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    leaves: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def fires(self, name: str, old: Any, new: Any) -> bool:
        """Whether a change of field ``name`` from ``old`` to ``new`` fires."""
        if name not in self.fields or old == new:
            return False
        if name in self.becomes and new not in self.becomes[name]:
            return False
        return not (name in self.leaves and old not in self.leaves[name])


def check_spec(fields: Any, becomes: Any, leaves: Any, phones: list[str] | None) -> WatchSpec:
    """The watch a trigger's arguments describe, each checked (:class:`ParameterError`).

    ``fields`` defaults to the fields named in ``becomes`` and ``leaves``, or all of them.
    """
    conditions = {"becomes": _conditions("becomes", becomes), "leaves": _conditions("leaves", leaves)}
    if fields is None:
        named = [*conditions["becomes"], *conditions["leaves"]]
        chosen = tuple(dict.fromkeys(named)) or WATCHABLE
    else:
        chosen = _fields("fields", fields)
        for param, given in conditions.items():
            extra = sorted(set(given) - set(chosen))
            if extra:
                raise ParameterError(param, f"names {', '.join(extra)}, which fields= does not watch")
    return WatchSpec(
        chosen, None if phones is None else tuple(phones), conditions["becomes"], conditions["leaves"]
    )


def _fields(param: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) for v in value):
        raise ParameterError(param, f"must be a list of {', '.join(WATCHABLE)}, got {checks.quoted(value)}")
    unknown = [v for v in value if v not in WATCHABLE]
    if unknown:
        raise ParameterError(
            param, f"{checks.quoted(unknown[0])} is not a watchable field ({', '.join(WATCHABLE)})"
        )
    return tuple(dict.fromkeys(value))


def _conditions(param: str, value: Any) -> dict[str, tuple[str, ...]]:
    """``{field: [values]}`` checked: watchable fields, each with 1 to 50 values of letters, digits
    and ``_ . -`` (a single value may be given as a string)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or len(value) > len(WATCHABLE):
        raise ParameterError(
            param,
            f"must map fields to values, e.g. {{'quality_rating': ['RED']}}, got {checks.quoted(value)}",
        )
    result = {}
    for name, values in value.items():
        if not isinstance(name, str):
            raise ParameterError(param, f"field names must be strings, got {checks.quoted(name)}")
        (name,) = _fields(param, [name])
        listed = [values] if isinstance(values, str) else values
        if (
            not isinstance(listed, (list, tuple))
            or not 0 < len(listed) <= 50
            or not all(isinstance(v, str) and _VALUE.fullmatch(v) for v in listed)
        ):
            raise ParameterError(
                param, f"{name}: must be a value or a list of values such as RED, got {checks.quoted(values)}"
            )
        result[name] = tuple(v.upper() for v in listed)
    return result


@dataclass(frozen=True)
class Change:
    """One field of one number that changed, as a watcher's event payload carries it."""

    service: str
    phone_number: str
    field: str
    old: Any
    new: Any
    observed_at: str
    since: str | None
    display_phone_number: str | None = None
    verified_name: str | None = None

    @property
    def change_id(self) -> str:
        """The same for the same change seen again (after a triggerer restart): number, field, old
        and new value, and since when the old value held."""
        key = json.dumps([self.service, self.phone_number, self.field, self.old, self.new, self.since])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]

    def payload(self) -> dict[str, Any]:
        """Plain JSON for a ``TriggerEvent`` (an ``AssetEvent``'s ``extra["payload"]``)."""
        return {
            "service": self.service,
            "phone_number": self.phone_number,
            "display_phone_number": self.display_phone_number,
            "verified_name": self.verified_name,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "observed_at": self.observed_at,
            "change_id": self.change_id,
        }


def _value(record: Mapping[str, Any], name: str) -> Any:
    value = record.get(name)
    return value.upper() if isinstance(value, str) else value


def _well_formed(state: Any) -> dict[str, Any]:
    """The entries of a stored state that have the shape :func:`compare` writes (others are dropped:
    their numbers get a new baseline)."""
    if not isinstance(state, Mapping):
        return {}
    return {
        phone: {"values": dict(entry["values"]), "since": dict(entry.get("since") or {})}
        for phone, entry in state.items()
        if isinstance(phone, str)
        and isinstance(entry, Mapping)
        and isinstance(entry.get("values"), Mapping)
        and isinstance(entry.get("since") or {}, Mapping)
    }


def compare(
    state: Mapping[str, Any] | None,
    records: Iterable[Mapping[str, Any]],
    spec: WatchSpec,
    observed_at: str,
    *,
    fire_on_first: bool = False,
) -> tuple[list[Change], dict[str, Any]]:
    """The changes between ``state`` (what was last seen, or None) and ``records`` (one poll's
    common-shape records), and the state to keep.

    A number seen for the first time sets its baseline; with ``fire_on_first`` its watched fields
    fire too, from ``None``. A number missing from a poll keeps its last state (nothing fires).
    """
    kept = _well_formed(state)
    changes: list[Change] = []
    wanted = set(spec.phones) if spec.phones is not None else None
    for record in records:
        phone = record.get("phone_number")
        if not isinstance(phone, str) or (wanted is not None and phone not in wanted):
            continue
        values = {name: _value(record, name) for name in spec.fields}
        previous = kept.get(phone)
        if previous is None:
            kept[phone] = {"values": values, "since": dict.fromkeys(values, observed_at)}
            if not fire_on_first:
                continue
            previous = {"values": dict.fromkeys(values), "since": {}}
        old_values, since = previous["values"], dict(previous.get("since", {}))
        for name in spec.fields:
            old, new = old_values.get(name), values[name]
            if old == new:
                continue
            if spec.fires(name, old, new):
                changes.append(
                    Change(
                        service=str(record.get("service")),
                        phone_number=phone,
                        field=name,
                        old=old,
                        new=new,
                        observed_at=observed_at,
                        since=since.get(name),
                        display_phone_number=record.get("display_phone_number"),
                        verified_name=record.get("verified_name"),
                    )
                )
            since[name] = observed_at
        kept[phone] = {"values": values, "since": since}
    return changes, kept
