"""What the gateway's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from shared.clients.auth import AuthClient
from shared.clients.ratelimit import RateLimitClient
from shared.health import Probe, service_probe
from shared.http import InternalClient
from shared.runtime import runtime_of, state_getter

from .config import GatewaySettings
from .ws_proxy import UpstreamPicker


@dataclass(frozen=True, slots=True)
class State:
    settings: GatewaySettings
    auth: AuthClient
    ratelimit: RateLimitClient
    # raw clients for the calls relayed as they are (auth routes, backend routes)
    auth_http: InternalClient
    backend_http: InternalClient
    ws_upstreams: UpstreamPicker
    ratelimit_http: InternalClient

    def probes(self) -> dict[str, Probe]:
        return {
            "auth_service": service_probe(self.auth_http),
            "ratelimit_service": service_probe(self.ratelimit_http),
            "backend_service": service_probe(self.backend_http),
        }


def get_state(conn: HTTPConnection) -> State:
    """The state, for code that is not a dependency (a WebSocket route, a check)."""
    return runtime_of(conn, State)


StateDep = Annotated[State, Depends(state_getter(State))]
