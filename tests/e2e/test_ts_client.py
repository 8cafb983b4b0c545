"""The built ``@satyamark/client`` (sdk/ts/client) against the real running stack: the
Node script of sdk/ts/client/e2e/verify.mjs on the built dist (tests/sdk/test_ts_sdk.py
has the SDK's own unit tests and its drift checks).

Needs Node 20.19+ and the npm workspace installed (``npm ci`` at the repository root).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from satyamark.devstack import Stack
from tests.sdk.node import CLIENT, ROOT, output, require_npx, run

pytestmark = pytest.mark.e2e

MARKS = {"Correct", "Incorrect", "Insufficient", "Subjective"}


def _newest_mtime(paths: list[Path]) -> float:
    return max(p.stat().st_mtime for p in paths)


@pytest.fixture(scope="module")
def built_client() -> Path:
    """``dist/`` of @satyamark/client, rebuilt when missing or older than its sources."""
    entry = CLIENT / "dist" / "index.js"
    sources = [
        *CLIENT.glob("src/**/*.ts"),
        CLIENT / "package.json",
        CLIENT / "tsconfig.json",
        CLIENT / "tsconfig.build.json",
    ]
    require_npx()
    if not entry.exists() or entry.stat().st_mtime < _newest_mtime(sources):
        result = run(["npm", "run", "build", "-w", "sdk/ts/client"], ROOT, 180)
        assert result.returncode == 0, output(result)
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


def test_the_built_client_verifies_against_the_real_stack(stack: Stack, built_client: Path) -> None:
    """Register, verify (socket push or cache hit), make an API key, verify with it,
    read the task back, log out: the Node script of e2e/verify.mjs, on the built dist."""
    node = shutil.which("node")
    assert node is not None
    result = run([node, str(CLIENT / "e2e" / "verify.mjs"), stack.gateway_url], ROOT, 280)
    print(result.stdout, result.stderr, sep="\n")
    assert result.returncode == 0, output(result)
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
