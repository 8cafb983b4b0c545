"""Outbound webhooks: what is sent, to where it may be sent, and how it is signed.

Deliveries are rows written in the transaction that records a task's outcome
(``enqueue_sql``, run by ``shared.events.write`` in its outbox INSERT); result_receiver's
dispatcher sends them (``result_receiver/webhook_dispatch.py``); backend_service manages
the endpoints.
Signatures follow Standard Webhooks, made by the ``standardwebhooks`` library so that
any receiver using it (or Svix's) verifies them as they are.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import orjson
from fastapi import Path as PathParam
from fastapi import Query
from standardwebhooks import Webhook

from .schemas import WEBHOOK_ID_PATTERN

EventType = Literal["task.completed", "task.failed"]
EVENT_TYPES: tuple[EventType, ...] = ("task.completed", "task.failed")
_TYPE_OF_EVENT: dict[str, EventType] = {"result": "task.completed", "failed": "task.failed"}
MAX_URL_CHARS = 2048

# Request parameters of the webhook routes, the gateway's and backend_service's alike.
WebhookId = Annotated[str, PathParam(pattern=WEBHOOK_ID_PATTERN)]
DeliveriesLimit = Annotated[int, Query(ge=1, le=100)]
DeliveriesCursor = Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")]


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` of ``body``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def payload_for(event: dict[str, Any]) -> tuple[EventType, dict[str, Any]] | None:
    """The webhook body for a task's final event (as pushed to its user); None for any
    other event."""
    kind = _TYPE_OF_EVENT.get(str(event.get("type")))
    if kind is None:
        return None
    data: dict[str, Any] = {"taskId": event["taskId"]}
    if kind == "task.completed":
        data["status"] = "done"
        data["cached"] = bool(event.get("cached", False))
        data["result"] = {
            name: event.get(name) for name in ("mark", "reason", "confidence", "claims", "method")
        }
    else:
        data["status"] = "failed"
        data["error"] = {"errorCode": event["errorCode"], "message": event["message"]}
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return kind, {"type": kind, "timestamp": timestamp, "data": data}


def enqueue_sql(first: int) -> str:
    """The INSERT of delivery rows, its four arrays (user id, event type, task id, body)
    being parameters ``$first`` .. ``$first+3`` (``shared.events`` runs it inside its
    outbox INSERT, as one statement)."""
    a, b, c, d = (f"${i}" for i in range(first, first + 4))
    return f"""
INSERT INTO webhook_deliveries (webhook_id, event_type, task_id, payload)
SELECT w.id, t.type, t.task_id, t.payload::jsonb
FROM unnest({a}::text[], {b}::text[], {c}::text[], {d}::text[])
  AS t(user_id, type, task_id, payload)
JOIN webhooks w ON w.user_id = t.user_id AND w.disabled_at IS NULL AND t.type = ANY(w.events)
"""


def delivery_columns(
    outcomes: Sequence[tuple[str, str, dict[str, Any]]],
) -> tuple[list[str], list[str], list[str], list[str]]:
    """``enqueue_sql``'s four arrays for (user id, task id, event) triples; events no
    webhook is sent for (progress) are left out."""
    rows = [(user, task, payload_for(event)) for user, task, event in outcomes]
    wanted = [(user, task, found) for user, task, found in rows if found is not None]
    return (
        [user for user, _, _ in wanted],
        [kind for _, _, (kind, _) in wanted],
        [task for _, task, _ in wanted],
        [orjson.dumps(body).decode() for _, _, (_, body) in wanted],
    )


# -- where deliveries may go -------------------------------------------------------------


def _forbidden(address: str, allow_loopback: bool) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local (cloud metadata) address"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return "a private or reserved address"
    return None


async def url_problem(url: str, *, development: bool) -> str | None:
    """Why ``url`` may not receive webhooks, or None. Outside development only https to
    public addresses; development also allows http and loopback (a local receiver).
    Checked when an endpoint is created and again before each delivery (DNS changes)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a valid URL"
    allowed_schemes = ("https", "http") if development else ("https",)
    if parts.scheme not in allowed_schemes:
        return "must be an https URL"
    if not parts.hostname or parts.username or parts.password:
        return "must name a host (and no credentials)"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port or (443 if parts.scheme == "https" else 80)
        )
    except (OSError, UnicodeError, ValueError):  # unresolvable, or not a host name (IDNA)
        return f"host {parts.hostname!r} does not resolve"
    for *_, sockaddr in infos:
        why = _forbidden(str(sockaddr[0]), allow_loopback=development)
        if why is not None:
            return f"host {parts.hostname!r} resolves to {why}"
    return None
