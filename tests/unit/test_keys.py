import subprocess
from pathlib import Path

from shared import keys

ROOT = Path(__file__).resolve().parents[2]


def test_spec_key_names() -> None:
    assert keys.JOB_STREAM == "stream:ai:jobs"
    assert keys.WORKER_GROUP == "workers"
    assert keys.cache_result("abc") == "cache:result:abc"
    assert keys.ws_user("u1") == "ws:user:u1"
    assert keys.JOB_DLQ_STREAM == "stream:ai:jobs:dlq"


def test_our_key_names_are_namespaced() -> None:
    assert keys.ratelimit_bucket("verify", "user:1") == "ratelimit:verify:user:1"
    assert keys.ws_instance_channel("i1") == "ws:instance:i1"
    assert keys.callback_seen("m1") == "callback:seen:m1"


def test_no_key_literal_outside_keys_module() -> None:
    """Every key is built in shared/keys.py; nothing else spells one."""
    pattern = r"[\"'](cache:result:|ws:user:|ws:instance:|stream:ai:|ratelimit:|callback:seen:)"
    found = subprocess.run(
        ["grep", "-rnE", pattern, "--include=*.py", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    offenders = [
        line for line in found if not line.startswith(("./shared/keys.py", "./tests/", "./.venv/"))
    ]
    assert offenders == []
