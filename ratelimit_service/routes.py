"""``POST /internal/check``: spend (or peek at) a subject's tokens for an endpoint."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from shared.errors import NotFound, store_unavailable_as
from shared.metrics import RATELIMIT_DECISIONS
from shared.schemas import Strict

from .deps import StateDep

internal = APIRouter(prefix="/internal")


class CheckRequest(Strict):
    endpoint: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    subject: str = Field(min_length=1, max_length=256)
    cost: int = Field(default=1, ge=1, le=1000)
    # Only report whether ``cost`` tokens are there, spending none (e.g. auth_service
    # asks before checking a password and spends only when the login fails).
    peek: bool = False


class CheckResponse(Strict):
    allowed: bool
    limit: int
    remaining: int
    retryAfterMs: int
    # allowed, with fewer tokens left than the rule's soft limit (a warning, not a refusal)
    nearLimit: bool


@internal.post("/check")
async def check(body: CheckRequest, state: StateDep) -> CheckResponse:
    rule = state.settings.rule(body.endpoint)
    if rule is None:
        raise NotFound(f"no rate-limit rule for endpoint {body.endpoint!r}", code="RL-RULE-404")
    with store_unavailable_as("RL-DEP-503", "rate-limit store"):
        decision = await state.buckets.take(
            body.endpoint, body.subject, rule, body.cost, peek=body.peek
        )
    if not body.peek:  # a peek decides nothing
        RATELIMIT_DECISIONS.labels(body.endpoint, str(decision.allowed).lower()).inc()
    return CheckResponse(
        allowed=decision.allowed,
        limit=decision.limit,
        remaining=decision.remaining,
        retryAfterMs=decision.retry_after_ms,
        nearLimit=decision.near_limit(state.settings.soft_limit(rule)),
    )
