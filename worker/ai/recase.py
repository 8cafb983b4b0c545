"""Capitals a headline or an all-lower-case post hides, restored from how the knowledge
base writes each word.

"Mars Is the Largest Planet" capitalises every word, and "mars is the largest planet"
none, so neither shows whether "Mars" names something: the name rules (names.py) have
to stand aside, and a name put in another's place goes unseen. The bundled knowledge
base writes some 9,000 plain sentences in normal case; a word it capitalises inside a
sentence more often than not is a name ("Mars", "Jupiter", "Solar"), any other word it
uses is not. A sentence is recased only when the base knows every word of it: a word it
never used could be a name or not, and then the capitals stay as unsure as they were.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter

from shared.knowledge import KB_PATH

from .wording import FILLERS, headline_case

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Words of chat the base never writes, none of them a name: fillers ("lol", "bro") and
# spellings of the keyboard ("u", "ppl", "doesnt").
_CHAT = FILLERS | frozenset(
    "u ur r n pls plz smh fr rn idk ppl cuz coz bc tho thru ya yeah yep nope ok okay "
    "thats whats its dont doesnt didnt isnt arent wasnt werent cant wont wouldnt shouldnt "
    "couldnt hasnt havent im ive youre theyre".split()
)


_QUOTED = re.compile(r"(?<!\w)['‘\"“](?:[^'‘’\"“”]|['’](?=\w))+?['’\"”](?!\w)")


@functools.cache
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(names, words the base writes in lower case), both lower-cased."""
    upper: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for path in sorted(KB_PATH.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            for text in (record.get("claim", ""), record.get("explanation", "")):
                # A title in quotes capitalises its every word ('Here Comes the Sun').
                text = _QUOTED.sub(" ", text)
                for sentence in re.split(r"(?<=[.!?;:])\s+", text):
                    for token in _WORD.findall(sentence)[1:]:  # the first is capitalised anyway
                        if token[0].isupper() and not token.isupper():
                            upper[token.lower()] += 1
                        elif token.islower():
                            lower[token] += 1
    names = frozenset(w for w, n in upper.items() if n > lower[w])
    return names, frozenset(lower) | frozenset(upper)


def common_word(word: str) -> bool:
    """A lower-cased word the knowledge base writes, and not as a name."""
    names, known = _lexicon()
    return word in known and word not in names


def warm() -> None:
    """Read the knowledge base's writing now (about 0.3 s), not in the first job."""
    _lexicon()


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def recased(sentence: str, premise: str = "") -> str | None:
    """``sentence`` in normal case when its capitals hide names (a headline, all lower
    case) and every word of it is known: from ``premise`` (a normal-case sentence it is
    compared with, whose own writing of a word wins) or the knowledge base. None when
    its capitals show what they should, or a word is unknown."""
    if not (headline_case(sentence) or sentence == sentence.lower()):
        return None
    names, known = _lexicon()
    # How the premise writes its words (not its first: that one is capitalised anyway).
    written = {t.lower(): t for t in _WORD.findall(premise)[1:]}
    tokens = list(_WORD.finditer(sentence))
    if not tokens or any(
        t.group(0).lower() not in known and t.group(0).lower() not in written
        for t in tokens
        if not _acronym(t.group(0)) and t.group(0).lower() not in _CHAT
    ):
        return None
    out, end = [], 0
    for i, token in enumerate(tokens):
        word, key = token.group(0), token.group(0).lower()
        if _acronym(word):
            cased = word  # written so on purpose ("NASA"), in a headline too
        elif i > 0 and key in written and key not in _CHAT:
            cased = written[key]
        elif i == 0 or (key in names and key not in _CHAT):
            cased = key.capitalize()
        else:
            cased = key
        out.append(sentence[end : token.start()] + cased)
        end = token.end()
    return "".join(out) + sentence[end:]
