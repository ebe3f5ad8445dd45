"""HTTP layer of the emulated NxCloud API: the four service paths and the sandbox's NxCloud admin."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from airflow_provider_wa_phones.sandbox.faults import ENVELOPE_CODE_SCOPE_KEY
from airflow_provider_wa_phones.sandbox.nxcloud.auth import verify_request
from airflow_provider_wa_phones.sandbox.nxcloud.models import Account, NxCloudBackend, NxCloudError
from airflow_provider_wa_phones.sandbox.state import SandboxState


@dataclass(frozen=True)
class Operation:
    """One NxCloud operation: where it lives, how it authenticates and how it answers."""

    path: str
    biz_type: int
    action: str
    text_key: str  # "message" on the WhatsApp pages, "msg" on the number-check pages
    success_text: str
    failure_data: Any
    handler: Callable[[NxCloudBackend, Account, dict[str, Any]], Any]


OPERATIONS = (
    Operation(
        "/api/wa/getPhone", 2, "getPhone", "message", "Request successful", None, NxCloudBackend.get_phone
    ),
    Operation(
        "/api/wa/integrator/embedded/register/phoneList",
        2,
        "phoneList",
        "message",
        "Request successful",
        None,
        NxCloudBackend.list_phones,
    ),
    Operation(
        "/api/number/check", 1, "numbercheck", "msg", "success", {}, NxCloudBackend.submit_number_check
    ),
    Operation(
        "/api/number/query",
        1,
        "numbercheck",
        "msg",
        "Request successful",
        {},
        NxCloudBackend.query_number_check,
    ),
)


def create_router(state: SandboxState) -> APIRouter:
    """The NxCloud service paths, answering from ``state.nxcloud``."""
    router = APIRouter()
    for operation in OPERATIONS:
        router.add_api_route(
            operation.path, _endpoint(state, operation), methods=["POST"], include_in_schema=False
        )

    return router


def _endpoint(state: SandboxState, operation: Operation) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        # The raw bytes are what the client signed; nothing may parse them before verification.
        body = await request.body()
        backend = state.nxcloud
        try:
            account = verify_request(
                request.headers,
                body,
                find_account=backend.find_account,
                now_ms=int(state.clock.wall_time() * 1000),
                biz_type=operation.biz_type,
                action=operation.action,
            )
            data = operation.handler(backend, account, _json_object(body))
        except NxCloudError as error:
            code, text, data = error.code, error.message, operation.failure_data
        else:
            code, text = 0, operation.success_text
        request.scope[ENVELOPE_CODE_SCOPE_KEY] = code
        return JSONResponse({"code": code, operation.text_key: text, "data": data})

    return endpoint


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8 or not JSON, or nested deeper than a parser goes
        payload = None
    if not isinstance(payload, dict):
        raise NxCloudError(1002, "request body must be a JSON object")
    return payload


class PreloadBatch(BaseModel):
    """Body of ``POST /_sandbox/nxcloud/batches``."""

    batch_no: str
    count: int
    date: str | None = None
    appkey: str | None = None
    check_level: int = 1


class Balance(BaseModel):
    """Body of ``PUT /_sandbox/nxcloud/balance``: an application's balance in USD, as text."""

    appkey: str
    balance: str


def create_admin_router(state: SandboxState) -> APIRouter:
    """Unsigned NxCloud helpers for tests and demos, mounted under ``/_sandbox/nxcloud``."""
    router = APIRouter()

    # A plain function runs in the thread pool, so a large preload does not stall other requests.
    @router.post("/batches")
    def preload_batch(spec: PreloadBatch) -> dict[str, Any]:
        try:
            return state.nxcloud.preload_batch(
                spec.batch_no, spec.count, date=spec.date, appkey=spec.appkey, check_level=spec.check_level
            )
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None

    @router.put("/balance")
    def set_balance(spec: Balance) -> dict[str, Any]:
        try:
            return {"appkey": spec.appkey, "balance": state.nxcloud.set_balance(spec.appkey, spec.balance)}
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None

    @router.get("/charges")
    def charges() -> dict[str, Any]:
        # The charge list and totals; the per-number map stays in-process (it is large at scale).
        return {"charges": state.nxcloud.charges(), "totals": state.nxcloud.charge_totals()}

    return router
