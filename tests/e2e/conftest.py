"""The e2e checks run only from ``scripts/e2e.py`` (``make e2e``), which sets ``WA_PHONES_E2E_OUTCOME``.

Without that variable (``make test``, a plain ``pytest``) every test under ``tests/e2e/`` is
deselected: they judge a deployment's record, and only the script starts a deployment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import verdicts
from tests.e2e.outcome import Outcome

OUTCOME_ENV = "WA_PHONES_E2E_OUTCOME"
HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    verdicts.register(config, OUTCOME_ENV)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    verdicts.deselect_unless(config, items, HERE, OUTCOME_ENV)


@pytest.fixture(scope="session")
def outcome() -> Outcome:
    return Outcome.read(Path(os.environ[OUTCOME_ENV]))


@pytest.fixture
def verdict(request: pytest.FixtureRequest) -> Callable[..., None]:
    return verdicts.recorder(request.config).give(request.node.nodeid)
