"""The checks of ``make e2e``, one named test each, judging what ``scripts/e2e.py`` recorded.

``scripts/e2e.py`` starts the deployment (PostgreSQL, the sandbox, api-server, scheduler,
dag-processor, triggerer, with Celery also Redis and a worker), drives it through the REST API,
records what it saw in ``build/e2e/outcome.json`` (``tests/e2e/outcome.py``), stops everything, and
then runs this module with pytest. Each check is a pure function of that record (and of the log files
the run left), so it can be re-judged without a deployment::

    WA_PHONES_E2E_OUTCOME=build/e2e/outcome.json .venv/bin/python -m pytest tests/e2e -p no:cacheprovider

Not part of ``make test``: ``tests/e2e/conftest.py`` deselects these tests unless
``WA_PHONES_E2E_OUTCOME`` (which only ``scripts/e2e.py`` sets) names a record. A check that does not
apply to the run (the race part with ``--onboarding-runs 0``, the worker-kill part without
``--kill-submit``, everything after a failed start) is skipped, as the script left it out before.
"""

from __future__ import annotations

import itertools
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.outcome import (
    BANNED,
    BANNED_BOUND,
    CAMS_POOL,
    CAMS_POOL_DAG,
    CAMS_POOL_SLOTS,
    EXPECTED_INCIDENTS,
    FINISHED,
    INCIDENTS_BOUND,
    OUTLET_TASKS,
    WATCH_INTERVAL,
    Outcome,
    expected_state,
    incident_key,
)
from tests.secrets import SECRETS, find_secrets

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
Verdict = Callable[..., None]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    logs: list[Path] = field(default_factory=list)


def judge(verdict: Verdict, check: Check) -> None:
    verdict(check.name, check.ok, check.detail, check.logs)


def shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


# --- the checks: pure functions of the record -------------------------------------------------------


def check_deployment(outcome: Outcome) -> Check:
    failure = outcome.failure
    if failure:
        return Check("the deployment ran", False, failure["message"], [Path(log) for log in failure["logs"]])
    return Check("the deployment ran", True, f"started and exercised ({outcome.executor} executor)")


def check_states(outcome: Outcome) -> Check:
    wrong = [ti for ti in outcome.tis if ti["state"] != expected_state(ti)]
    detail = [
        f"{ti['dag_id']}.{ti['task_id']} ({ti['dag_run_id']}): {ti['state']}, expected {expected_state(ti)}"
        for ti in wrong
    ]
    detail += [
        f"no run of {dag_id}"
        for dag_id in sorted(set(outcome.dags) - {run["dag_id"] for run in outcome.runs})
    ]
    summary = f"{len(outcome.tis)} task instances in {len(outcome.runs)} runs of {len(outcome.dags)} DAGs"
    ok = not detail and bool(outcome.tis)
    return Check(
        "every task reached its expected state",
        ok,
        "; ".join(detail) or summary,
        [outcome.task_log_file(ti) for ti in wrong],
    )


def check_mismatches(outcome: Outcome) -> Check:
    found = [f"{event['dag_id']}.{event['task_id']}: {event['extra']}" for event in outcome.mismatches]
    return Check(
        "the scheduler failed no task for a state mismatch",
        not found,
        "; ".join(found) or "none in the audit log",
    )


def check_deferrals(outcome: Outcome) -> Check:
    """Seen deferred (its trigger in a triggerer job), finished afterwards, and its log as the api-server
    serves it holds the event from that triggerer job (its part comes from <log>.trigger.<job id>.log)."""
    problems = [outcome.defer_problem] if outcome.defer_problem else []
    for key, text in outcome.task_logs.items():
        states, name = outcome.states.get(key, []), f"{key[0]}.{key[2]}"
        if "deferred" not in states or states[-1] not in FINISHED:
            problems.append(f"{name}: states {' > '.join(states)}")
        elif (
            f".trigger.{outcome.triggerer_jobs.get(key)}.log" not in text or "Trigger fired event" not in text
        ):
            problems.append(
                f"{name}: its log shows no event from triggerer job {outcome.triggerer_jobs.get(key)}"
            )
    detail = "; ".join(problems) or (
        f"{len(outcome.task_logs)} sensor runs, each seen deferred with its trigger in the triggerer, then "
        "finished; each log (REST API) holds that triggerer's 'Trigger fired event'"
    )
    return Check(
        "deferrable sensors deferred and resumed by the triggerer",
        bool(outcome.task_logs) and not problems,
        detail,
    )


