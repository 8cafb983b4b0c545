"""Romanized Hindi-English ("Hinglish") read as English, word for word.

Many of SatyaMark's readers write Hindi in Latin letters mixed with English ("Taj Mahal
Agra mein hai"). The bundled encoder and the word-level check are English; glossing the
common Hindi function words and everyday nouns and verbs into English lets the English
ones carry the claim ("Taj Mahal Agra in is"), which is enough for the sentence
embedding to find the known claim and for a "nahi" to count as a negation. Hindi puts
the negation after what it negates and the verb last; the gloss moves "not" before the
word it follows and leaves the rest in Hindi order (the word-level check does not read
roles from an order it did not see: see ``stance.role_swap``).

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
    "apna apni unka unki iska iski uska uski pe ne".split()
)
_GLOSS = read_table(Path(__file__).with_name("hinglish_gloss.txt"))
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
    out: list[str] = []
    for piece in _WORD.findall(text):
        lower = piece.lower()
        if not piece[0].isalpha():
            out.append(piece)
        elif lower in _DROPPED:
            continue
        elif lower in _NEGATION:
            # "Mumbai nahi" → "not Mumbai": the negation goes before what it negates.
            previous = next((i for i in range(len(out) - 1, -1, -1) if out[i].strip()), None)
            if previous is not None and out[previous][0].isalpha():
                out.insert(previous, "not ")
            else:
                out.append("not")
        else:
            out.append(_GLOSS.get(lower, piece))
    return re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"\s+", " ", "".join(out))).strip()
