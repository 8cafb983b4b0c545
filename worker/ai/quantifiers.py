"""Quantifiers and hedges in the word-level check: how much a claim says ("all", "only",
"some", "no more than") and whether a claim says more or less than a known one."""

from __future__ import annotations

import functools
import re
from typing import Literal

from .wording import NUMBER_WORDS, stem, words

# "quantifier": the claim says less than or otherwise than the known one; "stronger":
# it only says more; "weaker": it only says less; "": neither.
Shift = Literal["quantifier", "stronger", "weaker", ""]


# Quantifiers and hedges that change how much a claim says, by what they mean: a
# universal or exclusive one makes a claim strong, a partial one weak. "never" is a
# negation (above); "all the way" or "at all" quantify nothing.
_QUANTIFIER_MEANING = {
    # ("every" is left out: "every 90 minutes" is a frequency, not a scope.)
    **dict.fromkeys("all always completely entirely totally".split(), "all"),
    **dict.fromkeys("only solely exclusively merely".split(), "only"),
    **dict.fromkeys("some several".split(), "some"),
    **dict.fromkeys("most mostly mainly largely primarily usually often generally".split(),
                    "most"),
    **dict.fromkeys("sometimes occasionally rarely seldom".split(), "sometimes"),
    **dict.fromkeys("exactly precisely".split(), "exactly"),
    **dict.fromkeys("nearly almost".split(), "nearly"),
}  # fmt: skip
_STRONG = frozenset({"all", "only", "at most", "exactly"})
_DROPPABLE = frozenset({"all", "only"})
QUANTIFIER_STEMS = frozenset(stem(word) for word in _QUANTIFIER_MEANING)
_BOUNDS = {("no", "more", "than"): "at most", ("at", "most"): "at most"}
_NOT_QUANTIFYING = re.compile(
    r"\b(?:all the way|at all|after all|all over|all along"
    # A hedge on a name, not on the claim: "often called the highest navigable lake".
    r"|(?:often|usually|generally|commonly|sometimes|mostly)\s+(?:called|listed|considered"
    r"|described|regarded|known|referred|cited|said|thought|believed|named|seen))\b",
    re.I,
)


_ONLY_AMOUNT = frozenset("only just merely".split())


def _is_count(token: str) -> bool:
    """A number other than one: "3", "ten", "8.3"."""
    ordinal = NUMBER_WORDS.get(token, "x")[-2:] in ("st", "nd", "rd", "th")
    if token in ("one", "1", "once") or ordinal:
        return False
    return token[:1].isdigit() or token in NUMBER_WORDS


def _quantifiers(tokens: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(strong, weak) quantifiers of a sentence, by meaning."""
    return _quantifiers_of(tuple(tokens))


# The same known claims and claims are weighed again and again (each claim against
# several candidates, the same candidates for many claims): remember their reading.
@functools.lru_cache(maxsize=16384)
def _quantifiers_of(sentence: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    tokens = words(_NOT_QUANTIFYING.sub(" ", " ".join(sentence)))
    # "only three seconds" states the amount "three seconds" does, with a tone; the
    # amount is what is true or false ("just ten percent", "only use 10 percent"). "only
    # one" stays: it says no other ("only one woman has won two Nobel Prizes").
    amounts = {
        i
        for i, t in enumerate(tokens)
        if t in _ONLY_AMOUNT and any(_is_count(n) for n in tokens[i + 1 : i + 3])
    }
    found = {
        _QUANTIFIER_MEANING[t]
        for i, t in enumerate(tokens)
        if t in _QUANTIFIER_MEANING and i not in amounts
    }
    for bound, meaning in _BOUNDS.items():
        n = len(bound)
        if any(tuple(tokens[i : i + n]) == bound for i in range(len(tokens) - n + 1)):
            found.add(meaning)
    return frozenset(found & _STRONG), frozenset(found - _STRONG)


def quantifier_shift(premise: list[str], hypothesis: list[str]) -> Shift:
    """ "quantifier" when the claim says less than or otherwise than the known one
    ("some snakes are venomous" is not the false "all snakes are venomous"), "stronger"
    when it only says more ("all mushrooms are poisonous" against the true "some
    mushrooms are poisonous", "completely" added to a myth), "" when neither.
    """
    known_strong, known_weak = _quantifiers(premise)
    claim_strong, claim_weak = _quantifiers(hypothesis)
    if (known_strong, known_weak) == (claim_strong, claim_weak):
        return ""
    if claim_strong >= known_strong and known_weak >= claim_weak:
        return "stronger"
    if claim_strong <= known_strong and not known_weak and claim_weak:
        return "weaker"
    if not claim_strong | claim_weak and not known_weak and known_strong <= _DROPPABLE:
        # The plain "X are P" says less than "all X are P" or "only X are P". Not so
        # for "exactly at" or "no more than": what replaces them ("near", "about") may
        # say otherwise.
        return "weaker"
    return "quantifier"
