"""The public API, ``/v1``. Each route: identify, rate-limit, forward."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Header, Query, Request, WebSocket
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field, JsonValue

from shared.clients.auth import CLIENT_IP_HEADER, bearer_token
from shared.http import call_upstream
from shared.password_policy import common_passwords
from shared.schemas import (
    EMAIL_PATTERN,
    MAX_REFRESH_TOKEN_CHARS,
    TASK_ID_PATTERN,
    Strict,
    TaskPage,
    TaskPublic,
    TaskStatus,
    VerdictPublic,
)
from shared.text import MAX_TEXT_CHARS, TEXT_PATTERN

from .access import (
    InvalidToken,
    Reader,
    Submitter,
    call_as,
    error_responses,
    relay,
    take,
    take_for,
)
from .deps import StateDep, get_state
from .ws_proxy import proxy_websocket

router = APIRouter(prefix="/v1")
wellknown = APIRouter()


class LoginRequest(Strict):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254, examples=["ada@example.com"])
    password: str = Field(min_length=8, max_length=128)


class RegisterRequest(LoginRequest):
    # auth_service enforces it (AUTH-PWD-422, any letter case); the schema documents it
    password: str = Field(
        min_length=8,
        max_length=128,
        description="not one of the most common passwords (listed under `not`)",
        json_schema_extra={"not": {"enum": list[JsonValue](sorted(common_passwords()))}},
    )


class RefreshRequest(Strict):
    refresh_token: str = Field(
        min_length=1,
        max_length=MAX_REFRESH_TOKEN_CHARS,
        description="the refresh token of the last login or refresh; spent by this call",
    )


class LogoutRequest(Strict):
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REFRESH_TOKEN_CHARS,
        description="also revoke this login's refresh tokens (this one and every one "
        "descended from the same login)",
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int = Field(description="seconds the access token is valid")
    refresh_token: str = Field(
        description="exchange at POST /v1/auth/refresh for a new pair; single use"
    )
    refresh_expires_in: int = Field(description="seconds the refresh token is valid")
    userId: str


class VerifyRequest(Strict):
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        examples=["The Eiffel Tower is in Paris."],
        description="plain text: no control characters other than tab and line breaks",
        # documented, not checked here: pydantic's regex engine has no lone surrogates
        json_schema_extra={"pattern": TEXT_PATTERN},
    )


class VerifyAccepted(BaseModel):
    taskId: str
    queued: bool = True


class VerifyCached(BaseModel):
    taskId: str
    cached: bool = True
    result: VerdictPublic


_ERRORS = error_responses(400, 401, 403, 413, 415, 422, 429, 503)
_COUNT = {"type": "string", "pattern": "^[0-9]+$"}
# Sent with every answer to a rate-limited request that was let through.
_QUOTA_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {"description": "the bucket's capacity", "schema": _COUNT},
    "RateLimit-Remaining": {"description": "requests left in the bucket", "schema": _COUNT},
    "RateLimit-Warning": {
        "description": "only when fewer than the soft limit (by default 20 % of "
        "RateLimit-Limit) remain: `approaching limit; remaining=<N>`",
        "schema": {"type": "string"},
    },
}
TaskId = Annotated[str, PathParam(pattern=TASK_ID_PATTERN)]


def _answers(answers: dict[int, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: ``answers`` (status: model) come with the quota headers;
    ``errors`` and those of every route answer with our error body."""
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": model, "headers": _QUOTA_HEADERS} for status, model in answers.items()
    }
    return {**documented, **error_responses(*errors), **_ERRORS}


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _forward_auth(request: Request, path: str, body: BaseModel) -> Response:
    state = get_state(request)
    quota = await take(state, "auth", f"ip:{_client_ip(request)}")
    upstream = await call_upstream(
        state.auth_http,
        "POST",
        path,
        service="auth_service",
        content=orjson.dumps(body.model_dump()),
        headers={"content-type": "application/json", CLIENT_IP_HEADER: _client_ip(request)},
    )
    return relay(upstream, quota)


@router.post(
    "/auth/register",
    status_code=201,
    responses=_answers({201: TokenResponse}, 409),
)
async def register(body: RegisterRequest, request: Request) -> Response:
    """Create an account; answers with tokens so the client can start at once."""
    return await _forward_auth(request, "/v1/auth/register", body)


@router.post(
    "/auth/login",
    responses=_answers({200: TokenResponse}),
)
async def login(body: LoginRequest, request: Request) -> Response:
    return await _forward_auth(request, "/v1/auth/login", body)


@router.post(
    "/auth/refresh",
    responses=_answers({200: TokenResponse}),
)
async def refresh(body: RefreshRequest, request: Request) -> Response:
    """Exchange a refresh token for a new access token and a new refresh token. Each
    refresh token works once: presenting a spent one again revokes every refresh token
    of that login (`401 AUTH-REUSE-401`); an unknown, expired or revoked one is
    `401 AUTH-REFRESH-401`."""
    return await _forward_auth(request, "/v1/auth/refresh", body)