def check_banned(outcome: Outcome) -> Check:
    problems, times = [], []
    for (dag_id, task_id), number in BANNED.items():
        keys = [key for key in outcome.task_logs if (key[0], key[2]) == (dag_id, task_id)]
        problems += [] if keys else [f"{dag_id}.{task_id}: no run"]
        for key in keys:
            took = outcome.failed_after_clock.get(key)
            if took is None:
                problems.append(f"{task_id}: did not fail (states {' > '.join(outcome.states[key])})")
            elif took > BANNED_BOUND:
                problems.append(f"{task_id}: failed {took:.0f} s after the ban (bound {BANNED_BOUND:.0f} s)")
            elif number not in outcome.task_logs[key] or "BANNED" not in outcome.task_logs[key]:
                problems.append(f"{task_id}: its log does not name {number} as BANNED")
            else:
                times.append(f"{task_id} {took:.1f} s")
    detail = "; ".join(problems) or (
        f"failed, the log naming the number as BANNED, this long after the sandbox's clock passed the ban: "
        f"{', '.join(times)} (bound {BANNED_BOUND:.0f} s; the sensors' timeout is 1 h)"
    )
    return Check("a BANNED number fails a deferrable wait quickly", not problems, detail)


def check_watchers(outcome: Outcome) -> Check:
    """The asset-scheduled DAGs ran only from their watchers' events: each expected change one asset
    event, each event one incident line in the run it triggered, soon enough."""
    asset_ids = {asset["id"] for asset in outcome.assets}
    events = [event for event in outcome.asset_events if event["asset_id"] in asset_ids]
    payloads = [(event.get("extra") or {}).get("payload") or {} for event in events]
    runs = [run for run in outcome.runs if run["dag_id"] in outcome.asset_dags]
    problems = []
    if not all((event.get("extra") or {}).get("from_trigger") for event in events):
        problems.append("not every asset event came from a trigger")
    if sorted(map(incident_key, payloads)) != sorted(EXPECTED_INCIDENTS):
        problems.append(
            f"asset events {sorted(map(incident_key, payloads))}, expected {sorted(EXPECTED_INCIDENTS)}"
        )
    if not runs or any(run["run_type"] != "asset_triggered" for run in runs):
        problems.append(f"runs {', '.join(run['run_id'] for run in runs) or 'none'}: not all asset-triggered")
    files = outcome.incident_files
    if len(files) != len(runs):
        problems.append(f"{len(files)} incident files for {len(runs)} runs")
    written = sorted(json.dumps(line, sort_keys=True) for line in outcome.incidents)
    if written != sorted(json.dumps(payload, sort_keys=True) for payload in payloads):
        problems.append(f"incident lines {sorted(map(incident_key, outcome.incidents))} are not the events")
    took = outcome.incidents_after_clock
    if took is None or took > INCIDENTS_BOUND:
        problems.append(
            f"incidents written {'never' if took is None else f'{took:.0f} s'} after the clock moved"
        )
    watchers = ", ".join(w["name"] for asset in outcome.assets for w in asset["watchers"])
    consumed = sum(bool(event.get("created_dagruns")) for event in events)
    detail = "; ".join(problems) or (
        f"{len(events)} asset events from the watchers ({watchers}, every {WATCH_INTERVAL} s) started "
        f"{len(runs)} asset-triggered run(s), which consumed {consumed} of them and wrote all "
        f"{len(outcome.incidents)} as incident lines, the last {took:.1f} s after the sandbox's clock "
        f"passed the changes (bound {INCIDENTS_BOUND:.0f} s)"
    )
    return Check("watchers in the triggerer start asset-triggered runs", not problems, detail)


