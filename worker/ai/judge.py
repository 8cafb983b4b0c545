"""``EvidenceJudge``: the whole pipeline of ``worker.ai`` over a batch of texts.

Every model call covers the whole batch (all claims of all texts at once): one encoder
pass for the claims, one NLI pass for the (known claim, claim) pairs. Results never cross
texts: each claim carries the index of its text.
"""

from __future__ import annotations

import logging
import re

import torch

from shared.knowledge import KbClaim
from shared.schemas import MAX_CLAIMS, ClaimVerdict, Mark, TextVerdict

from .claims import split_claims
from .clauses import Subject, named_subject, resolve_pronoun
from .encoder import SentenceEncoder
from .knowledge import KnowledgeIndex, Match
from .passage_evidence import find_passages
from .passages import Passage, PassageIndex
from .rerank import CrossEncoderReranker
from .sentence_claims import Claim, depends, read_claim
from .stance import StanceModel
from .verdicts import (
    DEFAULT_THRESHOLDS,
    UNSETTLED_CONFIDENCE,
    Thresholds,
    claim_verdict,
    combine,
    settled_stance,
)
from .wording import words

log = logging.getLogger(__name__)

# Shorter texts are not a claim at all; judging them would only report noise.
MIN_WORDS = 2


def describe_method(encoder: str, stance: StanceModel, thresholds: Thresholds) -> str:
    """How verdicts are reached, said once per result (``TextVerdict.method``)."""
    how = {
        "nli": f"stance by the NLI model {stance.name}",
        "learned": "stance by a small classifier trained on the knowledge base (no NLI "
        "model is configured)",
        "lexical": "stance by a word-level check, as no NLI model is configured "
        f"(confidence at most {thresholds.lexical_cap})",
    }[stance.method]
    return (
        f"Each sentence is matched to known fact-checks by sentence embedding ({encoder}); {how}."[
            :500
        ]
    )


# A sentence with nothing checkable is set aside; alone, it is surely Insufficient.
NOTHING_CHECKABLE_CONFIDENCE = 90
_DEBUNKING = re.compile(
    r"\b(myth|false|untrue|not true|fake|hoax|lie|lies|rumou?r|misconception|nonsense)\b",
    re.I,
)


# "…, not a flat disc": the clause is a contrast with the one before, read together.
_CONTRAST = re.compile(r"^\W*(?:but\s+)?not\b", re.I)


def _negations(text: str) -> int:
    """How many negations: a short fragment left out of the parts ("…, not really")
    must not hold one."""
    return sum(t in {"not", "no", "never", "nahi", "nope"} for t in words(text))


