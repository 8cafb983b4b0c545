"""Verdict logic with controlled scores: every branch of the claim rule and the task rule."""

# ruff: noqa: E501 (tables of test sentences read best one per line)

from __future__ import annotations

import pytest

from shared.knowledge import KbClaim
from shared.schemas import ClaimVerdict, Mark
from worker.ai.knowledge import Match
from worker.ai.stance import LexicalStance, Stance
from worker.ai.subjectivity import Subjectivity
from worker.ai.verdicts import Thresholds, claim_verdict, combine

TRUE = KbClaim(1, "Water boils at 100 degrees Celsius at sea level.", True,
               "At standard pressure water boils at 100 °C.", "https://en.wikipedia.org/wiki/Boiling_point", "Wikipedia")  # fmt: skip
FALSE = KbClaim(2, "The Great Wall of China is visible from space.", False,
                "It is far too narrow to see from orbit.", "https://en.wikipedia.org/wiki/Great_Wall_of_China", None)  # fmt: skip
SURE_ENTAILS = Stance("entails", 0.95, "", "nli")
T = Thresholds(match=0.6, sure=0.85, strong=0.9, lexical_cap=75)


def verdict(
    entry: KbClaim | None = TRUE,
    similarity: float = 0.9,
    stance: Stance | None = SURE_ENTAILS,
    subjective: Subjectivity | None = None,
    belief: str | None = None,
) -> ClaimVerdict:
    return claim_verdict(
        "the claim",
        subjective=subjective,
        belief=belief,
        match=Match(entry, similarity) if entry else None,
        stance=stance,
        thresholds=T,
    )


@pytest.mark.parametrize(
    ("entry", "stance", "mark"),
    [
        (TRUE, Stance("entails", 0.95, "", "nli"), Mark.CORRECT),
        (FALSE, Stance("entails", 0.95, "", "nli"), Mark.INCORRECT),
        (TRUE, Stance("contradicts", 0.95, "negation", "nli"), Mark.INCORRECT),
        (TRUE, Stance("contradicts", 0.95, "name", "nli"), Mark.INCORRECT),
        (FALSE, Stance("contradicts", 0.95, "negation", "nli"), Mark.CORRECT),
        (FALSE, Stance("contradicts", 0.95, "", "nli"), Mark.CORRECT),
        # Saying something else than a false claim does not make it true.
        (FALSE, Stance("contradicts", 0.95, "number", "nli"), Mark.INSUFFICIENT),
        (FALSE, Stance("contradicts", 0.95, "name", "nli"), Mark.INSUFFICIENT),
        (TRUE, Stance("neutral", 0.95, "", "nli"), Mark.INSUFFICIENT),
    ],
)
def test_stance_and_known_verdict_give_the_mark(entry: KbClaim, stance: Stance, mark: Mark) -> None:
    result = verdict(entry, 0.9, stance)
    assert result.mark is mark
    assert result.stance == stance.label
    assert result.evidence is not None and result.evidence.claim == entry.claim
    assert entry.source_url in result.reason  # the reason names its source


def test_the_reason_cites_the_evidence_and_its_explanation() -> None:
    result = verdict(TRUE, 0.9, Stance("contradicts", 0.9, "negation", "nli"))
    assert "contradicts the known true claim “Water boils" in result.reason
    assert "At standard pressure water boils at 100 °C" in result.reason
    assert "Wikipedia, https://en.wikipedia.org/wiki/Boiling_point" in result.reason
    assert result.evidence is not None
    assert (result.evidence.verdict, result.evidence.sourceName) == ("true", "Wikipedia")


def test_no_evidence_is_insufficient_never_a_guess() -> None:
    assert verdict(None, stance=None).mark is Mark.INSUFFICIENT
    far = verdict(TRUE, 0.45, stance=None)
    assert far.mark is Mark.INSUFFICIENT
    assert "0.45 similar" in far.reason and far.evidence is None
    assert verdict(TRUE, 0.59, Stance("entails", 0.99, "", "nli")).mark is Mark.INSUFFICIENT


def test_a_belief_without_evidence_is_subjective_with_evidence_it_is_checked() -> None:
    assert verdict(None, stance=None, belief="I think").mark is Mark.SUBJECTIVE
    assert verdict(FALSE, 0.9, belief="I think").mark is Mark.INCORRECT


def test_opinions_are_subjective_unless_the_knowledge_base_holds_that_very_claim() -> None:
    cue = Subjectivity("opinion", "best")
    assert verdict(TRUE, 0.8, subjective=cue).mark is Mark.SUBJECTIVE
    assert "“best”" in verdict(TRUE, 0.8, subjective=cue).reason
    assert verdict(TRUE, 0.95, subjective=cue).mark is Mark.CORRECT


def test_confidence_grows_with_similarity_and_stance_probability() -> None:
    nli = Stance("entails", 0.9, "", "nli")
    low, high = verdict(TRUE, 0.62, nli), verdict(TRUE, 0.84, nli)
    assert low.confidence < high.confidence <= 90
    assert verdict(TRUE, 0.9, Stance("entails", 0.6, "", "nli")).confidence == 60


