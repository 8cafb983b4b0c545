"""What backend_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.runtime import StoresState, state_getter

from .config import BackendSettings
from .enqueue import JobSender
from .idempotency import IdempotencyKeys
from .intake import Intake
from .sweeper import Sweeper
from .tasks import TaskRepository
from .verify import Verifier


@dataclass(frozen=True, slots=True)
class State(StoresState):
    settings: BackendSettings
    tasks: TaskRepository
    verifier: Verifier
    sweeper: Sweeper
    intake: Intake
    jobs: JobSender  # ai_service's job intake: jobs an operator replays
    idempotency: IdempotencyKeys


StateDep = Annotated[State, Depends(state_getter(State))]
