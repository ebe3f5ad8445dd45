"""Sphinx configuration: the docs site of airflow-provider-wa-phones (``make docs``).

Pages are Markdown (MyST). Code samples are included from the tested files (example DAGs, the
files under docs/examples/) between ``[START ...]`` / ``[END ...]`` markers; tables the code holds
as data come from ``_ext/wa_tables.py``. Built offline, warnings as errors, every reference
checked (nitpicky); references into other projects' docs are not checked (no inventories offline).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(REPO))

project = "airflow-provider-wa-phones"
author = "airflow-provider-wa-phones maintainers"
copyright = "2026, airflow-provider-wa-phones maintainers"
release = version = "0.1.0"

extensions = ["myst_parser", "sphinx.ext.autodoc", "wa_tables"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "screenshots"]
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

# Offline and strict: no intersphinx; our own references must resolve, other projects' are named.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(airflow|aiohttp|requests|urllib3|yarl|datetime|dt|typing|collections|asyncio|enum"
        r"|pathlib|logging|threading|fastapi|starlette|uvicorn|alibabacloud_credentials|phonenumbers"
        r"|array|re|io|os|concurrent|types|contextlib|decimal|email|socket|ssl|json)(\..*)?",
    ),
    (
        r"py:.*",
        r"(Any|Callable|Iterable|Iterator|Mapping|Sequence|Collection|AsyncIterator|Awaitable"
        r"|TypeVar|R|T|Self|Unpack|NoReturn|Context|ObjectStoragePath|BaseTrigger|TriggerEvent"
        r"|PokeReturnValue|BaseOperator|BaseSensorOperator|BaseHook|Connection|TracebackType|ASGIApp"
        r"|Steps|Body|Send|Receive|Message|Scope|Counter|array|datetime|date|timedelta|timezone)",
    ),
    (
        r"py:.*",
        r"(pydantic|abc|PreparedRequest|.*\.(R|T|A)|run|render_template_fields"
        r"|create_shared_stream_producer|monotonic)(\..*)?",
    ),
    # Private bases (``_NxCloud``, ``_CamsSpace``): the public class documents what they give it.
    (r"py:class", r".*\._\w+"),
    (
        r"py:class",
        r"(int|str|float|bool|bytes|dict|list|tuple|set|frozenset|None|object|type"
        r"|Exception|BaseException|ValueError|TypeError|RuntimeError|KeyError)",
    ),
]
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the signatures show them; unresolved library types would be noise
autodoc_default_options = {"members": True, "show-inheritance": False}

html_theme = "furo"
html_title = "airflow-provider-wa-phones"
html_static_path: list[str] = []
