"""All six operators: constructor and ``execute`` with generated arguments.

Operators take templated values, so a constructor may keep any value and check it in ``execute``;
either way a bad value must end as the package's ParameterError, before any request, and a valid
one must run to the end against the counting server.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wa_phones.operators.cams import (
    CamsPhoneBusinessProfileOperator,
    CamsPhoneNumbersOperator,
)
from airflow_provider_wa_phones.operators.nxcloud import (
    NxCloudNumberCheckOperator,
    NxCloudNumberCheckResultsOperator,
    NxCloudPhoneInfoOperator,
    NxCloudPhoneListOperator,
)
from airflow_provider_wa_phones.retry import NO_RETRY
from tests.property import calls, values
from tests.property.harness import SCRATCH, Args, check, examples, task_cases

_names = itertools.count()


def run(operator_class: type, args: Args) -> Any:
    """Build the operator as a DAG file would, then run it as a worker would."""
    operator = operator_class(task_id="fuzzed", request_retry=NO_RETRY, **args)
    try:
        return operator.execute({})
    finally:
        if "hook" in operator.__dict__:
            operator.hook.close()


def _scratch_file(name: str) -> str:
    return str(SCRATCH / f"{next(_names)}-{name}")


#: Output paths: files in the scratch folder (odd but legal names too), and values that are no path
#: at all. Never bytes or path-like objects: those are real relative paths and would be written.
output_paths = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["results.jsonl", "r\u00e9sultats.jsonl", "with space.jsonl", "new\nline"]).map(
        _scratch_file
    ),
    st.text(st.characters(exclude_characters="/"), min_size=1, max_size=20)
    .filter(lambda name: name not in (".", ".."))
    .map(_scratch_file),
    st.just("file://" + str(SCRATCH / "by-url.jsonl")),
    st.one_of(
        values.numbers, st.booleans(), st.sampled_from([object(), values.Opaque(), values.a_function, [], {}])
    ),
)


@examples(0.8)
@given(task_cases(calls.PHONE_INFO_OPERATOR))
def test_phone_info_operator(args: Args) -> None:
    check(
        "NxCloudPhoneInfoOperator",
        args,
        lambda: run(NxCloudPhoneInfoOperator, args),
        calls.expect_get_phone_info(args),
    )


@examples(0.5)
@given(task_cases(calls.PHONE_LIST_OPERATOR))
def test_phone_list_operator(args: Args) -> None:
    check(
        "NxCloudPhoneListOperator",
        args,
        lambda: run(NxCloudPhoneListOperator, args),
        calls.judge(appkey=calls.appkey_or_connection(args.get("appkey"))),
    )


@examples(1.0)
@given(task_cases(calls.NUMBER_CHECK_OPERATOR, required=["phones"]))
def test_number_check_operator(args: Args) -> None:
    check(
        "NxCloudNumberCheckOperator",
        args,
        lambda: run(NxCloudNumberCheckOperator, args),
        calls.expect_number_check_operator(args),
    )


@examples(1.5)
@given(
    st.one_of(
        task_cases(
            {**calls.RESULTS_BY_QUERY, "output_path": output_paths},
            required=["date", "batch_no"],
            raw=["output_path"],
        ),
        task_cases(
            {**calls.RESULTS_BY_BATCHES, "output_path": output_paths},
            required=["batches"],
            raw=["output_path"],
        ),
    )
)
def test_number_check_results_operator(args: Args) -> None:
    check(
        "NxCloudNumberCheckResultsOperator",
        args,
        lambda: run(NxCloudNumberCheckResultsOperator, args),
        calls.expect_results_operator(args),
    )


@examples(0.8)
@given(task_cases(calls.CAMS_NUMBERS_OPERATOR))
def test_cams_phone_numbers_operator(args: Args) -> None:
    check(
        "CamsPhoneNumbersOperator",
        args,
        lambda: run(CamsPhoneNumbersOperator, args),
        calls.expect_phone_numbers(args),
    )


@examples(0.8)
@given(task_cases(calls.CAMS_PROFILE_OPERATOR, required=["phone_number"]))
def test_cams_business_profile_operator(args: Args) -> None:
    check(
        "CamsPhoneBusinessProfileOperator",
        args,
        lambda: run(CamsPhoneBusinessProfileOperator, args),
        calls.expect_business_profile(args),
    )
