"""The distribution's metadata says what the package needs: every library it imports (the sandbox's
included, since it ships in the wheel) is a declared dependency, and nothing declared goes unused.

A library that only arrives through another one (aiohttp through the http provider, uvicorn
through Airflow's API server) can disappear with that library's next release.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, tomllib's original, comes with build (the test extra) and pytest
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "airflow_provider_wa_phones"

#: ``import airflow`` is served by several distributions (core, task SDK, providers); the package
#: declares the one users install.
_AIRFLOW = "apache-airflow"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return _normalise(match.group())


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


#: Read by type checkers alone, under ``if TYPE_CHECKING:``: typing_extensions gives them ``Self`` and
#: ``Unpack``, which ``typing`` has from Python 3.11 only (mypy checks for 3.10). Nothing imports it at
#: run time, so it needs no declared dependency (it is installed with Airflow and pydantic anyway).
_TYPE_CHECKING_ONLY = {"typing_extensions"}


def _type_checking_only_imports(tree: ast.Module) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            found.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return found


def test_typing_extensions_is_imported_for_type_checkers_only():
    for path in (REPO / PACKAGE).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        guarded = _type_checking_only_imports(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in guarded:
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert not _TYPE_CHECKING_ONLY & {(m or "").partition(".")[0] for m in modules}, (
                    f"{path.relative_to(REPO)}:{node.lineno} imports typing_extensions at run time"
                )


def _imported_top_level_modules() -> set[str]:
    """Top-level names of every absolute import in the package, lazy ones inside functions too
    (but not what only type checkers read)."""
    names: set[str] = set()
    for path in (REPO / PACKAGE).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        guarded = _type_checking_only_imports(tree)
        for node in ast.walk(tree):
            if (
                id(node) in guarded
                and isinstance(node, ast.ImportFrom)
                and node.module in _TYPE_CHECKING_ONLY
            ):
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
    return names - set(sys.stdlib_module_names) - {PACKAGE, "__future__"}


def _packages_distributions() -> dict[str, list[str]]:
    """``importlib.metadata.packages_distributions()``. Python 3.10's reads only ``top_level.txt``,
    which wheels built by hatchling (starlette's) do not have; 3.11 also reads the installed files,
    as this does on 3.10."""
    owners = importlib.metadata.packages_distributions()
    if sys.version_info < (3, 11):
        for dist in importlib.metadata.distributions():
            for file in dist.files or ():
                top = file.parts[0] if len(file.parts) > 1 else file.name.partition(".")[0]
                if top.isidentifier() and dist.metadata["Name"] not in owners.setdefault(top, []):
                    owners[top].append(dist.metadata["Name"])
    return owners


def _imported_distributions() -> set[str]:
    owners = _packages_distributions()
    found = set()
    for module in _imported_top_level_modules():
        if module == "airflow":
            found.add(_AIRFLOW)
            continue
        assert module in owners, f"{module} is imported but no installed distribution provides it"
        found.update(_normalise(owner) for owner in owners[module])
    return found


def test_every_imported_library_is_a_declared_dependency_and_every_dependency_is_imported():
    declared = {_requirement_name(req) for req in _pyproject()["project"]["dependencies"]}
    imported = _imported_distributions()
    assert imported - declared == set(), "imported but not declared"
    assert declared - imported == set(), "declared but never imported"


def _pins() -> dict[str, str]:
    """constraints.txt as normalised name -> pinned version."""
    pins = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_normalise(name)] = version
    return pins


def test_each_dependency_has_a_floor_that_the_pinned_version_meets():
    from packaging.requirements import Requirement

    pins = _pins()
    for text in _pyproject()["project"]["dependencies"]:
        requirement = Requirement(text)
        name = _normalise(requirement.name)
        assert any(spec.operator == ">=" for spec in requirement.specifier), f"{text}: no floor"
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{text} excludes the pinned {pins[name]}"


def test_license_is_the_apache_2_0_text_and_declared():
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text


def test_no_project_url_until_one_leads_somewhere_real():
    """The project has no public repository or hosted docs yet: no placeholder address is published."""
    assert "urls" not in _pyproject()["project"]


def test_authors_and_maintainers_are_the_project_maintainers():
    project = _pyproject()["project"]
    expected = [{"name": "airflow-provider-wa-phones maintainers", "email": "dev@wa-phones.invalid"}]
    assert project["authors"] == expected
    assert project["maintainers"] == expected


def test_only_http_is_a_public_extra_and_the_tool_sets_are_dependency_groups():
    """Users install ``[http]``; the project's own tools (PEP 735 groups) stay out of the metadata."""
    data = _pyproject()
    assert set(data["project"]["optional-dependencies"]) == {"http"}
    groups = data["dependency-groups"]
    assert set(groups) == {"test", "lint", "ui", "e2e", "docs", "release"}
    assert {_requirement_name(req) for req in groups["docs"]} == {"sphinx", "myst-parser", "furo"}
    release = {_requirement_name(req) for req in groups["release"]}
    assert {"twine", "check-wheel-contents", "pyroma"} <= release


def test_every_tool_of_every_group_is_pinned_within_its_floor():
    from packaging.requirements import Requirement

    pins = _pins()
    for group, requirements in _pyproject()["dependency-groups"].items():
        for text in requirements:
            requirement = Requirement(text)
            name = _normalise(requirement.name)
            assert name in pins, f"{group}: {name} is not pinned in constraints.txt"
            assert requirement.specifier.contains(pins[name]), f"{group}: {text} excludes {pins[name]}"


def test_changelog_has_unreleased_and_the_current_version():
    version = _pyproject()["project"]["version"]
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert headings[:2] == ["Unreleased", version]
    # No link for a version until the project has a public address (no placeholder URL).
    assert "github.com/wa-phones" not in text


def test_readme_links_every_example_dag_next_to_the_install_line():
    """The wheel leaves the example DAGs out; the README's Install section must say where each is."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    install = text.partition("\n## Install\n")[2].partition("\n## ")[0]
    version = _pyproject()["project"]["version"]
    assert f"pip install dist/airflow_provider_wa_phones-{version}-py3-none-any.whl" in install
    examples = sorted(path.name for path in (REPO / "example_dags").glob("*.py"))
    assert examples
    for name in examples:
        assert f"](example_dags/{name})" in install, f"{name} is not linked from the Install section"


def test_readme_is_the_front_door_and_every_link_resolves():
    """At most 200 lines, and each link leads to a file of the repository (the docs pages are
    files under docs/), with any #anchor a heading of that Markdown page."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) >= 15
    for link in links:
        assert not link.startswith(("http://", "https://")), f"{link}: the docs are in the repository"
        path, _, anchor = link.partition("#")
        target = REPO / path
        assert target.exists(), f"{link}: no such file"
        if anchor:
            headings = re.findall(r"^#{1,6} (.+)$", target.read_text(encoding="utf-8"), flags=re.MULTILINE)
            anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
            assert anchor in anchors, f"{link}: no such heading"
