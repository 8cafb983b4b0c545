"""Word-level reading of a sentence, shared by the subjectivity and stance checks."""

from __future__ import annotations

import functools
import re
from pathlib import Path

_CONTRACTIONS = (
    # As people type them, without the apostrophe ("arent", "doesnt", "cant").
    (
        re.compile(
            r"\b(are|is|was|were|do|does|did|has|have|had|could|should|would|must|need)nt\b",
            re.I,
        ),
        r"\1 not",
    ),
    (re.compile(r"\bcant\b", re.I), "can not"),
    (re.compile(r"\bwont\b", re.I), "will not"),
    (re.compile(r"\b(they|you|we)re\b", re.I), r"\1 are"),
    (re.compile(r"\bcan[’']t\b", re.I), "can not"),
    (re.compile(r"\bwon[’']t\b", re.I), "will not"),
    (re.compile(r"\bshan[’']t\b", re.I), "shall not"),
    (re.compile(r"n[’']t\b", re.I), " not"),
    (re.compile(r"\bcannot\b", re.I), "can not"),
    (re.compile(r"[’']re\b", re.I), " are"),
    (re.compile(r"[’']s\b", re.I), ""),  # possessive or "is": neither changes the stance
    (re.compile(r"[’']m\b", re.I), " am"),
    (re.compile(r"[’']ll\b", re.I), " will"),
    (re.compile(r"[’']ve\b", re.I), " have"),
    (re.compile(r"[’']d\b", re.I), " would"),
)
# A pattern with an apostrophe in it cannot match a text without one.
_NEEDS_APOSTROPHE = tuple("'" in pattern.pattern for pattern, _ in _CONTRACTIONS)
# Numbers keep their decimal point; "1,000" reads as 1000.
# Numbers keep an ordinal or plural suffix ("15th", "1400s"); "|" marks a clause break.
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?\b|[^\W\d_]+(?:-[^\W\d_]+)*|[,;:()—]"
    # A number glued to its unit ("100m", "5kg") is the number, then the unit.
    r"|\d+(?:[.,]\d+)*(?=[a-z]+\b)"
)
CLAUSE_BREAK = "|"
_CLAUSE_WORDS = frozenset("but because although though while whereas and so".split())
NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "fifty": "50", "hundred": "100", "thousand": "1000",
    "million": "1000000", "billion": "1000000000", "once": "1", "twice": "2",
    # Ordinals count too: "the first person" is not "the second person".
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
}  # fmt: skip

# Titles before a name, not part of whom it names: "Sardar Patel" is Vallabhbhai Patel,
# "Mahatma Gandhi" is Mohandas Gandhi.
HONORIFICS = frozenset("mr mrs ms dr sir sardar mahatma pandit netaji lokmanya swami".split())
STOPWORDS = (
    frozenset(
        "a an the of in on at to for from by with as and or but if then than that this these "
        "those it its is are was were be been being am do does did has have had having there "
        "their they them he she his her him we our you your i me my mine which who whom whose "
        "what when where why how all any each every some such so very can could may might "
        "would will shall should must about into onto over under up down out off also just "
        "only own same other more most much many one s".split()
    )
    | HONORIFICS
)


# Temperatures as symbols read as the words: "90°C" counts "degrees" like "90 degrees".
_DEGREES = re.compile(r"\s*[°º]\s*([CF])\b")


# A comparison with all the others is the superlative: "deeper than any other lake" is
# "the deepest lake", "more countries than any other continent" "the most countries".
_THAN_ANY_OTHER = (
    (re.compile(r"\bmore (\w+) than (?:any|every|all) other\b", re.I), r"the most \1"),
    (re.compile(r"\b(\w+)er than (?:any|every|all) other\b", re.I), r"the \1est"),
)
# Going or revolving around something is orbiting it ("the Sun goes around the Earth"),
# and an hour and a half is 90 minutes.
_ORBIT = re.compile(
    r"\b(?:go|goes|went|going|revolve|revolves|revolved|revolving)\s+(?:all the way\s+)?"
    r"(?:a)?round\b",
    re.I,
)
_ORBIT_FORM = {
    "go": "orbit", "goes": "orbits", "went": "orbited", "going": "orbiting",
    "revolve": "orbit", "revolves": "orbits", "revolved": "orbited", "revolving": "orbiting",
}  # fmt: skip
_SPANS = (
    (re.compile(r"\b(?:an|one) hour and a half\b", re.I), "90 minutes"),
    (re.compile(r"\bhalf an hour\b", re.I), "30 minutes"),
)
# A link said to exist is the claim that one causes the other ("Vaccines Linked to
# Autism" is the myth "vaccines cause autism").
_LINKED = re.compile(r"\b(?:(?:is|are|was|were)\s+)?(?:directly\s+)?linked\s+to\b", re.I)
# "The speed of light is …" says what "light travels at …" says.
_SPEED_OF = re.compile(r"\bthe speed of (\w+) (?:is|was)\b", re.I)
# "does not have a single blood vessel" / "any" is "has no blood vessel".
_HAVE_NONE = re.compile(r"\b(does|do|did) not have (?:a single|any)\b", re.I)
_HAVE = {"does": "has", "do": "have", "did": "had"}


