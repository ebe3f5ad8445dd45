"""How ``scripts/compat.py`` and ``scripts/e2e.py`` get their checks' verdicts back from pytest.

Those scripts start the environments (virtualenvs per Airflow minor; PostgreSQL, scheduler,
triggerer...), record what they observed in a JSON file, and run a pytest module under
``tests/compat/`` or ``tests/e2e/`` that judges the record: one named test per check. Each test
hands its verdict to the ``verdict`` fixture (``tests/compat/conftest.py``,
``tests/e2e/conftest.py``), which asserts it; at the end of the session the verdicts, and the outcome
of every test (so that a test that crashed still shows), are written to the file named by
``WA_PHONES_VERDICTS``, which the script reads to print its summary.

Standard library only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

VERDICTS_ENV = "WA_PHONES_VERDICTS"


@dataclass
class Verdict:
    """One check's verdict: ``name`` is what the script's summary calls it."""

    name: str
    ok: bool
    detail: str
    logs: list[str] = field(default_factory=list)


@dataclass
class TestResult:
    """A test's outcome as pytest reported it, with the verdict it gave (if it got that far)."""

    nodeid: str
    outcome: str  # passed, failed, skipped
    message: str = ""
    verdict: Verdict | None = None


class Recorder:
    """Collects the verdicts and outcomes of one pytest session (a pytest plugin object)."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Verdict] = {}
        self.results: dict[str, TestResult] = {}

    def give(self, nodeid: str) -> Callable[..., None]:
        def verdict(name: str, ok: bool, detail: str, logs: Iterable[Path | str] = ()) -> None:
            self.verdicts[nodeid] = Verdict(name, bool(ok), detail, [str(log) for log in logs])
            assert ok, f"{name}: {detail}"

        return verdict

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            if report.nodeid in self.results and self.results[report.nodeid].outcome != "passed":
                return  # keep the first failure (a teardown error after a failed call)
            message = ""
            if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
                message = str(report.longrepr[2])
            elif report.outcome == "failed":
                crash = getattr(report.longrepr, "reprcrash", None)
                message = str(getattr(crash, "message", "") or report.longreprtext[-300:])[:300]
            self.results[report.nodeid] = TestResult(report.nodeid, report.outcome, message)

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        target = os.environ.get(VERDICTS_ENV)
        if not target:
            return
        for nodeid, result in self.results.items():
            result.verdict = self.verdicts.get(nodeid)
        Path(target).write_text(json.dumps([asdict(result) for result in self.results.values()], indent=1))


def read(path: Path) -> list[TestResult]:
    """The results a session wrote, in the order the tests ran."""
    results = []
    for item in json.loads(path.read_text()):
        verdict = item.pop("verdict")
        results.append(TestResult(**item, verdict=Verdict(**verdict) if verdict else None))
    return results


def summary_line(result: TestResult) -> tuple[str, bool, str]:
    """(name, ok, detail) of a test for a script's summary: its verdict, or what pytest said."""
    if result.verdict is not None:
        return result.verdict.name, result.outcome == "passed" and result.verdict.ok, result.verdict.detail
    return result.nodeid.rsplit("::", 1)[-1], result.outcome == "passed", result.message


def register(config: pytest.Config, env: str) -> None:
    """The plugin for the session, when the script that owns ``env`` set it."""
    if os.environ.get(env) and not config.pluginmanager.has_plugin("wa-phones-verdicts"):
        config.pluginmanager.register(Recorder(), "wa-phones-verdicts")


def deselect_unless(config: pytest.Config, items: list[pytest.Item], folder: Path, env: str) -> None:
    """Drop the tests under ``folder`` unless ``env`` is set (by the script that owns it)."""
    if os.environ.get(env):
        return
    keep, drop = [], []
    for item in items:
        (drop if folder in Path(str(item.path)).parents else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def recorder(config: pytest.Config) -> Recorder:
    plugin = config.pluginmanager.get_plugin("wa-phones-verdicts")
    assert isinstance(plugin, Recorder), "run by the script that sets the record's variable"
    return plugin


def load_json(env: str) -> Any:
    return json.loads(Path(os.environ[env]).read_text())