def test_without_an_nli_model_the_reason_says_so_and_confidence_is_capped() -> None:
    lexical = verdict(TRUE, 0.99, Stance("entails", 0.99, "", "lexical"))
    assert lexical.confidence == T.lexical_cap
    assert "NLI" not in lexical.reason  # the method says it once, for the whole result
    assert "NLI" not in verdict(TRUE, 0.99).reason


def _claim(mark: Mark, confidence: int = 80, text: str = "a claim") -> ClaimVerdict:
    return ClaimVerdict(
        text=text, mark=mark, reason=f"{mark.value} because.", confidence=confidence
    )


C, X, N, S = Mark.CORRECT, Mark.INCORRECT, Mark.INSUFFICIENT, Mark.SUBJECTIVE


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        ([C], C), ([X], X), ([N], N), ([S], S),
        ([C, C], C), ([C, S], C), ([S, S], S),
        ([C, X], X), ([X, N, S], X), ([C, N], N), ([N, S], N), ([N, N], N),
    ],
)  # fmt: skip
def test_task_rule(marks: list[Mark], expected: Mark) -> None:
    claims = [_claim(m, 70 + i) for i, m in enumerate(marks)]
    result = combine(claims)
    assert result.mark is expected
    assert result.claims == claims
    assert 0 <= result.confidence <= 100 and result.reason


def test_task_reason_names_the_incorrect_claim() -> None:
    result = combine([_claim(C), _claim(X, 90, "The Great Wall is visible from space.")])
    assert "1 of 2 checkable claims is incorrect" in result.reason
    assert "The Great Wall is visible from space." in result.reason
    assert result.confidence == 90


def test_no_claims_and_dropped_claims() -> None:
    assert combine([]).mark is Mark.INSUFFICIENT
    assert "first 1 sentences" in combine([_claim(C)], dropped=3).reason


@pytest.mark.parametrize(
    ("entry", "similarity", "stance", "mark"),
    [
        # Saying more than a true claim ("all" where it says "some") is not made true;
        # saying more than a false one is still false.
        (TRUE, 0.9, Stance("entails", 0.7, "stronger", "lexical"), Mark.INSUFFICIENT),
        (FALSE, 0.9, Stance("entails", 0.7, "stronger", "lexical"), Mark.INCORRECT),
        # Word-level agreement needs closeness, more so when words differ.
        (TRUE, 0.75, Stance("entails", 0.6, "other", "lexical"), Mark.INSUFFICIENT),
        (TRUE, 0.9, Stance("entails", 0.6, "other", "lexical"), Mark.CORRECT),
        (FALSE, 0.8, Stance("entails", 0.65, "swap", "lexical"), Mark.INSUFFICIENT),
        (FALSE, 0.95, Stance("entails", 0.65, "swap", "lexical"), Mark.INCORRECT),
        # Unsure relations never give a mark.
        (TRUE, 0.95, Stance("neutral", 0.7, "role", "lexical"), Mark.INSUFFICIENT),
        (FALSE, 0.95, Stance("neutral", 0.7, "quantifier", "lexical"), Mark.INSUFFICIENT),
        (TRUE, 0.95, Stance("neutral", 0.6, "polarity", "lexical"), Mark.INSUFFICIENT),
        # A name replaced where capitals cannot show whether the new word is one.
        (TRUE, 0.99, Stance("entails", 0.65, "unseen", "lexical"), Mark.INSUFFICIENT),
        (FALSE, 0.99, Stance("entails", 0.65, "unseen", "lexical"), Mark.INSUFFICIENT),
    ],
)
def test_never_the_opposite_mark_when_unsure(
    entry: KbClaim, similarity: float, stance: Stance, mark: Mark
) -> None:
    found = verdict(entry, similarity, stance)
    assert found.mark is mark, found.reason
    if mark is Mark.INSUFFICIENT:
        assert "neither confirms nor contradicts" in found.reason


def test_a_prediction_is_insufficient_however_sure_its_writer() -> None:
    plain = verdict(None, stance=None, subjective=Subjectivity("prediction", "will"))
    assert plain.mark is Mark.INSUFFICIENT
    assert "cannot be verified until it happens" in plain.reason
    guess = Subjectivity("prediction", "will", guess="mark my words")
    guessed = verdict(None, stance=None, subjective=guess)
    assert guessed.mark is Mark.INSUFFICIENT
    assert "a guess about the future (“mark my words”)" in guessed.reason
    believed = verdict(
        None, stance=None, subjective=Subjectivity("prediction", "will"), belief="I bet"
    )
    assert believed.mark is Mark.INSUFFICIENT


def test_the_task_reason_sums_up_without_repeating_claim_reasons() -> None:
    wrong = verdict(TRUE, 0.95, Stance("contradicts", 0.9, "negation", "nli"))
    right = verdict(FALSE, 0.95, Stance("contradicts", 0.9, "negation", "nli"))
    task = combine([right, wrong])
    assert task.mark is Mark.INCORRECT
    assert wrong.reason not in task.reason
    assert "contradicts the true fact-check" in task.reason and TRUE.claim in task.reason


