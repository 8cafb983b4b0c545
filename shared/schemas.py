"""Data shapes that cross service boundaries."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
)


class Mark(StrEnum):
    CORRECT = "Correct"
    INCORRECT = "Incorrect"
    INSUFFICIENT = "Insufficient"
    SUBJECTIVE = "Subjective"


# Deliberately simple and ASCII-only (one "@", a dot in the domain), written without
# \s or \w so it means the same in every regex engine that reads our OpenAPI schema.
# Deliverability is the mail system's job, not ours.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"  # local part
    r"@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"  # domain labels
)
# Task ids are ULIDs; anything else cannot name a task.
TASK_ID_PATTERN = r"^[0-9A-Za-z]{1,64}$"
# Refresh tokens are opaque (43 URL-safe characters today); longer input is refused
# unread, anything shorter is looked up (and, if mangled, simply not found).
MAX_REFRESH_TOKEN_CHARS = 512


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Verdict(Strict):
    mark: Mark
    reason: str = Field(min_length=1, max_length=2000)
    confidence: int = Field(ge=0, le=100)


class Evidence(Strict):
    """The knowledge-base entry a claim was checked against."""

    claim: str = Field(min_length=1, max_length=1000)
    verdict: Literal["true", "false"]
    explanation: str = Field(max_length=2000)
    sourceUrl: str = Field(max_length=2048)
    sourceName: str | None = Field(default=None, max_length=200)
    similarity: float = Field(ge=-1, le=1)


class ClaimVerdict(Verdict):
    """The verdict on one claim (sentence) of a text; a task's verdict derives from these."""

    text: str = Field(min_length=1, max_length=2000)
    # How the evidence relates to the claim; None where no evidence was used.
    stance: Literal["entails", "contradicts", "neutral"] | None = None
    evidence: Evidence | None = None


MAX_CLAIMS = 32


MAX_METHOD_CHARS = 500


class TextVerdict(Verdict):
    """A task's verdict with the per-claim verdicts it was derived from."""

    claims: list[ClaimVerdict] = Field(default_factory=list, max_length=MAX_CLAIMS)
    # How the verdict was reached (which evidence, which stance check), said once for
    # the whole result rather than inside every claim's reason; None when not given.
    method: str | None = Field(default=None, min_length=1, max_length=MAX_METHOD_CHARS)


class Job(Strict):
    """One entry of ``stream:ai:jobs`` (spec fields plus schemaVersion and attempt)."""

    taskId: str = Field(min_length=1, max_length=64)
    userId: str = Field(min_length=1, max_length=64)
    payload: str = Field(min_length=1)
    textHash: str = Field(pattern=r"^[0-9a-f]{64}$")
    summaryHash: str = Field(pattern=r"^[0-9a-f]{64}$")
    job_token: str = Field(min_length=16, max_length=256)
    callback_url: str = Field(pattern=r"^https?://", max_length=2048)
    schemaVersion: int = 1


TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class CallbackResult(TextVerdict):
    """What a worker POSTs to the result receiver: a verdict (``status`` may be omitted)."""

    taskId: str = Field(min_length=1, max_length=64)
    job_token: str = Field(min_length=16, max_length=256)
    status: Literal["done"] = "done"
    model: str | None = Field(default=None, max_length=512)
    workerId: str | None = Field(default=None, max_length=128)
    # W3C trace context of the worker's job span (shared/tracing.py); not part of the
    # outcome, so a repeated result with another one is still the same result
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)


class CallbackFailure(Strict):
    """What a worker POSTs when a task cannot get a verdict (bad input, dead-lettered)."""

    taskId: str = Field(min_length=1, max_length=64)
    job_token: str = Field(min_length=16, max_length=256)
    status: Literal["failed"]
    errorCode: str = Field(pattern=r"^[A-Z]{2,8}(-[A-Z0-9]+)+$", max_length=64)
    message: str = Field(min_length=1, max_length=2000)
    workerId: str | None = Field(default=None, max_length=128)


class CallbackProgress(Strict):
    """What a worker POSTs to ``/ai-progress`` when it starts (or will retry) a job.
    Best effort: it records a task stage and pushes a ``progress`` event, never an
    outcome; a report about a finished task or an old token is ignored."""

    taskId: str = Field(min_length=1, max_length=64)
    job_token: str = Field(min_length=16, max_length=256)
    stage: Literal["started", "retried"]
    attempt: int = Field(ge=1, le=10_000)
    workerId: str = Field(min_length=1, max_length=128)
    # retried: the errorCode of the attempt that failed
    reason: str | None = Field(default=None, pattern=r"^[A-Z]{2,8}(-[A-Z0-9]+)+$", max_length=64)


PROGRESS_BODY: TypeAdapter[CallbackProgress | list[CallbackProgress]] = TypeAdapter(
    CallbackProgress | list[CallbackProgress]
)


def _callback_kind(value: Any) -> str:
    status = value.get("status") if isinstance(value, dict) else getattr(value, "status", None)
    return "failed" if status == "failed" else "done"


