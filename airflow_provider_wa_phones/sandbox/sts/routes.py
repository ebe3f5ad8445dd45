"""HTTP layer of the emulated credential services.

* STS (:func:`create_router`): ``GET /?Action=AssumeRole|AssumeRoleWithOIDC&...`` (RPC style, as
  the official credentials library sends it), served on the sandbox's TLS listener.
* The credentials URI and the ECS metadata service (:func:`create_metadata_router`), plain HTTP on
  the main port: ``GET /credentials-uri?role=NAME``; ``PUT /latest/api/token``,
  ``GET /latest/meta-data/ram/security-credentials/`` and ``.../<role>``.
* The controls (:func:`create_admin_router`), mounted under ``/_sandbox/sts``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from airflow_provider_wa_phones.sandbox import data
from airflow_provider_wa_phones.sandbox.cams.models import RECOMMEND_URL, CamsError
from airflow_provider_wa_phones.sandbox.cams.routes import new_request_id
from airflow_provider_wa_phones.sandbox.faults import ENVELOPE_CODE_SCOPE_KEY
from airflow_provider_wa_phones.sandbox.state import SandboxState
from airflow_provider_wa_phones.sandbox.sts.auth import rpc_params, verify_rpc_request
from airflow_provider_wa_phones.sandbox.sts.models import ACTIONS, API_VERSION, HOST_ID, SERVICES, format_time

CREDENTIALS_URI_PATH = "/credentials-uri"
ECS_TOKEN_PATH = "/latest/api/token"
ECS_CREDENTIALS_PATH = "/latest/meta-data/ram/security-credentials/"
ECS_TOKEN_HEADER = "x-aliyun-ecs-metadata-token"
ECS_TOKEN_TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds"


def create_router(state: SandboxState) -> APIRouter:
    """STS's endpoint ``/`` (GET and POST, parameters in the query), answering from ``state.sts``."""
    router = APIRouter()

    async def endpoint(request: Request) -> JSONResponse:
        request_id = new_request_id()
        sts = state.sts
        try:
            sts.check_up("sts")
            params = rpc_params(request.scope["query_string"].decode("latin-1"))
            action = params.get("Action", "")
            if params.get("Version") != API_VERSION:
                raise CamsError("InvalidVersion", "Specified parameter Version is not valid.", 400)
            if action not in ACTIONS:
                raise CamsError(
                    "InvalidAction.NotFound",
                    "Specified api is not found, please check your url and method.",
                    404,
                )
            if action == "AssumeRole":
                source = verify_rpc_request(
                    request.method,
                    params,
                    find_key=state.cams.find_access_key,
                    now=state.clock.wall_time(),
                    use_nonce=sts.use_nonce,
                )
                payload = sts.assume_role(source, params)
            else:
                payload = sts.assume_role_with_oidc(params)
        except CamsError as error:
            request.scope[ENVELOPE_CODE_SCOPE_KEY] = error.code
            return error_response(error, request_id)
        return JSONResponse({"RequestId": request_id, **payload})

    router.add_api_route("/", endpoint, methods=["GET", "POST"], include_in_schema=False)
    return router


