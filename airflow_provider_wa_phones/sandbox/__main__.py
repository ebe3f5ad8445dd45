"""Run the sandbox as a process: ``python -m airflow_provider_wa_phones.sandbox``."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import sys
import threading
from pathlib import Path

from airflow_provider_wa_phones.sandbox.data import timeline_span
from airflow_provider_wa_phones.sandbox.faults import DEFAULT_SLOW_SECONDS, FAULT_KINDS, FaultPlan
from airflow_provider_wa_phones.sandbox.server import DEFAULT_HOST, SandboxServer

DEFAULT_PORT = 8765
#: Seconds between two starts of the timelines with ``--live``.
LIVE_CYCLE = 60.0

CONTROL_ENDPOINTS = """\
control endpoints (unsigned, JSON, under http://HOST:PORT/_sandbox):
  GET    /health                 -> {"status": "ok"}
  POST   /reset                  back to the seed data: numbers, results, clock (timelines restart
                                 at 0), faults as started, empty request log -> {"status": "ok"}
  POST   /advance                {"seconds": S} moves the virtual clock S >= 0 s forward (timelines,
                                 result delays) -> {"elapsed": virtual seconds since start/reset}
  GET    /clock                  -> {"elapsed", "held", "timeline_cycle", "timeline_time",
                                 "offset_seconds", "server_time"}
  POST   /clock                  {"offset_seconds": S} skews the server's wall clock (signature
                                 window, Date header, result dates) -> {"offset_seconds", "server_time"}
  POST   /clock/hold             stops the virtual clock (only /advance moves it) -> as GET /clock
  POST   /clock/release          lets it run again from where it stands -> as GET /clock
  GET    /faults                 -> {"plan": {...} or null, "next": [queued one-shot faults],
                                 "counts": {kind: faults injected}}
  POST   /faults                 {"rate": 0..1, "kinds": [KIND...], "seed": N, "paths": [PATH...],
                                 "actions": [CAMS ACTION...], "slow_seconds": S} sets a random fault
                                 plan (only rate is required) -> as GET /faults; 400 if invalid
  POST   /faults/next            {"kind": KIND, "count": N, "path": PATH, "action": ACTION,
                                 "slow_seconds": S, "after": M} after M matching requests pass,
                                 the next N meet KIND -> as GET /faults
  DELETE /faults                 no more faults -> as GET /faults
  GET    /requests?path=&action= -> [{"method", "path", "query", "headers", "body", "status",
                                 "code", "server_time", "fault"}...], oldest first
  GET    /requests/count?path=&action= -> {"path", "action", "count"}
  DELETE /requests               empties the request log -> {"status": "ok"}
  POST   /nxcloud/batches        {"batch_no", "count", "date", "appkey", "check_level"} files a
                                 number-check batch of COUNT results at once (big-read tests)
  PUT    /nxcloud/balance        {"appkey", "balance"} an application's balance in USD (a big
                                 number check costs more than the seeded 100) -> the same
  GET    /nxcloud/charges        -> {"charges": [{"batch_no", "message_id", "appkey",
                                 "country_code", "check_level", "count", "cost", "date"}...],
                                 "totals": {...}}: every charged number-check submit
  GET|PUT /cams/throttle         {"rate_limit": N or null} -> {"rate_limit", "window_seconds"}
  GET    /sts                    -> {"lifetime", "down", "services", "ecs_hardened", "issued",
                                 "server_time"}: Alibaba Cloud's credential services
  POST   /sts/lifetime           {"seconds": S or null} every key handed out from now on lives S s
                                 (null: the DurationSeconds asked) -> as GET /sts
  POST   /sts/outage             {"down": true|false, "services": ["sts", "credentials_uri",
                                 "ecs_metadata"] (default all)} HTTP 503 until restored -> as GET /sts
  POST   /sts/ecs                {"hardened": true|false} the metadata service refuses a GET
                                 without a valid token -> as GET /sts
  POST   /sts/oidc-token         {"lifetime": S, "subject", "provider_arn"} -> {"token",
                                 "expires_at", "expiration"}: an OIDC token for AssumeRoleWithOIDC
credential services (plain HTTP on the main port): GET /credentials-uri?role=NAME (a credentials
URI), PUT /latest/api/token and GET /latest/meta-data/ram/security-credentials/[ROLE] (the ECS
metadata service); with --sts, STS (AssumeRole, AssumeRoleWithOIDC) over TLS on its own port.
Keys handed out expire on the server's wall clock: POST /clock moves it.
fault kinds: {kinds}

