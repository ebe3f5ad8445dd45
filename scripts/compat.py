"""`make compat`: install the provider on every supported Airflow 3 minor and prove it works there.

For each minor (3.0, 3.1, 3.2, 3.3: the latest patch of each) this builds a virtualenv in
``build/compat/<minor>/`` pinned by ``compat/constraints-<minor>.txt`` (reused while its inputs are
unchanged), installs the package from a wheel (as users get it, not editable), then checks in
separate processes of that virtualenv:

- imports: every module of ``airflow_provider_wa_phones`` imports;
- provider: ``ProvidersManager`` sees the provider and both connection types with their hooks;
- forms: both connection forms are customised the way that version's UI reads them (3.2 and
  later: ``conn-fields`` / ``ui-field-behaviour`` from the provider info; before: the hook
  classmethods ``get_connection_form_widgets`` / ``get_ui_field_behaviour``);
- http: the ``http`` extra, i.e. the auth classes signing for ``HttpHook``, ``HttpOperator`` and
  ``HttpSensor`` against the sandbox;
- the example DAGs, run with ``airflow dags test`` against the local sandbox on a migrated SQLite
  database, including the deferrable waits of ``number_check`` and ``onboarding`` (the run must
  have polled the sandbox from the triggerer's aiohttp client, not only from the worker).
- modes: every sensor in poke and reschedule mode (``dag.test()`` of the suite's
  ``tests/dags/dag_files/sensor_modes.py``), each made to look at least twice;
- quality_alert: the example's asset watchers run against the sandbox (before 3.3 each must poll on
  its own and say so in its log, on 3.3 say nothing), then the DAG writes the changes they fired.

It prints one table (Airflow version, Python -> result per check, time per minor) and exits non-zero if
anything failed. Everything binds to 127.0.0.1 and is stopped before the script exits.

``python scripts/compat.py constraints [MINOR ...]`` re-resolves the constraints files: pip
``--uploaded-prior-to`` the day after that minor's latest patch was uploaded, against PyPI only
(files in local indexes carry no upload time, so pip would not filter them), so the pins are what
that version's users got. Only the standard library is imported at module level: the checks run
this same file with each virtualenv's Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "compat"
CONSTRAINTS_DIR = REPO / "compat"
PACKAGE = "airflow_provider_wa_phones"
DISTRIBUTION = "airflow-provider-wa-phones"
PIP_PIN = "pip==26.3"  # as the Makefile: the first pip with --uploaded-prior-to that we checked
PYPI = "https://pypi.org/simple"
# The package is installed with these extras (the http check needs the http provider).
EXTRAS = "[http]"
# Resolved beside the package's own dependencies: what the checks import directly (the async hooks
# use aiohttp, the sandbox fastapi and uvicorn; all arrive through Airflow, pinned here explicitly).
CHECK_REQUIREMENTS = ["aiohttp", "fastapi", "uvicorn"]
# number_check last: the triggerer check re-runs its trigger against the state it leaves.
DAGS = ("phone_health", "onboarding", "number_check")
# How many deferrable waits each DAG has: each must really defer (see DeferralDriver).
DEFERRALS = {"number_check": 1, "onboarding": 2}
REPORTS = {"phone_health": "phone-health-*.json", "number_check": "number-check-*.jsonl",
           "onboarding": "onboarding-*.json"}  # fmt: skip
CONN_TYPES = {
    "nxcloud": f"{PACKAGE}.hooks.nxcloud.NxCloudHook",
    "alibaba_cams": f"{PACKAGE}.hooks.cams.CamsHook",
}


@dataclass(frozen=True)
class Minor:
    """An Airflow minor under test: its latest patch, and the cut-off of its constraints."""

    airflow: str
    # The day after the patch's wheel reached PyPI (upload time in the comment), 00:00 UTC.
    uploaded_prior_to: str
    # The Python it runs on: together the minors cover every Python Airflow 3 supports (3.10 to 3.13),
    # each on one that minor supports (apache-airflow-core's Requires-Python).
    python: str = "3.11"
    # Resolved and installed beside it, for what that version's users need for a check to apply.
    extras: tuple[str, ...] = ()


MINORS: dict[str, Minor] = {
    # 3.0 builds no provider's connection form without WTForms (users get it with the FAB provider).
    # The oldest Python with the oldest minor, the newest with the newest (3.0.6: >=3.9, !=3.13;
    # 3.1.8: >=3.10, <3.14; 3.2.2 and 3.3.2: >=3.10, !=3.15).
    "3.0": Minor("3.0.6", "2025-08-30T00:00:00Z", "3.10", ("wtforms",)),  # uploaded 2025-08-29T15:56Z
    "3.1": Minor("3.1.8", "2026-03-12T00:00:00Z", "3.11"),  # uploaded 2026-03-11T19:27Z
    "3.2": Minor("3.2.2", "2026-05-30T00:00:00Z", "3.12"),  # uploaded 2026-05-29T05:19Z
    "3.3": Minor("3.3.2", "2026-09-18T00:00:00Z", "3.13"),  # uploaded 2026-09-17T08:38Z
}


def constraints_file(minor: str) -> Path:
    return CONSTRAINTS_DIR / f"constraints-{minor}.txt"


# --- helpers ------------------------------------------------------------------------------------


def base_python(version: str = "3.11") -> str:
    """Python ``version`` (3.11 builds the wheel): the one running this script, a ``python3.X`` on
    PATH that runs, or pyenv's (``pyenv prefix 3.X``, installed but not on PATH)."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    if shutil.which("pyenv"):
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True).stdout.strip()
        candidates.append(str(Path(prefix) / "bin" / f"python{version}") if prefix else None)
    for found in filter(None, candidates):
        # A pyenv shim is on PATH for every version pyenv has, but runs only the selected ones.
        probe = [found, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        if subprocess.run(probe, capture_output=True, text=True).stdout.strip() == version:
            return found
    raise SystemExit(f"make compat needs Python {version} (python{version} on PATH, or pyenv's)")


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def run(cmd: list[str], log: Path, env: dict[str, str] | None = None, timeout: float = 900) -> int:
    """Run ``cmd`` with its output appended to ``log``; returns the exit status.

    The command gets its own process group, killed whole on a timeout or an interrupt, so nothing
    it started (an Airflow task, a trigger) outlives the run.
    """
    import signal

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,
        )  # fmt: skip
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            out.write(f"\n!! timed out after {timeout:.0f} s\n")
            return 124
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def tail(log: Path, lines: int = 25) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def tools_pip(python: str = "3.11") -> list[str]:
    """A pip of the pinned version on Python ``python`` (``build/compat/_tools``, ``_tools-3.X`` for
    another Python), for building the wheel and for resolving a minor's pins on its own Python."""
    tools = WORK / ("_tools" if python == "3.11" else f"_tools-{python}")
    pip = tools / "bin" / "pip"
    marker = tools / ".pip"
    if not (pip.exists() and marker.exists() and marker.read_text() == PIP_PIN):
        shutil.rmtree(tools, ignore_errors=True)
        subprocess.run([base_python(python), "-m", "venv", str(tools)], check=True)
        subprocess.run([str(pip), "install", "-q", PIP_PIN], check=True)
        marker.write_text(PIP_PIN)
    return [str(pip)]


