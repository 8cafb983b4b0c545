"""The judge, loaded through the same ``load_judge`` path production uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.schemas import Mark, Verdict
from tests.utils.tiny_models import build_tiny_encoder
from worker.config import WorkerSettings
from worker.model import EmbeddingJudge, Judge, ModelFailure, judge_each, load_judge

TEXTS = [
    "Water boils at 100 degrees Celsius at sea level.",
    "I think pineapple pizza is the best food",
    "",
    "The moon landing was faked in a studio.",
    "Someone said something happened yesterday.",
    "   ",
    "ok",
    "Bitcoin will be worth a million dollars next year.",
]


def _same(a: Verdict, b: Verdict) -> bool:
    # Padding changes float rounding a little; the mark must not change.
    return a.mark == b.mark and abs(a.confidence - b.confidence) <= 1


def test_tiny_encoder_is_deterministic(tmp_path: Path) -> None:
    a = build_tiny_encoder(tmp_path / "a")
    b = build_tiny_encoder(tmp_path / "b")
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_load_judge_from_local_path(tiny_judge: Judge, tiny_model_path: Path) -> None:
    assert isinstance(tiny_judge, EmbeddingJudge)
    assert tiny_judge.name == str(tiny_model_path)
    assert tiny_judge.device.type == "cpu"
    assert tiny_judge.max_length == 128


def test_verdict_shape(tiny_judge: Judge) -> None:
    verdicts = tiny_judge.judge(TEXTS)
    assert len(verdicts) == len(TEXTS)
    for verdict in verdicts:
        assert verdict.mark in set(Mark)
        assert 0 <= verdict.confidence <= 100
        assert verdict.reason.strip()


def test_blank_and_one_word_texts_are_insufficient_without_the_model(tiny_judge: Judge) -> None:
    verdicts = tiny_judge.judge(["", "   \n", "ok"])
    assert [v.mark for v in verdicts] == [Mark.INSUFFICIENT] * 3
    assert "empty" in verdicts[0].reason
    assert "single word" in verdicts[2].reason


def test_model_reasons_are_honest_about_the_method(tiny_judge: Judge) -> None:
    (verdict,) = tiny_judge.judge(["The Earth orbits the Sun once a year."])
    assert "semantic similarity" in verdict.reason
    assert "no evidence" in verdict.reason


def test_empty_batch(tiny_judge: Judge) -> None:
    assert tiny_judge.judge([]) == []


def test_batch_matches_one_by_one(tiny_judge: Judge) -> None:
    batch = tiny_judge.judge(TEXTS)
    singles = [tiny_judge.judge([t])[0] for t in TEXTS]
    assert all(_same(a, b) for a, b in zip(batch, singles, strict=True))


def test_batch_order_does_not_matter(tiny_judge: Judge) -> None:
    forward = tiny_judge.judge(TEXTS)
    backward = tiny_judge.judge(TEXTS[::-1])[::-1]
    assert all(_same(a, b) for a, b in zip(forward, backward, strict=True))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=8))
def test_any_batch_maps_each_text_to_its_own_verdict(tiny_judge: Judge, texts: list[str]) -> None:
    batch = tiny_judge.judge(texts)
    singles = [tiny_judge.judge([t])[0] for t in texts]
    assert len(batch) == len(texts)
    assert all(_same(a, b) for a, b in zip(batch, singles, strict=True))


def test_long_text_is_truncated_not_rejected(tiny_model_path: Path) -> None:
    judge = load_judge(WorkerSettings(model=str(tiny_model_path), device="cpu", max_text_chars=50))
    (verdict,) = judge.judge(["word " * 10_000])
    assert verdict.mark in set(Mark)


def test_default_model_is_bundled_minilm() -> None:
    judge = load_judge(WorkerSettings(device="cpu"))
    assert judge.name == "sentence-transformers/all-MiniLM-L6-v2"
    verdicts = judge.judge(
        [
            "I think pineapple pizza is the best food",
            "Chocolate ice cream tastes better than vanilla.",
            "",
        ]
    )
    # Opinions are what a similarity judge recognises reliably; it cannot tell a true
    # fact from a false one, so nothing here asserts on Correct vs Incorrect.
    assert verdicts[0].mark is Mark.SUBJECTIVE
    assert verdicts[0].confidence >= 50
    assert verdicts[1].mark is Mark.SUBJECTIVE
    assert verdicts[2].mark is Mark.INSUFFICIENT


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_half_precision_matches_cpu(tiny_model_path: Path, tiny_judge: Judge) -> None:
    judge = load_judge(WorkerSettings(model=str(tiny_model_path), device="cuda"))
    assert isinstance(judge, EmbeddingJudge)
    assert judge.device.type == "cuda"
    assert next(judge.model.parameters()).dtype in (torch.float16, torch.bfloat16)
    gpu = judge.judge(TEXTS)
    cpu = tiny_judge.judge(TEXTS)
    assert len(gpu) == len(cpu)
    assert all(v.mark in set(Mark) and 0 <= v.confidence <= 100 for v in gpu)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_default_model_recognises_an_opinion() -> None:
    judge = load_judge(WorkerSettings(device="auto"))
    (verdict,) = judge.judge(["I think pineapple pizza is the best food"])
    assert verdict.mark is Mark.SUBJECTIVE


class _FlakyJudge:
    """Fails any batch containing "boom"; otherwise every text is Correct."""

    name = "flaky"

    def judge(self, texts: list[str]) -> list[Verdict]:
        if any("boom" in t for t in texts):
            raise RuntimeError("model exploded")
        return [Verdict(mark=Mark.CORRECT, reason=f"about {t}", confidence=50) for t in texts]


def test_one_bad_text_does_not_fail_its_batch(caplog: pytest.LogCaptureFixture) -> None:
    verdicts = judge_each(_FlakyJudge(), ["a b", "boom now", "c d"])
    assert verdicts[1] == ModelFailure("WK-MODEL-ERROR", "RuntimeError: model exploded")
    assert [v.reason if isinstance(v, Verdict) else None for v in verdicts] == [
        "about a b",
        None,
        "about c d",
    ]
    assert "retrying one by one" in caplog.text


class _OomJudge:
    name = "oom"

    def judge(self, texts: list[str]) -> list[Verdict]:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_is_its_own_failure_code() -> None:
    (failure,) = judge_each(_OomJudge(), ["a b"])
    assert isinstance(failure, ModelFailure) and failure.code == "WK-MODEL-OOM"
    assert "out of memory" in failure.error
