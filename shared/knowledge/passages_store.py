"""Documents and their passages in PostgreSQL (``kb_documents``, ``kb_passages``,
``kb_passage_embeddings``).

Loading is idempotent: a document is identified by its URL, and its passages are
written only when its text changed (``content_hash``), so re-loading unchanged files
touches nothing. A changed text replaces the document's passages, and with them their
embeddings (the cascade); a changed title alone is updated in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from .documents import Document
from .store import LoadStats, in_batches

BATCH_SIZE = 100
# Serialises loaders (a transaction-scoped advisory lock per batch), so two loads of the
# same new URL cannot race into a unique violation. Arbitrary constant.
_LOAD_LOCK_ID = 0x5A7A_D0C5

_OLD_ROWS = """
SELECT id, url, title, content_hash FROM kb_documents WHERE url = ANY($1::text[]) FOR UPDATE
"""
_INSERT_DOCUMENTS = """
INSERT INTO kb_documents (url, title, content_hash)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
RETURNING id, url
"""
_UPDATE_DOCUMENTS = """
UPDATE kb_documents AS d SET title = u.title, content_hash = u.content_hash, loaded_at = now()
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u (id, title, content_hash)
WHERE d.id = u.id
"""
_INSERT_PASSAGES = """
INSERT INTO kb_passages (document_id, ordinal, text, start_offset, end_offset)
SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::integer[], $5::integer[])
"""
_PASSAGES = """
SELECT p.id, p.document_id, p.ordinal, p.text, p.start_offset, p.end_offset, d.url, d.title
FROM kb_passages p JOIN kb_documents d ON d.id = p.document_id
WHERE p.id > $1 ORDER BY p.id LIMIT $2
"""


@dataclass(frozen=True, slots=True)
class DocumentLoadStats(LoadStats):
    passages: int = 0  # passages written (of inserted and re-written documents)


@dataclass(frozen=True, slots=True)
class StoredPassage:
    id: int
    document_id: int
    ordinal: int
    text: str
    start: int
    end: int
    url: str
    title: str


async def upsert_documents(
    conn: asyncpg.Connection,
    documents: Iterable[Document],
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> DocumentLoadStats:
    """Insert new documents with their passages, replace changed ones, leave identical
    ones alone. One transaction per batch; documents with the same URL collapse into the
    last of them. ``on_batch(n)`` is called after each batch of ``n`` documents."""
    unique = list({document.url: document for document in documents}.values())
    return await in_batches(
        unique, batch_size, lambda batch: _upsert_batch(conn, batch), DocumentLoadStats(), on_batch
    )


async def _upsert_batch(conn: asyncpg.Connection, batch: Sequence[Document]) -> DocumentLoadStats:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOAD_LOCK_ID)
        old = {r["url"]: r for r in await conn.fetch(_OLD_ROWS, [d.url for d in batch])}
        new = [d for d in batch if d.url not in old]
        rewritten = [
            d for d in batch if d.url in old and old[d.url]["content_hash"] != d.content_hash
        ]
        retitled = [
            d
            for d in batch
            if d.url in old
            and old[d.url]["content_hash"] == d.content_hash
            and old[d.url]["title"] != d.title
        ]
        changed = rewritten + retitled
        if changed:
            await conn.execute(
                _UPDATE_DOCUMENTS,
                [old[d.url]["id"] for d in changed],
                [d.title for d in changed],
                [d.content_hash for d in changed],
            )
        if rewritten:
            await conn.execute(
                "DELETE FROM kb_passages WHERE document_id = ANY($1::bigint[])",
                [old[d.url]["id"] for d in rewritten],
            )
        ids = {d.url: old[d.url]["id"] for d in rewritten}
        if new:
            rows = await conn.fetch(
                _INSERT_DOCUMENTS,
                [d.url for d in new],
                [d.title for d in new],
                [d.content_hash for d in new],
            )
            ids.update((row["url"], row["id"]) for row in rows)
        written = await _insert_passages(conn, [(ids[d.url], d) for d in new + rewritten])
    return DocumentLoadStats(
        inserted=len(new),
        updated=len(changed),
        unchanged=len(batch) - len(new) - len(changed),
        passages=written,
    )


async def _insert_passages(conn: asyncpg.Connection, documents: list[tuple[int, Document]]) -> int:
    columns: tuple[list[int], list[int], list[str], list[int], list[int]] = ([], [], [], [], [])
    for document_id, document in documents:
        for passage in document.passages():
            columns[0].append(document_id)
            columns[1].append(passage.ordinal)
            columns[2].append(passage.text)
            columns[3].append(passage.start)
            columns[4].append(passage.end)
    if columns[0]:
        await conn.execute(_INSERT_PASSAGES, *columns)
    return len(columns[0])


async def fetch_passages(
    conn: asyncpg.Connection, *, after_id: int = 0, limit: int | None = None
) -> list[StoredPassage]:
    """Passages with their document's URL and title, ordered by id: those with an id
    above ``after_id``, at most ``limit`` (a page; None: all)."""
    rows = await conn.fetch(_PASSAGES, after_id, limit)
    return [
        StoredPassage(
            id=row["id"],
            document_id=row["document_id"],
            ordinal=row["ordinal"],
            text=row["text"],
            start=row["start_offset"],
            end=row["end_offset"],
            url=row["url"],
            title=row["title"],
        )
        for row in rows
    ]


async def passages_version(conn: asyncpg.Connection) -> tuple[int, int | None, datetime | None]:
    """A cheap change detector: (passage count, highest passage id, latest document
    ``loaded_at``). New passages raise the highest id (a changed document's too, as its
    passages are re-inserted), a deleted document lowers the count, a new title moves
    ``loaded_at``."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM kb_passages), (SELECT max(id) FROM kb_passages),"
        " (SELECT max(loaded_at) FROM kb_documents)"
    )
    assert row is not None
    return (int(row[0]), row[1], row[2])