# --- constraints --------------------------------------------------------------------------------


def pypi_only_env() -> dict[str, str]:
    """pip settings that see PyPI alone: no config files, no local indexes or find-links."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k == "PIP_CERT"}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_DEFAULT_TIMEOUT="180")
    return env


def resolve_command(minor: str, report: Path) -> list[str]:
    spec = MINORS[minor]
    return [
        *tools_pip(spec.python), "install", "--dry-run", "--ignore-installed", "--quiet",
        "--report", str(report),
        "--index-url", PYPI, "--uploaded-prior-to", spec.uploaded_prior_to,
        f".{EXTRAS}", f"apache-airflow=={spec.airflow}", *CHECK_REQUIREMENTS, *spec.extras,
    ]  # fmt: skip


def write_constraints(minor: str) -> None:
    """Resolve ``minor``'s pins as its users got them and write ``compat/constraints-<minor>.txt``."""
    spec = MINORS[minor]
    report = WORK / "resolve" / f"{minor}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    log = report.with_suffix(".log")
    log.unlink(missing_ok=True)
    cmd = resolve_command(minor, report)
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(cmd, cwd=REPO, env=pypi_only_env(), stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise SystemExit(f"resolving {minor} failed:\n{tail(log)}")
    installs = json.loads(report.read_text())["install"]
    pins = sorted(
        (f"{item['metadata']['name']}=={item['metadata']['version']}" for item in installs
         if item["metadata"]["name"] != DISTRIBUTION),
        key=str.lower,
    )  # fmt: skip
    header = [
        f"# Airflow {spec.airflow} as its users got it: every package uploaded to PyPI before",
        f"# {spec.uploaded_prior_to}, the day after apache-airflow {spec.airflow} was released.",
        f"# Regenerate: make compat-constraints MINORS={minor} (scripts/compat.py constraints {minor}),",
        f"# which runs {PIP_PIN} on Python {spec.python} with PyPI as the only index:",
        f"#   pip install --dry-run --ignore-installed --report - --index-url {PYPI} \\",
        f"#     --uploaded-prior-to {spec.uploaded_prior_to} '.{EXTRAS}' apache-airflow=={spec.airflow} "
        + " ".join([*CHECK_REQUIREMENTS, *spec.extras]),
    ]
    constraints_file(minor).parent.mkdir(parents=True, exist_ok=True)
    constraints_file(minor).write_text("\n".join([*header, *pins]) + "\n")
    took = time.monotonic() - started
    print(f"{constraints_file(minor).relative_to(REPO)}: {len(pins)} pins ({took:.0f} s)")


# --- the package and the virtualenvs ------------------------------------------------------------


def source_files() -> list[Path]:
    """What the wheel is built from."""
    files = [REPO / "pyproject.toml", REPO / "README.md"]
    files += sorted(
        path for path in (REPO / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )  # fmt: skip
    return files


def build_wheel() -> Path:
    """The package's wheel, rebuilt only when its sources change (in a copy: no stale build/lib)."""
    key = digest(*(f"{path.relative_to(REPO)}".encode() + path.read_bytes() for path in source_files()))
    dist = WORK / "dist" / key
    wheels = list(dist.glob("*.whl"))
    if wheels:
        return wheels[0]
    shutil.rmtree(WORK / "dist", ignore_errors=True)
    dist.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="wa-phones-wheel-") as tmp:
        for path in source_files():
            target = Path(tmp) / path.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        log = WORK / "dist" / "build.log"
        if run([*tools_pip(), "wheel", "--no-deps", "-w", str(dist), tmp], log) != 0:
            raise SystemExit(f"building the wheel failed:\n{tail(log)}")
    return next(dist.glob("*.whl"))


@dataclass
class Venv:
    minor: str
    path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.path = WORK / self.minor

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    @property
    def pip(self) -> list[str]:
        return [self.python, "-m", "pip"]

    def inputs(self) -> str:
        """What the installed dependencies depend on; a change rebuilds the virtualenv."""
        version = subprocess.run(
            [base_python(MINORS[self.minor].python), "-c", "import sys; print(sys.version)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pins = [
            line for line in constraints_file(self.minor).read_text().splitlines() if not line.startswith("#")
        ]
        return digest(PIP_PIN, version, *pins, *MINORS[self.minor].extras)

    def ensure(self, wheel: Path, log: Path) -> str:
        """Create or reuse the virtualenv, install ``wheel`` into it; returns how, raises on failure."""
        stamp, installed = self.path / ".inputs", self.path / ".wheel"
        inputs = self.inputs()
        how = "reused"
        if not (Path(self.python).exists() and stamp.exists() and stamp.read_text() == inputs):
            how = "built"
            shutil.rmtree(self.path, ignore_errors=True)
            steps = [
                [base_python(MINORS[self.minor].python), "-m", "venv", str(self.path)],
                [*self.pip, "install", "-q", PIP_PIN],
            ]
            for step in steps:
                if run(step, log) != 0:
                    raise CheckFailed(f"{' '.join(step[-3:])} failed", log)
            installed.unlink(missing_ok=True)
        if not installed.exists() or installed.read_text() != wheel.name + wheel.parent.name:
            if how == "reused":
                how = "reused, package reinstalled"
            # Uninstall first: the version number does not change between builds.
            run([*self.pip, "uninstall", "-q", "-y", DISTRIBUTION], log)
            extras = [*CHECK_REQUIREMENTS, *MINORS[self.minor].extras]
            package = f"{wheel}{EXTRAS}"
            cmd = [*self.pip, "install", "-q", "-c", str(constraints_file(self.minor)), package, *extras]
            if run(cmd, log) != 0:
                raise CheckFailed("pip install -c constraints failed", log)
            if run([*self.pip, "check"], log) != 0:
                raise CheckFailed("pip check found broken requirements", log)
            installed.write_text(wheel.name + wheel.parent.name)
        stamp.write_text(inputs)
        return how


class CheckFailed(Exception):
    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log


# --- the checks, run inside each virtualenv (python scripts/compat.py inside-<check>) ------------


def facts(**data: Any) -> int:
    """The last line a check prints: what it observed, for the orchestrator to hand to pytest
    (``tests/compat/test_airflow_minor.py`` judges it)."""
    print(json.dumps({"facts": data}, default=str), flush=True)
    return 0


def inside_imports() -> int:
    """Import every module of the package; count the deprecation warnings it causes itself."""
    import importlib
    import pkgutil
    import warnings

    started = time.monotonic()
    warnings.simplefilter("always")
    failures: dict[str, str] = {}
    names: list[str] = [PACKAGE]
    with warnings.catch_warnings(record=True) as caught:
        package = importlib.import_module(PACKAGE)
        for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.", onerror=lambda name: None):
            names.append(info.name)
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                failures[info.name] = f"{type(exc).__name__}: {exc}"
    root = str(Path(package.__file__).parent)
    ours = sorted({f"{w.category.__name__}: {w.message}" for w in caught if w.filename.startswith(root)})
    took = time.monotonic() - started
    return facts(modules=len(names), failures=failures, warnings=ours, seconds=round(took, 1))


def inside_provider() -> int:
    """ProvidersManager sees the provider and maps both connection types to their hooks."""
    import warnings

    warnings.simplefilter("ignore")  # 3.2+: ProvidersManager.hooks is deprecated for task code
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    provider = manager.providers.get(DISTRIBUTION)
    if provider is None:
        return facts(providers=len(manager.providers), version=None, hooks={})
    hooks: dict[str, dict[str, Any] | None] = {}
    for conn_type in CONN_TYPES:
        info = manager.hooks.get(conn_type)
        hooks[conn_type] = (
            None
            if info is None
            else {"class": info.hook_class_name, "testable": bool(info.connection_testable)}
        )
    return facts(providers=len(manager.providers), version=provider.version, hooks=hooks)


def inside_forms() -> int:
    """The connection forms as this version's UI gets them (``GET /ui/connections/hook_meta``)."""
    import warnings

    warnings.simplefilter("ignore")
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    from airflow_provider_wa_phones import _compat
    from airflow_provider_wa_phones.get_provider_info import get_provider_info

    calls: list[str] = []  # does this version call the hook classmethods (before 3.2) or not?
    legacy = _compat.legacy_connection_form_widgets

    def counting(conn_type: str) -> dict[str, Any]:
        calls.append(conn_type)
        return legacy(conn_type)

    _compat.legacy_connection_form_widgets = counting  # type: ignore[assignment]
    try:
        metas = {
            meta.connection_type: meta.model_dump(mode="json") for meta in HookMetaService.hook_meta_data()
        }
    finally:
        _compat.legacy_connection_form_widgets = legacy  # type: ignore[assignment]
    source = "hook classmethods" if calls else "provider info"
    return facts(source=source, specs=get_provider_info()["connection-types"], metas=metas)


def inside_http() -> int:
    """The ``http`` extra: the README's "Any other endpoint" against the sandbox, in this process
    (as ``tests/integration/test_http_provider.py``): ``HttpHook`` with ``auth_type=NxCloudAuth``,
    ``HttpOperator`` signing with SHA-256, ``HttpSensor`` with ``CamsAuth.from_connection`` (an STS
    connection read through ``_compat.BaseHook``). The sandbox checks every signature itself."""
    import functools
    import warnings

    warnings.simplefilter("ignore")
    from airflow.providers.http.hooks.http import HttpHook
    from airflow.providers.http.operators.http import HttpOperator
    from airflow.providers.http.sensors.http import HttpSensor

    from airflow_provider_wa_phones.auth import CamsAuth, NxCloudAuth
    from airflow_provider_wa_phones.sandbox import SandboxServer, data

    nx_headers = {"Content-Type": "application/json", "bizType": "2"}
    cams_headers = {"x-acs-action": "QueryChatappPhoneNumbers", "x-acs-version": "2020-06-06"}
    calls: dict[str, dict[str, Any]] = {}
    with SandboxServer(time_scale=0) as sandbox:
        cams = sandbox.connections()["alibaba_cams_default"]
        cams |= {"login": data.CAMS_STS_ACCESS_KEY_ID, "password": data.CAMS_STS_ACCESS_KEY_SECRET}
        cams["extra"] = cams["extra"] | {"security_token": data.CAMS_STS_SECURITY_TOKEN}
        connections = {
            "nxcloud_http": {"conn_type": "http", "host": sandbox.url, "login": data.NXCLOUD_ACCESS_KEY,
                             "password": data.NXCLOUD_ACCESS_SECRET},
            "cams_host": {"conn_type": "http", "host": sandbox.url},
            "cams_sts": cams,
        }  # fmt: skip
        for conn_id, connection in connections.items():
            os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(connection)
        body = json.dumps({"appkey": data.NXCLOUD_APPKEY, "messaging_product": "whatsapp"})

        def hook_run() -> dict[str, Any]:
            hook = HttpHook(method="POST", http_conn_id="nxcloud_http", auth_type=NxCloudAuth)
            answer = hook.run("/api/wa/getPhone", data=body, headers={**nx_headers, "action": "getPhone"})
            return {"code": answer.json().get("code")}

        def operator_sha256() -> dict[str, Any]:
            operator = HttpOperator(
                task_id="phone_list", http_conn_id="nxcloud_http", method="POST",
                endpoint="/api/wa/integrator/embedded/register/phoneList",
                data=json.dumps({"appkey": data.NXCLOUD_APPKEY}),
                headers={**nx_headers, "action": "phoneList"},
                auth_type=functools.partial(NxCloudAuth, algorithm="sha256"),
                response_filter=lambda response: response.json(),
            )  # fmt: skip
            answer = operator.execute({})  # type: ignore[arg-type]
            signed = [r.headers.get("algorithm") for r in sandbox.requests() if r.path.endswith("phoneList")]
            return {"code": answer.get("code"), "signed": signed}

        def sensor_from_connection() -> dict[str, Any]:
            sensor = HttpSensor(
                task_id="cams_connected", http_conn_id="cams_host", method="POST",
                endpoint=f"/?Status=CONNECTED&CustSpaceId={data.CAMS_SPACE_ID}", headers=cams_headers,
                request_kwargs={"auth": CamsAuth.from_connection("cams_sts")},
                response_check=lambda response: response.json().get("Code") == "OK",
            )  # fmt: skip
            done = sensor.poke({})  # type: ignore[arg-type]
            # Whether each request carried the STS token (the token itself stays out of the record).
            tokens = [r.headers.get("x-acs-security-token") for r in sandbox.requests()]
            return {
                "done": done,
                "sts_token_sent": [token == data.CAMS_STS_SECURITY_TOKEN for token in tokens],
            }

        for name, call in (("HttpHook.run", hook_run), ("HttpOperator sha256", operator_sha256),
                           ("HttpSensor from_connection", sensor_from_connection)):  # fmt: skip
            sandbox.clear_requests()
            try:
                calls[name] = call()
            except Exception as exc:
                calls[name] = {"error": f"{type(exc).__name__}: {str(exc)[:160]}"}
    import airflow.providers.http

    return facts(version=getattr(airflow.providers.http, "__version__", "?"), calls=calls)


class DeferralDriver:
    """Makes every deferrable wait of a DAG run really defer, whatever the machine's speed.

    The sandbox's clock stands still (``time_scale=0``), so a sensor's first poke in the worker
    always finds the number PENDING or the results missing, and the sensor has to defer. When
    Airflow records a task as deferred, the clock jumps an hour, so the trigger's next poll finds the
    outcome. With ``rewind``, the clock goes back to the start as soon as the sandbox has answered a
    request that arrived after the jump (``dags test`` runs one thing at a time: that is the
    trigger's poll), so the next wait has to defer too. Deferrals are read from the metadata
    database, not guessed from the package's requests.
    """

    def __init__(self, sandbox: Any, database: Path, dag_id: str, rewind: bool) -> None:
        import threading

        self.sandbox, self.database, self.dag_id, self.rewind = sandbox, database, dag_id, rewind
        self.deferred: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="deferral-driver", daemon=True)

    def __enter__(self) -> DeferralDriver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _watch(self) -> None:
        import sqlite3

        waiting: set[str] = set()
        jumped_at: float | None = None
        clock = self.sandbox.state.clock
        while not self._stop.wait(0.05):
            if jumped_at is not None and any(r.server_time > jumped_at for r in self.sandbox.requests()):
                clock.reset()  # the trigger has seen the outcome
                jumped_at = None
            try:
                with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=0.5) as db:
                    # Deferred: handed to a trigger and not finished (`dags test` may show "queued").
                    now = {
                        task for (task,) in db.execute(
                            "SELECT task_id FROM task_instance WHERE dag_id = ? AND (state = 'deferred'"
                            " OR (trigger_id IS NOT NULL AND state NOT IN ('success', 'failed', 'skipped')))",
                            (self.dag_id,),
                        )
                    }  # fmt: skip
            except sqlite3.Error:
                continue  # not created yet, or locked for a moment by a writer
            if now - waiting:
                self.deferred |= now - waiting
                self.sandbox.advance(3600)
                if self.rewind:
                    jumped_at = clock.wall_time()
            waiting = now


