"""Checking a webhook SatyaMark sent (Standard Webhooks, via ``standardwebhooks``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from .errors import SatyaMarkError


def verify_webhook(payload: bytes | str, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    """The webhook's body (``{type, timestamp, data}``) if its signature is valid for
    ``secret`` and it is recent (5 minutes); raises ``SatyaMarkError`` (401
    ``SDK-WEBHOOK-401``) otherwise. Pass the raw body, before any JSON parsing."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        body: Any = Webhook(secret).verify(payload, lowered)
    except WebhookVerificationError as exc:
        raise SatyaMarkError(401, "SDK-WEBHOOK-401", str(exc)) from exc
    if not isinstance(body, dict):
        raise SatyaMarkError(401, "SDK-WEBHOOK-401", "the webhook body is not an object")
    return body
