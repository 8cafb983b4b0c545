"""The judge, loaded through the same ``load_judge`` path production uses."""

# ruff: noqa: E501 (tables of test sentences read best one per line)

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.schemas import Mark, TextVerdict, Verdict
from tests.utils.tiny_models import build_tiny_encoder, build_tiny_nli
from worker.ai.judge import EvidenceJudge
from worker.ai.language import LanguageGate
from worker.ai.nli import NliStance
from worker.ai.verdicts import Thresholds
from worker.config import WorkerSettings
from worker.input_check import check_input
from worker.model import Judge, ModelFailure, evidence_judge, judge_each, load_judge

TEXTS = [
    "Water boils at 100 degrees Celsius at sea level.",
    "I think pineapple pizza is the best food",
    "",
    "The moon landing was faked in a studio.",
    "Someone said something happened yesterday.",
    "   ",
    "ok",
    "Bitcoin will be worth a million dollars next year. Paris is the capital of France.",
]
KB = [
    ("Water boils at 100 degrees Celsius at sea level.", "true", "At standard atmospheric pressure the boiling point of water is 100 °C."),
    ("The Apollo Moon landings were faked in a film studio.", "false", "Independent evidence, including retroreflectors left on the Moon, confirms the landings."),
    ("Paris is the capital of France.", "true", "Paris has been the French capital for most of the last millennium."),
    ("The Great Wall of China is visible from space with the naked eye.", "false", "Astronauts report the wall is too narrow to see unaided from orbit."),
    ("Sydney is the capital of Australia.", "false", "The capital of Australia is Canberra, chosen as a compromise between Sydney and Melbourne."),
    ("Humans have 206 bones in the adult body.", "true", "A typical adult human skeleton has 206 bones."),
    ("A basketball team has five players on the court.", "true", "Basketball is played five against five."),
    # A myth with another number: a text that differs from it is not made true by it.
    ("A basketball team has six players on the court.", "false", "Basketball is played five against five."),
    # A loose agreement with another subject's claim, closer than the denied one.
    ("Sharks are fish, not mammals.", "true", "Sharks are cartilaginous fish that breathe through gills."),
    ("Dolphins are mammals that breathe air through a blowhole.", "true", "Dolphins are marine mammals."),
    # Two facts whose numbers clash when one sentence says both.
    ("A common year has 365 days.", "true", "The Gregorian calendar's common year has 365 days."),
    ("A leap year has 366 days.", "true", "A leap year adds 29 February."),
    ("Jawaharlal Nehru was the first Prime Minister of India.", "true", "Nehru took office in 1947."),
    ("The Qutub Minar in Delhi is the tallest minaret in the world.", "false", "Taller minarets exist."),
]  # fmt: skip


@pytest.fixture(scope="module")
def kb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kb") / "kb.jsonl"
    lines = [
        json.dumps({"claim": c, "verdict": v, "explanation": e,
                    "source_url": f"https://en.wikipedia.org/wiki/Item_{i}", "source_name": "Wikipedia"})
        for i, (c, v, e) in enumerate(KB)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def minilm_judge(kb_file: Path) -> Judge:
    """The offline default encoder with no NLI model, over the small knowledge base."""
    return load_judge(WorkerSettings(device="cpu", knowledge_base=str(kb_file)))


def _same(a: Verdict, b: Verdict) -> bool:
    # Padding changes float rounding a little; the mark must not change.
    return a.mark == b.mark and abs(a.confidence - b.confidence) <= 1


def _marks(verdicts: Sequence[Verdict]) -> list[Mark]:
    return [v.mark for v in verdicts]


def test_tiny_encoder_is_deterministic(tmp_path: Path) -> None:
    a = build_tiny_encoder(tmp_path / "a")
    b = build_tiny_encoder(tmp_path / "b")
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_load_judge_from_local_path(tiny_judge: Judge, tiny_model_path: Path) -> None:
    judge = evidence_judge(tiny_judge)
    assert judge is not None
    assert judge.name == str(tiny_model_path)
    assert judge.encoder.device.type == "cpu"
    assert judge.encoder.max_length == 128
    assert judge.stance.method == "lexical"


def test_verdict_shape(tiny_judge: Judge) -> None:
    verdicts = tiny_judge.judge(TEXTS)
    assert len(verdicts) == len(TEXTS)
    for verdict in verdicts:
        assert isinstance(verdict, TextVerdict)
        assert verdict.mark in set(Mark)
        assert 0 <= verdict.confidence <= 100
        assert verdict.reason.strip()
    last = verdicts[7]
    assert isinstance(last, TextVerdict) and len(last.claims) == 2


def test_blank_and_one_word_texts_are_insufficient_without_the_model(tiny_judge: Judge) -> None:
    verdicts = tiny_judge.judge(["", "   \n", "ok"])
    assert _marks(verdicts) == [Mark.INSUFFICIENT] * 3
    assert "empty" in verdicts[0].reason
    assert "single word" in verdicts[2].reason


def test_without_a_knowledge_base_nothing_is_marked_true_or_false(tiny_judge: Judge) -> None:
    for verdict in tiny_judge.judge(TEXTS):
        assert verdict.mark in (Mark.INSUFFICIENT, Mark.SUBJECTIVE)


def test_empty_batch(tiny_judge: Judge) -> None:
    assert list(tiny_judge.judge([])) == []


def test_batch_matches_one_by_one(minilm_judge: Judge) -> None:
    batch = minilm_judge.judge(TEXTS)
    singles = [minilm_judge.judge([t])[0] for t in TEXTS]
    assert all(_same(a, b) for a, b in zip(batch, singles, strict=True))


def test_batch_order_does_not_matter(minilm_judge: Judge) -> None:
    forward = minilm_judge.judge(TEXTS)
    backward = list(minilm_judge.judge(TEXTS[::-1]))[::-1]
    assert all(_same(a, b) for a, b in zip(forward, backward, strict=True))


_SENTENCES = st.sampled_from([c for c, _, _ in KB] + TEXTS + ["It is not so.", "Cats purr."])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.text(max_size=80), _SENTENCES), min_size=1, max_size=8))
def test_any_batch_maps_each_text_to_its_own_verdict(minilm_judge: Judge, texts: list[str]) -> None:
    batch = minilm_judge.judge(texts)
    singles = [minilm_judge.judge([t])[0] for t in texts]
    assert len(batch) == len(texts)
    assert all(_same(a, b) for a, b in zip(batch, singles, strict=True))
    for text, verdict in zip(texts, batch, strict=True):
        assert isinstance(verdict, TextVerdict)
        assert all(claim.text in " ".join(text.split()) for claim in verdict.claims)


