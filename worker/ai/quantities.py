"""The numbers a sentence gives (with their units and bounds) and whether two sentences
disagree on them: units of one dimension, a number inside a name ("Apollo 11"), hedged
numbers, decades and bounds (what ``stance.LexicalStance`` reads before it weighs the
words)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .wording import FILLERS, NUMBER_WORDS, STOPWORDS, UNIT_ALIASES, headline_case, stem

_YEAR = re.compile(r"1[0-9]{3}|20[0-9]{2}")
# Singular or unmarked plural nouns a year-shaped number still counts ("2000 people").
_COUNTED = frozenset(
    "people km kg m metre meter mile foot feet crore lakh thousand million billion percent "
    "per".split()
)
# Words after a number that start a new phrase, not its unit: "in 1914 after …".
_NOT_UNITS = frozenset(
    "after before since until till when while during following where because although "
    "though through across against among between behind beyond near via "
    # The common era is the default one ("800s AD" is the 800s); BC stays a unit.
    "ad ce".split()
)
_CENTURY_WORDS = ("century", "centuries")


# Words before a number that make it a bound: "more than 2" is ">2", "no more than 10"
# "<=10" (``_same_value`` reads them).
_BOUNDS = (
    (("no", "more", "than"), "<="), (("not", "more", "than"), "<="),
    (("no", "fewer", "than"), ">="),
    (("at", "least"), ">="), (("at", "most"), "<="), (("up", "to"), "<="),
    (("more", "than"), ">"), (("over",), ">"), (("above",), ">"),
    (("less", "than"), "<"), (("fewer", "than"), "<"), (("under",), "<"), (("below",), "<"),
)  # fmt: skip


def _bound(before: Sequence[str]) -> str:
    for words_before, sign in _BOUNDS:
        if tuple(before[-len(words_before) :]) == words_before:
            return sign
    return ""


def numbers(tokens: list[str]) -> Mapping[str, frozenset[str]]:
    """Numbers (digits or common number words) by the word after them, their unit:
    {"degre": {"100"}} for "100 degrees"; "" for a bare number such as a year. A bound
    keeps its sign: {"chamber": {">2"}} for "more than two chambers"."""
    return _numbers_of(tuple(tokens))


# A claim is weighed against several known claims, and a known claim against many
# claims: each sentence's numbers are read once (read-only, as they are shared).
@functools.lru_cache(maxsize=16384)
def _numbers_of(tokens: tuple[str, ...]) -> Mapping[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for index, (token, after) in enumerate(
        zip(tokens, [*tokens[1:], ""][: len(tokens)], strict=True)
    ):
        if token[0].isdigit():
            value = token.rstrip("0").rstrip(".") if "." in token else token
        elif token in NUMBER_WORDS:
            value = NUMBER_WORDS[token]
        else:
            continue
        unit = (
            UNIT_ALIASES.get(after, stem(after))
            if after.isalpha()
            and after not in STOPWORDS
            and after not in _NOT_UNITS
            and after not in FILLERS
            else ""
        )
        if not unit and not token[0].isdigit():
            continue  # a number word that counts nothing: "one of the generals"
        if unit and _YEAR.fullmatch(value) and not after.endswith("s") and after not in _COUNTED:
            unit = ""  # a year before a noun dates it: "his 1968 book", "the 2003 Nobel"
        if (ordinal := _ORDINAL.fullmatch(value)) and _names_century(tokens, index):
            # "the 18th century" dates, as its years do (see _years).
            found.setdefault("", set()).add(f"c{ordinal.group(1)}")
            continue
        # An ordinal ranks, it does not count: "the eighth planet" says nothing against
        # "in 2006".
        if _ORDINAL.fullmatch(value):
            unit = f"{unit}#rank"
        elif unit and (per := _per_time(tokens[index + 2 : index + 4])):
            unit = f"{unit}/{per}"  # a rate: "300,000 km per second", "72 times a minute"
        found.setdefault(unit, set()).add(_bound(tokens[max(0, index - 3) : index]) + value)
    return MappingProxyType({unit: frozenset(values) for unit, values in found.items()})


_TIME_UNITS = frozenset("second minut hour day week month year".split())
# What "km/s" and "km/h" leave after the slash is dropped.
_TIME_SYMBOLS = {"s": "second", "h": "hour", "hr": "hour", "min": "minut"}


def _per_time(after: Sequence[str]) -> str:
    """The time unit a quantity is counted per ("per second", "an hour", "/s"), or ""."""
    if after[:1] and after[0] in _TIME_SYMBOLS:
        return _TIME_SYMBOLS[after[0]]
    if len(after) == 2 and after[0] in ("per", "a", "an"):
        unit = UNIT_ALIASES.get(after[1], stem(after[1]))
        return unit if unit in _TIME_UNITS else ""
    return ""


def _names_century(tokens: Sequence[str], index: int) -> bool:
    """The ordinal at ``index`` counts centuries: "the 18th century", and "the 8th" of
    "the 8th and 9th centuries"."""
    after = tokens[index + 1 : index + 4]
    if after[:1] and after[0] in _CENTURY_WORDS:
        return True
    return (
        len(after) == 3
        and after[0] in ("and", "or", "to")
        and _ORDINAL.fullmatch(after[1]) is not None
        and after[2] in _CENTURY_WORDS
    )


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


def counted_text(sentence: str, names: dict[str, str]) -> str:
    """``sentence`` with the numbers of its named things, and of formulas, taken out
    of the counting."""
    sentence = _FORMULA.sub("", sentence)
    return _IDENTIFIER.sub(
        lambda m: m.group(1) if m.group(1).lower() in names else m.group(0), sentence
    )


_DECADE = re.compile(r"(\d{1,3})0s")  # "1950s", "80s"
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
_CENTURY = re.compile(r"c(\d+)")
_HUNDREDS = re.compile(r"(\d{1,2})00s")  # "the 1800s", "the 700s AD": a century


def _years(value: str) -> tuple[int, int] | None:
    """The years a date spans: "1776" itself, "the 1950s" ten, "the 1800s" a hundred,
    "the 18th century" (``c18``) 1700-1800, counted loosely as people say "the 1700s"
    for it too. None for anything else (a count, a two-digit decade)."""
    if value.isdigit() and 3 <= len(value) <= 4:
        return int(value), int(value)
    if (hundreds := _HUNDREDS.fullmatch(value)) is not None:
        start = int(hundreds.group(1)) * 100
        return start, start + 99
    if (decade := _DECADE.fullmatch(value)) is not None and len(decade.group(1)) == 3:
        start = int(decade.group(1)) * 10
        return start, start + 9
    if (century := _CENTURY.fullmatch(value)) is not None:
        number = int(century.group(1))
        return (number - 1) * 100, number * 100
    return None


def _same_years(a: str, b: str) -> bool:
    """Two dates of which one is a span ("the 1800s" holds 1869) and that overlap."""
    ours, theirs = _years(a), _years(b)
    if ours is None or theirs is None or (ours[0] == ours[1] and theirs[0] == theirs[1]):
        return False
    return ours[0] <= theirs[1] and theirs[0] <= ours[1]


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
    if _same_years(a, b):
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


def _disjoint(ours: frozenset[str], theirs: frozenset[str], approximate: bool) -> bool:
    return not any(_same_value(a, b, approximate) for a in ours for b in theirs)


def _rates_of(units: set[str], counted: str) -> frozenset[str]:
    """One thing counted per units of time: "300,000 km per second" is not "300,000 km
    per hour" (a sentence that names no time unit may have left it out)."""
    return frozenset(u for u in units if u.startswith(counted + "/"))


