"""Settings of the WebSocket service (env prefix ``WS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from ulid import ULID

from shared.config import AuthUrlMixin, BackendUrlMixin, CommonSettings, RedisSettingsMixin


def _new_instance_id() -> str:
    return str(ULID())


class WsSettings(CommonSettings, RedisSettingsMixin, AuthUrlMixin, BackendUrlMixin):
    model_config = SettingsConfigDict(env_prefix="WS_", extra="ignore", frozen=True)

    port: int = 8006
    metrics_port: int = 9476
    # Admins' sockets get the queue view (backend_service's admin API, ``backend_url``)
    # pushed this often.
    ops_push_interval_s: float = Field(2.0, gt=0)
    # Names this process's pub/sub channel and its entries in ws:user:<id>; a fresh id
    # per process, so a restarted instance never inherits a dead one's routing.
    instance_id: str = Field(default_factory=_new_instance_id, min_length=1, max_length=64)
    auth_timeout_s: float = Field(5.0, gt=0)
    auth_call_timeout_s: float = Field(3.0, gt=0)
    # Protocol-level keepalive (uvicorn ping/pong); a peer that misses a pong is dropped.
    ping_interval_s: float = Field(20.0, gt=0)
    ping_timeout_s: float = Field(20.0, gt=0)
    max_message_bytes: int = Field(4096, ge=256)
    # Per-socket outbound queue: a client that falls this far behind is disconnected
    # instead of holding memory or slowing delivery to others.
    send_queue_size: int = Field(256, ge=1)
    send_timeout_s: float = Field(10.0, gt=0)
    # ws:user:<id> hashes expire unless refreshed (every third of the TTL), so a crashed
    # instance's entries go away. Correctness does not hang on it: vanished entries are
    # restored (ws_service.recovery) on reconnect, on data loss and at each refresh.
    registration_ttl_s: int = Field(90, ge=3)
    # How often the Redis epoch marker is read to notice data loss (shared.keys.REDIS_EPOCH).
    epoch_check_interval_s: float = Field(1.0, gt=0, le=60)
    shutdown_close_timeout_s: float = Field(5.0, gt=0)
    # Most events replayed to a reconnecting client (the newest win; older ones are
    # reported as truncated). Match or exceed the publishers' event log length.
    replay_max_events: int = Field(1000, ge=1, le=10_000)
