"""The watchers' decisions (``watches``): which arguments describe a watch, what changed since the
last look, and the state kept between looks. Plain records in, changes and state out."""

from __future__ import annotations

import json

import pytest

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.watches import WATCHABLE, Change, WatchSpec, check_spec, compare


def record(phone: str = "6281234567890", **fields: object) -> dict[str, object]:
    return {
        "service": "NxCloud",
        "phone_number": phone,
        "display_phone_number": f"+{phone}",
        "verified_name": "Shop",
        "status": "CONNECTED",
        "quality_rating": "GREEN",
        "messaging_limit_tier": "TIER_1K",
        "name_status": "APPROVED",
        **fields,
    }


# -- check_spec ------------------------------------------------------------------------------------


def test_without_arguments_every_watchable_field_is_watched_for_every_number():
    spec = check_spec(None, None, None, None)
    assert spec.fields == WATCHABLE
    assert spec.phones is None
    assert dict(spec.becomes) == {} and dict(spec.leaves) == {}


def test_fields_default_to_those_named_by_the_conditions_in_order():
    spec = check_spec(None, {"quality_rating": "red"}, {"status": ["CONNECTED"]}, ["62811"])
    assert spec.fields == ("quality_rating", "status")
    assert dict(spec.becomes) == {"quality_rating": ("RED",)}  # one value as a string, upper-cased
    assert dict(spec.leaves) == {"status": ("CONNECTED",)}
    assert spec.phones == ("62811",)


def test_a_single_field_may_be_a_string_and_duplicates_collapse():
    assert check_spec("status", None, None, None).fields == ("status",)
    assert check_spec(["status", "status"], None, None, None).fields == ("status",)


@pytest.mark.parametrize(
    ("fields", "becomes", "leaves", "param", "words"),
    [
        (["colour"], None, None, "fields", "'colour' is not a watchable field"),
        ([], None, None, "fields", "must be a list of"),
        ([1], None, None, "fields", "must be a list of"),
        (None, ["RED"], None, "becomes", "must map fields to values"),
        (None, {"colour": "RED"}, None, "becomes", "'colour' is not a watchable field"),
        (None, {1: "RED"}, None, "becomes", "field names must be strings"),
        (None, {"status": "NOT OK"}, None, "becomes", "status: must be a value or a list of values"),
        (None, {"status": []}, None, "becomes", "status: must be a value or a list of values"),
        (None, {"status": ["X"] * 51}, None, "becomes", "status: must be a value or a list of values"),
        (["status"], {"quality_rating": "RED"}, None, "becomes", "names quality_rating, which fields="),
        (["status"], None, {"name_status": "APPROVED"}, "leaves", "names name_status, which fields="),
    ],
)
def test_bad_watch_arguments_are_refused_naming_the_argument(fields, becomes, leaves, param, words):
    with pytest.raises(ParameterError) as caught:
        check_spec(fields, becomes, leaves, None)
    assert caught.value.param == param
    assert words in str(caught.value)


# -- WatchSpec.fires -------------------------------------------------------------------------------


def test_a_field_fires_on_any_change_unless_a_condition_names_it():
    spec = WatchSpec(fields=("status",))
    assert spec.fires("status", "PENDING", "CONNECTED")
    assert not spec.fires("status", "CONNECTED", "CONNECTED")
    assert not spec.fires("quality_rating", "GREEN", "RED")  # not watched


def test_becomes_and_leaves_keep_only_the_named_values():
    spec = WatchSpec(
        fields=("status", "quality_rating"),
        becomes={"quality_rating": ("RED",)},
        leaves={"status": ("CONNECTED",)},
    )
    assert spec.fires("quality_rating", "GREEN", "RED")
    assert not spec.fires("quality_rating", "GREEN", "YELLOW")
    assert spec.fires("status", "CONNECTED", "BANNED")
    assert not spec.fires("status", "PENDING", "BANNED")


# -- compare ---------------------------------------------------------------------------------------


