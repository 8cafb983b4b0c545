"""Who calls the public API and what it may do: the bearer (a login token or an API
key) validated, its scopes checked, its rate-limit buckets spent, and calls to internal
services made on its behalf."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import Response

from shared.clients.auth import Identity, bearer_token
from shared.clients.ratelimit import Decision
from shared.errors import Forbidden, RateLimited, Unauthorized
from shared.http import (
    IDEMPOTENT_REPLAY_HEADER,
    USER_ID_HEADER,
    InternalClient,
    InternalResponse,
    call_upstream,
)
from shared.schemas import ErrorBody, Scope

from .deps import State, StateDep


class InvalidToken(Unauthorized, code="GW-AUTH-401", message="token is invalid or expired"): ...


async def take(state: State, endpoint: str, subject: str) -> Decision:
    """Spend one token; raise ``RateLimited`` (429 + Retry-After) when none is left."""
    decision = await state.ratelimit.take(endpoint, subject)
    if not decision.allowed:
        retry_after_s = decision.retry_after_s
        raise RateLimited(
            f"rate limit for {endpoint} exceeded, retry in {retry_after_s}s",
            code="GW-RATE-429",
            headers={"Retry-After": str(retry_after_s), **decision.quota_headers()},
        )
    return decision


class OutOfScope(Forbidden, code="GW-SCOPE-403", message="this API key may not do that"): ...


async def current_user(
    state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> Identity:
    """The caller: a login token's user, or an API key's owner (with its scopes)."""
    return await state.auth.validate(bearer_token(authorization, rejected=InvalidToken))


User = Annotated[Identity, Depends(current_user)]


def scoped(scope: Scope) -> Callable[[Identity], Awaitable[Identity]]:
    # async although nothing is awaited: FastAPI runs a plain def in a worker thread
    async def allowed(user: User) -> Identity:
        if not user.allows(scope):
            raise OutOfScope(f"this API key lacks the {scope} scope")
        return user

    return allowed


async def logged_in(user: User) -> Identity:
    """A login token, not an API key: a leaked key must not mint or manage keys."""
    if user.key_id is not None:
        raise OutOfScope("this needs a login token, not an API key")
    return user


Submitter = Annotated[Identity, Depends(scoped("verify"))]
Reader = Annotated[Identity, Depends(scoped("tasks:read"))]
LoggedIn = Annotated[Identity, Depends(logged_in)]


async def take_for(state: State, endpoint: str, user: Identity) -> Decision:
    """Spend from the caller's bucket, and for an API key from the key's own as well;
    the answer's headers describe the fuller of the two."""
    decision = await take(state, endpoint, f"user:{user.user_id}")
    if user.key_id is not None:
        per_key = await take(state, f"{endpoint}-key", f"key:{user.key_id}")
        decision = min(decision, per_key, key=lambda d: d.remaining)
    return decision


def relay(upstream: InternalResponse, quota: Decision | None) -> Response:
    """Pass an internal service's answer on, keeping only headers meant for clients."""
    headers = quota.quota_headers() if quota else {}
    for name in ("Retry-After", IDEMPOTENT_REPLAY_HEADER):
        if name in upstream.headers:
            headers[name] = upstream.headers[name]
    if upstream.status_code == 204:
        return Response(status_code=204, headers=headers)
    return Response(
        upstream.content,
        status_code=upstream.status_code,
        headers=headers,
        media_type="application/json",
    )


async def call_as(
    user: Identity, http: InternalClient, service: str, method: str, path: str, **kw: Any
) -> InternalResponse:
    """Call an internal API on ``user``'s behalf (the signed user-id header says who)."""
    headers = {USER_ID_HEADER: user.user_id, **kw.pop("headers", {})}
    return await call_upstream(http, method, path, service=service, headers=headers, **kw)


async def forward_as(
    user: Identity,
    state: State,
    http: InternalClient,
    service: str,
    method: str,
    path: str,
    **kw: Any,
) -> Response:
    """Spend from the caller's ``tasks`` bucket, call ``path`` on their behalf and relay
    the answer (the management routes: API keys, webhooks)."""
    quota = await take_for(state, "tasks", user)
    return relay(await call_as(user, http, service, method, path, **kw), quota)


@dataclass(frozen=True, slots=True)
class UserRelay:
    """``forward_as`` to the routes under ``prefix`` of one internal service."""

    service: str
    prefix: str
    client: Callable[[State], InternalClient]

    async def __call__(
        self, state: State, user: Identity, method: str, path: str = "", **kw: Any
    ) -> Response:
        http = self.client(state)
        return await forward_as(user, state, http, self.service, method, self.prefix + path, **kw)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: these statuses answer with our error body."""
    return {status: {"model": ErrorBody} for status in statuses}


def management_router(prefix: str, tag: str) -> APIRouter:
    """The routes where a logged-in user manages their API keys or webhooks."""
    return APIRouter(prefix=prefix, tags=[tag], responses=error_responses(401, 403, 422, 429, 503))
