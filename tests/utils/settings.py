"""Settings for services under test: explicit values, never the developer's env."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

INTERNAL_TOKEN = "test-internal-token-0123456789"
CALLBACK_SECRET = "test-callback-secret-0123456789"


def common(redis_url: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"env": "test", "internal_token": SecretStr(INTERNAL_TOKEN)}
    if redis_url:
        values["redis_url"] = redis_url
    if database_url:
        values["database_url"] = database_url
    return values