def inside_dags(work: str) -> int:
    """Run the example DAGs with ``airflow dags test`` against the sandbox, then the triggerer check;
    what Airflow recorded of each run."""
    import sqlite3

    from airflow_provider_wa_phones.sandbox import SandboxServer

    run_dir = Path(work)
    home, reports = run_dir / "airflow-home", run_dir / "reports"
    reports.mkdir(parents=True)
    database = home / "airflow.db"
    airflow = str(Path(sys.executable).with_name("airflow"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        WA_PHONES_REPORT_DIR=str(reports),
    )
    results: dict[str, dict[str, Any]] = {}
    # 127.0.0.1, a free port, stopped on exit; its STS plays RRSA for the CAMS connection.
    with SandboxServer(time_scale=0, sts=True) as sandbox:
        env.update(sandbox.airflow_env())
        token_file = run_dir / "rrsa-token"
        env.update(keyless_env(sandbox, env, token_file))
        started = time.monotonic()
        log = run_dir / "db-migrate.log"
        if run([airflow, "db", "migrate"], log, env, timeout=300) != 0:
            return facts(migrate_error=error_hint(log), dags={})
        migrate = time.monotonic() - started
        for dag_id in DAGS:
            sandbox.reset()
            token_file.write_text(sandbox.issue_oidc_token(lifetime=3600))  # a reset forgets tokens
            started = time.monotonic()
            log = run_dir / f"{dag_id}.log"
            with DeferralDriver(sandbox, database, dag_id, rewind=DEFERRALS.get(dag_id, 0) > 1):
                status = run([airflow, "dags", "test", dag_id], log, env, timeout=600)
            took = time.monotonic() - started
            with sqlite3.connect(database) as db:
                row = db.execute(
                    "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
                ).fetchone()
                run_id = row[0] if row else ""
                tasks = dict(
                    db.execute(
                        "SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
                        (dag_id, run_id),
                    )
                )
                # What Airflow itself recorded: the deferred tasks and their triggers' classes.
                triggers = dict(
                    db.execute(
                        "SELECT ti.task_id, t.classpath FROM task_instance ti JOIN trigger t"
                        " ON ti.trigger_id = t.id WHERE ti.dag_id = ? AND ti.run_id = ?",
                        (dag_id, run_id),
                    )
                )
                deferred = {
                    task for (task,) in db.execute(
                        "SELECT task_id FROM log WHERE event = 'deferred' AND dag_id = ? AND run_id = ?",
                        (dag_id, run_id),
                    )
                } | set(triggers)  # fmt: skip
            results[dag_id] = {
                "exit": status,
                "run": row[1] if row else None,
                "tasks": tasks,
                "deferred": sorted(deferred),
                "triggers": triggers,
                "reports": len(list(reports.glob(REPORTS[dag_id]))),
                "seconds": round(took, 1),
                "log": str(log),
                "hint": error_hint(log),
                "keys": key_tally(sandbox),
            }
        started = time.monotonic()
        triggerer = triggerer_check(sandbox, env, run_dir, database)
        triggerer["seconds"] = round(time.monotonic() - started, 1)
        triggerer["keys"] = key_tally(sandbox)
    return facts(migrate_seconds=round(migrate, 1), dags=results, triggerer=triggerer)


def keyless_env(sandbox: Any, env: dict[str, str], token_file: Path) -> dict[str, str]:
    """The CAMS connection without keys, ``auth_type=oidc_role_arn`` (RRSA as ACK sets it up: the
    role, provider and token file in the environment), its STS the sandbox's, whose CA is trusted."""
    from airflow_provider_wa_phones.sandbox import data

    name = "AIRFLOW_CONN_ALIBABA_CAMS_DEFAULT"
    conn = json.loads(env[name])
    conn.pop("login", None)
    conn.pop("password", None)
    conn["extra"] = {
        **conn.get("extra", {}),
        "auth_type": "oidc_role_arn",
        "sts_endpoint": sandbox.sts_endpoint,
    }
    return {
        name: json.dumps(conn),
        "SSL_CERT_FILE": sandbox.ca_file,
        "ALIBABA_CLOUD_ROLE_ARN": data.STS_OIDC_ROLE_ARN,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": data.STS_OIDC_PROVIDER_ARN,
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file),
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
    }


