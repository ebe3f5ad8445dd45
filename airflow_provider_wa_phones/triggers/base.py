"""The polling loop every trigger of this provider runs, and the error event that ends a wait.

A trigger says how to poll once (:meth:`PollingTrigger.decide`, returning the same
:class:`~airflow_provider_wa_phones.waits.Decision` the sensor's poke acts on); this module runs
the loop, keeps transient errors from ending the wait and turns the decision into an event.
Triggers that read a whole account per poll share that poll: :mod:`.polling`; the watchers of
``AssetWatcher`` and what they remember: :mod:`.watch`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any, TypedDict

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.exceptions import ParameterError, WaPhonesError
from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.waits import Decision


class PollOptions(TypedDict, total=False):
    """What every trigger takes besides what it waits for.

    ``poke_interval``: seconds between polls (default 30). ``request_timeout``: seconds to wait for
    each answer (default 30). ``retry``: ``RetryPolicy`` fields as plain data (default: None, the
    default policy).
    """

    poke_interval: float
    request_timeout: float
    retry: dict[str, Any] | None


def error_event(message: str, *, refused: bool) -> dict[str, Any]:
    """The payload of the event that ends a wait on an error: ``refused`` True when retrying cannot
    help (credentials, permissions, parameters, connection), False for anything unexpected (the
    sensor then fails the task with its retries, see ``WaitSensor.execute_complete``)."""
    return {"status": "error", "refused": refused, "message": message}


def described(exc: BaseException) -> str:
    """What an error event says of ``exc``: a provider error's own message (it names the parameter
    or the service's code, never a secret); anything else, a bug, with its type."""
    return str(exc) if isinstance(exc, WaPhonesError) else f"{type(exc).__name__}: {exc}"


class PollingTrigger(BaseTrigger):
    """Polls :meth:`check` every ``poke_interval`` seconds until it has an answer.

    The event payload is always ``{"status": "success" | "failure" | "error", "message": ..., ...}``.
    Transient errors (connection problems, throttling, server errors) keep the wait going; any
    other error ends it at once with ``"error"`` (:func:`error_event`).
    """

    def __init__(
        self, poke_interval: float = 30.0, request_timeout: float = 30.0, retry: dict[str, Any] | None = None
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # BaseTrigger.__init__ is unannotated
        # Kept as given and checked when the trigger runs: the triggerer builds triggers from stored
        # kwargs and survives only a TypeError there, so a constructor must not raise on bad data.
        self.poke_interval = poke_interval
        self.request_timeout = request_timeout
        self.retry = retry

    def check_arguments(self) -> None:
        """Check (and normalise) every argument; raise ParameterError naming the bad one."""
        self.poke_interval = checks.seconds("poke_interval", self.poke_interval, high=7 * 86_400)
        self.request_timeout = checks.seconds(
            "request_timeout", self.request_timeout, high=checks.MAX_REQUEST_TIMEOUT
        )
        self.retry = retry_fields(self.retry)

    def hook_settings(self) -> dict[str, Any]:
        """Keyword arguments for the async hook: timeout and retry policy."""
        policy = RetryPolicy(**self.retry) if self.retry else None
        return {"timeout": self.request_timeout, "retry_policy": policy}

    def common_kwargs(self) -> dict[str, Any]:
        """The serialised form of what every polling trigger takes."""
        return {
            "poke_interval": self.poke_interval,
            "request_timeout": self.request_timeout,
            "retry": self.retry,
        }

    def make_hook(self) -> Any:
        """Return the async hook to poll with (an async context manager)."""
        raise NotImplementedError

    async def decide(self, hook: Any) -> Decision:
        """Poll once and say what it means."""
        raise NotImplementedError

    async def check(self, hook: Any) -> TriggerEvent | None:
        """Poll once: an event ends the wait, None polls again after ``poke_interval``."""
        decision = await self.decide(hook)
        payload = decision.event()
        if payload is None:
            self.log.info("%s", decision.message)
            return None
        return TriggerEvent(payload)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {**self.kwargs(), **self.common_kwargs()},
        )

    def kwargs(self) -> dict[str, Any]:
        """The trigger's own arguments, as plain data (credentials are never among them)."""
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # The triggerer runs every trigger on one event loop: the HTTP stack (and the phone-number
        # tables the checks use) is imported off it, once.
        await asyncio.to_thread(load_io_modules)
        try:
            self.check_arguments()
        except WaPhonesError as exc:
            yield TriggerEvent(error_event(str(exc), refused=True))
            return
        async with self.make_hook() as hook:
            while True:
                # The sensor looked just before it deferred: the first poll waits its turn.
                await asyncio.sleep(self.poke_interval)
                try:
                    event = await self.check(hook)
                except WaPhonesError as exc:
                    if not exc.retryable:
                        yield TriggerEvent(error_event(str(exc), refused=True))
                        return
                    self.log.warning("Poll failed (%s); polling again in %.0f s", exc, self.poke_interval)
                    event = None
                except Exception as exc:
                    # A bug must end the wait with its cause, not leave the task deferred for days.
                    yield TriggerEvent(error_event(described(exc), refused=False))
                    return
                if event is not None:
                    yield event
                    return


#: What a trigger imports before its first poll, in a thread: the hooks (requests, aiohttp) and
#: what they load, kept off the triggerer's event loop and out of the DAG files that build watchers.
IO_MODULES = (
    "aiohttp",
    "airflow_provider_wa_phones.hooks.nxcloud",
    "airflow_provider_wa_phones.hooks.cams",
)


def load_io_modules() -> None:
    """Import :data:`IO_MODULES` (a no-op once done)."""
    for name in IO_MODULES:
        importlib.import_module(name)


def retry_fields(retry: Any) -> dict[str, Any] | None:
    """``RetryPolicy`` fields as plain data (None for the default policy), checked."""
    if retry is None:
        return None
    if not isinstance(retry, dict) or not all(isinstance(key, str) for key in retry):
        raise ParameterError(
            "retry", f"must be RetryPolicy fields as a dict, or None, got {checks.quoted(retry)}"
        )
    try:
        RetryPolicy(**retry)
    except TypeError:
        fields = ", ".join(RetryPolicy.__dataclass_fields__)
        raise ParameterError(
            "retry", f"takes only RetryPolicy fields ({fields}), got {checks.quoted(retry)}"
        ) from None
    except ParameterError as exc:
        raise ParameterError("retry", f"{exc.param}: {exc.rule}") from None
    return dict(retry)
