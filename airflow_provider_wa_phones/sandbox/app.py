"""The sandbox's ASGI application: every emulated service, the admin endpoints and the request log."""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.cams import routes as cams_routes
from airflow_provider_wa_phones.sandbox.faults import ENVELOPE_CODE_SCOPE_KEY, FaultPlan, serve_with_fault
from airflow_provider_wa_phones.sandbox.nxcloud import routes as nxcloud_routes
from airflow_provider_wa_phones.sandbox.state import RecordedRequest, SandboxState, request_action
from airflow_provider_wa_phones.sandbox.sts import routes as sts_routes

ADMIN_PREFIX = "/_sandbox"


def create_app(state: SandboxState) -> FastAPI:
    """A FastAPI app serving the emulated services from ``state``."""
    app = _SandboxApp(state)
    app.include_router(nxcloud_routes.create_router(state))
    app.include_router(nxcloud_routes.create_admin_router(state), prefix=f"{ADMIN_PREFIX}/nxcloud")
    app.include_router(cams_routes.create_router(state))
    app.include_router(cams_routes.create_admin_router(state), prefix=f"{ADMIN_PREFIX}/cams")
    app.include_router(sts_routes.create_metadata_router(state))
    app.include_router(sts_routes.create_admin_router(state), prefix=f"{ADMIN_PREFIX}/sts")
    app.include_router(_admin_router(state), prefix=ADMIN_PREFIX)
    return app


def create_sts_app(state: SandboxState) -> FastAPI:
    """The app of the TLS listener: STS only (its requests logged and faulted like the others')."""
    app = _SandboxApp(state)
    app.include_router(sts_routes.create_router(state))
    return app


class _SandboxApp(FastAPI):
    """FastAPI with the :class:`RequestRecorder` outside every other middleware.

    Outermost, the recorder gets the server's own ``send`` (the only way to break a connection) and
    sees even the answers of Starlette's error middleware.
    """

    def __init__(self, state: SandboxState) -> None:
        super().__init__(
            title="airflow-provider-wa-phones sandbox", docs_url=None, redoc_url=None, openapi_url=None
        )
        self.sandbox_state = state

    def build_middleware_stack(self) -> ASGIApp:
        return RequestRecorder(super().build_middleware_stack(), state=self.sandbox_state)


class RequestRecorder:
    """Dates every response with the server's wall clock, logs each request to a service path and
    injects the faults ``state.faults`` chooses for it.

    A request is logged before the last byte of its answer leaves (or before its connection is
    broken), so a client never sees an answer the log does not have yet.
    """

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        server_time = self.state.clock.wall_time()
        date_header = (b"date", formatdate(server_time, usegmt=True).encode("ascii"))
        path = scope["path"]

        async def send_dated_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), date_header]}
            await send(message)

        # Admin calls are never logged or faulted; a lean sandbox (throughput benchmarks) logs nothing.
        if self.state.lean or path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/"):
            await self.app(scope, receive, send_dated_only)
            return

        try:
            body = await asyncio.wait_for(
                _read_body(receive, self.state.max_body_bytes), self.state.idle_timeout
            )
        # wait_for raises asyncio.TimeoutError: the built-in TimeoutError only from Python 3.11.
        except (asyncio.TimeoutError, _BodyTooLarge) as problem:
            # A body that trickles in (or never ends) holds a connection and a task: answer and let go.
            status = 413 if isinstance(problem, _BodyTooLarge) else 408
            await _plain_answer(
                send_dated_only, status, "request body too large" if status == 413 else "too slow"
            )
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
        }
        query = scope.get("query_string", b"").decode("latin-1")
        fault = self.state.faults.choose(path, request_action(headers, query))
        status = 500
        recorded = False

        def record(final_status: int | None = None) -> None:
            nonlocal recorded, status
            if recorded:
                return
            recorded = True
            if final_status is not None:
                status = final_status
            self.state.requests.record(
                RecordedRequest(
                    method=scope["method"],
                    path=path,
                    headers=headers,
                    body=body,
                    status=status,
                    code=scope.get(ENVELOPE_CODE_SCOPE_KEY),
                    server_time=server_time,
                    query=query,
                    fault=fault.kind if fault is not None else None,
                )
            )

        async def send_dated(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), date_header]}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()
            await send(message)

        try:
            if fault is None:
                await self.app(scope, _replay(body, receive), send_dated)
            else:
                await serve_with_fault(
                    fault, self.app, scope, receive, _replay(body, receive), send_dated, send, record
                )
        finally:
            record()


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _plain_answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that yields ``body`` once, then defers to the real one (for disconnects)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Advance(BaseModel):
    """Body of ``POST /_sandbox/advance``."""

    seconds: float = Field(ge=0)


