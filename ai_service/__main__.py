"""``python -m ai_service``: run the job-intake service."""

from shared.service import serve

from .app import create_app
from .config import AiSettings


def main() -> None:
    settings = AiSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
