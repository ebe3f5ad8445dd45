"""Sensor for Alibaba Cloud CAMS: sender numbers to reach a status.

DAG files import this module at parse time, so it imports only ``airflow.sdk``, the trigger it
defers to and the provider's light modules; hooks, HTTP and phone-number libraries load when a
task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones.operators.base import CamsTask
from airflow_provider_wa_phones.phones import normalize_phones
from airflow_provider_wa_phones.sensors.base import PhoneStatusWait
from airflow_provider_wa_phones.waits import DEFAULT_FAILURE_STATUSES

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger


class CamsPhoneStatusSensor(CamsTask, PhoneStatusWait):
    """Wait until every listed sender number of a CAMS space has ``target_status`` (default
    CONNECTED).

    One ``QueryChatappPhoneNumbers`` call per poke covers all numbers. A number in a failure status
    fails the task at once, naming the number and its status (``soft_fail`` skips instead). A
    number not yet in the space counts as still waiting.

    :param phone_numbers: the numbers, as a list or comma-separated string, with country code.
        Templated.
    :param cust_space_id: the ChatApp space; defaults to the connection's. Templated.
    :param target_status: the awaited status. Templated.
    :param failure_statuses: statuses that end the wait (default BANNED, DELETED, MIGRATED,
        DISCONNECTED).
    :param cams_conn_id: an ``alibaba_cams`` connection. Templated.
    :param rate_limit: most calls per second from this task's process in poke and reschedule mode
        (default 10; with a pool of N slots for CAMS tasks, ``10 // N``). Deferred, the wait joins
        the triggerer's one poll per space.
    :param deferrable: wait in the triggerer instead of a worker slot.

    Plus every ``BaseSensorOperator`` argument. Returns (XCom) the numbers' final phone records
    in the common shape.
    """

    template_fields: Sequence[str] = ("phone_numbers", "cust_space_id", "target_status", "cams_conn_id")

    def __init__(
        self,
        *,
        phone_numbers: str | list[str],
        cust_space_id: str | None = None,
        target_status: str = "CONNECTED",
        failure_statuses: Sequence[str] = DEFAULT_FAILURE_STATUSES,
        **kwargs: Any,
    ) -> None:
        super().__init__(target_status=target_status, failure_statuses=failure_statuses, **kwargs)
        self.phone_numbers = phone_numbers
        self.cust_space_id = cust_space_id

    def awaited_phones(self) -> list[str]:
        return normalize_phones(self.phone_numbers, "phone_numbers")

    def fetch_records(self, phones: list[str]) -> list[dict[str, Any]]:
        return self.hook.query_phone_records(cust_space_id=self.cust_space_id)

    def make_trigger(self) -> BaseTrigger:
        phones, target, failures = self.arguments()
        # light DAG parsing: the trigger (and the connection code it brings) loads when the sensor defers
        from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger

        return CamsPhoneStatusTrigger(
            phone_numbers=phones,
            target_status=target,
            failure_statuses=failures,
            cust_space_id=self.cust_space_id,
            cams_conn_id=self.cams_conn_id,
            **self.trigger_settings(),
        )
