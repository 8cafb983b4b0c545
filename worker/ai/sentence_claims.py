"""A sentence of a text read as a claim: the talk around it set aside, a belief hedge
peeled off, its opinion or prediction cue found, and its clauses ready to be judged
one by one (``worker.ai.clauses``). ``judge.EvidenceJudge`` finds each one's evidence."""

from __future__ import annotations

from dataclasses import dataclass, field

from .clauses import firmly_resolved, leans_on_another, read
from .hinglish import gloss
from .knowledge import Match
from .stance import Stance
from .subjectivity import Subjectivity, strip_belief, subjectivity


@dataclass(slots=True)
class Claim:
    text_index: int
    text: str  # as written
    checked: str  # with any belief hedge peeled off
    belief: str | None
    subjective: Subjectivity | None
    candidates: list[Match]
    match: Match | None = None
    stance: Stance | None = None
    # The sentence's clauses, judged on their own when the whole is unsettled.
    parts: list[Claim] = field(default_factory=list)
    talk: bool = False  # nothing checkable in it ("Stay safe 🙏", "Went to Agra!")
    # Its opening "It" or "They" was read as what the sentence before named: a guess
    # that may be wrong, so it can confirm but never refute.
    resolved: bool = False


# Clauses shorter than this are fragments ("Penicillin", "in 1913"), not claims.
MIN_PART_WORDS = 3


def depends(part: Claim) -> bool:
    """A clause that leans on another, as written or as glossed from Hinglish ("jo
    Kerala mein hai": which is in Kerala)."""
    return leans_on_another(part.text) or leans_on_another(part.checked)


def claim_subjectivity(written: str, checked: str) -> Subjectivity | None:
    """The opinion, advice or prediction cue of a claim, in the English it was glossed
    into or, for Hinglish cues the gloss does not keep ("sabse best", "se kahin
    better"), as written."""
    found = subjectivity(checked)
    if found is None and gloss(written) != written:
        return subjectivity(written)
    return found


def read_claim(text_index: int, sentence: str, meant: str) -> Claim:
    """A sentence as a claim: ``meant`` is the sentence with an opening pronoun read as
    what the sentence before named; the talk around it set aside, a belief hedge peeled off,
    and its clauses ready to be judged one by one (``worker.ai.clauses``)."""
    reading = read(meant)
    resolved = meant != sentence and not firmly_resolved(sentence)
    if not reading.claim:
        return Claim(text_index, sentence, sentence, None, None, candidates=[], talk=True)
    checked, belief = strip_belief(gloss(reading.claim))
    subjective = claim_subjectivity(reading.claim, checked)
    if subjective is not None and subjective.kind == "prediction" and not subjective.guess:
        # "…, I can feel it": the guess may sit in the talk set aside.
        whole = subjectivity(gloss(sentence))
        if whole is not None and whole.kind == "prediction" and whole.guess:
            subjective = whole
    claim = Claim(
        text_index, sentence, checked, belief, subjective, candidates=[], resolved=resolved
    )
    for part in reading.parts:
        if len(part.split()) >= MIN_PART_WORDS:
            part_checked, part_belief = strip_belief(gloss(part))
            claim.parts.append(
                Claim(
                    text_index,
                    part,
                    part_checked,
                    part_belief,
                    claim_subjectivity(part, part_checked),
                    candidates=[],
                )
            )
    if len(claim.parts) < 2:
        claim.parts = []
    return claim
