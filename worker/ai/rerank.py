"""Re-score retrieved passages against a claim with a cross-encoder.

A bi-encoder (``SentenceEncoder``) embeds claim and passage apart, which is what makes an
index over millions of passages possible; a cross-encoder reads the two together and
ranks the few dozen candidates much better. Any transformers sequence-classification
model works: one logit (MS MARCO style) is the relevance itself; with two or more, the
probability of the positive column (a label named relevant/positive/entailment/…, else
the last one) is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Unpack

import torch

from .pair_classifier import PairModel, PairOptions
from .passages import Passage

_POSITIVE_LABELS = frozenset({"relevant", "positive", "entailment", "yes", "true", "match"})


def positive_column(id2label: dict[int, str]) -> int:
    """The output column that means "relevant": a positive label name, else the last."""
    for index, name in sorted(id2label.items()):
        if name.lower().strip() in _POSITIVE_LABELS:
            return int(index)
    return max(id2label) if id2label else 0


class CrossEncoderReranker(PairModel):
    """One cross-encoder; scores are comparable for one model only (a logit or a
    probability), higher meaning more relevant."""

    def __init__(self, model_ref: str, **options: Unpack[PairOptions]) -> None:
        super().__init__(model_ref, **options)
        labels = self.classifier.num_labels
        self.column = positive_column(self.classifier.id2label) if labels > 1 else 0

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Relevance of each (query, passage) pair, in order."""
        logits = self.classifier.logits(pairs)
        if self.classifier.num_labels == 1:
            relevance = logits[:, 0]
        else:
            relevance = torch.softmax(logits, dim=-1)[:, self.column]
        return [float(v) for v in relevance.tolist()]

    def rerank(self, query: str, passages: Sequence[Passage | str]) -> list[float]:
        """The relevance of each passage to ``query``, in the order given."""
        texts = [p if isinstance(p, str) else p.text for p in passages]
        return self.scores([(query, text) for text in texts])

    def rerank_many(
        self, queries: Sequence[str], candidates: Sequence[Sequence[Passage]]
    ) -> list[list[float]]:
        """``rerank`` for many queries in one batched pass (all claims of a batch)."""
        pairs = [(q, p.text) for q, found in zip(queries, candidates, strict=True) for p in found]
        flat = self.scores(pairs)
        out: list[list[float]] = []
        at = 0
        for found in candidates:
            out.append(flat[at : at + len(found)])
            at += len(found)
        return out
