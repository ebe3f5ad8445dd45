"""The release artefacts: ``python -m build`` makes an sdist and a wheel, the wheel holds every module
(the sandbox included) and ``py.typed``, and installed into a fresh virtualenv it registers the
provider with Airflow.

The build runs the way a release does (isolated, the wheel built from the sdist), on a copy of the
work tree so it never writes into it, with the build backend pinned by constraints.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.release, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_wa_phones"
VERSION = "0.1.0"


def _package_files() -> set[str]:
    """Every file of the import package in the work tree, as paths inside a wheel."""
    root = REPO / PACKAGE
    files = {path for path in root.rglob("*.py") if "__pycache__" not in path.parts}
    return {path.relative_to(REPO).as_posix() for path in files} | {f"{PACKAGE}/py.typed"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """``python -m build`` run on a copy of the work tree; returns the output folder."""
    work = tmp_path_factory.mktemp("release")
    source = work / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".airflow-home"
        ),
    )
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


def test_published_description_has_a_troubleshooting_row_for_every_service_code(wheel):
    from airflow_provider_wa_phones.exceptions import CAMS_CODES, NXCLOUD_CODES

    with zipfile.ZipFile(wheel) as archive:
        description = archive.read(f"{PACKAGE}-{VERSION}.dist-info/METADATA").decode()
    troubleshooting = description.partition("\n## Troubleshooting\n")[2]
    assert troubleshooting, "README has no Troubleshooting section"
    for code, kind in [*NXCLOUD_CODES.items(), *CAMS_CODES.items()]:
        retried = "yes" if kind.retryable else "no"
        row = f"| `{code}` | {kind.meaning} | `{kind.error_class.__name__}` | {retried} |"
        assert row in troubleshooting, f"no Troubleshooting row for {code}: {row}"


def test_sdist_holds_the_sources_and_py_typed(dist):
    (sdist,) = dist.glob("*.tar.gz")
    top = f"{PACKAGE}-{VERSION}"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= names
    assert _package_files() <= names


# Runs inside the fresh virtualenv: where the package comes from, and what Airflow discovers.
_PROBE = textwrap.dedent(
    """
    import json, importlib.metadata as md, importlib.resources as res, pkgutil
    import airflow_provider_wa_phones as pkg
    import airflow_provider_wa_phones.sandbox as sandbox
    from airflow.providers_manager import ProvidersManager

    (entry,) = [ep for ep in md.entry_points(group="apache_airflow_provider")
                if ep.dist.name == "airflow-provider-wa-phones"]
    manager = ProvidersManager()
    provider = manager.providers["airflow-provider-wa-phones"]
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
    }))
    """
)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    """The wheel in a fresh virtualenv that sees Airflow (but not this work tree) through a .pth line.

    The line is a plain path, so the venv's site-packages come first and the editable install's
    own .pth hook (which would put the work tree on sys.path) never runs.
    """
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "dev_venv_packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    probe = subprocess.run(
        [str(python), "-c", _PROBE], capture_output=True, text=True, env=env, cwd=venv, timeout=120
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    return site, json.loads(probe.stdout.strip().splitlines()[-1])


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
    } | {"sandbox.cams", "sandbox.nxcloud"}
    assert set(found["sandbox_modules"]) == in_tree
