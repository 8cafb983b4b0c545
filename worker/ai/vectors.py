"""Embeddings as stored in PostgreSQL: ``dim`` float32 values, little-endian, in a bytea
(``kb_embeddings``, ``kb_passage_embeddings``)."""

from __future__ import annotations

import numpy as np
import torch


def to_bytes(vector: torch.Tensor) -> bytes:
    return vector.numpy().astype("<f4").tobytes()


def from_bytes(blob: bytes, dim: int) -> torch.Tensor | None:
    """The vector, or None when ``blob`` is not ``dim`` float32 values (a different
    model's width under the same name: the caller re-embeds)."""
    if len(blob) != 4 * dim:
        return None
    return torch.from_numpy(np.frombuffer(blob, dtype="<f4").copy())