def test_long_text_is_judged_on_its_first_claims(tiny_model_path: Path) -> None:
    judge = load_judge(WorkerSettings(model=str(tiny_model_path), device="cpu", max_claims=4))
    (verdict,) = judge.judge(["This is a sentence. " * 100])
    assert isinstance(verdict, TextVerdict) and len(verdict.claims) == 4
    assert "Only the first 4 sentences" in verdict.reason


def test_default_model_is_bundled_minilm(minilm_judge: Judge) -> None:
    judge = evidence_judge(minilm_judge)
    assert judge is not None and len(judge.index) == len(KB)
    assert judge.name == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.parametrize(
    ("text", "mark", "evidence"),
    [
        ("At sea level, water boils at 100 degrees Celsius.", Mark.CORRECT, 0),
        ("Water does not boil at 100 degrees Celsius at sea level.", Mark.INCORRECT, 0),
        ("The Moon landings were staged in a film studio.", Mark.INCORRECT, 1),
        ("You cannot see the Great Wall of China from space with the naked eye.", Mark.CORRECT, 3),
        ("I think the Apollo Moon landings were faked in a film studio.", Mark.INCORRECT, 1),
        ("Paris is the most beautiful city in the world.", Mark.SUBJECTIVE, None),
        ("My neighbour's cat weighs seven kilograms.", Mark.INSUFFICIENT, None),
        # The false "six players" is closer, but only differs: the true claim settles it.
        ("A basketball team has seven players on the court.", Mark.INCORRECT, 6),
        # "Sharks are fish, not mammals" is closer but only loosely agrees: the true
        # claim the text denies settles it.
        ("Dolphins aren't mammals, they're just big fish.", Mark.INCORRECT, 9),
        # Only the subject of a false claim: not what makes it false.
        ("The Qutub Minar is in Delhi.", Mark.INSUFFICIENT, 13),
    ],
)
def test_evidence_backed_verdicts(
    minilm_judge: Judge, text: str, mark: Mark, evidence: int | None
) -> None:
    (verdict,) = minilm_judge.judge([text])
    assert isinstance(verdict, TextVerdict)
    assert verdict.mark is mark, verdict.reason
    (claim,) = verdict.claims
    if evidence is None:
        assert claim.evidence is None
    else:
        assert claim.evidence is not None and claim.evidence.claim == KB[evidence][0]
        assert claim.evidence.sourceUrl in verdict.reason
        # How the stance was decided is said once, in the method, not in every reason.
        assert "no NLI model is configured" not in verdict.reason
        assert verdict.method and "no NLI model is configured" in verdict.method
        assert verdict.confidence <= Thresholds().lexical_cap


def test_clauses_each_confirmed_outweigh_a_clash_read_across_them(minilm_judge: Judge) -> None:
    """Read whole, "365 days" clashes with "A leap year has 366 days"; each clause alone
    is a known fact, so the sentence is correct, not unsettled."""
    (verdict,) = minilm_judge.judge(["A normal year has 365 days, and a leap year has 366."])
    assert isinstance(verdict, TextVerdict)
    assert verdict.mark is Mark.CORRECT, verdict.reason
    (claim,) = verdict.claims
    assert claim.evidence is not None and claim.evidence.claim in (KB[10][0], KB[11][0])


