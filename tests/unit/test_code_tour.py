"""The docs' tour of the code (docs/development.md) still describes the code: it names every
module, and every module path it names exists (a renamed or split module shows up here, not in a
confused reader)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "airflow_provider_wa_phones"
SERVICES = ("nxcloud", "cams")


def tour(readme: str) -> str:
    start = readme.index("## A tour of the code")
    return readme[start : readme.index("\n#", start + 1)]


def named_paths(text: str) -> set[str]:
    """The module paths in backticks (``hooks/base.py``), ``<service>`` expanded to each service."""
    paths = set()
    for name in re.findall(r"`([\w<>/]+\.py)`", text):
        paths.update(name.replace("<service>", service) for service in SERVICES)
    return paths


def modules(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*.py") if path.name != "__init__.py"}


def unnamed(text: str, root: Path) -> list[str]:
    return sorted(modules(root) - named_paths(text))


def missing(text: str, root: Path) -> list[str]:
    """Named paths found neither in the package nor in the repository (``tests/...``)."""
    return sorted(
        path for path in named_paths(text) if not ((root / path).is_file() or (root.parent / path).is_file())
    )


TOUR = tour((REPO / "docs" / "development.md").read_text())


def test_the_tour_names_every_module() -> None:
    assert unnamed(TOUR, PACKAGE) == []


def test_every_module_the_tour_names_exists() -> None:
    assert missing(TOUR, PACKAGE) == []


def test_the_checks_fail_on_a_planted_module_and_a_planted_name(tmp_path: Path) -> None:
    root = tmp_path / "package"
    (root / "hooks").mkdir(parents=True)
    (tmp_path / "tests").mkdir()
    for name in ("hooks/base.py", "hooks/nxcloud.py", "hooks/cams.py", "lonely.py"):
        (root / name).write_text("")
    (tmp_path / "tests" / "test_x.py").write_text("")
    text = "`hooks/base.py` and `hooks/<service>.py`; `gone.py` was split; `tests/test_x.py`"
    assert unnamed(text, root) == ["lonely.py"]
    assert missing(text, root) == ["gone.py"]
