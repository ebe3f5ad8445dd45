"""The checks of ``make compat``, one named test each, judging what one Airflow minor showed.

``scripts/compat.py`` builds each minor's virtualenv (``build/compat/<minor>/``), installs the wheel
and runs the checks inside it, each in its own process of that virtualenv's Python (they need that
Airflow, not this one): they record what they observed (imports, ``ProvidersManager``, the UI's
connection forms, the ``http`` extra against the sandbox, ``airflow dags test`` of the example DAGs,
a real triggerer, the sensors' modes, the quality_alert watchers) in
``build/compat/runs/<minor>/facts.json``. The script then runs this module with pytest on that record,
once per minor: each check is a pure function of the record, named after its column in the script's
table (``test_forms[3.2.2]`` is the ``forms`` column of Airflow 3.2.2), and its verdict fills the table.
Re-judging a record needs no virtualenv::

    WA_PHONES_COMPAT_FACTS=build/compat/runs/3.2/facts.json .venv/bin/python -m pytest tests/compat

Not part of ``make test``: ``tests/compat/conftest.py`` deselects these tests unless
``WA_PHONES_COMPAT_FACTS`` (which only ``scripts/compat.py`` sets) names a record. After a failed
install the other checks did not run: they are skipped, and the table shows ``-``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
Verdict = Callable[..., None]
Judged = tuple[bool, str]


def _script() -> ModuleType:
    """``scripts/compat.py`` (standard library only at import): its lists of what to expect."""
    spec = importlib.util.spec_from_file_location("wa_phones_compat_script", REPO / "scripts" / "compat.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


compat = _script()


def observed(facts: dict[str, Any], check: str) -> dict[str, Any]:
    """What ``check`` observed; skips the test when it did not run (after a failed install)."""
    if check not in facts:
        pytest.skip(f"{check} did not run (install: {facts['install'].get('error', 'ok')})")
    found: dict[str, Any] = facts[check]
    return found


# --- the checks: pure functions of the record -------------------------------------------------------


def judge_install(install: dict[str, Any]) -> Judged:
    if "error" in install:
        return False, f"{install['error']} ({install['log']})"
    return True, f"{install['how']} {install['seconds']:.0f}s"


def judge_imports(found: dict[str, Any]) -> Judged:
    failures = found["failures"]
    if failures:
        first = next(iter(failures.items()))
        return False, f"{len(failures)}/{found['modules']} failed; {first[0]}: {first[1]}"
    detail = f"{found['modules']} modules"
    if found["warnings"]:
        detail += f", {len(found['warnings'])} warnings: {found['warnings'][0]}"
    return True, detail


def judge_provider(found: dict[str, Any]) -> Judged:
    if found["version"] is None:
        return False, f"{compat.DISTRIBUTION} not among {found['providers']} providers"
    problems = []
    for conn_type, hook_class in compat.CONN_TYPES.items():
        info = found["hooks"].get(conn_type)
        if info is None:
            problems.append(f"{conn_type}: no hook (import failed or not registered)")
        elif info["class"] != hook_class:
            problems.append(f"{conn_type}: hook {info['class']}")
        elif not info["testable"]:
            problems.append(f"{conn_type}: no test_connection")
    if problems:
        return False, "; ".join(problems)
    return True, f"{found['version']}, {len(compat.CONN_TYPES)} connection types"


def form_problems(spec: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """How the UI's form for one connection type differs from what the provider info asks for."""
    problems = []
    behaviour = spec.get("ui-field-behaviour", {})
    standard = meta.get("standard_fields") or {}
    ui_name = {"schema": "url_schema"}
    for name in behaviour.get("hidden-fields", []):
        if not (standard.get(ui_name.get(name, name)) or {}).get("hidden"):
            problems.append(f"{name} not hidden")
    for key, attribute in (("relabeling", "title"), ("placeholders", "placeholder")):
        for name, text in behaviour.get(key, {}).items():
            shown = (standard.get(ui_name.get(name, name)) or {}).get(attribute)
            if shown != text:
                problems.append(f"{name} {attribute} {shown!r}")
    extra = meta.get("extra_fields") or {}
    wanted = spec.get("conn-fields", {})
    if set(extra) != set(wanted):
        problems.append(f"extra fields {sorted(extra)}")
    for name, field_spec in wanted.items():
        got = extra.get(name) or {}
        schema, want = got.get("schema") or {}, field_spec.get("schema", {})
        if schema.get("title") != field_spec.get("label"):
            problems.append(f"{name} label {schema.get('title')!r}")
        if want.get("enum") and schema.get("enum") != want["enum"]:
            problems.append(f"{name} choices {schema.get('enum')!r}")
        if "default" in want and got.get("value") != want["default"]:
            problems.append(f"{name} default {got.get('value')!r}")
        if (want.get("format") == "password") != (schema.get("format") == "password"):
            problems.append(f"{name} secret {schema.get('format') == 'password'}")
    return problems[:4]


