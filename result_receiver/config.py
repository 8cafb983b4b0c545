from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import (
    CallbackSecretMixin,
    CommonSettings,
    DatabaseSettingsMixin,
    RedisSettingsMixin,
)
from shared.signing import DEFAULT_TOLERANCE_S


class ReceiverSettings(
    CommonSettings, RedisSettingsMixin, DatabaseSettingsMixin, CallbackSecretMixin
):
    model_config = SettingsConfigDict(env_prefix="RECEIVER_", extra="ignore", frozen=True)

    port: int = 8005
    cache_ttl_s: int = 7 * 24 * 3600
    timestamp_tolerance_s: int = DEFAULT_TOLERANCE_S
    max_body_bytes: int = 64 * 1024
