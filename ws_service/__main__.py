"""``python -m ws_service``: run the WebSocket service."""

from __future__ import annotations

from shared.service import serve

from .app import create_app
from .config import WsSettings
from .server import WsServer


def main() -> None:
    settings = WsSettings()
    serve(
        create_app(settings),
        settings,
        service_name="ws_service",
        server_class=WsServer,
        ws="websockets-sansio",
        # The protocol layer refuses oversize frames before buffering them.
        ws_max_size=settings.max_message_bytes,
        ws_ping_interval=settings.ping_interval_s,
        ws_ping_timeout=settings.ping_timeout_s,
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
