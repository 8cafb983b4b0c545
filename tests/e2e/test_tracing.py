"""One submission is one trace: every process of the e2e stack exports its spans as JSON
lines (``SATYAMARK_TRACES_DIR``), and the spans of a submission share the trace id the
client sent, with parents that exist, across every service on the way."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from satyamark.devstack import Stack
from tests.e2e.test_pipeline import _bearer, _drain, _register, _socket

pytestmark = pytest.mark.e2e

ON_THE_WAY = {
    "gateway",
    "auth_service",
    "ratelimit_service",
    "backend_service",
    "ai_service",
    "worker",
    "result_receiver",
    "ws_service",
}


def _spans(traces_dir: Path) -> list[dict[str, Any]]:
    spans = []
    for path in traces_dir.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            if line.strip():
                spans.append(json.loads(line))
    return spans


def _of_trace(traces_dir: Path, trace_id: str) -> list[dict[str, Any]]:
    return [s for s in _spans(traces_dir) if s["context"]["trace_id"] == f"0x{trace_id}"]


async def test_one_submission_is_one_trace_across_every_service(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    traces_dir = Path(stack.env["SATYAMARK_TRACES_DIR"])
    user = await _register(api, "traced")
    ws = await _socket(stack, user["access_token"])
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    answer = await api.post(
        "/v1/verify",
        json={"text": "The Danube flows into the Black Sea."},
        headers={**_bearer(user["access_token"]), "traceparent": traceparent},
    )
    assert answer.status_code == 202, answer.text
    assert len(await _drain(ws, 1)) == 1
    await ws.close()

    def services() -> set[str]:
        spans = _of_trace(traces_dir, trace_id)
        return {s["resource"]["attributes"]["service.name"] for s in spans}

    for _ in range(150):  # the last spans (the push) are written as they end
        if services() >= ON_THE_WAY:
            break
        await asyncio.sleep(0.2)
    assert services() >= ON_THE_WAY, sorted(ON_THE_WAY - services())

    spans = _of_trace(traces_dir, trace_id)
    ids = {s["context"]["span_id"] for s in spans}
    client_parent = f"0x{traceparent.split('-')[2]}"
    for span in spans:
        # each parent is a span of this trace, or the client's own span
        assert span["parent_id"] in ids | {client_parent}, span["name"]
    by_name = {s["name"]: s for s in spans}
    gateway = by_name["POST /v1/verify"]
    assert gateway["parent_id"] == client_parent
    job = by_name["job"]
    assert job["resource"]["attributes"]["service.name"] == "worker"
    assert job["links"], "the job span links its batch span"
    assert {"record outcome", "relay event", "push"} <= set(by_name)