class ClockOffset(BaseModel):
    """Body of ``POST /_sandbox/clock``."""

    offset_seconds: float


class FaultPlanBody(BaseModel):
    """Body of ``POST /_sandbox/faults``: the random fault plan (see ``faults.FaultPlan``)."""

    rate: float = Field(ge=0, le=1)
    kinds: list[str] | None = None  # None: every kind
    seed: int = 0
    paths: list[str] | None = None
    actions: list[str] | None = None
    slow_seconds: float | None = Field(default=None, ge=0)


class NextFaultBody(BaseModel):
    """Body of ``POST /_sandbox/faults/next``: one-shot faults for the next matching requests."""

    kind: str
    count: int = Field(default=1, ge=1)
    path: str | None = None
    action: str | None = None
    slow_seconds: float | None = Field(default=None, ge=0)
    after: int = Field(default=0, ge=0)  # matching requests let by before the first strike


def _admin_router(state: SandboxState) -> APIRouter:
    router = APIRouter()

    @router.get("/faults")
    async def get_faults() -> dict[str, Any]:
        return state.faults.as_json()

    @router.post("/faults")
    async def set_faults(body: FaultPlanBody) -> dict[str, Any]:
        fields = body.model_dump(exclude_none=True)
        try:
            state.faults.set_plan(FaultPlan(**fields))
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None
        return state.faults.as_json()

    @router.post("/faults/next")
    async def fail_next(body: NextFaultBody) -> dict[str, Any]:
        try:
            state.faults.fail_next(
                body.kind, body.count, body.path, body.action, body.slow_seconds, after=body.after
            )
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None
        return state.faults.as_json()

    @router.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        state.faults.clear()
        return state.faults.as_json()

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/requests")
    async def list_requests(path: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        return [request.as_json() for request in state.requests.entries(path, action)]

    @router.get("/requests/count")
    async def count_requests(path: str | None = None, action: str | None = None) -> dict[str, Any]:
        return {"path": path, "action": action, "count": state.requests.count(path, action)}

    @router.delete("/requests")
    async def clear_requests() -> dict[str, str]:
        state.requests.clear()
        return {"status": "ok"}

    @router.post("/advance")
    async def advance(body: Advance) -> dict[str, float]:
        return {"elapsed": state.clock.advance(body.seconds)}

    @router.post("/clock")
    async def set_clock(body: ClockOffset) -> dict[str, float]:
        state.clock.set_offset(body.offset_seconds)
        return {"offset_seconds": state.clock.offset_seconds, "server_time": state.clock.wall_time()}

    @router.get("/clock")
    async def get_clock() -> dict[str, Any]:
        return _clock_json(state)

    @router.post("/clock/hold")
    async def hold_clock() -> dict[str, Any]:
        state.clock.hold()
        return _clock_json(state)

    @router.post("/clock/release")
    async def release_clock() -> dict[str, Any]:
        state.clock.release()
        return _clock_json(state)

    @router.post("/reset")
    async def reset() -> dict[str, str]:
        state.reset()
        return {"status": "ok"}

    return router


def _clock_json(state: SandboxState) -> dict[str, Any]:
    """``GET /_sandbox/clock``: the virtual clock, where the timelines stand, and the server time."""
    elapsed = state.clock.elapsed()
    return {
        "elapsed": elapsed,
        "held": state.clock.held,
        "timeline_cycle": state.timeline_cycle,
        "timeline_time": data.timeline_time(elapsed, state.timeline_cycle),
        "offset_seconds": state.clock.offset_seconds,
        "server_time": state.clock.wall_time(),
    }
