"""Settings for services under test: explicit values, never the developer's env."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from shared.service_auth import InternalSigner, Keyring

INTERNAL_TOKEN = "test-internal-token-0123456789"
# What services built from ``common()`` sign and accept (key "default" = the token);
# pass ``auth=SIGNED`` to an httpx client or request to call internal endpoints.
INTERNAL_KEYRING = Keyring.single(INTERNAL_TOKEN)
SIGNED = InternalSigner(INTERNAL_KEYRING)
CALLBACK_SECRET = "test-callback-secret-0123456789"


def common(redis_url: str | None = None, database_url: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {"env": "test", "internal_token": SecretStr(INTERNAL_TOKEN)}
    if redis_url:
        values["redis_url"] = redis_url
    if database_url:
        values["database_url"] = database_url
    return values
