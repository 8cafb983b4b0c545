from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from shared.db import open_database
from shared.http import internal_token_checker
from shared.service import new_app

from .config import AuthSettings
from .routes import internal, public
from .tokens import TokenService
from .users import UserRepository


def create_app(settings: AuthSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_database(settings)
        app.state.users = UserRepository(pool)
        app.state.tokens = TokenService(settings)
        try:
            yield
        finally:
            await pool.close()

    app = new_app(title="SatyaMark auth_service", error_prefix="AUTH", lifespan=lifespan)
    app.include_router(public)
    check = internal_token_checker(settings.internal_token.get_secret_value())
    app.include_router(internal, dependencies=[Depends(check)])
    return app
