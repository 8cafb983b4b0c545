"""Every Redis key, stream, group and channel name in one place.

The first four come from the user's spec and are part of the contract; the rest are
ours. Nothing else in the tree spells a key.
"""

from __future__ import annotations

JOB_STREAM = "stream:ai:jobs"
JOB_DLQ_STREAM = "stream:ai:jobs:dlq"
WORKER_GROUP = "workers"
# "<ms>-<random>": made (SET NX) when missing; a different or missing value means Redis
# lost its data since it was last read (a restart without persistence, a FLUSHALL).
REDIS_EPOCH = "satyamark:epoch"
# Whether new work is taken (hash: paused "1"/"0", reason, by, at); backend_service/intake.py
INTAKE = "admin:intake"
# Whether workers read new jobs (hash: paused "1"/"0", by, at); worker/switch.py
WORKERS = "admin:workers"
# Pub/sub: credentials revoked before they expire ({"keyId": ...}); gateways drop them
# from their validation caches at once (shared/clients/auth.py).
REVOKED_CREDENTIALS = "auth:revoked"


def cache_result(content_hash: str) -> str:
    """Cached verdict for a textHash or a summaryHash (spec: ``cache:result:<hash>``)."""
    return f"cache:result:{content_hash}"


def ws_user(user_id: str) -> str:
    """Hash of socketId -> ws_service instance id for one user (spec: ``ws:user:<id>``)."""
    return f"ws:user:{user_id}"


def user_events(user_id: str) -> str:
    """Stream of one user's result/failed events (the replay log); entry id = eventId."""
    return f"events:user:{user_id}"


def user_event_tasks(user_id: str) -> str:
    """Hash taskId -> eventId of the task's final event in the user's log (deduplicates)."""
    return f"events:user:{user_id}:tasks"


def user_event_task_ages(user_id: str) -> str:
    """Sorted set of the taskIds in ``user_event_tasks`` by eventId ms (ages them out)."""
    return f"events:user:{user_id}:tasks:age"


def ws_instance_channel(instance_id: str) -> str:
    """Pub/sub channel one ws_service instance listens on for events to its sockets."""
    return f"ws:instance:{instance_id}"


def ratelimit_bucket(endpoint: str, subject: str) -> str:
    """Token bucket of one subject (user id or client IP) on one endpoint."""
    return f"ratelimit:{endpoint}:{subject}"


def callback_seen(message_id: str) -> str:
    """Marks a callback delivery id as used, so a replayed delivery is refused."""
    return f"callback:seen:{message_id}"


def job_attempts(entry_id: str) -> str:
    """JSON list of the failed attempts of one job stream entry (for its DLQ record)."""
    return f"{JOB_STREAM}:attempts:{entry_id}"


def worker_result(task_id: str) -> str:
    """A worker's computed result (callback JSON), kept until the job is acked, so a
    crash between the model and the callback never runs the model again."""
    return f"worker:result:{task_id}"


def task_cancelled(task_id: str) -> str:
    """Set when a task is cancelled: a worker that has not started its job skips it."""
    return f"cancelled:{task_id}"


def inflight_text(text_hash: str) -> str:
    """taskId of the job now verifying this text; later submissions join it."""
    return f"inflight:{text_hash}"


def revoked_jti(jti: str) -> str:
    """Marks a token id as logged out; expires when the token would have anyway."""
    return f"revoked:jti:{jti}"
