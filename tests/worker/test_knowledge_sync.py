"""The worker's knowledge index follows the knowledge base in PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest
import torch

from shared.knowledge import KbRecord, upsert_records
from tests.worker.helpers import Installed
from worker.ai.encoder import SentenceEncoder
from worker.ai.knowledge import KnowledgeIndex
from worker.ai.sync import DatabaseKnowledge

RECORDS = [
    KbRecord(claim=f"Known claim number {i} about topic {i}.", verdict=i % 2 == 0,
             explanation=f"Explanation {i}.", source_url=f"https://example.org/{i}")
    for i in range(3)
]  # fmt: skip


def _sync(
    database_url: str, encoder: SentenceEncoder, seen: Installed[KnowledgeIndex]
) -> DatabaseKnowledge:
    return DatabaseKnowledge(database_url, encoder, seen.install, seen.run_model)


async def test_loads_embeds_once_and_follows_changes(
    database_url: str, conn: asyncpg.Connection, encoder: SentenceEncoder
) -> None:
    await upsert_records(conn, RECORDS)
    first = Installed[KnowledgeIndex]()
    sync = _sync(database_url, encoder, first)
    assert await sync.refresh()
    assert first.index is not None and len(first.index) == 3 and first.embedded == 3
    assert await conn.fetchval("SELECT count(*) FROM kb_embeddings") == 3
    assert not await sync.refresh()  # nothing changed

    # Another worker (or a restart) reuses the stored embeddings.
    second = Installed[KnowledgeIndex]()
    assert await _sync(database_url, encoder, second).refresh()
    assert second.index is not None and len(second.index) == 3 and second.embedded == 0
    assert torch.equal(second.index.vectors, first.index.vectors)

    # A new claim is embedded (only it); a deleted one disappears.
    changed = RECORDS[0].model_copy(update={"claim": "A reworded known claim about topic 0."})
    await upsert_records(conn, [changed, *RECORDS[1:]])
    assert await sync.refresh()
    assert first.embedded == 4
    assert changed.claim in [c.claim for c in first.index.claims]
    await conn.execute("DELETE FROM kb_claims WHERE claim = $1", RECORDS[1].claim)
    assert await sync.refresh()
    assert first.index is not None and len(first.index) == 3
    assert RECORDS[1].claim not in [c.claim for c in first.index.claims]


async def test_an_empty_knowledge_base_gives_an_empty_index(
    database_url: str, encoder: SentenceEncoder
) -> None:
    seen = Installed[KnowledgeIndex]()
    assert await _sync(database_url, encoder, seen).refresh()
    assert seen.index is not None and len(seen.index) == 0


async def test_an_unreachable_database_raises_and_keeps_nothing(encoder: SentenceEncoder) -> None:
    seen = Installed[KnowledgeIndex]()
    with pytest.raises((OSError, asyncpg.PostgresError, TimeoutError)):
        await _sync("postgresql://postgres@127.0.0.1:1/none", encoder, seen).refresh()
    assert seen.index is None
