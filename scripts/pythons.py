"""`make test-pythons`: the unit and contract suites on the oldest and the newest Python that Airflow 3
supports (3.10, 3.13; the main suite runs on 3.11, `make compat` runs each Airflow minor on another).

Each Python gets ``.venv-py3.X`` with the package (editable) and the test extra, pinned by
``constraints-py3.X.txt`` where constraints.txt cannot install on it, else by constraints.txt; the
virtualenv is reinstalled only when pyproject.toml or its constraints change. Then
``pytest tests/unit tests/contract`` runs in it, timed.

``python scripts/pythons.py constraints`` writes ``constraints-py3.X.txt`` for the Pythons that need
one, as ``make constraints`` writes constraints.txt (an unpinned install into a scratch virtualenv,
frozen), with Airflow pinned to constraints.txt's version so every Python tests the same Airflow.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compat import PIP_PIN, base_python

REPO = Path(__file__).resolve().parent.parent
PYTHONS = ("3.10", "3.13")
#: Requirements of the test group left out on a Python they do not support. Only
#: tests/integration/test_http_provider.py uses the http provider: not the suites run here.
LEFT_OUT = {
    "3.10": {
        "apache-airflow-providers-http": "6.3.0 and later need Python 3.11",
        # Only the lineage tests (integration, dags) run its extractor: not the suites run here.
        "apache-airflow-providers-openlineage": "2.20.3 and later need Python 3.11",
    }
}
#: Pythons on which constraints.txt does not install (asgiref 3.13 and the http provider 6.3 need 3.11).
OWN_CONSTRAINTS = ("3.10",)


def test_requirements(python: str) -> list[str]:
    """The test dependency group from pyproject.toml, without what ``python`` cannot install."""
    import tomllib  # this script runs on 3.11 (make's PYTHON)

    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]["test"]
    left_out = LEFT_OUT.get(python, {})
    return [req for req in extra if re.split(r"[<>=!~ \[;]", req, maxsplit=1)[0] not in left_out]


def constraints_for(python: str) -> Path:
    return REPO / (f"constraints-py{python}.txt" if python in OWN_CONSTRAINTS else "constraints.txt")


def pip(venv: Path, *args: str) -> None:
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", *args], check=True, cwd=REPO)


def write_constraints(python: str) -> None:
    venv = REPO / "build" / f"constraints-venv-py{python}"
    subprocess.run(["rm", "-rf", str(venv)], check=True)
    subprocess.run([base_python(python), "-m", "venv", str(venv)], check=True)
    pip(venv, "install", "-q", PIP_PIN)
    airflow = next(line for line in (REPO / "constraints.txt").read_text().splitlines()
                   if line.startswith("apache-airflow=="))  # fmt: skip
    pip(venv, "install", "-q", "-e", ".", *test_requirements(python), airflow, "setuptools")
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    pins = sorted((line for line in frozen if not line.startswith("pip==")), key=str.lower)
    left_out = "; ".join(f"{name}: {why}" for name, why in LEFT_OUT.get(python, {}).items())
    header = [
        f"# Pinned versions for Python {python}, where constraints.txt does not install:",
        f"#   pip install -c constraints-py{python}.txt -e . <the test extra>  (make test-pythons)",
        "# Regenerate with: make python-constraints (scripts/pythons.py constraints: installs unpinned",
        f"# into a scratch venv, {airflow} as in constraints.txt, and freezes it).",
        *([f"# Left out of the test extra: {left_out}."] if left_out else []),
    ]
    constraints_for(python).write_text("\n".join([*header, *pins]) + "\n")
    print(f"{constraints_for(python).name}: {len(pins)} pins")


def ensure_venv(python: str) -> Path:
    venv = REPO / f".venv-py{python}"
    constraints = constraints_for(python)
    key = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + constraints.read_bytes()).hexdigest()
    stamp = venv / ".installed"
    if stamp.exists() and stamp.read_text() == key:
        return venv
    if not (venv / "bin" / "python").exists():
        subprocess.run([base_python(python), "-m", "venv", str(venv)], check=True)
        pip(venv, "install", "-q", PIP_PIN)
    pip(venv, "install", "-q", "-c", str(constraints), "-e", ".", *test_requirements(python))
    stamp.write_text(key)
    return venv


def run() -> int:
    started = time.monotonic()
    results = []
    for python in PYTHONS:
        step = time.monotonic()
        venv = ensure_venv(python)
        installed = time.monotonic() - step
        cmd = [str(venv / "bin" / "python"), "-m", "pytest", "tests/unit", "tests/contract", "-q",
               "-p", "no:cacheprovider"]  # fmt: skip
        status = subprocess.run(cmd, cwd=REPO).returncode
        results.append((python, status, installed, time.monotonic() - step - installed))
    print()
    for python, status, installed, tested in results:
        verdict = "ok" if status == 0 else f"FAIL (pytest exit {status})"
        print(f"Python {python}: {verdict}; install {installed:.0f} s, tests {tested:.0f} s")
    print(f"make test-pythons: {time.monotonic() - started:.0f} s")
    return max(status for _, status, _, _ in results)


def main() -> int:
    if sys.argv[1:] == ["constraints"]:
        for python in OWN_CONSTRAINTS:
            write_constraints(python)
        return 0
    return run()


if __name__ == "__main__":
    raise SystemExit(main())
