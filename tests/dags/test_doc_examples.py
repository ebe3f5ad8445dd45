"""Every code sample of the docs runs as written: the files under docs/examples/ (the docs include
them between ``[START ...]`` / ``[END ...]`` markers) and the README's one python block, which is
docs/examples/contact_check.py without its markers.

Each file defines exactly one DAG and runs once with ``dag.test()`` against the sandbox:

- a file that ends in ``if __name__ == "__main__":`` runs the way the docs say to run it,
  ``python <file>``: it starts its own sandbox and asserts its own run's outcome;
- any other file is loaded the way Airflow loads it (DagBag) and run against the test sandbox,
  with the connections and Variables its comments name.

No file is skipped: the DAG ids are asserted, so a new sample needs a deliberate change here.
(The example DAGs the docs include are run by test_example_dags.py.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_wa_phones.sandbox import data
from tests.conftest import DAGS_FOLDER, REPO

pytestmark = pytest.mark.dags

README = REPO / "README.md"
EXAMPLES = REPO / "docs" / "examples"
MARKER = re.compile(r"^[ \t]*# \[(START|END) [\w-]+\]\n", flags=re.MULTILINE)
#: The DAG each sample file makes, by file name order.
DAG_IDS = ["contact_check", "long_tail", "sender_health", "sender_incidents", "under_faults"]
#: How many times a run of each DAG loaded by a DagBag lists each service's numbers.
LISTINGS_PER_RUN = {"sender_health": 1, "sender_incidents": 0, "long_tail": 1}
MAIN = 'if __name__ == "__main__":'


def python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```\s*$", text, flags=re.DOTALL | re.MULTILINE)


def without_markers(source: str) -> str:
    return re.sub(r"\n{3,}", "\n\n\n", MARKER.sub("", source)).strip("\n") + "\n"


def dag_files() -> list[str]:
    """The sample files, markers removed (what a reader copies)."""
    return [without_markers(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLES.glob("*.py"))]


def test_the_readme_block_is_the_contact_check_sample():
    (block,) = python_blocks()
    assert without_markers(block) == without_markers(
        (EXAMPLES / "contact_check.py").read_text(encoding="utf-8")
    )


def test_every_sample_the_docs_include_exists_with_both_markers():
    included = set()
    for page in (REPO / "docs").glob("*.md"):
        for path, name in re.findall(
            r"^```\{literalinclude\} (\S+)\n(?::[^\n]*\n)*?:start-after: \"\[START ([\w-]+)\]\"",
            page.read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        ):
            source = (REPO / "docs" / path).resolve()
            text = source.read_text(encoding="utf-8")
            assert f"[START {name}]" in text and f"[END {name}]" in text, (page.name, path, name)
            included.add(source)
    # Every sample file is shown somewhere, and the docs show no python they do not include.
    assert {path.resolve() for path in EXAMPLES.glob("*.py")} <= included
    for page in (REPO / "docs").glob("*.md"):
        assert "```python" not in page.read_text(encoding="utf-8"), f"{page.name} pastes code"


def load_dag(folder: Path, source: str):
    from airflow.dag_processing.dagbag import DagBag

    path = write_dag_file(folder, source)
    bag = DagBag(dag_folder=str(path))
    assert bag.import_errors == {}, path.name
    return bag.get_dag(dag_id_of(source))


def source_of(dag_id: str) -> str:
    (source,) = [source for source in dag_files() if dag_id_of(source) == dag_id]
    return source


def dag_id_of(source: str) -> str:
    match = re.search(r"^@dag\(.*?\)\ndef (\w+)\(", source, flags=re.DOTALL | re.MULTILINE)
    assert match, f"not a DAG file:\n{source[:300]}"
    return match.group(1)


@pytest.fixture(scope="module")
def snippet_folder():
    """A folder inside the DAGs folder (dag.test() runs only DAGs found there), removed afterwards."""
    folder = DAGS_FOLDER / "doc_examples"
    folder.mkdir(exist_ok=True)
    yield folder
    for path in folder.glob("*.py"):
        path.unlink()
    folder.rmdir()


def write_dag_file(folder: Path, source: str) -> Path:
    path = folder / f"{dag_id_of(source)}.py"
    path.write_text(source, encoding="utf-8")
    return path


def test_every_sample_is_a_dag_file():
    files = dag_files()
    assert [dag_id_of(source) for source in files] == DAG_IDS
    assert set(LISTINGS_PER_RUN) == {
        dag_id for dag_id, source in zip(DAG_IDS, files, strict=True) if MAIN not in source
    }


def test_each_dag_file_defines_exactly_one_dag_and_imports_cleanly(snippet_folder):
    from airflow.dag_processing.dagbag import DagBag

    for source in dag_files():
        path = write_dag_file(snippet_folder, source)
        bag = DagBag(dag_folder=str(path))
        assert bag.import_errors == {}, path.name
        assert bag.dag_ids == [dag_id_of(source)]


def _sandbox_env(sandbox) -> dict[str, str]:
    """What the sample DAGs expect besides the default connections (named in their comments)."""
    return {
        "AIRFLOW_CONN_NXCLOUD_HTTP": json.dumps(
            {
                "conn_type": "http",
                "host": sandbox.url,
                "login": data.NXCLOUD_ACCESS_KEY,
                "password": data.NXCLOUD_ACCESS_SECRET,
            }
        ),
        "AIRFLOW_CONN_CAMS_HOST": json.dumps({"conn_type": "http", "host": sandbox.url}),
        "AIRFLOW_VAR_NXCLOUD_APPKEY": data.NXCLOUD_APPKEY,
        "AIRFLOW_VAR_CAMS_SPACE_ID": data.CAMS_SPACE_ID,
    }


@pytest.mark.parametrize("dag_id", [d for d, s in zip(DAG_IDS, dag_files(), strict=True) if MAIN not in s])
def test_dag_runs_against_the_sandbox(dag_id, snippet_folder, sandbox_env, monkeypatch):
    for name, value in _sandbox_env(sandbox_env).items():
        monkeypatch.setenv(name, value)
    run = load_dag(snippet_folder, source_of(dag_id)).test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert set(states.values()) == {"success"}
    # Each service's numbers, listed through this provider or the http provider (the watch DAG's
    # task reads asset events only: its watchers are the triggerer's, tested below).
    listings = LISTINGS_PER_RUN[dag_id]
    assert sandbox_env.request_count(path="/api/wa/integrator/embedded/register/phoneList") == listings
    assert sandbox_env.request_count(action="QueryChatappPhoneNumbers") == listings


def test_watch_dag_watchers_fire_on_the_sandbox_timeline(snippet_folder, sandbox_env):
    """What the triggerer does with the watch DAG's asset: its watchers' triggers, as the README
    writes them except for a 0.05 s interval, look once (the baseline, nothing fires), then report
    the changes of the sandbox's timeline that match ``becomes``/``leaves``."""
    from tests.watching import quick, watch_changes

    dag = load_dag(snippet_folder, source_of("sender_incidents"))
    (asset,) = dag.timetable.asset_condition.objects
    assert [watcher.trigger.serialize()[1]["poke_interval"] for watcher in asset.watchers] == [60, 60]
    triggers = [quick(watcher.trigger) for watcher in asset.watchers]
    assert [type(t).__name__ for t in triggers] == ["NxCloudPhoneWatchTrigger", "CamsPhoneWatchTrigger"]

    changes = watch_changes(triggers, sandbox_env, done=lambda fired: sum(map(len, fired)) >= 4)
    assert sorted((c["service"], c["field"], c["new"]) for c in changes) == [
        ("alibaba_cams", "quality_rating", "RED"),
        ("alibaba_cams", "status", "BANNED"),
        ("nxcloud", "quality_rating", "RED"),
        ("nxcloud", "status", "BANNED"),
    ]


@pytest.mark.parametrize("dag_id", [d for d, s in zip(DAG_IDS, dag_files(), strict=True) if MAIN in s])
def test_dag_file_runs_as_a_script_against_its_own_sandbox(dag_id, snippet_folder, airflow_db, tmp_path):
    path = write_dag_file(snippet_folder, source_of(dag_id))
    # Files the DAG writes (the contact check's results) go to the test's folder, not /tmp/checks.
    env = {**os.environ, "AIRFLOW_VAR_CHECKS_URL": tmp_path.as_uri()}
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    finished = re.findall(rf"DagRun Finished: dag_id={dag_id},.*?state=(\w+)", output)
    assert finished == ["success"], output[-4000:]
    if dag_id == "contact_check":
        (results,) = tmp_path.glob("*.jsonl")
        assert len(results.read_text(encoding="utf-8").splitlines()) == 2
