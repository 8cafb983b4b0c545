"""Negation in the word-level check: which content words a negation governs, whether a
sentence as a whole says no, and whether one sentence negates what the other affirms.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from itertools import pairwise
from types import MappingProxyType
from typing import Literal

from .names import SAME_REST
from .wording import CLAUSE_BREAK, STOPWORDS, stem

# "negation": one sentence negates what the other affirms; "polarity": only the count of
# negations differs (a sign, not proof); "": neither.
Flip = Literal["negation", "polarity", ""]

# A negation word negates the next content word ("does not *boil*"); a debunking word
# negates everything after it ("it is a myth that *bats* are *blind*").
_NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor nowhere hardly scarcely".split()
)
# "No mountain is higher than Everest" says Everest is highest: a negative determiner
# turns a whole sentence around, so it counts only against the same words.
_NEGATIVE_DETERMINERS = frozenset("no none nobody nothing nowhere neither".split())
# Words that deny without a negation word: "went his career without losing" is "never
# lost", "a lack of vitamin C" is "not getting enough vitamin C", "failed to replicate"
# is "did not hold up" (but "failed maths" is "flunked"). Where either sentence has one,
# a negation the other lacks may say the same thing.
_IMPLICIT_NEGATIVES = frozenset(
    "without lack lacks lacking lacked absent absence avoid avoids avoided unable yet "
    "different differ differs instead except".split()
)
_FAILING = frozenset("fail fails failed failing".split())
# "legumes rather than nuts": what follows is denied.
_DENYING_PAIRS = frozenset({("rather", "than"), ("instead", "of")})
_DEBUNKING = frozenset("false untrue myth misconception hoax".split())
# "irrational" is "not rational", "infinitely" is "not finitely".
_NEGATING_PREFIXES = ("non", "dis", "un", "in", "ir", "im", "il")


# Idioms with a negation word that deny nothing: "travels through a vacuum no problem",
# "no doubt", "not only … but also".
_IDIOMS = frozenset(
    {("no", w) for w in "problem problems doubt wonder joke kidding matter cap lie".split()}
    | {("not", "only"), ("nothing", "but"), ("not", "out")}  # "175 not out": a batter's score
)


def _without_idioms(tokens: tuple[str, ...]) -> tuple[str, ...]:
    if not any(t in _NEGATIONS for t in tokens):
        return tokens
    kept: list[str] = []
    skip = False
    for token, after in zip(tokens, [*tokens[1:], ""], strict=True):
        if skip:
            skip = False
        elif (token, after) in _IDIOMS:
            skip = True
        else:
            kept.append(token)
    return tuple(kept)


_COGNITION = frozenset(
    "know knew known realize realise realized realised notice noticed expect expected "
    "remember remembered understand understood".split()
)


def _negated(tokens: list[str]) -> Mapping[str, bool]:
    """Each content word's stem, and whether a negation governs it: a negation reaches
    to the end of its clause ("does not have a single *blood vessel*, …")."""
    return _negated_of(tuple(tokens))


# Read once per sentence: a claim meets several known claims, a known claim many claims.
@functools.lru_cache(maxsize=16384)
def _negated_of(tokens: tuple[str, ...]) -> Mapping[str, bool]:
    tokens = _without_idioms(tokens)
    found: dict[str, bool] = {}
    negating = everything = False
    for token, after in zip(tokens, [*tokens[1:], ""][: len(tokens)], strict=True):
        if token == CLAUSE_BREAK:
            negating = False
        elif token in _DEBUNKING and after == "that":
            everything = True
        elif token in _NEGATIONS and after in _COGNITION:
            # "didn't know that water boils at 100 °C": not knowing denies nothing.
            found[stem(after)] = True
        elif token in _NEGATIONS or (token, after) in _DENYING_PAIRS:
            negating = True
        elif token not in STOPWORDS and not token[0].isdigit():
            key = stem(token)
            found[key] = found.get(key, False) or negating or everything
    return MappingProxyType(found)


def _polarity(tokens: list[str]) -> int:
    """Whether a sentence as a whole says no: an odd count of negations, a debunking
    ("it is a myth that …") counting as one, a "didn't know" as none."""
    tokens = list(_without_idioms(tuple(tokens)))
    debunked = sum(t in _DEBUNKING and after == "that" for t, after in pairwise(tokens))
    unknowing = sum(t in _NEGATIONS and after in _COGNITION for t, after in pairwise(tokens))
    return (sum(t in _NEGATIONS for t in tokens) + debunked - unknowing) % 2


def _implicitly_negative(tokens: list[str]) -> bool:
    return any(
        t in _IMPLICIT_NEGATIVES or (t in _FAILING and after == "to")
        for t, after in pairwise(tokens)
    ) or bool(tokens and tokens[-1] in _IMPLICIT_NEGATIVES)


def negation_flip(claim_clauses: list[str], known_clauses: list[str]) -> Flip:
    """ "negation" when one sentence negates what the other affirms, decided on a word
    both share ("does not *cause*" against "*causes*"; a word with a negating prefix
    counts as negated: "irrational" against "rational"). "polarity" when only the count
    of negations differs, on words they do not share ("never goes off" against "stays
    edible", but also "cannot see" against "is visible"): a sign, not proof.
    """
    ours, theirs = _negated(claim_clauses), _negated(known_clauses)
    for a, b in ((ours, theirs), (theirs, ours)):
        for word in a:
            if not word.startswith(_NEGATING_PREFIXES):
                continue  # most words: one C call instead of one per prefix
            for prefix in _NEGATING_PREFIXES:
                if word.startswith(prefix) and word[len(prefix) :] in b:
                    return "negation"
    shared = ours.keys() & theirs.keys()
    if any(ours[w] or theirs[w] for w in shared):
        if not any(ours[w] != theirs[w] for w in shared):
            return ""
        # Both sentences negative (or both not), yet a shared word negated in one only:
        # the negations sit in different places ("there is no sound in a vacuum" /
        # "sound cannot travel through a vacuum"), which words alone cannot weigh.
        if _polarity(claim_clauses) == _polarity(known_clauses):
            return "polarity"
        determiners = {t for t in claim_clauses + known_clauses if t in _NEGATIVE_DETERMINERS}
        if determiners and len(ours.keys() ^ theirs.keys()) > SAME_REST:
            return "polarity"
        if _implicitly_negative(claim_clauses) or _implicitly_negative(known_clauses):
            return "polarity"
        return "negation"
    return "polarity" if _polarity(claim_clauses) != _polarity(known_clauses) else ""
