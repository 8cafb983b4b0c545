"""What the knowledge-base tests share: the ``satyamark kb`` CLI as a real process,
stand-in embedding vectors."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def run_kb(database_url: str, *args: str) -> tuple[int, str, str]:
    """``python -m satyamark kb ARGS`` as a real process: (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "satyamark",
        "kb",
        *args,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def assert_cannot_read(database_url: str, command: str, missing: Path) -> str:
    """``satyamark kb COMMAND MISSING`` fails, naming the file it cannot read: its stderr."""
    status, _, err = await run_kb(database_url, command, str(missing))
    assert status == 1
    assert f"{missing}: cannot read" in err
    return err


def vector(seed: int, dim: int = 4) -> bytes:
    """A float32 vector of ``dim`` (its bytes all ``seed``)."""
    return bytes([seed % 256]) * (4 * dim)