def _debunks(text: str) -> bool:
    return bool(_DEBUNKING.search(text))


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
        passage_candidates: int = 20,
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
        # The open-world evidence corpus, searched for claims no known claim covers.
        self.passages = PassageIndex.empty(encoder.dim)
        self.reranker: CrossEncoderReranker | None = None
        self.passage_candidates = passage_candidates

    def judge(self, texts: list[str]) -> list[TextVerdict]:
        # One snapshot per batch, whatever a refresh does meanwhile.
        index, passages = self.index, self.passages
        verdicts: list[TextVerdict | None] = [None] * len(texts)
        claims: list[Claim] = []
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
            subject: Subject | None = None
            for sentence in sentences[: self.max_claims]:
                meant = resolve_pronoun(sentence, subject)
                claims.append(read_claim(i, sentence, meant))
                subject = named_subject(meant) or subject
        if claims:
            self._find_evidence(
                [c for c in claims if not c.talk] + [p for c in claims for p in c.parts],
                index,
                passages,
            )
        per_text: dict[int, list[ClaimVerdict]] = {i: [] for i in dropped}
        future: dict[int, set[int]] = {i: set() for i in dropped}
        talk: dict[int, set[int]] = {i: set() for i in dropped}
        for claim in claims:
            found = self._verdict(claim)
            position = len(per_text[claim.text_index])
            if claim.talk:
                talk[claim.text_index].add(position)
            elif found.mark is Mark.INSUFFICIENT and (
                claim.subjective is not None and claim.subjective.kind == "prediction"
            ):
                future[claim.text_index].add(position)
            per_text[claim.text_index].append(found)
        for i, found_all in per_text.items():
            verdicts[i] = combine(
                found_all,
                dropped=dropped[i],
                future=frozenset(future[i]),
                talk=frozenset(talk[i]),
            ).model_copy(update={"method": self.method})
        return [v for v in verdicts if v is not None]

    def _verdict(self, claim: Claim) -> ClaimVerdict:
        if claim.talk:
            return ClaimVerdict(
                text=claim.text[:2000],
                mark=Mark.INSUFFICIENT,
                reason="This sentence is talk around the claims (a greeting, an aside, an "
                "appeal to share); it states nothing that could be checked.",
                confidence=NOTHING_CHECKABLE_CONFIDENCE,
            )
        found = self._whole_verdict(claim)
        if claim.resolved and found.mark is Mark.INCORRECT:
            return ClaimVerdict(
                text=claim.text[:2000],
                mark=Mark.INSUFFICIENT,
                reason="Read as being about what the sentence before names, it "
                + found.reason[0].lower()
                + found.reason[1:]
                + " But its pronoun may mean something else, so this is not settled.",
                confidence=UNSETTLED_CONFIDENCE,
                evidence=found.evidence,
            )
        return found

    def _whole_verdict(self, claim: Claim) -> ClaimVerdict:
        found = self._claim_verdict(claim)
        if not claim.parts:
            return found
        debunking = [_debunks(part.text) for part in claim.parts]
        contrast = any(_CONTRAST.match(part.text) for part in claim.parts)
        if found.stance == "contradicts" and found.mark is not Mark.INSUFFICIENT and not contrast:
            # A contradiction read across clauses ("Humans never lived alongside the
            # dinosaurs — the non-avian ones died out …") must hold in one clause alone.
            alone = [self._claim_verdict(part) for part in claim.parts if not depends(part)]
            if not any(p.mark is found.mark for p in alone):
                confirmed = self._all_parts_confirmed(claim)
                if confirmed is not None:
                    # "A normal year has 365 days, and a leap year has 366": each clause
                    # is a known fact; only their numbers read together clash.
                    return confirmed
                return ClaimVerdict(
                    text=claim.text[:2000],
                    mark=Mark.INSUFFICIENT,
                    reason="Its clauses read together seem to contradict "
                    + (f"“{found.evidence.claim}”" if found.evidence else "the evidence")
                    + ", but no clause does on its own, so it is not settled.",
                    confidence=UNSETTLED_CONFIDENCE,
                    evidence=found.evidence,
                )
        if found.mark is not Mark.INSUFFICIENT:
            if any(debunking) and not all(debunking):
                # "X, that is a myth": one clause calls another false; which way the
                # whole points is not for a word-level reading to say.
                evidence = found.evidence
                return ClaimVerdict(
                    text=claim.text[:2000],
                    mark=Mark.INSUFFICIENT,
                    reason="One part of the sentence calls another a myth or false, so "
                    "whether it agrees with the closest evidence"
                    + (f" (“{evidence.claim}”)" if evidence else "")
                    + " cannot be read from its words.",
                    confidence=UNSETTLED_CONFIDENCE,
                    evidence=evidence,
                )
            return found
        # The whole is unsettled: its clauses, one by one. One false clause makes the
        # sentence false (unless another clause calls something a myth: then the false
        # clause may be what it debunks); every clause confirmed makes it correct.
        parts = [self._claim_verdict(part) for part in claim.parts]
        wrong = [
            p
            for p, part in zip(parts, claim.parts, strict=True)
            if p.mark is Mark.INCORRECT and not depends(part)
        ]
        if wrong and not any(_debunks(p.text) for p in parts if p.mark is not Mark.INCORRECT):
            worst = max(wrong, key=lambda p: p.confidence)
            return worst.model_copy(update={"text": claim.text[:2000]})
        return self._all_parts_confirmed(claim, parts) or found

    def _all_parts_confirmed(
        self, claim: Claim, parts: list[ClaimVerdict] | None = None
    ) -> ClaimVerdict | None:
        """The least sure of the clauses' verdicts when every clause is confirmed (and
        no negation was lost in splitting); None otherwise."""
        parts = parts if parts is not None else [self._claim_verdict(p) for p in claim.parts]
        if all(p.mark is Mark.CORRECT for p in parts) and _negations(claim.text) == sum(
            _negations(p.text) for p in claim.parts
        ):
            least = min(parts, key=lambda p: p.confidence)
            return least.model_copy(update={"text": claim.text[:2000]})
        return None

    def _claim_verdict(self, claim: Claim) -> ClaimVerdict:
        return claim_verdict(
            claim.text[:2000],
            subjective=claim.subjective,
            belief=claim.belief,
            match=claim.match,
            stance=claim.stance,
            thresholds=self.thresholds,
        )

    def _find_evidence(
        self, claims: list[Claim], index: KnowledgeIndex, passages: PassageIndex
    ) -> None:
        """Retrieve candidates for every claim (known claims first, passages for the
        claims none covers), then weigh them with the stance model."""
        if not len(index) and not len(passages):
            return
        queries = self.encoder.encode([c.checked for c in claims])
        floor = self.thresholds.match
        for claim, found in zip(claims, index.search(queries, self.candidates), strict=True):
            claim.candidates = [m for m in found if m.similarity >= floor]
            # The best candidate is still named in the reason when it is too far.
            claim.match = found[0] if found else None
        uncovered = [i for i, c in enumerate(claims) if not c.candidates and c.subjective is None]
        if uncovered and len(passages):
            self._passage_candidates([claims[i] for i in uncovered], queries[uncovered], passages)
        pairs: list[tuple[str, str]] = []
        owners: list[tuple[Claim, Match]] = []
        for claim in claims:
            for match in claim.candidates:
                pairs.append((match.entry.claim, claim.checked))
                owners.append((claim, match))
        if not pairs:
            return
        best: dict[int, float] = {}
        stances = self.stance.stances(pairs)
        # Claims a true known claim denies ("Dolphins are mammals …" against "Dolphins
        # aren't mammals"): the surest contradiction words can show.
        denied = {
            id(claim)
            for (claim, match), stance in zip(owners, stances, strict=True)
            if stance.label == "contradicts" and stance.is_opposite and match.entry.verdict
        }
        for (claim, match), stance in zip(owners, stances, strict=True):
            # The most similar candidate the stance model is surest about wins. A false
            # known claim the text merely differs from ("Paris in 1896" against the
            # false "Paris in 1900") settles nothing (verdicts.py), and must not hide the
            # true one the text contradicts ("Athens in 1896"): it weighs as neutral.
            differs_from_false = (
                stance.label == "contradicts" and not stance.is_opposite and not match.entry.verdict
            )
            # Nor may an agreement too loose to settle anything (verdicts.settled_stance)
            # hide a denial ("Sharks are fish, not mammals" met "Dolphins aren't mammals"
            # before "Dolphins are mammals that breathe air").
            loose = (
                id(claim) in denied
                and stance.label == "entails"
                and settled_stance(claim.text[:2000], match, stance, self.thresholds).label
                == "neutral"
            )
            decisive = (
                0.0
                if stance.label == "neutral" or differs_from_false or loose
                else stance.probability
            )
            score = match.similarity * (0.5 + 0.5 * decisive)
            if score > best.get(id(claim), -1.0):
                best[id(claim)] = score
                claim.match, claim.stance = match, stance

    def _passage_candidates(
        self, claims: list[Claim], queries: torch.Tensor, passages: PassageIndex
    ) -> None:
        """For each claim, the sentence of its best passages closest to it, as a
        candidate: a passage is evidence sentence by sentence, the way a known claim is."""
        found = find_passages(
            [c.checked for c in claims],
            queries,
            passages,
            candidates=self.passage_candidates,
            keep=3,
            min_similarity=self.thresholds.match / 2,
            reranker=self.reranker,
        )
        sentences: list[str] = []
        owners: list[tuple[int, Passage]] = []
        for i, evidence in enumerate(found):
            for item in evidence:
                passage = item.match.passage
                for sentence in split_claims(passage.text, 64):
                    sentences.append(sentence)
                    owners.append((i, passage))
        if not sentences:
            return
        similarity = (self.encoder.encode(sentences) * queries[[i for i, _ in owners]]).sum(1)
        for (i, passage), sentence, sim in zip(owners, sentences, similarity.tolist(), strict=True):
            claim = claims[i]
            if sim < self.thresholds.match or (
                claim.candidates and sim <= claim.candidates[0].similarity
            ):
                continue
            entry = KbClaim(
                id=-passage.id,
                claim=sentence,
                verdict=True,
                explanation=passage.text,
                source_url=passage.url,
                source_name=passage.title or None,
                passage=True,
            )
            claim.candidates = [Match(entry, sim)]
            claim.match = claim.candidates[0]
