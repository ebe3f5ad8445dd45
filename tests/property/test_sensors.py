"""The three sensors: every argument through ``poke`` and through a deferrable ``execute``.

README: "Sensors check when they first look, so a deferrable sensor fails in the worker, with the
error in the task log, before it defers." So a bad value must be refused by ``poke`` and by
``execute(deferrable=True)`` alike (not become a trigger that fails later in the triggerer), and a
valid one must poke (the counting server reports nothing finished) and then defer.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import TaskDeferred
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_wa_phones.retry import NO_RETRY
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudNumberCheckSensor, NxCloudPhoneStatusSensor
from tests.property import calls
from tests.property.harness import Args, Expect, check, examples, task_cases


def poke(sensor_class: type, args: Args) -> Any:
    sensor = sensor_class(task_id="fuzzed", request_retry=NO_RETRY, **args)
    try:
        return sensor.poke({})
    finally:
        if "hook" in sensor.__dict__:
            sensor.hook.close()


def execute_deferrable(sensor_class: type, args: Args) -> Any:
    sensor = sensor_class(task_id="fuzzed", request_retry=NO_RETRY, deferrable=True, **args)
    try:
        return sensor.execute({})
    finally:
        if "hook" in sensor.__dict__:
            sensor.hook.close()


def check_both(name: str, sensor_class: type, args: Args, expect: Expect) -> None:
    check(name, args, lambda: poke(sensor_class, args), expect)
    check(
        f"{name}.execute(deferrable)",
        args,
        lambda: execute_deferrable(sensor_class, args),
        expect,
        accept=(TaskDeferred,),
        new_case=False,
    )


@examples(1.5)
@given(
    st.one_of(
        task_cases(calls.NUMBER_CHECK_SENSOR_BY_BATCHES, required=["batches"]),
        task_cases(calls.NUMBER_CHECK_SENSOR_BY_BATCH_NO, required=["batch_no", "expected_count", "date"]),
        task_cases(calls.NUMBER_CHECK_SENSOR_BY_MESSAGE_ID, required=["message_id", "date"]),
    )
)
def test_number_check_sensor(args: Args) -> None:
    check_both(
        "NxCloudNumberCheckSensor", NxCloudNumberCheckSensor, args, calls.expect_number_check_sensor(args)
    )


@examples(1.0)
@given(task_cases(calls.NXCLOUD_STATUS_SENSOR, required=["phones"]))
def test_nxcloud_phone_status_sensor(args: Args) -> None:
    check_both(
        "NxCloudPhoneStatusSensor", NxCloudPhoneStatusSensor, args, calls.expect_nxcloud_status_sensor(args)
    )


@examples(1.0)
@given(task_cases(calls.CAMS_STATUS_SENSOR, required=["phone_numbers"]))
def test_cams_phone_status_sensor(args: Args) -> None:
    check_both("CamsPhoneStatusSensor", CamsPhoneStatusSensor, args, calls.expect_cams_status_sensor(args))
