"""``python -m ratelimit_service``: run the rate-limit service."""

from shared.service import serve

from .app import create_app
from .config import RateLimitSettings


def main() -> None:
    settings = RateLimitSettings()
    serve(create_app(settings), settings, service_name="ratelimit_service")


if __name__ == "__main__":
    main()
