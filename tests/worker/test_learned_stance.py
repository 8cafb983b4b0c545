"""The learned stance head: its training pairs, its training script, and when a worker
uses it (only with the encoder it was trained for)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch

from tests.utils.tiny_models import build_tiny_encoder
from worker.ai.encoder import SentenceEncoder
from worker.ai.learned_stance import SHIPPED_HEAD, LearnedStance, load_head
from worker.ai.pairs import generate_pairs
from worker.ai.train_stance import main as train_main
from worker.config import WorkerSettings
from worker.model import evidence_judge, load_judge

CLAIMS = [
    ("The Sun is a star at the centre of the Solar System.", True),
    ("Water boils at 100 degrees Celsius at sea level.", True),
    ("The Earth orbits the Sun once every 365 days.", True),
    ("Bats are blind.", False),
    ("Paris is the capital of France.", True),
    ("Sydney is the capital of Australia.", False),
    ("The Great Wall of China is visible from the Moon.", False),
    ("Humans have 206 bones in the adult body.", True),
]


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> SentenceEncoder:
    path = build_tiny_encoder(tmp_path_factory.mktemp("tiny"))
    return SentenceEncoder(str(path), device=torch.device("cpu"))


def test_every_recipe_gives_its_label(tiny_encoder: SentenceEncoder) -> None:
    claims = [c for c, _ in CLAIMS]
    pairs = generate_pairs(claims, [v for _, v in CLAIMS], tiny_encoder.encode(claims), seed=3)
    labels = {p.recipe: p.label for p in pairs}
    assert labels["noise"] == "entails"
    assert labels["negation"] == "contradicts"
    assert labels["number"] == "contradicts"
    assert labels["name"] == "contradicts"
    assert labels["role"] == "neutral"
    assert labels["quantifier"] == "neutral"
    assert all(p.premise in claims for p in pairs)
    negated = [p for p in pairs if p.recipe == "negation"]
    assert any(p.premise == "Bats are blind." and "not" in p.hypothesis for p in negated)
    roles = [p.hypothesis for p in pairs if p.recipe == "role"]
    assert any("Earth" in h and h.index("Sun") < h.index("Earth") for h in roles)
    # The same knowledge base and seed give the same pairs (the head's provenance).
    again = generate_pairs(claims, [v for _, v in CLAIMS], tiny_encoder.encode(claims), seed=3)
    assert again == pairs
    assert Counter(p.label for p in pairs).keys() == {"entails", "contradicts", "neutral"}


def test_training_writes_a_head_a_worker_uses_only_with_its_encoder(
    tmp_path: Path, tiny_encoder: SentenceEncoder
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "facts.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "claim": claim,
                    "verdict": "true" if verdict else "false",
                    "explanation": "Because.",
                    "source_url": "https://example.org",
                }
            )
            + "\n"
            for claim, verdict in CLAIMS
        )
    )
    out = tmp_path / "head.pt"
    model = tiny_encoder.name
    assert train_main(["--kb", str(kb), "--out", str(out), "--model", model, "--epochs", "3"]) == 0
    head = load_head(out, encoder=model, dim=tiny_encoder.dim)
    assert head is not None
    assert load_head(out, encoder="another/encoder", dim=tiny_encoder.dim) is None
    assert load_head(tmp_path / "missing.pt", encoder=model, dim=tiny_encoder.dim) is None
    stances = LearnedStance(tiny_encoder, head).stances(
        [("Bats are blind.", "Bats are not blind."), ("Paris is the capital of France.", "x y")]
    )
    assert [s.method for s in stances] == ["learned", "learned"]
    assert all(0.0 <= s.probability <= 1.0 for s in stances)


def test_the_shipped_head_is_for_minilm_so_another_encoder_keeps_the_word_rules(
    tmp_path: Path,
) -> None:
    assert SHIPPED_HEAD.is_file()
    tiny = build_tiny_encoder(tmp_path / "tiny")
    judge = evidence_judge(
        load_judge(WorkerSettings(model=str(tiny), stance="learned", knowledge_base="none"))
    )
    assert judge is not None and judge.stance.method == "lexical"
