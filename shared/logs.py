"""Logging for every process: one line per record on stdout, JSON by default.

``LOG_FORMAT=json`` (the default) writes one JSON object a line::

    {"time": "2025-01-01T12:00:00.123Z", "level": "INFO", "service": "gateway",
     "logger": "uvicorn.error", "event": "Application startup complete.",
     "taskId": "01J…"}

``taskId``, ``traceId`` and ``userId`` appear only when known: bound for the current
task with :func:`log_context` (or :func:`bind_log_context`), or passed to one call as
``extra={"taskId": …}``. ``exc_info`` holds the traceback of a logged exception.
``LOG_FORMAT=text`` writes the same records for humans.

Only the fields above are written: a library's ``extra`` (uvicorn's ``color_message``,
anything else a dependency attaches to a record) never reaches the output, so nothing
travels into the logs but the message itself. Messages never hold tokens or
submitted text (see ``_NoWireTrace`` for the one library that would write them).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import websockets
from pythonjsonlogger.json import JsonFormatter

from . import tracing

FORMATS = ("json", "text")
# What a record may say about the work it belongs to, in the order it is written.
CONTEXT_FIELDS = ("taskId", "traceId", "userId")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

_context: ContextVar[Mapping[str, str]] = ContextVar(
    "satyamark_log_context", default=MappingProxyType({})
)


def _checked(fields: Mapping[str, object]) -> dict[str, str]:
    unknown = sorted(set(fields) - set(CONTEXT_FIELDS))
    if unknown:
        raise ValueError(f"unknown log context field(s) {unknown}; known: {list(CONTEXT_FIELDS)}")
    return {name: str(value) for name, value in fields.items() if value is not None}


def current_log_context() -> dict[str, str]:
    """The fields bound for the current task (a copy)."""
    return dict(_context.get())


def bind_log_context(**fields: object) -> Token[Mapping[str, str]]:
    """Bind ``fields`` (taskId, traceId, userId; None unbinds one) for the rest of the
    current task, or until ``reset_log_context`` is given the returned token."""
    merged = {**_context.get(), **_checked(fields)}
    for name in [n for n, value in fields.items() if value is None]:
        merged.pop(name, None)
    return _context.set(merged)


def reset_log_context(token: Token[Mapping[str, str]]) -> None:
    _context.reset(token)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Records logged inside the block (by this task, and by tasks it starts) carry
    ``fields``; the fields bound before are back after it."""
    token = bind_log_context(**fields)
    try:
        yield
    finally:
        _context.reset(token)


class _ContextFilter(logging.Filter):
    """Puts the bound context fields on each record; a field given as ``extra`` to the
    call wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        if getattr(record, "traceId", None) is None:
            record.traceId = tracing.current_trace_id()
        return True


def _record_context(record: logging.LogRecord) -> dict[str, str]:
    found = {}
    for name in CONTEXT_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            found[name] = str(value)
    return found


def _utc_time(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLineFormatter(JsonFormatter):
    """python-json-logger's formatter, limited to our fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = _utc_time(record)
        log_data["level"] = record.levelname
        log_data["service"] = self.service
        log_data["logger"] = record.name
        log_data["event"] = record.message
        log_data.update(_record_context(record))
        # Set by format() from the record's exception and stack; nothing else of a
        # dict message is written.
        for key in ("exc_info", "stack_info"):
            if message_dict.get(key):
                log_data[key] = message_dict[key]


class TextFormatter(logging.Formatter):
    """The human format: time, level, logger, message, then the context fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = _record_context(record)
        if context:
            line += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return line


_WEBSOCKETS_DIR = os.path.dirname(websockets.__file__) + os.sep


class _NoWireTrace(logging.Filter):
    """Drops the websockets library's DEBUG wire trace, which writes every handshake
    header (``Authorization``) and every frame (the auth message with its token, user
    text) verbatim. uvicorn hands its ``uvicorn.error`` logger to the library, so the
    trace arrives under that name."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG or not record.pathname.startswith(_WEBSOCKETS_DIR)


_NO_WIRE_TRACE = _NoWireTrace()


def log_format(fmt: str | None = None) -> str:
    """``fmt``, or else ``LOG_FORMAT`` (default json); anything but json/text is refused."""
    chosen = (fmt if fmt is not None else os.environ.get("LOG_FORMAT", "json")).strip().lower()
    if chosen not in FORMATS:
        raise ValueError(
            f"LOG_FORMAT must be one of {', '.join(FORMATS)} (json: one JSON object a "
            f"line, text: for humans), not {chosen!r}"
        )
    return chosen


def configure_logging(service: str, level: str, fmt: str | None = None) -> None:
    """Send every record of this process, uvicorn's included, to stdout as one line in
    the chosen format (``fmt``, else ``LOG_FORMAT``: json or text), at ``level``.

    Call it before ``uvicorn.Config`` is built, and build that with ``log_config=None``
    so uvicorn leaves logging to us.
    """
    chosen = log_format(fmt)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLineFormatter(service) if chosen == "json" else TextFormatter())
    handler.addFilter(_ContextFilter())
    # Also on the handler: whatever logger the wire trace comes through, it stops here.
    handler.addFilter(_NO_WIRE_TRACE)
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # uvicorn's loggers write through ours: no handlers of their own, records go up.
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # httpx logs every request at INFO; on the hot path that is noise, not signal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Logs never hold tokens or submitted text, even at DEBUG (see _NoWireTrace): the
    # gateway's upstream sockets log to "websockets.client", ws servers to uvicorn's.
    root_level = logging.getLogger().getEffectiveLevel()
    logging.getLogger("websockets").setLevel(max(logging.INFO, root_level))
    uvicorn_error = logging.getLogger("uvicorn.error")
    if _NO_WIRE_TRACE not in uvicorn_error.filters:
        uvicorn_error.addFilter(_NO_WIRE_TRACE)
