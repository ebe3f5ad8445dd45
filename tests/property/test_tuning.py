"""The arguments every hook, operator and sensor shares: the connection id, ``timeout`` /
``request_timeout``, ``retry_policy`` / ``request_retry``, CamsHook's ``rate_limit`` and the sensors'
``deferrable``. Same contract: refused with ParameterError naming them before any request (an
unknown connection id may also be Airflow's AirflowNotFoundException), or accepted and completing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from airflow.sdk.exceptions import AirflowNotFoundException, TaskDeferred
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wa_phones.exceptions import ParameterError
from airflow_provider_wa_phones.hooks.cams import CamsHook
from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
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
from airflow_provider_wa_phones.retry import NO_RETRY, RetryPolicy
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor, NxCloudPhoneStatusSensor
from tests.property import rules, values
from tests.property.harness import CAMS, NX, Args, cases, check, examples, judge, task_cases
from tests.property.rules import EITHER, INVALID, VALID

TODAY = values.today().isoformat()
PHONE = "+86 138 0000 1234"
#: Each task class, its connection argument, its connection id and arguments that are valid.
TASKS: dict[type, tuple[str, str, dict[str, Any]]] = {
    NxCloudPhoneInfoOperator: ("nxcloud_conn_id", NX, {"phones": PHONE}),
    NxCloudPhoneListOperator: ("nxcloud_conn_id", NX, {}),
    NxCloudNumberCheckOperator: ("nxcloud_conn_id", NX, {"phones": PHONE}),
    NxCloudNumberCheckResultsOperator: ("nxcloud_conn_id", NX, {"date": TODAY, "batch_no": "b"}),
    CamsPhoneNumbersOperator: ("cams_conn_id", CAMS, {}),
    CamsPhoneBusinessProfileOperator: ("cams_conn_id", CAMS, {"phone_number": PHONE}),
    NxCloudNumberCheckSensor: ("nxcloud_conn_id", NX, {"message_id": "m-1", "date": TODAY}),
    NxCloudPhoneStatusSensor: ("nxcloud_conn_id", NX, {"phones": PHONE}),
    CamsPhoneStatusSensor: ("cams_conn_id", CAMS, {"phone_numbers": PHONE}),
}
SENSORS = (NxCloudNumberCheckSensor, NxCloudPhoneStatusSensor, CamsPhoneStatusSensor)

retry_policies = st.one_of(st.none(), st.just(NO_RETRY), st.builds(RetryPolicy, max_attempts=st.just(1)))


def conn_id(value: Any, known: str) -> rules.V:
    """The known connection: VALID; any other value must be refused (it names no connection)."""
    return VALID if isinstance(value, str) and value == known else INVALID


def timeout_verdict(value: Any) -> rules.V:
    verdict = rules.request_timeout(value)
    if verdict is VALID and value < 0.1:
        return EITHER  # too short to answer in: a transport error is then fine too
    return verdict


def short_timeout_outcomes(value: Any) -> dict[str, Any]:
    """With a timeout under 0.1 s the call may time out before or after its request reached the
    server: a TransportError is then a fine outcome, with or without a request."""
    short = rules.is_real(value) and not (isinstance(value, float) and math.isnan(value)) and 0 < value < 0.1
    return {"transport": True, "sends": None} if short else {}


def rate_limit(value: Any) -> rules.V:
    """Calls per second: None turns the limit off, else a whole number from 1 to 1,000 (issue 19: a
    rate of 2**63 or of ~5,000 digits once raised OverflowError; 0 reads as off: EITHER)."""
    if value is None or (rules.is_whole(value) and 1 <= value <= 1000):
        return VALID
    return EITHER if rules.is_whole(value) and value == 0 else INVALID


def named_refusal(call: Callable[[], Any], param: str) -> Callable[[], Any]:
    """Airflow's own "connection not defined" counts as a refusal naming the connection argument."""

    def wrapped() -> Any:
        try:
            return call()
        except AirflowNotFoundException:
            raise ParameterError(param, "the connection is not defined (AirflowNotFoundException)") from None

    return wrapped


