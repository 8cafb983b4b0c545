import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.crc import key_slot

from shared import keys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=[("", False), ("tenant-a:", False), ("", True), ("tenant-a:", True)])
def prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    before = keys.PREFIX, keys.CLUSTER
    keys.use_layout(request.param[0], cluster=request.param[1])
    yield request.param[0]
    keys.use_layout(before[0], cluster=before[1])


@pytest.fixture
def cluster(prefix: str) -> Iterator[str]:
    before = keys.CLUSTER
    keys.use_layout(prefix, cluster=True)
    yield prefix
    keys.use_layout(prefix, cluster=before)


@pytest.fixture
def no_prefix() -> Iterator[None]:
    before = keys.PREFIX, keys.CLUSTER
    keys.use_layout("")
    yield
    keys.use_layout(before[0], cluster=before[1])


@pytest.mark.usefixtures("no_prefix")
def test_spec_key_names() -> None:
    assert keys.JOB_STREAM == "stream:ai:jobs"
    assert keys.WORKER_GROUP == "workers"
    assert keys.cache_result("abc") == "cache:result:abc"
    assert keys.ws_user("u1") == "ws:user:u1"
    assert keys.JOB_DLQ_STREAM == "stream:ai:jobs:dlq"  # ../shared/DESIGN.md


@pytest.mark.usefixtures("no_prefix")
def test_our_key_names_are_namespaced() -> None:
    assert keys.ratelimit_bucket("verify", "user:1") == "ratelimit:verify:user:1"
    assert keys.ws_instance_channel("i1") == "ws:instance:i1"
    assert keys.callback_seen("m1") == "callback:seen:m1"
    assert keys.user_events("u1") == "events:user:u1"
    assert keys.worker_result("t1") == "worker:result:t1"


def test_on_a_cluster_keys_used_together_are_tagged() -> None:
    before = keys.PREFIX, keys.CLUSTER
    keys.use_layout("", cluster=True)
    try:
        assert keys.JOB_STREAM == "stream:ai:jobs"
        assert keys.ws_user("u1") == "ws:user:u1"
        assert keys.JOB_DLQ_STREAM == "{stream:ai:jobs}:dlq"
        assert keys.user_events("u1") == "{ws:user:u1}:events"
    finally:
        keys.use_layout(before[0], cluster=before[1])


def test_every_name_starts_with_the_prefix(prefix: str) -> None:
    names = [
        keys.JOB_STREAM, keys.JOB_DLQ_STREAM, keys.REDIS_EPOCH, keys.INTAKE, keys.WORKERS,
        keys.REVOKED_CREDENTIALS, keys.cache_result("h"), keys.ws_user("u"),
        keys.user_events("u"), keys.user_event_tasks("u"), keys.user_event_task_ages("u"),
        keys.ws_instance_channel("i"), keys.ratelimit_bucket("e", "s"),
        keys.callback_seen("m"), keys.internal_nonce("k", "n"), keys.job_attempts("1-0"),
        keys.worker_result("t"), keys.task_cancelled("t"), keys.inflight_text("h"),
        keys.revoked_jti("j"),
    ]  # fmt: skip
    assert all(name.startswith(prefix) for name in names)
    assert len(set(names)) == len(names)
    assert keys.WORKER_GROUP == "workers"  # a group lives inside its stream


def test_keys_used_together_share_one_hash_slot(cluster: str) -> None:
    """What one Lua script or MULTI touches lies in one Redis Cluster slot."""
    job_family = [
        keys.JOB_STREAM, keys.JOB_DLQ_STREAM, keys.job_attempts("1700000000000-0"),
        keys.worker_result("5f0c7c1e-1b7a-4c7e-9d55-3f2b0c7c1e11"),
    ]  # fmt: skip
    assert {key_slot(k.encode()) for k in job_family} == {key_slot(keys.JOB_STREAM.encode())}
    user = "8d1f6c52-3f0e-4b61-a1c3-0e7f5d9b2a40"
    user_family = [
        keys.ws_user(user), keys.user_events(user), keys.user_event_tasks(user),
        keys.user_event_task_ages(user),
    ]  # fmt: skip
    assert len({key_slot(k.encode()) for k in user_family}) == 1
    # The anchors keep their own slots: two users, and users and jobs, spread out.
    assert key_slot(keys.user_events(user).encode()) != key_slot(keys.user_events("other").encode())


def test_a_prefix_cannot_break_the_hash_tags() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        keys.use_prefix("a{b}:")


def test_no_key_literal_outside_keys_module() -> None:
    """Every key is built in shared/keys.py; nothing else spells one."""
    pattern = (
        r"[\"'](cache:result:|ws:user:|ws:instance:|stream:ai:|ratelimit:|callback:seen:"
        r"|internal:nonce:|inflight:|cancelled:|revoked:jti:|events:user:)"
    )
    found = subprocess.run(
        ["grep", "-rnE", pattern, "--include=*.py", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    offenders = [
        line
        for line in found
        if not line.startswith(("./shared/keys.py", "./tests/", "./.venv/", "./node_modules/"))
    ]
    assert offenders == []
