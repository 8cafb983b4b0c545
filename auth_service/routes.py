from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from shared.errors import Unauthorized

from .passwords import hash_password, verify_password
from .schemas import Credentials, TokenPublic, ValidateRequest, ValidateResponse
from .tokens import TokenService
from .users import UserRepository

public = APIRouter(prefix="/v1/auth")
internal = APIRouter(prefix="/internal")


class WrongCredentials(Unauthorized):
    code = "AUTH-CRED-401"
    default_message = "e-mail or password is wrong"


def _users(request: Request) -> UserRepository:
    return request.app.state.users  # type: ignore[no-any-return]


def _tokens(request: Request) -> TokenService:
    return request.app.state.tokens  # type: ignore[no-any-return]


UsersDep = Annotated[UserRepository, Depends(_users)]
TokensDep = Annotated[TokenService, Depends(_tokens)]


@public.post("/register", status_code=201)
async def register(body: Credentials, users: UsersDep, tokens: TokensDep) -> TokenPublic:
    user = await users.create(body.email.strip(), await hash_password(body.password))
    issued = tokens.issue(user.id)
    return TokenPublic(
        access_token=issued.access_token, expires_in=issued.expires_in, userId=user.id
    )


@public.post("/login")
async def login(body: Credentials, users: UsersDep, tokens: TokensDep) -> TokenPublic:
    user = await users.by_email(body.email.strip())
    if not await verify_password(user.password_hash if user else None, body.password):
        raise WrongCredentials()
    assert user is not None
    issued = tokens.issue(user.id)
    return TokenPublic(
        access_token=issued.access_token, expires_in=issued.expires_in, userId=user.id
    )


@internal.post("/validate")
async def validate(body: ValidateRequest, tokens: TokensDep) -> ValidateResponse:
    claims = tokens.validate(body.token)
    return ValidateResponse(userId=claims.user_id, expiresAt=claims.expires_at)
