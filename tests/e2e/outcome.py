"""What ``scripts/e2e.py`` observed of a deployment, handed to ``tests/e2e/test_deployment.py``.

The script starts the deployment, drives it, records an ``Outcome`` (what the REST API, the sandbox
and the processes showed, while they ran) and writes it as JSON; the test module judges that record.
The expectations both sides need (the states the e2e-only DAGs must end in, the BANNED numbers, the
watchers' incidents, the CAMS pool) live here. Standard library only: the script imports it too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

# Every task of the example DAGs must succeed; the e2e-only DAGs say here what they expect.
EXPECTED_STATES = {
    "e2e_banned": {"wait_nxcloud_banned": "failed", "wait_cams_banned": "failed", "report": "upstream_failed"}
}
# (dag_id, task_id) -> the number whose BANNED status must fail that wait, named in the task's log.
BANNED = {
    ("e2e_banned", "wait_nxcloud_banned"): "5511987654321",
    ("e2e_banned", "wait_cams_banned"): "6281299990000",
}
BANNED_BOUND = 60.0  # a BANNED number must fail its wait this soon after the clock passed the ban
FINISHED = {"success", "failed"}
# Seconds between the quality_alert watchers' looks (its default is 60).
WATCH_INTERVAL = 2
# What the watchers must report once the sandbox's clock has moved past every change: the seeded
# timelines (NxCloud 5511987654321 FLAGGED/RED at 4 s, BANNED at 8 s; CAMS 6281299990000
# FLAGGED/YELLOW at 3 s, BANNED/RED at 9 s), seen from a baseline taken at 0 s and the next look
# after the clock jumped past 9 s, filtered by quality becoming RED or status leaving CONNECTED.
EXPECTED_INCIDENTS = {
    ("nxcloud", "5511987654321", "quality_rating", "GREEN", "RED"),
    ("nxcloud", "5511987654321", "status", "CONNECTED", "BANNED"),
    ("alibaba_cams", "6281299990000", "quality_rating", "GREEN", "RED"),
    ("alibaba_cams", "6281299990000", "status", "CONNECTED", "BANNED"),
}
# Every incident line must be written this soon after the sandbox's clock passed the changes.
INCIDENTS_BOUND = 60.0
# The README's CAMS pool ("The CAMS limit across processes"), as a user creates it, and the e2e-only
# DAG whose tasks share it (tests/e2e/dags/e2e_cams_pool.py).
CAMS_POOL, CAMS_POOL_SLOTS, CAMS_POOL_DAG = "alibaba_cams", 2, "e2e_cams_pool"
# Tasks that publish what they wrote as an asset (through an AssetAlias): one event per successful
# run, its URI the file written.
OUTLET_TASKS = {
    ("phone_health", "write_report"),
    ("number_check", "results"),
    ("contact_file_check", "results"),
}
TiKey = tuple[str, str, str]  # dag_id, run_id, task_id
# The fields keyed by a task instance (TiKey): JSON has only string keys, so they travel as pairs.
_BY_TI = ("states", "triggers", "triggerer_jobs", "failed_after_clock", "task_logs")


@dataclass
class Outcome:
    """What the run observed; the checks and the table are computed from it."""

    started: float = 0.0  # time.monotonic() when the run started (the script sets it)
    work: str = ""  # build/e2e: its logs/, airflow-home/ and sandbox.stdout
    executor: str = "local"
    onboarding_runs: int = 0  # the race part's runs asked for (0: no race part)
    kill_submit: bool = False  # the worker-kill part asked for
    failure: dict[str, Any] | None = None  # a step that could not go on: {"message", "logs"}
    dags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # dag_id -> its tasks
    runs: list[dict[str, Any]] = field(default_factory=list)
    tis: list[dict[str, Any]] = field(default_factory=list)
    states: dict[TiKey, list[str]] = field(default_factory=dict)  # every state seen, in order
    triggers: dict[TiKey, str] = field(default_factory=dict)  # the trigger seen while deferred
    triggerer_jobs: dict[TiKey, int | None] = field(default_factory=dict)  # and the job running it
    defer_problem: str = ""
    clock_moved: float = 0.0
    failed_after_clock: dict[TiKey, float] = field(default_factory=dict)
    task_logs: dict[TiKey, str] = field(default_factory=dict)  # of every sensor, from the REST API
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    asset_dags: dict[str, dict[str, Any]] = field(default_factory=dict)  # dag_id -> its details
    assets: list[dict[str, Any]] = field(default_factory=list)  # the assets they are scheduled on
    asset_events: list[dict[str, Any]] = field(default_factory=list)  # every event, at the end
    incidents: list[dict[str, Any]] = field(default_factory=list)  # every line of every incident file
    incident_files: list[str] = field(default_factory=list)  # before the race part's new changes
    incidents_after_clock: float | None = None  # when the last expected incident was written
    signatures: list[str] = field(default_factory=list)
    throttled: list[str] = field(default_factory=list)  # CAMS calls the sandbox throttled
    keyless: dict[str, Any] = field(default_factory=dict)  # RRSA as the sandbox saw it (e2e.keyless_record)
    pool: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    race_runs: list[dict[str, Any]] = field(default_factory=list)  # the race part's onboarding runs
    race_tis: list[dict[str, Any]] = field(default_factory=list)  # and their task instances
    race_mismatches: list[dict[str, Any]] = field(default_factory=list)
    race_problem: str = ""
    kill: dict[str, Any] = field(default_factory=dict)  # what the worker-kill part measured
    # Seen while the components still ran, and after stopping them.
    components: list[str] = field(default_factory=list)  # Airflow's components, as started
    components_stopped: list[str] = field(default_factory=list)  # "name (exit code)" of any that exited
    listening: list[dict[str, Any]] = field(default_factory=list)  # {"pid", "ip", "port"} of our processes
    leftovers: list[str] = field(default_factory=list)  # processes of this run alive after stopping
    # The deployment's own secrets by name (no log may hold them): the record is a 0600 file under
    # build/e2e, beside the api-server's password file.
    own_secrets: dict[str, str] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        """One log per process the script started."""
        return Path(self.work) / "logs"

    @property
    def home(self) -> Path:
        """AIRFLOW_HOME: task and trigger logs under logs/, reports under reports/."""
        return Path(self.work) / "airflow-home"

    @property
    def sandbox_stdout(self) -> Path:
        return Path(self.work) / "sandbox.stdout"

    @property
    def oidc_token_file(self) -> Path:
        """The RRSA token every component reads (scripts/e2e.py keyless_cams)."""
        return Path(self.work) / "rrsa-token"

    def task_log_file(self, ti: dict[str, Any]) -> Path:
        """Where the worker wrote the task's log (Airflow's default log_filename_template)."""
        dag_id, run_id, task_id = ti_key(ti)
        attempt = ti["try_number"]
        return self.home / f"logs/dag_id={dag_id}/run_id={run_id}/task_id={task_id}/attempt={attempt}.log"

    def write(self, path: Path) -> None:
        record = asdict(self)
        for name in _BY_TI:
            record[name] = [[list(key), value] for key, value in record[name].items()]
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(record, default=str))

    @classmethod
    def read(cls, path: Path) -> Outcome:
        record = json.loads(path.read_text())
        for name in _BY_TI:
            record[name] = {tuple(key): value for key, value in record[name]}
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in record.items() if name in known})


def ti_key(ti: dict[str, Any]) -> TiKey:
    return ti["dag_id"], ti["dag_run_id"], ti["task_id"]


def expected_state(ti: dict[str, Any]) -> str:
    return EXPECTED_STATES.get(ti["dag_id"], {}).get(ti["task_id"], "success")


def incident_key(change: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(change.get(name) for name in ("service", "phone_number", "field", "old", "new"))
