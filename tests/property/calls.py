"""Each public callable's arguments: valid values to generate, and the oracle's verdict on a case.

The per-argument rules are in rules.py; this module combines them per method, operator and sensor,
with the rules that tie arguments together (batch_no or message_id, the country suffix, "either
batches or a query").
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.property import rules, values
from tests.property.harness import Args, Expect, judge
from tests.property.rules import INVALID, VALID, optional

# -- the oracle for each method ---------------------------------------------------------------------


def appkey_or_connection(value: Any) -> rules.V:
    """An omitted appkey falls back to the connection's, which is valid in these tests."""
    return optional(value, rules.appkey)


def expect_get_phone_info(args: Args) -> Expect:
    return judge(
        phones=rules.phones(args.get("phones"), empty_means_all=True),
        appkey=appkey_or_connection(args.get("appkey")),
    )


def expect_submit(args: Args) -> Expect:
    expect = judge(
        phones=rules.phones(args.get("phones"), empty_means_all=False),
        appkey=appkey_or_connection(args.get("appkey")),
        check_level=rules.check_level(args.get("check_level", 1)),
        batch_no=optional(args.get("batch_no"), rules.identifier),
        dr_url=rules.dr_url(args.get("dr_url")),
        reuse_existing=rules.flag(args.get("reuse_existing", False)),
        lost_response_wait=rules.seconds(args.get("lost_response_wait", 60.0), most=3600, zero=VALID),
    )
    batch_no = args.get("batch_no")
    if "phones" not in expect.refusable and "batch_no" not in expect.refusable and batch_no is not None:
        # README: with several countries, at most 64 characters including the "-<country>" suffix.
        entries = rules.phone_entries(args["phones"]) or []
        countries = {rules.country_suffix(rules.normalise(entry)) for entry in entries}
        if len(countries) > 1 and any(len(batch_no) + 1 + len(country) > 64 for country in countries):
            expect.add("batch_no", INVALID)
    return expect


def expect_query(args: Args, *, paged: bool = True) -> Expect:
    expect = judge(
        date=rules.date(args.get("date")),
        batch_no=optional(args.get("batch_no"), rules.identifier),
        message_id=optional(args.get("message_id"), rules.identifier),
        phone=optional(args.get("phone"), rules.phone),
        appkey=optional(args.get("appkey"), rules.appkey),
        page_size=rules.page_size(args.get("page_size", 100)),
    )
    if paged:
        expect.add("page", rules.page(args.get("page", 1)))
    needs_one(expect, args)
    return expect


def needs_one(expect: Expect, args: dict[str, Any]) -> None:
    """README: a query needs batch_no or message_id. With no batch_no and a bad message_id, an error
    naming batch_no ("batch_no or message_id is required") is as right as one naming message_id."""
    if args.get("batch_no") is None:
        if args.get("message_id") is None:
            expect.add("batch_no", INVALID)
        elif rules.identifier(args["message_id"]) is INVALID:
            expect.add("batch_no", rules.EITHER)


def expect_phone_numbers(args: Args) -> Expect:
    return judge(
        cust_space_id=optional(args.get("cust_space_id"), rules.space_id),  # None: the connection's
        isv_code=optional(args.get("isv_code"), rules.space_id),
        status=optional(args.get("status"), rules.cams_status),
    )


def expect_business_profile(args: Args) -> Expect:
    return judge(
        phone_number=rules.phone(args.get("phone_number")),
        cust_space_id=optional(args.get("cust_space_id"), rules.space_id),
    )


# -- valid values of each method's arguments ---------------------------------------------------------

GET_PHONE_INFO = {
    "phones": st.one_of(st.none(), st.sampled_from(["", []]), values.phone_list),
    "appkey": st.one_of(st.none(), values.appkey),
}
LIST_PHONES = {"appkey": st.one_of(st.none(), values.appkey)}
SUBMIT = {
    "phones": values.phone_list,
    "appkey": st.one_of(st.none(), values.appkey),
    "batch_no": st.one_of(st.none(), values.identifier),
    "check_level": values.check_level,
    "dr_url": st.one_of(st.none(), values.dr_url),
    "reuse_existing": st.booleans(),
    "lost_response_wait": st.floats(0, 120),
}
QUERY = {
    "date": values.date,
    "batch_no": values.identifier,
    "message_id": st.one_of(st.none(), values.identifier),
    "phone": st.one_of(st.none(), values.phone),
    "appkey": st.one_of(st.none(), values.appkey),
    "page": values.page,
    "page_size": values.page_size,
}
ITER = {name: strategy for name, strategy in QUERY.items() if name != "page"}
PHONE_NUMBERS = {
    "cust_space_id": st.one_of(st.none(), values.space_id),
    "isv_code": st.one_of(st.none(), values.space_id),
    "status": st.one_of(st.none(), values.cams_status),
}
BUSINESS_PROFILE = {"phone_number": values.phone, "cust_space_id": st.one_of(st.none(), values.space_id)}


