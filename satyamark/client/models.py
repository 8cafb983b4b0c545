"""What the SDK returns: the API's own models, and the outcome of a verification."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from shared.schemas import (
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    DeliveryPage,
    ErrorBody,
    TaskPage,
    TaskPublic,
    VerdictPublic,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
)

__all__ = [
    "ApiKeyCreated",
    "ApiKeyList",
    "ApiKeyPublic",
    "DeliveryPage",
    "Outcome",
    "Submitted",
    "TaskPage",
    "TaskPublic",
    "WebhookCreated",
    "WebhookList",
    "WebhookPublic",
]


class Submitted(BaseModel):
    """A text accepted for verification (``verify(wait=False)``): its verdict comes
    later (``wait_for``), or at once when it was cached."""

    taskId: str
    cached: bool = False
    result: VerdictPublic | None = None


class Outcome(BaseModel):
    """How a task ended: ``result`` when ``status`` is done, ``error`` when failed."""

    taskId: str
    status: Literal["done", "failed"]
    cached: bool = False
    result: VerdictPublic | None = None
    error: ErrorBody | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Outcome:
        """From a pushed ``result`` or ``failed`` event."""
        if event["type"] == "failed":
            error = ErrorBody(errorCode=event["errorCode"], message=event["message"])
            return cls(taskId=event["taskId"], status="failed", error=error)
        return cls(
            taskId=event["taskId"],
            status="done",
            cached=bool(event.get("cached", False)),
            result=VerdictPublic.model_validate(
                {k: event.get(k) for k in ("mark", "reason", "confidence", "claims", "method")}
            ),
        )

    @classmethod
    def from_task(cls, task: TaskPublic) -> Outcome | None:
        """From a task read over the API; None while it is queued."""
        if task.status == "queued":
            return None
        return cls(
            taskId=task.taskId,
            status=task.status,
            cached=task.cached,
            result=task.result,
            error=task.error,
        )