# A body with ``status: "failed"`` is a failure; anything else (no status, "done") a result.
CallbackBody = Annotated[
    Annotated[CallbackResult, Tag("done")] | Annotated[CallbackFailure, Tag("failed")],
    Discriminator(_callback_kind),
]
CALLBACK_BODY: TypeAdapter[CallbackResult | CallbackFailure] = TypeAdapter(CallbackBody)


class VerdictPublic(BaseModel):
    mark: str
    reason: str
    confidence: int
    claims: list[ClaimVerdict] = Field(
        max_length=MAX_CLAIMS,
        description="the verdict on each claim (sentence) of the text that the verdict "
        "derives from; empty when the worker judged the text as a whole",
    )
    method: str | None = Field(
        max_length=MAX_METHOD_CHARS,
        description="how the verdict was reached (which evidence was searched, how its "
        "stance was checked), said once for the whole result; null when the worker gave "
        "none or the task finished before methods were recorded",
    )


class ErrorBody(BaseModel):
    errorCode: str
    message: str


class TaskStage(BaseModel):
    """One step of a task, with when it happened and what the step says."""

    model_config = ConfigDict(extra="allow")

    stage: Literal[
        "accepted",
        "queued",
        "joined",
        "started",
        "retried",
        "done",
        "failed",
        "notified",
        "replayed",
    ] = Field(
        description="accepted; queued (requeued: true when a lost job was put back); "
        "joined (leader: the task whose job verifies the same text); started and "
        "retried (worker, attempt; retried also reason: the failed attempt's errorCode); "
        "done (cached: true for a cache hit) or failed (errorCode); notified (live: "
        "pushed to a socket at once, or false: kept for replay on reconnect); replayed "
        "(entryId: the dead letter an operator replayed)"
    )
    at: str = Field(description="ISO 8601 time")


TaskStatus = Literal["queued", "done", "failed"]


class TaskPublic(BaseModel):
    """One task as ``GET /v1/tasks/{taskId}`` shows it (the backend builds it, the
    gateway relays and documents it)."""

    taskId: str
    text: str = Field(description="the text as submitted")
    status: TaskStatus
    cached: bool = Field(description="answered from the cache; no model ran for it")
    result: VerdictPublic | None = Field(description="set when status is done")
    error: ErrorBody | None = Field(description="set when status is failed")
    model: str | None
    createdAt: str
    updatedAt: str
    completedAt: str | None
    stages: list[TaskStage] = Field(
        default_factory=list, description="what happened to the task, oldest first"
    )


class TaskPage(BaseModel):
    items: list[TaskPublic] = Field(description="newest first")
    nextCursor: str | None = Field(
        description="pass as cursor for the next page; null on the last page"
    )


# -- API keys (created by auth_service, documented and relayed by the gateway) ---------

Scope = Literal["verify", "tasks:read"]
API_KEY_ID_PATTERN = r"^[0-9a-z]{16}$"


class ApiKeyCreate(Strict):
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="a label for people; no control characters",
        examples=["newsroom CMS"],
    )
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        max_length=2,
        description="what the key may do: verify (POST /v1/verify) and tasks:read (read "
        "tasks, the WebSocket); both when left out",
    )
    expiresAt: AwareDatetime | None = Field(
        default=None, description="ISO 8601 with a zone; never expires when left out"
    )


class ApiKeyPublic(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="sm_live_<id>: how to recognise the key; not a secret")
    scopes: list[Scope]
    createdAt: str
    expiresAt: str | None
    lastUsedAt: str | None = Field(description="to the minute; null when never used")


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(
        description="the whole key, sm_live_<id>_<secret>: shown only in this answer, "
        "send it as Authorization: Bearer <key>"
    )


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic] = Field(description="keys that have not been revoked, newest first")


# -- webhooks (managed by backend_service, sent by result_receiver) ---------------------

WebhookEvent = Literal["task.completed", "task.failed"]
WEBHOOK_ID_PATTERN = r"^wh_[0-9a-z]{16}$"


def _every_webhook_event() -> list[WebhookEvent]:
    return ["task.completed", "task.failed"]


class WebhookCreate(Strict):
    url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=r"^https?://[^\s/?#@]+[^\s]*$",
        examples=["https://example.com/satyamark/hooks"],
        description="https, on a public address (development also allows http to loopback)",
    )
    events: list[WebhookEvent] = Field(
        default_factory=_every_webhook_event,
        min_length=1,
        max_length=2,
        description="which outcomes to send; both when left out",
    )


class WebhookPublic(BaseModel):
    id: str
    url: str
    events: list[WebhookEvent]
    createdAt: str
    disabledAt: str | None = Field(description="set once it failed for 24 h; nothing is sent")
    disabledReason: str | None


class WebhookCreated(WebhookPublic):
    secret: str = Field(
        description="whsec_…: verifies the webhook-signature header (Standard Webhooks)"
    )


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class WebhookDelivery(BaseModel):
    id: str = Field(description="the webhook-id header: the same on every retry")
    type: WebhookEvent
    taskId: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    lastStatus: int | None = Field(description="the endpoint's HTTP status last time")
    lastError: str | None
    nextAttemptAt: str | None = Field(description="when it is tried next, while pending")
    createdAt: str
    deliveredAt: str | None


class DeliveryPage(BaseModel):
    items: list[WebhookDelivery] = Field(description="newest first")
    nextCursor: str | None
