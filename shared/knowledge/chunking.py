"""Cut a document's text into passages for open-world evidence.

A passage is a run of whole sentences of about ``MIN_WORDS``–``MAX_WORDS`` words: long
enough to hold the context that settles a claim, short enough for an NLI model's input
(~160 tokens) and for its embedding to stay about one thing. Consecutive passages share
one sentence, so a fact split across a boundary is whole in one of them. Every passage
carries character offsets into the text: ``text[start:end]`` is the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_WORDS = 60
MAX_WORDS = 120
# A sentence longer than this is cut at word boundaries into pieces of at most this many
# words. With pieces of at most MAX - MIN words, a passage stops growing only once it holds
# more than MIN words, so every passage but a document's last has at least MIN_WORDS.
MAX_PIECE_WORDS = MAX_WORDS - MIN_WORDS

# Abbreviations and initials do not end a sentence (here and in worker/ai/claims.py);
# passages also cite ("et al.", "cf.").
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e approx no fig dept est inc ltd co corp "
    "jan feb mar apr jun jul aug sep sept oct nov dec mt ft u.s u.k a.m p.m".split()
)
_ABBREVIATIONS = ABBREVIATIONS | {"al", "cf"}
# The end of a sentence: terminal punctuation (and closing quotes or brackets) before
# white space and an upper-case letter, digit or opening quote; or a blank line, which
# always ends one (a heading or a list item has no full stop). A single line break does
# not: plain text is often wrapped mid-sentence.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")
_LAST_TOKEN = re.compile(r"(\S+?)[.!?…]*[\"'”’)\]]*$")


@dataclass(frozen=True, slots=True)
class Span:
    """``text[start:end]`` of the text it was cut from."""

    start: int
    end: int
    words: int


@dataclass(frozen=True, slots=True)
class PassageSpan:
    ordinal: int  # 0-based position in its document
    start: int
    end: int
    text: str
    words: int


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return None
    return Span(start, end, len(_WORD.findall(text, start, end)))


def _ends_with_abbreviation(text: str, start: int, end: int) -> bool:
    match = _LAST_TOKEN.search(text, start, end)
    if match is None or not text[match.end(1) : end].startswith("."):
        return False
    return is_abbreviation(match.group(1).lower(), _ABBREVIATIONS)


def is_abbreviation(token: str, known: frozenset[str] = ABBREVIATIONS) -> bool:
    """``token`` (lower case, before its full stop) does not end a sentence: a known
    abbreviation or a single initial ("J. K. Rowling")."""
    return token in known or (len(token) == 1 and token.isalpha())


def sentences(text: str) -> list[Span]:
    """The sentences of ``text`` as spans without surrounding white space."""
    found: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end() if match.group().strip() else match.start()
        if match.group().strip() and _ends_with_abbreviation(text, start, end):
            continue
        span = _trimmed(text, start, end)
        if span is not None:
            found.append(span)
        start = match.end()
    tail = _trimmed(text, start, len(text))
    if tail is not None:
        found.append(tail)
    return found


def _pieces(text: str, span: Span, max_words: int) -> list[Span]:
    """``span`` cut at word boundaries into pieces of at most ``max_words`` words."""
    if span.words <= max_words:
        return [span]
    words = list(_WORD.finditer(text, span.start, span.end))
    return [
        Span(
            words[i].start(),
            words[min(i + max_words, len(words)) - 1].end(),
            min(max_words, len(words) - i),
        )
        for i in range(0, len(words), max_words)
    ]


def chunk_passages(
    text: str, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS
) -> list[PassageSpan]:
    """``text`` as sentence-aligned passages of at most ``max_words`` words, each sharing
    its first sentence with the previous passage's last; every passage but the last has
    more than ``min_words`` words (fewer only when the whole text is that short)."""
    if not 0 < min_words < max_words:
        raise ValueError("need 0 < min_words < max_words")
    units = [
        piece for span in sentences(text) for piece in _pieces(text, span, max_words - min_words)
    ]
    passages: list[PassageSpan] = []
    first = 0
    while first < len(units):
        last, words = first, units[first].words
        while last + 1 < len(units) and words + units[last + 1].words <= max_words:
            last += 1
            words += units[last].words
        start, end = units[first].start, units[last].end
        passages.append(PassageSpan(len(passages), start, end, text[start:end], words))
        if last + 1 >= len(units):
            break
        # Overlap by one sentence, unless the passage is that one sentence.
        first = last if last > first else last + 1
    return passages
