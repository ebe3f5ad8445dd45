"""Hypothesis profiles, the counting server, the test connections, and the case count.

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (default) is derandomised, so every run generates the
same cases (about 5,800 when nothing fails, about 90 s on two cores), and reports the first failure
of each property, shrunk; ``fuzz`` (``make fuzz``) generates 5,000 cases per property from a fresh
seed each run, reports every distinct failure, and keeps failures in ``.hypothesis/`` to replay.
``PROPERTY_SURVEY=<file>`` (see harness.check) records failures instead of raising them; the session
then fails at its end if any was recorded, and CI (``CI=true``) refuses survey mode altogether.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.property import harness
from tests.property.server import CountingServer

#: Examples per test in the ci profile; a test file may scale it with ``examples(weight)``.
CI_EXAMPLES = 220
FUZZ_EXAMPLES = 5000

_common: dict[str, Any] = {
    "deadline": None,  # one case may send requests and build operators: no per-case time limit
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    "print_blob": True,
    # No "explain" phase: it traces every line (sys.settrace), which makes a 1 MB value 100x slower.
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
}
# ci reports the first failure of each property, shrunk; fuzz reports every distinct one it finds.
settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, report_multiple_bugs=False, **_common
)
# The example database lives in the repository (the tests run in a scratch folder).
_database = DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[2] / ".hypothesis" / "examples")
settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, database=_database, **_common)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)

_HERE = Path(__file__).resolve().parent
REPORT = Path(__file__).resolve().parents[2] / "build" / "property-cases.json"
_started = time.monotonic()


@pytest.fixture(scope="package", autouse=True)
def counting_server():
    """One counting server for the whole folder, also set as every client's HTTP(S) proxy.

    As the proxy it sees requests meant for any host (a fuzzed connection host, or the public
    endpoint a connection without host falls back to), so nothing leaves the machine uncounted.
    """
    proxy_names = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
    saved = {name: os.environ.get(name) for name in (*proxy_names, "NO_PROXY", "no_proxy")}
    with CountingServer() as server:
        harness.Server.url = server.url
        harness.Server.count = lambda: server.count
        for name in proxy_names:
            os.environ[name] = server.url
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = ""
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture(scope="package", autouse=True)
def test_connections(counting_server):
    """Hooks read their connections from ``harness.CONNECTIONS`` (default ones unless a case swaps
    one), like an Airflow secrets backend that holds exactly these."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    def lookup(conn_id: Any) -> Any:
        try:
            return harness.CONNECTIONS[conn_id]
        except (KeyError, TypeError):
            raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined") from None

    async def alookup(conn_id: Any) -> Any:
        return lookup(conn_id)

    harness.CONNECTIONS.update(harness.default_connections())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: lookup(conn_id)))
        patch.setattr(BaseHook, "aget_connection", classmethod(lambda cls, conn_id: alookup(conn_id)))
        yield
    harness.CONNECTIONS.clear()


@pytest.fixture(scope="package", autouse=True)
def no_client_side_rate_limit():
    """CAMS hooks pace themselves at 10 calls per second per account: too slow for thousands of
    cases. The limiter is replaced by one that never waits (but still needs a hashable key)."""
    from airflow_provider_wa_phones import ratelimit
    from airflow_provider_wa_phones.hooks import cams

    class NoWait:
        def reserve(self) -> float:
            return 0.0

        def wait(self) -> None:
            pass

    def limiter(key: tuple[Any, ...], max_calls: int, period: float = 1.1) -> NoWait:
        hash(key)  # as the real registry does: an unhashable access key id fails here too
        ratelimit.SlidingWindowLimiter(max_calls, period)  # and a bad rate_limit fails as it would
        return NoWait()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cams, "shared_limiter", limiter)
        yield


@pytest.fixture(scope="package", autouse=True)
def scratch_directory():
    """Run in a scratch folder, so no generated path can leave a file in the work tree."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(harness.SCRATCH)
        yield harness.SCRATCH
    shutil.rmtree(harness.SCRATCH, ignore_errors=True)


@pytest.fixture(scope="package", autouse=True)
def quiet_connection_log():
    """Airflow logs a traceback for every extra that is not JSON; thousands of cases make that noise."""
    logger = logging.getLogger("airflow.sdk.definitions.connection")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="package")
def loop():
    """One event loop for the async hooks' cases."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this folder's tests ``property`` (``-m "not property"`` leaves them out)."""
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.property)
            if PROFILE == "fuzz":  # 5,000 cases and shrinking every failure outlast the 300 s default
                item.add_marker(pytest.mark.timeout(3600))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.exitstatus = harness.survey_exit_status(harness.SURVEYED, exitstatus)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    survey = harness.survey_summary(harness.SURVEYED, harness.SURVEY)
    if survey:
        terminalreporter.write_sep("=", "property survey", red=bool(harness.SURVEYED), bold=True)
        for line in survey:
            terminalreporter.write_line(line)
    if not harness.CASES:
        return
    total = sum(harness.CASES.values())
    seconds = time.monotonic() - _started
    terminalreporter.write_sep("-", "property-based cases")
    for test, count in sorted(harness.CASES.items()):
        terminalreporter.write_line(f"{count:7d}  {test}")
    terminalreporter.write_line(
        f"{total:7d}  generated cases in {len(harness.CASES)} properties "
        f"(profile {PROFILE}, {seconds:.0f} s since the property tests were collected)"
    )
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {"profile": PROFILE, "total": total, "per_test": dict(sorted(harness.CASES.items()))}, indent=1
        )
        + "\n"
    )
