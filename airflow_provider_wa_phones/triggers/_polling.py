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
        self.poke_interval = float(poke_interval)
        self.request_timeout = float(request_timeout)
        self.retry = dict(retry) if retry else None

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
        async with self.make_hook() as hook:
            while True:
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
                await asyncio.sleep(self.poke_interval)


def phone_status_event(check: Any, records: list[dict[str, Any]]) -> TriggerEvent | None:
    """The event a phone-status poll ends with, or None to keep waiting."""
    if check.failed:
        return TriggerEvent({"status": "failure", "message": check.describe(), "records": records})
    if check.done:
        return TriggerEvent({"status": "success", "message": check.describe(), "records": records})
    return None
