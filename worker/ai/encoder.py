"""Sentence embeddings from any transformers encoder (mean pooling, L2-normalised)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModel, AutoTokenizer

from .pair_classifier import Loading


def pick_device(wanted: str) -> torch.device:
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("WORKER_DEVICE=cuda but CUDA is not available")
    if wanted == "cpu" or (wanted == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda")


def pick_dtype(device: torch.device) -> torch.dtype:
    # Half precision on GPUs; bf16 where supported keeps fp32's range (no overflow).
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def local_only(model_ref: str) -> bool:
    """A local directory never needs the hub; elsewhere honour HF_HUB_OFFLINE."""
    return Path(model_ref).is_dir() or bool(os.environ.get("HF_HUB_OFFLINE"))


def loading(model_ref: str, device: torch.device) -> Loading:
    """How ``model_ref`` loads on ``device``: its dtype, and whether from disk only."""
    return Loading(device=device, dtype=pick_dtype(device), local_only=local_only(model_ref))


class SentenceEncoder:
    """One encoder model; ``encode`` embeds any number of sentences in bounded chunks."""

    def __init__(
        self, model_ref: str, *, device: torch.device, name: str | None = None, chunk: int = 128
    ) -> None:
        self.name = name or model_ref
        self.device = device
        self.chunk = chunk
        offline = local_only(model_ref)
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_ref, local_files_only=offline)
        model: Any = AutoModel.from_pretrained(
            model_ref, local_files_only=offline, dtype=pick_dtype(device)
        )
        self.model = model.to(device).eval()
        limits = [self.tokenizer.model_max_length, model.config.max_position_embeddings]
        self.max_length = min(int(x) for x in limits if x)
        self.dim = int(model.config.hidden_size)

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """(len(texts), dim) float32 embeddings on the CPU, in the order given.

        Sentences are sorted by length before chunking so each chunk pads little.
        """
        out = torch.empty((len(texts), self.dim), dtype=torch.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.chunk):
            rows = order[start : start + self.chunk]
            enc = self.tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**enc).last_hidden_state.float()
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out[rows] = torch.nn.functional.normalize(pooled, dim=-1).cpu()
        return out
