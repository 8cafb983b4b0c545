"""Tracing: one trace per submission, from the gateway to the WebSocket push.

The W3C ``traceparent`` travels on every internal HTTP call, in the job's stream entry,
in each callback item, in the outbox row and in the published event envelope, so every
process continues the same trace (opentelemetry-sdk; the propagator is the standard
W3C one). Exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the
exporter reads the standard ``OTEL_*`` variables), as JSON lines into
``SATYAMARK_TRACES_DIR/<service>-<pid>.jsonl`` when that is set (tests, local
debugging), and not at all otherwise: then every helper here returns at once, so a
deployment without tracing pays nothing for it.

Sampling is the SDK's (``OTEL_TRACES_SAMPLER``; parent-based by default). Where the
sampler drops a span under an unsampled parent, the helpers here make no span at all:
the parent's context stays current and its ``traceparent`` goes on unchanged, so the
trace's decision reaches every later hop at the cost of a header.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.trace import Link, Span, SpanKind

TRACEPARENT = "traceparent"


@dataclass
class _Setup:
    tracer: trace.Tracer | None = None  # None: tracing is off
    sampler: Sampler | None = None


_setup = _Setup()


def enabled() -> bool:
    return _setup.tracer is not None


def configure_tracing(service: str) -> bool:
    """Set up this process's tracer from the environment; True when spans are exported."""
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    traces_dir = os.environ.get("SATYAMARK_TRACES_DIR", "")
    if not endpoint and not traces_dir:
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if traces_dir:
        Path(traces_dir).mkdir(parents=True, exist_ok=True)
        out = open(Path(traces_dir) / f"{service}-{os.getpid()}.jsonl", "a", buffering=1)
        exporter = ConsoleSpanExporter(out=out, formatter=_one_line)
        # Batched off the request path like OTLP, flushed within half a second (a test
        # reads the files while the processes run).
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    install(provider)
    return True


def install(provider: TracerProvider | None) -> None:
    """Trace through ``provider`` (None: tracing off). Tests install their own."""
    if provider is None:
        _setup.tracer, _setup.sampler = None, None
    else:  # one tracer for the process: get_tracer() builds a new one each call
        _setup.tracer, _setup.sampler = provider.get_tracer("satyamark"), provider.sampler


def _one_line(span: ReadableSpan) -> str:
    return str(span.to_json(indent=None)) + "\n"


def tracer() -> trace.Tracer:
    return _setup.tracer or trace.get_tracer("satyamark")


def extract(carrier: Mapping[str, str]) -> Context | None:
    """The remote context a carrier (headers, stream fields, a payload) names, if any."""
    if _setup.tracer is None or TRACEPARENT not in carrier:
        return None
    return propagate.extract(carrier)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span, to store with work handed on."""
    if _setup.tracer is None:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def inject(headers: MutableMapping[str, str]) -> None:
    if _setup.tracer is not None:
        propagate.inject(headers)


def dropped(
    parent: Context | None,
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
    links: Sequence[Link] | None = None,
) -> bool:
    """Whether the configured sampler drops a span under ``parent`` (None: the current
    context), asked only where that parent is not sampled: then no span need be made
    (the SDK would make a non-recording one). False for a root or a sampled parent:
    there the SDK decides as it makes the span."""
    sampler = _setup.sampler
    parent_span = trace.get_current_span(parent).get_span_context()
    if sampler is None or not parent_span.is_valid or parent_span.trace_flags.sampled:
        return False
    # The trace id the SDK would pass: the parent's.
    decision = sampler.should_sample(parent, parent_span.trace_id, name, kind, attributes, links)
    return decision.decision is Decision.DROP


@contextmanager
def span(
    name: str,
    *,
    parent: str | Context | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    links: list[Link] | None = None,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span | None]:
    """A span, child of ``parent`` (a ``traceparent`` string or a context; None: the
    current one); yields None and does nothing while tracing is off. Under a parent
    the sampler drops, yields None too: no span, the parent is current meanwhile."""
    if _setup.tracer is None:
        yield None
        return
    ctx = extract({TRACEPARENT: parent}) if isinstance(parent, str) else parent
    if dropped(ctx, name, kind, attributes, links):
        token = context.attach(ctx) if ctx is not None else None
        try:
            yield None
        finally:
            if token is not None:
                context.detach(token)
        return
    with _setup.tracer.start_as_current_span(
        name, context=ctx, kind=kind, links=links, attributes=attributes
    ) as current:
        yield current


def link_to(traceparent: str | None) -> list[Link]:
    """A link to the span a ``traceparent`` names (a batch span links its jobs)."""
    ctx = extract({TRACEPARENT: traceparent}) if traceparent else None
    if ctx is None:
        return []
    span_context = trace.get_current_span(ctx).get_span_context()
    return [Link(span_context)] if span_context.is_valid else []


def traceparent_of(span: Span) -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(TRACEPARENT)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits (for log lines), or None."""
    if _setup.tracer is None:
        return None
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def attach(ctx: Context) -> object:
    return context.attach(ctx)


def detach(token: object) -> None:
    context.detach(token)  # type: ignore[arg-type]
