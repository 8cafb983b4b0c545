"""A user's webhook endpoints (``/internal/webhooks``, public as ``/v1/webhooks``).
What is sent and how is ``shared/webhooks.py``; sending is result_receiver's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from fastapi import APIRouter
from fastapi.responses import Response

from shared import webhooks
from shared.errors import Conflict, NotFound, ValidationFailed, store_unavailable_as
from shared.ids import random_id
from shared.schemas import (
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
)
from shared.webhooks import DeliveriesCursor, DeliveriesLimit, WebhookId

from .deps import StateDep
from .routes import UserId

MAX_WEBHOOKS = 20
router = APIRouter(prefix="/internal/webhooks")


class BadUrl(ValidationFailed, code="BE-HOOK-422"): ...


class TooMany(
    Conflict, code="BE-HOOK-409", message=f"at most {MAX_WEBHOOKS} webhooks per account"
): ...


class NoSuchWebhook(NotFound, code="BE-HOOK-404", message="no such webhook"): ...


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _public(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": list(row["events"]),
        "createdAt": _iso(row["created_at"]),
        "disabledAt": _iso(row["disabled_at"]),
        "disabledReason": row["disabled_reason"],
    }


_COLUMNS = "id, url, events, created_at, disabled_at, disabled_reason"


@router.post("", status_code=201)
async def create(body: WebhookCreate, user_id: UserId, state: StateDep) -> WebhookCreated:
    development = state.settings.env == "development"
    problem = await webhooks.url_problem(body.url, development=development)
    if problem is not None:
        raise BadUrl(f"url {problem}")
    webhook_id = f"wh_{random_id()}"
    secret = webhooks.new_secret()
    with store_unavailable_as("BE-DEP-503", "database"):
        async with state.pool.acquire() as conn, conn.transaction():
            # one creation at a time per user, so the limit holds under races
            await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
            count = await conn.fetchval("SELECT count(*) FROM webhooks WHERE user_id = $1", user_id)
            if count >= MAX_WEBHOOKS:
                raise TooMany()
            row = await conn.fetchrow(
                "INSERT INTO webhooks (id, user_id, url, events, secret)"
                f" VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}",
                webhook_id,
                user_id,
                body.url,
                sorted(set(body.events)),
                secret,
            )
    return WebhookCreated(**_public(row), secret=secret)


@router.get("")
async def list_webhooks(user_id: UserId, state: StateDep) -> WebhookList:
    with store_unavailable_as("BE-DEP-503", "database"):
        rows = await state.pool.fetch(
            f"SELECT {_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY created_at DESC, id",
            user_id,
        )
    return WebhookList(items=[WebhookPublic(**_public(row)) for row in rows])


@router.delete("/{webhook_id}", status_code=204)
async def delete(webhook_id: WebhookId, user_id: UserId, state: StateDep) -> Response:
    """Deletes the endpoint with its deliveries: nothing more is sent to it."""
    with store_unavailable_as("BE-DEP-503", "database"):
        found = await state.pool.fetchval(
            "DELETE FROM webhooks WHERE id = $1 AND user_id = $2 RETURNING id",
            webhook_id,
            user_id,
        )
    if found is None:
        raise NoSuchWebhook()
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret")
async def rotate_secret(webhook_id: WebhookId, user_id: UserId, state: StateDep) -> WebhookCreated:
    """A new secret, used from the next delivery on (retries included)."""
    with store_unavailable_as("BE-DEP-503", "database"):
        row = await state.pool.fetchrow(
            "UPDATE webhooks SET secret = $3 WHERE id = $1 AND user_id = $2"
            f" RETURNING {_COLUMNS}, secret",
            webhook_id,
            user_id,
            webhooks.new_secret(),
        )
    if row is None:
        raise NoSuchWebhook()
    return WebhookCreated(**_public(row), secret=row["secret"])


@router.get("/{webhook_id}/deliveries")
async def deliveries(
    webhook_id: WebhookId,
    user_id: UserId,
    state: StateDep,
    limit: DeliveriesLimit = 20,
    cursor: DeliveriesCursor = None,
) -> DeliveryPage:
    with store_unavailable_as("BE-DEP-503", "database"):
        owned = await state.pool.fetchval(
            "SELECT 1 FROM webhooks WHERE id = $1 AND user_id = $2", webhook_id, user_id
        )
        if owned is None:
            raise NoSuchWebhook()
        rows = await state.pool.fetch(
            "SELECT seq, id, event_type, task_id, status, attempts, last_status, last_error,"
            " next_attempt_at, created_at, delivered_at FROM webhook_deliveries"
            " WHERE webhook_id = $1 AND ($2::bigint IS NULL OR seq < $2)"
            " ORDER BY seq DESC LIMIT $3",
            webhook_id,
            int(cursor) if cursor else None,
            limit + 1,
        )
    items = [
        {
            "id": row["id"],
            "type": row["event_type"],
            "taskId": row["task_id"],
            "status": row["status"],
            "attempts": row["attempts"],
            "lastStatus": row["last_status"],
            "lastError": row["last_error"],
            "nextAttemptAt": _iso(row["next_attempt_at"]) if row["status"] == "pending" else None,
            "createdAt": _iso(row["created_at"]),
            "deliveredAt": _iso(row["delivered_at"]),
        }
        for row in rows[:limit]
    ]
    next_cursor = str(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return DeliveryPage.model_validate({"items": items, "nextCursor": next_cursor})
