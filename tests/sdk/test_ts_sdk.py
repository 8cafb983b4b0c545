"""The TypeScript SDK (``sdk/ts``): its own unit tests (vitest), the committed OpenAPI
document and the types generated from it kept current (drift fails here, not in a
user's build), and the built ``@satyamark/client`` against the real running stack.

Needs Node 20.19+ and the npm workspace installed (``npm ci`` at the repository root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from ulid import ULID

from satyamark.devstack import Stack
from tests.e2e.stack import stack_options

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "sdk" / "ts" / "client"
REACT = ROOT / "sdk" / "ts" / "react"
MARKS = {"Correct", "Incorrect", "Insufficient", "Subjective"}
# Plain output (no colours, no watch mode, no update notices) for the test log.
NODE_ENV = {
    **os.environ,
    "CI": "1",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
}


def _run(command: list[str], cwd: Path, timeout_s: int) -> subprocess.CompletedProcess[str]:
    """Run ``command`` under ``timeout`` (killed, children and all, when it hangs);
    ``subprocess.run`` closes its pipes itself."""
    return subprocess.run(
        ["timeout", "-s", "KILL", str(timeout_s), *command],
        cwd=cwd,
        env=NODE_ENV,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture(scope="module")
def npx() -> str:
    path = shutil.which("npx")
    if path is None:
        pytest.fail("node/npx is not installed (Node 20.19+ is needed for sdk/ts)")
    if not (ROOT / "node_modules" / ".bin" / "vitest").exists():
        pytest.fail("the npm workspace is not installed: run `npm ci` at the repository root")
    return path


# -- (a) the SDK's own unit tests ---------------------------------------------------------


@pytest.mark.parametrize("package", [CLIENT, REACT], ids=["client", "react"])
def test_vitest_suite_passes(npx: str, package: Path) -> None:
    result = _run([npx, "--no-install", "vitest", "run"], package, 240)
    print(result.stdout, result.stderr, sep="\n")  # shown by pytest on failure (and -s)
    assert result.returncode == 0, _output(result)
    assert " passed" in result.stdout, _output(result)


@pytest.mark.parametrize("package", [CLIENT, REACT], ids=["client", "react"])
def test_typescript_typechecks(npx: str, package: Path) -> None:
    """Sources and tests: the event-typing tests (expectTypeOf) only bite under tsc."""
    result = _run([npx, "--no-install", "tsc", "-p", str(package), "--noEmit"], ROOT, 240)
    assert result.returncode == 0, _output(result)


# -- (b) the committed OpenAPI document and generated types are current -------------------


def test_committed_openapi_document_is_current() -> None:
    result = _run([sys.executable, str(ROOT / "scripts" / "openapi.py")], ROOT, 120)
    assert result.returncode == 0, _output(result)
    committed = (CLIENT / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(committed), (
        "the gateway's API changed: run `.venv/bin/python scripts/openapi.py > "
        "sdk/ts/client/openapi.json && npm run gen -w sdk/ts/client` and commit both"
    )
    assert result.stdout == committed, "openapi.json is not as scripts/openapi.py prints it"


def test_generated_schema_is_current(npx: str, tmp_path: Path) -> None:
    fresh = tmp_path / "schema.ts"
    result = _run(
        [npx, "--no-install", "openapi-typescript", "openapi.json", "--output", str(fresh)],
        CLIENT,
        120,
    )
    assert result.returncode == 0, _output(result)
    committed = (CLIENT / "src" / "schema.ts").read_text(encoding="utf-8")
    assert fresh.read_text(encoding="utf-8") == committed, (
        "src/schema.ts is not what openapi.json generates: run `npm run gen -w sdk/ts/client`"
    )


# -- (c) the built package against the real stack ------------------------------------------


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: Any,
    pg_server_url: str,
    pg_template: str,
) -> Iterator[Stack]:
    """The whole system as real processes (like tests/e2e, with its own database)."""
    root = tmp_path_factory.mktemp("ts-stack")
    database = pg_server_url.rsplit("/", 1)[0] + f"/satyamark_ts_{ULID().hex[-10:].lower()}"
    rules = {
        "verify": {"capacity": 12, "refill_per_s": 0.2},
        "auth": {"capacity": 1_000, "refill_per_s": 100},
    }
    env = {"RATELIMIT_RULES": json.dumps(rules), "WORKER_PROGRESS_AFTER_S": "0"}
    flush = redis.Redis.from_url(redis_server.url)
    try:
        flush.flushall()
    finally:
        flush.close()
    running = Stack(stack_options(root, redis_server.url, database, env)).start()
    try:
        yield running
    finally:
        running.stop()


def _newest_mtime(paths: list[Path]) -> float:
    return max(p.stat().st_mtime for p in paths)


@pytest.fixture(scope="module")
def built_client(npx: str) -> Path:
    """``dist/`` of @satyamark/client, rebuilt when missing or older than its sources."""
    entry = CLIENT / "dist" / "index.js"
    sources = [
        *CLIENT.glob("src/**/*.ts"),
        CLIENT / "package.json",
        CLIENT / "tsconfig.json",
        CLIENT / "tsconfig.build.json",
    ]
    if not entry.exists() or entry.stat().st_mtime < _newest_mtime(sources):
        result = _run(["npm", "run", "build", "-w", "sdk/ts/client"], ROOT, 180)
        assert result.returncode == 0, _output(result)
    assert entry.exists()
    return entry


def _assert_verdict(verdict: dict[str, Any]) -> None:
    assert verdict["mark"] in MARKS, verdict
    confidence = verdict["confidence"]
    assert isinstance(confidence, int) and 0 <= confidence <= 100, verdict
    assert isinstance(verdict["taskId"], str) and verdict["taskId"]
    assert isinstance(verdict["reason"], str) and verdict["reason"]
    assert isinstance(verdict["claims"], list)
    assert isinstance(verdict["cached"], bool)


@pytest.mark.e2e
def test_the_built_client_verifies_against_the_real_stack(stack: Stack, built_client: Path) -> None:
    """Register, verify (socket push or cache hit), make an API key, verify with it,
    read the task back, log out: the Node script of e2e/verify.mjs, on the built dist."""
    node = shutil.which("node")
    assert node is not None
    result = _run([node, str(CLIENT / "e2e" / "verify.mjs"), stack.gateway_url], ROOT, 280)
    print(result.stdout, result.stderr, sep="\n")
    assert result.returncode == 0, _output(result)
    out = json.loads(result.stdout.strip().splitlines()[-1])

    _assert_verdict(out["user"])
    _assert_verdict(out["apiKey"])
    _assert_verdict(out["again"])
    assert out["apiKey"]["cached"] is False  # a new text: the verdict came over the socket
    assert out["again"]["cached"] is True  # the text the user verified first
    assert out["again"]["mark"] == out["user"]["mark"]
    assert out["task"] == {
        "taskId": out["apiKey"]["taskId"],
        "status": "done",
        "mark": out["apiKey"]["mark"],
    }
    assert out["keys"] == [out["keyId"]]
    assert out["keyPrefix"].startswith("sm_live_")
    assert out["scopeError"] == "GW-SCOPE-403"  # an API key may not manage keys
    assert out["afterLogout"] == "SDK-AUTH-401"
    assert "live" in out["states"] and out["states"][-1] == "closed"
