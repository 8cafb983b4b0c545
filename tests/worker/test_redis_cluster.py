"""The worker's queue on a real 3-master Redis Cluster (``REDIS_CLUSTER=1``).

The same tests as on one Redis server, imported so they cannot drift apart: reading,
acking with the stored results, leases and take-over, retries, dead letters (a script
over the stream, the dead-letter stream, the attempts and the stored result: one slot)
and their replay. Only ``redis_url`` differs.
"""

from __future__ import annotations

import pytest

from tests.worker.test_dead_letters import (
    admin,
    dead_letter,
    finish,
    test_a_discard_fails_the_task_and_tells_the_user,
    test_replay_after_the_fault_is_fixed_gives_one_result,
)
from tests.worker.test_queue import (
    client,
    test_ack_removes_from_pending,
    test_claim_stale_takes_over_only_idle_entries,
    test_refresh_lease_never_takes_back_a_claimed_entry,
    test_two_consumers_split_entries_without_overlap,
)
from tests.worker.test_runner import (
    test_a_stored_result_is_resent_without_a_model_run,
    test_an_entry_that_keeps_losing_its_worker_is_dead_lettered_unrun,
    test_jobs_are_judged_delivered_and_acked,
    test_rejected_result_is_dead_lettered_at_once,
    test_stale_entry_of_a_dead_worker_is_taken_over,
    test_transient_failure_is_retried_then_acked,
)

__all__ = [
    "admin",
    "client",
    "dead_letter",
    "finish",
    "test_a_discard_fails_the_task_and_tells_the_user",
    "test_a_stored_result_is_resent_without_a_model_run",
    "test_ack_removes_from_pending",
    "test_an_entry_that_keeps_losing_its_worker_is_dead_lettered_unrun",
    "test_claim_stale_takes_over_only_idle_entries",
    "test_jobs_are_judged_delivered_and_acked",
    "test_refresh_lease_never_takes_back_a_claimed_entry",
    "test_rejected_result_is_dead_lettered_at_once",
    "test_replay_after_the_fault_is_fixed_gives_one_result",
    "test_stale_entry_of_a_dead_worker_is_taken_over",
    "test_transient_failure_is_retried_then_acked",
    "test_two_consumers_split_entries_without_overlap",
]


@pytest.fixture
def redis_url(cluster_redis_url: str) -> str:
    return cluster_redis_url
