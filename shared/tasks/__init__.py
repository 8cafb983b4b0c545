"""Every statement on ``ai_results``, the task rows (PostgreSQL is the source of truth).

A task is ``queued`` until its first accepted outcome makes it ``done`` or ``failed``.
A queued task either leads a job (it holds the job_token's hash) or follows the leader
whose job verifies the same text (``joined_task_id``) and takes its outcome.

The backend inserts tasks, joins them to leaders and reads them back; the sweeper
re-tokens lost jobs and finishes orphaned followers; result_receiver records outcomes.
``db`` is a pool or, inside a caller's transaction, its connection.

By caller: ``submit`` (the backend's submit and read paths), ``sweeper``, ``results``
(result_receiver), ``operations`` (operators' tools); ``rows`` what they return, ``_sql``
the SQL pieces and row readers they share.
"""

from ._sql import Db
from .operations import cancel, discard, find, hand_on_lead, progress_of_user, requeue_replayed
from .results import finish, finish_results, get_state, notified_sql, record_progress
from .rows import Finished, FinishedTask, LostTask, NewTask, Progress, StoredTask, TaskState
from .submit import (
    fail_queued,
    get_for_user,
    insert_cached,
    insert_queued,
    join,
    list_for_user,
    mark_queued,
)
from .sweeper import (
    finish_cached,
    finish_orphans,
    join_lost,
    lock_lost,
    lost_candidates,
    renew_token,
)

__all__ = [
    "Db",
    "Finished",
    "FinishedTask",
    "LostTask",
    "NewTask",
    "Progress",
    "StoredTask",
    "TaskState",
    "cancel",
    "discard",
    "fail_queued",
    "find",
    "finish",
    "finish_cached",
    "finish_orphans",
    "finish_results",
    "get_for_user",
    "get_state",
    "hand_on_lead",
    "insert_cached",
    "insert_queued",
    "join",
    "join_lost",
    "list_for_user",
    "lock_lost",
    "lost_candidates",
    "mark_queued",
    "notified_sql",
    "progress_of_user",
    "record_progress",
    "renew_token",
    "requeue_replayed",
]
