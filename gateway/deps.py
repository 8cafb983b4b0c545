"""What the gateway's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends

from shared.clients.auth import AuthClient
from shared.clients.ratelimit import RateLimitClient
from shared.health import Probe, service_probe
from shared.runtime import state_getter

from .config import GatewaySettings
from .ws_proxy import UpstreamPicker


@dataclass(frozen=True, slots=True)
class State:
    settings: GatewaySettings
    auth: AuthClient
    ratelimit: RateLimitClient
    # raw clients for the calls relayed as they are (auth routes, backend routes)
    auth_http: httpx.AsyncClient
    backend_http: httpx.AsyncClient
    ws_upstreams: UpstreamPicker
    ratelimit_http: httpx.AsyncClient

    def probes(self) -> dict[str, Probe]:
        return {
            "auth_service": service_probe(self.auth_http),
            "ratelimit_service": service_probe(self.ratelimit_http),
            "backend_service": service_probe(self.backend_http),
        }


get_state = state_getter(State)


StateDep = Annotated[State, Depends(get_state)]
