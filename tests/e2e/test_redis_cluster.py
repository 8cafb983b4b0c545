"""The whole system on a real 3-master Redis Cluster (``REDIS_CLUSTER=1``).

The same end-to-end tests as on one Redis server (imported from test_pipeline, so they
cannot drift apart): submit → worker → result_receiver → push to two users over two
ws_service instances, cache hits, rate limiting, and the replay of a result missed
while offline. Every process uses redis-py's cluster client; the keys each script or
MULTI touches share one slot (shared/keys.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from satyamark.devstack import Stack
from tests.e2e import test_pipeline as plain
from tests.e2e.conftest import running_stack
from tests.fixtures.redis_cluster import RedisCluster, cluster_layout

pytestmark = pytest.mark.e2e

# The same tests as on the plain stack, run here on this module's `stack`.
test_burst_past_the_limit_gets_429 = plain.test_burst_past_the_limit_gets_429
test_each_user_gets_exactly_their_results = plain.test_each_user_gets_exactly_their_results
test_result_missed_while_offline_is_replayed_on_reconnect = (
    plain.test_result_missed_while_offline_is_replayed_on_reconnect
)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redis_cluster: RedisCluster, pg_server_url: str
) -> Iterator[Stack]:
    with cluster_layout():
        yield from running_stack(tmp_path_factory, redis_cluster.url, pg_server_url)


def test_the_stack_really_runs_on_the_cluster(stack: Stack, redis_cluster: RedisCluster) -> None:
    """Its keys are spread over the three masters, and the job stream lives in one."""
    holders = set()
    for port in redis_cluster.ports:
        with redis.Redis(port=port, decode_responses=True) as node:
            assert node.info("cluster")["cluster_enabled"] == 1
            if node.dbsize():
                holders.add(port)
    assert len(holders) >= 2, "every key landed on one master"
