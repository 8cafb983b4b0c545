"""The knowledge base in PostgreSQL (tables ``kb_claims`` and ``kb_embeddings``).

Loading is idempotent: a claim is identified by its ``claim_key``, and a row is written
only when something in it differs, so re-loading an unchanged file touches nothing (no
``updated_at`` bump, no dropped embeddings).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Self, TypeVar

import asyncpg

from .records import KbRecord

T = TypeVar("T")

BATCH_SIZE = 500

_OLD_ROWS = """
SELECT claim_key, claim, verdict FROM kb_claims WHERE claim_key = ANY($1::text[]) FOR UPDATE
"""
_UPSERT = """
INSERT INTO kb_claims AS k
    (claim, claim_key, verdict, explanation, source_url, source_name, domain)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
ON CONFLICT (claim_key) DO UPDATE SET
    claim = EXCLUDED.claim,
    verdict = EXCLUDED.verdict,
    explanation = EXCLUDED.explanation,
    source_url = EXCLUDED.source_url,
    source_name = EXCLUDED.source_name,
    domain = EXCLUDED.domain,
    updated_at = now()
WHERE (k.claim, k.verdict, k.explanation, k.source_url, k.source_name, k.domain)
    IS DISTINCT FROM (EXCLUDED.claim, EXCLUDED.verdict, EXCLUDED.explanation,
                      EXCLUDED.source_url, EXCLUDED.source_name, EXCLUDED.domain)
RETURNING id, claim_key, claim, verdict
"""


@dataclass(frozen=True, slots=True)
class LoadStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Self) -> Self:
        """Added field by field (a subclass's fields too)."""
        return replace(
            self, **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True, slots=True)
class KbClaim:
    id: int
    claim: str
    verdict: bool
    explanation: str
    source_url: str
    source_name: str | None
    # A sentence of an evidence-corpus passage standing in for a known (true) claim:
    # source_name is the document's title, explanation the whole passage.
    passage: bool = False


StatsT = TypeVar("StatsT", bound=LoadStats)


async def in_batches(
    items: Sequence[T],
    batch_size: int,
    write: Callable[[Sequence[T]], Awaitable[StatsT]],
    total: StatsT,
    on_batch: Callable[[int], None] | None = None,
) -> StatsT:
    """``write`` each batch of ``items`` in turn; the sum of what they return, from
    ``total``. ``on_batch(n)`` is called after each batch of ``n`` items (a progress bar)."""
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        total += await write(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return total


async def upsert_records(
    conn: asyncpg.Connection,
    records: Iterable[KbRecord],
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> LoadStats:
    """Insert new claims, update changed ones, leave identical ones alone.

    One transaction per batch. Records with the same ``claim_key`` collapse into the
    last of them. When a claim's text or verdict changes, its embeddings are deleted.
    ``on_batch(n)`` is called after each batch of ``n`` records (a progress bar).
    """
    unique = list({record.key: record for record in records}.items())
    return await in_batches(
        unique, batch_size, lambda batch: _upsert_batch(conn, batch), LoadStats(), on_batch
    )


async def _upsert_batch(
    conn: asyncpg.Connection, batch: Sequence[tuple[str, KbRecord]]
) -> LoadStats:
    keys = [key for key, _ in batch]
    async with conn.transaction():
        old = {r["claim_key"]: r for r in await conn.fetch(_OLD_ROWS, keys)}
        written = await conn.fetch(
            _UPSERT,
            [r.claim for _, r in batch],
            keys,
            [_verdict_text(r.verdict) for _, r in batch],
            [r.explanation for _, r in batch],
            [r.source_url for _, r in batch],
            [r.source_name for _, r in batch],
            [r.domain for _, r in batch],
        )
        updated = [row for row in written if row["claim_key"] in old]
        stale = [
            row["id"]
            for row in updated
            if (row["claim"], row["verdict"])
            != (old[row["claim_key"]]["claim"], old[row["claim_key"]]["verdict"])
        ]
        if stale:
            await conn.execute(
                "DELETE FROM kb_embeddings WHERE claim_id = ANY($1::bigint[])", stale
            )
    return LoadStats(
        inserted=len(written) - len(updated),
        updated=len(updated),
        unchanged=len(batch) - len(written),
    )


def _verdict_text(verdict: bool) -> str:
    return "true" if verdict else "false"


async def fetch_claims(conn: asyncpg.Connection) -> list[KbClaim]:
    """Every claim, ordered by id."""
    rows = await conn.fetch(
        "SELECT id, claim, verdict, explanation, source_url, source_name FROM kb_claims ORDER BY id"
    )
    return [
        KbClaim(
            id=row["id"],
            claim=row["claim"],
            verdict=row["verdict"] == "true",
            explanation=row["explanation"],
            source_url=row["source_url"],
            source_name=row["source_name"],
        )
        for row in rows
    ]


async def kb_version(conn: asyncpg.Connection) -> tuple[int, datetime | None, int | None]:
    """A cheap change detector: (count, latest updated_at, highest id).

    An insert raises the highest id, an update the latest ``updated_at``, a delete
    lowers the count (and a delete followed by an insert still moves the highest id).
    """
    row = await conn.fetchrow("SELECT count(*), max(updated_at), max(id) FROM kb_claims")
    assert row is not None
    return (int(row[0]), row[1], row[2])


async def fetch_embeddings(conn: asyncpg.Connection, model: str) -> dict[int, bytes]:
    """claim id -> stored vector (float32 little-endian) for ``model``."""
    rows = await conn.fetch("SELECT claim_id, vector FROM kb_embeddings WHERE model = $1", model)
    return {row["claim_id"]: bytes(row["vector"]) for row in rows}


async def save_embeddings(
    conn: asyncpg.Connection, model: str, dim: int, items: list[tuple[int, bytes]]
) -> None:
    """Store vectors of ``model``; existing ones are kept, and vectors of claims deleted
    meanwhile are dropped."""
    for claim_id, vector in items:
        if len(vector) != 4 * dim:
            raise ValueError(
                f"vector of claim {claim_id} has {len(vector)} bytes; {dim} float32 need {4 * dim}"
            )
    if not items:
        return
    await conn.execute(
        "INSERT INTO kb_embeddings (claim_id, model, dim, vector)"
        " SELECT u.claim_id, $1, $2, u.vector"
        " FROM unnest($3::bigint[], $4::bytea[]) AS u (claim_id, vector)"
        " JOIN kb_claims c ON c.id = u.claim_id"
        " ON CONFLICT (claim_id, model) DO NOTHING",
        model,
        dim,
        [claim_id for claim_id, _ in items],
        [vector for _, vector in items],
    )
