"""Settings of the gateway (env prefix ``GATEWAY_``): upstreams, limits, TLS, CORS."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import (
    RATELIMIT_URL_DEFAULT,
    WS_URL_DEFAULT,
    AuthUrlMixin,
    BackendUrlMixin,
    CommonSettings,
    RedisSettingsMixin,
    env_alias,
    service_url,
)

# The web app as `npm run build -w frontend` leaves it.
_REPO_FRONTEND = Path(__file__).resolve().parents[1] / "frontend" / "dist"


class GatewaySettings(CommonSettings, RedisSettingsMixin, AuthUrlMixin, BackendUrlMixin):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    port: int = 8000
    metrics_port: int = 9470
    ratelimit_url: str = service_url("RATELIMIT", RATELIMIT_URL_DEFAULT)
    # Comma-separated ws_service base URLs; sockets are spread over them round-robin.
    ws_urls: str = Field(WS_URL_DEFAULT, validation_alias=env_alias("WS_URLS"))
    max_body_bytes: int = 64 * 1024
    # A validated token is trusted this long without asking auth_service again, so a
    # logged-out token may keep working this long (0 = ask every time).
    auth_cache_ttl_s: float = Field(default=30.0, ge=0, le=30)
    auth_cache_size: int = 50_000
    cors_origins: list[str] = Field(default_factory=list)
    # Serve HTTPS directly (both set) and send HSTS. In production a reverse proxy that
    # terminates TLS in front of the gateway is the better place (README).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # The built web app served at /; empty = the repository's frontend/dist when built.
    frontend_dir: str = ""

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)

    @property
    def frontend_path(self) -> Path | None:
        path = Path(self.frontend_dir) if self.frontend_dir else _REPO_FRONTEND
        return path if (path / "index.html").is_file() else None

    @property
    def ws_upstreams(self) -> list[str]:
        urls = [u.strip().rstrip("/") for u in self.ws_urls.split(",") if u.strip()]
        return [
            u.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws" for u in urls
        ]