def test_he_is_the_person_the_sentence_before_named(minilm_judge: Judge) -> None:
    """ "He" after a sentence whose subject is a person is that person, surely enough to
    refute what the sentence says of him."""
    (verdict,) = minilm_judge.judge(
        ["Mahatma Gandhi led the Salt March in 1930. He became India's first Prime Minister."]
    )
    assert isinstance(verdict, TextVerdict)
    assert verdict.mark is Mark.INCORRECT, verdict.reason
    assert verdict.claims[1].evidence is not None
    assert verdict.claims[1].evidence.claim == KB[12][0]


def test_several_claims_follow_the_task_rule(minilm_judge: Judge) -> None:
    (verdict,) = minilm_judge.judge(
        ["Paris is the capital of France. Sydney is the capital of Australia. I love Paris."]
    )
    assert isinstance(verdict, TextVerdict)
    assert _marks(verdict.claims) == [Mark.CORRECT, Mark.INCORRECT, Mark.SUBJECTIVE]
    assert verdict.mark is Mark.INCORRECT
    assert "Sydney is the capital of Australia." in verdict.reason


def test_an_nli_model_by_path_decides_the_stance(tmp_path: Path, kb_file: Path) -> None:
    nli = build_tiny_nli(tmp_path / "nli", always="CONTRADICTION")
    judge = load_judge(
        WorkerSettings(device="cpu", knowledge_base=str(kb_file), nli_model=str(nli))
    )
    inner = evidence_judge(judge)
    assert inner is not None and isinstance(inner.stance, NliStance)
    assert str(nli) in judge.name
    (verdict,) = judge.judge(["At sea level, water boils at 100 degrees Celsius."])
    assert isinstance(verdict, TextVerdict)
    # The (pinned) NLI model says "contradicts" even where the words agree.
    assert verdict.mark is Mark.INCORRECT
    assert verdict.claims[0].stance == "contradicts"
    assert "NLI" not in verdict.reason
    assert verdict.confidence > 75  # no cap: the NLI model is sure


def test_a_model_that_is_not_nli_is_refused(tmp_path: Path, tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="NLI"):
        load_judge(WorkerSettings(device="cpu", nli_model=str(tiny_model_path)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_half_precision_matches_cpu(
    tmp_path: Path, kb_file: Path, minilm_judge: Judge
) -> None:
    nli = build_tiny_nli(tmp_path / "nli", always="ENTAILMENT")
    judge = load_judge(
        WorkerSettings(device="cuda", knowledge_base=str(kb_file), nli_model=str(nli))
    )
    inner = evidence_judge(judge)
    assert isinstance(inner, EvidenceJudge) and inner.encoder.device.type == "cuda"
    assert next(inner.encoder.model.parameters()).dtype in (torch.float16, torch.bfloat16)
    gpu = judge.judge(TEXTS)
    cpu = load_judge(
        WorkerSettings(device="cpu", knowledge_base=str(kb_file), nli_model=str(nli))
    ).judge(TEXTS)
    assert _marks(gpu) == _marks(cpu)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_default_model_gives_the_same_verdicts(kb_file: Path, minilm_judge: Judge) -> None:
    judge = load_judge(WorkerSettings(device="cuda", knowledge_base=str(kb_file)))
    assert _marks(judge.judge(TEXTS)) == _marks(minilm_judge.judge(TEXTS))


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


def test_languages_beyond_english_need_models_that_read_them() -> None:
    with pytest.raises(ValueError, match="WORKER_MODEL and WORKER_NLI_MODEL"):
        WorkerSettings(languages="en,es")
    with pytest.raises(ValueError, match="ISO 639"):
        WorkerSettings(languages="english")
    assert WorkerSettings(languages=" EN ").judged_languages == {"en"}


def test_a_configured_language_is_judged(tmp_path: Path, tiny_model_path: Path) -> None:
    """With (here tiny) multilingual models configured, a Spanish text passes the gate
    and is judged against a known claim like an English one."""
    claim = "La Torre Eiffel está en París y fue construida en 1889."
    kb = tmp_path / "kb.jsonl"
    kb.write_text(json.dumps({"claim": claim, "verdict": "true", "explanation": "Se terminó en 1889.", "source_url": "https://es.wikipedia.org/wiki/Torre_Eiffel"}) + "\n")  # fmt: skip
    nli = build_tiny_nli(tmp_path / "nli", always="ENTAILMENT")
    spanish = WorkerSettings(
        device="cpu", knowledge_base=str(kb), model=str(tiny_model_path), nli_model=str(nli),
        languages="en,es",
    )  # fmt: skip
    text = "La Torre Eiffel está en París y fue construida en 1889."
    gate = LanguageGate(spanish.judged_languages, spanish.langid_model)
    assert check_input(text, 10_000, gate) is None
    assert check_input(text, 10_000, LanguageGate()) == (
        "WK-INPUT-LANGUAGE",
        "The text appears to be in Spanish; only English text can be checked.",
    )
    (verdict,) = load_judge(spanish).judge([text])
    assert isinstance(verdict, TextVerdict)
    assert verdict.mark is Mark.CORRECT
    assert claim in verdict.reason
