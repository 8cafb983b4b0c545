"""Passage evidence for a batch of claims: nearest-neighbour search, then (optionally) a
cross-encoder that reorders the candidates; what the judge weighs with its NLI model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .passages import PassageIndex, PassageMatch
from .rerank import CrossEncoderReranker


@dataclass(frozen=True, slots=True)
class PassageEvidence:
    match: PassageMatch  # the passage and its embedding similarity to the claim
    relevance: float | None  # the cross-encoder's score; None without a reranker


def find_passages(
    claims: Sequence[str],
    queries: torch.Tensor,
    index: PassageIndex,
    *,
    candidates: int = 20,
    keep: int = 3,
    min_similarity: float = 0.0,
    reranker: CrossEncoderReranker | None = None,
) -> list[list[PassageEvidence]]:
    """For each claim (``queries`` holds their embeddings, one row each), its best
    ``keep`` passages, best first: the ``candidates`` nearest passages with a similarity of
    at least ``min_similarity``, reordered by ``reranker`` when there is one (one batched
    pass over every claim's candidates)."""
    if len(claims) != queries.shape[0]:
        raise ValueError(f"{len(claims)} claims but {queries.shape[0]} query vectors")
    found = [
        [m for m in matches if m.similarity >= min_similarity]
        for matches in index.search(queries, candidates)
    ]
    if reranker is None:
        return [[PassageEvidence(m, None) for m in matches[:keep]] for matches in found]
    scores = reranker.rerank_many(claims, [[m.passage for m in matches] for matches in found])
    out: list[list[PassageEvidence]] = []
    for matches, relevance in zip(found, scores, strict=True):
        ranked = sorted(zip(matches, relevance, strict=True), key=lambda pair: -pair[1])
        out.append([PassageEvidence(m, r) for m, r in ranked[:keep]])
    return out
