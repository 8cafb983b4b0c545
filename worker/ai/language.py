"""Is a text in a language the models handle? They are English models.

A script check (mostly non-Latin letters) plus a function-word vote for the common
Latin-script languages: cheap, explainable, and wrong only on very short texts, which
are let through (they get a verdict, at worst Insufficient).
"""

from __future__ import annotations

import re

_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")
_ENGLISH = frozenset(
    "the a an is are was were be of and or to in on at for with from by that this it not "
    "has have had do does did he she they we you i his her their its can will".split()
)
_OTHERS = {
    "French": "le la les des est et un une du dans pour pas que qui sur avec sont il elle",
    "Spanish": "el los las es y un una del en por para que con no se su son está",
    "German": "der die das und ist ein eine nicht mit von zu den im sich auf für sind",
    "Italian": "il lo gli della è e un una di che non per con sono nel alla",
    "Portuguese": "o os as é e um uma do da em que não para com são no na",
    "Dutch": "de het een en is van niet met op voor zijn dat",
}
_OTHER_WORDS = {lang: frozenset(words.split()) for lang, words in _OTHERS.items()}
_MIN_WORDS = 4


def unsupported_language(text: str) -> str | None:
    """A name for the text's language when it is clearly not English, else None."""
    letters = _LETTER.findall(text)
    if letters:
        latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
        if latin / len(letters) < 0.5:
            return "a non-Latin script"
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < _MIN_WORDS:
        return None
    english = sum(w in _ENGLISH for w in words)
    best, hits = max(
        ((lang, sum(w in vocab for w in words)) for lang, vocab in _OTHER_WORDS.items()),
        key=lambda pair: pair[1],
    )
    if hits >= 2 and hits > english + 1:
        return best
    return None
