"""What every operator of this package shares: the per-call settings of its hook.

DAG files import the operator modules at parse time, so this imports only ``airflow.sdk``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_wa_phones import checks

if TYPE_CHECKING:
    from airflow_provider_wa_phones.retry import RetryPolicy


class ServiceOperator(BaseOperator):
    """Checks the per-call settings when the DAG file is parsed and hands them to the hook.

    :param request_timeout: seconds to wait for each answer (default 30).
    :param request_retry: how transient request failures are retried (``RetryPolicy`` from
        ``airflow_provider_wa_phones.retry``; default 4 attempts with exponential backoff, honouring
        the service's retry hints, at most 30 s of waiting).
    """

    def __init__(
        self,
        *,
        request_timeout: float = 30.0,
        request_retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Not templated, so checked now: a bad value fails the DAG file's import, visibly.
        self.request_timeout = checks.seconds(
            "request_timeout", request_timeout, high=checks.MAX_REQUEST_TIMEOUT
        )
        # Not "retry_policy": BaseOperator has a task-level argument of that name.
        self.request_retry = checks.retry_policy("request_retry", request_retry)

    def hook_settings(self) -> dict[str, Any]:
        """The hook's settings this operator gives (a subclass adds its own)."""
        return {"timeout": self.request_timeout, "retry_policy": self.request_retry}
