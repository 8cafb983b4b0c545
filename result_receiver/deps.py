"""What result_receiver's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.runtime import StoresState, state_getter

from .config import ReceiverSettings
from .followers import InflightLead
from .outbox import OutboxRelay
from .store import ResultStore


@dataclass(frozen=True, slots=True)
class State(StoresState):
    settings: ReceiverSettings
    store: ResultStore
    inflight: InflightLead
    relay: OutboxRelay


StateDep = Annotated[State, Depends(state_getter(State))]
