"""A sandbox running in a background thread of the current process, for tests and local DAG runs."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.connections import guarded_protocol
from airflow_provider_wa_phones.sandbox.faults import FaultPlan, make_plan

if TYPE_CHECKING:
    import uvicorn

    from airflow_provider_wa_phones.sandbox.state import RecordedRequest, SandboxState

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
        )
        self.host = host
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind the port and serve in a daemon thread; returns once the server accepts requests."""
        # light import: uvicorn and the app (FastAPI, the emulated services) load when a server
        # starts, not when the sandbox package is imported.
        import uvicorn

        from airflow_provider_wa_phones.sandbox.app import create_app

        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError as error:
            sock.close()
            raise RuntimeError(
                f"cannot bind the sandbox to {self.host}:{self._requested_port}: {error}"
            ) from error
        config = uvicorn.Config(
            create_app(self.state),
            log_config=None,  # uvicorn's default dictConfig would close the host process's log handlers
            log_level="warning",
            lifespan="off",
            ws="none",
            date_header=False,  # the app sends the sandbox's own (possibly skewed) Date
            server_header=False,
            access_log=False,
            timeout_graceful_shutdown=5,
            # Idle and slow connections are closed (see connections.py); so are idle keep-alives.
            http=guarded_protocol(),
            timeout_keep_alive=self.state.idle_timeout,  # type: ignore[arg-type]  # call_later takes floats
            h11_max_incomplete_event_size=64 * 1024,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="wa-phones-sandbox", daemon=True
        )
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
        self._socket, self._server, self._thread = sock, server, thread
        return self

    def stop(self) -> None:
        """Stop serving and release the port. Does nothing if the sandbox is not running."""
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
    ) -> None:
        """Give the next ``count`` requests to ``path`` / of CAMS ``action`` (any when None) the fault
        ``kind``, before the random plan. ``slow_seconds`` defaults to the plan's.
        """
        self.state.faults.fail_next(kind, count, path, action, slow_seconds)

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
