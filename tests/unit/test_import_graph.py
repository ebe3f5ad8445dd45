"""The package's import graph, computed with ``ast`` from its own source: no cycle, every module on
a floor above everything it imports, and no function-local import without its reason beside it.

Function-local imports and ``if TYPE_CHECKING:`` imports count like any other: an import moved into
a function still ties the two modules together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "airflow_provider_wa_phones"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

#: The floors, bottom to top (names relative to the package; ``x.*`` is every module under ``x``).
#: A module may import modules of its own floor or of a lower one, never of a higher one.
FLOORS: list[list[str]] = [
    ["services", "exceptions", "deadline", "ratelimit", "signing"],
    ["redact", "checks", "get_provider_info"],
    ["_compat", "phones", "codes", "watches", "reports", "lineage"],
    ["operations", "operations.answers", "contacts"],
    ["retry"],
    ["operations.base"],
    ["transport"],
    ["operations.nxcloud", "operations.cams"],
    ["connections", "results"],
    ["credentials"],
    ["auth", "submits", "waits"],
    ["hooks", "hooks.base"],
    ["hooks.nxcloud", "hooks.cams"],
    ["triggers", "triggers.*"],
    ["operators", "operators.base", "sensors", "sensors.base"],
    ["operators.nxcloud", "operators.cams", "sensors.nxcloud", "sensors.cams"],
    ["sandbox", "sandbox.*"],
    [""],  # the package itself
]

#: Modules excused from the floors and the markers while they are being reshaped: none now. A name
#: put here must come with the change that takes it out again.
KNOWN_BEING_FIXED: set[str] = set()

#: Imports that break a floor on purpose, each with its reason (they still may not form a cycle
#: with anything else than each other).
DEPRECATED_PATHS: dict[tuple[str, str], str] = {
    ("exceptions", "codes"): "exceptions.CAMS_CODES & co.: the 0.x import path, with a DeprecationWarning",
}

#: What a function-local import must say beside it (on its line or the comment line above), by
#: module prefix ("" is every module); the longest matching prefix decides.
LOCAL_IMPORT_MARKERS: dict[str, tuple[str, ...]] = {
    "": ("# light DAG parsing:",),
    # Which Airflow module holds a name depends on the running Airflow (3.0 to the latest 3.x).
    "_compat": ("# light DAG parsing:", "# Airflow version:"),
    # The deprecated names are loaded only when an old import asks for them (DEPRECATED_PATHS).
    "exceptions": ("# light DAG parsing:", "# 0.x import path:"),
    # A sync worker's hooks never load aiohttp; the triggerer's never need more than it.
    "transport": ("# light DAG parsing:", "# light sync workers:"),
    # The sandbox's servers load uvicorn, FastAPI and the emulated services only when one starts.
    "sandbox": ("# light DAG parsing:", "# light import:"),
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, relative to the package ("" for the package itself)
    target: str  # an imported module of the package, or the top-level name of any other
    local: bool  # inside a function
    line: int
    says_why: bool  # a marker of LOCAL_IMPORT_MARKERS is beside it


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def markers_for(module: str) -> tuple[str, ...]:
    best = max((prefix for prefix in LOCAL_IMPORT_MARKERS if module.startswith(prefix)), key=len)
    return LOCAL_IMPORT_MARKERS[best]


def matches(module: str, pattern: str) -> bool:
    """``pattern`` is a module name, or ``x.*``: ``x`` and every module under it."""
    if pattern.endswith(".*"):
        return module.startswith(pattern[:-1]) or module == pattern[:-2]
    return module == pattern


def read_imports(source: str, module: str, known: set[str], is_package: bool) -> list[Import]:
    """Every import statement of one module's source, resolved to the package's modules."""
    tree = ast.parse(source)
    lines = source.splitlines()
    markers = markers_for(module)
    found: list[Import] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in resolve(child, module, known, is_package):
                    beside = lines[child.lineno - 1 : (child.end_lineno or child.lineno)]
                    says = any(m in text for m in markers for text in beside) or any(
                        text.startswith(m) for m in markers for text in comment_above(lines, child.lineno)
                    )
                    found.append(Import(module, target, local, child.lineno, says))
            visit(child, local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


def resolve(node: ast.Import | ast.ImportFrom, module: str, known: set[str], is_package: bool) -> list[str]:
    prefix = PACKAGE + "."
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".") if module else []
            if not is_package:
                here = here[:-1]
            here = here[: len(here) - node.level + 1]
            base = ".".join([PACKAGE, *here, *([base] if base else [])])
        names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        if isinstance(node, ast.ImportFrom):
            # "from pkg import mod" imports the module; "from mod import name" the module only.
            names = [n for n in names[:-1] if n.removeprefix(prefix) in known] or [base]
    targets = []
    for name in names:
        if name == PACKAGE or name.startswith(prefix):
            relative = "" if name == PACKAGE else name.removeprefix(prefix)
            while relative not in known and "." in relative:
                relative = relative.rsplit(".", 1)[0]
            targets.append(relative if relative in known else "")
        else:
            targets.append(name.split(".")[0])
    return targets


def comment_above(lines: list[str], lineno: int) -> list[str]:
    """The comment lines right above line ``lineno`` (1-based), nearest first. One comment may run
    over several lines and speak for a group of imports (blank lines between them allowed); a
    ``try:`` between it and the import is part of the same statement."""
    block = []
    index = lineno - 2
    while index >= 0:
        text = lines[index].strip()
        if text.startswith("#"):
            block.append(text)
        elif not (text in ("", "try:") or text.startswith(("import ", "from "))):
            break
        index -= 1
    return block


def package_imports(root: Path = ROOT) -> tuple[set[str], list[Import]]:
    files = {module_name(path, root): path for path in root.rglob("*.py")}
    known = set(files)
    found = []
    for name, path in sorted(files.items()):
        found += read_imports(path.read_text(encoding="utf-8"), name, known, path.name == "__init__.py")
    return known, found


def in_set(module: str, patterns: set[str]) -> bool:
    return any(matches(module, pattern) for pattern in patterns if pattern)


def internal_edges(modules: set[str], imports: list[Import]) -> set[tuple[str, str]]:
    """Module -> module edges inside the package (the package itself and self-imports left out:
    importing a submodule runs its package's ``__init__``, which imports nothing here)."""
    return {
        (i.source, i.target)
        for i in imports
        if i.target in modules and i.target != i.source and i.target and i.source
    }


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    graph: dict[str, list[str]] = {}
    for source, target in edges:
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(groups)


def floor_of(module: str, floors: list[list[str]]) -> int | None:
    """The floor a module stands on (an exact name wins over a ``x.*`` pattern)."""
    for exact in (True, False):
        for level, names in enumerate(floors):
            for name in names:
                if (name == module) if exact else (name.endswith(".*") and matches(module, name)):
                    return level
    return None


def upward(edges: set[tuple[str, str]], floors: list[list[str]]) -> list[str]:
    """Every import of a module on a higher floor (or of one with no floor), as text."""
    found = []
    for source, target in sorted(edges):
        low, high = floor_of(source, floors), floor_of(target, floors)
        if low is None or high is None:
            found.append(f"{source} -> {target}: {'source' if low is None else 'target'} has no floor")
        elif high > low:
            found.append(f"{source} (floor {low}) -> {target} (floor {high})")
    return found


def checked_edges(modules: set[str], imports: list[Import]) -> set[tuple[str, str]]:
    return {
        edge
        for edge in internal_edges(modules, imports)
        if not in_set(edge[0], KNOWN_BEING_FIXED) and edge not in DEPRECATED_PATHS
    }


MODULES, IMPORTS = package_imports()


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(checked_edges(MODULES, IMPORTS)) == []


def test_no_module_imports_one_on_a_higher_floor() -> None:
    assert upward(checked_edges(MODULES, IMPORTS), FLOORS) == []


def test_every_module_stands_on_a_floor() -> None:
    assert sorted(m for m in MODULES if floor_of(m, FLOORS) is None) == []


def test_every_function_local_import_says_why() -> None:
    unexplained = [
        f"{PACKAGE}/{i.source.replace('.', '/') or '__init__'}.py:{i.line} imports {i.target}"
        for i in IMPORTS
        if i.local and not i.says_why and not in_set(i.source, KNOWN_BEING_FIXED)
    ]
    assert unexplained == []


def test_the_deprecated_paths_are_still_imports_of_the_code() -> None:
    # An entry whose import went away would excuse nothing and hide a later one.
    assert set(DEPRECATED_PATHS) <= internal_edges(MODULES, IMPORTS)


# --- the checker itself fails on planted defects ------------------------------------------------


def test_the_cycle_check_finds_a_planted_cycle() -> None:
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({("a", "b"), ("b", "c")}) == []


def test_the_floor_check_finds_a_planted_upward_import() -> None:
    floors = [["low"], ["mid", "mid2"], ["high.*"]]
    assert upward({("high.x", "mid"), ("mid", "mid2"), ("mid", "low")}, floors) == []
    assert upward({("low", "mid")}, floors) == ["low (floor 0) -> mid (floor 1)"]
    assert upward({("mid", "high.deep.y")}, floors) == ["mid (floor 1) -> high.deep.y (floor 2)"]
    assert upward({("mid", "nowhere")}, floors) == ["mid -> nowhere: target has no floor"]


def test_the_import_reader_sees_local_typing_and_unexplained_imports(tmp_path: Path) -> None:
    package = tmp_path / PACKAGE
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "low.py").write_text(
        f"from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from {PACKAGE}.sub import high\n"
    )
    (package / "sub" / "high.py").write_text(
        "def f():\n"
        f"    from {PACKAGE} import low\n"
        "    # light DAG parsing: json is not needed to parse a DAG\n"
        "    import json\n"
        "    from . import other  # light DAG parsing: planted\n"
    )
    (package / "sub" / "other.py").write_text("")
    modules, imports = package_imports(package)
    edges = internal_edges(modules, imports)
    assert edges == {("low", "sub.high"), ("sub.high", "low"), ("sub.high", "sub.other")}
    assert cycles(edges) == [["low", "sub.high"]]
    local = {(i.target, i.says_why) for i in imports if i.local}
    assert local == {("low", False), ("json", True), ("sub.other", True)}


@pytest.mark.parametrize("module", ["hooks.base", "operations.base", "connections", "auth", "transport"])
def test_the_reshaped_core_is_not_excused(module: str) -> None:
    assert not in_set(module, KNOWN_BEING_FIXED)
    assert floor_of(module, FLOORS) is not None


def test_a_reason_may_run_over_several_comment_lines_but_must_be_right_above() -> None:
    source = (
        "def f():\n"
        "    # light DAG parsing: a reason that runs\n"
        "    # over two lines\n"
        "    try:\n"
        "        import json\n"
        "    except ImportError:\n"
        "        import csv\n"
        "    x = 1\n"
        "    # a comment without the marker\n"
        "    import os\n"
        "\n"
        "    import sys\n"
        "    # light DAG parsing: one reason for a group of imports\n"
        "    import re\n"
        "\n"
        "    import glob\n"
    )
    found = read_imports(source, "m", set(), False)
    assert {(i.target, i.says_why) for i in found} == {
        ("json", True),
        ("csv", False),
        ("os", False),
        ("sys", False),
        ("re", True),
        ("glob", True),
    }
