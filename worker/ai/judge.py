"""``EvidenceJudge``: the whole pipeline of ``worker.ai`` over a batch of texts.

Every model call covers the whole batch (all claims of all texts at once): one encoder
pass for the claims, one NLI pass for the (known claim, claim) pairs. Results never cross
texts: each claim carries the index of its text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.schemas import MAX_CLAIMS, ClaimVerdict, Mark, TextVerdict

from .claims import split_claims
from .encoder import SentenceEncoder
from .knowledge import KnowledgeIndex, Match
from .stance import Stance, StanceModel
from .subjectivity import Subjectivity, strip_belief, subjectivity
from .verdicts import DEFAULT_THRESHOLDS, Thresholds, claim_verdict, combine

log = logging.getLogger(__name__)

# Shorter texts are not a claim at all; judging them would only report noise.
MIN_WORDS = 2


@dataclass(slots=True)
class _Claim:
    text_index: int
    text: str  # as written
    checked: str  # with any belief hedge peeled off
    belief: str | None
    subjective: Subjectivity | None
    candidates: list[Match]
    match: Match | None = None
    stance: Stance | None = None


def describe_method(encoder: str, stance: StanceModel, thresholds: Thresholds) -> str:
    """How verdicts are reached, said once per result (``TextVerdict.method``)."""
    how = (
        f"stance by the NLI model {stance.name}"
        if stance.method == "nli"
        else "stance by a word-level check, as no NLI model is configured "
        f"(confidence at most {thresholds.lexical_cap})"
    )
    return (
        f"Each sentence is matched to known fact-checks by sentence embedding ({encoder}); {how}."[
            :500
        ]
    )


class EvidenceJudge:
    """Verdicts backed by the knowledge base (see the package docstring)."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        stance: StanceModel,
        *,
        name: str | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        max_claims: int = MAX_CLAIMS,
        candidates: int = 3,
    ) -> None:
        self.encoder = encoder
        self.stance = stance
        self.name = name or (
            encoder.name if stance.method == "lexical" else f"{encoder.name} + {stance.name}"
        )
        self.thresholds = thresholds
        self.method = describe_method(encoder.name, stance, thresholds)
        self.max_claims = min(max_claims, MAX_CLAIMS)
        self.candidates = candidates
        self.index = KnowledgeIndex.empty(encoder.dim)

    def judge(self, texts: list[str]) -> list[TextVerdict]:
        index = self.index  # one snapshot per batch, whatever a refresh does meanwhile
        verdicts: list[TextVerdict | None] = [None] * len(texts)
        claims: list[_Claim] = []
        dropped: dict[int, int] = {}
        for i, text in enumerate(texts):
            words = len(text.split())
            if words < MIN_WORDS:
                what = "empty" if words == 0 else "a single word"
                verdicts[i] = TextVerdict(
                    mark=Mark.INSUFFICIENT,
                    reason=f"The text is {what}, which is too little content to check.",
                    confidence=100,
                )
                continue
            sentences = split_claims(text, self.max_claims + 1)
            dropped[i] = max(0, len(sentences) - self.max_claims)
            for sentence in sentences[: self.max_claims]:
                checked, belief = strip_belief(sentence)
                claims.append(
                    _Claim(i, sentence, checked, belief, subjectivity(checked), candidates=[])
                )
        if claims:
            self._find_evidence(claims, index)
        per_text: dict[int, list[ClaimVerdict]] = {i: [] for i in dropped}
        for claim in claims:
            per_text[claim.text_index].append(
                claim_verdict(
                    claim.text[:2000],
                    subjective=claim.subjective,
                    belief=claim.belief,
                    match=claim.match,
                    stance=claim.stance,
                    thresholds=self.thresholds,
                )
            )
        for i, found in per_text.items():
            verdicts[i] = combine(found, dropped=dropped[i]).model_copy(
                update={"method": self.method}
            )
        return [v for v in verdicts if v is not None]

    def _find_evidence(self, claims: list[_Claim], index: KnowledgeIndex) -> None:
        """Retrieve candidates for every claim, then weigh them with the stance model."""
        if not len(index):
            return
        queries = self.encoder.encode([c.checked for c in claims])
        floor = self.thresholds.match
        pairs: list[tuple[str, str]] = []
        owners: list[tuple[_Claim, Match]] = []
        for claim, found in zip(claims, index.search(queries, self.candidates), strict=True):
            claim.candidates = [m for m in found if m.similarity >= floor]
            # The best candidate is still named in the reason when it is too far.
            claim.match = found[0] if found else None
            for match in claim.candidates:
                pairs.append((match.entry.claim, claim.checked))
                owners.append((claim, match))
        if not pairs:
            return
        best: dict[int, float] = {}
        for (claim, match), stance in zip(owners, self.stance.stances(pairs), strict=True):
            # The most similar candidate the stance model is surest about wins.
            decisive = stance.probability if stance.label != "neutral" else 0.0
            score = match.similarity * (0.5 + 0.5 * decisive)
            if score > best.get(id(claim), -1.0):
                best[id(claim)] = score
                claim.match, claim.stance = match, stance