def check_outlets(outcome: Outcome) -> Check:
    """Each successful run of a publishing task made one asset event, naming the file it wrote."""
    problems, seen = [], 0
    for ti in outcome.tis:
        if (ti["dag_id"], ti["task_id"]) not in OUTLET_TASKS or ti["state"] != "success":
            continue
        source = (ti["dag_id"], ti["task_id"], ti["dag_run_id"])
        events = [
            event
            for event in outcome.asset_events
            if (event["source_dag_id"], event["source_task_id"], event["source_run_id"]) == source
        ]
        uris = [event["uri"] for event in events]
        paths = [Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path)) for uri in uris]
        if len(events) != 1 or not uris[0].startswith("file://") or not paths[0].is_file():
            problems.append(f"{ti['dag_id']}.{ti['task_id']} ({ti['dag_run_id']}): asset events {uris}")
        seen += 1
    detail = "; ".join(problems) or (
        f"{seen} task runs of {', '.join(sorted(f'{d}.{t}' for d, t in OUTLET_TASKS))}, one asset event "
        "each, naming the file it wrote"
    )
    return Check("tasks publish what they wrote as asset events", bool(seen) and not problems, detail)


def check_pool(outcome: Outcome) -> Check:
    """The pool the README recommends held: its tasks ran in it, never more than its slots at once,
    and succeeded (a failed one shows in the states check). Calls CAMS throttled (the sandbox keeps
    its 10 per second per account and operation) are counted, not failed: the pool bounds the tasks
    running at once, not the calls in a second, so a task taking a slot just freed may call while
    its predecessor's last calls are still in CAMS's one-second window (and two tasks at 5 per
    second sit right at the limit); the hook retries such a call after x-acs-retry-after."""
    tis = [ti for ti in outcome.tis if ti["dag_id"] == CAMS_POOL_DAG]
    spans = [
        (datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"]))
        for ti in tis
        if ti["start_date"] and ti["end_date"]
    ]
    # The most tasks running at one moment: at each start, those started and not yet ended.
    most = max((sum(s <= start < e for s, e in spans) for start, _ in spans), default=0)
    problems = []
    if outcome.pool.get("slots") != CAMS_POOL_SLOTS:
        problems.append(f"pool {CAMS_POOL}: {outcome.pool}")
    if not tis or any(ti["pool"] != CAMS_POOL for ti in tis) or len(spans) != len(tis):
        problems.append(f"tasks: {[(ti['task_id'], ti['pool'], ti['state']) for ti in tis]}")
    if most > CAMS_POOL_SLOTS:
        problems.append(f"{most} tasks ran at once")
    throttled = f"{len(outcome.throttled)} calls of the whole run throttled by the sandbox"
    throttled += f" (e.g. {outcome.throttled[0]}) and retried" if outcome.throttled else ""
    detail = "; ".join(problems) or (
        f"{len(tis)} tasks in pool {CAMS_POOL} ({CAMS_POOL_SLOTS} slots, set with airflow pools set), "
        f"at most {most} at once, each at 10 // {CAMS_POOL_SLOTS} calls/s; {throttled}"
    )
    return Check("the CAMS pool keeps CAMS tasks to its slots", not problems, detail)


def check_listening(outcome: Outcome) -> Check:
    """Every socket a process of the run listened on, while the deployment ran (the script looked)."""
    wide = [f"pid {s['pid']} on {s['ip']}:{s['port']}" for s in outcome.listening if s["ip"] != LOOPBACK]
    ports = ", ".join(str(port) for port in sorted({s["port"] for s in outcome.listening}))
    return Check("every listening socket is on 127.0.0.1", not wide, "; ".join(wide) or f"ports {ports}")


def check_secrets(outcome: Outcome) -> Check:
    """Every log file of the run (components, tasks, triggers, the sandbox's output) against the sandbox's
    credentials (tests/secrets.py), every signature the sandbox received and the deployment's secrets."""
    names = {secret: "a sandbox credential" for secret in SECRETS}
    names |= {value: name for name, value in outcome.own_secrets.items()}
    names |= {signature: "a request signature" for signature in outcome.signatures}
    names |= {token: "an STS security token" for token in outcome.keyless.get("tokens", [])}
    if outcome.oidc_token_file.exists():
        names[outcome.oidc_token_file.read_text().strip()] = "the RRSA OIDC token"
    stdout = outcome.sandbox_stdout
    files = [*sorted(outcome.logs.glob("*.log"))]
    files += sorted(p for p in (outcome.home / "logs").rglob("*") if p.is_file())
    findings = []
    for path in [*files, stdout]:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path == stdout:  # its export line hands the credentials over on purpose
            text = "\n".join(line for line in text.splitlines() if not line.startswith("export "))
        for secret in find_secrets(text, names):
            line = text.lower()[: text.lower().index(secret.lower())].count("\n") + 1
            findings.append(f"{shown(path)}:{line}: {names[secret]} ({secret[:3]}...)")
    # The positive control: the detector finds the credentials where they are meant to be.
    control = find_secrets(stdout.read_text(encoding="utf-8")) if stdout.exists() else []
    detail = "; ".join(findings) or (
        f"{len(files) + 1} files hold none of {len(SECRETS)} sandbox credentials, {len(outcome.signatures)} "
        f"request signatures and {len(outcome.own_secrets)} deployment secrets (the detector does find "
        f"{len(control)} credentials in the sandbox's export line)"
    )
    ok = not findings and bool(control) and (bool(outcome.signatures) or not outcome.tis)
    return Check("no secret or signature in any log", ok, detail)


def check_race(outcome: Outcome) -> Check:
    runs = outcome.onboarding_runs
    succeeded = sum(run["state"] == "success" for run in outcome.race_runs)
    retried = sorted(
        f"{ti['task_id']} (try {ti['try_number']})" for ti in outcome.race_tis if ti["try_number"] > 1
    )
    detail = (
        f"{succeeded} of {runs} runs succeeded; {len(outcome.race_mismatches)} task(s) failed by the "
        f"scheduler's state mismatch; retried: {', '.join(retried) or 'none'}"
    )
    if outcome.race_problem:
        detail = f"{outcome.race_problem}; {detail}"
    wrong = [ti for ti in outcome.race_tis if ti["state"] != "success"]
    return Check(
        f"onboarding passes {runs} runs at once with its triggers firing within seconds",
        succeeded == runs and not outcome.race_problem,
        detail,
        [outcome.task_log_file(ti) for ti in wrong],
    )


def check_kill(outcome: Outcome) -> Check:
    kill = outcome.kill
    waited = kill.get("retry wait")
    lines = kill.get("lines", [])
    stamps = [datetime.fromisoformat(stamp) for stamp in kill.get("wait stamps", [])]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]
    ok = (
        kill.get("run") == "success"
        and kill.get("tries", 0) >= 2
        and kill.get("submits") == 4
        and waited is not None
        and waited <= 310
        and all(gap <= 35 for gap in gaps)
    )
    shown = "\n".join(f"    {stamp[11:19]} {event}" for stamp, event in lines)
    detail = (
        f"killed {kill.get('victim')}; the run {kill.get('run', kill.get('problem'))} after "
        f"{kill.get('after kill', 0):.0f} s, submit tries {kill.get('tries')}, batches submitted "
        f"{kill.get('submits')} (4 countries: each paid once), the retry's lookups took "
        f"{waited if waited is None else round(waited)} s; its log:\n{shown}"
    )
    return Check("a worker killed during a 4-country submit: the retry pays once, waits once", ok, detail)


