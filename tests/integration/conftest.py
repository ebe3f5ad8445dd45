from __future__ import annotations

import pytest

from airflow_provider_wa_phones.retry import RetryPolicy
from airflow_provider_wa_phones.sandbox import SandboxServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def sandbox_server():
    with SandboxServer(time_scale=0) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server, monkeypatch):
    """The live sandbox, fresh state and empty request log, with its connections in the env."""
    sandbox_server.reset()
    sandbox_server.clear_requests()
    for name, value in sandbox_server.airflow_env().items():
        monkeypatch.setenv(name, value)
    return sandbox_server


FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0)


@pytest.fixture
def hook(sandbox):
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook

    hook = NxCloudHook(retry_policy=FAST_RETRY)
    yield hook
    hook.close()
