"""Does a known claim (the premise) entail or contradict the text's claim (hypothesis)?

``nli.NliStance`` asks an MNLI-style sequence classifier (any id or local path). Where
none is configured, ``LexicalStance`` compares the two sentences word by word — negation,
antonyms, numbers and swapped names — and every verdict built on it says so and carries
a lower confidence: it cannot follow a paraphrase the way an NLI model does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, Protocol

from .quantities import (
    APPROXIMATE,
    NOTATION,
    counted_text,
    identifiers,
    numbers,
    numbers_conflict,
)
from .wording import (
    CLAUSE_BREAK,
    NUMBER_WORDS,
    STOPWORDS,
    content_stems,
    headline_case,
    stem,
    words,
)

log = logging.getLogger(__name__)

Label = Literal["entails", "contradicts", "neutral"]
# How a stance was decided: an NLI model, the learned head, or the word-level check.
Method = Literal["nli", "learned", "lexical"]
# Why the two sentences disagree: a flipped polarity ("is" / "is not") makes the claim
# the opposite of the known one; a swapped name or number only makes it different.
# Why they are not the same claim although their words are: two entities trade roles
# ("A orbits B" / "B orbits A") or a quantifier changes its scope ("all" / "some").
# "stronger" marks a claim that only adds a strong quantifier to the known one: as
# false as a false known claim, but not made true by a true one.
# "other": the claim's own words are mostly not the known claim's (same subject,
# something else said of it); "polarity": a negation, but on no word both share;
# "names": each sentence names someone or something the other does not; "partial": a
# denial of only some of a false known claim's content (verdicts.py); "unseen": a name
# of the known claim has a word in its place that the text's capitals cannot show to be
# a name or not; "contrary": the opposite extreme of a false claim ("largest" against
# "smallest"), which that claim's falsehood does not make true (verdicts.py).
Conflict = Literal[
    "names",
    "unseen",
    "contrary",
    "negation",
    "antonym",
    "number",
    "name",
    "role",
    "quantifier",
    "stronger",
    "other",
    "swap",
    "weaker",
    "polarity",
    "partial",
    "",
]


@dataclass(frozen=True, slots=True)
class Stance:
    label: Label
    probability: float  # of ``label``, 0..1
    conflict: Conflict = ""
    method: Method = "lexical"

    @property
    def is_opposite(self) -> bool:
        """The claim says the known claim is not so (rather than something else is)."""
        return self.label == "contradicts" and self.conflict in ("negation", "antonym", "")


class StanceModel(Protocol):
    name: str
    method: Method

    def stances(self, pairs: list[tuple[str, str]]) -> list[Stance]: ...


# -- the word-level check ---------------------------------------------------------------

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
_MOST = "most|largest|biggest|highest|tallest|longest|heaviest|oldest|fastest|hottest"
_LEAST = "least|smallest|lowest|shortest|lightest|youngest|slowest|coldest"
# The extremes: the opposite of a false "the smallest" is not a true "the largest".
EXTREMES = frozenset(f"{_MOST}|{_LEAST}|first|last".split("|"))
_ANTONYMS = tuple(
    (frozenset(a.split("|")), frozenset(b.split("|")))
    for a, b in (
        ("true|correct|real", "false|wrong|fake"),
        ("only|merely", "more"),
        ("good|excellent|excelled|passed|succeeded", "bad|poor|failed|fail|fails"),
        ("visible", "invisible"),
        ("possible", "impossible"),
        ("more|greater|larger|bigger|higher|taller|longer|heavier|older|faster|warmer|hotter|denser",
         "less|fewer|smaller|lower|shorter|lighter|younger|slower|cooler|colder"),
        (_MOST, _LEAST),
        ("increase|increases|raise|raises|rise|rises",
         "decrease|decreases|lower|lowers|fall|falls|reduce|reduces"),
        ("before|earlier", "after|later"),
        ("north|northern", "south|southern"),
        ("east|eastern", "west|western"),
        ("always", "never"),
        ("alive|living", "dead|extinct"),
        ("safe|harmless|healthy", "dangerous|harmful|unhealthy|toxic|poisonous"),
        ("cause|causes|caused", "prevent|prevents|prevented|cure|cures"),
        ("above", "below"),
        ("inside", "outside"),
        ("first", "last"),
        ("hot", "cold"),
        ("male", "female"),
        ("same|matching|alike", "different"),
        ("mammal|mammals", "fish|reptile|reptiles|bird|birds|insect|insects"),
        ("common|commonly|frequent|frequently|often|usual|usually|widespread",
         "rare|rarely|uncommon|seldom|unusual|infrequent"),
        ("mild|minor|slight|slightly|harmless", "severe|serious|dangerously|extreme|deadly"),
        ("fast|quick|quickly|rapid|rapidly|immediately|instantly", "slow|slowly|gradually"),
        ("strong|stronger|strongest", "weak|weaker|weakest"),
        ("front", "back|rear"),
        ("upward|upwards", "downward|downwards"),
        ("summer", "winter"),
        ("wet|rainy|humid", "dry|arid"),
        ("rising|growing|expanding|expands", "shrinking|shrinks|sinking|contracting"),
        ("deep|deeper|deepest", "shallow|shallower|shallowest"),
        ("thick|thicker|thickest", "thin|thinner|thinnest"),
        ("wide|wider|widest", "narrow|narrower|narrowest"),
        ("positive", "negative"),
        ("legal|lawful|allowed|permitted", "illegal|unlawful|banned|prohibited|forbidden"),
        ("natural", "artificial|synthetic|man-made"),
        ("optional|voluntary", "compulsory|mandatory"),
        ("cheap|cheaper|cheapest", "expensive|costlier"),
        ("clockwise", "anticlockwise|counterclockwise"),
        ("acidic", "alkaline"),
    )
)  # fmt: skip
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)*")
# Nationality adjectives name no place of their own ("the French capital" is Paris).
_DEMONYM = re.compile(r"(?:ese|ian|ish|ch|an)$|^(?:greek|thai|swiss|arab|arabic)$")
# Months and weekdays are dates, compared as such, not names.
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)


_CALENDAR_STEMS = frozenset(stem(w) for w in _CALENDAR)


def _names(sentence: str) -> set[str]:
    """Capitalised words after the first word (places, people, bodies), stemmed."""
    found = _CAPITALISED.findall(sentence)
    first = _CAPITALISED.match(sentence.lstrip("\"'“‘("))
    if first:
        found.remove(first.group(0))
    return {
        stem(w.lower())
        for w in found
        if not _DEMONYM.search(w.lower()) and w.lower() not in _CALENDAR
    }


def _capitalised(sentence: str) -> set[str]:
    return {stem(w.lower()) for w in _CAPITALISED.findall(sentence)}


# Content words (other than names) by which two sentences may differ and still be
# "the same sentence with one name or one negation changed".
_SAME_REST = 1


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
            key = stem(word.lower())
            if key in names:
                slots.setdefault(key, before[-1].lower() if before else "")
    return slots


def _run_mates(sentence: str, shared: set[str]) -> set[str]:
    """Names in the same run as a name both sentences have: "Maharaj" of "Shivaji
    Maharaj" extends a shared name, it does not replace one."""
    mates: set[str] = set()
    for run in _NAME_RUN.finditer(sentence):
        keys = {stem(w.lower()) for w in re.findall(r"[\w'-]+", run.group(0))}
        if keys & shared:
            mates |= keys
    return mates


