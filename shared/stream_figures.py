"""Figures read off the job stream, the same way wherever they are read (ai_service's
backpressure and scrape-time gauges, the admin queue view, the worker's queue wait)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any


def entry_ms(entry_id: str | bytes) -> int:
    """A stream entry id's millisecond time: when the entry was added."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def entry_age_s(entry_id: str | bytes | None) -> float:
    """Seconds since the entry was added (0 for none)."""
    if not entry_id:
        return 0.0
    return max(0.0, time.time() - entry_ms(entry_id) / 1000)


def backlog(length: int, group: Mapping[str, Any] | None) -> int:
    """Jobs not yet acknowledged: undelivered (the group's lag) plus pending. Entries
    leave the stream when acked, so without a group (or a lag Redis cannot tell) the
    stream's length is the backlog."""
    if group is None or group.get("lag") is None:
        return length
    return int(group["lag"]) + int(group["pending"])
