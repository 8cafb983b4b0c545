"""Numbers two sentences give, and whether they disagree: units of one dimension, a
number inside a name ("Apollo 11"), hedged numbers, decades and bounds (what
``stance.LexicalStance`` reads before it weighs the words)."""

from __future__ import annotations

import re

from .wording import headline_case

# Units of one dimension: "8 seconds" is not "8 minutes".
_DIMENSIONS = (
    frozenset("second minut hour day week month year decade century centurie".split()),
    frozenset("millimetr centimetr metr kilometr mile feet foot inch".split()),
    frozenset("gram kilogram kg tonne ton pound ounce".split()),
)


# A name with a number is one name: "Apollo 11", "Chandrayaan-3", "Boeing 747". Two
# sentences naming one with different numbers speak of two things. Its number is not a
# count only where that is plain: hyphenated, or not followed by what it would count
# ("Apollo 11 landed", but "the World Cup 3 times").
_NAMED_NUMBER = re.compile(
    r"\b((?!(?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b)"
    r"[A-Z][A-Za-z]+)[ -](\d+)\b"
)
_IDENTIFIER = re.compile(
    r"\b((?!(?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b)[A-Z][A-Za-z]+)"
    r"(?:-(\d+)\b| (\d+)(?=\s+(?:[A-Z]|\w+ed\b)|\s*[.,;:!?]|$))"
)
APPROXIMATE = re.compile(
    r"\b(?:about|around|roughly|approximately|nearly|almost|some|over|under|more than"
    r"|less than|close to)\s+\d|~\s*\d",
    re.I,
)
NOTATION = re.compile(r"\d\s*(?:[×x*]\s*10\s*\^?\s*[-−]?\d|\^\s*\d|e[+-]?\d)", re.I)
# How far apart two hedged numbers may be and still be one ("about 4.54 billion" /
# "roughly 4.5 billion"); years are never hedged that way.
_TOLERANCE = 0.05


def identifiers(sentence: str, other: str) -> dict[str, str]:
    """The names with a number in ``sentence``, by name. In Title Case a capital marks
    no name ("Barium Has Atomic Number 38", "Wall Built In 1989" count and date): there
    only a name that ``other`` gives a number too is one."""
    found = {m.group(1).lower(): m.group(2) for m in _NAMED_NUMBER.finditer(sentence)}
    if headline_case(sentence):
        theirs = {m.group(1).lower() for m in _NAMED_NUMBER.finditer(other)}
        found = {name: number for name, number in found.items() if name in theirs}
    return found


# Digits inside a word are part of it: a formula or a code ("CO2", "H2O", "G20").
_FORMULA = re.compile(r"\b[A-Za-z]+\d[A-Za-z\d]*\b")


def without_identifiers(sentence: str, names: dict[str, str]) -> str:
    """``sentence`` with the numbers of its named things, and of formulas, taken out
    of the counting."""
    sentence = _FORMULA.sub("", sentence)
    return _IDENTIFIER.sub(
        lambda m: m.group(1) if m.group(1).lower() in names else m.group(0), sentence
    )


_DECADE = re.compile(r"(\d{1,3})0s")  # "1950s", "80s"


def _decade_holds(decade: str, year: str) -> bool:
    """ "the 1950s" holds 1951, "the late 80s" 1989 and "the 1980s": a decade is a
    range, not a year."""
    match = _DECADE.fullmatch(decade)
    other = _DECADE.fullmatch(year)
    if other is not None:  # two decades: "the '90s" and "the 1990s"
        year = other.group(1) + "0"
    if match is None or not year.isdigit() or len(year) < 2:
        return False
    tens = match.group(1)
    return year[:-1].endswith(tens) if len(tens) < 3 else year[:-1] == tens


_BOUND = re.compile(r"([<>]=?)(.+)")


def _within_bound(bound: str, value: str) -> bool | None:
    """Whether ``value`` meets ``bound`` (">2" holds 4, "<=10" holds 10); None where
    either is no plain number (or both are bounds: they may well agree)."""
    match = _BOUND.fullmatch(bound)
    if match is None or _BOUND.fullmatch(value):
        return None
    try:
        limit, x = float(match.group(2)), float(value)
    except ValueError:
        return None
    sign = match.group(1)
    return {"<": x < limit, "<=": x <= limit, ">": x > limit, ">=": x >= limit}[sign]


def _short_year(a: str, b: str) -> bool:
    """ "back in 79" is 1979: two digits against a year that ends in them."""
    return len(a) == 2 and a.isdigit() and len(b) == 4 and b.isdigit() and b.endswith(a)


def _same_value(a: str, b: str, approximate: bool) -> bool:
    if a == b or _decade_holds(a, b) or _decade_holds(b, a):
        return True
    if _short_year(a, b) or _short_year(b, a):
        return True
    if _BOUND.fullmatch(a) or _BOUND.fullmatch(b):
        # A bound agrees with what it holds and with any other bound.
        holds = _within_bound(a, b) if _BOUND.fullmatch(a) else _within_bound(b, a)
        return holds is not False
    if not approximate:
        return False
    try:
        x, y = float(a.rstrip("stndrh")), float(b.rstrip("stndrh"))
    except ValueError:
        return False
    if any(v.is_integer() and 1000 <= v <= 2100 for v in (x, y)):
        return False  # a year
    return abs(x - y) <= _TOLERANCE * max(abs(x), abs(y))


def _disjoint(ours: set[str], theirs: set[str], approximate: bool) -> bool:
    return not any(_same_value(a, b, approximate) for a in ours for b in theirs)


def numbers_conflict(
    known: dict[str, set[str]], claim: dict[str, set[str]], *, approximate: bool = False
) -> int:
    """How many quantities differ: numbers that count the same thing ("100 degrees" /
    "90 degrees", two bare years), not "90 minutes" against "an hour and a half"; or
    the same number counting another unit of one dimension ("8 minutes" / "8 seconds").
    With a hedge ("about", "roughly") numbers within 5% are the same."""
    conflicts = sum(
        _disjoint(known[unit], claim[unit], approximate) for unit in known.keys() & claim.keys()
    )
    for units in _DIMENSIONS:
        ours = {(v, u) for u in claim.keys() & units for v in claim[u]}
        theirs = {(v, u) for u in known.keys() & units for v in known[u]}
        if ours and theirs and ours.isdisjoint(theirs):
            if {v for v, _ in ours} & {v for v, _ in theirs}:
                conflicts += 1
    return conflicts
