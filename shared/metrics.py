"""Prometheus metrics: every family SatyaMark exports, in one place.

The names are a contract: dashboards and alert rules (``deploy/observability/``)
depend on them. Labels stay low-cardinality: a route template, never a task or user id.
Each process registers what it uses in prometheus-client's default registry and serves
it on its own metrics port (``shared/metrics_server.py``), never on a public port.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from .asgi import StatusNoting

log = logging.getLogger(__name__)

# Internal hops take milliseconds; the public edge a little more.
_HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A job runs seconds on a small model and 3-8 minutes on a large one on a GPU.
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200)

HTTP_REQUESTS = Counter(
    "satyamark_http_requests_total",
    "HTTP requests answered, by route template and status.",
    ["service", "route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "satyamark_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "route", "method"],
    buckets=_HTTP_BUCKETS,
)
UPSTREAM_DURATION = Histogram(
    "satyamark_upstream_request_duration_seconds",
    "Time of a call to another SatyaMark service, failures included.",
    ["service", "upstream"],
    buckets=_HTTP_BUCKETS,
)
INTERNAL_BATCH_SIZE = Histogram(
    "satyamark_internal_batch_size",
    "Calls per batched request to another SatyaMark service (shared/coalesce.py).",
    ["service", "upstream"],
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
RATELIMIT_DECISIONS = Counter(
    "satyamark_ratelimit_decisions_total",
    "Rate-limit checks by endpoint and whether they were allowed.",
    ["endpoint", "allowed"],
)
CACHE_LOOKUPS = Counter(
    "satyamark_cache_lookups_total", "Result-cache lookups on submit.", ["result"]
)
TASKS = Counter(
    "satyamark_tasks_total",
    "Submitted tasks by what became of them: accepted (queued), cached, joined, refused.",
    ["outcome"],
)

# Read from Redis at scrape time by ai_service (ai_service/queue_metrics.py): name -> help.
QUEUE_GAUGES = {
    "satyamark_queue_backlog": "Jobs in the stream not yet acknowledged (undelivered + pending).",
    "satyamark_queue_pending": "Jobs delivered to a worker and not yet acknowledged.",
    "satyamark_queue_oldest_pending_age_seconds": (
        "Time since the oldest delivered, unacknowledged job was enqueued (0 when none)."
    ),
    "satyamark_queue_dlq_length": "Entries in the dead-letter stream.",
    "satyamark_queue_consumers": "Workers in the consumer group.",
}

WORKER_JOBS = Counter(
    "satyamark_worker_jobs_total",
    "Jobs by outcome: done, failed, retried, reclaimed, dead_lettered.",
    ["outcome"],
)
WORKER_INFERENCE = Histogram(
    "satyamark_worker_inference_seconds", "Model time of one batch.", buckets=_JOB_BUCKETS
)
WORKER_BATCH_SIZE = Histogram(
    "satyamark_worker_batch_size",
    "Jobs per model batch.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
WORKER_QUEUE_WAIT = Histogram(
    "satyamark_worker_queue_wait_seconds",
    "From enqueue to the start of the job's first attempt.",
    buckets=_JOB_BUCKETS,
)
WORKER_CALLBACK = Histogram(
    "satyamark_worker_callback_seconds",
    "Time of one callback batch to result_receiver, retries included.",
    buckets=_HTTP_BUCKETS,
)

RESULTS = Counter(
    "satyamark_results_total",
    "Worker results received: stored, duplicate, conflict, refused.",
    ["outcome"],
)
OUTBOX_PENDING = Gauge("satyamark_outbox_pending", "Events stored but not yet published.")
OUTBOX_OLDEST_AGE = Gauge(
    "satyamark_outbox_oldest_age_seconds", "Age of the oldest unpublished event (0 when none)."
)

WEBHOOK_DELIVERIES = Counter(
    "satyamark_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: succeeded, retry (tried again later), failed "
    "(given up after 24 h).",
    ["outcome"],
)
GC_PAUSE = Histogram(
    "satyamark_gc_pause_seconds",
    "Stop-the-world pauses of Python's cycle collector, by generation (a full, "
    "generation-2 pass over a large heap stalls every request and push in flight).",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


_gc_started = [0.0]
_LONG_GC_PAUSE_S = 0.1


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
        return
    paused = time.perf_counter() - _gc_started[0]
    GC_PAUSE.labels(str(info["generation"])).observe(paused)
    if paused >= _LONG_GC_PAUSE_S:
        log.warning(
            "garbage collection (generation %d) paused the process for %.0f ms",
            info["generation"], paused * 1000,
        )  # fmt: skip


def observe_gc_pauses() -> None:
    """Time every collection of this process into ``GC_PAUSE``."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)


WS_CONNECTIONS = Gauge("satyamark_ws_connections", "Authenticated WebSockets held.")
WS_PUSHES = Counter("satyamark_ws_pushes_total", "Events pushed to sockets, by type.", ["type"])
WS_REPLAYS = Counter("satyamark_ws_replays_total", "Reconnects that replayed missed events.")
WS_DROPPED = Counter(
    "satyamark_ws_dropped_total", "Sockets closed because their reader fell too far behind."
)

SWEEPER_REQUEUED = Counter(
    "satyamark_sweeper_requeued_total", "Tasks the sweeper put back on the queue."
)
# Lost tasks the sweeper settled without a model run of their own: with their text's
# cached verdict ("cache") or by joining the job now verifying it ("joined").
SWEEPER_SETTLED = Counter(
    "satyamark_sweeper_settled_total",
    "Lost tasks the sweeper settled without a new job, by how.",
    ["how"],
)
for _how in ("cache", "joined"):
    SWEEPER_SETTLED.labels(_how)  # exported as 0 from the start

UNMATCHED_ROUTE = "unmatched"


class HttpMetrics:
    """Counts and times every HTTP request by route template (plain ASGI: no body
    buffering). Paths that match no route share one label, so a scan of random URLs
    cannot grow the series."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # (route, method, status) -> its two series: labels() costs more than the
        # observation itself, and the set of keys is small and fixed by the routes.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        # 500: what the client gets if the app raises before answering
        noting = StatusNoting(send, 500)
        try:
            await self.app(scope, receive, noting)
        finally:
            status = noting.status or 500
            route = scope.get("route")
            key = (getattr(route, "path", None) or UNMATCHED_ROUTE, scope["method"], status)
            series = self._series.get(key)
            if series is None:
                template, method, _ = key
                series = self._series[key] = (
                    HTTP_REQUESTS.labels(self.service, template, method, str(status)),
                    HTTP_DURATION.labels(self.service, template, method),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - start)
