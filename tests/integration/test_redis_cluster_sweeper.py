"""The sweeper on a real 3-master Redis Cluster (``REDIS_CLUSTER=1``): jobs lost with
Redis' data are found and queued again, once. The same tests as on one Redis server,
imported so they cannot drift apart; only ``redis_url`` differs."""

from __future__ import annotations

import pytest

from tests.integration.test_sweeper import (
    services,
    test_a_lost_leader_joins_the_job_now_verifying_its_text,
    test_a_lost_leader_takes_the_cached_verdict_of_its_text,
    test_concurrent_sweeps_do_not_double_enqueue,
    test_followers_are_never_requeued_and_orphans_get_the_outcome,
    test_lost_jobs_are_requeued_with_new_tokens,
)

__all__ = [
    "services",
    "test_a_lost_leader_joins_the_job_now_verifying_its_text",
    "test_a_lost_leader_takes_the_cached_verdict_of_its_text",
    "test_concurrent_sweeps_do_not_double_enqueue",
    "test_followers_are_never_requeued_and_orphans_get_the_outcome",
    "test_lost_jobs_are_requeued_with_new_tokens",
]


@pytest.fixture
def redis_url(cluster_redis_url: str) -> str:
    return cluster_redis_url
