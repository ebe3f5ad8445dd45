"""The compat checks run only from ``scripts/compat.py`` (``make compat``), which sets
``WA_PHONES_COMPAT_FACTS`` to the record of one Airflow minor (``build/compat/runs/<minor>/facts.json``).

Without that variable (``make test``, a plain ``pytest``) every test under ``tests/compat/`` is
deselected: they judge what the checks observed inside that minor's virtualenv, and only the script
builds those. With it, each test is named after the Airflow version it judges (``test_forms[3.2.2]``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import verdicts

FACTS_ENV = "WA_PHONES_COMPAT_FACTS"
HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    verdicts.register(config, FACTS_ENV)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    verdicts.deselect_unless(config, items, HERE, FACTS_ENV)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "airflow" in metafunc.fixturenames:
        record = os.environ.get(FACTS_ENV)
        version = json.loads(Path(record).read_text())["airflow"] if record else "unrecorded"
        metafunc.parametrize("airflow", [version], scope="session")


@pytest.fixture(scope="session")
def facts(airflow: str) -> dict[str, Any]:
    """What the checks observed on Airflow ``airflow``, one entry per check."""
    record: dict[str, Any] = json.loads(Path(os.environ[FACTS_ENV]).read_text())
    assert record["airflow"] == airflow
    return record


@pytest.fixture
def verdict(request: pytest.FixtureRequest) -> Callable[..., None]:
    return verdicts.recorder(request.config).give(request.node.nodeid)
