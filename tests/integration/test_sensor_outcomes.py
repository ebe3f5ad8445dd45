"""One outcome per situation, in every mode: the whole table of the README's "Sensor outcomes".

Each cell runs a real sensor against the live sandbox the way Airflow's task runner would in that
mode (poke: ``execute`` pokes in the worker; reschedule: ``execute`` with a first reschedule date;
deferrable: ``execute`` defers, the real trigger runs, then ``resume_execution`` gets its event or
the triggerer's timeout) and classifies what comes out the way the task runner does
(``airflow.sdk.execution_time.task_runner``): a skip, a failure without retries
(``AirflowFailException``, ``AirflowSensorTimeout``), a failure that retries (anything else).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from airflow.sdk.exceptions import (
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.sensors.base import OUTCOMES, SITUATIONS
from airflow_provider_wa_phones.sensors.cams import CamsPhoneStatusSensor
from airflow_provider_wa_phones.sensors.nxcloud import NxCloudPhoneStatusSensor

pytestmark = pytest.mark.integration

# "deferred": a deferrable sensor whose first look found nothing, so the trigger meets the situation.
MODES = ["poke", "reschedule", "deferrable", "deferred"]
FLAGS = ["default", "soft_fail", "never_fail"]
SUCCESS, SKIPPED, FAILED, RETRIED = "success", "skipped", "failed, no retry", "failed, retried"

#: situation -> outcome under (default, soft_fail, never_fail): the package's own table (the docs
#: show it), checked here cell by cell against what the sensors do.
TABLE = OUTCOMES


class _TaskInstance:
    """What reschedule mode asks of a task instance: when it first rescheduled."""

    def __init__(self, first_reschedule: dt.datetime | None) -> None:
        self.first_reschedule = first_reschedule

    def get_first_reschedule_date(self, context: Any) -> dt.datetime | None:
        return self.first_reschedule


def make_sensor(situation: str, mode: str, flag: str, monkeypatch, sandbox) -> Any:
    kwargs: dict[str, Any] = {
        "task_id": "wait",
        "poke_interval": 0.01,
        "timeout": 60,
        "request_retry": RetryPolicy(max_attempts=1),
    }
    if flag != "default":
        kwargs[flag] = True
    kwargs.update({"mode": "reschedule"} if mode == "reschedule" else {"deferrable": mode != "poke"})
    phones = "+86 138 0000 1234"  # CONNECTED on NxCloud
    if situation == "failure status":
        phones = "+55 11 98765-4321"
        sandbox.advance(10)  # BANNED from 8 s on its timeline
    elif situation == "timeout":
        phones = "+62 812-3456-7890"  # PENDING, and the sandbox's clock stands still
        kwargs["timeout"] = 0.05
    elif situation == "parameter":
        phones = ["+86 138 0000 1234\n"]  # a whole-value rule: in a list, a newline is no separator
    elif situation == "missing connection":
        kwargs["nxcloud_conn_id"] = "no_such_connection"
    elif situation == "credentials":
        conn = sandbox.connections()["nxcloud_default"] | {"password": "not-the-secret"}
        monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", json.dumps(conn))
    sensor = NxCloudPhoneStatusSensor(phones=phones, **kwargs)
    if situation == "unexpected":

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(type(sensor), "fetch_records", broken)
        monkeypatch.setattr(
            "airflow_provider_wa_phones.triggers.nxcloud.NxCloudPhoneStatusTrigger.check", broken
        )
    return sensor


def trigger_of(sensor: Any) -> Any:
    """The sensor's trigger, built from its arguments as given (a bad one reaches the trigger too,
    as it would from a sensor of an older version or a hand-made trigger)."""
    from airflow_provider_wa_phones.exceptions import ParameterError
    from airflow_provider_wa_phones.phones import normalize_phones
    from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneStatusTrigger

    try:
        phones = normalize_phones(sensor.phones)
    except ParameterError:
        phones = list(sensor.phones) if isinstance(sensor.phones, list) else [sensor.phones]
    return NxCloudPhoneStatusTrigger(
        phones=phones,
        target_status="CONNECTED",
        failure_statuses=["BANNED", "DELETED", "MIGRATED", "DISCONNECTED"],
        nxcloud_conn_id=sensor.nxcloud_conn_id,
        poke_interval=0.01,
        retry={"max_attempts": 1},
    )


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def drive(sensor: Any, mode: str, situation: str) -> str:
    """Run ``sensor`` as Airflow would in ``mode`` and say how the task instance would end."""
    from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason

    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    context: dict[str, Any] = {"ti": _TaskInstance(long_ago if situation == "timeout" else None)}
    try:
        try:
            if mode == "deferred":  # past the first look: the trigger the sensor would have made
                raise TaskDeferred(trigger=trigger_of(sensor), method_name="execute_complete")
            sensor.execute(context)
        except AirflowRescheduleException:
            return "rescheduled"
        except TaskDeferred as deferred:
            if situation == "timeout":  # the triggerer gives up on the task's behalf
                kwargs = {"error": TriggerFailureReason.TRIGGER_TIMEOUT}
                sensor.resume_execution(TRIGGER_FAIL_REPR, kwargs, context)
            else:
                event = asyncio.run(asyncio.wait_for(_first_event(deferred.trigger), 10))
                sensor.resume_execution(deferred.method_name, {"event": event}, context)
    except AirflowSkipException:
        return SKIPPED
    except (AirflowFailException, AirflowSensorTimeout):
        return FAILED
    except Exception:
        return RETRIED
    return SUCCESS


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("situation", sorted(TABLE))
@pytest.mark.parametrize("mode", MODES)
def test_every_situation_ends_the_same_way_in_every_mode(sandbox, monkeypatch, mode, situation, flag):
    sensor = make_sensor(situation, mode, flag, monkeypatch, sandbox)
    expected = TABLE[situation][FLAGS.index(flag)]
    assert drive(sensor, mode, situation) == expected
    if expected == SUCCESS or situation in ("credentials", "failure status", "unexpected", "timeout"):
        return
    assert sandbox.request_count() == 0  # parameters and connections are refused before any request


def test_the_table_names_every_outcome_the_tests_drive():
    assert set(TABLE) == set(SITUATIONS)
    assert {cell for outcomes in TABLE.values() for cell in outcomes} == {SUCCESS, SKIPPED, FAILED, RETRIED}


def test_a_cams_sensor_follows_the_same_table(sandbox, monkeypatch):
    conn = sandbox.connections()["alibaba_cams_default"] | {"password": "not-the-secret"}
    monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", json.dumps(conn))
    for flag, expected in zip(FLAGS, TABLE["credentials"], strict=True):
        for mode in MODES:
            kwargs: dict[str, Any] = {"task_id": "wait", "phone_numbers": "6591110000", "poke_interval": 0.01}
            if flag != "default":
                kwargs[flag] = True
            kwargs.update({"mode": "reschedule"} if mode == "reschedule" else {"deferrable": mode != "poke"})
            if mode != "deferred":
                assert drive(CamsPhoneStatusSensor(**kwargs), mode, "credentials") == expected, (flag, mode)
