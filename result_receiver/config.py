"""Settings of result_receiver (env prefix ``RECEIVER_``): callbacks and the outbox."""

from __future__ import annotations

from dataclasses import fields

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import (
    CallbackSecretMixin,
    CommonSettings,
    DatabaseSettingsMixin,
    RedisSettingsMixin,
)
from shared.signing import DEFAULT_TOLERANCE_S

from .webhook_dispatch import DispatchSettings


class ReceiverSettings(
    CommonSettings, RedisSettingsMixin, DatabaseSettingsMixin, CallbackSecretMixin
):
    model_config = SettingsConfigDict(env_prefix="RECEIVER_", extra="ignore", frozen=True)

    port: int = 8005
    metrics_port: int = 9475
    cache_ttl_s: int = 7 * 24 * 3600
    # Insufficient verdicts expire sooner: a growing knowledge base may settle them.
    cache_insufficient_ttl_s: int = 3600
    timestamp_tolerance_s: int = DEFAULT_TOLERANCE_S
    # Room for the largest valid result: 32 claims at their field limits, each with its
    # evidence, are ~300 KB of ASCII JSON.
    max_body_bytes: int = 512 * 1024
    # Results in one batched callback (a JSON array; see worker/callback.py).
    max_batch_items: int = Field(default=100, ge=1, le=1000)
    # The outbox relay (result_receiver/outbox.py): every outbox_interval_s (0: off),
    # outbox rows not yet delivered to Redis are, outbox_batch at a time.
    outbox_interval_s: float = Field(default=2.0, ge=0)
    outbox_batch: int = Field(default=100, ge=1)
    # Outbound webhooks (result_receiver/webhook_dispatch.py): due deliveries are looked
    # for every webhook_poll_s (0: this instance sends none).
    webhook_poll_s: float = Field(default=0.5, ge=0)
    webhook_max_in_flight: int = Field(default=64, ge=1)
    webhook_per_endpoint: int = Field(default=4, ge=1)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_retry_base_s: float = Field(default=5.0, gt=0)
    webhook_retry_max_s: float = Field(default=3600.0, gt=0)
    webhook_give_up_after_s: float = Field(default=24 * 3600.0, gt=0)
    webhook_disable_after_s: float = Field(default=24 * 3600.0, gt=0)
    # Finished deliveries (each webhook's delivery log) are kept this long.
    webhook_keep_s: float = Field(default=30 * 24 * 3600.0, gt=0)

    def webhook_dispatch(self) -> DispatchSettings:
        """Each ``webhook_<name>`` field here is ``DispatchSettings.<name>``."""
        development = self.env == "development"
        tuned = {
            f.name: getattr(self, f"webhook_{f.name}")
            for f in fields(DispatchSettings)
            if f.name != "development"
        }
        return DispatchSettings(**tuned, development=development)
