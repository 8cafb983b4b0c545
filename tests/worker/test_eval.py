"""The bundled knowledge base is sound, and the offline defaults hold their accuracy."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from satyamark import kb_check
from shared.knowledge import KB_PATH, KbRecord, knowledge_files, read_records
from shared.schemas import Mark
from worker.config import WorkerSettings
from worker.model import Judge, evidence_judge

ROOT = Path(__file__).resolve().parents[2]
SETS = [
    "eval_set.jsonl",
    "eval_holdout.jsonl",
    "eval_people.jsonl",
    "eval_fresh.jsonl",
    "stance_pairs.jsonl",
]
# (accuracy floor, wrong-direction ceiling) per set: see test_offline_defaults_hold…
FLOORS = {
    # About two points under the figures of session 21 (85.7 / 76.7 / 80.7 / 72.7%).
    "eval_set.jsonl": (0.83, 0.01),
    "eval_holdout.jsonl": (0.74, 0.01),
    "eval_people.jsonl": (0.78, 0.01),
    # Written last (session 9) and first run then: 55.7% and 5.1% wrong direction.
    "eval_fresh.jsonl": (0.70, 0.01),
    # ~4,000 texts from pairs written in session 12 against known claims (bench/eval.py
    # pair_cases): first run 40.6% with 6.5% wrong direction, now 48.6% and 3.2%.
    "stance_pairs.jsonl": (0.47, 0.033),
}


def _bench_eval() -> ModuleType:
    return importlib.import_module("bench.eval")


def _kb_records() -> list[KbRecord]:
    return [
        r
        for path in knowledge_files(KB_PATH)
        for _, r in read_records(path)
        if isinstance(r, KbRecord)
    ]


def test_knowledge_base_is_large_varied_and_sourced() -> None:
    results = [r for path in knowledge_files(KB_PATH) for _, r in read_records(path)]
    claims = _kb_records()
    assert len(claims) == len(results)  # every record valid
    assert len(claims) >= 5000
    assert Counter(r.verdict for r in claims)[False] >= 1500  # myths and false claims too
    assert len({r.domain for r in claims}) >= 40
    assert any(r.domain and r.domain.startswith("india-") for r in claims)
    assert all(r.source_url.startswith("https://") and r.explanation for r in claims)


def test_knowledge_base_has_no_duplicates_or_contradictions(offline_judge: Judge) -> None:
    """What `satyamark kb check` reports, with the vectors the judge already holds."""
    judge = evidence_judge(offline_judge)
    assert judge is not None
    records, problems = kb_check.read_all([KB_PATH])
    assert [str(p) for p in problems] == []
    assert [r.record.claim for r in records] == [c.claim for c in judge.index.claims]
    problems = kb_check.find_problems(records, judge.index.vectors)
    assert [str(p) for p in problems if p.is_error] == []


@pytest.mark.parametrize("name", SETS)
def test_eval_sets_are_not_copied_from_the_knowledge_base(name: str) -> None:
    bench_eval = _bench_eval()
    cases = bench_eval.load_cases(ROOT / "bench" / name)
    assert len(cases) >= 120
    known = {r.claim.casefold().rstrip(".") for r in _kb_records()}
    # Written apart, a few plain common facts and myths come out word for word the same
    # ("Helsinki is the capital of Finland.", "The chemical symbol for gold is Ag.");
    # more would mean copying.
    same = [c["text"] for c in cases if c["text"].casefold().rstrip(".") in known]
    assert len(same) <= 0.03 * len(cases), same


# eval_set.jsonl was used while writing the rules; eval_holdout.jsonl and
# eval_people.jsonl were written apart from them (by someone who had not read worker/ai)
# and give the honest figures. The floors sit a few points under what the offline
# defaults reach today (bench/README.md), so a regression fails here; the targets of
# issue 16 (90% accuracy, 1% wrong direction) are reported by bench/eval.py.
@pytest.mark.parametrize("name", SETS)
def test_offline_defaults_hold_their_accuracy(offline_judge: Judge, name: str) -> None:
    bench_eval = _bench_eval()
    cases = bench_eval.load_cases(ROOT / "bench" / name)
    # As a worker answers: its input checks first (a text in another language fails).
    predictions = bench_eval.predict(offline_judge, [c["text"] for c in cases], WorkerSettings())
    result = bench_eval.evaluate(cases, [p.mark for p in predictions])
    floor, ceiling = FLOORS[name]
    assert result["accuracy"] >= floor, result
    assert result["wrong_direction"] <= ceiling, result
    # Every set is in English or romanized Hindi: the language check lets (nearly) all
    # through (of the 9,517 texts in the sets and pairs, 2 read as French to fastText).
    refused = [p.reason for p in predictions if p.verdict is None]
    assert len(refused) <= 0.001 * len(cases), refused
    for verdict in (p.verdict for p in predictions if p.verdict is not None):
        # Never a verdict from nothing: every Correct/Incorrect claim cites its evidence.
        for claim in verdict.claims:
            if claim.mark in (Mark.CORRECT, Mark.INCORRECT):
                assert claim.evidence is not None
                assert claim.evidence.sourceUrl in claim.reason
