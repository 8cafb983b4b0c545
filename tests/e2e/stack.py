"""How the end-to-end tests start the whole system (shared by their fixtures)."""

from __future__ import annotations

from pathlib import Path

from satyamark.devstack import StackOptions
from tests.utils.tiny_models import build_tiny_encoder


def stack_options(
    root: Path, redis_url: str, database_url: str, extra_env: dict[str, str]
) -> StackOptions:
    """The end-to-end stack: every component as a process on free ports, two workers
    (with a tiny model built in ``root``) and two ws_service instances."""
    return StackOptions(
        data_dir=root / "data",
        redis_url=redis_url,
        database_url=database_url,
        workers=2,
        ws_instances=2,
        default_ports=False,
        worker_model=str(build_tiny_encoder(root / "tiny-model")),
        extra_env={"WORKER_BLOCK_MS": "1000", **extra_env},
    )
