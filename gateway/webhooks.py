"""``/v1/webhooks``: where a user's task outcomes are POSTed (Standard Webhooks),
relayed to backend_service. Managed with a login token (``GW-SCOPE-403`` for a key)."""

from __future__ import annotations

import orjson
from fastapi.responses import Response

from shared.schemas import (
    DeliveryPage,
    ErrorBody,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
)
from shared.webhooks import DeliveriesCursor, DeliveriesLimit, WebhookId

from .access import LoggedIn, UserRelay, error_responses, management_router
from .deps import StateDep

webhooks = management_router("/v1/webhooks", "webhooks")
_NOT_FOUND = error_responses(404)
_backend = UserRelay("backend_service", "/internal/webhooks", lambda state: state.backend_http)


@webhooks.post(
    "", status_code=201, responses={201: {"model": WebhookCreated}, 409: {"model": ErrorBody}}
)
async def create_webhook(body: WebhookCreate, state: StateDep, user: LoggedIn) -> Response:
    """Send each final outcome of the caller's tasks to `url` as `{type, timestamp, data:
    {taskId, status, result|error}}`, signed per Standard Webhooks with the returned
    `secret` (headers `webhook-id`, `webhook-timestamp`, `webhook-signature`). Retried
    with backoff for 24 h under the same `webhook-id`; an endpoint failing for 24 h is
    disabled and its owner told over the WebSocket (`{type: "webhook.disabled"}`).
    Outside development the URL must be https on a public address (`422 BE-HOOK-422`);
    at most 20 per account (`409 BE-HOOK-409`)."""
    content = orjson.dumps(body.model_dump(mode="json"))
    headers = {"content-type": "application/json"}
    return await _backend(state, user, "POST", content=content, headers=headers)


@webhooks.get("", responses={200: {"model": WebhookList}})
async def list_webhooks(state: StateDep, user: LoggedIn) -> Response:
    """The caller's webhooks, newest first (without secrets)."""
    return await _backend(state, user, "GET")


@webhooks.delete("/{webhook_id}", status_code=204, responses={204: {"model": None}, **_NOT_FOUND})
async def delete_webhook(webhook_id: WebhookId, state: StateDep, user: LoggedIn) -> Response:
    """Delete a webhook and its deliveries: nothing more is sent to it."""
    return await _backend(state, user, "DELETE", f"/{webhook_id}")


@webhooks.post(
    "/{webhook_id}/rotate-secret", responses={200: {"model": WebhookCreated}, **_NOT_FOUND}
)
async def rotate_secret(webhook_id: WebhookId, state: StateDep, user: LoggedIn) -> Response:
    """A new secret, used from the next delivery on (retries included)."""
    return await _backend(state, user, "POST", f"/{webhook_id}/rotate-secret")


@webhooks.get("/{webhook_id}/deliveries", responses={200: {"model": DeliveryPage}, **_NOT_FOUND})
async def deliveries(
    webhook_id: WebhookId,
    state: StateDep,
    user: LoggedIn,
    limit: DeliveriesLimit = 20,
    cursor: DeliveriesCursor = None,
) -> Response:
    """Deliveries to this webhook, newest first: status (pending, succeeded, failed),
    attempts, the last HTTP status and error, and when it is tried next."""
    params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
    return await _backend(state, user, "GET", f"/{webhook_id}/deliveries", params=params)