# "the planet" or "our planet" with no name after it is the Earth; a river empties into
# what it flows into; things that coexisted lived at the same time.
_EARTH = re.compile(
    r"\b(?:[Tt]he|[Oo]ur|[Tt]his|THE|OUR|THIS)\s+(?:[Pp]lanet|PLANET)\b(?!\s*[A-Z0-9])"
)
_EMPTIES = re.compile(r"\b(?:empties|empty|emptied|emptying)\s+(?:out\s+)?into\b", re.I)
_COEXISTED = re.compile(r"\bco-?exist(?:ed)?\b", re.I)


def _orbit(match: re.Match[str]) -> str:
    return _ORBIT_FORM[match.group(0).split()[0].lower()]


@functools.lru_cache(maxsize=16384)
def expand_contractions(text: str) -> str:
    text = _DEGREES.sub(
        lambda m: " degrees " + ("celsius" if m.group(1) == "C" else "fahrenheit"), text
    )
    apostrophe = "'" in text or "’" in text
    for (pattern, replacement), needs_apostrophe in zip(
        _CONTRACTIONS, _NEEDS_APOSTROPHE, strict=True
    ):
        if apostrophe or not needs_apostrophe:
            text = pattern.sub(replacement, text)
    return _plain_phrasing(text)


def _plain_phrasing(text: str) -> str:
    """One wording for what people say several ways (the tables above)."""
    if " other" in text:
        for pattern, replacement in _THAN_ANY_OTHER:
            text = pattern.sub(replacement, text)
    if " have " in text:
        text = _HAVE_NONE.sub(lambda m: _HAVE[m.group(1).lower()] + " no", text)
    if "speed of" in text.lower():
        text = _SPEED_OF.sub(r"\1 travels at", text)
    if "inked" in text:
        text = _LINKED.sub("cause", text)
    if "round" in text:
        text = _ORBIT.sub(_orbit, text)
    if "hour" in text:
        for pattern, replacement in _SPANS:
            text = pattern.sub(replacement, text)
    if "planet" in text:
        text = _EARTH.sub(lambda m: m.group(0).split()[0] + " Earth", text)
    if "mpt" in text:
        text = _EMPTIES.sub("flows into", text)
    if "xist" in text:
        text = _COEXISTED.sub("lived at the same time", text)
    return text


def words(text: str, *, clauses: bool = False) -> list[str]:
    """Lower-case words and numbers, contractions expanded ("isn't" -> "is", "not").

    With ``clauses``, a ``CLAUSE_BREAK`` token stands where punctuation or a conjunction
    ends a clause (the reach of a negation).
    """
    return list(_words(text, clauses))


# Each job compares its claims with the same few known claims many times over (every
# stance check reads both sides), so the split of each text is remembered.
@functools.lru_cache(maxsize=32768)
def _words(text: str, clauses: bool) -> tuple[str, ...]:
    out = []
    for token in _TOKEN.findall(expand_contractions(text)):
        if token[0].isdigit():
            out.append(token.replace(",", ""))
        elif token.isalpha() or "-" in token:
            lower = token.lower()
            if clauses and lower in _CLAUSE_WORDS:
                out.append(CLAUSE_BREAK)
            out.append(lower)
        elif clauses:
            out.append(CLAUSE_BREAK)
    return tuple(out)


def read_table(path: Path) -> dict[str, str]:
    """A word list kept as data: each line a word, a space, then its value (the rest of
    the line), or a phrase of several words, `` | ``, then its value; ``#`` lines and
    blank lines are skipped; a later line for a word wins."""
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, value = line.strip().split(" | " if " | " in line else " ", 1)
            table[word] = value
    return table


# Irregular verb forms a suffix strip cannot meet: "sank" is "sink".
_IRREGULAR = {
    form: base
    for base, forms in read_table(Path(__file__).with_name("irregular_verbs.txt")).items()
    for form in forms.split()
}


@functools.lru_cache(maxsize=65536)  # the stance checks stem the same words over and over
def stem(word: str) -> str:
    """A light suffix strip so "cause"/"causes"/"caused"/"causing" all meet ("caus");
    not a linguist's stemmer."""
    word = _IRREGULAR.get(word, word)
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


