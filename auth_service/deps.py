"""What auth_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from shared.runtime import StoresState, runtime_of, state_getter, state_part
from shared.service_auth import ServiceAuth

from .api_keys import ApiKeys
from .config import AuthSettings
from .refresh import RefreshTokens
from .revocation import Revocations
from .throttle import LoginThrottle
from .tokens import TokenService
from .users import UserRepository


@dataclass(frozen=True, slots=True)
class State(StoresState):
    settings: AuthSettings
    users: UserRepository
    api_keys: ApiKeys
    refresh: RefreshTokens
    tokens: TokenService
    revocations: Revocations
    throttle: LoginThrottle
    service_auth: ServiceAuth


def get_state(conn: HTTPConnection) -> State:
    """The state, for code that is not a dependency (a WebSocket route, a check)."""
    return runtime_of(conn, State)


StateDep = Annotated[State, Depends(state_getter(State))]
UsersDep = Annotated[UserRepository, Depends(state_part(State, lambda s: s.users))]
ApiKeysDep = Annotated[ApiKeys, Depends(state_part(State, lambda s: s.api_keys))]
TokensDep = Annotated[TokenService, Depends(state_part(State, lambda s: s.tokens))]
RevocationsDep = Annotated[Revocations, Depends(state_part(State, lambda s: s.revocations))]
ThrottleDep = Annotated[LoginThrottle, Depends(state_part(State, lambda s: s.throttle))]
RefreshDep = Annotated[RefreshTokens, Depends(state_part(State, lambda s: s.refresh))]
