"""``POST /internal/check``: spend (or peek at) a subject's tokens for an endpoint;
``POST /internal/checks``: many such decisions in one request (the gateway's and
auth_service's clients send the checks that arrive together, ``shared/coalesce.py``)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from shared.errors import NotFound, store_unavailable_as
from shared.metrics import RATELIMIT_DECISIONS
from shared.schemas import Strict

from .buckets import Decision, Take
from .deps import State, StateDep

internal = APIRouter(prefix="/internal")

MAX_CHECKS = 256  # per batch; the clients send at most 64 (shared/clients/ratelimit.py)


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


class CheckBatch(Strict):
    checks: list[CheckRequest] = Field(min_length=1, max_length=MAX_CHECKS)


class CheckRefused(Strict):
    """One check of a batch that was not decided (the others were)."""

    errorCode: str
    message: str


class CheckBatchResponse(Strict):
    decisions: list[CheckResponse | CheckRefused]


def _take(body: CheckRequest, state: State) -> Take | None:
    rule = state.settings.rule(body.endpoint)
    return None if rule is None else Take(body.endpoint, body.subject, rule, body.cost, body.peek)


def _no_rule(body: CheckRequest) -> str:
    return f"no rate-limit rule for endpoint {body.endpoint!r}"


def _response(take: Take, decision: Decision, state: State) -> CheckResponse:
    if not take.peek:  # a peek decides nothing
        RATELIMIT_DECISIONS.labels(take.endpoint, str(decision.allowed).lower()).inc()
    return CheckResponse(
        allowed=decision.allowed,
        limit=decision.limit,
        remaining=decision.remaining,
        retryAfterMs=decision.retry_after_ms,
        nearLimit=decision.near_limit(state.settings.soft_limit(take.rule)),
    )


@internal.post("/check")
async def check(body: CheckRequest, state: StateDep) -> CheckResponse:
    take = _take(body, state)
    if take is None:
        raise NotFound(_no_rule(body), code="RL-RULE-404")
    with store_unavailable_as("RL-DEP-503", "rate-limit store"):
        decision = await state.buckets.decide(take)
    return _response(take, decision, state)


@internal.post("/checks")
async def checks(body: CheckBatch, state: StateDep) -> CheckBatchResponse:
    """Each check decided in order, in one round trip to the store; a check whose
    endpoint has no rule is refused alone (``RL-RULE-404`` in its place)."""
    takes = [_take(check, state) for check in body.checks]
    with store_unavailable_as("RL-DEP-503", "rate-limit store"):
        decisions = iter(await state.buckets.take_many([t for t in takes if t is not None]))
    return CheckBatchResponse(
        decisions=[
            CheckRefused(errorCode="RL-RULE-404", message=_no_rule(check))
            if take is None
            else _response(take, next(decisions), state)
            for check, take in zip(body.checks, takes, strict=True)
        ]
    )
