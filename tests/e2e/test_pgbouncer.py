"""The whole system with every service reaching PostgreSQL through a real pgbouncer in
transaction pooling mode (``DATABASE_POOL_MODE=transaction``): each transaction may run
on another server connection, so nothing may rely on prepared statements or session
state. The same end-to-end tests as on a direct connection (imported from
test_pipeline, so they cannot drift apart)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from satyamark.devstack import Stack
from tests.e2e import test_pipeline as plain
from tests.e2e.conftest import running_stack
from tests.fixtures.pgbouncer import PgBouncer

pytestmark = pytest.mark.e2e

# The same tests as on the plain stack, run here on this module's `stack`.
test_each_user_gets_exactly_their_results = plain.test_each_user_gets_exactly_their_results
test_result_missed_while_offline_is_replayed_on_reconnect = (
    plain.test_result_missed_while_offline_is_replayed_on_reconnect
)


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: Any,
    pg_server_url: str,
    pgbouncer: PgBouncer,
) -> Iterator[Stack]:
    yield from running_stack(tmp_path_factory, redis_server.url, pg_server_url, pgbouncer.url)


def test_the_services_really_went_through_the_pooler(stack: Stack, pgbouncer: PgBouncer) -> None:
    database = stack.database_url.rsplit("/", 1)[1]
    assert stack.env["DATABASE_URL"] == pgbouncer.url(stack.database_url)
    logins = [line for line in pgbouncer.log.read_text().splitlines() if f"db={database}" in line]
    assert logins, "no service logged in through pgbouncer"
