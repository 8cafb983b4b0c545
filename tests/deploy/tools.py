"""What the deployment tests share: where the files are, the command-line tools that check
them, and reading the YAML they are written in."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def run_tool(
    *cmd: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to its end, its output captured as text; the exit status is not checked."""
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def load_yaml(path: Path) -> Any:
    with path.open() as f:
        return yaml.safe_load(f)  # resolves the x-* anchors and << merges


def services(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A compose file's services."""
    svcs = cfg["services"]
    assert isinstance(svcs, dict)
    return svcs
