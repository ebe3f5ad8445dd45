"""`make ui`: Airflow's web UI with this provider, and connections that point at the local sandbox.

Starts the sandbox and `airflow api-server` on 127.0.0.1 (a fresh AIRFLOW_HOME under build/ui/,
the simple auth manager with every visitor an admin, `[core] test_connection = Enabled`), stores
`nxcloud_default` and `alibaba_cams_default` pointing at the sandbox, prints the address, and runs
until Ctrl-C. `scripts/ui_test.py` (`make ui-test`) starts the same Airflow through `LocalAirflow`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
LOOPBACK = "127.0.0.1"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"

# Airflow 3.3.2's list-row Test button sends `port: 0` for a connection without a port, which the
# API refuses with this 400 (fixed upstream in apache/airflow#73298); both forms hide the port.
PORTLESS_TEST_BUG = "The host or port to test differs from the stored connection"


def free_port(preferred: int = 0) -> int:
    """``preferred`` if nothing listens there on the loopback address, else a free port."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port on the loopback address")


class LocalAirflow:
    """`airflow api-server` in its own process group, with a fresh home and a migrated SQLite DB.

    Use it as a context manager; :attr:`url` is the UI's address once started.
    """

    def __init__(self, work: Path, port: int = 0, startup_timeout: float = 120.0) -> None:
        self.work = work
        self.home = work / "airflow-home"
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.log_path = work / "api-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def env(self) -> dict[str, str]:
        """The environment of every airflow command: none of the caller's Airflow settings leak in."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.home / "dags"),
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                # 64 bytes, as the token signer wants, and new for every run.
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__API__WORKERS": "1",
            }
        )
        return env

    def start(self) -> LocalAirflow:
        shutil.rmtree(self.work, ignore_errors=True)
        (self.home / "dags").mkdir(parents=True)
        env = self.env()
        with (self.work / "db-migrate.log").open("wb") as log:
            subprocess.run(
                [AIRFLOW, "db", "migrate"], env=env, stdout=log, stderr=subprocess.STDOUT, check=True
            )
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [AIRFLOW, "api-server", "--host", LOOPBACK, "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends uvicorn and its workers
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"airflow api-server exited ({self._process.returncode}):\n{self.log_tail()}"
                )
            try:
                status, _ = self.request("GET", "/api/v2/monitor/health", timeout=2)
            except OSError:
                status = 0
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"airflow api-server not healthy within {self.startup_timeout:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def __enter__(self) -> LocalAirflow:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30
    ) -> tuple[int, Any]:
        """One call to the API server (all-admins mode needs no token); returns status and JSON."""
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        return status, json.loads(content) if content else None

    def add_connection(self, conn_id: str, fields: dict[str, Any]) -> None:
        """Store a connection in the metadata DB, where the UI lists it."""
        body = {"connection_id": conn_id, **fields}
        if isinstance(body.get("extra"), dict):
            body["extra"] = json.dumps(body["extra"])
        status, answer = self.request("POST", "/api/v2/connections", body)
        if status != 201:
            raise RuntimeError(f"cannot add connection {conn_id}: HTTP {status} {answer}")


def main(argv: list[str] | None = None) -> int:
    from airflow_provider_wa_phones.sandbox import SandboxServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="UI port, if free (default: %(default)s)")
    parser.add_argument("--sandbox-port", type=int, default=8765, help="sandbox port, if free")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print("Starting the sandbox and Airflow's API server (about 15 s)...", flush=True)
    with (
        SandboxServer(port=free_port(args.sandbox_port)) as sandbox,
        LocalAirflow(REPO / "build" / "ui", free_port(args.port)) as airflow,
    ):
        connections = sandbox.connections()
        for conn_id, fields in connections.items():
            airflow.add_connection(conn_id, fields)
        print(
            f"""
Airflow UI:   {airflow.url}/connections
Login:        none needed (simple auth manager, every visitor is an admin)
Sandbox:      {sandbox.url} (NxCloud and CAMS, demo credentials)
Connections:  {", ".join(connections)} point at the sandbox; "Add Connection" shows both forms
              (NxCloud: access key {connections["nxcloud_default"]["login"]}, CAMS: AccessKey ID \
{connections["alibaba_cams_default"]["login"]}).
Test button:  Airflow 3.3.2 answers "Bad Request" for any stored connection without a port
              (apache/airflow#73298); meanwhile test from a shell:
              AIRFLOW_HOME={airflow.home.relative_to(REPO)} AIRFLOW__CORE__TEST_CONNECTION=Enabled \
.venv/bin/airflow connections test nxcloud_default
Logs:         {airflow.log_path.relative_to(REPO)}
Ctrl-C stops Airflow and the sandbox.""",
            flush=True,
        )
        while not stop.wait(1):
            if not airflow.running:
                print(f"airflow api-server stopped:\n{airflow.log_tail()}", file=sys.stderr)
                return 1
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
