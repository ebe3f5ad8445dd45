"""Contract tests: the hooks against answers the services publish, replayed byte for byte.

``published/`` is a copy of the project's ``shared/contracts`` folder (what NxCloud's and Alibaba's
pages show, as data). The sandbox plays no part here: a plain :class:`tests.replay.ReplayServer`
serves the files, so these tests judge the hooks by sources we did not write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wa_phones.retry import RetryPolicy
from tests.replay import ReplayServer, cams_connection, nxcloud_connection

PUBLISHED = Path(__file__).with_name("published")
FAST = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0)


def published_bytes(name: str) -> bytes:
    """The published file ``name`` (``nxcloud/getphone-success.json``), exactly as stored."""
    return (PUBLISHED / name).read_bytes()


def published(name: str) -> Any:
    return json.loads(published_bytes(name))


@pytest.fixture
def replay(monkeypatch):
    """A running replay server with both connections pointing at it."""
    with ReplayServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_NXCLOUD_DEFAULT", nxcloud_connection(server.url))
        monkeypatch.setenv("AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT", cams_connection(server.url))
        yield server


@pytest.fixture
def nxcloud(replay):
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook

    hook = NxCloudHook(retry_policy=FAST)
    hook._sleep = lambda seconds: None  # a lost-answer lookup polls; the replay needs no waiting
    yield hook
    hook.close()


@pytest.fixture
def cams(replay):
    from airflow_provider_wa_phones.hooks.cams import CamsHook

    hook = CamsHook(retry_policy=FAST, rate_limit=None)
    hook._sleep = lambda seconds: None
    yield hook
    hook.close()
