"""A sandbox running in a background thread of the current process, for tests and local DAG runs."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.connections import guarded_protocol
from airflow_provider_wa_phones.sandbox.faults import FaultPlan, make_plan

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

    from airflow_provider_wa_phones.sandbox.state import RecordedRequest, SandboxState
    from airflow_provider_wa_phones.sandbox.tls import TlsFiles

DEFAULT_HOST = "127.0.0.1"
_STOP_TIMEOUT = 10.0


class SandboxServer:
    """Serves the emulated services on ``host:port`` (a free port by default) until stopped.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with SandboxServer(seed=0) as sb:
            with mock.patch.dict(os.environ, sb.airflow_env()):
                ...  # hooks using nxcloud_default or alibaba_cams_default now talk to sb.url

    NxCloud answers on its own paths, CAMS on ``/`` (the same port). ``cams_rate_limit`` is the CAMS
    limit per AccessKey and action per second (10, as documented); None or 0 lifts it.
    ``result_calendar`` is the calendar NxCloud number-check results are filed under ("UTC" or
    "UTC+8"): the service does not say which it uses, so a client must find them under either.

    Limits, since the sandbox runs inside users' test suites and CI: a connection that has not sent
    its next complete request head ``idle_timeout`` seconds (default 10) after it opened or after
    the last answer is closed, and so is one whose body takes longer; bodies over
    ``max_body_bytes`` (default 8 MiB) get HTTP 413; the request log keeps at most 100,000
    requests and 64 MiB, the oldest going first.

    Numbers follow timelines on a virtual clock that starts at the sandbox's start (or reset) and
    ends 9 s later; ``timeline_cycle`` (seconds, longer than that) makes them start over that
    often, so numbers keep changing for as long as the sandbox runs (for use beside a deployment).
    :meth:`hold_clock` stops the clock until :meth:`release_clock`; :meth:`advance` moves it.

    **Alibaba Cloud credential services** (for the CAMS connection's keyless modes, driven through
    the official ``alibabacloud-credentials`` library):

    * ``sts=True`` also serves STS (AssumeRole, AssumeRoleWithOIDC) over TLS on a second port
      (``sts_port``, a free one by default) of ``host``: give :attr:`sts_endpoint` (``"127.0.0.1:PORT"``)
      as the library's ``sts_endpoint`` and trust :attr:`ca_file`, the PEM of a test CA the sandbox
      makes (one per process) and writes with the server's certificate into a temporary directory it
      removes at :meth:`stop`. The library's HTTP clients (requests and aiohttp, in
      ``Tea/core.py``) build their TLS context from OpenSSL's default verify paths plus certifi, so
      ``SSL_CERT_FILE=<ca_file>`` in the environment before the first call makes both
      ``get_credentials()`` and ``get_credentials_async()`` trust it.
    * AssumeRole is checked like STS checks it: RPC signature V1 (HMAC-SHA1) computed by the sandbox
      itself (``sandbox/sts/auth.py``), source keys = the demo CAMS AccessKeys (``data.CAMS_*``) or
      keys STS handed out (with their ``SecurityToken``: chained roles). Roles and the OIDC
      provider are in ``data.STS_*``; :meth:`issue_oidc_token` writes tokens for the RRSA mode.
    * Every key handed out is accepted by CAMS with its ``x-acs-security-token`` until its
      ``Expiration`` on the sandbox's **wall clock** (:meth:`set_clock_offset` moves it, so a test
      expires keys without sleeping), then refused with ``InvalidSecurityToken.Expired``.
      ``sts_lifetime`` (seconds; :attr:`sts_lifetime` or ``POST /_sandbox/sts/lifetime`` change it)
      overrides how long keys live whatever DurationSeconds asked (still validated: 900..3600).
    * :meth:`set_sts_outage` makes STS, the credentials URI and/or the metadata service answer
      HTTP 503 until restored. Their calls are in the request log: ``request_count(action="AssumeRole")``,
      ``request_count(path="/credentials-uri")``.
    * The credentials URI (:meth:`credentials_uri`) and the ECS metadata service are plain HTTP on
      the main port. **The metadata seam:** ``EcsRamRoleCredentialsProvider`` puts its host
      ``100.100.100.200`` (the private attribute
      ``_EcsRamRoleCredentialsProvider__metadata_service_host``) into the ``host`` header, and Tea
      composes the URL as ``http://`` + that header + the path (port 80 adds nothing), so setting
      that attribute to :attr:`ecs_metadata_host` (``"127.0.0.1:PORT"``) sends
      ``PUT /latest/api/token`` and ``GET /latest/meta-data/ram/security-credentials/[<role>]``
      here. ``ecs_metadata_hardened=True`` refuses a GET without a valid metadata token (HTTP 401).
    """

    def __init__(
        self,
        seed: int = 0,
        result_delay: tuple[float, float] = (0.5, 3.0),
        time_scale: float = 1.0,
        clock_offset: float = 0.0,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        startup_timeout: float = 10.0,
        cams_rate_limit: int | None = 10,
        faults: FaultPlan | Mapping[str, Any] | None = None,
        lean: bool = False,
        result_calendar: str = "UTC",
        idle_timeout: float | None = None,
        max_body_bytes: int | None = None,
        timeline_cycle: float | None = None,
        sts: bool = False,
        sts_port: int = 0,
        sts_lifetime: float | None = None,
        ecs_metadata_hardened: bool = False,
    ) -> None:
        # light import: the state holds the emulated services, whose NxCloud model needs phonenumbers;
        # `import airflow_provider_wa_phones.sandbox` (a DAG file's SandboxServer) stays without it.
        from airflow_provider_wa_phones.sandbox.state import (
            DEFAULT_IDLE_TIMEOUT,
            DEFAULT_MAX_BODY_BYTES,
            SandboxState,
        )

        self.state: SandboxState = SandboxState(
            seed=seed,
            result_delay=result_delay,
            time_scale=time_scale,
            clock_offset=clock_offset,
            cams_rate_limit=cams_rate_limit,
            faults=make_plan(faults),
            lean=lean,
            result_calendar=result_calendar,
            idle_timeout=DEFAULT_IDLE_TIMEOUT if idle_timeout is None else idle_timeout,
            max_body_bytes=DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes,
            timeline_cycle=timeline_cycle,
            sts_lifetime=sts_lifetime,
            ecs_metadata_hardened=ecs_metadata_hardened,
        )
        self.host = host
        self.sts_enabled = sts
        self._requested_sts_port = sts_port
        self._sts_socket: socket.socket | None = None
        self._sts_server: uvicorn.Server | None = None
        self._sts_thread: threading.Thread | None = None
        self._tls_dir: Path | None = None
        self._tls: TlsFiles | None = None
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind the port(s) and serve in daemon threads; returns once the servers accept requests."""
        # light import: the app (FastAPI, the emulated services) loads when a server starts, not
        # when the sandbox package is imported.
        from airflow_provider_wa_phones.sandbox.app import create_app, create_sts_app

        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        sock = self._bind(self._requested_port)
        server, thread = self._serve(create_app(self.state), sock, "wa-phones-sandbox")
        self._socket, self._server, self._thread = sock, server, thread
        if self.sts_enabled:
            try:
                self._start_sts(create_sts_app(self.state))
            except BaseException:
                self.stop()
                raise
        return self

    def _start_sts(self, app: ASGIApp) -> None:
        # light import: cryptography loads only for a sandbox that serves STS over TLS.
        from airflow_provider_wa_phones.sandbox.tls import write_tls_files

        self._tls_dir = Path(tempfile.mkdtemp(prefix="wa-phones-sandbox-tls-"))
        self._tls = write_tls_files(self._tls_dir)
        sock = self._bind(self._requested_sts_port)
        server, thread = self._serve(app, sock, "wa-phones-sandbox-sts", tls=self._tls)
        self._sts_socket, self._sts_server, self._sts_thread = sock, server, thread

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as error:
            sock.close()
            raise RuntimeError(f"cannot bind the sandbox to {self.host}:{port}: {error}") from error
        return sock

    def _serve(
        self, app: ASGIApp, sock: socket.socket, name: str, tls: TlsFiles | None = None
    ) -> tuple[uvicorn.Server, threading.Thread]:
        # light import: uvicorn loads when a server starts, not when the sandbox package is imported.
        import uvicorn

        config = uvicorn.Config(
            app,
            log_config=None,  # uvicorn's default dictConfig would close the host process's log handlers
            log_level="warning",
            lifespan="off",
            ws="none",
            date_header=False,  # the app sends the sandbox's own (possibly skewed) Date
            server_header=False,
            access_log=False,
            timeout_graceful_shutdown=5,
            # Idle and slow connections are closed (see connections.py); so are idle keep-alives.
            http=guarded_protocol(tls=tls is not None),
            timeout_keep_alive=self.state.idle_timeout,  # type: ignore[arg-type]  # call_later takes floats
            h11_max_incomplete_event_size=64 * 1024,
            ssl_certfile=None if tls is None else str(tls.cert_file),
            ssl_keyfile=None if tls is None else str(tls.key_file),
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
        thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not thread.is_alive():
                problem = "exited during startup"
            elif time.monotonic() > deadline:
                problem = f"did not start within {self._startup_timeout} s"
            else:
                time.sleep(0.01)
                continue
            server.should_exit = True
            thread.join(_STOP_TIMEOUT)
            sock.close()
            raise RuntimeError(f"the sandbox server {problem} (see the uvicorn log above)")
        return server, thread

    def stop(self) -> None:
        """Stop serving, release the port(s), remove the TLS files. Does nothing if not running."""
        if self._sts_server is not None and self._sts_thread is not None and self._sts_socket is not None:
            self._sts_server.should_exit = True
            self._sts_thread.join(_STOP_TIMEOUT)
            self._sts_socket.close()
        self._sts_socket, self._sts_server, self._sts_thread = None, None, None
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
        self._tls_dir, self._tls = None, None
        if self._server is None or self._thread is None or self._socket is None:
            return
        self._server.should_exit = True
        self._thread.join(_STOP_TIMEOUT)
        self._socket.close()
        self._socket, self._server, self._thread = None, None, None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the sandbox listens on."""
        if self._socket is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL of every emulated service, e.g. ``http://127.0.0.1:51234``."""
        return f"http://{self.host}:{self.port}"

    # --- Alibaba Cloud credential services ------------------------------------------------------

    @property
    def sts_endpoint(self) -> str:
        """``"127.0.0.1:PORT"`` of the TLS STS listener: the library's ``sts_endpoint`` (no scheme)."""
        if self._sts_socket is None:
            raise RuntimeError("STS is not being served; start a SandboxServer(sts=True)")
        return f"{self.host}:{int(self._sts_socket.getsockname()[1])}"

    @property
    def ca_file(self) -> str:
        """Path of the PEM certificate of the test CA that signed the STS listener's certificate."""
        if self._tls is None:
            raise RuntimeError("STS is not being served; start a SandboxServer(sts=True)")
        return str(self._tls.ca_file)

    @property
    def ecs_metadata_host(self) -> str:
        """``"127.0.0.1:PORT"`` to put in place of the metadata service's ``100.100.100.200``."""
        return f"{self.host}:{self.port}"

    def credentials_uri(self, role: str | None = None) -> str:
        """The URL of the credentials URI (``ALIBABA_CLOUD_CREDENTIALS_URI``), optionally of ``role``
        (one of ``data.STS_URI_ROLE_NAMES``; another answers 404)."""
        query = "" if role is None else f"?role={role}"
        return f"{self.url}/credentials-uri{query}"

    def issue_oidc_token(
        self,
        lifetime: float = 3600.0,
        subject: str = data.STS_OIDC_SUBJECT,
        provider_arn: str = data.STS_OIDC_PROVIDER_ARN,
    ) -> str:
        """An OIDC token (a JWT) of the sandbox's identity provider, valid ``lifetime`` seconds of
        the server's wall clock (negative: already expired); AssumeRoleWithOIDC with
        ``data.STS_OIDC_PROVIDER_ARN`` and ``data.STS_OIDC_ROLE_ARN`` accepts it until then. A token
        for another ``provider_arn`` has an issuer that provider's role does not match."""
        return self.state.sts.issue_oidc_token(lifetime, subject, provider_arn)

    @property
    def sts_lifetime(self) -> float | None:
        """Seconds every key handed out lives (None: the DurationSeconds asked, 3600 s for the URI
        and metadata service). Set it to change keys handed out from now on."""
        return self.state.sts.lifetime

    @sts_lifetime.setter
    def sts_lifetime(self, seconds: float | None) -> None:
        self.state.sts.set_lifetime(seconds)

    def set_sts_outage(self, down: bool = True, services: str | Iterable[str] | None = None) -> None:
        """Make ``services`` (``"sts"``, ``"credentials_uri"``, ``"ecs_metadata"``; all when None)
        answer HTTP 503 ``ServiceUnavailable`` (``down=False``: restore them)."""
        chosen = [services] if isinstance(services, str) else services
        self.state.sts.set_outage(down, chosen)

    @property
    def ecs_metadata_hardened(self) -> bool:
        """Whether the metadata service refuses a GET without a valid token (HTTP 401)."""
        return self.state.sts.ecs_hardened

    @ecs_metadata_hardened.setter
    def ecs_metadata_hardened(self, hardened: bool) -> None:
        self.state.sts.ecs_hardened = hardened

    # --- state -----------------------------------------------------------------------------------

    def requests(self, path: str | None = None, action: str | None = None) -> list[RecordedRequest]:
        """Recorded requests to the service paths, oldest first, optionally only to ``path``.

        ``action`` keeps only CAMS requests whose ``x-acs-action`` header is that operation.
        """
        return self.state.requests.entries(path, action)

    def request_count(self, path: str | None = None, action: str | None = None) -> int:
        """How many requests reached ``path`` (or any service path), optionally of CAMS ``action``."""
        return self.state.requests.count(path, action)

    def clear_requests(self) -> None:
        """Empty the request log and its counters."""
        self.state.requests.clear()

    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward; returns the new virtual elapsed time."""
        return self.state.clock.advance(seconds)

    def hold_clock(self) -> float:
        """Stop the virtual clock (timelines, result delays) until :meth:`release_clock`;
        :meth:`advance` still moves it. Returns the virtual elapsed time."""
        return self.state.clock.hold()

    def release_clock(self) -> float:
        """Let the virtual clock run again from where it stands; returns the virtual elapsed time."""
        return self.state.clock.release()

    def set_clock_offset(self, seconds: float) -> None:
        """Skew the server's wall clock (signature window, Date header, record dates)."""
        self.state.clock.set_offset(seconds)

    def reset(self) -> None:
        """Back to the seed data; clocks, CAMS rate limit and faults as configured; empty request log.

        Faults set with :meth:`set_faults` or :meth:`fail_next` are gone; a plan given as ``faults=``
        at start-up is back, drawing from its seed again.
        """
        self.state.reset()

    # --- faults ----------------------------------------------------------------------------------

    def set_faults(
        self,
        rate: float,
        kinds: str | Iterable[str] | None = None,
        seed: int = 0,
        paths: str | Iterable[str] | None = None,
        actions: str | Iterable[str] | None = None,
        slow_seconds: float | None = None,
    ) -> FaultPlan:
        """Fault each service request independently with probability ``rate``, of a kind drawn
        uniformly from ``kinds`` (all of ``faults.FAULT_KINDS`` when None), from ``random.Random(seed)``:
        the same request sequence meets the same faults.

        ``paths`` and ``actions`` (CAMS ``x-acs-action``) limit the plan to those requests; a ``slow``
        answer comes ``slow_seconds`` late (default ``faults.DEFAULT_SLOW_SECONDS``). Replaces the
        previous plan; queued :meth:`fail_next` faults stay and still come first.
        """
        fields: dict[str, Any] = {"rate": rate, "seed": seed, "paths": paths, "actions": actions}
        if kinds is not None:
            fields["kinds"] = kinds
        if slow_seconds is not None:
            fields["slow_seconds"] = slow_seconds
        plan = FaultPlan(**fields)
        self.state.faults.set_plan(plan)
        return plan

    def fail_next(
        self,
        kind: str,
        count: int = 1,
        path: str | None = None,
        action: str | None = None,
        *,
        slow_seconds: float | None = None,
        after: int = 0,
    ) -> None:
        """Give the next ``count`` requests to ``path`` / of CAMS ``action`` (any when None) the fault
        ``kind``, before the random plan. ``slow_seconds`` defaults to the plan's.

        ``after``: let the first ``after`` matching requests by untouched by this fault, so it strikes
        matching request ``after + 1`` (and the ``count - 1`` after it), e.g. ``fail_next("lost",
        path="/api/number/check", after=2)`` loses the answer of the third submit, which is charged.
        """
        self.state.faults.fail_next(kind, count, path, action, slow_seconds, after=after)

    def clear_faults(self) -> None:
        """No more faults: no random plan, no queued ones, counts back to zero."""
        self.state.faults.clear()

    def fault_counts(self) -> dict[str, int]:
        """How many requests met each kind of fault, e.g. ``{"http_503": 2}`` (kinds that happened)."""
        return self.state.faults.counts()

    @property
    def cams_rate_limit(self) -> int | None:
        """CAMS requests accepted per AccessKey and action in any 1-second window; None if unlimited."""
        return self.state.cams.rate_limit

    @cams_rate_limit.setter
    def cams_rate_limit(self, limit: int | None) -> None:
        self.state.cams.rate_limit = limit  # 0 and None both lift the limit until reset()

    def preload_number_check_batch(
        self,
        batch_no: str,
        count: int,
        date: str | None = None,
        appkey: str | None = None,
        check_level: int = 1,
    ) -> dict[str, Any]:
        """Add ``count`` ready number-check results under ``batch_no``.

        Returns ``{"batch_no", "message_id", "count", "date"}``; see ``NxCloudBackend.preload_batch``.
        """
        return self.state.nxcloud.preload_batch(
            batch_no, count, date=date, appkey=appkey, check_level=check_level
        )

    def set_nxcloud_balance(self, appkey: str, balance: str) -> str:
        """Set an NxCloud application's balance in USD (``"5000"``), for a number check bigger than
        the seeded balance pays for; ``reset()`` restores it. Also ``PUT /_sandbox/nxcloud/balance``."""
        return self.state.nxcloud.set_balance(appkey, balance)

    def charges(self) -> list[dict[str, Any]]:
        """Every NxCloud number-check submit the sandbox charged since the last reset, in order,
        whatever its client heard (an answer lost on the way back was still charged); see
        ``NxCloudBackend.charges``. Also ``GET /_sandbox/nxcloud/charges``."""
        return self.state.nxcloud.charges()

    def charge_counts(self) -> Counter[int]:
        """How many times each number was charged, keyed by ``int(phone)`` (compact at 1M numbers):
        "every number charged exactly once" is ``set(counts.values()) == {1}``."""
        return self.state.nxcloud.charge_counts()

    def charged_numbers(self) -> dict[str, int]:
        """How many times each number (digits with country code) was charged."""
        return self.state.nxcloud.charged_numbers()

    def charge_totals(self) -> dict[str, Any]:
        """Totals of the charges: ``submits``, ``numbers``, ``distinct_numbers``,
        ``numbers_charged_more_than_once`` and ``cost``."""
        return self.state.nxcloud.charge_totals()

    # --- client configuration --------------------------------------------------------------------

    def connections(self) -> dict[str, dict[str, Any]]:
        """Airflow connections (by conn id) that point the provider's hooks at this sandbox."""
        return {
            "nxcloud_default": {
                "conn_type": "nxcloud",
                "host": self.url,
                "login": data.NXCLOUD_ACCESS_KEY,
                "password": data.NXCLOUD_ACCESS_SECRET,
                "extra": {"appkey": data.NXCLOUD_APPKEY},
            },
            "alibaba_cams_default": {
                "conn_type": "alibaba_cams",
                "host": self.url,
                "login": data.CAMS_ACCESS_KEY_ID,
                "password": data.CAMS_ACCESS_KEY_SECRET,
                "extra": {"region": data.CAMS_REGION, "cust_space_id": data.CAMS_SPACE_ID},
            },
        }

    def airflow_env(self) -> dict[str, str]:
        """``AIRFLOW_CONN_*`` environment variables defining :meth:`connections`."""
        return {
            f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(connection)
            for conn_id, connection in self.connections().items()
        }
