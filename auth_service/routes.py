from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from shared.clients.auth import API_KEY_PREFIX, CLIENT_IP_HEADER, bearer_token
from shared.errors import NotFound, Unauthorized
from shared.http import USER_ID_HEADER
from shared.schemas import API_KEY_ID_PATTERN, ApiKeyCreate, ApiKeyCreated, ApiKeyList

from .deps import (
    ApiKeysDep,
    RefreshDep,
    RevocationsDep,
    ThrottleDep,
    TokensDep,
    UsersDep,
    get_state,
)
from .passwords import check_password_policy, hash_password, verify_password
from .refresh import IssuedRefresh
from .revocation import Revocations
from .schemas import (
    Credentials,
    LogoutRequest,
    RefreshRequest,
    TokenPublic,
    ValidateRequest,
    ValidateResponse,
)
from .throttle import subjects
from .tokens import InvalidToken, TokenClaims, TokenService

public = APIRouter(prefix="/v1/auth")
internal = APIRouter(prefix="/internal")
wellknown = APIRouter()


class WrongCredentials(
    Unauthorized, code="AUTH-CRED-401", message="e-mail or password is wrong"
): ...


async def client_ip(request: Request) -> str:
    forwarded = request.headers.get(CLIENT_IP_HEADER)
    if forwarded:
        if await get_state(request).service_auth.is_authentic(request):
            return forwarded.strip()[:64]
    return request.client.host if request.client else "unknown"


async def valid_claims(token: str, tokens: TokenService, revocations: Revocations) -> TokenClaims:
    claims = tokens.validate(token)
    if await revocations.is_revoked(claims.jti):
        raise InvalidToken("token has been revoked")
    return claims


def _token_pair(
    user_id: str, tokens: TokenService, refresh: IssuedRefresh, role: str = "user"
) -> TokenPublic:
    issued = tokens.issue(user_id, role)
    return TokenPublic(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=refresh.refresh_token,
        refresh_expires_in=refresh.expires_in,
        userId=user_id,
    )


@public.post("/register", status_code=201)
async def register(
    body: Credentials, users: UsersDep, tokens: TokensDep, refresh: RefreshDep
) -> TokenPublic:
    check_password_policy(body.password)
    user = await users.create(body.email.strip(), await hash_password(body.password))
    return _token_pair(user.id, tokens, await refresh.issue(user.id))


@public.post("/login")
async def login(
    body: Credentials,
    request: Request,
    users: UsersDep,
    tokens: TokensDep,
    throttle: ThrottleDep,
    refresh: RefreshDep,
) -> TokenPublic:
    buckets = subjects(body.email, await client_ip(request))
    await throttle.ensure_allowed(buckets)
    user = await users.by_email(body.email.strip())
    if not await verify_password(user.password_hash if user else None, body.password):
        await throttle.record_failure(buckets)
        raise WrongCredentials()
    assert user is not None
    return _token_pair(user.id, tokens, await refresh.issue(user.id), user.role)


@public.post("/refresh")
async def refresh_tokens(
    body: RefreshRequest, tokens: TokensDep, refresh: RefreshDep, users: UsersDep
) -> TokenPublic:
    """A new access token and a new refresh token for a refresh token, which is spent.
    The role is read again: a grant or revoke shows from the next refresh on."""
    rotated = await refresh.rotate(body.refresh_token)
    role = await users.role_of(rotated.user_id)
    return _token_pair(rotated.user_id, tokens, rotated.refresh, role)


@public.post("/logout", status_code=204)
async def logout(
    tokens: TokensDep,
    revocations: RevocationsDep,
    refresh: RefreshDep,
    body: Annotated[LogoutRequest | None, Body()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """Revoke the presented token at once (every copy of it, on every device), and with
    ``refresh_token`` the caller's refresh tokens of that login too. A refresh token that
    is unknown or someone else's is left alone."""
    token = bearer_token(authorization, rejected=InvalidToken)
    claims = await valid_claims(token, tokens, revocations)
    if body is not None and body.refresh_token is not None:
        await refresh.revoke_family(body.refresh_token, claims.user_id)
    await revocations.revoke(claims)
    return Response(status_code=204)


@wellknown.get("/.well-known/jwks.json")
async def jwks(tokens: TokensDep) -> JSONResponse:
    """Public keys that verify our tokens (every configured key, rotation included)."""
    return JSONResponse(tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@internal.post("/validate")
async def validate(
    body: ValidateRequest, tokens: TokensDep, revocations: RevocationsDep, api_keys: ApiKeysDep
) -> ValidateResponse:
    """A login token or an API key. A key never carries the admin role: operators act
    with their own login."""
    if body.token.startswith(API_KEY_PREFIX):
        owner = await api_keys.validate(body.token)
        return ValidateResponse(
            userId=owner.user_id,
            expiresAt=owner.trust_until,
            keyId=owner.key_id,
            scopes=owner.scopes,
        )
    claims = await valid_claims(body.token, tokens, revocations)
    return ValidateResponse(userId=claims.user_id, expiresAt=claims.expires_at, role=claims.role)


UserId = Annotated[str, Header(alias=USER_ID_HEADER, min_length=1, max_length=64)]


class NoSuchKey(NotFound, code="AUTH-KEY-404", message="no such API key"): ...


@internal.post("/api-keys", status_code=201)
async def create_api_key(
    body: ApiKeyCreate, user_id: UserId, api_keys: ApiKeysDep
) -> ApiKeyCreated:
    key, full = await api_keys.create(user_id, body.name, body.scopes, body.expiresAt)
    return ApiKeyCreated(**key.public(), key=full)


@internal.get("/api-keys")
async def list_api_keys(user_id: UserId, api_keys: ApiKeysDep) -> ApiKeyList:
    return ApiKeyList.model_validate({"items": [k.public() for k in await api_keys.list(user_id)]})


@internal.delete("/api-keys/{key_id}", status_code=204)
async def revoke_api_key(
    key_id: Annotated[str, PathParam(pattern=API_KEY_ID_PATTERN)],
    user_id: UserId,
    api_keys: ApiKeysDep,
) -> Response:
    if not await api_keys.revoke(user_id, key_id):
        raise NoSuchKey()
    return Response(status_code=204)
