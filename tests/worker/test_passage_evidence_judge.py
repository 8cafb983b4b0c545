"""Open-world evidence through the judge: a claim no known claim covers is checked
against the sentences of passages from documents, with the offline default encoder."""

from __future__ import annotations

import json

import pytest

from shared.schemas import Mark, TextVerdict
from worker.config import WorkerSettings
from worker.model import Judge, evidence_judge, load_judge

QUOKKA_URL = "https://en.wikipedia.org/wiki/Quokka"


@pytest.fixture(scope="module")
def judge(tmp_path_factory: pytest.TempPathFactory) -> Judge:
    docs = tmp_path_factory.mktemp("docs")
    (docs / "animals.jsonl").write_text(
        json.dumps(
            {
                "title": "Quokka",
                "url": QUOKKA_URL,
                "text": "The quokka is a small macropod about the size of a domestic cat. "
                "Quokkas live mainly on Rottnest Island, off the coast of Perth in Western "
                "Australia. They are herbivorous and mostly nocturnal. The species is "
                "classified as vulnerable by the IUCN.",
            }
        )
        + "\n"
    )
    (docs / "rivers.md").write_text(
        "# The Danube\n\nThe Danube flows through ten countries, more than any other river "
        "in the world. It rises in the Black Forest of Germany and empties into the Black Sea.\n"
    )
    return load_judge(WorkerSettings(device="cpu", knowledge_base="none", evidence_docs=str(docs)))


def test_a_claim_a_passage_supports_is_correct_and_cites_it(judge: Judge) -> None:
    (verdict,) = judge.judge(["Quokkas live mainly on Rottnest Island near Perth."])
    assert isinstance(verdict, TextVerdict)
    assert verdict.mark is Mark.CORRECT, verdict.reason
    (claim,) = verdict.claims
    assert claim.evidence is not None and claim.evidence.sourceUrl == QUOKKA_URL
    assert claim.evidence.claim.startswith("Quokkas live mainly on Rottnest Island")
    assert "Quokka" in verdict.reason and QUOKKA_URL in verdict.reason


def test_a_claim_a_passage_contradicts_is_incorrect(judge: Judge) -> None:
    (verdict,) = judge.judge(["The Danube empties into the Caspian Sea."])
    assert verdict.mark in (Mark.INCORRECT, Mark.INSUFFICIENT), verdict.reason
    (negated,) = judge.judge(["Quokkas do not live on Rottnest Island."])
    assert negated.mark is Mark.INCORRECT, negated.reason


def test_unrelated_claims_find_no_passage(judge: Judge) -> None:
    (verdict,) = judge.judge(["My neighbour's car is painted dark green."])
    assert verdict.mark is Mark.INSUFFICIENT
    inner = evidence_judge(judge)
    assert inner is not None and len(inner.passages) >= 2