# -- operators ---------------------------------------------------------------------------------------


def expect_number_check_operator(args: Args) -> Expect:
    """As submit_number_check; an empty batch_no reads as "derive one from the task" (EITHER)."""
    if args.get("batch_no") == "":
        args = Args({**args, "batch_no": None})
        return expect_submit(args).judge(batch_no=rules.EITHER)
    return expect_submit(args)


def batch_entry(*, fuzz: bool) -> st.SearchStrategy[dict[str, Any]]:
    """One entry of NxCloudNumberCheckOperator's XCom; with ``fuzz``, one of its fields is fuzzed."""
    fields: dict[str, st.SearchStrategy[Any]] = {
        "batch_no": st.one_of(st.none(), values.identifier),
        "message_id": values.identifier,
        "country": st.sampled_from(["CN", "US", "001"]),
        "phone_count": st.integers(1, 5),
        "date": values.date.map(lambda day: day if isinstance(day, str) else day.isoformat()[:10]),
        "reused": st.booleans(),
    }
    if not fuzz:
        return st.fixed_dictionaries(fields)
    return st.sampled_from(sorted(fields)).flatmap(
        lambda name: st.fixed_dictionaries(
            {
                key: (values.fuzzed(strategy, deep=False) if key == name else strategy)
                for key, strategy in fields.items()
            }
        )
    )


batches = st.one_of(
    st.lists(batch_entry(fuzz=False), min_size=1, max_size=3),
    st.lists(batch_entry(fuzz=True), min_size=1, max_size=2),
    batch_entry(fuzz=False),
)


def judge_entries(expect: Expect, value: Any, *, needs_count: bool) -> None:
    """README: "a list of dicts (or one dict)", each with its date and batch_no or message_id;
    for the sensor also a phone_count >= 1. An entry's error may name its field or ``batches``."""
    entries = [value] if isinstance(value, dict) else value
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) for entry in entries):
        expect.add("batches", INVALID)
        return
    for entry in entries:
        bad: dict[str, rules.V] = {"date": rules.date(entry.get("date"))}
        batch_no, message_id = entry.get("batch_no"), entry.get("message_id")
        if batch_no is not None:
            bad["batch_no"] = rules.identifier(batch_no)
            # The message id is not used when there is a batch number.
            bad["message_id"] = rules.EITHER if rules.identifier(message_id) is INVALID else VALID
        elif message_id is None:
            bad["batch_no"] = INVALID
        else:
            bad["message_id"] = rules.identifier(message_id)
        if needs_count:
            count = entry.get("phone_count")
            # XCom holds an int; its text is not what the operator returns (EITHER).
            bad["batches"] = rules.whole_number(count, 1, rules.MAX_EXPECTED_COUNT)
        for name, verdict in bad.items():
            expect.add(name, verdict)
            if verdict is not VALID:
                expect.add("batches", verdict)


def expect_results_operator(args: Args) -> Expect:
    expect = judge(
        phone=optional(args.get("phone"), rules.phone),
        appkey=optional(args.get("appkey"), rules.appkey),
        page_size=rules.page_size(args.get("page_size", 100)),
        max_xcom_records=rules.max_xcom_records(args.get("max_xcom_records", 1000)),
        output_path=output_path(args.get("output_path")),
    )
    if args.get("batches") is None:
        expect.judge(
            date=rules.date(args.get("date")),
            batch_no=optional(args.get("batch_no"), rules.identifier),
            message_id=optional(args.get("message_id"), rules.identifier),
        )
        needs_one(expect, args)
        return expect
    # README: "either batches or date with batch_no/message_id, not both".
    for name in ("date", "batch_no", "message_id"):
        value = args.get(name)
        if value == "":  # what an unset template renders: README keeps it as not given
            expect.add(name, rules.EITHER)
        elif value is not None:
            expect.add("batches", INVALID)
            expect.add(name, INVALID)
    judge_entries(expect, args["batches"], needs_count=False)
    return expect


def output_path(value: Any) -> rules.V:
    """None or empty: results go to XCom; else a file path that can be written (these cases only
    generate paths in a scratch folder). Issue 19: the whole value, like every other rule: no NUL
    byte, no hidden character (control, such as a trailing newline; direction or zero-width marks;
    a lone surrogate), no surrounding spaces, at most 4,096 characters."""
    if value is None or value == "":
        return VALID
    if not isinstance(value, str) or "\x00" in value or len(value) > 4096:
        return INVALID
    if not rules.visible(value) or value != value.strip():
        return INVALID
    return VALID


