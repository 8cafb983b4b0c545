"""A real Prometheus scrapes the running stack with the scrape config ``Stack`` writes.

Asserted through Prometheus' HTTP API, never by reading /metrics ourselves: every
process is a healthy target, every contract family is scraped from the process that owns
it, and the counters move when tasks flow from submit to push.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from satyamark.devstack import Stack
from satyamark.infra import free_port
from tests.e2e.test_pipeline import _bearer, _drain, _register, _socket

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed"),
]

HTTP_JOBS = {
    "gateway",
    "auth_service",
    "ratelimit_service",
    "backend_service",
    "ai_service",
    "result_receiver",
    "ws_service",
}


class Prometheus:
    def __init__(self, root: Path, scrape_config: Path) -> None:
        config = json.loads(scrape_config.read_text())  # the stack writes JSON (valid YAML)
        config["global"]["scrape_interval"] = "1s"
        path = root / "prometheus.yml"
        path.write_text(json.dumps(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(root / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={path}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=5) as answer:
            body = json.loads(answer.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=promql)["result"])

    def wait_until(self, what: str, check: Any, timeout_s: float = 60) -> Any:
        end = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < end:
            try:
                last = check()
                if last:
                    return last
            except OSError as exc:  # not listening yet
                last = exc
            time.sleep(0.5)
        raise AssertionError(f"{what}: still {last!r} after {timeout_s:.0f}s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    scrape_config = stack.options.data_dir / "prometheus.yml"
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), scrape_config)
    try:
        yield server
    finally:
        server.stop()


def _jobs_with(prom: Prometheus, family: str) -> set[str]:
    return {r["metric"]["job"] for r in prom.query(f"count by (job) ({family})")}


def _value(prom: Prometheus, promql: str) -> float:
    result = prom.query(promql)
    return float(result[0]["value"][1]) if result else 0.0


async def test_every_process_is_scraped_and_families_move(
    stack: Stack, api: httpx.AsyncClient, prometheus: Prometheus
) -> None:
    # /metrics is never on the public port
    assert (await api.get("/metrics")).status_code == 404

    processes = [c for c in stack.components.values() if c.metrics_port is not None]

    def all_up() -> bool:
        targets = prometheus.api("targets")["activeTargets"]
        return len(targets) == len(processes) and all(t["health"] == "up" for t in targets)

    prometheus.wait_until("every process scraped", all_up)

    user = await _register(api, "metrics")
    ws = await _socket(stack, user["access_token"])
    texts = ["Water boils at 100 degrees Celsius at sea level.", "The Moon orbits the Earth."]
    for text in texts:
        answer = await api.post(
            "/v1/verify", json={"text": text}, headers=_bearer(user["access_token"])
        )
        assert answer.status_code == 202, answer.text
    assert len(await _drain(ws, len(texts))) == len(texts)
    # the same text again: a cache hit
    again = await api.post(
        "/v1/verify", json={"text": texts[0]}, headers=_bearer(user["access_token"])
    )
    assert again.status_code == 200, again.text
    await ws.close()

    prometheus.wait_until(
        "HTTP families from every service",
        lambda: _jobs_with(prometheus, "satyamark_http_requests_total") >= HTTP_JOBS,
    )
    assert _jobs_with(prometheus, "satyamark_http_request_duration_seconds_bucket") >= HTTP_JOBS
    owners = {
        "satyamark_upstream_request_duration_seconds_count": {"gateway", "backend_service"},
        "satyamark_internal_batch_size_count": {"gateway", "backend_service"},
        "satyamark_ratelimit_decisions_total": {"ratelimit_service"},
        "satyamark_cache_lookups_total": {"backend_service"},
        "satyamark_tasks_total": {"backend_service"},
        "satyamark_queue_backlog": {"ai_service"},
        "satyamark_queue_pending": {"ai_service"},
        "satyamark_queue_oldest_pending_age_seconds": {"ai_service"},
        "satyamark_queue_dlq_length": {"ai_service"},
        "satyamark_queue_consumers": {"ai_service"},
        "satyamark_worker_jobs_total": {"worker"},
        "satyamark_worker_inference_seconds_count": {"worker"},
        "satyamark_worker_batch_size_count": {"worker"},
        "satyamark_worker_queue_wait_seconds_count": {"worker"},
        "satyamark_worker_callback_seconds_count": {"worker"},
        "satyamark_results_total": {"result_receiver"},
        "satyamark_outbox_pending": {"result_receiver"},
        "satyamark_outbox_oldest_age_seconds": {"result_receiver"},
        "satyamark_ws_connections": {"ws_service"},
        "satyamark_ws_pushes_total": {"ws_service"},
        "satyamark_ws_replays_total": {"ws_service"},
        "satyamark_ws_dropped_total": {"ws_service"},
        "satyamark_sweeper_requeued_total": {"backend_service"},
        "satyamark_sweeper_settled_total": {"backend_service"},
    }
    for family, jobs in owners.items():
        prometheus.wait_until(
            f"{family} from {jobs}", lambda f=family, j=jobs: _jobs_with(prometheus, f) >= j
        )

    moved = {
        'sum(satyamark_tasks_total{outcome="accepted"})': len(texts),
        'sum(satyamark_tasks_total{outcome="cached"})': 1,
        'sum(satyamark_cache_lookups_total{result="hit"})': 1,
        'sum(satyamark_worker_jobs_total{outcome="done"})': len(texts),
        'sum(satyamark_results_total{outcome="stored"})': len(texts),
        'sum(satyamark_ws_pushes_total{type="result"})': len(texts),
        'sum(satyamark_ratelimit_decisions_total{endpoint="verify",allowed="true"})': 3,
        'sum(satyamark_http_requests_total{job="gateway",route="/v1/verify",status="202"})': 2,
        "sum(satyamark_queue_consumers)": 2,
    }
    for promql, at_least in moved.items():
        prometheus.wait_until(promql, lambda q=promql, n=at_least: _value(prometheus, q) >= n)
    # never a task or user id in a label
    series = prometheus.api("series", **{"match[]": '{__name__=~"satyamark_.*"}'})
    for labels in series:
        for value in labels.values():
            assert user["userId"] not in value


def test_readiness_and_liveness_on_every_process(stack: Stack) -> None:
    for component in stack.components.values():
        ports = [component.metrics_port] + ([component.port] if component.port else [])
        for port in ports:
            for probe in ("livez", "readyz"):
                url = f"http://127.0.0.1:{port}/{probe}"
                with urllib.request.urlopen(url, timeout=5) as answer:
                    assert answer.status == 200, (component.name, probe)