Numbers change along timelines over the first {span:g} s after start or reset (e.g. a PENDING number
becomes CONNECTED, a CONNECTED one goes RED and FLAGGED); with --live or --cycle they start over
every cycle, so a deployment that comes up later still sees changes.
"""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_wa_phones.sandbox",
        description="Serve local emulators of the NxCloud and Alibaba Cloud CAMS APIs with demo credentials.",
        epilog=CONTROL_ENDPOINTS.replace("{kinds}", ", ".join(FAULT_KINDS)).replace(
            "{span:g}", f"{timeline_span():g}"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port to bind, 0 for a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every random choice (default: %(default)s)"
    )
    parser.add_argument(
        "--result-delay",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=(0.5, 3.0),
        help="seconds before a number-check result appears (default: 0.5 3.0)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="speed of the virtual clock relative to real time (default: %(default)s)",
    )
    parser.add_argument(
        "--cams-rate-limit",
        type=int,
        default=10,
        help="CAMS requests per AccessKey and action per second, 0 for no limit (default: %(default)s)",
    )
    parser.add_argument(
        "--result-calendar",
        choices=("UTC", "UTC+8"),
        default="UTC",
        help="the day NxCloud files number-check results under; the service does not publish it, so "
        "clients must cope with both (default: %(default)s)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=10.0,
        help="seconds a connection may take to send its next request before it is closed "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--lean",
        action="store_true",
        help="no request log, no faults (for throughput benchmarks); signatures are still checked",
    )
    parser.add_argument(
        "--fault-rate",
        type=_probability,
        default=0.0,
        help="probability that a service request meets a fault, 0 to 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--fault-kinds",
        type=_fault_kinds,
        default=None,
        metavar="KIND,...",
        help=f"comma-separated fault kinds to draw from (default: all of {','.join(FAULT_KINDS)})",
    )
    parser.add_argument(
        "--fault-seed", type=int, default=None, help="seed of the fault draws (default: --seed)"
    )
    parser.add_argument(
        "--fault-slow-seconds",
        type=float,
        default=DEFAULT_SLOW_SECONDS,
        help="how late a 'slow' fault answers (default: %(default)s)",
    )
    cycle = parser.add_mutually_exclusive_group()
    cycle.add_argument(
        "--cycle",
        type=_cycle,
        metavar="SECONDS",
        help="long-running mode: every number's timeline starts over every SECONDS virtual seconds "
        f"(more than {timeline_span():g}), so numbers keep changing",
    )
    cycle.add_argument(
        "--live",
        action="store_const",
        dest="cycle",
        const=LIVE_CYCLE,
        help=f"long-running mode with a {LIVE_CYCLE:g} s cycle (the same as --cycle {LIVE_CYCLE:g})",
    )
    parser.add_argument(
        "--sts",
        action="store_true",
        help="also serve Alibaba Cloud STS over TLS (a test CA made at start; its PEM path and the "
        "STS endpoint are printed and written to the ready file)",
    )
    parser.add_argument(
        "--sts-port", type=int, default=0, help="port of the STS TLS listener (default: a free one)"
    )
    parser.add_argument(
        "--sts-lifetime",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds every key handed out lives, whatever DurationSeconds asked (default: as asked)",
    )
    parser.add_argument(
        "--ecs-metadata-hardened",
        action="store_true",
        help="the emulated ECS metadata service refuses a GET without a valid token",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        help="write the base URL to this file once listening (with --sts, then the lines "
        "sts_endpoint=HOST:PORT and ca_file=PATH)",
    )
    return parser.parse_args(argv)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value


def _cycle(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    span = timeline_span()
    if not span < value < 10**9:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above {span:g} (the timelines' length), got {text!r}"
        )
    return value


def _fault_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown fault kind(s) {', '.join(unknown) or text!r}; choose from {', '.join(FAULT_KINDS)}"
        )
    return kinds


def _fault_plan(args: argparse.Namespace) -> FaultPlan | None:
    if not args.fault_rate:
        return None
    return FaultPlan(
        rate=args.fault_rate,
        kinds=args.fault_kinds or FAULT_KINDS,
        seed=args.seed if args.fault_seed is None else args.fault_seed,
        slow_seconds=args.fault_slow_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    args = _parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    low, high = args.result_delay
    server = SandboxServer(
        seed=args.seed,
        result_delay=(low, high),
        time_scale=args.time_scale,
        host=args.host,
        port=args.port,
        cams_rate_limit=args.cams_rate_limit or None,
        faults=_fault_plan(args),
        lean=args.lean,
        result_calendar=args.result_calendar,
        idle_timeout=args.idle_timeout,
        timeline_cycle=args.cycle,
        sts=args.sts,
        sts_port=args.sts_port,
        sts_lifetime=args.sts_lifetime,
        ecs_metadata_hardened=args.ecs_metadata_hardened,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server.start()
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    try:
        # One export line for every connection: a valid shell command that existing scripts reading
        # "the export line" (first assignment: nxcloud_default) keep parsing.
        assignments = (f"{name}={shlex.quote(value)}" for name, value in server.airflow_env().items())
        print("export " + " ".join(assignments))
        print(f"Sandbox listening on {server.url} (Ctrl-C to stop)", flush=True)
        ready = server.url + "\n"
        if args.sts:
            print(
                f"STS listening on https://{server.sts_endpoint} (sts_endpoint {server.sts_endpoint}); "
                f"trust its CA: SSL_CERT_FILE={shlex.quote(server.ca_file)}",
                flush=True,
            )
            ready += f"sts_endpoint={server.sts_endpoint}\nca_file={server.ca_file}\n"
        if args.cycle:
            cycle = f"Timelines start over every {args.cycle:g} s (long-running mode)"
            print(cycle, file=sys.stderr, flush=True)
        if server.state.faults.initial is not None:
            plan = server.state.faults.initial
            print(
                f"Injecting faults into {plan.rate:.0%} of service requests: {', '.join(plan.kinds)} "
                f"(seed {plan.seed})",
                file=sys.stderr,
                flush=True,
            )
        if args.ready_file:
            # Written whole then renamed, so a waiting script never reads a partial URL.
            partial = args.ready_file.with_name(args.ready_file.name + ".tmp")
            partial.write_text(ready)
            os.replace(partial, args.ready_file)
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