def check_keyless(outcome: Outcome) -> Check:
    """RRSA (``auth_type=oidc_role_arn``) in workers and the triggerer: every CAMS call signed with
    keys from the sandbox's STS, the keys refreshed during the run, none refused for its token."""
    keyless = outcome.keyless
    sides = {who: keyless.get(who, {}) for who in ("workers", "triggerer")}
    ok = (
        keyless.get("oidc calls", 0) >= 2
        and not keyless.get("oidc refused")
        and all(side.get("calls", 0) > 0 for side in sides.values())
        and all(side.get("with temporary keys") == side.get("calls") for side in sides.values())
        and all(not side.get("refused for the token") for side in sides.values())
        and max(side.get("distinct keys", 0) for side in sides.values()) >= 2
    )
    detail = (
        f"{keyless.get('oidc calls', 0)} AssumeRoleWithOIDC calls (refused: {keyless.get('oidc refused')}); "
        + "; ".join(
            f"{who}: {side.get('calls', 0)} CAMS calls, {side.get('with temporary keys', 0)} with STS keys, "
            f"{side.get('distinct keys', 0)} distinct keys, refused: {side.get('refused for the token')}"
            for who, side in sides.items()
        )
    )
    return Check(
        "CAMS without stored keys: RRSA keys in workers and the triggerer, refreshed, never refused",
        ok,
        detail,
    )


