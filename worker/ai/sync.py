"""Keep a judge's knowledge index in step with its source.

The source is PostgreSQL (``kb_claims``; embeddings cached per model in
``kb_embeddings``) or, for evaluation and offline use, a JSONL / ClaimReview file. A
cheap version query (count, last update, last id) decides whether anything changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import asyncpg
import torch

from shared.db import PoolMode, connect
from shared.knowledge import (
    KbClaim,
    KbRecord,
    fetch_claims,
    fetch_embeddings,
    kb_version,
    knowledge_files,
    read_records,
    save_embeddings,
)

from .encoder import SentenceEncoder
from .knowledge import KnowledgeIndex
from .vectors import from_bytes, to_bytes

log = logging.getLogger(__name__)
# Runs an encoder call on the judge's thread (never two model calls at once).
ModelRunner = Callable[[Callable[[], torch.Tensor]], Awaitable[torch.Tensor]]


def claims_from_files(path: Path) -> list[KbClaim]:
    """The valid claims of a knowledge-base file or folder, each claim once (invalid
    records are logged and skipped)."""
    claims: list[KbClaim] = []
    seen: set[str] = set()
    for file in knowledge_files(path):
        for line, result in read_records(file):
            if isinstance(result, KbRecord):
                if result.key in seen:
                    continue
                seen.add(result.key)
                claims.append(
                    KbClaim(
                        id=len(claims) + 1,
                        claim=result.claim,
                        verdict=result.verdict,
                        explanation=result.explanation,
                        source_url=result.source_url,
                        source_name=result.source_name,
                    )
                )
            else:
                log.warning("%s:%d: %s", file, line, result.message)
    return claims


def index_from_file(encoder: SentenceEncoder, path: Path) -> KnowledgeIndex:
    """An index over a knowledge-base file or folder of files."""
    claims = claims_from_files(path)
    vectors = encoder.encode([c.claim for c in claims])
    return KnowledgeIndex(claims, vectors)


IndexT = TypeVar("IndexT")


@dataclass
class DatabaseSource(Generic[IndexT]):
    """An index kept in step with PostgreSQL: built with ``encoder`` (on the judge's
    thread, through ``run_model``) and handed to ``install`` whenever its rows change."""

    database_url: str
    encoder: SentenceEncoder
    install: Callable[[IndexT], None]
    run_model: ModelRunner  # the encoder runs on the judge's thread only
    _: KW_ONLY
    pool_mode: PoolMode = "session"

    async def connect(self) -> asyncpg.Connection:
        return await connect(self.database_url, mode=self.pool_mode)


@dataclass
class DatabaseKnowledge(DatabaseSource[KnowledgeIndex]):
    """Loads the knowledge base from PostgreSQL into ``install`` whenever it changes."""

    version: Any = field(default=None, init=False)

    async def refresh(self) -> bool:
        """Reload when the knowledge base changed; True when it did."""
        conn = await self.connect()
        try:
            version = await kb_version(conn)
            if version == self.version:
                return False
            claims = await fetch_claims(conn)
            model = self.encoder.name
            cached = await fetch_embeddings(conn, model)
            vectors: dict[int, torch.Tensor] = {}
            for claim in claims:
                blob = cached.get(claim.id)
                vector = from_bytes(blob, self.encoder.dim) if blob is not None else None
                if vector is not None:
                    vectors[claim.id] = vector
            missing = [c for c in claims if c.id not in vectors]
            if missing:
                fresh = await self.run_model(
                    lambda: self.encoder.encode([c.claim for c in missing])
                )
                rows = [(c.id, to_bytes(v)) for c, v in zip(missing, fresh, strict=True)]
                await save_embeddings(conn, model, self.encoder.dim, rows)
                vectors.update((c.id, v) for c, v in zip(missing, fresh, strict=True))
            matrix = (
                torch.stack([vectors[c.id] for c in claims])
                if claims
                else torch.zeros((0, self.encoder.dim))
            )
            self.install(KnowledgeIndex(claims, matrix))
            self.version = version
            log.info(
                "knowledge base: %d claims (%d newly embedded with %s)",
                len(claims), len(missing), model,
            )  # fmt: skip
            return True
        finally:
            await conn.close()


def executor_runner(executor: Executor) -> ModelRunner:
    def run(fn: Callable[[], torch.Tensor]) -> Awaitable[torch.Tensor]:
        return asyncio.get_running_loop().run_in_executor(executor, fn)

    return run
