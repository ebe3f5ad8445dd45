"""The sandbox's ASGI application: every emulated service, the admin endpoints and the request log."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_wa_phones.sandbox.cams import routes as cams_routes
from airflow_provider_wa_phones.sandbox.nxcloud import routes as nxcloud_routes
from airflow_provider_wa_phones.sandbox.state import ENVELOPE_CODE_SCOPE_KEY, RecordedRequest, SandboxState

ADMIN_PREFIX = "/_sandbox"


def create_app(state: SandboxState) -> FastAPI:
    """A FastAPI app serving the emulated services from ``state``."""
    app = FastAPI(title="airflow-provider-wa-phones sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(nxcloud_routes.create_router(state))
    app.include_router(nxcloud_routes.create_admin_router(state), prefix=f"{ADMIN_PREFIX}/nxcloud")
    app.include_router(cams_routes.create_router(state))
    app.include_router(cams_routes.create_admin_router(state), prefix=f"{ADMIN_PREFIX}/cams")
    app.include_router(_admin_router(state), prefix=ADMIN_PREFIX)
    app.add_middleware(RequestRecorder, state=state)
    return app


class RequestRecorder:
    """Dates every response with the server's wall clock and logs each request to a service path.

    This is the one place every request passes through, where faults will be injected too.
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
        status = 500

        async def send_dated(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), date_header]}
            await send(message)

        path = scope["path"]
        if path == ADMIN_PREFIX or path.startswith(f"{ADMIN_PREFIX}/"):
            await self.app(scope, receive, send_dated)
            return
        body = await _read_body(receive)
        try:
            await self.app(scope, _replay(body, receive), send_dated)
        finally:
            self.state.requests.record(
                RecordedRequest(
                    method=scope["method"],
                    path=path,
                    headers={
                        name.decode("latin-1").lower(): value.decode("latin-1")
                        for name, value in scope["headers"]
                    },
                    body=body,
                    status=status,
                    code=scope.get(ENVELOPE_CODE_SCOPE_KEY),
                    server_time=server_time,
                    query=scope.get("query_string", b"").decode("latin-1"),
                )
            )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


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


def _admin_router(state: SandboxState) -> APIRouter:
    router = APIRouter()

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

    @router.post("/reset")
    async def reset() -> dict[str, str]:
        state.reset()
        return {"status": "ok"}

    return router