def check_components(outcome: Outcome) -> Check:
    stopped = outcome.components_stopped
    detail = ", ".join(stopped) or ", ".join(outcome.components)
    return Check("every component ran to the end", not stopped, detail)


def check_leftovers(outcome: Outcome) -> Check:
    left = outcome.leftovers
    return Check("no process left behind", not left, "; ".join(left) or "none of this run's processes runs")


# --- the tests, in the order the summary lists them ---------------------------------------------------


def observed(outcome: Outcome) -> None:
    if not outcome.tis:
        pytest.skip("no task instance was observed (the deployment did not get that far)")


def test_deployment_ran(outcome: Outcome, verdict: Verdict) -> None:
    judge(verdict, check_deployment(outcome))


def test_states(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    judge(verdict, check_states(outcome))


def test_mismatches(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    judge(verdict, check_mismatches(outcome))


def test_deferrals(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    judge(verdict, check_deferrals(outcome))


def test_banned(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    judge(verdict, check_banned(outcome))


def test_outlets(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    judge(verdict, check_outlets(outcome))


def test_watchers(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    if not outcome.asset_dags:
        pytest.skip("no asset-scheduled DAG")
    judge(verdict, check_watchers(outcome))


def test_race(outcome: Outcome, verdict: Verdict) -> None:
    if not (outcome.onboarding_runs and (outcome.race_runs or outcome.race_problem)):
        pytest.skip("no race part (--onboarding-runs 0, or the run did not get there)")
    judge(verdict, check_race(outcome))


def test_kill(outcome: Outcome, verdict: Verdict) -> None:
    if not (outcome.kill_submit and outcome.kill):
        pytest.skip("no worker-kill part (it needs --kill-submit)")
    judge(verdict, check_kill(outcome))


def test_keyless(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    judge(verdict, check_keyless(outcome))


def test_components(outcome: Outcome, verdict: Verdict) -> None:
    if not outcome.components:
        pytest.skip("no Airflow component was started")
    judge(verdict, check_components(outcome))


def test_listening(outcome: Outcome, verdict: Verdict) -> None:
    if not outcome.components:
        pytest.skip("no Airflow component was started")
    judge(verdict, check_listening(outcome))


def test_pool(outcome: Outcome, verdict: Verdict) -> None:
    observed(outcome)
    if CAMS_POOL_DAG not in outcome.dags:
        pytest.skip(f"{CAMS_POOL_DAG} was not parsed")
    judge(verdict, check_pool(outcome))


def test_secrets(outcome: Outcome, verdict: Verdict) -> None:
    judge(verdict, check_secrets(outcome))


def test_leftovers(outcome: Outcome, verdict: Verdict) -> None:
    judge(verdict, check_leftovers(outcome))
