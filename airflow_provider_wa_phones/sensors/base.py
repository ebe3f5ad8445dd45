"""What every sensor of this provider shares: poke, reschedule or defer, and when to give up.

A sensor says how to look once (:meth:`WaitSensor.check`, returning a
:class:`~airflow_provider_wa_phones.waits.Decision`) and which trigger waits the same way in the
triggerer; this module turns decisions, errors and timeouts into one outcome per situation, the same
in every mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseOperator, BaseSensorOperator, PokeReturnValue

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones._compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferralError,
    TaskDeferralTimeout,
    conf,
)
from airflow_provider_wa_phones.exceptions import WaPhonesError
from airflow_provider_wa_phones.operators.base import ServiceOperator
from airflow_provider_wa_phones.waits import Decision, check_status_arguments, phone_status

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.triggers.base import BaseTrigger


#: How a wait ends in every mode (poke, reschedule, deferrable, in the worker's first look or in
#: the triggerer): situation -> outcome with the default flags, with ``soft_fail`` and with
#: ``never_fail``. tests/integration/test_sensor_outcomes.py runs every cell in every mode; the
#: docs' table is generated from this one.
OUTCOMES: dict[str, tuple[str, str, str]] = {
    "reached": ("success", "success", "success"),
    "failure status": ("failed, no retry", "skipped", "skipped"),
    "timeout": ("failed, no retry", "skipped", "skipped"),
    "credentials": ("failed, no retry", "failed, no retry", "skipped"),
    "parameter": ("failed, no retry", "failed, no retry", "skipped"),
    "missing connection": ("failed, no retry", "failed, no retry", "skipped"),
    "unexpected": ("failed, retried", "failed, retried", "skipped"),
}
#: What each situation of :data:`OUTCOMES` covers.
SITUATIONS: dict[str, str] = {
    "reached": "every awaited number or batch reached its target",
    "failure status": (
        "a number in one of `failure_statuses` (default BANNED, DELETED, MIGRATED, DISCONNECTED)"
    ),
    "timeout": "the sensor's ``timeout`` passed first",
    "credentials": ("a refusal a retry cannot change: signature, key, permission, a non-integrator account"),
    "parameter": "a bad argument, found before any request",
    "missing connection": "a connection id no backend defines, or one whose fields are invalid",
    "unexpected": "anything else (a bug): the task's retries apply",
}


class WaitSensor(ServiceOperator, BaseSensorOperator):
    """A sensor that can wait in a worker (``mode="poke"`` / ``"reschedule"``) or in the triggerer
    (``deferrable=True``, default from ``[operators] default_deferrable``).

    Transient errors (connection problems, throttling, server errors) count as "not yet"; a
    hopeless state fails the task at once (or skips it with ``soft_fail``); any other error, such
    as wrong credentials, fails it. ``request_timeout`` and ``request_retry`` tune each call, as
    for the operators (:class:`~airflow_provider_wa_phones.operators.base.ServiceOperator`).
    """

    def __init__(self, *, deferrable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if deferrable is None:
            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        # Not templated, so checked now: a bad value fails the DAG file's import, visibly.
        self.deferrable = checks.flag("deferrable", deferrable)

    def trigger_settings(self) -> dict[str, Any]:
        """The same settings as plain data for a trigger, plus the poll interval."""
        retry = asdict(self.request_retry) if self.request_retry is not None else None
        return {"poke_interval": self.poke_interval, "request_timeout": self.request_timeout, "retry": retry}

    #: Where a trigger's success event holds the task's result (``Decision.key``).
    result_key = "records"

    def check(self, context: Context) -> Decision:
        """Look once and say what it means."""
        raise NotImplementedError

    def make_trigger(self) -> BaseTrigger:
        """The trigger that waits the same way in the triggerer."""
        raise NotImplementedError

    def poke(self, context: Context) -> PokeReturnValue:
        try:
            decision = self.check(context)
        except WaPhonesError as exc:
            if not exc.retryable:
                raise  # credentials, parameters, connection: see execute()
            self.log.warning("Could not look this time (%s); will try again", exc)
            return PokeReturnValue(is_done=False)
        if decision.state == "fail":
            raise AirflowFailException(decision.message)
        self.log.info("%s", decision.message)
        done = decision.state == "done"
        return PokeReturnValue(is_done=done, xcom_value=decision.value if done else None)

    # -- outcomes ---------------------------------------------------------------------------
    #
    # One table for every mode (OUTCOMES below, shown in the docs' "Sensor outcomes"); Airflow's
    # own handling differs between poke and deferrable mode, so the sensor decides itself.

    def execute(self, context: Context) -> Any:
        try:
            if self.deferrable:
                return self._look_then_defer(context)
            return super().execute(context)
        except WaPhonesError as exc:  # never retryable here: poke() keeps waiting on those
            self._refused(str(exc), exc)
        except AirflowSensorTimeout as exc:
            self._timed_out(str(exc), exc)

    def _look_then_defer(self, context: Context) -> Any:
        try:
            first = self.poke(context)
        except AirflowFailException as exc:
            self._give_up(str(exc))
        except (AirflowSkipException, WaPhonesError):
            raise
        except Exception as exc:
            self._unexpected(exc)
        if first.is_done:
            return first.xcom_value
        self.defer(
            trigger=self.make_trigger(),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """Back from the triggerer: the trigger's event, or its timeout or crash, decided by the same
        table as a poke (``BaseSensorOperator`` would skip any error under ``soft_fail``)."""
        try:
            return BaseOperator.resume_execution(self, next_method, next_kwargs, context)
        except TaskDeferralTimeout as exc:
            self._timed_out(f"{self.task_id}: waited longer than the timeout of {self.timeout} s", exc)
        except TaskDeferralError as exc:  # the trigger itself failed in the triggerer
            self._unexpected(exc)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Turn the trigger's event into the task's result."""
        if not event:
            self._unexpected(AirflowException(f"{self.task_id}: the trigger ended without an event"))
        status, message = event.get("status"), str(event.get("message"))
        if status == "success":
            self.log.info("%s", message)
            return self.event_result(event)
        if status == "failure":
            self._give_up(message)
        if status == "error" and event.get("refused", True):
            self._refused(message)
        self._unexpected(AirflowException(f"{self.task_id}: {message}"))

    def event_result(self, event: dict[str, Any]) -> Any:
        """The XCom value of a successful event."""
        return event[self.result_key]

    def _give_up(self, message: str) -> NoReturn:
        """The awaited state cannot come: fail without retries, or skip."""
        if self.soft_fail or self.never_fail:
            raise AirflowSkipException(message)
        raise AirflowFailException(message)

    def _timed_out(self, message: str, cause: BaseException) -> NoReturn:
        if self.soft_fail or self.never_fail:
            raise AirflowSkipException(message) from cause
        raise AirflowSensorTimeout(message) from cause

    def _refused(self, message: str, cause: BaseException | None = None) -> NoReturn:
        """Retrying cannot help (credentials, parameters, connection): fail without burning the
        task's retries; ``soft_fail`` is about the awaited state, so it does not hide this."""
        if self.never_fail:
            raise AirflowSkipException(message) from cause
        raise AirflowFailException(message) from cause

    def _unexpected(self, exc: BaseException) -> NoReturn:
        if self.never_fail:
            raise AirflowSkipException(f"{type(exc).__name__}: {exc}") from exc
        raise exc


class PhoneStatusWait(WaitSensor):
    """Waits until every listed number has ``target_status``; a failure status ends the wait.

    Subclasses hold the numbers under their service's parameter name (:meth:`awaited_phones`), say
    how to fetch the numbers' common-shape records in one call, and build the trigger that does the
    same in the triggerer.
    """

    def __init__(self, *, target_status: str, failure_statuses: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_status = target_status
        self.failure_statuses = failure_statuses

    def awaited_phones(self) -> list[str]:
        """The awaited numbers, normalised; ParameterError names the service's parameter."""
        raise NotImplementedError

    def fetch_records(self, phones: list[str]) -> list[dict[str, Any]]:
        """The common-shape records of ``phones`` (others may be included), with one call."""
        raise NotImplementedError

    def arguments(self) -> tuple[list[str], str, list[str]]:
        """The awaited numbers (normalised), the target status and the failure statuses."""
        phones = self.awaited_phones()
        return phones, *check_status_arguments(self.target_status, self.failure_statuses)

    def check(self, context: Context) -> Decision:
        phones, target, failures = self.arguments()
        return phone_status(self.fetch_records(phones), phones, target, failures)
