"""``python -m auth_service``: run the accounts and tokens service."""

from shared.service import serve

from .app import create_app
from .config import AuthSettings


def main() -> None:
    settings = AuthSettings()
    serve(create_app(settings), settings, service_name="auth_service")


if __name__ == "__main__":
    main()
