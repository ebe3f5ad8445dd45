"""Every public method of NxCloudHook and CamsHook with generated arguments.

Each case gives valid values to all arguments but one or two, which get anything at all or a near
miss of a valid value; the oracle (rules.py) says which must be refused. A refusal must be the
package's ParameterError naming a bad argument, short, and before any request; anything else must
complete against the counting server.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
from airflow_provider_wa_phones.retry import NO_RETRY
from tests.property.calls import (
    BUSINESS_PROFILE,
    GET_PHONE_INFO,
    ITER,
    LIST_PHONES,
    PHONE_NUMBERS,
    QUERY,
    SUBMIT,
    appkey_or_connection,
    expect_business_profile,
    expect_get_phone_info,
    expect_phone_numbers,
    expect_query,
    expect_submit,
)
from tests.property.harness import Args, cases, check, examples, failure, judge, report


def call_nxcloud(method: str, args: Args) -> Any:
    hook = NxCloudHook(retry_policy=NO_RETRY)
    try:
        return getattr(hook, method)(**args)
    finally:
        hook.close()


def call_cams(method: str, args: Args) -> Any:
    hook = CamsHook(retry_policy=NO_RETRY)
    try:
        return getattr(hook, method)(**args)
    finally:
        hook.close()


# -- the properties --------------------------------------------------------------------------------


@examples(1.0)
@given(cases(GET_PHONE_INFO))
def test_get_phone_info(args: Args) -> None:
    check(
        "NxCloudHook.get_phone_info",
        args,
        lambda: call_nxcloud("get_phone_info", args),
        expect_get_phone_info(args),
    )


@examples(0.5)
@given(cases(LIST_PHONES))
@example(Args(appkey="appkey\n"))  # the README's own example of "the whole value must match"
def test_list_phones(args: Args) -> None:
    expect = judge(appkey=appkey_or_connection(args.get("appkey")))
    check("NxCloudHook.list_phones", args, lambda: call_nxcloud("list_phones", args), expect)


@examples(1.5)
@given(cases(SUBMIT, required=["phones"]))
def test_submit_number_check(args: Args) -> None:
    check(
        "NxCloudHook.submit_number_check",
        args,
        lambda: call_nxcloud("submit_number_check", args),
        expect_submit(args),
    )


@examples(1.5)
@given(cases(QUERY, required=["date", "batch_no"]))
def test_query_number_check(args: Args) -> None:
    check(
        "NxCloudHook.query_number_check",
        args,
        lambda: call_nxcloud("query_number_check", args),
        expect_query(args),
    )


@examples(1.0)
@given(cases(ITER, required=["date", "batch_no"]))
def test_iter_number_check_results(args: Args) -> None:
    """Arguments are checked when the iterator is made, before the first page is requested."""
    made: list[bool] = []

    def call() -> list[Any]:
        hook = NxCloudHook(retry_policy=NO_RETRY)
        try:
            results = hook.iter_number_check_results(**args)
            made.append(True)
            return list(results)
        finally:
            hook.close()

    test = "NxCloudHook.iter_number_check_results"
    outcome = check(test, args, call, expect_query(args, paged=False))
    if isinstance(outcome.error, ParameterError) and made:
        late = failure("RefusedOnlyWhenRead", outcome.error.param)
        report(test, args, late(f"refused when the first page was read, not when called: {args!r}"))


@examples(1.0)
@given(cases(PHONE_NUMBERS))
@example(Args(cust_space_id="space-1\n"))
def test_query_phone_numbers(args: Args) -> None:
    check(
        "CamsHook.query_phone_numbers",
        args,
        lambda: call_cams("query_phone_numbers", args),
        expect_phone_numbers(args),
    )


@examples(0.8)
@given(cases(BUSINESS_PROFILE, required=["phone_number"]))
def test_query_phone_business_profile(args: Args) -> None:
    check(
        "CamsHook.query_phone_business_profile",
        args,
        lambda: call_cams("query_phone_business_profile", args),
        expect_business_profile(args),
    )