def key_tally(sandbox: Any) -> dict[str, Any]:
    """The keys the CAMS calls the sandbox saw since its last reset carried."""
    cams = [r for r in sandbox.requests() if r.headers.get("x-acs-action")]
    keys = [r.headers.get("authorization", "").partition("Credential=")[2].partition(",")[0] for r in cams]
    return {
        "oidc calls": sandbox.request_count(action="AssumeRoleWithOIDC"),
        "cams calls": len(cams),
        "with temporary keys": sum(key.startswith("STS.") for key in keys),
        "refused for the token": sorted({str(r.code) for r in cams if "SecurityToken" in str(r.code)}),
    }


# The sensors in poke and reschedule mode (the example DAGs cover deferrable): the suite's DAG file,
# each DAG with ``dag.test()`` in one process; the sandbox clock jumps once the sensor has looked.
MODES_DAG_FILE = REPO / "tests" / "dags" / "dag_files" / "sensor_modes.py"
MODE_RUNS = {  # dag_id: (seconds to jump, request path or CAMS action that counts as a look)
    "nxcloud_phone_poke": (6, "/api/wa/getPhone"),
    "nxcloud_phone_reschedule": (6, "/api/wa/getPhone"),
    "cams_phone_poke": (6, "QueryChatappPhoneNumbers"),
    "cams_phone_reschedule": (6, "QueryChatappPhoneNumbers"),
    "number_check_poke": (10, "/api/number/query"),
    "number_check_reschedule": (10, "/api/number/query"),
}