async def fetch_passage_embeddings(
    conn: asyncpg.Connection, model: str, passage_ids: Sequence[int] | None = None
) -> dict[int, bytes]:
    """passage id -> stored vector (float32 little-endian) for ``model``; of the given
    passages only, when ``passage_ids`` is not None."""
    if passage_ids is None:
        rows = await conn.fetch(
            "SELECT passage_id, vector FROM kb_passage_embeddings WHERE model = $1", model
        )
    else:
        rows = await conn.fetch(
            "SELECT passage_id, vector FROM kb_passage_embeddings"
            " WHERE model = $1 AND passage_id = ANY($2::bigint[])",
            model,
            list(passage_ids),
        )
    return {row["passage_id"]: bytes(row["vector"]) for row in rows}


async def save_passage_embeddings(
    conn: asyncpg.Connection, model: str, dim: int, items: list[tuple[int, bytes]]
) -> None:
    """Store vectors of ``model``; existing ones are kept, and vectors of passages
    deleted meanwhile are dropped."""
    for passage_id, vector in items:
        if len(vector) != 4 * dim:
            raise ValueError(
                f"vector of passage {passage_id} has {len(vector)} bytes;"
                f" {dim} float32 need {4 * dim}"
            )
    if not items:
        return
    await conn.execute(
        "INSERT INTO kb_passage_embeddings (passage_id, model, dim, vector)"
        " SELECT u.passage_id, $1, $2, u.vector"
        " FROM unnest($3::bigint[], $4::bytea[]) AS u (passage_id, vector)"
        " JOIN kb_passages p ON p.id = u.passage_id"
        " ON CONFLICT (passage_id, model) DO NOTHING",
        model,
        dim,
        [passage_id for passage_id, _ in items],
        [vector for _, vector in items],
    )


async def corpus_counts(conn: asyncpg.Connection) -> tuple[int, int]:
    """(documents, passages)."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM kb_documents), (SELECT count(*) FROM kb_passages)"
    )
    assert row is not None
    return int(row[0]), int(row[1])
