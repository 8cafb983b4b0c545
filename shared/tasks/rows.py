"""What the statements of ``shared.tasks`` return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..events import TaskEvent


@dataclass(frozen=True, slots=True)
class NewTask:
    task_id: str
    user_id: str
    text_hash: str
    summary_hash: str
    payload: str


@dataclass(frozen=True, slots=True)
class StoredTask:
    """What result_receiver needs of a task to cache and push its outcome."""

    user_id: str
    text_hash: str
    summary_hash: str


@dataclass(frozen=True, slots=True)
class TaskState:
    """A task's stored outcome and token, to tell a repeated callback from a bad one."""

    task: StoredTask
    status: str
    mark: str | None
    reason: str | None
    confidence: int | None
    claims: list[dict[str, Any]]
    method: str | None
    error_code: str | None
    job_token_hash: str | None


@dataclass(frozen=True, slots=True)
class LostTask:
    """An old queued leader: its job may be gone from the stream."""

    task: NewTask
    job_token_hash: str


@dataclass(frozen=True, slots=True)
class FinishedTask:
    """A task the sweeper just finished, with the event its user is owed."""

    task_id: str
    user_id: str
    event: TaskEvent


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a user's tasks got (benchmarks wait on it)."""

    finished: int
    failed: int
    last_completed: datetime | None


@dataclass(frozen=True, slots=True)
class Finished:
    """What recording an outcome changed: the task itself (None when its row was not
    queued under that token: a repeat or a refusal) and its queued followers, which
    took the same outcome, as (id, user_id) ordered by id."""

    task: StoredTask | None
    followers: list[tuple[str, str]]