def inside_modes(home: str) -> int:
    """Every sensor in poke and reschedule mode, with ``dag.test()`` on the database ``home`` holds.

    The sandbox's clock stands still until the sensor's first request, then jumps past the change,
    so each sensor has to look at least twice: a poke that waited, or a reschedule that came back.
    """
    import importlib.util
    import threading

    os.environ["AIRFLOW_HOME"] = home
    # 3.1's dag.test() serialises the DAG by parsing the DAGs folder: it must hold the file.
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(MODES_DAG_FILE.parent)
    out = Path(home).parent / "modes"
    out.mkdir(exist_ok=True)
    os.environ["WA_PHONES_TEST_OUT"] = str(out)

    from airflow_provider_wa_phones.sandbox import SandboxServer

    results: dict[str, dict[str, Any]] = {}
    with SandboxServer(time_scale=0) as sandbox:
        os.environ.update(sandbox.airflow_env())
        spec = importlib.util.spec_from_file_location("wa_phones_sensor_modes", MODES_DAG_FILE)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for dag_id, (seconds, look) in MODE_RUNS.items():
            sandbox.reset()
            sandbox.clear_requests()
            by = {"action": look} if look.isalpha() else {"path": look}
            done = threading.Event()

            def jump(by: dict[str, str] = by, seconds: float = seconds, done: threading.Event = done) -> None:
                deadline = time.monotonic() + 120
                while not done.is_set() and time.monotonic() < deadline:
                    if sandbox.request_count(**by):
                        sandbox.advance(seconds)
                        return
                    done.wait(0.02)

            watcher = threading.Thread(target=jump, daemon=True)
            watcher.start()
            started = time.monotonic()
            try:
                dag_run = getattr(module, dag_id).test()
                states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
                error = ""
            except Exception as exc:
                states, error = {}, f"{type(exc).__name__}: {str(exc)[:160]}"
            finally:
                done.set()
                watcher.join(5)
            results[dag_id] = {
                "error": error,
                "states": {task: None if state is None else str(getattr(state, "value", state))
                           for task, state in states.items()},
                "looks": sandbox.request_count(**by),
                "xcom": (out / f"{dag_id}.json").exists(),
                "seconds": round(time.monotonic() - started, 1),
            }  # fmt: skip
    return facts(modes=results)


# The quality_alert example: an asset with watchers. A scheduled run needs a scheduler and a
# triggerer (make e2e); here, as in tests/dags/test_quality_alert.py, the DAG's own watcher triggers
# run until the sandbox turns two numbers RED and BANNED, and the run replays them from its conf.
QUALITY_ALERT_CHANGES = [  # (service, number, field, old, new): what the sandbox's timeline does
    ("alibaba_cams", "6281299990000", "quality_rating", "GREEN", "RED"),
    ("alibaba_cams", "6281299990000", "status", "CONNECTED", "BANNED"),
    ("nxcloud", "5511987654321", "quality_rating", "GREEN", "RED"),
    ("nxcloud", "5511987654321", "status", "CONNECTED", "BANNED"),
]
SHARED_NOTICE = "Shared trigger streams: needs Airflow 3.3"
STATE_NOTICE = "Trigger state: needs Airflow 3.3"


