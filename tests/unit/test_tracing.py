"""Sampling decides what each hop does: a sampled trace gets its server, client and
inner spans; under an unsampled parent the (parent-based) sampler drops them, so no span
is made at all, and the ``traceparent`` still goes on unchanged to the next hop."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace import SpanKind

from shared import tracing
from shared.http import InternalClient
from shared.schemas import Job
from shared.service import new_app
from tests.utils.servers import running
from worker.inflight import Hold, Slots
from worker.traces import job_spans
from worker.types import Item

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SAMPLED = f"00-{TRACE_ID}-b7ad6b7169203331-01"
UNSAMPLED = f"00-{TRACE_ID}-b7ad6b7169203331-00"


class Traced:
    def __init__(self, sampler: Sampler) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider(sampler=sampler)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        tracing.install(self.provider)

    def spans(self) -> dict[str, ReadableSpan]:
        return {span.name: span for span in self.exporter.get_finished_spans()}


@pytest.fixture
def parent_based() -> Iterator[Traced]:
    """The default sampler's shape: follow the parent; roots all kept."""
    yield Traced(ParentBased(ALWAYS_ON))
    tracing.install(None)


async def _call(traceparent: str | None, path: str = "/hop") -> tuple[httpx.Response, str]:
    """One request through a service app whose route calls a real upstream server;
    returns the answer and the ``traceparent`` the upstream call carried."""
    sent: list[str] = []
    upstream = FastAPI()

    @upstream.get("/x")
    async def x(request: Request) -> dict[str, str]:
        sent.append(request.headers.get("traceparent", ""))
        return {}

    app = new_app(service="t", title="t", error_prefix="T", lifespan=None, metrics=False)
    headers = {"traceparent": traceparent} if traceparent else {}
    async with running(upstream) as url:
        client = InternalClient(url, timed_as=("t", "up"))

        @app.post("/hop")
        async def hop() -> dict[str, str]:
            await client.get("/x")
            return {}

        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app), base_url="http://t"
            ) as api:
                answer = await api.post(path, headers=headers)
        finally:
            await client.aclose()
    return answer, sent[0] if sent else ""


async def test_a_sampled_request_has_a_server_and_a_client_span(parent_based: Traced) -> None:
    answer, carried = await _call(SAMPLED)
    assert answer.status_code == 200
    spans = parent_based.spans()
    server, client = spans["POST /hop"], spans["GET up"]
    assert server.kind is SpanKind.SERVER and client.kind is SpanKind.CLIENT
    assert server.parent is not None and server.parent.span_id == int(SAMPLED[36:52], 16)
    assert client.parent is not None and client.parent.span_id == server.context.span_id
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/hop"
    assert server.attributes["http.response.status_code"] == 200
    assert carried == f"00-{TRACE_ID}-{client.context.span_id:016x}-01"


async def test_an_unsampled_request_makes_no_span_and_hands_its_traceparent_on(
    parent_based: Traced,
) -> None:
    answer, carried = await _call(UNSAMPLED)
    assert answer.status_code == 200
    assert parent_based.spans() == {}
    assert carried == UNSAMPLED  # the next hop drops its spans too


async def test_a_root_is_the_samplers_decision() -> None:
    traced = Traced(ParentBased(ALWAYS_OFF))
    try:
        _, carried = await _call(None)
    finally:
        tracing.install(None)
    assert traced.spans() == {}
    _, trace_id, _, flags = carried.split("-")
    assert trace_id != TRACE_ID and int(flags, 16) & 1 == 0  # a new trace, not sampled


async def test_a_sampler_that_ignores_the_parent_still_decides() -> None:
    traced = Traced(ALWAYS_ON)  # keeps spans under an unsampled parent too
    try:
        await _call(UNSAMPLED)
    finally:
        tracing.install(None)
    assert {"POST /hop", "GET up"} <= set(traced.spans())


async def test_probes_are_not_traced(parent_based: Traced) -> None:
    answer, _ = await _call(SAMPLED, path="/livez")
    assert answer.status_code == 405  # GET only; no span either way
    assert parent_based.spans() == {}


def test_an_inner_span_under_an_unsampled_parent_keeps_the_parent_current(
    parent_based: Traced,
) -> None:
    with tracing.span("relay event", parent=UNSAMPLED) as span:
        assert span is None
        assert tracing.current_traceparent() == UNSAMPLED
    assert tracing.current_traceparent() is None
    with tracing.span("relay event", parent=SAMPLED) as span:
        assert span is not None and span.is_recording()
    assert set(parent_based.spans()) == {"relay event"}


def _item(entry_id: str, traceparent: str) -> Item:
    job = Job(
        taskId=f"task-{entry_id}",
        userId="user-1",
        payload="The Danube flows into the Black Sea.",
        textHash="0" * 64,
        summaryHash="0" * 64,
        job_token="t" * 16,
        callback_url="http://rr/ai-callback",
    )
    return Item(entry_id, job, Hold(Slots(2), entry_id), traceparent)


async def test_a_job_span_only_where_the_trace_is_sampled(parent_based: Traced) -> None:
    with tracing.span("judge batch") as batch:
        assert batch is not None
    carried = job_spans([_item("1-0", SAMPLED), _item("2-0", UNSAMPLED)], batch, 0)
    job = parent_based.spans()["job"]
    assert [link.context for link in job.links] == [batch.get_span_context()]
    assert carried == {"1-0": f"00-{TRACE_ID}-{job.context.span_id:016x}-01", "2-0": UNSAMPLED}
