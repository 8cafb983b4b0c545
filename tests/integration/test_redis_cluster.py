"""Submit and callback, rate limiting and the event log on a real 3-master Redis Cluster
(``REDIS_CLUSTER=1``): the same tests as on one Redis server, imported so they cannot
drift apart. Only ``redis_url`` differs (the sweeper: test_redis_cluster_sweeper.py)."""

from __future__ import annotations

import pytest

from tests.integration.test_event_log import (
    redis,
    test_a_tasks_final_event_is_logged_and_published_once,
    test_event_ids_increase_and_the_log_is_capped,
    test_ids_older_than_the_data_redis_holds_are_truncated,
    test_remembered_tasks_age_out_with_the_log,
    test_users_logs_are_separate_and_publish_carries_the_id,
)
from tests.integration.test_ratelimit import (
    test_bucket_allows_capacity_then_denies_with_retry_after,
    test_concurrent_takes_never_overspend,
    test_service_api,
)
from tests.integration.test_submit_and_callback import (
    test_cache_hits_by_text_and_by_summary,
    test_callback_stores_caches_and_notifies,
    test_miss_enqueues_job_with_spec_fields,
)

__all__ = [
    "redis",
    "test_a_tasks_final_event_is_logged_and_published_once",
    "test_bucket_allows_capacity_then_denies_with_retry_after",
    "test_cache_hits_by_text_and_by_summary",
    "test_callback_stores_caches_and_notifies",
    "test_concurrent_takes_never_overspend",
    "test_event_ids_increase_and_the_log_is_capped",
    "test_ids_older_than_the_data_redis_holds_are_truncated",
    "test_miss_enqueues_job_with_spec_fields",
    "test_remembered_tasks_age_out_with_the_log",
    "test_service_api",
    "test_users_logs_are_separate_and_publish_carries_the_id",
]


@pytest.fixture
def redis_url(cluster_redis_url: str) -> str:
    return cluster_redis_url
