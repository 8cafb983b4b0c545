"""``python -m worker``: load the model, join the group, process jobs until SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import transformers
import uvloop

from shared.logs import configure_logging
from shared.metrics_server import MetricsServer
from shared.tracing import configure_tracing

from .config import WorkerSettings
from .runner import Worker


async def run_worker(settings: WorkerSettings) -> None:
    """Run one worker until SIGTERM/SIGINT, then drain in-flight entries and return."""
    worker = Worker(settings)
    if settings.metrics_port:
        MetricsServer(settings.metrics_host, settings.metrics_port, worker.health.readiness).start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    async with worker:
        await worker.run()


def main() -> None:
    settings = WorkerSettings()
    configure_logging("worker", settings.log_level)
    configure_tracing("worker")
    # Progress bars are for terminals; in service logs they are noise.
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # uvloop, as the services run under uvicorn: the stock loop's wake-up of the judge
    # thread's results and its socket writes cost ~10% of a worker's CPU (py-spy).
    uvloop.run(run_worker(settings))


if __name__ == "__main__":
    main()
