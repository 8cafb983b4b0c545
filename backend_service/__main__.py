"""``python -m backend_service``: run the submit and task-read service."""

from shared.service import serve

from .app import create_app
from .config import BackendSettings


def main() -> None:
    settings = BackendSettings()
    serve(create_app(settings), settings, service_name="backend_service")


if __name__ == "__main__":
    main()