def test_a_first_look_sets_the_baseline_and_fires_nothing():
    changes, state = compare(None, [record()], WatchSpec(), "t1")
    assert changes == []
    entry = state["6281234567890"]
    assert entry["values"] == {
        "status": "CONNECTED",
        "quality_rating": "GREEN",
        "messaging_limit_tier": "TIER_1K",
        "name_status": "APPROVED",
    }
    assert entry["since"] == dict.fromkeys(WATCHABLE, "t1")
    json.dumps(state)  # the state is plain JSON, for Airflow's asset state store


def test_a_change_fires_once_with_since_when_the_old_value_held():
    _, state = compare(None, [record()], WatchSpec(), "t1")
    changes, state = compare(state, [record(quality_rating="red")], WatchSpec(), "t2")
    (change,) = changes
    assert (change.field, change.old, change.new, change.since, change.observed_at) == (
        "quality_rating",
        "GREEN",
        "RED",  # values are compared upper-cased
        "t1",
        "t2",
    )
    assert state["6281234567890"]["since"]["quality_rating"] == "t2"
    assert state["6281234567890"]["since"]["status"] == "t1"
    again, _ = compare(state, [record(quality_rating="RED")], WatchSpec(), "t3")
    assert again == []


def test_fire_on_first_fires_every_watched_field_from_none():
    spec = WatchSpec(fields=("status", "quality_rating"))
    changes, _ = compare(None, [record()], spec, "t1", fire_on_first=True)
    assert [(c.field, c.old, c.new, c.since) for c in changes] == [
        ("status", None, "CONNECTED", None),
        ("quality_rating", None, "GREEN", None),
    ]


def test_a_change_the_filter_drops_still_moves_the_baseline():
    spec = WatchSpec(fields=("quality_rating",), becomes={"quality_rating": ("RED",)})
    _, state = compare(None, [record()], spec, "t1")
    changes, state = compare(state, [record(quality_rating="YELLOW")], spec, "t2")
    assert changes == []
    assert state["6281234567890"]["values"]["quality_rating"] == "YELLOW"
    changes, _ = compare(state, [record(quality_rating="RED")], spec, "t3")
    assert [(c.old, c.new, c.since) for c in changes] == [("YELLOW", "RED", "t2")]


def test_numbers_not_watched_or_missing_keep_their_state():
    spec = WatchSpec(phones=("111",))
    _, state = compare(None, [record("111"), record("222")], spec, "t1")
    assert set(state) == {"111"}
    changes, kept = compare(state, [record("222", status="BANNED")], spec, "t2")
    assert changes == []
    assert kept["111"] == state["111"]


def test_records_without_a_phone_number_string_are_skipped():
    changes, state = compare(None, [{"phone_number": 628}, {"status": "X"}], WatchSpec(), "t1")
    assert changes == [] and state == {}


@pytest.mark.parametrize("stored", ["not a dict", {"111": "x"}, {"111": {"values": 3}}, {5: {"values": {}}}])
def test_a_damaged_state_gives_a_new_baseline(stored):
    changes, state = compare(stored, [record("111", status="BANNED")], WatchSpec(), "t1")
    assert changes == []
    assert state["111"]["values"]["status"] == "BANNED"


# -- Change ----------------------------------------------------------------------------------------


def change(**overrides: object) -> Change:
    fields: dict[str, object] = {
        "service": "NxCloud",
        "phone_number": "111",
        "field": "status",
        "old": "CONNECTED",
        "new": "BANNED",
        "observed_at": "t2",
        "since": "t1",
    }
    fields.update(overrides)
    return Change(**fields)  # type: ignore[arg-type]


def test_the_change_id_ignores_when_it_was_observed_but_not_what_changed():
    assert change().change_id == change(observed_at="t9").change_id
    assert change().change_id != change(new="DELETED").change_id
    assert change().change_id != change(since="t0").change_id
    assert len(change().change_id) == 24


def test_the_payload_is_plain_json_with_the_change_id():
    payload = change(display_phone_number="+111").payload()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["change_id"] == change().change_id
    assert (payload["field"], payload["old"], payload["new"]) == ("status", "CONNECTED", "BANNED")
    assert payload["display_phone_number"] == "+111"
    assert "since" not in payload
