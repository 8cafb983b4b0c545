"""Names in the word-level check: which capitalised words name someone or something, and
whether two sentences put one name in another's place ("Sydney is …" / "Canberra is
…"), name things the other does not, or lose a name where their capitals cannot show it.
"""

from __future__ import annotations

import re

from .recase import common_word
from .wording import HONORIFICS, STOPWORDS, headline_case, name_stem, stem

_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)*")
# Nationality adjectives name no place of their own ("the French capital" is Paris).
_DEMONYM = re.compile(r"(?:ese|ian|ish|ch|an)$|^(?:greek|thai|swiss|arab|arabic)$")
# Months and weekdays are dates, compared as such, not names.
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


CALENDAR_STEMS = frozenset(stem(w) for w in _CALENDAR)


def names_in(sentence: str) -> set[str]:
    """Capitalised words after the first word (places, people, bodies), stemmed."""
    found = _CAPITALISED.findall(sentence)
    first = _CAPITALISED.match(sentence.lstrip("\"'“‘("))
    if first:
        found.remove(first.group(0))
    return {
        name_stem(w.lower())
        for w in found
        if not _DEMONYM.search(w.lower())
        and w.lower() not in _CALENDAR
        and w.lower() not in HONORIFICS
    }


def capitalised(sentence: str) -> set[str]:
    return {
        name_stem(w.lower()) for w in _CAPITALISED.findall(sentence) if w.lower() not in HONORIFICS
    }


# Content words (other than names) by which two sentences may differ and still be
# "the same sentence with one name or one negation changed".
SAME_REST = 1


# Content words two sentences may differ by when a name fills the same slot in both
# ("took place in Paris" / "were held in Athens").
_SLOT_REST = 3
# Lower-case words inside names ("Leonardo da Vinci", "Vincent van Gogh").
_NAME_PARTICLES = frozenset("da de di del della van von der den du la le al bin ibn".split())
_NAME_RUN = re.compile(
    r"[A-Z][\w'-]*(?:\s+(?:(?:da|de|di|del|della|van|von|der|den|du|la|le|al|bin|ibn)\s+)?"
    r"[A-Z][\w'-]*)*"
)


def _slots(sentence: str, names: set[str]) -> dict[str, str]:
    """For each name, the word before its run of capitalised words (its slot: "in" of
    "in Paris", "by" of "by Leonardo da Vinci"); "" at the start of the sentence."""
    slots: dict[str, str] = {}
    for run in _NAME_RUN.finditer(sentence):
        before = re.findall(r"[\w']+", sentence[: run.start()])
        for word in re.findall(r"[\w'-]+", run.group(0)):
            key = name_stem(word.lower())
            if key in names:
                slots.setdefault(key, before[-1].lower() if before else "")
    return slots


def _run_mates(sentence: str, shared: set[str]) -> set[str]:
    """Names in the same run as a name both sentences have: "Maharaj" of "Shivaji
    Maharaj" extends a shared name, it does not replace one."""
    mates: set[str] = set()
    for run in _NAME_RUN.finditer(sentence):
        keys = {name_stem(w.lower()) for w in re.findall(r"[\w'-]+", run.group(0))}
        if keys & shared:
            mates |= keys
    return mates


def swapped_name(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """One name put in another's place: "Sydney is …" against "Canberra is …". Where
    the rest of the two sentences is nearly the same, or the two names fill the same
    slot ("in Paris" / "in Athens"); a sentence that says more or other things may
    name more without naming anything wrongly ("Apollo 11 landed the first humans on
    the Moon" against "Neil Armstrong was the first to walk on it").
    """
    if headline_case(premise) or headline_case(hypothesis):
        return False
    names_known, names_claim = capitalised(premise), capitalised(hypothesis)
    shared = names_known & names_claim
    # A name both sentences have replaces nothing, though a synonym may have read its
    # content word otherwise ("People's Republic": "people" is read as "humans").
    extra_names = names_in(hypothesis) - known - _run_mates(hypothesis, shared) - shared
    missing_names = names_in(premise) - claim - _run_mates(premise, shared) - shared
    # A name the text writes in lower case is no difference ("the solar system").
    rest = ((claim - names_claim) ^ (known - names_known)) - (names_known & claim)
    rest -= _NAME_PARTICLES
    if extra_names and missing_names:
        if len(rest) <= SAME_REST:
            return True
        ours, theirs = _slots(hypothesis, extra_names), _slots(premise, missing_names)
        same_slot = set(ours.values()) & set(theirs.values()) - {""}
        return bool(same_slot) and len(rest) <= _SLOT_REST
    if len(rest) > SAME_REST:
        return False
    extra, missing = claim - known, known - claim
    if len(extra) != 1 or len(missing) != 1:
        return False
    return extra <= names_claim and missing <= names_known and not _one_place(*extra, *missing)


def _one_place(a: str, b: str) -> bool:
    """A country and its people's adjective ("Britain" / "British", "India" / "Indian"):
    one place, not two names."""
    if not (_DEMONYM.search(a) or _DEMONYM.search(b)):
        return False
    shorter = min(len(a), len(b))
    return shorter >= 4 and a[: max(4, shorter - 3)] == b[: max(4, shorter - 3)]


def name_unseen(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """A name of the known claim is missing from a text whose capitals cannot say
    whether the word in its place is a name too (a headline, or all lower case): "The
    Official Language Of Denmark Is Norwegian" against "Danish is …" is another
    language, not a synonym; words cannot tell, so neither agreement nor the opposite."""
    if headline_case(premise) or not (
        headline_case(hypothesis) or hypothesis == hypothesis.lower()
    ):
        return False
    names = capitalised(premise) - STOPWORDS - _NAME_PARTICLES - CALENDAR_STEMS
    first = _CAPITALISED.match(premise.lstrip("\"'“‘("))
    if first and common_word(first.group(0).lower()):
        # Its first word is capitalised as a first word, not as a name ("Everyone …").
        names.discard(name_stem(first.group(0).lower()))
    kept = names & claim
    return bool((names - claim - _run_mates(premise, kept)) & known)


def names_differ(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """Each sentence names something (a person, a place) the other does not."""
    if headline_case(premise) or headline_case(hypothesis):
        return False
    # A known claim opens with its subject, often a name ("Michelangelo painted …"):
    # capitalised words count from the first.
    shared = capitalised(premise) & capitalised(hypothesis)
    extra = names_in(hypothesis) - known - _run_mates(hypothesis, shared) - _NAME_PARTICLES - shared
    missing = (
        capitalised(premise)
        - claim
        - STOPWORDS
        - _run_mates(premise, shared)
        - _NAME_PARTICLES
        - shared
    )
    places = {(a, b) for a in extra for b in missing if _one_place(a, b)}
    extra -= {a for a, _ in places}
    missing -= {b for _, b in places}
    return bool(extra and missing)