@pytest.mark.parametrize(
    ("false_claim", "text", "mark"),
    [
        # The opposite extreme of a false claim is not made true by its falsehood ...
        ("Mars is the smallest planet in the Solar System.",
         "Mars is the largest planet in the Solar System.", Mark.INSUFFICIENT),
        # ... but a plain opposite of a false claim is still its denial.
        ("Antarctica is a hot desert.", "Antarctica is a cold desert.", Mark.CORRECT),
    ],
)  # fmt: skip
def test_the_opposite_extreme_of_a_false_claim_is_not_made_true(
    false_claim: str, text: str, mark: Mark
) -> None:
    known = KbClaim(3, false_claim, False, "See the source.", "https://en.wikipedia.org/wiki/Planet", None)  # fmt: skip
    stance = LexicalStance().stance(known.claim, text)
    assert (stance.label, stance.conflict) == ("contradicts", "antonym")
    found = claim_verdict(
        text, subjective=None, belief=None, match=Match(known, 0.95), stance=stance, thresholds=T
    )
    assert found.mark is mark
    if mark is Mark.INSUFFICIENT:
        assert "opposite extreme" in found.reason


SACHIN = KbClaim(3, "Sachin Tendulkar scored 100 international centuries.", True,
                 "He is the only player with 100 international centuries.", "https://en.wikipedia.org/wiki/Sachin_Tendulkar", "Wikipedia")  # fmt: skip
KIWIFRUIT = KbClaim(5, "Kiwifruit are native to New Zealand.", False,
                    "Kiwifruit come from China.", "https://en.wikipedia.org/wiki/Kiwifruit", "Wikipedia")  # fmt: skip
CHOLERA = KbClaim(6, "Cholera is caused by the bacterium Vibrio cholerae.", True,
                  "Vibrio cholerae causes cholera.", "https://en.wikipedia.org/wiki/Cholera", "Wikipedia")  # fmt: skip
AMMAN = KbClaim(4, "Amman is the capital of Jordan.", True,
                "Amman is Jordan's capital and largest city.", "https://en.wikipedia.org/wiki/Amman", "Wikipedia")  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "text", "mark"),
    [
        # Everything the true claim says, and only talk besides: it asserts the claim.
        (
            SACHIN,
            "Sachin Tendulkar ne international cricket mein 100 centuries banayi hai, legend hai bhai",
            Mark.CORRECT,
        ),
        # ... not when it counts something else, or puts another name in the claim's.
        (
            SACHIN,
            "Sachin Tendulkar scored 100 international centuries in 1998, legend hai bhai",
            Mark.INSUFFICIENT,
        ),
        (AMMAN, "petra is the capital of jordan right?? thats what i learned", Mark.INSUFFICIENT),
        (
            AMMAN,
            "tunisias capital is sfax bro, amman is the capital of jordan tho",
            Mark.INSUFFICIENT,
        ),
        # The same for a myth; a truth about a namesake says none of it.
        (
            FALSE,
            "The Great Wall of China is visible from space if you squint, lol, bro swears",
            Mark.INCORRECT,
        ),
        (KIWIFRUIT, "The kiwi is a flightless bird native to New Zealand.", Mark.INSUFFICIENT),
        # ... nor when it speaks of another thing first, whose name its capitals hide.
        (CHOLERA, "Black Death Traced To Cholera Bacterium Vibrio Cholerae", Mark.INSUFFICIENT),
    ],
)
def test_a_text_that_says_all_of_a_known_claim_asserts_it(
    entry: KbClaim, text: str, mark: Mark
) -> None:
    found = claim_verdict(
        text,
        subjective=None,
        belief=None,
        match=Match(entry, 0.75),
        stance=Stance("entails", 0.6, "other", "lexical"),
        thresholds=Thresholds(),
    )
    assert found.mark is mark, found.reason


@pytest.mark.parametrize(
    "text",
    [
        "The European Union has never won a Nobel Prize.",
        # "kabhi … nahi" is "never": the same denial of everything, in Hinglish.
        "EU ko kabhi Nobel Peace Prize nahi mila",
    ],
)
def test_a_denial_of_everything_is_not_made_true_by_a_false_claim_it_leaves_out(
    text: str,
) -> None:
    """ "… never won a Nobel Prize" against the false "The Nobel Peace Prize is awarded
    by the United Nations": that the claim is false does not make the denial true."""
    known = KbClaim(7, "The Nobel Peace Prize is awarded by the United Nations.", False,
                    "The Norwegian Nobel Committee awards it.", "https://en.wikipedia.org/wiki/Nobel_Peace_Prize", "Wikipedia")  # fmt: skip
    stance = Stance("contradicts", 0.75, "negation", "lexical")
    found = claim_verdict(
        text, subjective=None, belief=None, match=Match(known, 0.9), stance=stance, thresholds=T
    )
    assert found.mark is Mark.INSUFFICIENT, found.reason
    assert "denies more" in found.reason
