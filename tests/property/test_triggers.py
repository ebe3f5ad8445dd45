"""The triggers with generated arguments.

A trigger is built by a sensor with checked values, but it is also public (an AssetWatcher or a
user's own deferral builds one), and its arguments are serialised into the metadata database and
read back in the triggerer. The triggerer survives only a TypeError from a trigger's constructor
(``create_triggers``: "Trigger failed to inflate"); anything else would stop it for every trigger.
So a constructor never raises, and the arguments are checked when the trigger runs:
``check_arguments`` is the first thing ``run()`` does, and a refusal there ends the wait with a
refused error event, before any request. What it accepts serialises to plain (JSON) data that
rebuilds the same trigger.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger
from airflow_provider_wa_phones.triggers.nxcloud import NxCloudNumberCheckTrigger, NxCloudPhoneStatusTrigger
from tests.property import rules, values
from tests.property.harness import Args, Expect, cases, check, examples, failure, judge, report
from tests.property.rules import EITHER, INVALID, VALID, optional

# -- the oracle ----------------------------------------------------------------------------------------


def normalised_list(value: Any) -> rules.V:
    """Docstring: "normalised numbers (digits with country code)"; at least one (strict: waiting for
    no number would be over at once). A number written another documented way is normalised when
    the trigger runs, or refused: EITHER."""
    if isinstance(value, list):
        container = VALID
    elif isinstance(value, tuple):
        container = EITHER
    elif isinstance(value, str):  # what a sensor's phones may be: split and normalised, or refused
        return rules.worst(rules.phones(value, empty_means_all=False), EITHER)
    else:
        return INVALID
    if not value:
        return INVALID
    return rules.worst(
        container,
        *(
            VALID if rules.normalised_phone(entry) is VALID else rules.worst(rules.phone(entry), EITHER)
            for entry in value
        ),
    )


def status(value: Any) -> rules.V:
    """The awaited status: a non-blank string; one that is not upper-case and stripped (what the
    sensors pass) is EITHER, since the trigger compares it as it is."""
    if rules.target_status(value) is INVALID:
        return INVALID
    return VALID if value == value.strip().upper() else EITHER


def statuses(value: Any, target: Any) -> rules.V:
    verdict = rules.failure_statuses(value, target)
    return rules.worst(verdict, EITHER) if isinstance(value, tuple) and verdict is not INVALID else verdict


def common(args: Args, conn_param: str) -> Expect:
    return judge(
        **{conn_param: rules.conn_id(args.get(conn_param, "default"))},
        poke_interval=rules.poke_interval(args.get("poke_interval", 30.0)),
        request_timeout=rules.request_timeout(args.get("request_timeout", 30.0)),
        retry=rules.retry_fields(args.get("retry")),
    )


def expect_phone_status(args: Args, phones_param: str, conn_param: str) -> Expect:
    expect = common(args, conn_param).judge(
        **{phones_param: normalised_list(args.get(phones_param))},
        target_status=status(args.get("target_status")),
        failure_statuses=statuses(args.get("failure_statuses"), args.get("target_status")),
    )
    if phones_param == "phones":
        return expect.judge(appkey=optional(args.get("appkey"), rules.appkey))
    return expect.judge(cust_space_id=optional(args.get("cust_space_id"), rules.space_id))


def batch_target(value: Any) -> rules.V:
    """One of NxCloudNumberCheckTrigger's batches: plain data with date, expected and batch_no or
    message_id (what BatchTarget holds)."""
    keys = {"date", "dates", "expected", "batch_no", "message_id", "submit_id"}
    if not isinstance(value, dict) or not set(value) <= keys:
        return INVALID
    batch_no, message_id = value.get("batch_no"), value.get("message_id")
    date = value.get("date")
    return rules.worst(
        rules.date(date) if isinstance(date, str) else INVALID,
        VALID if rules.is_whole(value.get("expected")) and value["expected"] >= 1 else INVALID,
        optional(batch_no, rules.identifier),
        optional(message_id, rules.identifier),
        INVALID if batch_no is None and message_id is None else VALID,
    )


def expect_number_check(args: Args) -> Expect:
    batches = args.get("batches")
    verdict = (
        rules.worst(*(batch_target(batch) for batch in batches))
        if isinstance(batches, list) and batches
        else INVALID
    )
    return common(args, "nxcloud_conn_id").judge(
        batches=verdict, appkey=optional(args.get("appkey"), rules.appkey)
    )


# -- valid values -----------------------------------------------------------------------------------

normalised_phones = st.lists(
    values.phone_entry.map(lambda entry: entry[0] + entry[1]), min_size=1, max_size=4, unique=True
)
upper_status = st.sampled_from(sorted(rules.CAMS_STATUSES))
retry = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "max_attempts": st.integers(1, 10),
            "initial_delay": st.floats(0, 5),
            "max_delay": st.floats(0, 60),
            "multiplier": st.floats(1, 4),
            "max_total_delay": st.floats(0, 600),
        },
    ),
)
COMMON = {
    "poke_interval": st.one_of(st.integers(1, 3600), st.floats(0.5, 3600)),
    "request_timeout": values.timeout,
    "retry": retry,
}
NXCLOUD_STATUS = {
    "phones": normalised_phones,
    "target_status": upper_status,
    "failure_statuses": st.lists(upper_status, max_size=3),
    "appkey": st.one_of(st.none(), values.appkey),
    "nxcloud_conn_id": st.sampled_from(["nxcloud_default", "nx_other"]),
    **COMMON,
}
CAMS_STATUS = {
    "phone_numbers": normalised_phones,
    "target_status": upper_status,
    "failure_statuses": st.lists(upper_status, max_size=3),
    "cust_space_id": st.one_of(st.none(), values.space_id),
    "cams_conn_id": st.sampled_from(["alibaba_cams_default", "cams_other"]),
    **COMMON,
}
batch_targets = st.lists(
    st.fixed_dictionaries(
        {"date": values.date.map(lambda day: day if isinstance(day, str) else day.isoformat()[:10])},
        optional={"expected": st.integers(1, 10_000)},
    ).flatmap(
        lambda batch: st.one_of(
            st.fixed_dictionaries({"batch_no": values.identifier, "message_id": st.none()}),
            st.fixed_dictionaries({"batch_no": st.none(), "message_id": values.identifier}),
        ).map(lambda ids: {"expected": 1, **batch, **ids})
    ),
    min_size=1,
    max_size=3,
)
NUMBER_CHECK = {
    "batches": batch_targets,
    "appkey": st.one_of(st.none(), values.appkey),
    "nxcloud_conn_id": st.just("nxcloud_default"),
    **COMMON,
}


def check_trigger(name: str, trigger_class: type, args: Args, expect: Expect) -> None:
    """Construct (never raises), check the arguments as ``run()`` does first; when accepted and
    valid, check the round trip through the metadata database: plain JSON data that rebuilds an
    equal trigger."""
    try:
        trigger = trigger_class(**args)
    except TypeError:  # a missing or unknown keyword: the triggerer's "failed to inflate"
        return
    outcome = check(f"{name}()", args, lambda: (trigger.check_arguments(), trigger)[1], expect, sends=False)
    if outcome.error is not None or expect.refusable:
        return
    path, kwargs = outcome.result.serialize()
    try:
        text = json.dumps(kwargs)
    except (TypeError, ValueError) as exc:
        report(name, args, failure("NotPlainData", name)(f"{args!r}: {type(exc).__name__}: {exc}"))
        return
    again = trigger_class(**json.loads(text))
    again.check_arguments()
    if again.serialize() != (path, kwargs):
        report(name, args, failure("RoundTripChanged", name)(f"{args!r}"))


@examples(0.8)
@given(cases(NXCLOUD_STATUS, required=["phones", "target_status", "failure_statuses"]))
def test_nxcloud_phone_status_trigger(args: Args) -> None:
    check_trigger(
        "NxCloudPhoneStatusTrigger",
        NxCloudPhoneStatusTrigger,
        args,
        expect_phone_status(args, "phones", "nxcloud_conn_id"),
    )


@examples(0.8)
@given(cases(CAMS_STATUS, required=["phone_numbers", "target_status", "failure_statuses"]))
def test_cams_phone_status_trigger(args: Args) -> None:
    check_trigger(
        "CamsPhoneStatusTrigger",
        CamsPhoneStatusTrigger,
        args,
        expect_phone_status(args, "phone_numbers", "cams_conn_id"),
    )


@examples(0.8)
@given(cases(NUMBER_CHECK, required=["batches"]))
def test_number_check_trigger(args: Args) -> None:
    check_trigger("NxCloudNumberCheckTrigger", NxCloudNumberCheckTrigger, args, expect_number_check(args))
