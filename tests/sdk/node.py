"""Running Node tools on the TypeScript SDK (``sdk/ts``) from tests: plain output, a
hard timeout, the npm workspace checked first.

Needs Node 20.19+ and the npm workspace installed (``npm ci`` at the repository root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "sdk" / "ts" / "client"
REACT = ROOT / "sdk" / "ts" / "react"
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


def run(command: list[str], cwd: Path, timeout_s: int) -> subprocess.CompletedProcess[str]:
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


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def require_npx() -> str:
    """npx's path; fails the test when Node or the npm workspace is missing."""
    path = shutil.which("npx")
    if path is None:
        pytest.fail("node/npx is not installed (Node 20.19+ is needed for sdk/ts)")
    if not (ROOT / "node_modules" / ".bin" / "vitest").exists():
        pytest.fail("the npm workspace is not installed: run `npm ci` at the repository root")
    return path
