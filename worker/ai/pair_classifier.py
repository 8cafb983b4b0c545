"""A sentence-pair classifier from any transformers checkpoint (hub id or local path):
what the NLI stance and the passage reranker both run. Loading and batched scoring live
here once; each caller reads the logits its own way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypedDict, Unpack

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer


class Loading(TypedDict):
    """Where and how a checkpoint loads (``worker.model``: from the settings)."""

    device: torch.device
    dtype: torch.dtype
    local_only: bool


class PairClassifier:
    def __init__(
        self, model_ref: str, *, max_length: int, batch_size: int, **loading: Unpack[Loading]
    ) -> None:
        self.device = loading["device"]
        self.batch_size = batch_size
        offline = loading["local_only"]
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_ref, local_files_only=offline)
        model: Any = AutoModelForSequenceClassification.from_pretrained(
            model_ref, local_files_only=offline, dtype=loading["dtype"]
        )
        self.model = model.to(self.device).eval()
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


class PairOptions(Loading, total=False):
    name: str  # default: the model reference
    max_length: int  # tokens of a pair; default: the model's DEFAULT_MAX_LENGTH
    batch_size: int  # default: the model's DEFAULT_BATCH_SIZE


class PairModel:
    """A model that one ``PairClassifier`` runs (the NLI stance, the reranker)."""

    DEFAULT_MAX_LENGTH: ClassVar[int] = 512
    DEFAULT_BATCH_SIZE: ClassVar[int] = 32

    def __init__(self, model_ref: str, **options: Unpack[PairOptions]) -> None:
        self.name = options.get("name") or model_ref
        self.classifier = PairClassifier(
            model_ref,
            max_length=options.get("max_length", self.DEFAULT_MAX_LENGTH),
            batch_size=options.get("batch_size", self.DEFAULT_BATCH_SIZE),
            device=options["device"],
            dtype=options["dtype"],
            local_only=options["local_only"],
        )
