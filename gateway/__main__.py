"""``python -m gateway``: run the public API (HTTPS when a certificate is configured)."""

from typing import Any

from shared.service import serve

from .app import create_app
from .config import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    tls: dict[str, Any] = (
        {"ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file}
        if settings.tls_enabled
        else {}
    )
    serve(create_app(settings), settings, service_name="gateway", **tls)


if __name__ == "__main__":
    main()
