"""What every operator and sensor of this package shares: the per-call settings of its hook, and
for each service the connection and the hook built from it.

DAG files import the operator and sensor modules at parse time, so this imports only
``airflow.sdk`` and the light rules (:mod:`~airflow_provider_wa_phones.checks`,
:mod:`~airflow_provider_wa_phones.retry`); the hooks load when a task first uses one.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_wa_phones import checks
from airflow_provider_wa_phones.retry import RetryPolicy, checked_policy
from airflow_provider_wa_phones.services import CAMS, NXCLOUD

if TYPE_CHECKING:
    from airflow_provider_wa_phones.hooks.cams import CamsHook
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook


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
        self.request_retry = checked_policy("request_retry", request_retry)

    def hook_settings(self) -> dict[str, Any]:
        """The hook's settings this operator gives (a subclass adds its own)."""
        return {"timeout": self.request_timeout, "retry_policy": self.request_retry}


class NxCloudTask(ServiceOperator):
    """An operator or sensor of NxCloud: holds the connection id (templated by each subclass) and
    builds the hook on first use.

    :param nxcloud_conn_id: an ``nxcloud`` connection.
    """

    def __init__(self, *, nxcloud_conn_id: str = NXCLOUD.default_conn_id, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nxcloud_conn_id = nxcloud_conn_id

    @cached_property
    def hook(self) -> NxCloudHook:
        # light DAG parsing: the hook (requests, the operations) loads when a task first uses it
        from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook

        return NxCloudHook(nxcloud_conn_id=self.nxcloud_conn_id, **self.hook_settings())


class CamsTask(ServiceOperator):
    """An operator or sensor of CAMS: holds the connection id (templated by each subclass) and the
    client-side rate limit, and builds the hook on first use.

    :param cams_conn_id: an ``alibaba_cams`` connection.
    :param rate_limit: most calls per second per operation from this task's process, 1 to 1,000
        or None for no limit (default 10, what CAMS allows an account). Tasks run in separate
        processes: with a pool of N slots for CAMS tasks, give each ``10 // N`` (README, "The CAMS
        limit across processes").
    """

    def __init__(
        self, *, cams_conn_id: str = CAMS.default_conn_id, rate_limit: int | None = 10, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cams_conn_id = cams_conn_id
        self.rate_limit = checks.rate_limit("rate_limit", rate_limit)

    @cached_property
    def hook(self) -> CamsHook:
        # light DAG parsing: the hook (requests, the operations) loads when a task first uses it
        from airflow_provider_wa_phones.hooks.cams import CamsHook

        return CamsHook(cams_conn_id=self.cams_conn_id, rate_limit=self.rate_limit, **self.hook_settings())
