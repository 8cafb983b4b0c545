"""The fact-check knowledge base as an in-process vector index.

Claims come from PostgreSQL (``shared.knowledge``); their embeddings are cached there
per model, so a worker embeds only what changed. A brute-force matrix product is exact
and, for tens of thousands of claims, a few milliseconds per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from shared.knowledge.store import KbClaim


@dataclass(frozen=True, slots=True)
class Match:
    entry: KbClaim
    similarity: float


class KnowledgeIndex:
    def __init__(self, claims: list[KbClaim], vectors: torch.Tensor) -> None:
        if len(claims) != vectors.shape[0]:
            raise ValueError(f"{len(claims)} claims but {vectors.shape[0]} vectors")
        self.claims = claims
        self.vectors = vectors

    @classmethod
    def empty(cls, dim: int) -> KnowledgeIndex:
        return cls([], torch.zeros((0, dim)))

    def __len__(self) -> int:
        return len(self.claims)

    def search(self, queries: torch.Tensor, k: int) -> list[list[Match]]:
        """The ``k`` closest known claims to each query, best first."""
        if not self.claims or queries.shape[0] == 0:
            return [[] for _ in range(queries.shape[0])]
        sims = queries @ self.vectors.T
        top = torch.topk(sims, min(k, len(self.claims)), dim=1)
        return [
            [Match(self.claims[int(i)], float(s)) for s, i in zip(vals, idx, strict=True)]
            for vals, idx in zip(top.values, top.indices, strict=True)
        ]
