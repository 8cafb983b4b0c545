"""The worker's spans: one per model batch, and one per job in it, continuing the trace
the job was enqueued in (its stream entry's ``traceparent``) and linked to its batch.
A job's callback item carries its span's ``traceparent`` to result_receiver; a job whose
trace the sampler drops gets no span, and its item carries the entry's context on."""

from __future__ import annotations

import time

from opentelemetry import trace
from opentelemetry.trace import Link, Span

from shared import tracing

from .types import Item


def job_spans(items: list[Item], batch: Span | None, start_ns: int) -> dict[str, str]:
    """entry id -> the ``traceparent`` of its job span (empty while tracing is off)."""
    if batch is None:
        return {}
    link = Link(batch.get_span_context())
    end_ns = time.time_ns()
    traceparents = {}
    for item in items:
        parent = (
            tracing.extract({tracing.TRACEPARENT: item.traceparent}) if item.traceparent else None
        )
        if tracing.dropped(parent, "job", links=[link]):
            job = trace.get_current_span(parent)  # no span: the entry's context goes on
        else:
            job = tracing.tracer().start_span(
                "job", context=parent, links=[link], start_time=start_ns,
                attributes={"taskId": item.job.taskId, "entryId": item.entry_id},
            )  # fmt: skip
            job.end(end_time=end_ns)
        if (traceparent := tracing.traceparent_of(job)) is not None:
            traceparents[item.entry_id] = traceparent
    return traceparents
