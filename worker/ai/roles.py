"""Who does what to whom, read from word order: "the Sun orbits the Earth" against "the
Earth orbits the Sun" (``role_swap``, one of the word-level check's tests)."""

from __future__ import annotations

import re

from .opposites import antonym_flip
from .wording import CLAUSE_BREAK, STOPWORDS, stem, words


def _content_order(tokens: list[str], numbers: frozenset[str] = frozenset()) -> list[str]:
    """The content words' stems in order; a word right after one of ``numbers`` is that
    number's unit ("9.58 seconds"), which goes wherever its number goes, as numbers do."""
    seen: list[str] = []
    for before, token in zip(["", *tokens], tokens, strict=False):
        if before in numbers:
            continue
        if token not in STOPWORDS and token != CLAUSE_BREAK and not token[0].isdigit():
            key = stem(token)
            if key not in seen:
                seen.append(key)
    return seen


# "was discovered by", and after a comma "Penicillin, discovered by Fleming, …".
_PASSIVE = re.compile(
    r"(?:\b(?:is|are|was|were|been|being|be)\s+|,\s*)(?:\w+ly\s+)?\w+(?:ed|en|wn|ht|lt|de|un)"
    r"\s+by\b",
    re.I,
)


_COPULA = re.compile(r"\b(?:is|are|was|were|be|been)\b", re.I)


def role_swap(premise: str, hypothesis: str) -> bool:
    """Two entities trade places around a relation: "the Sun orbits the Earth" against
    "the Earth orbits the Sun", "the Moon is smaller than Earth" against "Earth is
    bigger than the Moon". Only sentences made of the same content words (two at most
    differ) are compared. The relation is a word both sentences have between the two
    (or two opposite words there); a mere reordering with nothing between them in one
    of the sentences ("Jupiter is the largest planet" / "the largest planet is
    Jupiter") is not a swap, nor is one sentence in the passive voice ("penicillin was
    discovered by Fleming").

    Word order stands in for a dependency parse: no parser model can be installed
    offline (spaCy's English models are not on PyPI), and an NLI model, where
    configured, reads roles itself.
    """
    if bool(_PASSIVE.search(premise)) != bool(_PASSIVE.search(hypothesis)):
        return False
    # "Australia's capital is Sydney" / "Sydney is the capital of Australia": a copula
    # links two names of one thing either way round; only a comparison has roles.
    if all(_COPULA.search(x) and " than " not in f" {x.lower()} " for x in (premise, hypothesis)):
        return False
    claim, known = words(hypothesis), words(premise)
    # "the 9.58-second record" / "a record of 9.58 seconds": the same quantity, not a role.
    shared_numbers = frozenset(t for t in claim if t[0].isdigit()) & frozenset(
        t for t in known if t[0].isdigit()
    )
    ours, theirs = _content_order(claim, shared_numbers), _content_order(known, shared_numbers)
    if len(set(ours) ^ set(theirs)) > 2:
        return False  # not the same words reordered: something else is said
    shared = [w for w in theirs if w in ours]
    where_ours = {w: i for i, w in enumerate(ours)}
    where_theirs = {w: i for i, w in enumerate(theirs)}
    for i, a in enumerate(shared):
        for b in shared[i + 1 :]:
            if where_ours[a] < where_ours[b]:
                continue  # the same order in both
            between_theirs = set(theirs[where_theirs[a] + 1 : where_theirs[b]])
            between_ours = set(ours[where_ours[b] + 1 : where_ours[a]])
            if between_theirs & between_ours or (
                between_theirs and between_ours and antonym_flip(between_ours, between_theirs)
            ):
                return True
    return False