def _unrated(
    ours: Mapping[str, frozenset[str]], theirs: Mapping[str, frozenset[str]]
) -> Mapping[str, frozenset[str]]:
    """``ours`` with a rate read as its plain quantity where ``theirs`` counts the same
    thing per no time unit ("1,000 joules per second" against "one joule … per second",
    whose "per" the words do not tie to the number)."""
    plain = {u for u in theirs if "/" not in u}
    found: dict[str, frozenset[str]] = {}
    for unit, values in ours.items():
        counted = unit.split("/")[0]
        if "/" in unit and counted in plain and not _rates_of(set(theirs), counted):
            unit = counted
        found[unit] = found.get(unit, frozenset()) | values
    return found


def numbers_conflict(
    known: Mapping[str, frozenset[str]],
    claim: Mapping[str, frozenset[str]],
    *,
    approximate: bool = False,
) -> int:
    """How many quantities differ: numbers that count the same thing ("100 degrees" /
    "90 degrees", two bare years), not "90 minutes" against "an hour and a half"; or
    the same number counting another unit of one dimension ("8 minutes" / "8 seconds").
    With a hedge ("about", "roughly") numbers within 5% are the same."""
    known, claim = _unrated(known, claim), _unrated(claim, known)
    conflicts = sum(
        _disjoint(known[unit], claim[unit], approximate) for unit in known.keys() & claim.keys()
    )
    rates = {u.split("/")[0] for u in [*known, *claim] if "/" in u}
    for units in [*_DIMENSIONS, *(_rates_of(known.keys() | claim.keys(), r) for r in rates)]:
        ours = {(v, u) for u in claim.keys() & units for v in claim[u]}
        theirs = {(v, u) for u in known.keys() & units for v in known[u]}
        if ours and theirs and ours.isdisjoint(theirs):
            if {v for v, _ in ours} & {v for v, _ in theirs}:
                conflicts += 1
    return conflicts