@router.post(
    "/auth/logout",
    status_code=204,
    responses=_answers({204: None}),
)
async def logout(
    request: Request,
    state: StateDep,
    body: Annotated[LogoutRequest | None, Body()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Revoke the bearer token, and with `refresh_token` that login's refresh tokens.
    This gateway forgets the bearer token at once; other gateway instances may accept
    it for up to their validation cache time (at most 30 s)."""
    token = bearer_token(authorization, rejected=InvalidToken)
    headers = {"Authorization": f"Bearer {token}"}
    content = None
    if body is not None and body.refresh_token is not None:
        content = orjson.dumps(body.model_dump())
        headers["content-type"] = "application/json"
    quota = await take(state, "auth", f"ip:{_client_ip(request)}")
    upstream = await call_upstream(
        state.auth_http,
        "POST",
        "/v1/auth/logout",
        service="auth_service",
        content=content,
        headers=headers,
    )
    state.auth.forget(token)
    if upstream.status_code == 204:
        return Response(status_code=204, headers=quota.quota_headers())
    return relay(upstream, quota)


@wellknown.get("/.well-known/jwks.json", tags=["auth"])
async def jwks(state: StateDep) -> Response:
    """The public keys (JWK Set, Ed25519) that verify SatyaMark access tokens."""
    return Response(
        await state.auth.jwks(),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post(
    "/verify",
    status_code=202,
    responses=_answers({202: VerifyAccepted, 200: VerifyCached}),
)
async def verify(
    body: VerifyRequest,
    user: Submitter,
    state: StateDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="any unique string (a UUID): the same key with the same text "
            "within 24 h answers with the first request's task, no new job, even when "
            "both race (the replay carries `Idempotent-Replayed: true`); with another "
            "text it is `422 GW-IDEM-422`. Keys are per account.",
        ),
    ] = None,
) -> Response:
    """Submit a text. A cache hit answers at once (200); otherwise the verdict is pushed
    over the WebSocket with the returned taskId."""
    quota = await take_for(state, "verify", user)
    headers = {"content-type": "application/json"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    upstream = await call_as(
        user,
        state.backend_http,
        "backend_service",
        "POST",
        "/internal/verify",
        content=orjson.dumps(body.model_dump()),
        headers=headers,
    )
    return relay(upstream, quota)


@router.get(
    "/tasks",
    responses=_answers({200: TaskPage}),
)
async def list_tasks(
    user: Reader,
    state: StateDep,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(pattern=TASK_ID_PATTERN, description="nextCursor of the last page")
    ] = None,
) -> Response:
    """The caller's own tasks, newest first, a page at a time (keyset pagination: a task
    created meanwhile never shifts a later page)."""
    quota = await take_for(state, "tasks", user)
    params: dict[str, str | int] = {"limit": limit}
    if status is not None:
        params["status"] = status
    if cursor is not None:
        params["cursor"] = cursor
    upstream = await call_as(
        user, state.backend_http, "backend_service", "GET", "/internal/tasks", params=params
    )
    return relay(upstream, quota)


@router.get(
    "/tasks/{task_id}",
    responses=_answers({200: TaskPublic}, 404),
)
async def get_task(task_id: TaskId, user: Reader, state: StateDep) -> Response:
    """One of the caller's own tasks (history and reload recovery; live results are
    pushed over the WebSocket)."""
    quota = await take_for(state, "tasks", user)
    path = f"/internal/tasks/{task_id}"
    upstream = await call_as(user, state.backend_http, "backend_service", "GET", path)
    return relay(upstream, quota)


@router.delete(
    "/tasks/{task_id}",
    responses=_answers({200: TaskPublic}, 404, 409),
)
async def cancel_task(task_id: TaskId, user: Submitter, state: StateDep) -> Response:
    """Cancel one of the caller's tasks that has not finished: it fails with `errorCode`
    `TASK-CANCELLED` (pushed once, like any outcome), a worker that has not started its
    job skips it, and a result that comes anyway is not stored. Answers the task;
    cancelling again answers the same, a finished task is `409 BE-TASK-409`. Someone
    else's task that joined the same job carries on."""
    quota = await take_for(state, "tasks", user)
    upstream = await call_as(
        user, state.backend_http, "backend_service", "DELETE", f"/internal/tasks/{task_id}"
    )
    return relay(upstream, quota)


@router.websocket("/ws")
async def websocket(client: WebSocket) -> None:
    """Proxied to a ws_service instance, so one origin serves the API and the socket."""
    forward = {}
    if "authorization" in client.headers:
        forward["Authorization"] = client.headers["authorization"]
    if "last-event-id" in client.headers:  # header-authenticated clients resume with it
        forward["Last-Event-ID"] = client.headers["last-event-id"]
    upstream = get_state(client).ws_upstreams.next()
    await proxy_websocket(client, upstream, forward_headers=forward)