def error_response(error: CamsError, request_id: str, host_id: str = HOST_ID) -> JSONResponse:
    """An RPC gateway error: ``{"RequestId","HostId","Code","Message","Recommend"}``."""
    recommend = urlencode({"q": error.code, "product": "Sts", "requestId": request_id})
    body = {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": error.code,
        "Message": error.message,
        "Recommend": f"{RECOMMEND_URL}?{recommend}",
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def create_metadata_router(state: SandboxState) -> APIRouter:
    """The credentials URI and the ECS metadata service, on the main (plain HTTP) port."""
    router = APIRouter()

    @router.get(CREDENTIALS_URI_PATH, include_in_schema=False)
    async def credentials_uri(role: str | None = None) -> Response:
        if role is not None and role not in data.STS_URI_ROLE_NAMES:
            return JSONResponse({"Code": "NotFound", "Message": f"no role {role!r} here"}, status_code=404)
        try:
            return JSONResponse(state.sts.service_credentials("credentials_uri"))
        except CamsError as error:
            return _metadata_error(error)

    @router.put(ECS_TOKEN_PATH, include_in_schema=False)
    async def ecs_token(request: Request) -> Response:
        try:
            token = state.sts.ecs_token(request.headers.get(ECS_TOKEN_TTL_HEADER))
        except CamsError as error:
            return _metadata_error(error)
        except ValueError as problem:
            return PlainTextResponse(str(problem), status_code=400)
        return PlainTextResponse(token)

    @router.get(ECS_CREDENTIALS_PATH, include_in_schema=False)
    async def ecs_roles(request: Request) -> Response:
        refused = _ecs_refusal(state, request)
        if refused is not None:
            return refused
        return PlainTextResponse(data.STS_ECS_ROLE_NAME)

    @router.get(ECS_CREDENTIALS_PATH + "{role}", include_in_schema=False)
    async def ecs_credentials(role: str, request: Request) -> Response:
        refused = _ecs_refusal(state, request)
        if refused is not None:
            return refused
        if role != data.STS_ECS_ROLE_NAME:
            return PlainTextResponse("Not Found", status_code=404)
        return JSONResponse(state.sts.service_credentials("ecs_metadata"))

    return router


def _ecs_refusal(state: SandboxState, request: Request) -> Response | None:
    """503 while down; 401 without a valid token in hardened mode, or with an invalid one in any mode."""
    try:
        state.sts.check_up("ecs_metadata")
    except CamsError as error:
        return _metadata_error(error)
    token = request.headers.get(ECS_TOKEN_HEADER)
    if (token is not None or state.sts.ecs_hardened) and not state.sts.ecs_token_valid(token):
        return PlainTextResponse("Unauthorized", status_code=401)
    return None


def _metadata_error(error: CamsError) -> JSONResponse:
    return JSONResponse({"Code": error.code, "Message": error.message}, status_code=error.status)


class Lifetime(BaseModel):
    """Body of ``POST /_sandbox/sts/lifetime``: seconds every key handed out lives (null: as asked)."""

    seconds: float | None = Field(default=None, gt=0, lt=10**9)


class Outage(BaseModel):
    """Body of ``POST /_sandbox/sts/outage``."""

    down: bool = True
    services: list[str] | None = None  # None: every one of sts.models.SERVICES


class OidcTokenBody(BaseModel):
    """Body of ``POST /_sandbox/sts/oidc-token``."""

    lifetime: float = 3600.0
    subject: str = data.STS_OIDC_SUBJECT
    provider_arn: str = data.STS_OIDC_PROVIDER_ARN


class EcsMode(BaseModel):
    """Body of ``POST /_sandbox/sts/ecs``."""

    hardened: bool


def create_admin_router(state: SandboxState) -> APIRouter:
    """Unsigned STS controls for tests, mounted under ``/_sandbox/sts``."""
    router = APIRouter()

    def describe() -> dict[str, Any]:
        sts = state.sts
        return {
            "lifetime": sts.lifetime,
            "down": sorted(sts.down),
            "services": list(SERVICES),
            "ecs_hardened": sts.ecs_hardened,
            "issued": len(sts.issued),
            "server_time": state.clock.wall_time(),
        }

    @router.get("")
    async def get_sts() -> dict[str, Any]:
        return describe()

    @router.post("/lifetime")
    async def set_lifetime(body: Lifetime) -> dict[str, Any]:
        state.sts.set_lifetime(body.seconds)
        return describe()

    @router.post("/outage")
    async def set_outage(body: Outage) -> dict[str, Any]:
        try:
            state.sts.set_outage(body.down, body.services)
        except ValueError as error:
            raise HTTPException(status_code=400, detail=str(error)) from None
        return describe()

    @router.post("/ecs")
    async def set_ecs(body: EcsMode) -> dict[str, Any]:
        state.sts.ecs_hardened = body.hardened
        return describe()

    @router.post("/oidc-token")
    async def oidc_token(body: OidcTokenBody) -> dict[str, Any]:
        token = state.sts.issue_oidc_token(body.lifetime, body.subject, body.provider_arn)
        expires_at = state.clock.wall_time() + body.lifetime
        return {"token": token, "expires_at": int(expires_at), "expiration": format_time(expires_at)}

    return router
