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

from airflow_provider_wa_phones.sandbox.server import DEFAULT_HOST, SandboxServer

DEFAULT_PORT = 8765


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_wa_phones.sandbox",
        description="Serve local emulators of the NxCloud and Alibaba Cloud CAMS APIs with demo credentials.",
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
    parser.add_argument("--ready-file", type=Path, help="write the base URL to this file once listening")
    return parser.parse_args(argv)


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
        if args.ready_file:
            # Written whole then renamed, so a waiting script never reads a partial URL.
            partial = args.ready_file.with_name(args.ready_file.name + ".tmp")
            partial.write_text(server.url + "\n")
            os.replace(partial, args.ready_file)
        stop.wait()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
