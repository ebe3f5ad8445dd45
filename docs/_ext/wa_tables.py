"""Tables the code holds as data, generated into the docs at build time (one source each):

- ``error-codes``: every documented NxCloud and CAMS code (``codes.NXCLOUD_CODES`` /
  ``codes.CAMS_CODES``): the error class, what it means, what to do, retried or not;
- ``validation-rules``: the rows ``tests/integration/test_bad_input.py`` runs (where, parameter,
  error message) with their words (``tests/integration/rule_texts.py``);
- ``sensor-outcomes``: ``sensors.base.OUTCOMES`` and ``SITUATIONS``;
- ``compat-matrix``: the Airflow minors ``scripts/compat.py`` tests, each with its Python.

Cells are Markdown-ish text: ```code``` spans become literals, the rest stays text.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import Directive, directives

REPO = Path(__file__).resolve().parents[2]
_CODE = re.compile(r"`([^`]+)`")


def _cell(text: str) -> nodes.entry:
    """A table cell from text in which ``code`` spans are literals."""
    paragraph = nodes.paragraph()
    position = 0
    for match in _CODE.finditer(text):
        if match.start() > position:
            paragraph += nodes.Text(text[position : match.start()])
        paragraph += nodes.literal(match.group(1), match.group(1))
        position = match.end()
    if position < len(text):
        paragraph += nodes.Text(text[position:])
    entry = nodes.entry()
    entry += paragraph
    return entry


def table(headers: list[str], rows: list[list[str]], widths: list[int] | None = None) -> nodes.table:
    """A docutils table of text cells (see :func:`_cell`)."""
    node = nodes.table(classes=["wa-generated"])
    group = nodes.tgroup(cols=len(headers))
    node += group
    for width in widths or [1] * len(headers):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    header_row = nodes.row()
    for header in headers:
        header_row += _cell(header)
    head += header_row
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            row += _cell(cell)
        body += row
    return node


def _repo_on_path() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


class ErrorCodes(Directive):
    """``.. error-codes:: nxcloud`` or ``cams``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from airflow_provider_wa_phones import codes

        service = self.arguments[0]
        table_of = {"nxcloud": codes.NXCLOUD_CODES, "cams": codes.CAMS_CODES}[service]
        rows = [
            [
                f"`{code}`",
                f"`{kind.error_class.__name__}`",
                kind.meaning,
                kind.remedy,
                "yes" if kind.retryable else "no",
            ]
            for code, kind in table_of.items()
        ]
        headers = ["code", "error class", "meaning", "what to do", "retried"]
        return [table(headers, rows, [10, 16, 30, 40, 6])]


class ValidationRules(Directive):
    """``.. validation-rules:: rules`` (checked before any request) or ``after`` (while reading)."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        _repo_on_path()
        bad_input = importlib.import_module("tests.integration.test_bad_input")
        texts = importlib.import_module("tests.integration.rule_texts").RULE_TEXTS
        which = self.arguments[0]
        chosen = (
            [row for row in bad_input.ROWS if not row.xfail] if which == "rules" else bad_input.AFTER_REQUESTS
        )
        rows = []
        for row in chosen:
            where = row.target.__name__ + (f".{row.method}" if row.method else "")
            if row.layer == "connection":
                where = f"connection ({where})"
            rule, example = texts[row.id]
            rows.append([f"`{row.id}`", where, f"`{row.param}`", rule, example, f"`{row.message}`"])
        headers = ["#", "where", "parameter", "rule", "example bad value", "error message (start of it)"]
        return [table(headers, rows, [14, 16, 10, 24, 16, 30])]


class SensorOutcomes(Directive):
    """``.. sensor-outcomes::``: the outcome of each situation with each flag."""

    def run(self) -> list[nodes.Node]:
        from airflow_provider_wa_phones.sensors.base import OUTCOMES, SITUATIONS

        rows = [[situation, *outcomes, SITUATIONS[situation]] for situation, outcomes in OUTCOMES.items()]
        headers = ["situation", "default", "soft_fail", "never_fail", "what it covers"]
        return [table(headers, rows, [12, 12, 12, 12, 40])]


class CompatMatrix(Directive):
    """``.. compat-matrix::``: each Airflow minor ``make compat`` tests and the Python it runs on."""

    def run(self) -> list[nodes.Node]:
        _repo_on_path()
        compat = importlib.import_module("scripts.compat")
        rows = []
        for minor, spec in compat.MINORS.items():
            python = spec.python
            rows.append([minor, f"`{spec.airflow}`", python, f"`compat/constraints-{minor}.txt`"])
        headers = ["Airflow minor", "version tested", "Python", "pins"]
        return [table(headers, rows, [10, 14, 10, 30])]


def resolve_short_names(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """A docstring's short reference (``:class:`ParameterError``` in a module that imports it) to
    the one object of the package of that name, as a reader means it; None leaves it unresolved
    (and nitpicky reports it) when no object or several have the name."""
    from sphinx.util.nodes import make_refnode

    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "").removesuffix("()")
    if not target or target.startswith("airflow_provider_wa_phones."):
        return None
    objects = env.get_domain("py").objects
    matches = [name for name in objects if name.startswith("airflow_provider_wa_phones.") and
               (name.endswith("." + target))]  # fmt: skip
    if len(matches) != 1:
        return None
    entry = objects[matches[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0])


def setup(app: Any) -> dict[str, Any]:
    app.connect("missing-reference", resolve_short_names)
    directives.register_directive("error-codes", ErrorCodes)
    directives.register_directive("validation-rules", ValidationRules)
    directives.register_directive("sensor-outcomes", SensorOutcomes)
    directives.register_directive("compat-matrix", CompatMatrix)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
