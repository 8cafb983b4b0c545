"""Keep a worker's ``PassageIndex`` in step with the evidence corpus in PostgreSQL.

As ``sync.DatabaseKnowledge`` does for known claims: a cheap version query (passage
count, highest passage id, latest document load) decides whether anything changed; then
every passage is read, and each one's embedding comes from the index being replaced
(passage rows never change, so an id keeps its vector), else from
``kb_passage_embeddings``, else from the encoder — in chunks, each saved back at once so
that another worker, or this one after a restart, never embeds it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from functools import partial
from pathlib import Path

import asyncpg
import numpy as np
import numpy.typing as npt

from shared.knowledge.documents import Document, document_files, read_documents
from shared.knowledge.passages_store import (
    StoredPassage,
    fetch_passage_embeddings,
    fetch_passages,
    passages_version,
    save_passage_embeddings,
)

from .encoder import SentenceEncoder
from .passages import DEFAULT_EXACT_BELOW, DEFAULT_HNSW, HnswParams, Matrix, Passage, PassageIndex
from .sync import DatabaseSource
from .vectors import from_bytes, to_bytes

log = logging.getLogger(__name__)
# Builds an index off the event loop: an HNSW graph over 1M passages takes minutes.
IndexBuilder = Callable[[Callable[[], PassageIndex]], Awaitable[PassageIndex]]

PAGE_SIZE = 10_000
EMBED_CHUNK = 512


def _in_thread(build: Callable[[], PassageIndex]) -> Awaitable[PassageIndex]:
    return asyncio.to_thread(build)


def _passage(row: StoredPassage) -> Passage:
    return Passage(row.id, row.text, row.url, row.title, row.start, row.end)


def passage_index_from_files(
    encoder: SentenceEncoder,
    paths: list[Path],
    *,
    exact_below: int = DEFAULT_EXACT_BELOW,
    hnsw: HnswParams = DEFAULT_HNSW,
) -> PassageIndex:
    """An index over document files, for evaluation and offline use (no database; ids
    count from 1 in reading order; invalid records are logged and skipped)."""
    documents: dict[str, Document] = {}
    for path in (file for given in paths for file in document_files(given)):
        for where, result in read_documents(path):
            if isinstance(result, Document):
                documents.setdefault(result.url, result)
            else:
                log.warning("%s:%d: %s", path, where, result.message)
    passages = [
        Passage(0, span.text, document.url, document.title, span.start, span.end)
        for document in documents.values()
        for span in document.passages()
    ]
    passages = [
        Passage(i, p.text, p.url, p.title, p.start, p.end) for i, p in enumerate(passages, 1)
    ]
    vectors = encoder.encode([p.text for p in passages])
    return PassageIndex(passages, vectors, exact_below=exact_below, hnsw=hnsw)


@dataclass
class DatabasePassages(DatabaseSource[PassageIndex]):
    """Loads the evidence corpus from PostgreSQL into ``install`` whenever it changes."""

    _: KW_ONLY
    exact_below: int = DEFAULT_EXACT_BELOW
    hnsw: HnswParams = DEFAULT_HNSW
    build: IndexBuilder = _in_thread
    page_size: int = PAGE_SIZE
    embed_chunk: int = EMBED_CHUNK
    version: object = field(default=None, init=False)
    index: PassageIndex | None = field(default=None, init=False)  # the last one installed

    async def refresh(self) -> bool:
        """Rebuild and install the index when the corpus changed; True when it did."""
        conn = await self.connect()
        try:
            # One snapshot for the version and the rows, so they describe the same corpus.
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                version = await passages_version(conn)
                if version == self.version:
                    return False
                rows = await self._read_passages(conn)
                matrix, have = self._carried(rows)
                from_db = await self._stored(conn, rows, matrix, have)
            missing = np.flatnonzero(~have)
            await self._embed(conn, rows, missing, matrix)
        finally:
            await conn.close()
        passages = [_passage(row) for row in rows]
        index = await self.build(
            lambda: PassageIndex(passages, matrix, exact_below=self.exact_below, hnsw=self.hnsw)
        )
        self.install(index)
        self.index = index
        self.version = version
        log.info(
            "evidence corpus: %d passages in an %s index (%d from the database, %d newly"
            " embedded with %s)",
            len(passages), index.kind, from_db, len(missing), self.encoder.name,
        )  # fmt: skip
        return True

    async def _read_passages(self, conn: asyncpg.Connection) -> list[StoredPassage]:
        rows: list[StoredPassage] = []
        while True:
            after = rows[-1].id if rows else 0
            page = await fetch_passages(conn, after_id=after, limit=self.page_size)
            rows.extend(page)
            if len(page) < self.page_size:
                return rows

    def _carried(self, rows: list[StoredPassage]) -> tuple[Matrix, npt.NDArray[np.bool_]]:
        """The vectors of ``rows`` already in the current index, and which rows have one."""
        matrix = np.zeros((len(rows), self.encoder.dim), dtype=np.float32)
        have = np.zeros(len(rows), dtype=np.bool_)
        old = self.index
        if old is None or not len(old) or not rows or old.dim != self.encoder.dim:
            return matrix, have
        ids = np.fromiter((row.id for row in rows), dtype=np.int64, count=len(rows))
        # Both id lists are ascending (passages are read in id order).
        at = np.minimum(np.searchsorted(old.ids, ids), len(old.ids) - 1)
        have[:] = old.ids[at] == ids
        matrix[have] = old.vectors()[at[have]]
        return matrix, have

    async def _stored(
        self,
        conn: asyncpg.Connection,
        rows: list[StoredPassage],
        matrix: Matrix,
        have: npt.NDArray[np.bool_],
    ) -> int:
        """Fill rows without a vector from ``kb_passage_embeddings``; how many were."""
        wanted = np.flatnonzero(~have)
        found = 0
        for start in range(0, len(wanted), self.page_size):
            chunk = wanted[start : start + self.page_size]
            stored = await fetch_passage_embeddings(
                conn, self.encoder.name, [rows[int(i)].id for i in chunk]
            )
            for i in chunk:
                blob = stored.get(rows[int(i)].id)
                vector = from_bytes(blob, self.encoder.dim) if blob is not None else None
                if vector is not None:
                    matrix[i] = vector.numpy()
                    have[i] = True
                    found += 1
        return found

    async def _embed(
        self,
        conn: asyncpg.Connection,
        rows: list[StoredPassage],
        missing: npt.NDArray[np.intp],
        matrix: Matrix,
    ) -> None:
        """Embed the rows at ``missing`` in chunks, each saved back as soon as it is done."""
        for start in range(0, len(missing), self.embed_chunk):
            chunk = [int(i) for i in missing[start : start + self.embed_chunk]]
            texts = [rows[i].text for i in chunk]
            fresh = await self.run_model(partial(self.encoder.encode, texts))
            await save_passage_embeddings(
                conn,
                self.encoder.name,
                self.encoder.dim,
                [(rows[i].id, to_bytes(v)) for i, v in zip(chunk, fresh, strict=True)],
            )
            matrix[chunk] = fresh.numpy()