def judge_forms(found: dict[str, Any]) -> Judged:
    """The forms as that version's UI gets them (``GET /ui/connections/hook_meta``) against the
    provider info's ``conn-fields`` and ``ui-field-behaviour``."""
    problems = []
    for spec in found["specs"]:
        conn_type = spec["connection-type"]
        meta = found["metas"].get(conn_type)
        if meta is None:
            problems.append(f"{conn_type}: not in hook_meta")
            continue
        problems += [f"{conn_type}: {problem}" for problem in form_problems(spec, meta)]
    if problems:
        return False, f"via {found['source']}: " + "; ".join(problems)
    return True, f"via {found['source']}"


# Each call of the http check, and what its answer must show: the sandbox accepted the signature
# (code 0 / Code OK), the operator signed with SHA-256, the sensor sent the STS token once.
HTTP_CALLS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "HttpHook.run": lambda call: call.get("code") == 0,
    "HttpOperator sha256": lambda call: call.get("code") == 0 and call.get("signed") == ["sha256"],
    "HttpSensor from_connection": lambda call: (
        call.get("done") is True and call.get("sts_token_sent") == [True]
    ),
}


def judge_http(found: dict[str, Any]) -> Judged:
    problems = []
    for name, accepted in HTTP_CALLS.items():
        call = found["calls"].get(name, {"error": "not made"})
        if "error" in call:
            problems.append(f"{name}: {call['error']}")
        elif not accepted(call):
            problems.append(f"{name}: refused")
    if problems:
        return False, f"http provider {found['version']}: " + "; ".join(problems)
    return True, f"http provider {found['version']}: hook, operator (sha256), sensor (STS) signed"


def judge_dag(dags: dict[str, Any], dag_id: str) -> Judged:
    """``airflow dags test`` of one example DAG: exit 0, the run and every task succeeded, its report
    file written, and each deferrable wait really deferred (as Airflow recorded it)."""
    if "migrate_error" in dags:
        return False, f"airflow db migrate failed: {dags['migrate_error']}"
    found = dags["dags"][dag_id]
    problems = []
    if found["exit"] != 0:
        problems.append(f"exit {found['exit']}")
    if found["run"] != "success":
        problems.append(f"run {found['run'] or 'missing'}")
    bad = {task: state for task, state in found["tasks"].items() if state != "success"}
    if bad:
        problems.append("tasks " + ", ".join(f"{t}={s}" for t, s in sorted(bad.items())))
    if not found["reports"]:
        problems.append("no report file")
    wanted = compat.DEFERRALS.get(dag_id, 0)
    if len(found["deferred"]) < wanted:
        problems.append(f"{len(found['deferred'])} of {wanted} waits deferred")
    detail = f"{len(found['tasks'])} tasks"
    if found["deferred"]:
        names = sorted(found["triggers"].get(task, task).rsplit(".", 1)[-1] for task in found["deferred"])
        detail += f", deferred to {', '.join(names)}"
    if problems:
        detail = "; ".join(problems) + f" ({found['hint']})"
    return not problems, f"{detail}, {found['seconds']:.0f}s"


