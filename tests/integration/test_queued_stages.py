"""Submits made together get their ``queued`` stage from one UPDATE per batch
(backend_service/queued_stages.py), each with its own time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import orjson

from shared import tasks
from tests.fixtures.pipeline import Services


async def _stages(conn: asyncpg.Connection, ids: list[str]) -> dict[str, list[dict[str, str]]]:
    rows = await conn.fetch("SELECT id, stages FROM ai_results WHERE id = ANY($1::text[])", ids)
    return {r["id"]: orjson.loads(r["stages"]) for r in rows}


async def test_submits_made_together_are_all_marked_queued(services: Services) -> None:
    answers = await asyncio.gather(
        *(services.submit(f"user-{i % 3}", f"The canal number {i} is wide.") for i in range(24))
    )
    assert [a.status_code for a in answers] == [202] * 24
    ids = [a.json()["taskId"] for a in answers]
    conn = await asyncpg.connect(services.database_url)
    try:
        for _ in range(50):  # written just after the answers, a batch at a time
            found = await _stages(conn, ids)
            if all([s["stage"] for s in found[i]] == ["accepted", "queued"] for i in ids):
                break
            await asyncio.sleep(0.05)
        assert {i: [s["stage"] for s in found[i]] for i in ids} == {
            i: ["accepted", "queued"] for i in ids
        }

        # One statement for many, each task with its own time; one alone by its id.
        later = datetime(2030, 1, 1, tzinfo=UTC)
        await tasks.mark_queued(conn, [(ids[0], later), (ids[1], later + timedelta(seconds=1))])
        await tasks.mark_queued(conn, [(ids[2], later + timedelta(seconds=2))])
        found = await _stages(conn, ids[:3])
        assert [found[i][-1]["at"][:19] for i in ids[:3]] == [
            "2030-01-01T00:00:00", "2030-01-01T00:00:01", "2030-01-01T00:00:02",
        ]  # fmt: skip
    finally:
        await conn.close()
