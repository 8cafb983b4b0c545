"""Small types shared by the worker's loop and its outcome handling."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.schemas import Job

from .inflight import Hold


@dataclass(frozen=True, slots=True)
class Item:
    """A parsed entry on its way to the model, with the slot it holds."""

    entry_id: str
    job: Job
    hold: Hold = field(compare=False, repr=False)
    # the trace the job was enqueued in (the stream entry's ``traceparent``)
    traceparent: str | None = field(default=None, compare=False)


def parse_job(fields: dict[str, str]) -> Job:
    """Validate an entry; fields we do not know (traceparent, attempt …) are ignored.

    An empty payload is still a job (of bad input, failed as WK-INPUT-EMPTY), not a
    malformed entry: its task can be told why.
    """
    data = {k: v for k, v in fields.items() if k in Job.model_fields}
    if data.get("payload") == "":
        return Job.model_validate({**data, "payload": " "}).model_copy(update={"payload": ""})
    return Job.model_validate(data)
