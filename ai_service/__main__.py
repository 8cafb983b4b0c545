"""``python -m ai_service``: run the job-intake service."""

from prometheus_client import REGISTRY

from shared.service import serve

from .app import create_app
from .config import AiSettings
from .queue_metrics import QueueCollector


def main() -> None:
    settings = AiSettings()
    if settings.metrics_port:
        REGISTRY.register(QueueCollector(settings.redis_url))
    serve(create_app(settings), settings, service_name="ai_service")


if __name__ == "__main__":
    main()
