"""Settings shared by every service.

Each service has one pydantic-settings class with its own env prefix (``GATEWAY_PORT``,
``WORKER_BATCH_SIZE`` …). Fields every deployment sets once for the whole system
(``REDIS_URL``, ``DATABASE_URL``, the internal secrets, the service URLs) carry an
explicit alias so they are read without prefix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only placeholders. ``_refuse_placeholders`` makes sure they never reach
# production; the run command replaces them with random secrets anyway.
DEV_INTERNAL_TOKEN = "dev-internal-token-change-me"
DEV_CALLBACK_SECRET = "dev-callback-secret-change-me"

# Shared secrets shorter than this are refused in production (HMAC keys, tokens).
MIN_SECRET_CHARS = 32

Environment = Literal["development", "test", "production"]


def env_alias(name: str) -> AliasChoices:
    return AliasChoices(name)


class CommonSettings(BaseSettings):
    """Fields used by more than one service; subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    env: Environment = Field(default="development", validation_alias=env_alias("SATYAMARK_ENV"))
    log_level: str = Field(default="INFO", validation_alias=env_alias("LOG_LEVEL"))
    internal_token: SecretStr = Field(
        default=SecretStr(DEV_INTERNAL_TOKEN),
        validation_alias=env_alias("SATYAMARK_INTERNAL_TOKEN"),
    )
    # Keys that sign service-to-service requests, by key id (JSON object). Every one is
    # accepted; ``internal_active_kid`` is the one this process signs with. Empty: the
    # single key "default" = ``internal_token`` (shared/service_auth.py).
    internal_keys: dict[str, SecretStr] = Field(
        default_factory=dict, validation_alias=env_alias("SATYAMARK_INTERNAL_KEYS")
    )
    internal_active_kid: str | None = Field(
        default=None, validation_alias=env_alias("SATYAMARK_INTERNAL_ACTIVE_KID")
    )
    internal_auth_window_s: int = Field(
        default=60, ge=1, le=3600, validation_alias=env_alias("SATYAMARK_INTERNAL_AUTH_WINDOW_S")
    )
    # Where each receiving process remembers the nonces it has seen: "memory" (its own
    # window, no round trip; a replay is refused by the instance that saw the first use)
    # or "redis" (one window for every instance, one SET NX per internal call).
    internal_replay_store: Literal["memory", "redis"] = Field(
        default="memory", validation_alias=env_alias("SATYAMARK_INTERNAL_REPLAY_STORE")
    )
    host: str = "127.0.0.1"
    port: int = 0
    # /metrics, /livez and /readyz on a port of their own (shared/metrics_server.py);
    # each service sets its default (9470-9476, workers 9490), 0 turns it off.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # where the metrics port listens, for every process (a scraper in another container
    # or pod needs 0.0.0.0)
    metrics_host: str = Field(default="127.0.0.1", validation_alias=env_alias("METRICS_HOST"))
    # Proxies whose X-Forwarded-For/-Proto are believed (comma-separated IPs or CIDRs,
    # "*" for any: only where nothing but the proxy can reach the service). Empty: the
    # peer address is the client (per-IP rate limits would otherwise count the proxy).
    forwarded_allow_ips: str = Field(default="", validation_alias=env_alias("FORWARDED_ALLOW_IPS"))

    def _check_internal_keys(self) -> None:
        for kid in self.internal_keys:
            if not kid or len(kid) > 64 or not kid.isascii() or not kid.isprintable():
                raise ValueError(f"internal key id {kid!r} must be 1-64 printable ASCII chars")
            if " " in kid:
                raise ValueError(f"internal key id {kid!r} must not contain spaces")
        active = self.internal_active_kid
        known = set(self.internal_keys) or {"default"}
        if active is not None and active not in known:
            raise ValueError(f"SATYAMARK_INTERNAL_ACTIVE_KID {active!r} is not a configured key")
        if active is None and len(self.internal_keys) > 1:
            raise ValueError("several SATYAMARK_INTERNAL_KEYS: set SATYAMARK_INTERNAL_ACTIVE_KID")

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> CommonSettings:
        self._check_internal_keys()
        if self.env != "production":
            return self
        secrets: list[tuple[str, SecretStr]] = []
        for name, value in self.__dict__.items():
            if isinstance(value, SecretStr):
                # internal_token is unused (and may stay unset) once keys are given
                if name != "internal_token" or not self.internal_keys:
                    secrets.append((name, value))
            elif isinstance(value, dict):
                secrets.extend(
                    (f"{name}[{key}]", item)
                    for key, item in value.items()
                    if isinstance(item, SecretStr)
                )
        for name, secret_value in secrets:
            secret = secret_value.get_secret_value()
            if "change-me" in secret:
                raise ValueError(f"{name} still holds the development placeholder")
            if len(secret) < MIN_SECRET_CHARS:
                raise ValueError(f"{name} is shorter than {MIN_SECRET_CHARS} characters")
        return self


class RedisSettingsMixin(BaseSettings):
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=env_alias("REDIS_URL")
    )


class DatabaseSettingsMixin(BaseSettings):
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/satyamark",
        validation_alias=env_alias("DATABASE_URL"),
    )
    db_pool_min: int = Field(default=2, validation_alias=env_alias("DB_POOL_MIN"))
    db_pool_max: int = Field(default=10, validation_alias=env_alias("DB_POOL_MAX"))
    run_migrations: bool = Field(default=True, validation_alias=env_alias("RUN_MIGRATIONS"))
    # "transaction": DATABASE_URL is a transaction pooler (pgbouncer, Neon's pooled
    # endpoint): no prepared-statement cache, no session state (shared/db.py).
    database_pool_mode: Literal["session", "transaction"] = Field(
        default="session", validation_alias=env_alias("DATABASE_POOL_MODE")
    )
    # Migrations take a session advisory lock: a direct connection, not the pooler.
    database_migration_url: str | None = Field(
        default=None, validation_alias=env_alias("DATABASE_MIGRATION_URL")
    )

    @property
    def migration_url(self) -> str:
        return self.database_migration_url or self.database_url


class CallbackSecretMixin(BaseSettings):
    callback_secret: SecretStr = Field(
        default=SecretStr(DEV_CALLBACK_SECRET), validation_alias=env_alias("CALLBACK_SECRET")
    )


AUTH_URL_DEFAULT = "http://127.0.0.1:8001"
RATELIMIT_URL_DEFAULT = "http://127.0.0.1:8002"
BACKEND_URL_DEFAULT = "http://127.0.0.1:8003"
AI_URL_DEFAULT = "http://127.0.0.1:8004"
RECEIVER_URL_DEFAULT = "http://127.0.0.1:8005"
WS_URL_DEFAULT = "http://127.0.0.1:8006"


def service_url(name: str, default: str) -> str:
    """A field default for another service's base URL, read from ``<NAME>_URL``."""
    return Field(default=default, validation_alias=env_alias(f"{name}_URL"))


class AuthUrlMixin(BaseSettings):
    auth_url: str = service_url("AUTH", AUTH_URL_DEFAULT)


class BackendUrlMixin(BaseSettings):
    backend_url: str = service_url("BACKEND", BACKEND_URL_DEFAULT)
