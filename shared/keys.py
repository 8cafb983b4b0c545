"""Every Redis key, stream, group and channel name in one place.

The spec's names (``stream:ai:jobs``, ``cache:result:<hash>``, ``ws:user:<id>``) are
part of the contract; the rest are ours. Nothing else in the tree spells a key.

``REDIS_KEY_PREFIX`` (default empty: the spec's names as they are) goes in front of
every key and channel, so several deployments or test runs can share one Redis.

Redis Cluster runs a script or a MULTI only on keys of one hash slot. With
``REDIS_CLUSTER=1``, keys used together therefore share a hash tag whose content is the
full name of their anchor key, so they land in the anchor's slot while the anchor keeps
its spec name (on one Redis server the names stay as the design documents them):

- the job stream's slot (``{stream:ai:jobs}``): the dead-letter stream
  (``{stream:ai:jobs}:dlq``, else ``stream:ai:jobs:dlq``), each entry's attempts and
  each computed result (worker/lua/*.lua, worker/queue.py's ack);
- a user's slot (``{ws:user:<id>}``): the socket registry, the event log
  (``{ws:user:<id>}:events``, else ``events:user:<id>``) and its two indexes
  (shared/lua/*.lua, backend_service/dlq.py).
"""

from __future__ import annotations

import os

# A consumer group's name lives inside its stream: never prefixed.
WORKER_GROUP = "workers"

PREFIX = ""
CLUSTER = False
JOB_STREAM = "stream:ai:jobs"
JOB_DLQ_STREAM = "stream:ai:jobs:dlq"
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


def use_layout(prefix: str, *, cluster: bool = False) -> None:
    """Put ``prefix`` in front of every name from now on, and hash-tag the keys used
    together when ``cluster`` (read once from ``REDIS_KEY_PREFIX`` and ``REDIS_CLUSTER``
    at import; tests give each test its own prefix)."""
    global PREFIX, CLUSTER, JOB_STREAM, JOB_DLQ_STREAM, REDIS_EPOCH, INTAKE, WORKERS
    global REVOKED_CREDENTIALS
    if "{" in prefix or "}" in prefix:
        raise ValueError("REDIS_KEY_PREFIX must not contain '{' or '}' (hash tags are ours)")
    PREFIX, CLUSTER = prefix, cluster
    JOB_STREAM = f"{prefix}stream:ai:jobs"
    JOB_DLQ_STREAM = _together(JOB_STREAM, ":dlq", f"{JOB_STREAM}:dlq")
    REDIS_EPOCH = f"{prefix}satyamark:epoch"
    INTAKE = f"{prefix}admin:intake"
    WORKERS = f"{prefix}admin:workers"
    REVOKED_CREDENTIALS = f"{prefix}auth:revoked"


def use_prefix(prefix: str) -> None:
    """Another prefix, the same layout."""
    use_layout(prefix, cluster=CLUSTER)


def _together(anchor: str, suffix: str, plain: str) -> str:
    """A key used together with ``anchor``: on a cluster in its hash slot (a hash tag
    holding the anchor's full name), else ``plain``."""
    return f"{PREFIX}{{{anchor}}}{suffix}" if CLUSTER else plain


def cache_result(content_hash: str) -> str:
    """Cached verdict for a textHash or a summaryHash (spec: ``cache:result:<hash>``)."""
    return f"{PREFIX}cache:result:{content_hash}"


def ws_user(user_id: str) -> str:
    """Hash of socketId -> ws_service instance id for one user (spec: ``ws:user:<id>``)."""
    return f"{PREFIX}ws:user:{user_id}"


def user_events(user_id: str) -> str:
    """Stream of one user's result/failed events (the replay log); entry id = eventId."""
    return _together(ws_user(user_id), ":events", f"{PREFIX}events:user:{user_id}")


def user_event_tasks(user_id: str) -> str:
    """Hash taskId -> eventId of the task's final event in the user's log (deduplicates)."""
    return _together(ws_user(user_id), ":events:tasks", f"{user_events(user_id)}:tasks")


def user_event_task_ages(user_id: str) -> str:
    """Sorted set of the taskIds in ``user_event_tasks`` by eventId ms (ages them out)."""
    return _together(ws_user(user_id), ":events:tasks:age", f"{user_event_tasks(user_id)}:age")


def ws_instance_channel(instance_id: str) -> str:
    """Pub/sub channel one ws_service instance listens on for events to its sockets."""
    return f"{PREFIX}ws:instance:{instance_id}"


def ratelimit_bucket(endpoint: str, subject: str) -> str:
    """Token bucket of one subject (user id or client IP) on one endpoint."""
    return f"{PREFIX}ratelimit:{endpoint}:{subject}"


def callback_seen(message_id: str) -> str:
    """Marks a callback delivery id as used, so a replayed delivery is refused."""
    return f"{PREFIX}callback:seen:{message_id}"


def internal_nonce(kid: str, nonce: str) -> str:
    """Marks a signed internal request's nonce as used (shared/service_auth.py)."""
    return f"{PREFIX}internal:nonce:{kid}:{nonce}"


def job_attempts(entry_id: str) -> str:
    """JSON list of the failed attempts of one job stream entry (for its DLQ record)."""
    return _together(JOB_STREAM, f":attempts:{entry_id}", f"{JOB_STREAM}:attempts:{entry_id}")


def worker_result(task_id: str) -> str:
    """A worker's computed result (callback JSON), kept until the job is acked, so a
    crash between the model and the callback never runs the model again."""
    return _together(JOB_STREAM, f":result:{task_id}", f"{PREFIX}worker:result:{task_id}")


def task_cancelled(task_id: str) -> str:
    """Set when a task is cancelled: a worker that has not started its job skips it."""
    return f"{PREFIX}cancelled:{task_id}"


def inflight_text(text_hash: str) -> str:
    """taskId of the job now verifying this text; later submissions join it."""
    return f"{PREFIX}inflight:{text_hash}"


def revoked_jti(jti: str) -> str:
    """Marks a token id as logged out; expires when the token would have anyway."""
    return f"{PREFIX}revoked:jti:{jti}"


use_layout(
    os.environ.get("REDIS_KEY_PREFIX", ""),
    cluster=os.environ.get("REDIS_CLUSTER", "").lower() in {"1", "true", "yes"},
)
