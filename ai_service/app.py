"""Builds ai_service: the internal API that puts validated jobs on the job stream."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from shared.redis_client import create_redis
from shared.runtime import closing
from shared.service import service_app

from .config import AiSettings
from .deps import State
from .queue import JobQueue
from .routes import internal


def create_app(settings: AiSettings) -> FastAPI:
    async def open_state(opened: AsyncExitStack) -> State:
        client = closing(opened, create_redis(settings.redis_url, "ai_service", socket_timeout=3.0))
        return State(redis=client, settings=settings, queue=JobQueue(client))

    return service_app(settings, "ai_service", "AI", open_state, internal=[internal])