def judge_triggerer(dags: dict[str, Any]) -> Judged:
    """The triggers in a real ``airflow triggerer``: every re-armed task got a success event, both
    watchers sent asset events, the probe's password was masked, the version's notices are right
    and no credential or signature reached a log."""
    if "migrate_error" in dags:
        return False, f"airflow db migrate failed: {dags['migrate_error']}"
    found = dags["triggerer"]
    if "arm_error" in found:
        return False, f"could not re-arm the triggers: {found['arm_error']}"
    armed, events = found["armed"], found["events"]
    problems = [f"{key}: no event" for key in sorted(set(armed) - set(events))]
    problems += [
        f"no asset event from the {service} watcher"
        for service in sorted({"nxcloud", "alibaba_cams"} - set(found["watched"]))
    ]
    problems += [f"{key}: {status}" for key, status in sorted(events.items()) if status != "success"]
    if not found["probe_lines"]:
        problems.append("the probe logged nothing")
    elif found["probe_masked"] != found["probe_lines"]:
        problems.append("the probe's password was not masked")
    # Before 3.3 the watchers must say that they poll alone and keep no state; on 3.3, nothing.
    if found["features"] is None:
        problems.append("arm did not say which trigger features this Airflow has")
    else:
        shared, state = found["features"]
        for notice, present in ((compat.SHARED_NOTICE, shared), (compat.STATE_NOTICE, state)):
            if present == found["logged"][notice]:
                problems.append(f"{notice!r} {'logged' if present else 'not logged'}")
    if found["leaked"]:
        problems.append(f"{found['leaked']} credentials or request signatures are in the logs")
    if problems:
        return False, "; ".join(problems[:3]) + f" (see {found['log']}), {found['seconds']:.0f}s"
    names = sorted(classpath.rsplit(".", 1)[-1] for classpath in armed.values())
    return True, (
        f"{len(names)} triggers ({', '.join(names)}) fired; 2 watchers sent asset events; secret masked"
        f", {found['seconds']:.0f}s"
    )


def judge_modes(found: dict[str, Any]) -> Judged:
    """Every sensor in poke and reschedule mode: its tasks succeeded, it looked at least twice (the
    sandbox's clock jumped after its first look), and it wrote its XCom."""
    details = {}
    for dag_id, mode in found["modes"].items():
        problems = [mode["error"]] if mode["error"] else []
        bad = {task: state for task, state in mode["states"].items() if state != "success"}
        if bad or not mode["states"]:
            problems.append("tasks " + ", ".join(f"{t}={s}" for t, s in sorted(bad.items())))
        if mode["looks"] < 2:
            problems.append(f"looked {mode['looks']} time(s): the sensor did not wait")
        if not mode["xcom"]:
            problems.append("no XCom written")
        details[dag_id] = "; ".join(problems)
    failed = {dag_id: text for dag_id, text in details.items() if text}
    missing = sorted(set(compat.MODE_RUNS) - set(found["modes"]))
    if failed or missing:
        texts = [f"{d}: {text}" for d, text in failed.items()] + [f"{d}: not run" for d in missing]
        return False, "; ".join(texts)
    summary = ", ".join(f"{dag_id} {mode['seconds']:.0f}s" for dag_id, mode in found["modes"].items())
    return True, f"{len(found['modes'])} DAGs ({summary})"


def judge_quality_alert(found: dict[str, Any]) -> Judged:
    """The example's watchers fired exactly the sandbox's four changes, the notices of what this
    version lacks appeared only where it lacks it, and the DAG wrote one incident line per change."""
    if found["error"]:
        return False, found["error"]
    changes = found["changes"]
    seen = sorted((c["service"], c["phone_number"], c["field"], c["old"], c["new"]) for c in changes)
    problems = []
    if seen != sorted(compat.QUALITY_ALERT_CHANGES):
        problems.append(f"watchers fired {seen}")
    streams, state = found["features"]["streams"], found["features"]["state"]
    for notice, present in ((compat.SHARED_NOTICE, streams), (compat.STATE_NOTICE, state)):
        if present == found["logged"][notice]:
            problems.append(f"{notice!r} {'logged' if present else 'not logged'}")
    if found["reserialize_failed"]:
        problems.append("airflow dags reserialize failed")
    if found["run"] != "success":
        problems.append(f"run {found['run']}")
    written = found["written"]
    if found["incident_files"] != 1 or written != [
        json.loads(json.dumps(c, sort_keys=True)) for c in changes
    ]:
        problems.append(f"{found['incident_files']} incident files, {len(written)} lines")
    if problems:
        return False, "; ".join(problems)
    lacking = [
        name for name, present in (("shared streams", streams), ("trigger state", state)) if not present
    ]
    how = (
        f"no {' or '.join(lacking)}: each watcher polled alone, and said so"
        if lacking
        else "shared-stream ready"
    )
    return True, f"{len(changes)} changes fired and written; {how}, {found['seconds']:.0f}s"


