"""Survey mode of the property tests (``PROPERTY_SURVEY``) cannot silence them: refused under CI,
and a survey run that recorded a failure fails at its end."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.property import harness

PLANTED_TEST = """
from tests.property import harness


def test_a_planted_failure_is_recorded_not_raised():
    assert harness.SURVEY
    harness.report("planted", harness.Args(phone="x"), AssertionError("planted defect"))
"""
# The property folder's own session hooks, without its fixtures (they start a server).
CONFTEST = """
import tests.property.conftest as _real

pytest_sessionfinish = _real.pytest_sessionfinish
pytest_terminal_summary = _real.pytest_terminal_summary
"""


def test_survey_mode_is_off_without_the_variable_and_on_with_it():
    assert harness.survey_file({}) is None
    assert harness.survey_file({"PROPERTY_SURVEY": ""}) is None
    assert harness.survey_file({"PROPERTY_SURVEY": "s.jsonl"}) == "s.jsonl"
    assert harness.survey_file({"PROPERTY_SURVEY": "s.jsonl", "CI": "false"}) == "s.jsonl"


@pytest.mark.parametrize("ci", ["true", "1", "yes", "True"])
def test_survey_mode_is_refused_under_ci(ci):
    with pytest.raises(harness.SurveyRefused, match="Unset PROPERTY_SURVEY"):
        harness.survey_file({"PROPERTY_SURVEY": "s.jsonl", "CI": ci})


def test_a_recorded_failure_fails_the_session_and_is_summed_up():
    assert harness.survey_exit_status(Counter(), pytest.ExitCode.OK) == pytest.ExitCode.OK
    recorded = Counter({"AcceptedInvalid[appkey]": 2, "KeyError": 1})
    assert harness.survey_exit_status(recorded, pytest.ExitCode.OK) == pytest.ExitCode.TESTS_FAILED
    assert harness.survey_exit_status(recorded, pytest.ExitCode.INTERRUPTED) == pytest.ExitCode.INTERRUPTED
    lines = harness.survey_summary(recorded, "s.jsonl")
    assert lines[0].startswith("property survey: 3 failures recorded in s.jsonl")
    assert lines[1:] == ["      2  AcceptedInvalid[appkey]", "      1  KeyError"]
    assert harness.survey_summary(Counter(), None) == []


def _run_planted(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_planted.py").write_text(PLANTED_TEST, encoding="utf-8")
    environ = {
        **{key: value for key, value in os.environ.items() if key not in ("CI", "PROPERTY_SURVEY")},
        "PYTHONPATH": str(REPO),
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        **env,
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "test_planted.py",
        ],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_survey_run_with_a_planted_failure_fails(tmp_path):
    survey = tmp_path / "survey.jsonl"
    result = _run_planted(tmp_path, PROPERTY_SURVEY=str(survey))
    output = result.stdout + result.stderr
    assert "1 passed" in output  # the test itself passed: its failure went to the file
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert f"property survey: 1 failures recorded in {survey}" in output
    assert len(survey.read_text(encoding="utf-8").splitlines()) == 1


def test_a_survey_run_under_ci_stops_before_any_test(tmp_path):
    survey = tmp_path / "survey.jsonl"
    result = _run_planted(tmp_path, PROPERTY_SURVEY=str(survey), CI="true")
    output = result.stdout + result.stderr
    assert result.returncode != pytest.ExitCode.OK, output
    assert "Unset PROPERTY_SURVEY" in output
    assert "passed" not in output
    assert not survey.exists()
