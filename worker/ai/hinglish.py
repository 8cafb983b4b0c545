"""Romanized Hindi-English ("Hinglish") read as English, word for word.

Many of SatyaMark's readers write Hindi in Latin letters mixed with English ("Taj Mahal
Agra mein hai"). The bundled encoder and the word-level check are English; glossing the
common Hindi function words and everyday nouns and verbs into English lets the English
ones carry the claim ("Taj Mahal Agra in is"), which is enough for the sentence
embedding to find the known claim and for a "nahi" to count as a negation. Hindi puts
the negation after what it negates and the verb last; the gloss moves "not" before the
word it follows and leaves the rest in Hindi order (the word-level check does not read
roles from an order it did not see: see ``roles.role_swap``).

A text is glossed only when it reads as Hinglish: at least two of its words are Hindi
function words that English does not have. A multilingual encoder and NLI model, where
configured, would read it as it is; the gloss is for the English defaults.
"""

from __future__ import annotations

import re
from pathlib import Path

from .wording import read_table

# Words only Hindi has (English has no "hai", "nahi", "mein"): two of them make a text
# Hinglish. Short English look-alikes ("the", "to", "me", "par") are left out.
_MARKERS = frozenset(
    "hai hain tha thi nahi nahin nhi mein mai ka ki ke ko se aur bhi yeh ye woh wo kya "
    "kyun kyunki hota hoti hote toh bhai yaar sabse sirf bahut kabhi hua hui gaya gayi "
    "wala wali wale jata jati karta karti karte raha rahi rahe sakta sakti hum tum aap "
    "apna apni unka unki iska iski uska uski pe ne pehle pehla pehli mera meri tera teri "
    "hamara hamari kiya kiye diya diye liya isliye matlab abhi wahan yahan kaise kaun "
    "kahan jaise sabko".split()
)
_TABLE = read_table(Path(__file__).with_name("hinglish_gloss.txt"))
_GLOSS = {word: english for word, english in _TABLE.items() if " " not in word}
# Phrases whose meaning is not their words' ("pradhan mantri": prime minister, "naam
# badla": renamed), by their words; the longest one that fits is read first.
_PHRASES = {tuple(key.split()): english for key, english in _TABLE.items() if " " in key}
_LONGEST_PHRASE = max((len(key) for key in _PHRASES), default=0)
# Said to the reader, about nothing: dropped.
_DROPPED = frozenset("bhai yaar bro toh ji na re arre arey dekho suno ne wala wali wale".split())
_WORD = re.compile(r"[A-Za-z]+|[^A-Za-z]+")
_NEGATION = frozenset({"nahi", "nahin", "nhi", "mat"})


def is_hinglish(text: str) -> bool:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    return len(words & _MARKERS) >= 2


def gloss(text: str) -> str:
    """``text`` with its Hindi words in English (see the module docstring); unchanged
    when it does not read as Hinglish."""
    if not is_hinglish(text):
        return text
    text = _CALLED.sub(_called, _THAN.sub("than ", _BOUND.sub(_bound, text)))
    # (the Hindi word, what is written for it): the negation rules look back at both.
    out: list[tuple[str, str]] = []
    pieces = _WORD.findall(text)
    skip = 0
    for i, piece in enumerate(pieces):
        if skip:
            skip -= 1
            continue
        lower = piece.lower()
        if not piece[0].isalpha():
            out.append(("", piece))
        elif phrase := _phrase_at(pieces, i):
            english, skip = phrase
            out.append(("", english))
        elif lower in _DROPPED or (lower == "hi" and any(e[:1].isalpha() for _, e in out)):
            # ("hi" after a word is the emphatic "only, itself": "Mumbai hi".)
            continue
        elif lower in _NEGATION:
            _negate(out)
        elif _in_name(pieces, i) and not _GLOSS.get(lower, "a")[0].isupper():
            out.append(("", piece))
        else:
            out.append((lower, _GLOSS.get(lower, piece)))
    written = "".join(english for _, english in out)
    return re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"\s+", " ", written)).strip()


