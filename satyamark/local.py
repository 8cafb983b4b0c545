"""Where the local stack is: ``satyamark run`` records its Redis, PostgreSQL and gateway
URLs in ``<data dir>/stack.json``, so CLI commands run from the same folder reach the
same stack with no environment set. ``DATABASE_URL`` / ``SATYAMARK_URL`` win."""

from __future__ import annotations

import json
import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("SATYAMARK_DATA_DIR", ".satyamark"))
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/satyamark"
DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"


def _recorded(data_dir: Path = DATA_DIR) -> dict[str, str]:
    try:
        values = json.loads((data_dir / "stack.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(values, dict):
        return {}
    return {k: v for k, v in values.items() if isinstance(v, str)}


def record_stack(data_dir: Path, **urls: str) -> None:
    (data_dir / "stack.json").write_text(json.dumps(urls, indent=2) + "\n")


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or _recorded().get("database_url", DEFAULT_DATABASE_URL)


def gateway_url() -> str:
    return os.environ.get("SATYAMARK_URL") or _recorded().get("gateway_url", DEFAULT_GATEWAY_URL)