RESULTS_COMMON = {
    "phone": st.one_of(st.none(), values.phone),
    "appkey": st.one_of(st.none(), values.appkey),
    "page_size": values.page_size,
    "max_xcom_records": st.integers(1, 10**6),
}
RESULTS_BY_QUERY = {
    "date": values.date,
    "batch_no": values.identifier,
    "message_id": st.one_of(st.none(), values.identifier),
    **RESULTS_COMMON,
}
RESULTS_BY_BATCHES = {
    "batches": batches,
    "date": st.none(),
    "batch_no": st.none(),
    "message_id": st.none(),
    **RESULTS_COMMON,
}
PHONE_INFO_OPERATOR = GET_PHONE_INFO
PHONE_LIST_OPERATOR = LIST_PHONES
NUMBER_CHECK_OPERATOR = {
    name: SUBMIT[name] for name in ("phones", "appkey", "batch_no", "check_level", "dr_url")
}
CAMS_NUMBERS_OPERATOR = PHONE_NUMBERS
CAMS_PROFILE_OPERATOR = BUSINESS_PROFILE


# -- sensors -----------------------------------------------------------------------------------------


def expect_number_check_sensor(args: Args) -> Expect:
    expect = judge(appkey=optional(args.get("appkey"), rules.appkey))
    if args.get("batches") is not None:
        # README: "either batches or batch_no/message_id/expected_count, not both".
        for name in ("batch_no", "message_id", "expected_count"):
            value = args.get(name)
            if value == "":  # what an unset template renders: README keeps it as not given
                expect.add(name, rules.EITHER)
            elif value is not None:
                expect.add("batches", INVALID)
                expect.add(name, INVALID)
        if args.get("date") == "":  # an unset template, like the three above: not given
            expect.add("date", rules.EITHER)
        elif args.get("date") is not None:  # not used with batches: harmless if valid
            verdict = rules.date(args["date"])
            expect.add("date", rules.EITHER if verdict is VALID else INVALID)
            expect.add("batches", rules.EITHER if verdict is VALID else INVALID)
        judge_entries(expect, args["batches"], needs_count=True)
        return expect
    batch_no, message_id, count = args.get("batch_no"), args.get("message_id"), args.get("expected_count")
    expect.judge(
        date=rules.date(args.get("date")),
        batch_no=optional(batch_no, rules.identifier),
        message_id=optional(message_id, rules.identifier),
        expected_count=optional(count, rules.expected_count),
    )
    needs_one(expect, args)
    if batch_no is not None and count is None:
        expect.add("expected_count", INVALID)  # README: required with batch_no
    return expect


def expect_phone_status_sensor(args: Args, phones_param: str) -> Expect:
    target = args.get("target_status", "CONNECTED")
    failures = args.get("failure_statuses", ("BANNED", "DELETED", "MIGRATED", "DISCONNECTED"))
    return Expect().judge(
        **{phones_param: rules.phones(args.get(phones_param), empty_means_all=False)},
        target_status=rules.target_status(target),
        failure_statuses=rules.failure_statuses(failures, target),
    )


def expect_nxcloud_status_sensor(args: Args) -> Expect:
    return expect_phone_status_sensor(args, "phones").judge(appkey=optional(args.get("appkey"), rules.appkey))


def expect_cams_status_sensor(args: Args) -> Expect:
    return expect_phone_status_sensor(args, "phone_numbers").judge(
        cust_space_id=optional(args.get("cust_space_id"), rules.space_id)
    )


NUMBER_CHECK_SENSOR_BY_BATCHES = {
    "batches": batches,
    "batch_no": st.none(),
    "message_id": st.none(),
    "expected_count": st.none(),
    "date": st.none(),
    "appkey": st.one_of(st.none(), values.appkey),
}
NUMBER_CHECK_SENSOR_BY_BATCH_NO = {
    "batch_no": values.identifier,
    "expected_count": st.one_of(st.integers(1, 5000), st.integers(1, 5000).map(str)),
    "date": values.date,
    "appkey": st.one_of(st.none(), values.appkey),
}
NUMBER_CHECK_SENSOR_BY_MESSAGE_ID = {
    "message_id": values.identifier,
    "expected_count": st.one_of(st.none(), st.integers(1, 5)),
    "date": values.date,
    "appkey": st.one_of(st.none(), values.appkey),
}
STATUS_SENSOR = {
    "target_status": values.status_word,
    "failure_statuses": values.failure_statuses,
}
NXCLOUD_STATUS_SENSOR = {
    "phones": st.one_of(values.phone_list),
    **STATUS_SENSOR,
    "appkey": st.one_of(st.none(), values.appkey),
}
CAMS_STATUS_SENSOR = {
    "phone_numbers": values.phone_list,
    **STATUS_SENSOR,
    "cust_space_id": st.one_of(st.none(), values.space_id),
}