# Unit symbols as their words' stems: "100m" counts metres like "100 metres".
UNIT_ALIASES = {
    "m": "metr", "meter": "metr", "meters": "metr", "km": "kilometr", "kms": "kilometr",
    "cm": "centimetr", "mm": "millimetr", "kg": "kilogram", "kgs": "kilogram", "g": "gram",
    "s": "second", "sec": "second", "secs": "second", "min": "minut", "mins": "minut",
    "hr": "hour", "hrs": "hour", "yrs": "year", "mph": "mile",
}  # fmt: skip


# Words people add that say nothing about the claim ("technically", "literally", "lol").
FILLERS = frozenset(
    "actually basically literally really technically speaking honestly seriously truly "
    "totally like lol lmao omg ngl btw fyi tbh imo guys bro bhai yaar dude fun fact "
    "apparently reportedly just even still ever fr frfr smh tho".split()
)


# One name in the languages people write it in (Hindi and English).
_NAME_FORMS = {"ganges": "ganga", "qutb": "qutub"}
_NAME_ALIASES = {word: name for name, forms in _NAME_FORMS.items() for word in forms.split()}


# Words people use for one another, read as one: "the biggest ocean" is "the largest
# ocean"; a unit's symbol is its word ("km" is "kilometres").
_SYNONYMS = {
    word: plain
    for plain, alternatives in {
        "largest": "biggest", "highest": "tallest", "high": "tall",
        "fastest": "quickest", "fast": "quick quickly rapid rapidly swift",
        "smallest": "tiniest", "small": "tiny little",
        "earth": "world", "human": "person people humans persons",
        "nation": "country countries nations",
        "ocean": "sea", "kid": "child children kids", "movie": "film films movies",
        "toxic": "poisonous", "famous": "known", "sun": "sunlight",
        "fail": "flunk flunks flunked failed fails", "mathematics": "maths math",
        # one more word for the same act or thing, as everyday facts are written
        "complete": "finish finished finishes", "regard": "consider considered considers",
        "hyperactive": "hyper", "orbit": "revolve revolves revolved",
        "disease": "illness illnesses sickness", "doctor": "physician physicians",
        "car": "automobile automobiles", "photograph": "photo photos",
        "ban": "prohibit prohibits prohibited forbid forbids forbidden outlaw outlawed",
        "allow": "permit permits permitted", "rich": "wealthy",
        "intelligent": "smart clever", "almost": "nearly",
        "large": "big huge enormous gigantic", "regrow": "regenerate regenerates regenerated",
        "produce": "generate generates generated", "mother": "mom mum mummy",
        "father": "dad papa daddy", "begin": "start starts started begins began originate "
        "originates originated",
    }.items()
    for word in alternatives.split()
} | {word: stem(unit) for word, unit in UNIT_ALIASES.items() if len(word) > 1}  # fmt: skip
_SYNONYMS |= _NAME_ALIASES


def name_stem(word: str) -> str:
    """A lower-cased name's stem, one for each of its forms ("ganga" is "ganges")."""
    return stem(_NAME_ALIASES.get(word, word))


def canonical(token: str) -> str:
    return stem(_SYNONYMS.get(token, token))


def content_stems(tokens: list[str]) -> set[str]:
    return {
        canonical(t)
        for t in tokens
        if t not in STOPWORDS and t not in FILLERS and not t[0].isdigit()
    }


@functools.lru_cache(maxsize=8192)
def headline_case(sentence: str) -> bool:
    """Title Case ("Mars Is the Largest Planet"): capitals mark no names there. Told by
    a capitalised verb, preposition or "And" after the first word ("Wall Built In
    1989"; names keep theirs small: "Statue of Liberty"), or by every longer word
    capitalised (four of them, or three with a plain word among them)."""
    tokens = re.findall(r"[^\W\d_]+", sentence)[1:]
    if any(t in _TITLE_WORDS for t in tokens):
        return True
    longer = [t for t in tokens if len(t) > 3]
    if len(longer) < 3 or not all(t[0].isupper() for t in longer):
        return False
    from .recase import common_word  # reads the knowledge base's writing; imports this

    # Three capitalised words may all be names ("The Eiffel Tower is in Paris"); a
    # plain word among them shows a headline ("Sugar Causes Hyperactivity in Children").
    return len(longer) >= 4 or any(common_word(t.lower()) for t in longer)


_TITLE_WORDS = frozenset(
    "Is Are Was Were Has Have Had Will Can Does Do Did Be In On At Of For By From With To "
    "Into And".split()
)
