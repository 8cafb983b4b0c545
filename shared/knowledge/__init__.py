"""The fact-check knowledge base: known claims with a true/false verdict, an explanation
and a source, which the worker searches by sentence embedding.

``records`` reads and validates files (our JSONL, schema.org ClaimReview); ``store``
keeps claims and their embeddings in PostgreSQL. ``satyamark kb load`` loads files.
"""

from __future__ import annotations

from pathlib import Path

from .records import (
    KbFileError,
    KbRecord,
    RecordError,
    claim_key,
    knowledge_files,
    read_records,
)
from .store import (
    KbClaim,
    LoadStats,
    fetch_claims,
    fetch_embeddings,
    kb_version,
    save_embeddings,
    upsert_records,
)

# The knowledge base shipped with SatyaMark, one JSONL file per domain (loaded by
# `make run` and docker compose; checked by `satyamark kb check`).
KB_PATH = Path(__file__).with_name("base")

__all__ = [
    "KB_PATH",
    "KbClaim",
    "KbFileError",
    "KbRecord",
    "LoadStats",
    "RecordError",
    "claim_key",
    "fetch_claims",
    "fetch_embeddings",
    "kb_version",
    "knowledge_files",
    "read_records",
    "save_embeddings",
    "upsert_records",
]
