"""``python -m result_receiver``: run the service that takes workers' results."""

from shared.service import serve

from .app import create_app
from .config import ReceiverSettings


def main() -> None:
    settings = ReceiverSettings()
    serve(create_app(settings), settings, service_name="result_receiver")


if __name__ == "__main__":
    main()
