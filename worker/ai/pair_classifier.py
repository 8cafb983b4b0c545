"""A sentence-pair classifier from any transformers checkpoint (hub id or local path):
what the NLI stance and the passage reranker both run. Loading and batched scoring live
here once; each caller reads the logits its own way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


class PairClassifier:
    def __init__(
        self,
        model_ref: str,
        *,
        device: torch.device,
        dtype: torch.dtype,
        local_only: bool,
        max_length: int,
        batch_size: int,
    ) -> None:
        self.device = device
        self.batch_size = batch_size
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_ref, local_files_only=local_only)
        model: Any = AutoModelForSequenceClassification.from_pretrained(
            model_ref, local_files_only=local_only, dtype=dtype
        )
        self.model = model.to(device).eval()
        self.id2label: dict[int, str] = dict(model.config.id2label)
        self.num_labels = int(model.config.num_labels)
        self.max_length = min(max_length, int(self.tokenizer.model_max_length or max_length))

    @torch.inference_mode()
    def logits(self, pairs: Sequence[tuple[str, str]]) -> torch.Tensor:
        """(n, labels) float32 logits on the CPU, in the order given; batched with the
        shortest pairs together so a batch pads little."""
        out = torch.zeros((len(pairs), self.num_labels))
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
            out[rows] = self.model(**enc).logits.float().cpu()
        return out
