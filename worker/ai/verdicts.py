"""From evidence to verdicts: one per claim, and the rule that gives the task's verdict.

Claim rule:
- An opinion or advice is Subjective, a prediction Insufficient (checkable once it
  happens, however sure its writer) — unless the knowledge base holds the
  very same claim (similarity >= ``strong``), which then settles it.
- No known claim at least ``match`` similar: Insufficient (a belief hedge such as "I
  think" makes it Subjective instead: a belief nobody can check).
- The known claim entails it: the known claim's verdict (true -> Correct, false ->
  Incorrect). It contradicts it: a true known claim makes it Incorrect; a false one makes
  it Correct only when the text says the opposite ("is not"), never when it merely says
  something else (a swapped name or number): that is Insufficient.
- A related claim that neither entails nor contradicts: Insufficient.

Task rule (``combine``): talk around the claims (a greeting, an aside) is set aside when
anything else is said; Subjective claims, and predictions (Insufficient until they
happen), are set aside when any claim is checkable now.
Any Incorrect claim -> Incorrect; else every checkable claim Correct -> Correct; else
Insufficient. Only Subjective claims (besides talk) -> Subjective.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.schemas import ClaimVerdict, Evidence, Mark, TextVerdict

from .hinglish import gloss
from .knowledge import Match
from .opposites import EXTREMES
from .stance import Stance, asserts_all_of, left_out
from .subjectivity import Subjectivity
from .wording import words


@dataclass(frozen=True, slots=True)
class Thresholds:
    match: float = 0.6  # cosine similarity from which a known claim is evidence
    sure: float = 0.85  # similarity that counts as the same claim, fully
    strong: float = 0.9  # the knowledge base overrides an opinion cue
    # ... and a "will" or "should" cue, which generic facts use too ("antibiotics will
    # not cure a cold", "batteries should be drained").
    strong_weak_cue: float = 0.75
    # Without an NLI model nothing checks that a close claim says the same thing, so it
    # must be closer to count as agreeing (disagreement is read from the words).
    lexical_entails: float = 0.7
    # ... and closer still when most of its words are not the known claim's: the same
    # subject with something else said of it reads as similar as a loose paraphrase.
    lexical_other_entails: float = 0.8
    # ... and nearly the same sentence when one word stands in another's place.
    lexical_swap_entails: float = 0.85
    lexical_cap: int = 95  # confidence ceiling without an NLI model


DEFAULT_THRESHOLDS = Thresholds()


def _quote(text: str, limit: int = 160) -> str:
    text = text.strip()
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def evidence_of(match: Match) -> Evidence:
    entry = match.entry
    return Evidence(
        claim=entry.claim[:1000],
        verdict="true" if entry.verdict else "false",
        explanation=entry.explanation[:2000],
        sourceUrl=entry.source_url[:2048],
        sourceName=(entry.source_name or None) and entry.source_name[:200],
        similarity=round(max(-1.0, min(1.0, match.similarity)), 4),
    )


def _source(match: Match) -> str:
    entry = match.entry
    return f"{entry.source_name}, {entry.source_url}" if entry.source_name else entry.source_url


# Confidence is what a reader takes as "how often is this right": each kind of verdict
# says how often that kind was right on the development set (bench/eval.py's reliability
# table), drawn a little toward the middle as texts from outside are harder. Held back
# beside close evidence, an Insufficient is nearly always a fact the words could not
# confirm (right 9 of 166 times over the four sets, 0 of 1,666 written pairs: at 10 that
# band missed its midpoint on three sets of four); with no evidence at all (88%) the
# knowledge base may simply lack a common fact; matched claims and opinions were right
# every time.
UNSETTLED_CONFIDENCE = 5
NOTHING_FOUND_CONFIDENCE = 80
OPINION_CONFIDENCE = 95


def _match_strength(similarity: float, t: Thresholds) -> float:
    """0.6 at the match threshold rising to 1.0 at ``sure``: how surely it is that claim."""
    span = max(1e-6, t.sure - t.match)
    return 0.6 + 0.4 * max(0.0, min(1.0, (similarity - t.match) / span))


def settled_stance(text: str, match: Match, stance: Stance, t: Thresholds) -> Stance:
    """The stance as far as it settles anything: an agreement or a denial the words
    alone cannot vouch for at this closeness is neutral (the claim rule above)."""
    sim = match.similarity
    if stance.label == "entails" and (
        (stance.method == "lexical" and sim < t.lexical_entails)
        or (stance.conflict == "other" and sim < _other_threshold(match, text, t))
        or (stance.conflict == "swap" and sim < t.lexical_swap_entails)
        or stance.conflict == "unseen"
        # Saying more than a true claim ("all" where it says "some") is not made true;
        # saying less than a false one ("some" where it says "all") is not made false.
        or (stance.conflict == "stronger" and match.entry.verdict)
        or (stance.conflict in ("weaker", "subject") and not match.entry.verdict)
    ):
        stance = Stance("neutral", stance.probability, stance.conflict, stance.method)
    if (
        stance.is_opposite
        and not match.entry.verdict
        and stance.method != "nli"
        and _UNIVERSAL_DENIAL.search(gloss(text))
        and left_out(match.entry.claim, gloss(text))
    ):
        # "Einstein never won a Nobel Prize" against the false "Einstein won the Nobel
        # Prize for relativity": a denial of everything ("never", "not any") leaves out
        # what the false claim said; that the claim is false does not make it true.
        stance = Stance("neutral", stance.probability, "partial", stance.method)
    if (
        stance.conflict == "antonym"
        and not match.entry.verdict
        and stance.method != "nli"
        and EXTREMES & set(words(text))
    ):
        # "Mars is the largest planet" against the false "Mars is the smallest planet":
        # most things are neither extreme; the claim being false makes this no truer.
        stance = Stance("neutral", stance.probability, "contrary", stance.method)
    return stance


def claim_verdict(
    text: str,
    *,
    subjective: Subjectivity | None,
    belief: str | None,
    match: Match | None,
    stance: Stance | None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ClaimVerdict:
    t = thresholds
    sim = match.similarity if match else 0.0
    override = t.strong if subjective and subjective.kind == "opinion" else t.strong_weak_cue
    if subjective is not None and subjective.dated:
        override = float("inf")  # "next year's monsoon will …": no known fact settles it
    if subjective is not None and sim < override:
        if subjective.kind == "prediction":
            # A statement about a future event is checkable once it happens, however
            # sure or unsure its writer ("mark my words", "I bet"): not an opinion.
            what = "a guess about the future" if subjective.guess or belief else "about the future"
            cue = subjective.guess or belief or subjective.cue
            return ClaimVerdict(
                text=text,
                mark=Mark.INSUFFICIENT,
                reason=f"This is {what} (“{cue}”): it cannot be verified until it happens.",
                confidence=85,
            )
        kind = "an opinion" if subjective.kind == "opinion" else "advice"
        return ClaimVerdict(
            text=text,
            mark=Mark.SUBJECTIVE,
            reason=(
                f"This is {kind} (“{subjective.cue}”), a judgement that no evidence can "
                "settle as true or false."
            ),
            confidence=OPINION_CONFIDENCE if subjective.kind == "opinion" else 85,
        )
    if match is None or sim < t.match or stance is None:
        closest = (
            f" The closest known claim, {_quote(match.entry.claim)}, is only {sim:.2f} similar."
            if match
            else ""
        )
        if belief:
            return ClaimVerdict(
                text=text,
                mark=Mark.SUBJECTIVE,
                reason=f"A personal belief (“{belief}”) that no known fact-check covers." + closest,
                confidence=70,
            )
        return ClaimVerdict(
            text=text,
            mark=Mark.INSUFFICIENT,
            reason="No fact-check in the knowledge base covers this claim, so it cannot be "
            "verified." + closest,
            confidence=NOTHING_FOUND_CONFIDENCE,
        )
    evidence = evidence_of(match)
    entry = match.entry
    known = (
        f"passage {_quote(entry.claim)} of “{entry.source_name or entry.source_url}”"
        if entry.passage
        else f"known {'true' if entry.verdict else 'false'} claim {_quote(entry.claim)}"
    )
    if stance.method == "nli":
        confidence = round(100 * stance.probability * _match_strength(sim, t))
    else:
        # Word-level and learned agreement is right as often as its evidence is close
        # (bench/eval.py reliability table): 70 at the match threshold, 95 at "sure".
        confidence = min(t.lexical_cap, round(100 * (0.45 + 0.5 * _match_strength(sim, t))))
    stance = settled_stance(text, match, stance, t)
    if stance.label == "entails":
        mark = Mark.CORRECT if match.entry.verdict else Mark.INCORRECT
        lead = f"It matches the {known}"
    elif stance.label == "contradicts" and (match.entry.verdict or stance.is_opposite):
        mark = Mark.INCORRECT if match.entry.verdict else Mark.CORRECT
        lead = f"It contradicts the {known}"
    else:
        return ClaimVerdict(
            text=text,
            mark=Mark.INSUFFICIENT,
            reason=f"The closest evidence is the {known}, but {_why_unsettled(stance)} "
            f"(source: {_source(match)}).",
            confidence=UNSETTLED_CONFIDENCE,
            stance=stance.label,
            evidence=evidence,
        )
    # A passage is its own explanation: the reason quotes the sentence, not the passage.
    because = "" if entry.passage else f": {entry.explanation.rstrip('.')}"
    return ClaimVerdict(
        text=text,
        mark=mark,
        reason=f"{lead}{because} (source: {_source(match)}).",
        confidence=confidence,
        stance=stance.label,
        evidence=evidence,
    )


def _other_threshold(match: Match, text: str, t: Thresholds) -> float:
    """How close a text that says more than a known claim must be to agree with it.
    A text that says all a known claim says (one word aside) and names and counts
    nothing else asserts it, whatever talk it adds ("Sachin Tendulkar ne … 100 centuries
    banayi hai, legend hai bhai"): the plain lexical threshold. Otherwise closer: what
    it leaves out may be the claim ("The kiwi is a bird native to New Zealand" says
    nothing of "Kiwifruit are native to New Zealand")."""
    if asserts_all_of(match.entry.claim, text):
        return t.lexical_entails
    return t.lexical_other_entails


# A denial of every case, stronger than "not so": "never", "no one", "not … any".
_UNIVERSAL_DENIAL = re.compile(
    r"\b(?:never|nobody|no one|none|nothing|nowhere|not\s+(?:\w+\s+){0,2}(?:any|at all|ever)"
    r"|(?:don[’']?t|doesn[’']?t|didn[’']?t|do not|does not|did not)\s+(?:\w+\s+){0,2}any)\b",
    re.I,
)

_UNSETTLED = {
    "role": "the text gives the same things different roles",
    "quantifier": "the text claims more or less than it does",
    "stronger": "the text claims more than it does",
    "weaker": "the text claims less than it does",
    "other": "the text says something else about it",
    "swap": "the text has one word in place of another, which may or may not mean the same",
    "polarity": "a negation in the text may or may not reverse it",
    "names": "each names someone or something the other does not",
    "partial": "the text denies more than that claim says",
    "unseen": "the text has another word where it names something, and its capitals do "
    "not show whether that word is a name too",
    "contrary": "the text says the opposite extreme, which the known claim being false "
    "does not make true",
    "subject": "the text repeats only what the known false claim is about, not what it says of it",
}


def _why_unsettled(stance: Stance) -> str:
    if stance.conflict in _UNSETTLED:
        return f"{_UNSETTLED[stance.conflict]}, so it neither confirms nor contradicts it"
    if stance.label == "contradicts":
        return "it differs from the known false claim, which does not make it true"
    return "it neither confirms nor contradicts it"


def _gist(claim: ClaimVerdict) -> str:
    """What a claim's evidence says, in a few words, for the task's reason (the claim's
    own reason has the whole explanation)."""
    evidence = claim.evidence
    if evidence is None:
        return "no fact-check covers it"
    source = evidence.sourceName or evidence.sourceUrl
    fact_check = f"the {evidence.verdict} fact-check {_quote(evidence.claim, 120)} ({source})"
    if claim.mark is Mark.INSUFFICIENT:
        return f"the closest is {fact_check}, which does not settle it"
    verb = "matches" if claim.stance == "entails" else "contradicts"
    return f"{verb} {fact_check}"


def combine(
    claims: list[ClaimVerdict],
    *,
    dropped: int = 0,
    future: frozenset[int] = frozenset(),
    talk: frozenset[int] = frozenset(),
) -> TextVerdict:
    """The task's verdict from its claims' verdicts (the rule in the module docstring).
    ``future``: positions of claims about the future, set aside like opinions when the
    text states anything checkable now. ``talk``: positions of sentences that state
    nothing (a greeting, an aside), set aside when anything else is said."""
    if not claims:
        return TextVerdict(
            mark=Mark.INSUFFICIENT,
            reason="The text states no claim that could be checked.",
            confidence=100,
        )
    more = f" Only the first {len(claims)} sentences were checked." if dropped else ""
    said = [i for i in range(len(claims)) if i not in talk] or list(range(len(claims)))
    stated = [i for i in said if claims[i].mark is not Mark.SUBJECTIVE]
    checkable = [claims[i] for i in stated]
    now = [claims[i] for i in stated if i not in future]
    if now:
        checkable = now
    if len(claims) == 1:
        only = claims[0]
        return TextVerdict(
            mark=only.mark,
            reason=(only.reason + more)[:2000],
            confidence=only.confidence,
            claims=claims,
        )
    if not checkable:
        return TextVerdict(
            mark=Mark.SUBJECTIVE,
            reason=f"All {len(said)} sentences that say something are opinions, guesses or "
            "advice; none states a checkable fact." + more,
            confidence=min(claims[i].confidence for i in said),
            claims=claims,
        )
    wrong = [c for c in checkable if c.mark is Mark.INCORRECT]
    right = [c for c in checkable if c.mark is Mark.CORRECT]
    counted = f"{len(checkable)} checkable claim{'s' if len(checkable) > 1 else ''}"
    if wrong:
        worst = max(wrong, key=lambda c: c.confidence)
        mark, confidence = Mark.INCORRECT, worst.confidence
        reason = (
            f"{len(wrong)} of {counted} {'is' if len(wrong) == 1 else 'are'} incorrect: "
            f"{_quote(worst.text, 100)} {_gist(worst)}."
        )
    elif len(right) == len(checkable):
        mark, confidence = Mark.CORRECT, min(c.confidence for c in right)
        reason = (
            f"All {counted} are backed by fact-checks; for example "
            f"{_quote(right[0].text, 100)} {_gist(right[0])}."
        )
    else:
        unknown = [c for c in checkable if c.mark is Mark.INSUFFICIENT]
        mark, confidence = Mark.INSUFFICIENT, min(c.confidence for c in unknown)
        backed = (
            f"; {len(right)} {'is' if len(right) == 1 else 'are'} backed by fact-checks"
            if right
            else ""
        )
        reason = (
            unknown[0].reason
            if len(checkable) == 1
            else f"{len(unknown)} of {counted} cannot be verified, for example "
            f"{_quote(unknown[0].text, 100)}: {_gist(unknown[0])}{backed}."
        )
    return TextVerdict(
        mark=mark, reason=(reason + more)[:2000], confidence=confidence, claims=claims
    )
