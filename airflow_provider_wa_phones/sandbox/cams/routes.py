"""HTTP layer of the emulated CAMS API: ``POST /`` and ``GET /`` dispatched on ``x-acs-action``.

Parameters travel in the query string (RPC style), the body is empty. Gateway errors answer HTTP
4xx with ``{"RequestId","HostId","Code","Message","Recommend"}``; business failures answer HTTP 200
with ``Code != "OK"`` and ``"Success": false``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from airflow_provider_wa_phones.sandbox.cams.auth import header_map, query_params, verify_request
from airflow_provider_wa_phones.sandbox.cams.models import (
    HOST_ID,
    RATE_WINDOW_SECONDS,
    RECOMMEND_URL,
    AccessKey,
    CamsBackend,
    CamsError,
    check_api,
)
from airflow_provider_wa_phones.sandbox.faults import ENVELOPE_CODE_SCOPE_KEY
from airflow_provider_wa_phones.sandbox.state import SandboxState

Handler = Callable[[CamsBackend, AccessKey, Mapping[str, str]], dict[str, Any]]
OPERATIONS: dict[str, Handler] = {
    "QueryChatappPhoneNumbers": CamsBackend.query_chatapp_phone_numbers,
    "QueryPhoneBusinessProfile": CamsBackend.query_phone_business_profile,
}


def new_request_id() -> str:
    """A fresh upper-case UUID, the shape of the service's RequestId."""
    return str(uuid.uuid4()).upper()


def create_router(state: SandboxState) -> APIRouter:
    """The CAMS endpoint ``/`` (GET and POST), answering from ``state.cams``."""
    router = APIRouter()

    async def endpoint(request: Request) -> JSONResponse:
        backend = state.cams
        arrival = backend.monotonic()  # the rate limit counts arrivals, before any work is done
        request_id = new_request_id()
        # The raw query and header bytes are what the client signed; nothing may normalise them first.
        raw_query = request.scope["query_string"].decode("latin-1")
        headers = header_map(
            (name.decode("latin-1"), value.decode("utf-8", "surrogateescape"))
            for name, value in request.scope["headers"]
        )
        body = await request.body()
        try:
            key = verify_request(
                request.method,
                raw_query,
                headers,
                body,
                find_key=backend.find_access_key,
                now=state.clock.wall_time(),
                use_nonce=backend.use_nonce,
            )
            action = headers.get("x-acs-action", "")
            check_api(headers.get("x-acs-version", ""), action)
            backend.admit(key, action, arrival=arrival)
            payload = OPERATIONS[action](backend, key, query_params(raw_query))
        except CamsError as error:
            request.scope[ENVELOPE_CODE_SCOPE_KEY] = error.code
            return _error_response(error, request_id)
        request.scope[ENVELOPE_CODE_SCOPE_KEY] = payload["Code"]
        return JSONResponse({"RequestId": request_id, **payload}, headers={"x-acs-request-id": request_id})

    router.add_api_route("/", endpoint, methods=["GET", "POST"], include_in_schema=False)
    return router


def _error_response(error: CamsError, request_id: str) -> JSONResponse:
    headers = {**error.headers, "x-acs-request-id": request_id}
    if error.is_business_failure:
        body: dict[str, Any] = {
            "RequestId": request_id,
            "Code": error.code,
            "Message": error.message,
            "Success": False,
        }
    else:
        recommend = urlencode({"q": error.code, "product": "cams", "requestId": request_id})
        body = {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": error.code,
            "Message": error.message,
            "Recommend": f"{RECOMMEND_URL}?{recommend}",
            **error.details,
        }
    return JSONResponse(body, status_code=error.status, headers=headers)


class Throttle(BaseModel):
    """Body of ``PUT /_sandbox/cams/throttle``: requests per AccessKey and action per second."""

    rate_limit: int | None = Field(ge=0)


def create_admin_router(state: SandboxState) -> APIRouter:
    """Unsigned CAMS helpers for tests and benchmarks, mounted under ``/_sandbox/cams``."""
    router = APIRouter()

    def describe() -> dict[str, Any]:
        return {"rate_limit": state.cams.rate_limit, "window_seconds": RATE_WINDOW_SECONDS}

    @router.get("/throttle")
    async def get_throttle() -> dict[str, Any]:
        return describe()

    @router.put("/throttle")
    async def set_throttle(body: Throttle) -> dict[str, Any]:
        state.cams.rate_limit = body.rate_limit  # 0 and None both disable the limit
        return describe()

    return router