# "X ko Y kehte hain": X is called Y (Hindi names what is called last).
_CALLED = re.compile(
    r"\b(?:ko|use|usse|ise|isse|unhe|inhe)\s+([^,.;:!?]{1,60}?)\s+(?:bolte|kehte|kahte|bulate)\s+(?:(hai|hain)|the|thi)\b",
    re.I,
)


def _called(found: re.Match[str]) -> str:
    return f"{'is' if found.group(2) else 'was'} called {found.group(1)}"


# "36 km se zyada": more than 36 km, a bound (quantities.py reads "more than").
_BOUND = re.compile(
    r"\b(\d[\d,.]*(?:\s+[A-Za-z]+)?)\s+se\s+(?:bhi\s+)?(zyada|jyada|adhik|upar|kam)\b", re.I
)


def _bound(found: re.Match[str]) -> str:
    return f"{'less' if found.group(2).lower() == 'kam' else 'more'} than {found.group(1)}"


# "se" before a comparative is "than" ("coffee se better": better than coffee).
_THAN = re.compile(
    r"\bse\s+(?=(?:(?:kahin|kahi|bhi|bahut|thoda|much|way)\s+)?(?:better|worse|behtar|bada"
    r"|badi|bade|zyada|jyada|kam|chhota|chhoti|chhote|more|less|bigger|smaller|larger|faster"
    r"|slower|older|younger|taller|higher|lower|longer|shorter|hotter|colder|accha|achha"
    r"|acchi|achhi|lamba|lambi|ooncha|oonchi|purana|purani)\b)",
    re.I,
)


# Hindi puts these after their noun ("beej se": from seeds).
_POSTPOSITIONS = frozenset("se ko mein me mai ka ki ke pe par tak".split())
_CLAUSE_END = re.compile(r"[,.;:!?]")


# "koi … nahi" is "no …" ("koi benefit nahi": no benefit), "kabhi … nahi" is "never …".
_NEGATED_AS = {"koi": "no", "kabhi": "never"}


def _negate(out: list[tuple[str, str]]) -> None:
    """Write a negation that ends a Hindi phrase where English puts it: "koi … nahi" is
    "no …", "kabhi … nahi" "never …" (``_NEGATED_AS``); else "not" before the word it follows, or
    before that word's noun when it is a postposition ("beej se nahi": not from seeds,
    "Mumbai nahi": not Mumbai)."""
    words = []
    for index in range(len(out) - 1, -1, -1):
        hindi, english = out[index]
        if not english[0].isalpha():
            if _CLAUSE_END.search(english):
                break
            continue
        words.append(index)
        if hindi in _NEGATED_AS:
            out[index] = (hindi, _NEGATED_AS[hindi])
            return
    if not words:
        out.append(("", "not"))
        return
    target = words[0]
    for before in words[1:]:
        if out[target][0] not in _POSTPOSITIONS:
            break
        target = before
    out.insert(target, ("", "not "))


def _in_name(pieces: list[str], index: int) -> bool:
    """A capitalised word beside another is part of a name ("Taj Mahal", "Shah Jahan"):
    written as it is, though one of its words means something in Hindi (unless that is a
    name too: "Bharat" is India)."""

    def capitalised(at: int) -> bool:
        return 0 <= at < len(pieces) and pieces[at][:1].isupper() and pieces[at].isalpha()

    def beside(step: int) -> bool:  # a capitalised word one space away
        gap = index + step
        return 0 <= gap < len(pieces) and pieces[gap].isspace() and capitalised(gap + step)

    return capitalised(index) and (beside(-1) or beside(1))


def _phrase_at(pieces: list[str], start: int) -> tuple[str, int] | None:
    """The gloss of the longest phrase starting at ``pieces[start]`` (its words apart by
    spaces only), and how many pieces after the first it covers."""
    for size in range(_LONGEST_PHRASE, 1, -1):
        end = start + 2 * size - 1  # words and the spaces between them
        if end > len(pieces):
            continue
        span = pieces[start:end]
        if any(not gap.isspace() for gap in span[1::2]):
            continue
        english = _PHRASES.get(tuple(word.lower() for word in span[::2]))
        if english is not None:
            return english, end - start - 1
    return None
