"""``satyamark kb check``: duplicates and contradictions in knowledge-base files.

A base that holds the same claim twice, or a claim and its opposite with the same
verdict, gives verdicts that depend on which of the two a search finds first. Claims are
compared by sentence embedding (the encoder the worker uses) and, where two are close,
by the word-level stance check:

* the same claim twice (after normalisation) is a duplicate;
* two claims at least ``RELATED`` similar made of the same content words contradict
  each other when nothing (no negation, opposite word, number or name) sets them apart
  but their verdicts do, or when a negation sets them apart but their verdicts agree. (A
  myth and the fact it distorts, "the Sahara is the largest desert" / "… the largest
  hot desert", differ by a word: that pair is what a base should hold.)
* two claims at least ``NEAR`` similar with the same verdict, and nothing (no number,
  name or negation) setting them apart, are reported as a near-duplicate, a warning:
  they may still say different things.

``--fix`` drops the later copy of every duplicate and near-duplicate from JSONL files.

Exit status 0 when no duplicate, contradiction or invalid record was found, 1 otherwise
(each problem printed as ``FILE:LINE: kind: …``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from shared.knowledge import KbRecord, knowledge_files, read_records

NEAR = 0.95
RELATED = 0.7
_BLOCK = 1024


@dataclass(frozen=True, slots=True)
class Located:
    where: str  # FILE:LINE
    record: KbRecord


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # "duplicate", "near-duplicate", "contradiction" or "invalid"

    @property
    def is_error(self) -> bool:
        return self.kind != "near-duplicate"

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.message}"


def read_all(paths: list[Path]) -> tuple[list[Located], list[Problem]]:
    """Every valid record with its position, and the invalid records and exact
    duplicates as problems."""
    found: list[Located] = []
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for path in paths:
        for file in knowledge_files(path):
            for line, result in read_records(file):
                where = f"{file}:{line}"
                if not isinstance(result, KbRecord):
                    problems.append(Problem("invalid", where, result.message))
                elif (earlier := first.get(result.key)) is not None:
                    problems.append(Problem("duplicate", where, f"same claim as {earlier}"))
                else:
                    first[result.key] = where
                    found.append(Located(where, result))
    return found, problems


def close_pairs(vectors: torch.Tensor, floor: float) -> list[tuple[int, int, float]]:
    """Every pair (i < j) of rows at least ``floor`` cosine-similar, in blocks so a large
    base never needs its whole similarity matrix at once."""
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, vectors.shape[0], _BLOCK):
        sims = vectors[start : start + _BLOCK] @ vectors.T
        rows, cols = torch.nonzero(sims >= floor, as_tuple=True)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if i < c:
                pairs.append((i, c, float(sims[r, c])))
    return pairs


def _quote(record: KbRecord) -> str:
    return f"“{record.claim}” ({'true' if record.verdict else 'false'})"


_NEGATIONS = frozenset("not no never none nothing nobody".split())


def _stems(claim: str) -> set[str]:
    """Content words without negations: "bats are not blind" has the words of "bats
    are blind"."""
    from worker.ai.wording import content_stems, words

    return content_stems([w for w in words(claim) if w not in _NEGATIONS])


def find_problems(records: list[Located], vectors: torch.Tensor) -> list[Problem]:
    """Near-duplicates and contradictions among ``records`` (``vectors``: one
    L2-normalised embedding per record)."""
    from worker.ai.stance import LexicalStance

    stance = LexicalStance()
    problems: list[Problem] = []
    for i, j, sim in close_pairs(vectors, RELATED):
        a, b = records[i], records[j]
        said = stance.stance(a.record.claim, b.record.claim)
        same_verdict = a.record.verdict == b.record.verdict
        same_words = _stems(a.record.claim) == _stems(b.record.claim)
        agree = said.label == "entails" and said.conflict == ""
        opposite = said.is_opposite
        pair = f"{_quote(b.record)} against {a.where} {_quote(a.record)}, similarity {sim:.2f}"
        if same_words and ((agree and not same_verdict) or (opposite and same_verdict)):
            problems.append(Problem("contradiction", b.where, pair))
        elif same_verdict and sim >= NEAR and said.label == "entails":
            problems.append(Problem("near-duplicate", b.where, pair))
    return problems


def drop_duplicates(problems: list[Problem]) -> int:
    """Rewrite JSONL files without the later copy of each duplicate and near-duplicate
    (the first is kept); returns how many lines went."""
    doomed: dict[Path, set[int]] = {}
    for problem in problems:
        if problem.kind in ("duplicate", "near-duplicate"):
            name, _, line = problem.where.rpartition(":")
            doomed.setdefault(Path(name), set()).add(int(line))
    dropped = 0
    for path, lines in doomed.items():
        if path.suffix != ".jsonl":
            continue  # a JSON document's positions are items, not lines
        kept = [
            text
            for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if number not in lines
        ]
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")
        dropped += len(lines)
    return dropped


def run_check(paths: list[Path], *, model: str = "", fix: bool = False) -> int:
    from worker.ai.encoder import SentenceEncoder, pick_device
    from worker.model import default_model_ref

    records, problems = read_all(paths)
    ref, name = (model, model) if model else default_model_ref()
    # The same encoder as the worker's default, so "close" means what the judge sees.
    encoder = SentenceEncoder(ref, device=pick_device("auto"), name=name)
    vectors = encoder.encode([r.record.claim for r in records])
    problems += find_problems(records, vectors)
    for problem in problems:
        print(problem)
    if fix:
        print(f"dropped {drop_duplicates(problems)} duplicate lines", file=sys.stderr)
        problems = [p for p in problems if p.kind not in ("duplicate", "near-duplicate")]
    true = sum(r.record.verdict for r in records)
    domains = len({r.record.domain for r in records})
    print(
        f"{len(records)} claims ({true} true, {len(records) - true} false) in {domains} "
        f"domains; {len(problems)} problem{'s' if len(problems) != 1 else ''}",
        file=sys.stderr,
    )
    return 1 if any(p.is_error for p in problems) else 0
