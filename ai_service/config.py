"""Settings of ai_service (env prefix ``AI_``): payload limit and queue backpressure."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import CommonSettings, RedisSettingsMixin
from shared.text import MAX_TEXT_CHARS


class AiSettings(CommonSettings, RedisSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="AI_", extra="ignore", frozen=True)

    port: int = 8004
    metrics_port: int = 9474
    max_payload_chars: int = MAX_TEXT_CHARS
    # Backpressure: refuse new jobs while this many are waiting or in progress.
    max_backlog: int = 10_000
    busy_retry_after_s: int = 5
