"""The polling loop every trigger of this provider runs, and what the phone-status triggers share.

A trigger says how to poll once (:meth:`PollingTrigger.decide`, returning the same
:class:`~airflow_provider_wa_phones.waits.Decision` the sensor's poke acts on); this module runs
the loop, keeps transient errors from ending the wait and turns the decision into an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, Unpack

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wa_phones.errors import WaPhonesError

if TYPE_CHECKING:
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


class PollingTrigger(BaseTrigger):
    """Polls :meth:`check` every ``poke_interval`` seconds until it has an answer.

    The event payload is always ``{"status": "success" | "failure" | "error", "message": ..., ...}``.
    Transient errors (connection problems, throttling, server errors) keep the wait going; any
    other error ends it at once with ``"error"``: ``refused`` True when retrying cannot help
    (credentials, permissions, parameters, connection), False for anything unexpected.
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
        from airflow_provider_wa_phones import checks

        self.poke_interval = checks.seconds("poke_interval", self.poke_interval, high=7 * 86_400)
        self.request_timeout = checks.seconds(
            "request_timeout", self.request_timeout, high=checks.MAX_REQUEST_TIMEOUT
        )
        self.retry = _retry_fields(self.retry)

    def hook_settings(self) -> dict[str, Any]:
        """Keyword arguments for the async hook: timeout and retry policy."""
        from airflow_provider_wa_phones.retry import RetryPolicy

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
        await asyncio.to_thread(_load_io_modules)
        try:
            self.check_arguments()
        except WaPhonesError as exc:
            yield TriggerEvent({"status": "error", "refused": True, "message": str(exc)})
            return
        async with self.make_hook() as hook:
            while True:
                # The sensor looked just before it deferred: the first poll waits its turn.
                await asyncio.sleep(self.poke_interval)
                try:
                    event = await self.check(hook)
                except WaPhonesError as exc:
                    if not exc.retryable:
                        yield TriggerEvent({"status": "error", "refused": True, "message": str(exc)})
                        return
                    self.log.warning("Poll failed (%s); polling again in %.0f s", exc, self.poke_interval)
                    event = None
                except Exception as exc:
                    # A bug must end the wait with its cause, not leave the task deferred for days.
                    message = f"{type(exc).__name__}: {exc}"
                    yield TriggerEvent({"status": "error", "refused": False, "message": message})
                    return
                if event is not None:
                    yield event
                    return


class PhoneStatusPolling(PollingTrigger):
    """Waits until every number has ``target_status``, with one call per poll for all of them.

    A subclass names its arguments (``phones_param``, ``scope_param``, ``conn_param``: they differ
    between the services), checks its scope and fetches the common-shape records.
    """

    phones_param: ClassVar[str]
    scope_param: ClassVar[str]
    conn_param: ClassVar[str]

    def __init__(
        self,
        phones: list[str],
        target_status: str,
        failure_statuses: list[str],
        scope: str | None,
        conn_id: str,
        **options: Unpack[PollOptions],
    ) -> None:
        super().__init__(**options)
        setattr(self, self.phones_param, phones)
        self.target_status = target_status
        self.failure_statuses = failure_statuses
        setattr(self, self.scope_param, scope)
        setattr(self, self.conn_param, conn_id)

    def check_arguments(self) -> None:
        from airflow_provider_wa_phones import connections
        from airflow_provider_wa_phones.phones import normalize_phones
        from airflow_provider_wa_phones.waits import check_status_arguments

        super().check_arguments()
        setattr(
            self, self.phones_param, normalize_phones(getattr(self, self.phones_param), self.phones_param)
        )
        self.target_status, self.failure_statuses = check_status_arguments(
            self.target_status, self.failure_statuses
        )
        setattr(self, self.scope_param, self.check_scope(getattr(self, self.scope_param)))
        setattr(self, self.conn_param, connections.conn_id(self.conn_param, getattr(self, self.conn_param)))

    def check_scope(self, value: Any) -> str | None:
        """The application or space to look in (None: the connection's), checked."""
        raise NotImplementedError

    async def fetch_records(self, hook: Any) -> list[dict[str, Any]]:
        """The common-shape records of the awaited numbers (others may be included), in one call."""
        raise NotImplementedError

    def kwargs(self) -> dict[str, Any]:
        names = (self.phones_param, "target_status", "failure_statuses", self.scope_param, self.conn_param)
        return {name: getattr(self, name) for name in names}

    async def decide(self, hook: Any) -> Decision:
        from airflow_provider_wa_phones.waits import phone_status

        phones = getattr(self, self.phones_param)
        return phone_status(await self.fetch_records(hook), phones, self.target_status, self.failure_statuses)


def _load_io_modules() -> None:
    import importlib

    for name in (
        "aiohttp",
        "airflow_provider_wa_phones.hooks.nxcloud",
        "airflow_provider_wa_phones.hooks.cams",
    ):
        importlib.import_module(name)


def _retry_fields(retry: Any) -> dict[str, Any] | None:
    """``RetryPolicy`` fields as plain data (None for the default policy), checked."""
    from airflow_provider_wa_phones.checks import quoted
    from airflow_provider_wa_phones.errors import ParameterError
    from airflow_provider_wa_phones.retry import RetryPolicy

    if retry is None:
        return None
    if not isinstance(retry, dict) or not all(isinstance(key, str) for key in retry):
        raise ParameterError("retry", f"must be RetryPolicy fields as a dict, or None, got {quoted(retry)}")
    try:
        RetryPolicy(**retry)
    except TypeError:
        fields = ", ".join(RetryPolicy.__dataclass_fields__)
        raise ParameterError(
            "retry", f"takes only RetryPolicy fields ({fields}), got {quoted(retry)}"
        ) from None
    except ParameterError as exc:
        raise ParameterError("retry", f"{exc.param}: {exc.rule}") from None
    return dict(retry)