def _swapped_name(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """One name put in another's place: "Sydney is …" against "Canberra is …". Where
    the rest of the two sentences is nearly the same, or the two names fill the same
    slot ("in Paris" / "in Athens"); a sentence that says more or other things may
    name more without naming anything wrongly ("Apollo 11 landed the first humans on
    the Moon" against "Neil Armstrong was the first to walk on it").
    """
    if headline_case(premise) or headline_case(hypothesis):
        return False
    names_known, names_claim = _capitalised(premise), _capitalised(hypothesis)
    shared = names_known & names_claim
    # A name both sentences have replaces nothing, though a synonym may have read its
    # content word otherwise ("People's Republic": "people" is read as "humans").
    extra_names = _names(hypothesis) - known - _run_mates(hypothesis, shared) - shared
    missing_names = _names(premise) - claim - _run_mates(premise, shared) - shared
    rest = (claim - names_claim) ^ (known - names_known) - _NAME_PARTICLES
    if extra_names and missing_names:
        if len(rest) <= _SAME_REST:
            return True
        ours, theirs = _slots(hypothesis, extra_names), _slots(premise, missing_names)
        same_slot = set(ours.values()) & set(theirs.values()) - {""}
        return bool(same_slot) and len(rest) <= _SLOT_REST
    if len(rest) > _SAME_REST:
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


def _name_unseen(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """A name of the known claim is missing from a text whose capitals cannot say
    whether the word in its place is a name too (a headline, or all lower case): "The
    Official Language Of Denmark Is Norwegian" against "Danish is …" is another
    language, not a synonym; words cannot tell, so neither agreement nor the opposite."""
    if headline_case(premise) or not (
        headline_case(hypothesis) or hypothesis == hypothesis.lower()
    ):
        return False
    names = _capitalised(premise) - STOPWORDS - _NAME_PARTICLES - _CALENDAR_STEMS
    kept = names & claim
    return bool((names - claim - _run_mates(premise, kept)) & known)


def _names_differ(premise: str, hypothesis: str, known: set[str], claim: set[str]) -> bool:
    """Each sentence names something (a person, a place) the other does not."""
    if headline_case(premise) or headline_case(hypothesis):
        return False
    # A known claim opens with its subject, often a name ("Michelangelo painted …"):
    # capitalised words count from the first.
    shared = _capitalised(premise) & _capitalised(hypothesis)
    extra = _names(hypothesis) - known - _run_mates(hypothesis, shared) - _NAME_PARTICLES - shared
    missing = (
        _capitalised(premise)
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


_COGNITION = frozenset(
    "know knew known realize realise realized realised notice noticed expect expected "
    "remember remembered understand understood".split()
)


def _negated(tokens: list[str]) -> dict[str, bool]:
    """Each content word's stem, and whether a negation governs it: a negation reaches
    to the end of its clause ("does not have a single *blood vessel*, …")."""
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
    return found


def _polarity(tokens: list[str]) -> int:
    """Whether a sentence as a whole says no: an odd count of negations, a debunking
    ("it is a myth that …") counting as one, a "didn't know" as none."""
    debunked = sum(t in _DEBUNKING and after == "that" for t, after in pairwise(tokens))
    unknowing = sum(t in _NEGATIONS and after in _COGNITION for t, after in pairwise(tokens))
    return (sum(t in _NEGATIONS for t in tokens) + debunked - unknowing) % 2


def _implicitly_negative(tokens: list[str]) -> bool:
    return any(
        t in _IMPLICIT_NEGATIVES or (t in _FAILING and after == "to")
        for t, after in pairwise(tokens)
    ) or bool(tokens and tokens[-1] in _IMPLICIT_NEGATIVES)


def _negation_flip(claim_clauses: list[str], known_clauses: list[str]) -> Conflict:
    """ "negation" when one sentence negates what the other affirms, decided on a word
    both share ("does not *cause*" against "*causes*"; a word with a negating prefix
    counts as negated: "irrational" against "rational"). "polarity" when only the count
    of negations differs, on words they do not share ("never goes off" against "stays
    edible", but also "cannot see" against "is visible"): a sign, not proof.
    """
    ours, theirs = _negated(claim_clauses), _negated(known_clauses)
    for a, b in ((ours, theirs), (theirs, ours)):
        for word in a:
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
        if determiners and len(ours.keys() ^ theirs.keys()) > _SAME_REST:
            return "polarity"
        if _implicitly_negative(claim_clauses) or _implicitly_negative(known_clauses):
            return "polarity"
        return "negation"
    return "polarity" if _polarity(claim_clauses) != _polarity(known_clauses) else ""


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
_QUANTIFIER_STEMS = frozenset(stem(word) for word in _QUANTIFIER_MEANING)
_BOUNDS = {("no", "more", "than"): "at most", ("at", "most"): "at most"}
_NOT_QUANTIFYING = re.compile(
    r"\b(?:all the way|at all|after all|all over|all along"
    # A hedge on a name, not on the claim: "often called the highest navigable lake".
    r"|(?:often|usually|generally|commonly|sometimes|mostly)\s+(?:called|listed|considered"
    r"|described|regarded|known|referred|cited|said|thought|believed|named|seen))\b",
    re.I,
)


def _quantifiers(tokens: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(strong, weak) quantifiers of a sentence, by meaning."""
    tokens = words(_NOT_QUANTIFYING.sub(" ", " ".join(tokens)))
    found = {_QUANTIFIER_MEANING[t] for t in tokens if t in _QUANTIFIER_MEANING}
    # "just ten percent" is "only ten percent"; "just learned" quantifies nothing.
    if any(t == "just" and (n[:1].isdigit() or n in NUMBER_WORDS) for t, n in pairwise(tokens)):
        found.add("only")
    for bound, meaning in _BOUNDS.items():
        n = len(bound)
        if any(tuple(tokens[i : i + n]) == bound for i in range(len(tokens) - n + 1)):
            found.add(meaning)
    return frozenset(found & _STRONG), frozenset(found - _STRONG)


def quantifier_shift(premise: list[str], hypothesis: list[str]) -> Conflict:
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
    return "quantifier"


def _content_order(tokens: list[str]) -> list[str]:
    seen: list[str] = []
    for token in tokens:
        if token not in STOPWORDS and token != CLAUSE_BREAK and not token[0].isdigit():
            key = stem(token)
            if key not in seen:
                seen.append(key)
    return seen


_PASSIVE = re.compile(
    r"\b(?:is|are|was|were|been|being|be)\s+(?:\w+ly\s+)?\w+(?:ed|en|wn|ht|lt|de|un)\s+by\b",
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
    ours, theirs = _content_order(words(hypothesis)), _content_order(words(premise))
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
                between_theirs and between_ours and _antonym_flip(between_ours, between_theirs)
            ):
                return True
    return False


def _antonym_flip(claim: set[str], known: set[str]) -> bool:
    # The parts of a compound count: "north-western" / "south-eastern", "lower-pitched".
    claim, known = _with_parts(claim), _with_parts(known)
    for left, right in _ANTONYMS:
        if (claim & left and known & right and not claim & right and not known & left) or (
            claim & right and known & left and not claim & left and not known & right
        ):
            return True
    return False


def _with_parts(words: set[str]) -> set[str]:
    return words.union(*(w.split("-") for w in words if "-" in w))


# This many content words of the claim the known claim lacks: it says something else
# ("Gagarin was the first to walk on the Moon" / "… the first to travel into space").
# A paraphrase with as many new words is lost to Insufficient, never flipped.
_OTHER_WORDS = 3


# A riddle-shaped claim: "The organ that filters the blood is the liver", "The man who
# painted the ceiling was Leonardo" — its answer closes it.
_ANSWERED = re.compile(
    r"^\W*(?:the|a|an)\s+[^,;]{2,60}?\s+(?:that|who|which|whose|to)\s+.+?"
    r"\s(?:is|was|are|were)\s+(?:the\s+|an?\s+)?(?P<answer>[^,;]{2,60}?)\W*$",
    re.I,
)


def _answer_replaced(hypothesis: str, known_stems: set[str]) -> bool:
    """A riddle-shaped claim whose answer is not in the known claim."""
    found = _ANSWERED.match(hypothesis)
    if found is None:
        return False
    answer = content_stems(words(found.group("answer")))
    return bool(answer) and not answer <= known_stems


def left_out(premise: str, hypothesis: str) -> set[str]:
    """Content words of ``premise`` that ``hypothesis`` does not say (a name counts as
    said when part of it is: "Einstein" says "Albert Einstein")."""
    missing = content_stems(words(premise)) - content_stems(words(hypothesis))
    if _capitalised(premise) & _capitalised(hypothesis):
        missing -= _capitalised(premise)
    return missing


def _same_subject(premise: str, hypothesis: str) -> bool:
    """The text speaks of what the known claim's first content words name (its
    subject, in the plain statements a knowledge base holds)."""
    subject = [stem(w) for w in words(premise) if w not in STOPWORDS and not w[0].isdigit()][:2]
    return not subject or bool(set(subject) & content_stems(words(hypothesis)))


class LexicalStance:
    """The fallback when no NLI model is configured (see the module docstring)."""

    name = "word-level check"
    method: Method = "lexical"

    def stances(self, pairs: list[tuple[str, str]]) -> list[Stance]:
        return [self.stance(premise, hypothesis) for premise, hypothesis in pairs]

    def stance(self, premise: str, hypothesis: str) -> Stance:
        found = self._stance(premise, hypothesis)
        if found.label == "contradicts" and not _same_subject(premise, hypothesis):
            # A contradiction needs the same subject: "bats aren't blind" says nothing
            # against "the Ganges river dolphin is nearly blind".
            return Stance("neutral", 0.6, "other")
        return found

    def _stance(self, premise: str, hypothesis: str) -> Stance:
        known, claim = words(premise), words(hypothesis)
        known_set, claim_set = set(known), set(claim)
        # "Apollo 8" and "Apollo 11" are two things, not two counts of one.
        known_ids, claim_ids = identifiers(premise, hypothesis), identifiers(hypothesis, premise)
        if any(claim_ids.get(name, number) != number for name, number in known_ids.items()):
            return Stance("neutral", 0.7, "other")
        # Punctuation ends a number's unit: "in 1945, marked by" counts a bare year.
        known_numbers = numbers(words(counted_text(premise, known_ids), clauses=True))
        claim_numbers = numbers(words(counted_text(hypothesis, claim_ids), clauses=True))
        hedged = bool(APPROXIMATE.search(premise) or APPROXIMATE.search(hypothesis))
        if NOTATION.search(hypothesis) or NOTATION.search(premise):
            # "3 × 10^8 m/s" is one number the words cannot read: compare none.
            known_numbers, claim_numbers = {}, {}
        # With the roles swapped, a negation or an opposite word may restore the meaning
        # ("the Sun does not orbit the Earth"): neither agreement nor disagreement is sure.
        if role_swap(premise, hypothesis):
            return Stance("neutral", 0.7, "role")
        negation = _negation_flip(words(hypothesis, clauses=True), words(premise, clauses=True))
        if negation == "negation":
            return Stance("contradicts", 0.75, "negation")
        if negation == "polarity":
            return Stance("neutral", 0.6, "polarity")
        if _antonym_flip(claim_set, known_set):
            return Stance("contradicts", 0.65, "antonym")
        differing = numbers_conflict(known_numbers, claim_numbers, approximate=hedged)
        if differing > 1:
            # Two quantities apart ("9.58 s over 100 m" / "19.19 s over 200 m"): another
            # event or thing, not a wrong number for this one.
            return Stance("neutral", 0.6, "other")
        if differing:
            return Stance("contradicts", 0.7, "number")
        known_stems, claim_stems = content_stems(known), content_stems(claim)
        if _swapped_name(premise, hypothesis, known_stems, claim_stems):
            return Stance("contradicts", 0.6, "name")
        shift = quantifier_shift(known, claim)
        if shift == "quantifier":
            return Stance("neutral", 0.7, "quantifier")
        if _names_differ(premise, hypothesis, known_stems, claim_stems):
            # "… was Leonardo da Vinci" against "Michelangelo painted …": each names
            # someone the other does not; agreement is not for words to say.
            return Stance("neutral", 0.6, "names")
        # Quantifiers were weighed just above; other new words are new content.
        extra = len(claim_stems - known_stems - _QUANTIFIER_STEMS)
        if extra and _answer_replaced(hypothesis, known_stems):
            # "The organ that filters … is the liver" against "The kidneys filter …":
            # the text names its answer, and the known claim does not; not the same claim.
            return Stance("neutral", 0.6, "other")
        if extra >= _OTHER_WORDS:
            return Stance("entails", 0.6, "other")
        if extra:
            if extra == 1 and _name_unseen(premise, hypothesis, known_stems, claim_stems):
                # Weighed as a swap when candidates are compared (the closest stays the
                # evidence), never agreement (verdicts.py).
                return Stance("entails", 0.65, "unseen")
            # One word in another's place: a synonym ("biggest" / "largest") or a
            # different thing ("gold" / "silver"); only a near-identical embedding
            # tells them apart (see verdicts.Thresholds.lexical_swap_entails).
            return Stance("entails", 0.65, "swap")
        return Stance("entails", 0.7, shift)
