"""The polling loop every trigger of this provider runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wa_phones.exceptions import WaPhonesError


class PollingTrigger(BaseTrigger):
    """Polls :meth:`check` every ``poke_interval`` seconds until it has an answer.

    The event payload is always ``{"status": "success" | "failure" | "error", "message": ..., ...}``.
    Transient errors (connection problems, throttling, server errors) keep the wait going; any
    other error ends it at once with ``"error"``: ``refused`` True when retrying cannot help
    (credentials, permissions, parameters, connection), False for anything unexpected.
    """

    def __init__(
        self, poke_interval: float, request_timeout: float = 30.0, retry: dict[str, Any] | None = None
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

    async def check(self, hook: Any) -> TriggerEvent | None:
        """Poll once: an event ends the wait, None polls again after ``poke_interval``."""
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            self.check_arguments()
        except WaPhonesError as exc:
            yield TriggerEvent({"status": "error", "refused": True, "message": str(exc)})
            return
        # The triggerer runs every trigger on one event loop: the HTTP stack is imported off it once.
        await asyncio.to_thread(_load_io_modules)
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


def _load_io_modules() -> None:
    import importlib

    for name in (
        "aiohttp",
        "airflow_provider_wa_phones.hooks.nxcloud",
        "airflow_provider_wa_phones.hooks.cams",
    ):
        importlib.import_module(name)


def phone_status_event(check: Any, records: list[dict[str, Any]]) -> TriggerEvent | None:
    """The event a phone-status poll ends with, or None to keep waiting."""
    if check.failed:
        return TriggerEvent({"status": "failure", "message": check.describe(), "records": records})
    if check.done:
        return TriggerEvent({"status": "success", "message": check.describe(), "records": records})
    return None


def _retry_fields(retry: Any) -> dict[str, Any] | None:
    """``RetryPolicy`` fields as plain data (None for the default policy), checked."""
    from airflow_provider_wa_phones.checks import quoted
    from airflow_provider_wa_phones.exceptions import ParameterError
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
