"""Data shapes that cross service boundaries."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Mark(StrEnum):
    CORRECT = "Correct"
    INCORRECT = "Incorrect"
    INSUFFICIENT = "Insufficient"
    SUBJECTIVE = "Subjective"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Verdict(Strict):
    mark: Mark
    reason: str = Field(min_length=1, max_length=2000)
    confidence: int = Field(ge=0, le=100)


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


class CallbackResult(Verdict):
    """What a worker POSTs to the result receiver."""

    taskId: str = Field(min_length=1, max_length=64)
    job_token: str = Field(min_length=16, max_length=256)
    model: str | None = Field(default=None, max_length=512)
    workerId: str | None = Field(default=None, max_length=128)


class UserEvent(BaseModel):
    """A message pushed to a user's sockets."""

    type: str
    taskId: str
    mark: Mark | None = None
    reason: str | None = None
    confidence: int | None = None
    cached: bool = False