def inside_watch(home: str) -> int:
    """The quality_alert DAG's watchers on this version, then the DAG with their changes.

    Before 3.3 each watcher must poll on its own and say so in its log (no shared streams, no
    trigger state); on 3.3 it must say nothing of the kind.
    """
    import asyncio
    import importlib.util
    import io
    import logging

    os.environ["AIRFLOW_HOME"] = home
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "example_dags")  # as in inside_modes
    reports = Path(home).parent / "watch-reports"
    os.environ.update(WA_PHONES_REPORT_DIR=str(reports), WA_PHONES_WATCH_INTERVAL="0.05")

    from airflow_provider_wa_phones import _compat
    from airflow_provider_wa_phones.sandbox import SandboxServer

    started = time.monotonic()
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    with SandboxServer(time_scale=0) as sandbox:
        os.environ.update(sandbox.airflow_env())
        path = REPO / "example_dags" / "example_quality_alert.py"
        spec = importlib.util.spec_from_file_location("wa_phones_example_quality_alert", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        asset = module.SENDER_INCIDENTS
        dag = module.quality_alert()  # the file calls the @dag function without keeping the DAG
        if dag.dag_id != "quality_alert":
            return facts(error=f"found DAG {dag.dag_id!r}, not quality_alert")

        async def watch() -> list[dict[str, Any]]:
            changes: list[dict[str, Any]] = []

            async def one(trigger: Any) -> None:
                async for event in trigger.run():
                    changes.append(json.loads(json.dumps(event.payload)))

            tasks = [asyncio.create_task(one(watcher.trigger)) for watcher in asset.watchers]
            try:
                deadline = time.monotonic() + 60
                while sandbox.request_count() < 4:  # a baseline look by each watcher, and more
                    if time.monotonic() > deadline or any(task.done() for task in tasks):
                        break
                    await asyncio.sleep(0.01)
                if changes:
                    raise AssertionError(f"the baseline fired {len(changes)} events")
                sandbox.advance(10)
                while len(changes) < len(QUALITY_ALERT_CHANGES) and time.monotonic() < deadline:
                    if any(task.done() for task in tasks):
                        break
                    await asyncio.sleep(0.01)
            finally:
                for task in tasks:
                    task.cancel()
                failed = await asyncio.gather(*tasks, return_exceptions=True)
            errors = [
                f for f in failed if isinstance(f, Exception) and not isinstance(f, asyncio.CancelledError)
            ]
            if errors:
                raise errors[0]
            return changes

        # The triggers log through logging or structlog (to stdout or stderr, by version): read
        # both file descriptors while they run.
        log_file = Path(home).parent / "watch-triggers.log"
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        with log_file.open("w+") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                changes = asyncio.run(watch())
            except Exception as exc:
                changes, error = [], f"watchers: {type(exc).__name__}: {str(exc)[:200]}"
            else:
                error = ""
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
        if error:
            return facts(error=error)
        # What this version lacks must be announced, and only where it is lacking.
        logged = captured.getvalue() + log_file.read_text(errors="replace")
        streams, state = _compat.shared_trigger_streams_supported(), _compat.trigger_state_supported()
        reserialize_failed = False
        if _compat.airflow_version() < (3, 1):
            # 3.0's dag.test() never writes the DAG to the database, so the asset in the task's
            # inlets is unknown and the task is refused as using an inactive asset. In a deployment
            # the dag-processor registers it; do what it does first.
            airflow = str(Path(sys.executable).with_name("airflow"))
            reserialize = run(
                [airflow, "dags", "reserialize"], Path(home).parent / "reserialize.log", timeout=300
            )
            reserialize_failed = reserialize != 0
        try:
            dag_run = dag.test(logical_date=None, run_conf={"changes": changes})
            run_state = str(getattr(dag_run.state, "value", dag_run.state))
        except Exception as exc:
            run_state = f"{type(exc).__name__}: {str(exc)[:160]}"
        incidents = list(reports.glob("incidents-*.jsonl"))
        written = [json.loads(line) for f in incidents for line in f.read_text().splitlines()]
    return facts(
        error="",
        changes=changes,  # as the watchers fired them, in order
        features={"streams": streams, "state": state},
        logged={notice: notice in logged for notice in (SHARED_NOTICE, STATE_NOTICE)},
        reserialize_failed=reserialize_failed,
        run=run_state,
        incident_files=len(incidents),
        written=written,  # every incident line, in order
        seconds=round(time.monotonic() - started, 1),
    )


PROBE_MODULE = "wa_phones_compat_probe"
PROBE_SOURCE = '''"""Written by scripts/compat.py: a trigger that reads a connection as the provider's do."""

from airflow.triggers.base import BaseTrigger, TriggerEvent


class CompatProbeTrigger(BaseTrigger):
    def __init__(self, conn_id):
        super().__init__()
        self.conn_id = conn_id

    def serialize(self):
        return ("wa_phones_compat_probe.CompatProbeTrigger", {"conn_id": self.conn_id})

    async def run(self):
        from airflow_provider_wa_phones._compat import BaseHook, amask_secret

        conn = await BaseHook.aget_connection(self.conn_id)
        extra = conn.extra_dejson  # Airflow 3.0 masks the extras here: must not fail in the loop
        await amask_secret(conn.password)
        self.log.info("compat probe: password=%s extra=%s", conn.password, sorted(extra))
        yield TriggerEvent({"status": "success", "message": "compat probe"})
'''


def _secrets_in(texts: list[str], sandbox: Any) -> set[str]:
    """The sandbox's credentials (STS token included) and every signature it received that occur in
    ``texts``: the suite's own detector, ``tests/secrets.py``, loaded from its file so the installed
    wheel, not the checkout, stays the package under test."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("wa_phones_test_secrets", REPO / "tests" / "secrets.py")
    assert spec is not None and spec.loader is not None
    detector = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(detector)
    signatures = detector.signatures_seen(sandbox)
    return {found for text in texts for found in detector.find_secrets(text, signatures)}


def triggerer_check(sandbox: Any, env: dict[str, str], run_dir: Path, database: Path) -> dict[str, Any]:
    """The provider's triggers in a real ``airflow triggerer`` (``dags test`` runs them in-process).

    The triggerer runs triggers in a subprocess that talks to its supervisor over an async channel:
    reading a connection or masking a secret there is what differs most between versions. This
    re-arms the triggers the DAG runs left (their tasks back to deferred), adds a probe that reads a
    connection and masks its password through ``_compat``, runs the triggerer until every task has
    its event, and records each event, the probe's log lines and whether the logs hold a secret.
    """
    import signal
    import sqlite3

    probe_dir = run_dir / "probe"
    probe_dir.mkdir()
    (probe_dir / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
    arm_log, log = run_dir / "triggerer-arm.log", run_dir / "triggerer.log"
    if run([sys.executable, str(Path(__file__).resolve()), "inside", "arm"], arm_log, env, timeout=120) != 0:
        return {"arm_error": error_hint(arm_log), "log": str(arm_log)}
    with sqlite3.connect(database) as db:
        armed = dict(
            db.execute(
                "SELECT ti.dag_id || '.' || ti.task_id, t.classpath FROM task_instance ti"
                " JOIN trigger t ON ti.trigger_id = t.id WHERE ti.state = 'deferred'"
            )
        )
    airflow = str(Path(sys.executable).with_name("airflow"))
    with log.open("w") as out:
        process = subprocess.Popen(
            [airflow, "triggerer", "--skip-serve-logs"], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**env, "PYTHONPATH": str(probe_dir)}, start_new_session=True,
        )  # fmt: skip
    events: dict[str, str] = {}
    placeholders = ",".join("?" * len(armed))
    try:
        deadline = time.monotonic() + 120
        watched: set[str] = set()
        while time.monotonic() < deadline and process.poll() is None:
            if len(events) == len(armed) and watched == {"nxcloud", "alibaba_cams"}:
                break
            time.sleep(1)
            with sqlite3.connect(database, timeout=5) as db:
                rows = db.execute(
                    "SELECT dag_id || '.' || task_id, state, next_kwargs FROM task_instance"
                    f" WHERE dag_id || '.' || task_id IN ({placeholders})",
                    list(armed),
                ).fetchall()
                extras = db.execute(
                    "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ?",
                    (WATCH_ASSET,),
                ).fetchall()
            events = {key: event_status(kwargs) for key, state, kwargs in rows if state != "deferred"}
            watched = {asset_event_service(extra) for (extra,) in extras} - {None}
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    logs = [log, *(path for path in (Path(env["AIRFLOW_HOME"]) / "logs").rglob("*") if path.is_file())]
    texts = [path.read_text(errors="replace") for path in logs]
    probe_lines = [line for text in texts for line in text.splitlines() if "compat probe: password=" in line]
    streams = Path(env["AIRFLOW_HOME"]).parent / "triggerer-features.txt"
    features = [flag == "1" for flag in streams.read_text().split()] if streams.exists() else None
    return {
        "armed": armed,
        "events": events,
        "watched": sorted(watched),
        "probe_lines": len(probe_lines),
        "probe_masked": sum("password=***" in line for line in probe_lines),
        # [shared streams, trigger state] as arm found them in this Airflow
        "features": features,
        "logged": {notice: any(notice in text for text in texts) for notice in (SHARED_NOTICE, STATE_NOTICE)},
        "leaked": len(_secrets_in(texts, sandbox)),
        "log": str(log),
    }


def asset_event_service(extra: str | None) -> str | None:
    """The ``service`` of the watcher change an asset event carries (``extra.payload``)."""
    try:
        value = json.loads(extra or "null")
    except ValueError:
        return None
    payload = value.get("payload") if isinstance(value, dict) else None
    return payload.get("service") if isinstance(payload, dict) else None


def event_status(next_kwargs: str | None) -> str:
    """``status`` (and ``message`` unless a success) of the trigger event a task resumes with."""

    def find(value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict):
            if isinstance(value.get("status"), str):
                return value
            return next((found for item in value.values() if (found := find(item))), None)
        return None

    try:
        event = find(json.loads(next_kwargs or "null"))
    except ValueError:
        return "unreadable event"
    if event is None:
        return "no status"
    if event["status"] == "success":
        return "success"
    message = event.get("message")
    return f"{event['status']}: {message.get('__var', message) if isinstance(message, dict) else message}"


def inside_arm() -> int:
    """Put the tasks the DAG runs deferred back to deferred, and add the probe on one more task."""
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import text

    with create_session() as session:
        rearmed = session.execute(
            text(
                "UPDATE task_instance SET state = 'deferred', next_method = 'execute_complete',"
                " next_kwargs = NULL WHERE trigger_id IS NOT NULL"
            )
        ).rowcount
        probe = Trigger(classpath=f"{PROBE_MODULE}.CompatProbeTrigger", kwargs={"conn_id": "nxcloud_default"})
        session.add(probe)
        session.flush()
        session.execute(
            text(
                "UPDATE task_instance SET state = 'deferred', trigger_id = :trigger,"
                " next_method = 'execute_complete' WHERE dag_id = :dag AND task_id = :task"
            ),
            {"trigger": probe.id, "dag": "phone_health", "task": "cams_phone_numbers"},
        )
        watchers = arm_watchers(session)
    from airflow_provider_wa_phones import _compat

    features = (_compat.shared_trigger_streams_supported(), _compat.trigger_state_supported())
    home = Path(os.environ["AIRFLOW_HOME"])
    (home.parent / "triggerer-features.txt").write_text(" ".join(str(int(flag)) for flag in features))
    print(f"re-armed {rearmed} tasks, probe trigger {probe.id}, watcher triggers {watchers}")
    return 0


WATCH_ASSET = "wa-phones-compat-watch"


def arm_watchers(session: Any) -> list[int]:
    """An asset watched by an NxCloud and a CAMS phone watcher (``fire_on_first``: every number's
    status fires at the first look), as the dag-processor registers ``AssetWatcher`` triggers."""
    from airflow.models.asset import AssetModel
    from airflow.models.trigger import Trigger

    from airflow_provider_wa_phones.triggers.cams import CamsPhoneWatchTrigger
    from airflow_provider_wa_phones.triggers.nxcloud import NxCloudPhoneWatchTrigger

    asset = AssetModel(name=WATCH_ASSET, uri=WATCH_ASSET, group="asset")
    session.add(asset)
    ids = []
    for name, watch in (
        ("nxcloud", NxCloudPhoneWatchTrigger(fields=["status"], fire_on_first=True, poke_interval=1)),
        ("cams", CamsPhoneWatchTrigger(fields=["status"], fire_on_first=True, poke_interval=1)),
    ):
        trigger = Trigger.from_object(watch)
        session.add(trigger)
        try:  # 3.2 and later: a named AssetWatcherModel between the two
            from airflow.models.asset import AssetWatcherModel
        except ImportError:  # 3.0, 3.1: a plain association
            trigger.assets.append(asset)
        else:
            session.add(AssetWatcherModel(name=f"compat_{name}", asset=asset, trigger=trigger))
        session.flush()
        ids.append(trigger.id)
    return ids


def error_hint(log: Path) -> str:
    """The most telling error line of an Airflow log."""
    lines = log.read_text(errors="replace").splitlines()
    for needle in ("Error:", "Exception:", "error", "failed"):
        for line in reversed(lines):
            if needle in line and "INFO" not in line:
                return line.strip()[-240:]
    return f"see {log}"


# --- the run: one row per minor -----------------------------------------------------------------

COLUMNS = (
    "install",
    "imports",
    "provider",
    "forms",
    "http",
    *DAGS,
    "triggerer",
    "keyless",
    "modes",
    "quality_alert",
)


# The checks' Python: the project's own virtualenv (make compat creates it), which has pytest.
CHECKS_PYTHON = REPO / ".venv" / "bin" / "python"
CHECKS = REPO / "tests" / "compat" / "test_airflow_minor.py"
FACTS_ENV, VERDICTS_ENV = "WA_PHONES_COMPAT_FACTS", "WA_PHONES_VERDICTS"


@dataclass
class Row:
    minor: str
    results: dict[str, tuple[bool, str]] = field(default_factory=dict)
    seconds: float = 0.0
    # pytest's exit status, and the tests that failed without a verdict (a crash), with its message
    status: int = 0
    crashed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        complete = len(self.results) == len(COLUMNS) and not self.crashed and self.status == 0
        return complete and all(ok for ok, _ in self.results.values())


def inside(venv: Venv, check: str, run_dir: Path, *args: str) -> dict[str, Any]:
    """Run ``check`` with the virtualenv's Python; its last JSON line is what it observed."""
    log = run_dir / f"check-{check}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(run_dir / "airflow-home"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    cmd = [venv.python, str(Path(__file__).resolve()), "inside", check, *args]
    with log.open("w") as err:
        result = subprocess.run(
            cmd, cwd=run_dir, env=env, stdout=subprocess.PIPE, stderr=err, text=True, timeout=1800
        )  # fmt: skip
    with log.open("a") as out:
        out.write(result.stdout)
    for line in reversed(result.stdout.splitlines()):
        if line.startswith('{"facts"'):
            answer: dict[str, Any] = json.loads(line)["facts"]
            return answer
    return {"crashed": f"exit {result.returncode}, no result: {tail(log, 3)}"}


def check_minor(minor: str, wheel: Path) -> Row:
    """Install ``minor``, run every check in its virtualenv and record what they observed in
    ``runs/<minor>/facts.json``; then ``tests/compat/test_airflow_minor.py`` judges the record."""
    row, started = Row(minor), time.monotonic()
    run_dir = WORK / "runs" / minor
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    venv = Venv(minor)
    observed: dict[str, Any] = {"minor": minor, "airflow": MINORS[minor].airflow}
    print(f"Airflow {MINORS[minor].airflow} on Python {MINORS[minor].python}: ", end="", flush=True)
    try:
        step = time.monotonic()
        how = venv.ensure(wheel, run_dir / "install.log")
        observed["install"] = {"how": how, "seconds": round(time.monotonic() - step, 1)}
    except CheckFailed as failure:
        observed["install"] = {"error": str(failure), "log": str(failure.log)}
        print("install failed", end="", flush=True)
    else:
        print("installed", end="", flush=True)
        for check in ("imports", "provider", "forms", "http"):
            observed[check] = inside(venv, check, run_dir)
            print(f", {check}", end="", flush=True)
        observed["dags"] = inside(venv, "dags", run_dir, str(run_dir / "dags"))
        print(", DAGs", end="", flush=True)
        # Poke and reschedule mode, on the database the DAG runs migrated.
        observed["modes"] = inside(venv, "modes", run_dir, str(run_dir / "dags" / "airflow-home"))
        observed["quality_alert"] = inside(venv, "watch", run_dir, str(run_dir / "dags" / "airflow-home"))
        print(", modes, quality_alert", end="", flush=True)
    judge(row, observed, run_dir)
    row.seconds = time.monotonic() - started
    print(f": {'ok' if row.ok else 'FAILED'} ({row.seconds:.0f} s)", flush=True)
    return row


def judge(row: Row, observed: dict[str, Any], run_dir: Path) -> None:
    """Run the checks (pytest, one named test per check) on the record; their verdicts fill the row.

    pytest's report (one line per check) is ``runs/<minor>/checks.log``; a check that does not
    apply (everything after a failed install) is skipped and shows as ``-``."""
    record, verdicts = run_dir / "facts.json", run_dir / "verdicts.json"
    record.write_text(json.dumps(observed, indent=1))
    python = str(CHECKS_PYTHON) if CHECKS_PYTHON.exists() else sys.executable
    env = {**os.environ, FACTS_ENV: str(record), VERDICTS_ENV: str(verdicts)}
    cmd = [python, "-m", "pytest", str(CHECKS), "-v", "-p", "no:cacheprovider", "--no-header"]
    log = run_dir / "checks.log"
    row.status = run(cmd, log, {k: v for k, v in env.items() if not k.startswith("AIRFLOW")}, timeout=300)
    if not verdicts.exists():
        row.status = row.status or 1
        row.crashed.append(("pytest", f"no verdicts: {tail(log, 3)}"))
        return
    for result in json.loads(verdicts.read_text()):
        verdict = result["verdict"]
        if result["outcome"] == "skipped":
            continue
        if verdict is None:
            row.crashed.append((result["nodeid"].rsplit("::", 1)[-1], result["message"]))
        else:
            row.results[verdict["name"]] = (
                result["outcome"] == "passed" and verdict["ok"],
                verdict["detail"],
            )
    if row.status and not row.crashed and all(ok for ok, _ in row.results.values()):
        row.crashed.append(("pytest", f"exit {row.status}: {tail(log, 3)}"))  # e.g. a collection error


def print_table(rows: list[Row]) -> None:
    header = ["Airflow", "Python", *COLUMNS, "time"]
    cells = [
        [MINORS[row.minor].airflow, MINORS[row.minor].python]
        + [("ok" if row.results[c][0] else "FAIL") if c in row.results else "-" for c in COLUMNS]
        + [f"{row.seconds:.0f} s"]
        for row in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    print()
    for line in [header, ["-" * w for w in widths], *cells]:
        print(" | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))
    print()
    for row in rows:
        for column in COLUMNS:
            if column in row.results:
                ok, detail = row.results[column]
                print(f"{MINORS[row.minor].airflow:6} {column:13} {'ok  ' if ok else 'FAIL'} {detail}")
        for test, message in row.crashed:
            print(f"{MINORS[row.minor].airflow:6} {test:13} FAIL {message}")


def run_all(minors: list[str]) -> int:
    started = time.monotonic()
    wheel = build_wheel()
    print(f"Package: {wheel.name} (build/compat/dist/{wheel.parent.name})")
    rows = [check_minor(minor, wheel) for minor in minors]
    print_table(rows)
    failed = [MINORS[row.minor].airflow for row in rows if not row.ok]
    total = time.monotonic() - started
    passed = len(rows) - len(failed)
    print(f"\n{passed}/{len(rows)} Airflow versions pass ({total:.0f} s); logs in build/compat/runs/")
    print("pytest's report of the checks per version: build/compat/runs/<minor>/checks.log")
    if failed:
        print(f"FAILED on Airflow {', '.join(failed)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/compat.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    for name, text in (
        ("run", "check the listed minors (default: all)"),
        ("constraints", "re-resolve their pins"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("minors", nargs="*", metavar="MINOR", help=f"any of {', '.join(MINORS)}")
    check = sub.add_parser("inside", help="(internal) one check, run by the virtualenv's Python")
    check.add_argument(
        "check", choices=["imports", "provider", "forms", "http", "dags", "modes", "watch", "arm"]
    )
    check.add_argument("work", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "inside":
        checks = {"imports": inside_imports, "provider": inside_provider, "forms": inside_forms}
        checks |= {"http": inside_http, "arm": inside_arm}
        if args.check in ("dags", "modes", "watch"):
            return {"dags": inside_dags, "modes": inside_modes, "watch": inside_watch}[args.check](args.work)
        return checks[args.check]()
    minors = args.minors if args.command else []
    unknown = [minor for minor in minors if minor not in MINORS]
    if unknown:
        parser.error(f"unknown minor(s) {', '.join(unknown)}; choose from {', '.join(MINORS)}")
    if args.command == "constraints":
        for minor in minors or MINORS:
            write_constraints(minor)
        return 0
    return run_all(minors or list(MINORS))


if __name__ == "__main__":
    sys.exit(main())