@examples(1.5)
@given(
    task=st.sampled_from(sorted(TASKS, key=lambda cls: cls.__name__)),
    args=task_cases(
        {
            "conn_id": st.sampled_from(["<known>"]),
            "request_timeout": values.timeout,
            "request_retry": retry_policies,
            "deferrable": st.one_of(st.none(), st.booleans()),
        }
    ),
)
def test_task_tuning_arguments(task: type, args: Args) -> None:
    conn_param, known, valid = TASKS[task]
    kwargs = {name: value for name, value in args.items() if name != "conn_id"}
    if "conn_id" in args:
        kwargs[conn_param] = known if args["conn_id"] == "<known>" else args["conn_id"]
    if task not in SENSORS:
        kwargs.pop("deferrable", None)
    kwargs.setdefault("request_retry", NO_RETRY)
    shown = Args({**kwargs, "task": task.__name__})
    expect = judge(
        request_timeout=timeout_verdict(kwargs.get("request_timeout", 30.0)),
        request_retry=rules.request_retry(kwargs.get("request_retry")),
        deferrable=rules.flag(kwargs.get("deferrable")),
    )
    expect.add(conn_param, conn_id(kwargs.get(conn_param, known), known))

    def run() -> Any:
        instance = task(task_id="tuned", **valid, **kwargs)
        try:
            if task in SENSORS and instance.deferrable:
                return instance.execute({})
            return instance.poke({}) if task in SENSORS else instance.execute({})
        finally:
            if "hook" in instance.__dict__:
                instance.hook.close()

    check(
        f"{task.__name__} tuning",
        shown,
        named_refusal(run, conn_param),
        expect,
        accept=(TaskDeferred,),
        **short_timeout_outcomes(kwargs.get("request_timeout")),
    )


HOOKS: dict[type, tuple[str, str, Callable[[Any], Any]]] = {
    NxCloudHook: ("nxcloud_conn_id", NX, lambda hook: hook.list_phones()),
    CamsHook: ("cams_conn_id", CAMS, lambda hook: hook.query_phone_numbers()),
}


@examples(1.0)
@given(
    hook_class=st.sampled_from([NxCloudHook, CamsHook]),
    args=cases(
        {
            "conn_id": st.sampled_from(["<known>"]),
            "timeout": values.timeout,
            "retry_policy": retry_policies,
            "rate_limit": st.one_of(st.none(), st.integers(1, 100)),
        }
    ),
)
def test_hook_constructor_arguments(hook_class: type, args: Args) -> None:
    conn_param, known, call = HOOKS[hook_class]
    kwargs = {k: v for k, v in args.items() if k != "conn_id"}
    if hook_class is NxCloudHook:
        kwargs.pop("rate_limit", None)
    kwargs.setdefault("retry_policy", NO_RETRY)
    positional = (known if args["conn_id"] == "<known>" else args["conn_id"],) if "conn_id" in args else ()
    shown = Args({**kwargs, "conn_id": positional[0] if positional else known, "hook": hook_class.__name__})
    expect = judge(
        timeout=timeout_verdict(kwargs.get("timeout", 30.0)),
        retry_policy=rules.request_retry(kwargs.get("retry_policy")),
        rate_limit=rate_limit(kwargs.get("rate_limit", 10)),
    )
    expect.add(conn_param, conn_id(shown["conn_id"], known))

    def run() -> Any:
        hook = hook_class(*positional, **kwargs)
        try:
            return call(hook)
        finally:
            hook.close()

    check(
        f"{hook_class.__name__}() arguments",
        shown,
        named_refusal(run, conn_param),
        expect,
        **short_timeout_outcomes(kwargs.get("timeout")),
    )
