"""auth_service settings.

Signing keys: ``AUTH_JWT_KEYS`` is a JSON object ``{"<kid>": "<Ed25519 private key PEM>"}``
and ``AUTH_JWT_ACTIVE_KID`` names the one that signs new tokens (optional when there is
only one). Every key listed verifies, which is how keys rotate: add the new key, make it
active, and remove the old one once the tokens it signed have expired (``AUTH_JWT_TTL_S``).
Without keys a development or test process makes a throw-away key; production refuses
to start.
"""

from __future__ import annotations

import json

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import (
    RATELIMIT_URL_DEFAULT,
    CommonSettings,
    DatabaseSettingsMixin,
    RedisSettingsMixin,
    service_url,
)


def parse_key_map(raw: str) -> dict[str, str]:
    """``AUTH_JWT_KEYS`` as ``{kid: pem}``; empty string = no keys configured."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError("AUTH_JWT_KEYS must be a JSON object {kid: PEM}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError("AUTH_JWT_KEYS must be a JSON object {kid: PEM}")
    return value


class AuthSettings(CommonSettings, DatabaseSettingsMixin, RedisSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    port: int = 8001
    metrics_port: int = 9471
    jwt_keys: SecretStr = SecretStr("")
    jwt_active_kid: str = ""
    jwt_ttl_s: int = Field(default=3600, gt=0)
    jwt_issuer: str = "satyamark-auth"
    jwt_audience: str = "satyamark"
    # Refresh tokens: each lives this long from its issue and is replaced at every use.
    refresh_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    # How often expired refresh tokens are deleted from PostgreSQL (0 = never).
    refresh_purge_interval_s: float = Field(default=3600.0, ge=0)
    # Failed logins are counted per account and per client IP in ratelimit_service
    # (rule "login-fail"); at an empty bucket the password is not even checked.
    ratelimit_url: str = service_url("RATELIMIT", RATELIMIT_URL_DEFAULT)
    login_fail_endpoint: str = "login-fail"

    @model_validator(mode="after")
    def _keys_are_usable(self) -> AuthSettings:
        keys = parse_key_map(self.jwt_keys.get_secret_value())
        if not keys:
            if self.env == "production":
                raise ValueError("production needs AUTH_JWT_KEYS (JSON {kid: Ed25519 PEM})")
            return self
        if self.jwt_active_kid and self.jwt_active_kid not in keys:
            raise ValueError(f"AUTH_JWT_ACTIVE_KID {self.jwt_active_kid!r} is not in AUTH_JWT_KEYS")
        if not self.jwt_active_kid and len(keys) > 1:
            raise ValueError("several AUTH_JWT_KEYS: set AUTH_JWT_ACTIVE_KID to the signing one")
        return self
