"""JSON frames exchanged with clients."""

from __future__ import annotations

from typing import Any

import orjson


class BadMessage(ValueError):
    """A client frame that is not a JSON object with a string ``type``."""


def dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def error(code: str, message: str) -> str:
    return dumps({"type": "error", "errorCode": code, "message": message})


def ready(socket_id: str, user_id: str, last_event_id: str | None = None) -> str:
    """``lastEventId``: the user's newest logged event when the socket was set up; every
    later event is pushed live (null: no event logged yet)."""
    return dumps(
        {"type": "ready", "socketId": socket_id, "userId": user_id, "lastEventId": last_event_id}
    )


def truncated(oldest_event_id: str | None) -> str:
    """Events between the client's lastEventId and ``oldestEventId`` (the first replayed
    one; null: none replayed) may be missing: the client should fetch /v1/tasks."""
    return dumps({"type": "truncated", "oldestEventId": oldest_event_id})


def resync(reason: str) -> str:
    """Events may have been lost on the server side (Redis lost its data): the client
    should reload its tasks from the API. Events still logged follow this frame."""
    return dumps({"type": "resync", "reason": reason})


PONG = dumps({"type": "pong"})


def parse(text: str) -> dict[str, Any]:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise BadMessage("message is not JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise BadMessage("message must be a JSON object with a string 'type'")
    return message
