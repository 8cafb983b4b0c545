"""What auth_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
import redis.asyncio as aioredis
from fastapi import Depends, Request

from shared.health import Probe, postgres_probe, redis_probe
from shared.service import state_getter
from shared.service_auth import ServiceAuth

from .api_keys import ApiKeys
from .config import AuthSettings
from .refresh import RefreshTokens
from .revocation import Revocations
from .throttle import LoginThrottle
from .tokens import TokenService
from .users import UserRepository


@dataclass(frozen=True, slots=True)
class State:
    settings: AuthSettings
    redis: aioredis.Redis
    pool: asyncpg.Pool
    users: UserRepository
    api_keys: ApiKeys
    refresh: RefreshTokens
    tokens: TokenService
    revocations: Revocations
    throttle: LoginThrottle
    service_auth: ServiceAuth

    def probes(self) -> dict[str, Probe]:
        return {"redis": redis_probe(self.redis), "postgres": postgres_probe(self.pool)}


get_state = state_getter(State)


def _users(request: Request) -> UserRepository:
    return get_state(request).users


def _api_keys(request: Request) -> ApiKeys:
    return get_state(request).api_keys


def _tokens(request: Request) -> TokenService:
    return get_state(request).tokens


def _revocations(request: Request) -> Revocations:
    return get_state(request).revocations


def _throttle(request: Request) -> LoginThrottle:
    return get_state(request).throttle


def _refresh(request: Request) -> RefreshTokens:
    return get_state(request).refresh


StateDep = Annotated[State, Depends(get_state)]
UsersDep = Annotated[UserRepository, Depends(_users)]
ApiKeysDep = Annotated[ApiKeys, Depends(_api_keys)]
TokensDep = Annotated[TokenService, Depends(_tokens)]
RevocationsDep = Annotated[Revocations, Depends(_revocations)]
ThrottleDep = Annotated[LoginThrottle, Depends(_throttle)]
RefreshDep = Annotated[RefreshTokens, Depends(_refresh)]
