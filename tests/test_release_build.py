"""The release artefacts: ``python -m build`` makes an sdist and a wheel, the wheel holds every module
(the sandbox included), ``py.typed`` and the LICENSE, and installed into a fresh virtualenv it
registers the provider, its hooks and its triggers with Airflow.

The build runs the way a release does (isolated, the wheel built from the sdist), on a copy of what a
fresh clone holds so it never writes into the work tree, with the build backend pinned by
constraints.txt. The
virtualenv starts with pip alone; ``pip install -c constraints.txt <wheel>`` must bring everything
the package imports, so a dependency missing from pyproject.toml fails here. pip's cache keeps
the install to about a minute once the pinned wheels have been downloaded.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

# The fresh virtualenv's install takes most of the time (longer on a cold pip cache).
pytestmark = [pytest.mark.release, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_wa_phones"
VERSION = "0.1.0"


def _triggers_in_tree() -> set[str]:
    """Every ``...Trigger`` class defined in triggers/*.py of the work tree (base.py: bases only)."""
    names = set()
    for path in (REPO / PACKAGE / "triggers").glob("*.py"):
        if path.stem not in {"__init__", "base"}:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names |= {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    return {name for name in names if name.endswith("Trigger")}


TRIGGERS = _triggers_in_tree()


def _package_files() -> set[str]:
    """Every file of the import package in the work tree, as paths inside a wheel."""
    root = REPO / PACKAGE
    files = {path for path in root.rglob("*.py") if "__pycache__" not in path.parts}
    return {path.relative_to(REPO).as_posix() for path in files} | {f"{PACKAGE}/py.typed"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """``python -m build`` run on what a fresh clone holds; returns the output folder.

    The source is the files git tracks plus new ones it does not ignore (so work not yet committed
    is built too), never the ignored leftovers of the work tree (.venv, build/, *.egg-info).
    """
    work = tmp_path_factory.mktemp("release")
    source = work / "source"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        cwd=REPO,
    ).stdout.decode()
    files = [name for name in listed.split("\0") if name and (REPO / name).is_file()]
    assert "pyproject.toml" in files and "LICENSE" in files
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    out = work / "dist"
    env = {**os.environ, "PIP_CONSTRAINT": str(REPO / "constraints.txt")}
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    wheels = list(dist.glob("*.whl"))
    assert [path.name for path in wheels] == [f"{PACKAGE}-{VERSION}-py3-none-any.whl"]
    return wheels[0]


def test_build_makes_one_sdist_and_one_wheel(dist, wheel):
    assert sorted(path.name for path in dist.iterdir()) == [
        f"{PACKAGE}-{VERSION}-py3-none-any.whl",
        f"{PACKAGE}-{VERSION}.tar.gz",
    ]


def test_wheel_holds_every_module_the_sandbox_and_py_typed(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"{PACKAGE}-{VERSION}.dist-info/entry_points.txt").decode()
        metadata = archive.read(f"{PACKAGE}-{VERSION}.dist-info/METADATA").decode()
    packaged = {name for name in names if name.startswith(f"{PACKAGE}/")}
    expected = _package_files()
    assert packaged == expected, f"missing {expected - packaged}, unexpected {packaged - expected}"
    sandbox = {name for name in expected if name.startswith(f"{PACKAGE}/sandbox/")}
    assert {f"{PACKAGE}/sandbox/__main__.py", f"{PACKAGE}/sandbox/cams/routes.py"} <= sandbox
    assert not any(name.startswith(("tests/", "example_dags/", "benchmarks/", "scripts/")) for name in names)
    assert "[apache_airflow_provider]" in entry_points
    assert f"provider_info = {PACKAGE}.get_provider_info:get_provider_info" in entry_points
    assert "Classifier: Typing :: Typed" in metadata
    assert "Requires-Dist: apache-airflow>=3.0.6" in metadata  # the oldest `make compat` runs
    assert 'Requires-Dist: apache-airflow-providers-http>=5.3.3; extra == "http"' in metadata
    # The tool sets are dependency groups, not extras: users see the http extra alone.
    headers = metadata.partition("\n\n")[0].splitlines()
    assert [line for line in headers if line.startswith("Provides-Extra: ")] == ["Provides-Extra: http"]


def test_wheel_carries_the_license_the_authors_and_no_project_url(wheel):
    dist_info = f"{PACKAGE}-{VERSION}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        license_text = archive.read(f"{dist_info}/licenses/LICENSE").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert license_text == (REPO / "LICENSE").read_text(encoding="utf-8")
    headers = metadata.partition("\n\n")[0].splitlines()
    assert "License-Expression: Apache-2.0" in headers
    assert "License-File: LICENSE" in headers
    maintainers = "airflow-provider-wa-phones maintainers <dev@wa-phones.invalid>"
    assert f"Author-email: {maintainers}" in headers
    assert f"Maintainer-email: {maintainers}" in headers
    # No public repository or hosted docs yet: no placeholder address either.
    assert not [line for line in headers if line.startswith(("Project-URL: ", "Home-page: "))]


def test_published_description_is_the_readme_and_points_into_the_docs(wheel):
    """The long description is the README (the front door); what each service code means is in the
    docs' errors page, generated from codes.py, which the sdist carries."""
    with zipfile.ZipFile(wheel) as archive:
        description = archive.read(f"{PACKAGE}-{VERSION}.dist-info/METADATA").decode()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0] in description and "## One complete example" in description
    for page in ("docs/errors.md", "docs/troubleshooting.md", "docs/validation.md"):
        assert f"]({page})" in description, page


def test_sdist_holds_the_sources_py_typed_the_docs_and_the_tests(dist):
    (sdist,) = dist.glob("*.tar.gz")
    top = f"{PACKAGE}-{VERSION}"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    assert {"pyproject.toml", "README.md", "PKG-INFO", "LICENSE", "CHANGELOG.md", "constraints.txt"} <= names
    assert _package_files() <= names
    # The README sends users to the sdist for the example DAGs.
    examples = {path.relative_to(REPO).as_posix() for path in (REPO / "example_dags").glob("*.py")}
    assert examples and examples <= names
    # The docs and the test suite, as an official provider's sdist carries them; no bytecode.
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "docs", "tests"], capture_output=True, check=True, cwd=REPO
    ).stdout.decode()
    expected = {name for name in tracked.split("\0") if name and (REPO / name).is_file()}
    assert any(name.startswith("docs/") for name in expected) and "tests/conftest.py" in expected
    assert expected <= names, f"missing {sorted(expected - names)[:10]}"
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


# Runs inside the fresh virtualenv: where the package comes from, what Airflow discovers, and that
# every module imports with the dependencies pip installed for the wheel. Imports of the HTTP and
# web stacks are deferred to first use, so the sandbox serves, the sync hooks call it (requests,
# urllib3) and two triggers poll it (aiohttp, yarl): a library missing from the wheel's
# dependencies fails here.
_PROBE = textwrap.dedent(
    """
    import asyncio, importlib, inspect, json, os, pkgutil, sys
    import importlib.metadata as md, importlib.resources as res
    import airflow_provider_wa_phones as pkg
    import airflow_provider_wa_phones.sandbox as sandbox
    from airflow.providers_manager import ProvidersManager
    from airflow.triggers.base import BaseTrigger

    (entry,) = [ep for ep in md.entry_points(group="apache_airflow_provider")
                if ep.dist.name == "airflow-provider-wa-phones"]
    manager = ProvidersManager()
    provider = manager.providers["airflow-provider-wa-phones"]
    modules = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    import_errors = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            import_errors[name] = repr(exc)
    listed_triggers = json.loads(sys.argv[1])
    trigger_classes = sorted(
        name
        for module in listed_triggers
        for name, obj in vars(importlib.import_module(module)).items()
        if inspect.isclass(obj) and issubclass(obj, BaseTrigger) and obj.__module__ == module
    )

    from airflow_provider_wa_phones.hooks.cams import CamsHook
    from airflow_provider_wa_phones.hooks.nxcloud import NxCloudHook
    from airflow_provider_wa_phones.phones import cams_phone_record, nxcloud_phone_record
    from airflow_provider_wa_phones.triggers.cams import CamsPhoneStatusTrigger
    from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneStatusTrigger

    async def first_event(trigger):
        async for event in trigger.run():
            return event.payload

    with sandbox.SandboxServer() as server:
        os.environ.update(server.airflow_env())
        nxcloud = [nxcloud_phone_record(r) for r in NxCloudHook().list_phones()]
        nxcloud = [r["phone_number"] for r in nxcloud if r["status"] == "CONNECTED"]
        cams = CamsHook().query_phone_numbers(status="CONNECTED")
        cams = [cams_phone_record(r)["phone_number"] for r in cams]
        events = [
            asyncio.run(asyncio.wait_for(first_event(trigger), 30))["status"]
            for trigger in (
                NxCloudPhoneStatusTrigger(nxcloud[:1], "CONNECTED", ["BANNED"], poke_interval=0.05),
                CamsPhoneStatusTrigger(cams[:1], "CONNECTED", ["BANNED"], poke_interval=0.05),
            )
        ]
        served = server.request_count()

    print(json.dumps({
        "package_file": pkg.__file__,
        "dist_files": str(md.distribution("airflow-provider-wa-phones").locate_file("")),
        "entry_point": entry.value,
        "provider_info_name": entry.load()()["package-name"],
        "provider_version": provider.version,
        "hooks": {
            name: manager.hooks[name].hook_class_name for name in ("nxcloud", "alibaba_cams")
        },
        "py_typed": res.files(pkg).joinpath("py.typed").is_file(),
        "sandbox_modules": sorted(
            m.name.removeprefix(pkg.__name__ + ".")
            for m in pkgutil.walk_packages(sandbox.__path__, sandbox.__name__ + ".")
        ),
        "import_errors": import_errors,
        "trigger_classes": trigger_classes,
        "trigger_events": events,
        "sandbox_requests": served,
    }))
    """
)


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command[:3]}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A new virtualenv holding pip alone, then the wheel installed with pip and the constraints.

    Returns its python and an environment for it: no PYTHONPATH, no AIRFLOW_* settings of the test
    run, an AIRFLOW_HOME of its own.
    """
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    # Python 3.11's venv would add setuptools too: pip alone, the version `make` pins, comes from
    # this test run's pip.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    pip = f"pip=={importlib.metadata.version('pip')}"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", pip])
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "PYTHONPATH" and not name.startswith("AIRFLOW_")
    }
    env |= {"AIRFLOW_HOME": str(root / "airflow-home"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    frozen = _run([str(python), "-m", "pip", "freeze", "--all"], env=env).stdout.split()
    assert [line.split("==")[0] for line in frozen] == ["pip"], frozen
    _run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"), str(wheel)],
        env=env,
        cwd=root,
    )
    _run([str(python), "-m", "pip", "check"], env=env, cwd=root)
    return python, env


@pytest.fixture(scope="module")
def listed_triggers(fresh_venv) -> list[dict[str, str]]:
    """``airflow providers triggers`` in the fresh virtualenv, this provider's rows."""
    python, env = fresh_venv
    airflow = python.with_name("airflow")
    result = _run(
        [str(airflow), "providers", "triggers", "-o", "json"], env=env, cwd=python.parent, timeout=180
    )
    rows = json.loads(result.stdout[result.stdout.index("[") :])
    return [row for row in rows if row["package_name"] == "airflow-provider-wa-phones"]


@pytest.fixture(scope="module")
def installed(fresh_venv, listed_triggers) -> tuple[Path, dict]:
    python, env = fresh_venv
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([str(python), "-c", purelib], env=env).stdout.strip())
    modules = json.dumps([row["class"] for row in listed_triggers])
    probe = _run([str(python), "-c", _PROBE, modules], env=env, cwd=python.parent, timeout=180)
    return site, json.loads(probe.stdout.strip().splitlines()[-1])


def test_fresh_virtualenv_lists_the_provider_triggers(listed_triggers, installed):
    _, found = installed
    assert {row["integration_name"] for row in listed_triggers} == {
        "NxCloud WhatsApp",
        "Alibaba Cloud ChatApp Message Service (CAMS)",
    }
    assert {"NxCloudNumberCheckTrigger", "NxCloudPhoneStatusTrigger", "CamsPhoneStatusTrigger"} <= TRIGGERS
    assert set(found["trigger_classes"]) == TRIGGERS


def test_fresh_virtualenv_imports_every_module_with_the_declared_dependencies(installed):
    _, found = installed
    assert found["import_errors"] == {}


def test_fresh_virtualenv_runs_hooks_and_triggers_against_the_sandbox(installed):
    _, found = installed
    assert found["trigger_events"] == ["success", "success"]
    assert found["sandbox_requests"] == 4  # two hook calls, one poll per trigger


def test_fresh_virtualenv_imports_the_package_from_the_wheel(installed):
    site, found = installed
    assert Path(found["package_file"]).is_relative_to(site)
    assert Path(found["dist_files"]) == site
    assert found["py_typed"] is True


def test_fresh_virtualenv_registers_the_provider_with_airflow(installed):
    _, found = installed
    assert found["entry_point"] == f"{PACKAGE}.get_provider_info:get_provider_info"
    assert found["provider_info_name"] == "airflow-provider-wa-phones"
    assert found["provider_version"] == VERSION
    assert found["hooks"] == {
        "nxcloud": f"{PACKAGE}.hooks.nxcloud.NxCloudHook",
        "alibaba_cams": f"{PACKAGE}.hooks.cams.CamsHook",
    }


def test_fresh_virtualenv_has_every_sandbox_module(installed):
    _, found = installed
    in_tree = {
        "sandbox." + ".".join(path.relative_to(REPO / PACKAGE / "sandbox").with_suffix("").parts)
        for path in (REPO / PACKAGE / "sandbox").rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    } | {  # and each service's package (sandbox.cams, sandbox.nxcloud, sandbox.sts)
        "sandbox." + ".".join(path.parent.relative_to(REPO / PACKAGE / "sandbox").parts)
        for path in (REPO / PACKAGE / "sandbox").glob("*/__init__.py")
    }
    assert {"sandbox.cams", "sandbox.nxcloud", "sandbox.sts"} <= in_tree
    assert set(found["sandbox_modules"]) == in_tree
