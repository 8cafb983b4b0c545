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
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from .passages import Passage

_POSITIVE_LABELS = frozenset({"relevant", "positive", "entailment", "yes", "true", "match"})


def positive_column(id2label: dict[int, str]) -> int:
    """The output column that means "relevant": a positive label name, else the last."""
    for index, name in sorted(id2label.items()):
        if name.lower().strip() in _POSITIVE_LABELS:
            return int(index)
    return max(id2label) if id2label else 0


class CrossEncoderReranker:
    """One cross-encoder; scores are comparable for one model only (a logit or a
    probability), higher meaning more relevant."""

    def __init__(
        self,
        model_ref: str,
        *,
        device: torch.device,
        dtype: torch.dtype,
        local_only: bool,
        name: str | None = None,
        max_length: int = 512,
        batch_size: int = 32,
    ) -> None:
        self.name = name or model_ref
        self.device = device
        self.batch_size = batch_size
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_ref, local_files_only=local_only)
        model: Any = AutoModelForSequenceClassification.from_pretrained(
            model_ref, local_files_only=local_only, dtype=dtype
        )
        self.model = model.to(device).eval()
        self.labels = int(model.config.num_labels)
        self.column = positive_column(dict(model.config.id2label)) if self.labels > 1 else 0
        limit = int(self.tokenizer.model_max_length or max_length)
        self.max_length = min(max_length, limit)

    @torch.inference_mode()
    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Relevance of each (query, passage) pair, in order; batched, shortest pairs
        together so a batch pads little."""
        out = [0.0] * len(pairs)
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            enc = self.tokenizer(
                [pairs[i][0] for i in rows],
                [pairs[i][1] for i in rows],
                padding=True,
                truncation="longest_first",  # "only_second" fails on an over-long claim
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            logits = self.model(**enc).logits.float()
            if self.labels == 1:
                relevance = logits[:, 0]
            else:
                relevance = torch.softmax(logits, dim=-1)[:, self.column]
            for i, value in zip(rows, relevance.cpu().tolist(), strict=True):
                out[i] = float(value)
        return out

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
