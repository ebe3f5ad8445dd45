"""`make e2e`: the provider in a real Airflow deployment, driven and checked from the outside.

Starts, each as its own process on 127.0.0.1 with everything under build/e2e/ (a fresh AIRFLOW_HOME):
Debian's PostgreSQL as the metadata database (a private cluster made with initdb, run as the
`postgres` user when we are root), the sandbox, and Airflow's api-server, scheduler, dag-processor
and triggerer with LocalExecutor; with `--executor celery` (`make e2e EXECUTOR=celery`) also Redis
and one `airflow celery worker`. The DAGs are example_dags/ and tests/e2e/dags/ (one DAG bundle
each); the connections are AIRFLOW_CONN_* variables, pointing at the sandbox, in every component.

Then, through the REST API as a user would (simple auth manager, a bearer token), it unpauses and
triggers every DAG (manual runs: no logical date), waits until every sensor of this provider is
deferred, moves the sandbox's clock on (it stands still until then, so no first poke can end a
wait early), and waits with a deadline for every run to finish. It checks every task's final
state, that each sensor went through `deferred` and was resumed by its trigger's event, that
numbers turning BANNED fail a deferrable wait within a bound, that no log of any component holds a
secret or a request signature, that nothing listens beyond 127.0.0.1 and, after stopping
everything (also on failure or Ctrl-C), that no process is left. Prints a table per DAG and task,
the timings and the checks; exits 1 if a check fails, after the last lines of the relevant logs.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil

# tests.secrets comes from the repository root; ui from this script's folder (already on the path).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ui import AIRFLOW, LOOPBACK, SIMPLE_AUTH_MANAGER, free_port

from airflow_provider_wa_phones.reports import format_table
from tests import verdicts
from tests.e2e.outcome import (
    CAMS_POOL,
    CAMS_POOL_DAG,
    CAMS_POOL_SLOTS,
    EXPECTED_INCIDENTS,
    FINISHED,
    WATCH_INTERVAL,
    Outcome,
    expected_state,
    incident_key,
    ti_key,
)
from tests.secrets import signatures_seen

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "e2e"
LOGS = WORK / "logs"  # one log per process started here; task and trigger logs are under HOME/logs
HOME = WORK / "airflow-home"
SANDBOX_STDOUT = WORK / "sandbox.stdout"
# What the run observed, judged by tests/e2e/test_deployment.py (run with pytest at the end), whose
# verdicts come back in VERDICTS for the summary.
OUTCOME, VERDICTS = WORK / "outcome.json", WORK / "verdicts.json"
# RRSA in every component (keyless_cams): the token file, and how long the sandbox's keys live.
OIDC_TOKEN_FILE = WORK / "rrsa-token"
STS_LIFETIME = 45
CHECKS = REPO / "tests" / "e2e" / "test_deployment.py"
BUNDLES = {"examples": REPO / "example_dags", "e2e": REPO / "tests" / "e2e" / "dags"}
# Every process started here carries this variable, and so do their children: the leftover check's key.
MARKER = "WA_PHONES_E2E_RUN"

STARTUP_TIMEOUT = 180.0  # PostgreSQL, Redis, sandbox, api-server, heartbeats, DAG parsing: each
DEFER_TIMEOUT = 180.0  # from triggering until every sensor is deferred
RUN_TIMEOUT = 240.0  # from moving the sandbox's clock on until every run has finished
POLL = 0.5
# Virtual seconds: past the last change of every seeded timeline (9 s) and the longest result delay (3 s).
CLOCK_STEP = 10.0
# The sandbox runs in its long-running mode: every timeline starts over each hour of virtual time
# (the first part stays well inside the first hour), so the race part can start them over.
TIMELINE_CYCLE = 3600
# The race part: onboarding runs triggered at once with the clock running, so their triggers fire
# within seconds of the sensors deferring (the Airflow 3.3.2 race the examples' retries ride out).
ONBOARDING_RUNS = 10
RACE_TIMEOUT = 300.0  # from triggering them until every one has finished (a retry waits 30 s)
# The worker-kill part (--kill-submit): the earlier try's submit is held this long by the sandbox.
KILL_SLOW_SECONDS = 120.0
KILL_TIMEOUT = 600.0  # the retry waits up to about five minutes for the unsent batches


class Failure(Exception):
    """A step that cannot go on; ``logs`` are the files whose last lines explain it."""

    def __init__(self, message: str, logs: Iterable[Path] = ()) -> None:
        super().__init__(message)
        self.logs = list(logs)


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM
    tier: int = 0  # stop_all() stops higher tiers first: Airflow (1) before what it needs (0)

    @property
    def running(self) -> bool:
        return self.popen.poll() is None


PROCESSES: list[Process] = []
CLEANUPS: list[Callable[[], None]] = []
STOP_SECONDS: dict[str, float] = {}
KILLED: list[str] = []  # did not stop within 30 s of their stop signal


def spawn(
    name: str,
    argv: list[str],
    env: dict[str, str],
    *,
    stdout: Path | None = None,
    user: str | None = None,
    stop_signal: int = signal.SIGTERM,
    tier: int = 0,
) -> Process:
    """Start ``argv`` in a process group of its own (so Ctrl-C reaches only us, and stop_all() can end
    the whole group), stderr and, unless given elsewhere, stdout appended to logs/<name>.log."""
    log = LOGS / f"{name}.log"
    with log.open("ab") as err, (stdout or log).open("ab") as out:
        popen = subprocess.Popen(
            argv,
            env={**env, MARKER: str(WORK)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            **as_user(user),
        )
    PROCESSES.append(Process(name, popen, log, stop_signal, tier))
    return PROCESSES[-1]


def as_user(user: str | None) -> dict[str, Any]:
    return {} if user is None else {"user": user, "group": user, "extra_groups": []}


def stop_all() -> None:
    """Stop every started process: Airflow's components together, then what they need (the database
    last). Each leader gets its stop signal and 30 s to stop its own children (Celery's pool, the
    executor's workers); then whatever is left of its process group, and of its descendants in groups
    of their own (Airflow gives each task process one), is killed."""
    for tier in sorted({process.tier for process in PROCESSES}, reverse=True):
        group = [process for process in PROCESSES if process.tier == tier]
        descendants = {}
        for process in group:
            with contextlib.suppress(psutil.NoSuchProcess):
                descendants[process.name] = psutil.Process(process.popen.pid).children(recursive=True)
            if process.running:
                process.popen.send_signal(process.stop_signal)
        started, deadline = time.monotonic(), time.monotonic() + 30
        for process in group:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(max(0.0, deadline - time.monotonic()))
            STOP_SECONDS[process.name] = time.monotonic() - started
            if process.running:
                KILLED.append(process.name)
            with contextlib.suppress(ProcessLookupError):  # nothing left in the group
                os.killpg(process.popen.pid, signal.SIGKILL)
            for child in descendants.get(process.name, []):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            process.popen.wait(10)
            psutil.wait_procs(descendants.get(process.name, []), timeout=10)
            PROCESSES.remove(process)
    while CLEANUPS:
        CLEANUPS.pop()()


def leftovers() -> list[str]:
    """Processes of this run still alive: marked by our variable or naming build/e2e in their command."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            marked = proc.pid != os.getpid() and proc.environ().get(MARKER) == str(WORK)
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            marked = False
        cmdline = " ".join(proc.info["cmdline"] or [])
        if marked or (proc.pid != os.getpid() and str(WORK) in cmdline):
            found.append(f"{proc.pid} {cmdline[:100]}")
    return found


def wait_for(what: str, condition: Callable[[], Any], timeout: float, watch: Iterable[Process]) -> Any:
    """Poll ``condition`` until it returns something truthy; fail at the deadline, or at once if a
    watched process exits (a crashed component would otherwise only show as a timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        for process in watch:
            if not process.running:
                code = process.popen.returncode
                raise Failure(f"{process.name} exited ({code}) while waiting for {what}", [process.log])
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(POLL)


# --- PostgreSQL, Redis, the sandbox --------------------------------------------------------------


def start_postgres(env: dict[str, str]) -> tuple[str, str]:
    """A throwaway cluster on a free loopback port; returns the SQLAlchemy URL and the password."""
    # Debian keeps the server binaries out of PATH, in /usr/lib/postgresql/<version>/bin.
    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not initdbs:
        raise Failure("Debian's postgresql is not installed (make e2e installs it)")
    bindir = initdbs[-1].parent
    # PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
    user = "postgres" if os.geteuid() == 0 else None
    cluster = WORK / "postgres"
    cluster.mkdir(mode=0o700)
    if user:
        shutil.chown(cluster, user, user)
        if subprocess.run(["test", "-w", str(cluster)], **as_user(user)).returncode:
            # A clone under a private home (/root is 0700) is out of the postgres user's reach.
            cluster.rmdir()
            outside = Path(tempfile.mkdtemp(prefix="wa-phones-e2e-pg-"))
            shutil.chown(outside, user, user)
            cluster.symlink_to(outside)  # for people looking; PostgreSQL gets the real path
            cluster = outside
            CLEANUPS.append(lambda: shutil.rmtree(outside, ignore_errors=True))
    password = secrets.token_urlsafe(24)
    pwfile = cluster / "pwfile"
    pwfile.write_text(password)  # in a 0700 directory
    if user:
        shutil.chown(pwfile, user, user)
    initdb = [str(bindir / "initdb"), "-D", str(cluster / "data"), "-U", "airflow", f"--pwfile={pwfile}"]
    # Passwords for every connection; --no-sync: the cluster lives for one run.
    initdb += ["--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"]
    with (LOGS / "initdb.log").open("wb") as log:
        done = subprocess.run(initdb, stdout=log, stderr=subprocess.STDOUT, env=env, **as_user(user))
    pwfile.unlink()
    if done.returncode:
        raise Failure("initdb failed", [LOGS / "initdb.log"])
    port = free_port()
    settings = {
        "listen_addresses": LOOPBACK,
        "port": port,
        "unix_socket_directories": "",  # TCP only: no socket in a system directory
        "max_connections": 200,
        # Durability is pointless for a cluster deleted after the run, and costs seconds on CI disks.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    argv = [str(bindir / "postgres"), "-D", str(cluster / "data")]
    argv += [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    # SIGINT is PostgreSQL's "fast" shutdown: no waiting for clients that are gone anyway.
    process = spawn("postgres", argv, env, user=user, stop_signal=signal.SIGINT)

    import psycopg2

    def create_database() -> bool:
        try:
            connection = psycopg2.connect(
                host=LOOPBACK, port=port, user="airflow", password=password, dbname="postgres"
            )
        except psycopg2.OperationalError:
            return False
        connection.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE airflow")
        connection.close()
        return True

    wait_for("PostgreSQL to accept connections", create_database, STARTUP_TIMEOUT, [process])
    return f"postgresql+psycopg2://airflow:{password}@{LOOPBACK}:{port}/airflow", password


def start_redis(env: dict[str, str]) -> str:
    """Redis as Celery's broker: loopback only, a free port, its own directory, nothing persisted."""
    server = shutil.which("redis-server")
    if server is None:
        raise Failure("redis-server is not installed (make e2e EXECUTOR=celery installs it)")
    port = free_port()
    directory = WORK / "redis"
    directory.mkdir()
    config = directory / "redis.conf"
    config.write_text(
        f'bind {LOOPBACK}\nport {port}\ndir {directory}\nsave ""\nappendonly no\ndaemonize no\nlogfile ""\n'
    )
    process = spawn("redis", [server, str(config)], env)

    def pong() -> bool:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for("Redis to answer PING", pong, STARTUP_TIMEOUT, [process])
    return f"redis://{LOOPBACK}:{port}/0"


def start_sandbox(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The sandbox on a free port, its clock standing still; returns its URL and the AIRFLOW_CONN_*
    variables it prints. Its stdout is that handoff (demo credentials, on purpose), so it goes to a
    file of its own; its log (stderr) is logs/sandbox.log."""
    ready = WORK / "sandbox.url"
    argv = [sys.executable, "-m", "airflow_provider_wa_phones.sandbox", "--port", str(free_port())]
    argv += ["--time-scale", "0", "--cycle", str(TIMELINE_CYCLE), "--ready-file", str(ready)]
    argv += ["--sts", "--sts-lifetime", str(STS_LIFETIME)]
    process = spawn("sandbox", argv, env, stdout=SANDBOX_STDOUT)
    wait_for("the sandbox", ready.exists, STARTUP_TIMEOUT, [process])
    export = next(line for line in SANDBOX_STDOUT.read_text().splitlines() if line.startswith("export "))
    url, *more = ready.read_text().strip().splitlines()
    connections = dict(word.split("=", 1) for word in shlex.split(export)[1:])
    return url, keyless_cams(url, dict(line.split("=", 1) for line in more), connections)


def keyless_cams(url: str, sts: dict[str, str], connections: dict[str, str]) -> dict[str, str]:
    """RRSA as ACK sets it up, played by the sandbox: every ``alibaba_cams`` connection loses its
    keys and gets ``auth_type=oidc_role_arn``; every component gets ACK's three variables, an OIDC
    token file, and trusts the sandbox STS's test CA. Keys live STS_LIFETIME seconds, so the
    triggerer's watchers and deferred sensors refresh them during the run."""
    from airflow_provider_wa_phones.sandbox import data

    token = sandbox_call(url, "POST", "/_sandbox/sts/oidc-token", {"lifetime": 4 * 3600})["token"]
    OIDC_TOKEN_FILE.write_text(token)
    OIDC_TOKEN_FILE.chmod(0o600)
    env = {
        "SSL_CERT_FILE": sts["ca_file"],
        "ALIBABA_CLOUD_ROLE_ARN": data.STS_OIDC_ROLE_ARN,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": data.STS_OIDC_PROVIDER_ARN,
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(OIDC_TOKEN_FILE),
        # Nothing may reach the metadata service or a CLI profile of the machine running this.
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
    }
    for name, value in connections.items():
        conn = json.loads(value)
        if conn.get("conn_type") == "alibaba_cams":
            conn.pop("login", None)
            conn.pop("password", None)
            conn["extra"] = {
                **conn.get("extra", {}),
                "auth_type": "oidc_role_arn",
                "sts_endpoint": sts["sts_endpoint"],
            }
        env[name] = json.dumps(conn)
    return env


def sandbox_call(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data, {"Content-Type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


# --- Airflow ---------------------------------------------------------------------------------------


@dataclass
class Deployment:
    executor: str
    api_url: str = ""
    sandbox_url: str = ""
    # Secrets of the deployment itself, by name: no log may hold them either.
    own_secrets: dict[str, str] = field(default_factory=dict)
    components: list[Process] = field(default_factory=list)

    def start(self) -> None:
        shutil.rmtree(WORK, ignore_errors=True)
        LOGS.mkdir(parents=True)
        (HOME / "reports").mkdir(parents=True)
        # contact_file_check reads a contact file: a generated CRM export of a few thousand rows.
        from airflow_provider_wa_phones.sandbox.contact_files import write_contact_file

        (HOME / "contacts").mkdir()
        write_contact_file(str(HOME / "contacts" / "contacts.csv.gz"), 4_000, seed=5)
        base = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
        sql_url, self.own_secrets["PostgreSQL password"] = start_postgres(base)
        broker = start_redis(base) if self.executor == "celery" else ""
        self.sandbox_url, connections = start_sandbox(base)
        api_port = free_port()
        self.api_url = f"http://{LOOPBACK}:{api_port}"
        env = {**base, **connections, **self.airflow_config(sql_url, broker)}
        with (LOGS / "db-migrate.log").open("wb") as log:
            migrated = subprocess.run([AIRFLOW, "db", "migrate"], env=env, stdout=log, stderr=log)
        if migrated.returncode:
            raise Failure("airflow db migrate failed", [LOGS / "db-migrate.log"])
        # The README's command, word for word.
        pool = [AIRFLOW, "pools", "set", CAMS_POOL, str(CAMS_POOL_SLOTS)]
        pool.append(f"CAMS tasks: 10 calls/s per account shared by {CAMS_POOL_SLOTS} slots")
        with (LOGS / "pools.log").open("wb") as log:
            if subprocess.run(pool, env=env, stdout=log, stderr=log).returncode:
                raise Failure("airflow pools set failed", [LOGS / "pools.log"])
        commands = {
            "api-server": ["api-server", "--host", LOOPBACK, "--port", str(api_port)],
            # serve-logs would listen on every interface; the api-server reads the log files itself.
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
        }
        if self.executor == "celery":
            commands["celery-worker"] = ["celery", "worker", "--skip-serve-logs", "--concurrency", "8"]
        self.components = [spawn(name, [AIRFLOW, *argv], env, tier=1) for name, argv in commands.items()]

    def airflow_config(self, sql_url: str, broker: str) -> dict[str, str]:
        """The configuration every component gets (the caller's AIRFLOW* variables are dropped)."""
        from cryptography.fernet import Fernet

        self.own_secrets |= {
            "API user password": secrets.token_urlsafe(16),
            "JWT secret": secrets.token_hex(32),
            "Fernet key": Fernet.generate_key().decode(),
        }
        passwords = WORK / "simple-auth-passwords.json"
        # Given, so the api-server has no password to generate and print.
        passwords.write_text(json.dumps({"e2e": self.own_secrets["API user password"]}))
        passwords.chmod(0o600)
        bundle = "airflow.dag_processing.bundles.local.LocalDagBundle"
        bundles = [
            {"name": name, "classpath": bundle, "kwargs": {"path": str(path)}}
            for name, path in BUNDLES.items()
        ]
        config = {
            "AIRFLOW_HOME": str(HOME),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if broker else "LocalExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(BUNDLES["examples"]),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_url,
            "AIRFLOW__CORE__FERNET_KEY": self.own_secrets["Fernet key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": self.own_secrets["JWT secret"],
            # Workers and the triggerer reach the task API here, not at the default localhost:8080.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "e2e:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "WA_PHONES_REPORT_DIR": str(HOME / "reports"),
            "WA_PHONES_CONTACTS": str(HOME / "contacts" / "contacts.csv.gz"),
            "WA_PHONES_WATCH_INTERVAL": str(WATCH_INTERVAL),
        }
        if broker:
            config["AIRFLOW__CELERY__BROKER_URL"] = broker
            # Naming the driver: SQLAlchemy 2.1 would pick psycopg 3 for a plain postgresql:// URL.
            config["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + sql_url
        return config


class Api:
    """The REST API as a client uses it: a token from the simple auth manager, then bearer calls."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data, self.headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        return status, json.loads(content) if content else None

    def ok(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        status, answer = self.call(method, path, body)
        if not 200 <= status < 300:
            raise Failure(f"{method} {path}: HTTP {status} {answer}", [LOGS / "api-server.log"])
        return answer

    def all(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of a paged collection (at most 100 per page)."""
        items: list[dict[str, Any]] = []
        joiner = "&" if "?" in path else "?"
        while True:
            page = self.ok("GET", f"{path}{joiner}limit=100&offset={len(items)}")
            items += page[key]
            if not page[key] or len(items) >= page["total_entries"]:
                return items

    def login(self, username: str, password: str) -> None:
        token = self.ok("POST", "/auth/token", {"username": username, "password": password})
        self.headers["Authorization"] = f"Bearer {token['access_token']}"

    def healthy(self, *parts: str) -> bool:
        """The health endpoint (no token needed) says the metadata DB and ``parts`` are healthy."""
        try:
            status, health = self.call("GET", "/api/v2/monitor/health")
        except OSError:
            return False
        parts = ("metadatabase", *parts)
        return status == 200 and all((health.get(part) or {}).get("status") == "healthy" for part in parts)


# --- the run ---------------------------------------------------------------------------------------


def exercise(deploy: Deployment, outcome: Outcome) -> None:
    api, watch = Api(deploy.api_url), deploy.components
    wait_for("the api-server", api.healthy, STARTUP_TIMEOUT, watch)
    api.login("e2e", deploy.own_secrets["API user password"])
    heartbeats = functools.partial(api.healthy, "scheduler", "triggerer", "dag_processor")
    wait_for("scheduler, triggerer and dag-processor heartbeats", heartbeats, STARTUP_TIMEOUT, watch)
    files = {path.name for folder in BUNDLES.values() for path in folder.glob("*.py")}
    errors: list[dict[str, Any]] = []

    def parsed() -> bool:
        dags = api.all("/api/v2/dags", "dags")
        errors[:] = api.all("/api/v2/importErrors", "import_errors")
        outcome.dags = {dag["dag_id"]: [] for dag in dags}
        return files <= {Path(dag["fileloc"]).name for dag in dags} | {
            Path(e["filename"]).name for e in errors
        }

    wait_for(f"the dag-processor to parse all {len(files)} DAG files", parsed, STARTUP_TIMEOUT, watch)
    if errors:
        raise Failure("import errors:\n" + "\n".join(error["stack_trace"] for error in errors))
    outcome.timings["start-up: PostgreSQL, sandbox, db migrate, components, parsing"] = (
        time.monotonic() - outcome.started
    )
    # Every sensor of this provider in these DAGs is deferrable: the examples promise it.
    sensors = set()
    for dag_id in outcome.dags:
        outcome.dags[dag_id] = api.ok("GET", f"/api/v2/dags/{dag_id}/tasks")["tasks"]
        for task in outcome.dags[dag_id]:
            if (
                (task["class_ref"] or {})
                .get("module_path", "")
                .startswith("airflow_provider_wa_phones.sensors")
            ):
                sensors.add((dag_id, task["task_id"]))
    # A DAG scheduled on assets is not triggered by hand: its runs must come from its assets'
    # watchers in the triggerer, as in production.
    for dag_id in outcome.dags:
        details = api.ok("GET", f"/api/v2/dags/{dag_id}/details")
        if details.get("asset_expression"):
            outcome.asset_dags[dag_id] = details
    if outcome.asset_dags:
        start_watchers(api, deploy, outcome, watch)
    triggered = time.monotonic()
    for dag_id in outcome.dags:
        if dag_id not in outcome.asset_dags:
            api.ok("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
            api.ok("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})

    def poll() -> None:
        # Every run: the manual ones and any the scheduler adds on unpausing (phone_health is @daily).
        outcome.runs = api.all("/api/v2/dags/~/dagRuns", "dag_runs")
        outcome.tis = api.all("/api/v2/dags/~/dagRuns/~/taskInstances", "task_instances")
        for ti in outcome.tis:
            key, state = ti_key(ti), ti["state"] or "none"
            if outcome.states.setdefault(key, [state])[-1] != state:
                outcome.states[key].append(state)
            if state == "deferred" and ti["trigger"]:
                job = ti["triggerer_job"] or {}
                trigger = ti["trigger"]["classpath"].rsplit(".", 1)[-1]
                outcome.triggers[key] = f"{trigger} in {job.get('job_type')} {job.get('id')}"
                outcome.triggerer_jobs[key] = job.get("id")
            if outcome.clock_moved and state == "failed" and key not in outcome.failed_after_clock:
                outcome.failed_after_clock[key] = time.monotonic() - outcome.clock_moved

    def all_sensors_deferred() -> bool:
        poll()
        waiting = [ti for ti in outcome.tis if (ti["dag_id"], ti["task_id"]) in sensors]
        # Airflow 3.3.2 fails a resumed task when the executor's event for the worker that exited on
        # defer() reaches the scheduler only after the trigger fired (the same try number looks like a
        # task killed externally: apache/airflow#67287, #72716). Users meet it when a trigger fires
        # within seconds; here it would make the outcome depend on machine speed, so the clock moves
        # on only once the scheduler has taken in every deferral.
        scheduler_log = (LOGS / "scheduler.log").read_text(errors="replace")
        # The pool DAG's calls are over before onboarding's profile call (after the clock moves) can
        # share a second with them and turn 10 calls per second into 11.
        pool_runs = [run for run in outcome.runs if run["dag_id"] == CAMS_POOL_DAG]
        return (
            bool(waiting)
            and all(
                "deferred" in outcome.states[ti_key(ti)] and deferral_taken_in(scheduler_log, ti)
                for ti in waiting
            )
            and all(run["state"] in FINISHED for run in pool_runs)
        )

    try:
        what = (
            "every sensor deferred and the scheduler logging it (TaskInstance Finished ... state=deferred),"
            f" and {CAMS_POOL_DAG} finished"
        )
        wait_for(what, all_sensors_deferred, DEFER_TIMEOUT, watch)
    except Failure as failure:
        outcome.defer_problem = str(failure)  # check_deferrals says it; the runs still finish
    outcome.timings["triggering until every sensor was deferred"] = time.monotonic() - triggered
    sandbox_call(deploy.sandbox_url, "POST", "/_sandbox/advance", {"seconds": CLOCK_STEP})
    outcome.clock_moved = time.monotonic()

    def finished() -> bool:
        # From now on the sandbox's clock keeps up with real time, whatever was submitted late.
        sandbox_call(deploy.sandbox_url, "POST", "/_sandbox/advance", {"seconds": POLL})
        poll()
        if outcome.asset_dags and outcome.incidents_after_clock is None:
            outcome.incidents = read_incidents()
            if {incident_key(line) for line in outcome.incidents} >= EXPECTED_INCIDENTS:
                outcome.incidents_after_clock = time.monotonic() - outcome.clock_moved
        incidents = not outcome.asset_dags or outcome.incidents_after_clock is not None
        return incidents and bool(outcome.runs) and all(run["state"] in FINISHED for run in outcome.runs)

    what = "every DAG run to finish"
    if outcome.asset_dags:
        what += f" and the watchers' {len(EXPECTED_INCIDENTS)} incidents to be written"
    try:
        wait_for(what, finished, RUN_TIMEOUT, watch)
        outcome.timings["moving the sandbox's clock on until every run finished"] = (
            time.monotonic() - outcome.clock_moved
        )
    finally:  # what there is to see, after a timeout too
        with contextlib.suppress(Failure, OSError):
            collect(api, outcome, sensors)


def collect(api: Api, outcome: Outcome, sensors: set[tuple[str, str]]) -> None:
    """The sensors' logs, the audit log's state mismatches, and the asset events and incident lines."""
    for ti in outcome.tis:
        if (ti["dag_id"], ti["task_id"]) in sensors:
            outcome.task_logs[ti_key(ti)] = task_log(api, ti)
    # The audit log's record of tasks the scheduler failed, as the race described above would.
    outcome.mismatches = api.all("/api/v2/eventLogs?event=state%20mismatch", "event_logs")
    outcome.asset_events = api.all("/api/v2/assets/events", "asset_events")
    outcome.pool = api.ok("GET", f"/api/v2/pools/{CAMS_POOL}")
    if outcome.asset_dags:
        outcome.incidents = read_incidents()
        outcome.incident_files = [str(path) for path in sorted((HOME / "reports").glob("incidents-*.jsonl"))]


def start_watchers(api: Api, deploy: Deployment, outcome: Outcome, watch: list[Process]) -> None:
    """Unpause the asset-scheduled DAGs and wait until each watcher of their assets has looked twice
    at its account, the clock still standing at 0 s: so the baseline holds every number as it was
    before its changes, and each change is seen after the clock moves on.

    The dag-processor registers an asset's watchers only while a DAG scheduled on it is unpaused, the
    next time it parses the file: a reparse is requested here, as the UI's Reparse button does.
    Nothing else has run yet, so every request the sandbox received is a watcher's (the two watchers
    call different services, each on a path of its own)."""
    started = time.monotonic()
    for dag_id, details in outcome.asset_dags.items():
        api.ok("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        api.ok("PUT", f"/api/v2/parseDagFile/{details['file_token']}")

    def registered() -> bool:
        outcome.assets = [
            asset
            for asset in api.all("/api/v2/assets", "assets")
            if {ref["dag_id"] for ref in asset["scheduled_dags"]} & set(outcome.asset_dags)
        ]
        return bool(outcome.assets) and all(asset["watchers"] for asset in outcome.assets)

    what = "the watchers of every asset an asset-scheduled DAG waits on to be registered"
    wait_for(what, registered, STARTUP_TIMEOUT, watch)
    watchers = sum(len(asset["watchers"]) for asset in outcome.assets)

    def looked_twice() -> bool:
        paths: dict[str, int] = {}
        for request in sandbox_call(deploy.sandbox_url, "GET", "/_sandbox/requests"):
            paths[request["path"]] = paths.get(request["path"], 0) + 1
        return sum(count >= 2 for count in paths.values()) >= watchers

    wait_for(f"each of the {watchers} watchers to look twice", looked_twice, STARTUP_TIMEOUT, watch)
    outcome.timings["unpausing the asset-scheduled DAGs until each watcher had looked twice"] = (
        time.monotonic() - started
    )


def read_incidents() -> list[dict[str, Any]]:
    """Every line of every incident file the quality_alert runs wrote (a line being written is left
    for the next look)."""
    lines = []
    for path in sorted((HOME / "reports").glob("incidents-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
    return lines


def deferral_taken_in(scheduler_log: str, ti: dict[str, Any]) -> bool:
    """The scheduler took in the executor's event for the task's exit on defer().

    It usually says so as "TaskInstance Finished: ... state=deferred". A scheduler loop that finds the
    task instance's row locked (the worker writing the deferral) skips it, and a later loop may then
    take the event without that line (seen once with Celery); the "Received executor event" line for
    this try, logged as the scheduler reads its executor's events, is then the only trace.
    """
    finished = (
        f"TaskInstance Finished: dag_id={ti['dag_id']}, task_id={ti['task_id']}, run_id={ti['dag_run_id']},"
    )
    key = f"dag_id='{ti['dag_id']}', task_id='{ti['task_id']}', run_id='{ti['dag_run_id']}'"
    received = (
        "Received executor event with state success for task instance "
        f"TaskInstanceKey({key}, try_number={ti['try_number']},"
    )
    return any(
        (finished in line and "state=deferred," in line) or received in line
        for line in scheduler_log.splitlines()
    )


def task_log(api: Api, ti: dict[str, Any]) -> str:
    """The task's log as the UI shows it: the api-server merges the worker's and the triggerer's files."""
    run_id = urllib.parse.quote(ti["dag_run_id"], safe="")
    path = f"/api/v2/dags/{ti['dag_id']}/dagRuns/{run_id}/taskInstances/{ti['task_id']}"
    content = api.ok("GET", f"{path}/logs/{ti['try_number']}?full_content=true")["content"]
    return "\n".join(entry if isinstance(entry, str) else json.dumps(entry) for entry in content)


def keyless_record(logged: list[dict[str, Any]]) -> dict[str, Any]:
    """What the sandbox saw of RRSA: the AssumeRoleWithOIDC calls, and the CAMS calls by who made
    them (workers sign with requests, the triggerer with aiohttp) and by the keys they carried."""
    oidc = [r for r in logged if "Action=AssumeRoleWithOIDC" in r["query"]]
    cams = [r for r in logged if r["headers"].get("x-acs-action")]
    record: dict[str, Any] = {
        "oidc calls": len(oidc),
        "oidc refused": sorted({str(r["code"]) for r in oidc if r["status"] != 200}),
        "tokens": sorted(
            {r["headers"]["x-acs-security-token"] for r in cams if r["headers"].get("x-acs-security-token")}
        ),
    }
    for who, calls in (
        ("triggerer", [r for r in cams if "aiohttp" in r["headers"].get("user-agent", "")]),
        ("workers", [r for r in cams if "aiohttp" not in r["headers"].get("user-agent", "")]),
    ):
        keys = [
            r["headers"].get("authorization", "").partition("Credential=")[2].partition(",")[0] for r in calls
        ]
        record[who] = {
            "calls": len(calls),
            "with temporary keys": sum(key.startswith("STS.") for key in keys),
            "distinct keys": len(set(keys)),
            "refused for the token": sorted(
                {str(r["code"]) for r in calls if "SecurityToken" in str(r["code"])}
            ),
        }
    return record


def sandbox_signatures(deploy: Deployment) -> list[str]:
    """Every request signature the sandbox received, read through its admin API."""
    requests = sandbox_call(deploy.sandbox_url, "GET", "/_sandbox/requests")
    return signatures_seen(
        SimpleNamespace(requests=lambda: [SimpleNamespace(headers=r["headers"]) for r in requests])
    )


# --- the race part: onboarding, many runs at once, the clock running --------------------------------


def onboarding_race(deploy: Deployment, outcome: Outcome, runs: int) -> None:
    """Start the sandbox's timelines over (its numbers PENDING again) and trigger ``runs`` onboarding
    runs at once with the clock keeping up with real time: each sensor defers while its numbers are
    PENDING and its trigger fires about 5 s later, as on a production scheduler where the Airflow
    3.3.2 race (README, "End-to-end") fails some resumed sensors. The examples' retries must carry
    every run to success."""
    api, watch = Api(deploy.api_url), deploy.components
    api.login("e2e", deploy.own_secrets["API user password"])
    elapsed = sandbox_call(deploy.sandbox_url, "GET", "/_sandbox/clock")["elapsed"]
    sandbox_call(deploy.sandbox_url, "POST", "/_sandbox/advance", {"seconds": TIMELINE_CYCLE - elapsed})
    started = time.monotonic()
    run_ids = {
        api.ok("POST", "/api/v2/dags/onboarding/dagRuns", {"logical_date": None})["dag_run_id"]
        for _ in range(runs)
    }

    def finished() -> bool:
        sandbox_call(deploy.sandbox_url, "POST", "/_sandbox/advance", {"seconds": POLL})
        every = api.all("/api/v2/dags/onboarding/dagRuns", "dag_runs")
        outcome.race_runs = [run for run in every if run["dag_run_id"] in run_ids]
        return len(outcome.race_runs) == runs and all(run["state"] in FINISHED for run in outcome.race_runs)

    try:
        wait_for(f"{runs} onboarding runs to finish", finished, RACE_TIMEOUT, watch)
    except Failure as failure:
        outcome.race_problem = str(failure)
    outcome.timings[f"{runs} onboarding runs at once, the clock running"] = time.monotonic() - started
    outcome.race_tis = [
        ti
        for ti in api.all("/api/v2/dags/onboarding/dagRuns/~/taskInstances", "task_instances")
        if ti["dag_run_id"] in run_ids
    ]
    outcome.race_mismatches = [
        event
        for event in api.all("/api/v2/eventLogs?event=state%20mismatch", "event_logs")
        if event.get("run_id") in run_ids
    ]


# --- the worker-kill part (--kill-submit) ---------------------------------------------------------

SUBMIT_PATH = "/api/number/check"
# The retry's log lines while it looks for the earlier try's batches (submits.py).
WAIT_LINES = ("Looking for", "Earlier try's batches")


def kill_during_submit(deploy: Deployment, outcome: Outcome) -> None:
    """Kill (SIGKILL) the task process of number_check's submit (4 countries) while the sandbox holds
    the answer to its first batch, and let the retry run: it must pay for no batch twice, wait for
    the unsent ones under one deadline, and say so in its log. Measured: the retry's wait and its log
    lines."""
    api, watch = Api(deploy.api_url), deploy.components
    api.login("e2e", deploy.own_secrets["API user password"])
    url = deploy.sandbox_url
    submits_before = sandbox_call(url, "GET", f"/_sandbox/requests/count?path={SUBMIT_PATH}")["count"]
    fault = {"kind": "slow", "path": SUBMIT_PATH, "slow_seconds": KILL_SLOW_SECONDS}
    sandbox_call(url, "POST", "/_sandbox/faults/next", fault)
    run_id = api.ok("POST", "/api/v2/dags/number_check/dagRuns", {"logical_date": None})["dag_run_id"]
    port = urllib.parse.urlsplit(url).port

    def submitting() -> psutil.Process | None:
        # The task process: connected to the sandbox, a descendant of the process that runs tasks
        # (the triggerer's trigger runner is connected too, as are the watchers).
        runners = [p for p in deploy.components if p.name in ("scheduler", "celery-worker")]
        tasks = set()
        for runner in runners:
            with contextlib.suppress(psutil.NoSuchProcess):
                tasks |= {child.pid for child in psutil.Process(runner.popen.pid).children(recursive=True)}
        for conn in psutil.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == port and conn.pid in tasks:
                return psutil.Process(conn.pid)
        return None

    def in_flight() -> psutil.Process | None:
        count = sandbox_call(url, "GET", f"/_sandbox/requests/count?path={SUBMIT_PATH}")["count"]
        process = submitting()
        # The held submit is logged when answered; until then the sandbox counts none of this run's.
        return process if count == submits_before and process is not None else None

    victim = wait_for("the submit task to send its first batch", in_flight, STARTUP_TIMEOUT, watch)
    outcome.kill["victim"] = f"{victim.pid} {' '.join(victim.cmdline())[:100]}"
    victim.send_signal(signal.SIGKILL)
    killed = time.monotonic()

    def finished() -> Any:
        sandbox_call(url, "POST", "/_sandbox/advance", {"seconds": POLL})
        run_path = f"/api/v2/dags/number_check/dagRuns/{urllib.parse.quote(run_id, safe='')}"
        run = api.ok("GET", run_path)
        return run if run["state"] in FINISHED else None

    try:
        run = wait_for("number_check to finish after the kill", finished, KILL_TIMEOUT, watch)
        outcome.kill["run"] = run["state"]
    except Failure as failure:
        outcome.kill["problem"] = str(failure)
    outcome.kill["after kill"] = time.monotonic() - killed
    outcome.timings["the worker-kill part"] = time.monotonic() - killed
    ti = next(
        ti
        for ti in api.all("/api/v2/dags/number_check/dagRuns/~/taskInstances", "task_instances")
        if ti["dag_run_id"] == run_id and ti["task_id"] == "submit"
    )
    outcome.kill["tries"] = ti["try_number"]
    outcome.kill["submits"] = (
        sandbox_call(url, "GET", f"/_sandbox/requests/count?path={SUBMIT_PATH}")["count"] - submits_before
    )
    lines = []
    with contextlib.suppress(OSError):
        for line in outcome.task_log_file(ti).read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                entry = json.loads(line)
                if entry["event"].startswith((*WAIT_LINES, "Reused", "Submitted")):
                    lines.append((entry["timestamp"], entry["event"]))
    outcome.kill["lines"] = lines
    stamps = [stamp for stamp, event in lines if event.startswith(WAIT_LINES)]
    outcome.kill["wait stamps"] = stamps  # ISO 8601, as the log has them
    waited = (
        datetime.fromisoformat(stamps[-1]) - datetime.fromisoformat(stamps[0]) if len(stamps) > 1 else None
    )
    outcome.kill["retry wait"] = None if waited is None else waited.total_seconds()


# --- report ----------------------------------------------------------------------------------------


def table(outcome: Outcome) -> str:
    rows = []
    for ti in sorted(outcome.tis, key=lambda ti: (ti["dag_id"], ti["dag_run_id"], ti["start_date"] or "")):
        note = outcome.triggers.get(ti_key(ti), "")
        rows.append(
            {
                "dag": ti["dag_id"],
                "run": ti["dag_run_id"].split("__")[0],
                "task": ti["task_id"],
                "state": ti["state"]
                if ti["state"] == expected_state(ti)
                else f"{ti['state']} (EXPECTED {expected_state(ti)})",
                "duration": "" if ti["duration"] is None else f"{ti['duration']:.1f} s",
                "states seen": " > ".join(outcome.states.get(ti_key(ti), [])),
                "deferred to": note,
            }
        )
    return format_table(rows, ("dag", "run", "task", "state", "duration", "states seen", "deferred to"))


def tail(path: Path, lines: int = 25) -> str:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]:
        try:  # task logs are JSON lines: shown the way the UI does
            entry = json.loads(line)
            out.append(f"{entry['timestamp'][11:23]} {entry['level']} {entry['event']}")
        except (ValueError, KeyError, TypeError):
            out.append(line)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=("local", "celery"), default="local")
    parser.add_argument(
        "--onboarding-runs",
        type=int,
        default=ONBOARDING_RUNS,
        help="onboarding runs triggered at once, the clock running, after the rest (0: none; "
        "default %(default)s)",
    )
    parser.add_argument(
        "--kill-submit",
        action="store_true",
        help="also kill the task process during number_check's 4-country submit and measure the retry "
        "(about 6 minutes more)",
    )
    args = parser.parse_args(argv)
    # SIGTERM/SIGHUP (a cancelled CI job) unwind like Ctrl-C, through the finally that stops everything.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)
    atexit.register(stop_all)  # the last resort, should the interpreter exit some other way
    print(f"e2e, {args.executor} executor: logs in {LOGS.relative_to(REPO)}/", flush=True)
    deploy = Deployment(args.executor)
    outcome = Outcome(
        started=time.monotonic(), work=str(WORK), executor=args.executor,
        onboarding_runs=args.onboarding_runs, kill_submit=args.kill_submit,
    )  # fmt: skip
    interrupted = False
    try:
        try:
            deploy.start()
            exercise(deploy, outcome)
            if args.onboarding_runs:
                onboarding_race(deploy, outcome, args.onboarding_runs)
            if args.kill_submit:
                kill_during_submit(deploy, outcome)
        except Failure as failure:
            logs = failure.logs or [
                LOGS / f"{name}.log" for name in ("scheduler", "triggerer", "celery-worker")
            ]
            outcome.failure = {"message": str(failure), "logs": [str(log) for log in logs]}
        # What only the running deployment shows: which components still run, where they listen.
        outcome.components = [p.name for p in deploy.components]
        outcome.components_stopped = [
            f"{p.name} ({p.popen.returncode})" for p in deploy.components if not p.running
        ]
        if deploy.components:
            outcome.listening = listening()
    except KeyboardInterrupt:
        print("\nInterrupted: stopping everything.", flush=True)
        interrupted = True
    finally:
        if not interrupted and any(p.name == "sandbox" and p.running for p in PROCESSES):
            outcome.signatures = sandbox_signatures(deploy)  # while the sandbox still runs
            logged = sandbox_call(deploy.sandbox_url, "GET", "/_sandbox/requests")
            outcome.throttled = [
                f"{r['method']} {r['path']}?{r['query']}"[:120]
                for r in logged
                if r["code"] == "Throttling.User"
            ]
            outcome.keyless = keyless_record(logged)
        stopping = time.monotonic()
        stop_all()
        slowest = max(STOP_SECONDS, key=STOP_SECONDS.__getitem__, default="-")
        killed = f"; killed after 30 s: {', '.join(KILLED)}" if KILLED else ""
        outcome.timings[f"stopping everything (slowest: {slowest}{killed})"] = time.monotonic() - stopping
    outcome.leftovers = leftovers()
    if interrupted:
        print("\n".join(["Left behind:", *outcome.leftovers]) if outcome.leftovers else "Everything stopped.")
        return 130
    # Only now are the logs complete (stopping writes to them too): the checks judge the record.
    outcome.own_secrets = deploy.own_secrets
    outcome.write(OUTCOME)
    checked = judge()

    if outcome.tis:
        print("\n" + table(outcome))
    print()
    for name, seconds in outcome.timings.items():
        print(f"{name}: {seconds:.0f} s")
    print(f"total: {time.monotonic() - outcome.started:.0f} s ({args.executor} executor)\n")
    return summary(checked)


def listening() -> list[dict[str, Any]]:
    """Every listening socket of the processes started here and their descendants."""
    pids = set()
    for process in PROCESSES:
        with contextlib.suppress(psutil.NoSuchProcess):
            leader = psutil.Process(process.popen.pid)
            pids |= {leader.pid, *(child.pid for child in leader.children(recursive=True))}
    return [
        {"pid": c.pid, "ip": c.laddr.ip, "port": c.laddr.port}
        for c in psutil.net_connections("inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    ]


def judge() -> tuple[int, list[verdicts.TestResult]]:
    """Run the checks (tests/e2e/test_deployment.py) on the record; pytest's exit status and results.

    pytest's report goes to build/e2e/checks.log, and its line per check (by name) to the output."""
    VERDICTS.unlink(missing_ok=True)
    env = {**os.environ, "WA_PHONES_E2E_OUTCOME": str(OUTCOME), verdicts.VERDICTS_ENV: str(VERDICTS)}
    cmd = [sys.executable, "-m", "pytest", str(CHECKS), "-v", "-p", "no:cacheprovider", "--no-header"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    (WORK / "checks.log").write_text(done.stdout + done.stderr)
    report = [line for line in done.stdout.splitlines() if "::" in line or line.startswith("=")]
    print(
        f"\npytest {CHECKS.relative_to(REPO)} (its whole report: {(WORK / 'checks.log').relative_to(REPO)}):"
    )
    print("\n".join(report[-40:]))
    results = verdicts.read(VERDICTS) if VERDICTS.exists() else []
    if done.returncode and not results:
        print(done.stdout[-3000:] + done.stderr[-3000:])
    return done.returncode, results


def summary(checked: tuple[int, list[verdicts.TestResult]]) -> int:
    """PASS or FAIL, name and detail per check (skipped: did not apply), then the logs of failures."""
    status, results = checked
    failed_logs: list[Path] = []
    for result in results:
        if result.outcome == "skipped":
            continue
        name, ok, detail = verdicts.summary_line(result)
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
        if not ok and result.verdict:
            failed_logs += [Path(log) for log in result.verdict.logs]
    for log in (log for log in dict.fromkeys(failed_logs) if log.exists()):
        shown = log.relative_to(REPO) if log.is_relative_to(REPO) else log
        print(f"\n==> last lines of {shown} <==\n{tail(log)}")
    failed = (
        status != 0
        or not results
        or any(not verdicts.summary_line(r)[1] for r in results if r.outcome != "skipped")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
