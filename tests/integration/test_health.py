"""``/livez`` and ``/readyz``: a service whose dependency is gone stays alive but is not
ready, and says which dependency failed; the worker's metrics port says the same of a
stalled loop."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import httpx
from prometheus_client import Counter

from ai_service.app import create_app
from ai_service.config import AiSettings
from satyamark.infra import free_port
from shared.metrics_server import MetricsServer
from tests.utils.servers import running
from tests.utils.settings import common
from worker.health import LOOP_STALL_S, WorkerHealth


async def test_a_service_without_redis_is_alive_but_not_ready(redis_url: str) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    for url, ready in ((redis_url, True), (dead_redis, False)):
        settings = AiSettings(**common(redis_url=url))
        async with running(create_app(settings)) as base, httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/livez")).status_code == 200
            answer = await http.get("/readyz")
            if ready:
                assert answer.status_code == 200, answer.text
                continue
            assert answer.status_code == 503
            body = answer.json()
            assert body["errorCode"] == "AI-NOT-READY" and body["failing"] == ["redis"]
            assert "redis" in body["message"]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_metrics_port_serves_metrics_and_worker_readiness() -> None:
    probe = Counter("satyamark_test_probe_total", "A counter only this test uses.")
    probe.inc(3)
    health = WorkerHealth(lease_s=30)
    server = MetricsServer("127.0.0.1", 0, health.readiness).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, text = _get(f"{base}/metrics")
        assert status == 200 and b"satyamark_test_probe_total 3.0" in text
        assert _get(f"{base}/livez")[0] == 200
        status, body = _get(f"{base}/readyz")
        assert status == 503 and b"loading the model" in body  # not joined yet

        health.joined()
        health._loop_beat = time.monotonic()  # what the loop's heartbeat task writes
        assert _get(f"{base}/readyz")[0] == 200

        health._loop_beat = time.monotonic() - LOOP_STALL_S - 1  # the loop stopped beating
        status, body = _get(f"{base}/readyz")
        assert status == 503 and "stalled" in json.loads(body)["message"]

        health._loop_beat = time.monotonic()
        health._lease_kept = time.monotonic() - 31  # lease upkeep failing for a lease
        status, body = _get(f"{base}/readyz")
        assert status == 503 and "lease" in json.loads(body)["message"]
        assert _get(f"{base}/other")[0] == 404
    finally:
        server.stop()