def crashed(found: dict[str, Any]) -> Judged | None:
    """A check whose process printed no record: its exit status and last lines."""
    return (False, found["crashed"]) if "crashed" in found else None


# --- the tests: one per column of the script's table, in its order ----------------------------------


def test_install(facts: dict[str, Any], verdict: Verdict) -> None:
    verdict("install", *judge_install(facts["install"]))


def inside(
    facts: dict[str, Any], verdict: Verdict, check: str, judge: Callable[[dict[str, Any]], Judged]
) -> None:
    found = observed(facts, check)
    verdict(check, *(crashed(found) or judge(found)))


def test_imports(facts: dict[str, Any], verdict: Verdict) -> None:
    inside(facts, verdict, "imports", judge_imports)


def test_provider(facts: dict[str, Any], verdict: Verdict) -> None:
    inside(facts, verdict, "provider", judge_provider)


def test_forms(facts: dict[str, Any], verdict: Verdict) -> None:
    inside(facts, verdict, "forms", judge_forms)


def test_http(facts: dict[str, Any], verdict: Verdict) -> None:
    inside(facts, verdict, "http", judge_http)


@pytest.mark.parametrize("dag_id", compat.DAGS)
def test_example_dag(facts: dict[str, Any], verdict: Verdict, dag_id: str) -> None:
    dags = observed(facts, "dags")
    verdict(dag_id, *(crashed(dags) or judge_dag(dags, dag_id)))


def test_triggerer(facts: dict[str, Any], verdict: Verdict) -> None:
    dags = observed(facts, "dags")
    verdict("triggerer", *(crashed(dags) or judge_triggerer(dags)))


def judge_keyless(dags: dict[str, Any]) -> Judged:
    """The example DAGs' CAMS connection has no keys (RRSA against the sandbox's STS): every CAMS
    call, in tasks and in the triggerer, carried temporary keys, and none was refused for them."""
    if "migrate_error" in dags:
        return False, f"airflow db migrate failed: {dags['migrate_error']}"
    tallies = {dag_id: found.get("keys", {}) for dag_id, found in dags["dags"].items()}
    tallies["triggerer"] = dags.get("triggerer", {}).get("keys", {})
    problems = [
        f"{where}: {tally.get('with temporary keys')} of {tally.get('cams calls')} CAMS calls with STS keys, "
        f"refused for the token: {tally.get('refused for the token')}"
        for where, tally in tallies.items()
        if tally.get("with temporary keys") != tally.get("cams calls") or tally.get("refused for the token")
    ]
    calls = sum(tally.get("cams calls", 0) for tally in tallies.values())
    oidc = sum(tally.get("oidc calls", 0) for tally in tallies.values())
    if not calls or not oidc:
        problems.append(f"{calls} CAMS calls and {oidc} AssumeRoleWithOIDC calls: RRSA was not exercised")
    return not problems, "; ".join(
        problems
    ) or f"{calls} CAMS calls signed with RRSA keys from {oidc} AssumeRoleWithOIDC calls"


def test_keyless(facts: dict[str, Any], verdict: Verdict) -> None:
    dags = observed(facts, "dags")
    verdict("keyless", *(crashed(dags) or judge_keyless(dags)))


def test_modes(facts: dict[str, Any], verdict: Verdict) -> None:
    found = observed(facts, "modes")
    verdict("modes", *(crashed(found) or judge_modes(found)))


def test_quality_alert(facts: dict[str, Any], verdict: Verdict) -> None:
    found = observed(facts, "quality_alert")
    verdict("quality_alert", *(crashed(found) or judge_quality_alert(found)))
