"""Settings of backend_service (env prefix ``BACKEND_``): cache, enqueue, sweeper."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import (
    AI_URL_DEFAULT,
    RECEIVER_URL_DEFAULT,
    CommonSettings,
    DatabaseSettingsMixin,
    RedisSettingsMixin,
    service_url,
)
from shared.text import MAX_TEXT_CHARS


class BackendSettings(CommonSettings, RedisSettingsMixin, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="BACKEND_", extra="ignore", frozen=True)

    port: int = 8003
    metrics_port: int = 9473
    ai_url: str = service_url("AI", AI_URL_DEFAULT)
    # Public base URL workers call back (may be https:// for remote GPU hosts).
    receiver_url: str = service_url("RECEIVER", RECEIVER_URL_DEFAULT)
    cache_ttl_s: int = 7 * 24 * 3600
    # Insufficient verdicts expire sooner: a growing knowledge base may settle them.
    cache_insufficient_ttl_s: int = 3600
    max_text_chars: int = MAX_TEXT_CHARS
    # How long a text counts as "being verified" for joining (longer than any job).
    inflight_ttl_s: int = 3600

    # The sweeper (backend_service/sweeper.py): every sweep_interval_s (0: off), queued
    # tasks older than sweep_after_s whose job is missing from the stream are re-enqueued.
    sweep_interval_s: float = Field(default=30.0, ge=0)
    sweep_after_s: float = Field(default=120.0, gt=0)
    sweep_batch: int = Field(default=500, ge=1)

    @property
    def callback_url(self) -> str:
        return self.receiver_url.rstrip("/") + "/ai-callback"
